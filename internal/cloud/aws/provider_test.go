package aws

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
)

// fakeEC2 answers EC2 Query API calls from scripts: per action, a list of
// answers used in turn (the last one repeats). It records every call.
type fakeEC2 struct {
	mu      sync.Mutex
	scripts map[string][]answer
	calls   []url.Values
}

type answer struct {
	status int
	body   string
}

func ok(body string) answer { return answer{200, body} }

func apiError(status int, code string) answer {
	return answer{status, fmt.Sprintf(`<Response><Errors><Error><Code>%s</Code><Message>%s happened</Message></Error></Errors><RequestID>r1</RequestID></Response>`, code, code)}
}

func (f *fakeEC2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	action := form.Get("Action")
	f.mu.Lock()
	f.calls = append(f.calls, form)
	script := f.scripts[action]
	var a answer
	switch {
	case len(script) == 0:
		a = apiError(400, "UnscriptedAction."+action)
	case len(script) == 1:
		a = script[0]
	default:
		a, f.scripts[action] = script[0], script[1:]
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(a.status)
	fmt.Fprint(w, a.body)
}

func (f *fakeEC2) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c.Get("Action") == action {
			n++
		}
	}
	return n
}

func (f *fakeEC2) last(action string) url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.calls) - 1; i >= 0; i-- {
		if f.calls[i].Get("Action") == action {
			return f.calls[i]
		}
	}
	return nil
}

var ref = cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: "abcd1234efgh5", Environment: "production"}

const serviceConfig = `<DescribeVpcEndpointServiceConfigurationsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>
<serviceConfigurationSet><item><serviceId>vpce-svc-0aaa</serviceId><serviceName>com.amazonaws.vpce.us-east-1.vpce-svc-0aaa</serviceName>
<tagSet><item><key>linkwright:project</key><value>abcd1234efgh5</value></item><item><key>linkwright:environment</key><value>production</value></item>
<item><key>linkwright:plan</key><value>Pro</value></item></tagSet></item>
<item><serviceId>vpce-svc-0bbb</serviceId><serviceName>com.amazonaws.vpce.us-east-1.vpce-svc-0bbb</serviceName>
<tagSet><item><key>linkwright:project</key><value>other</value></item></tagSet></item></serviceConfigurationSet>
</DescribeVpcEndpointServiceConfigurationsResponse>`

func connections(state string) string {
	return `<DescribeVpcEndpointConnectionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><vpcEndpointConnectionSet>
<item><serviceId>vpce-svc-0aaa</serviceId><vpcEndpointId>vpce-0c1</vpcEndpointId><vpcEndpointOwner>123456789012</vpcEndpointOwner>
<vpcEndpointState>` + state + `</vpcEndpointState><creationTimestamp>2026-11-21T10:00:00.000Z</creationTimestamp></item>
</vpcEndpointConnectionSet></DescribeVpcEndpointConnectionsResponse>`
}

const acceptOK = `<AcceptVpcEndpointConnectionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><unsuccessful/></AcceptVpcEndpointConnectionsResponse>`

func unsuccessfulAccept(code string) string {
	return `<AcceptVpcEndpointConnectionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><unsuccessful>
<item><error><code>` + code + `</code><message>it went wrong</message></error><resourceId>vpce-0c1</resourceId></item></unsuccessful></AcceptVpcEndpointConnectionsResponse>`
}

func newTestProvider(t *testing.T, f *fakeEC2, opts Options) *Provider {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	opts.Endpoint = srv.URL
	if opts.Principal == "" {
		opts.Principal = "arn:aws:iam::210987654321:root"
	}
	p := newProvider(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")}, opts)
	p.retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.RateLimiter = ratelimit.None
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	return p
}

func TestEnvironmentFoundByTagsEvenWhenFiltersAreIgnored(t *testing.T) {
	f := &fakeEC2{scripts: map[string][]answer{"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)}}}
	p := newTestProvider(t, f, Options{})
	env, err := p.Environment(context.Background(), ref)
	require.NoError(t, err)
	assert.Equal(t, "vpce-svc-0aaa", env.ServiceID)
	assert.Equal(t, "com.amazonaws.vpce.us-east-1.vpce-svc-0aaa", env.ServiceName)
	assert.Equal(t, "pro", env.Plan)
	call := f.last("DescribeVpcEndpointServiceConfigurations")
	assert.Equal(t, "tag:linkwright:project", call.Get("Filter.1.Name"))
	assert.Equal(t, "abcd1234efgh5", call.Get("Filter.1.Value.1"))

	missing := ref
	missing.Environment = "staging"
	_, err = p.Environment(context.Background(), missing)
	assert.True(t, cloud.IsNotFound(err), "got %v", err)
}

func TestStatesFromTheWireIgnoreCase(t *testing.T) {
	f := &fakeEC2{scripts: map[string][]answer{
		"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)},
		"DescribeVpcEndpointConnections":           {ok(connections("pendingAcceptance"))},
	}}
	p := newTestProvider(t, f, Options{})
	conns, err := p.Connections(context.Background(), ref, "123456789012")
	require.NoError(t, err)
	require.Len(t, conns, 1)
	assert.Equal(t, cloud.StatePendingAcceptance, conns[0].State, "the API's lowerCamel state")
	call := f.last("DescribeVpcEndpointConnections")
	assert.Equal(t, "service-id", call.Get("Filter.1.Name"))
	assert.Equal(t, "vpc-endpoint-owner", call.Get("Filter.2.Name"))
	assert.Equal(t, "123456789012", call.Get("Filter.2.Value.1"))
}

func TestAcceptRetriesThrottlingThenSucceeds(t *testing.T) {
	f := &fakeEC2{scripts: map[string][]answer{
		"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)},
		"DescribeVpcEndpointConnections":           {ok(connections("pendingAcceptance"))},
		"AcceptVpcEndpointConnections":             {apiError(503, "RequestLimitExceeded"), apiError(503, "RequestLimitExceeded"), ok(acceptOK)},
	}}
	p := newTestProvider(t, f, Options{})
	require.NoError(t, p.AcceptConnections(context.Background(), ref, []string{"vpce-0c1"}))
	assert.Equal(t, 3, f.count("AcceptVpcEndpointConnections"), "two throttled attempts, then success")
	assert.Equal(t, "vpce-svc-0aaa", f.last("AcceptVpcEndpointConnections").Get("ServiceId"))
}

func TestThrottlingBeyondTheSDKBudgetIsRetryable(t *testing.T) {
	f := &fakeEC2{scripts: map[string][]answer{"DescribeVpcEndpointServiceConfigurations": {apiError(503, "RequestLimitExceeded")}}}
	p := newTestProvider(t, f, Options{})
	_, err := p.Environment(context.Background(), ref)
	assert.Equal(t, cloud.Retryable, cloud.KindOf(err), "got %v", err)
	assert.Contains(t, err.Error(), "throttled")
	assert.Equal(t, 3, f.count("DescribeVpcEndpointServiceConfigurations"), "the SDK's own 3 attempts, then the activity's retries")
}

func TestServerErrorsAreRetryable(t *testing.T) {
	f := &fakeEC2{scripts: map[string][]answer{"DescribeVpcEndpointServiceConfigurations": {apiError(500, "InternalError")}}}
	p := newTestProvider(t, f, Options{})
	_, err := p.Environment(context.Background(), ref)
	assert.Equal(t, cloud.Retryable, cloud.KindOf(err), "got %v", err)
}

func TestAcceptUnsuccessfulIsAnError(t *testing.T) {
	for code, kind := range map[string]cloud.Kind{
		"InvalidVpcEndpointId.NotFound": cloud.NotFound,
		"InvalidState":                  cloud.Invalid,
		"IncorrectState":                cloud.Conflict,
	} {
		f := &fakeEC2{scripts: map[string][]answer{
			"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)},
			"DescribeVpcEndpointConnections":           {ok(connections("pendingAcceptance"))},
			"AcceptVpcEndpointConnections":             {ok(unsuccessfulAccept(code))},
		}}
		p := newTestProvider(t, f, Options{})
		err := p.AcceptConnections(context.Background(), ref, []string{"vpce-0c1"})
		require.Error(t, err, "a nil error with Unsuccessful items is a failure (%s)", code)
		assert.Equal(t, kind, cloud.KindOf(err), code)
		assert.Contains(t, err.Error(), "vpce-0c1: "+code)
	}
}

func TestAcceptingTwiceMakesNoCall(t *testing.T) {
	for _, state := range []string{"pending", "available", "Available"} {
		f := &fakeEC2{scripts: map[string][]answer{
			"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)},
			"DescribeVpcEndpointConnections":           {ok(connections(state))},
		}}
		p := newTestProvider(t, f, Options{})
		require.NoError(t, p.AcceptConnections(context.Background(), ref, []string{"vpce-0c1"}), state)
		assert.Zero(t, f.count("AcceptVpcEndpointConnections"), "already %s: read first, accept nothing", state)
	}
	f := &fakeEC2{scripts: map[string][]answer{
		"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)},
		"DescribeVpcEndpointConnections":           {ok(connections("rejected"))},
	}}
	p := newTestProvider(t, f, Options{})
	err := p.AcceptConnections(context.Background(), ref, []string{"vpce-0c1"})
	assert.Equal(t, cloud.Conflict, cloud.KindOf(err))
}

func TestAccessDeniedNamesTheIAMAction(t *testing.T) {
	f := &fakeEC2{scripts: map[string][]answer{
		"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)},
		"DescribeVpcEndpointConnections":           {ok(connections("pendingAcceptance"))},
		"AcceptVpcEndpointConnections":             {apiError(403, "UnauthorizedOperation")},
	}}
	p := newTestProvider(t, f, Options{})
	err := p.AcceptConnections(context.Background(), ref, []string{"vpce-0c1"})
	assert.Equal(t, cloud.AccessDenied, cloud.KindOf(err))
	assert.Contains(t, err.Error(), "may not call ec2:AcceptVpcEndpointConnections")
	assert.Equal(t, 1, f.count("AcceptVpcEndpointConnections"), "access errors are not retried")
}

// A newly created service answers 503 for a while: the SDK retries it, and
// past its budget the activity does.
func TestNewServiceEventualConsistency(t *testing.T) {
	const visible = `<DescribeVpcEndpointServicesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>
<serviceDetailSet><item><serviceName>com.amazonaws.vpce.us-east-1.vpce-svc-0cust</serviceName></item></serviceDetailSet></DescribeVpcEndpointServicesResponse>`
	f := &fakeEC2{scripts: map[string][]answer{"DescribeVpcEndpointServices": {apiError(503, "ServiceUnavailable"), ok(visible)}}}
	p := newTestProvider(t, f, Options{})
	ok, err := p.ServiceVisible(context.Background(), ref, "com.amazonaws.vpce.us-east-1.vpce-svc-0cust")
	require.NoError(t, err)
	assert.True(t, ok)

	f = &fakeEC2{scripts: map[string][]answer{"DescribeVpcEndpointServices": {apiError(400, "InvalidServiceName")}}}
	p = newTestProvider(t, f, Options{})
	ok, err = p.ServiceVisible(context.Background(), ref, "com.amazonaws.vpce.us-east-1.vpce-svc-0cust")
	require.NoError(t, err, "not visible is a normal waiting state")
	assert.False(t, ok)
}

func TestCreateEndpointUsesAStableClientToken(t *testing.T) {
	const created = `<CreateVpcEndpointResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><vpcEndpoint>
<vpcEndpointId>vpce-0rev</vpcEndpointId><serviceName>com.amazonaws.vpce.us-east-1.vpce-svc-0cust</serviceName><state>pendingAcceptance</state>
<dnsEntrySet><item><dnsName>vpce-0rev-abc.vpce-svc-0cust.us-east-1.vpce.amazonaws.com</dnsName></item></dnsEntrySet></vpcEndpoint></CreateVpcEndpointResponse>`
	f := &fakeEC2{scripts: map[string][]answer{"CreateVpcEndpoint": {ok(created)}}}
	p := newTestProvider(t, f, Options{VPCID: "vpc-0plat", SubnetIDs: []string{"subnet-1", "subnet-2"}, SecurityGroupIDs: []string{"sg-1"}})
	spec := cloud.EndpointSpec{Env: ref, Service: "com.amazonaws.vpce.us-east-1.vpce-svc-0cust", Token: "privatelink/abcd1234efgh5/production/aws/reverse/1", Description: "Acme"}
	ep, err := p.CreateEndpoint(context.Background(), spec)
	require.NoError(t, err)
	assert.Equal(t, cloud.StatePendingAcceptance, ep.State)
	assert.Equal(t, "vpce-0rev-abc.vpce-svc-0cust.us-east-1.vpce.amazonaws.com", ep.DNSName)
	first := f.last("CreateVpcEndpoint")
	_, err = p.CreateEndpoint(context.Background(), spec)
	require.NoError(t, err)
	second := f.last("CreateVpcEndpoint")
	assert.Equal(t, first.Get("ClientToken"), second.Get("ClientToken"))
	assert.LessOrEqual(t, len(first.Get("ClientToken")), 64)
	assert.Equal(t, "Interface", first.Get("VpcEndpointType"))
	assert.Equal(t, "subnet-2", first.Get("SubnetId.2"))

	spec.Token += "x"
	_, err = p.CreateEndpoint(context.Background(), spec)
	require.NoError(t, err)
	assert.NotEqual(t, first.Get("ClientToken"), f.last("CreateVpcEndpoint").Get("ClientToken"))

	unconfigured := newTestProvider(t, f, Options{})
	_, err = unconfigured.CreateEndpoint(context.Background(), spec)
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
	assert.Contains(t, err.Error(), "aws.vpcId")
}

func TestAllowAccountReadsFirstAndRefusesWildcards(t *testing.T) {
	const perms = `<DescribeVpcEndpointServicePermissionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>
<allowedPrincipals><item><principal>arn:aws:iam::123456789012:root</principal></item></allowedPrincipals></DescribeVpcEndpointServicePermissionsResponse>`
	const modified = `<ModifyVpcEndpointServicePermissionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><return>true</return></ModifyVpcEndpointServicePermissionsResponse>`
	f := &fakeEC2{scripts: map[string][]answer{
		"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)},
		"DescribeVpcEndpointServicePermissions":    {ok(perms)},
		"ModifyVpcEndpointServicePermissions":      {ok(modified)},
	}}
	p := newTestProvider(t, f, Options{})
	require.NoError(t, p.AllowAccount(context.Background(), ref, "123456789012"))
	assert.Zero(t, f.count("ModifyVpcEndpointServicePermissions"), "allowed already")
	require.NoError(t, p.AllowAccount(context.Background(), ref, "999999999999"))
	assert.Equal(t, "arn:aws:iam::999999999999:root", f.last("ModifyVpcEndpointServicePermissions").Get("AddAllowedPrincipals.1"))
	require.NoError(t, p.RevokeAccount(context.Background(), ref, "123456789012"))
	assert.Equal(t, "arn:aws:iam::123456789012:root", f.last("ModifyVpcEndpointServicePermissions").Get("RemoveAllowedPrincipals.1"))
	for _, bad := range []string{"*", "", "arn:aws:iam::123456789012:root"} {
		err := p.AllowAccount(context.Background(), ref, bad)
		assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "%q", bad)
	}
	assert.Equal(t, 2, f.count("ModifyVpcEndpointServicePermissions"))
}

func TestNoAnswerIsRetryable(t *testing.T) {
	p := newProvider(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")},
		Options{Endpoint: "http://127.0.0.1:1", Principal: "x", MaxAttempts: 1})
	_, err := p.Environment(context.Background(), ref)
	assert.Equal(t, cloud.Retryable, cloud.KindOf(err), "got %v", err)
	assert.True(t, strings.Contains(err.Error(), "no answer from AWS"), err.Error())
}

func TestParseOptions(t *testing.T) {
	t.Setenv("LINKWRIGHT_AWS_ENDPOINT", "")
	o, err := ParseOptions([]byte(`{"vpcId": "vpc-1", "subnetIds": ["subnet-1"], "principal": "arn:aws:iam::210987654321:root"}`))
	require.NoError(t, err)
	assert.Equal(t, "vpc-1", o.VPCID)
	_, err = ParseOptions(nil)
	assert.ErrorContains(t, err, "aws.vpcId is required")
	assert.ErrorContains(t, err, "aws.subnetIds is required")
	_, err = ParseOptions([]byte(`{"vpcID": "vpc-1"}`))
	assert.ErrorContains(t, err, `field "vpcID": did you mean "vpcId"?`)
	_, err = ParseOptions([]byte(`{"vpcId": "vpc-1", "subnetIds": ["s"], "principal": "210987654321"}`))
	assert.ErrorContains(t, err, "aws.principal must be an IAM ARN")
	t.Setenv("LINKWRIGHT_AWS_ENDPOINT", "http://127.0.0.1:5000")
	o, err = ParseOptions([]byte(`{"vpcId": "vpc-1", "subnetIds": ["s"]}`))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:5000", o.Endpoint)
}

func connectionsOf(items ...string) string {
	return `<DescribeVpcEndpointConnectionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><vpcEndpointConnectionSet>` +
		strings.Join(items, "") + `</vpcEndpointConnectionSet></DescribeVpcEndpointConnectionsResponse>`
}

func connectionItem(id, owner, state string) string {
	return `<item><serviceId>vpce-svc-0aaa</serviceId><vpcEndpointId>` + id + `</vpcEndpointId><vpcEndpointOwner>` + owner + `</vpcEndpointOwner>
<vpcEndpointState>` + state + `</vpcEndpointState><creationTimestamp>2026-11-21T10:00:00.000Z</creationTimestamp></item>`
}

// A filter the API ignores must not let another account's connection
// through: the owner is checked on the answer.
func TestConnectionsCheckTheOwnerOnTheAnswer(t *testing.T) {
	f := &fakeEC2{scripts: map[string][]answer{
		"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)},
		"DescribeVpcEndpointConnections": {ok(connectionsOf(
			connectionItem("vpce-0c1", "123456789012", "pendingAcceptance"),
			connectionItem("vpce-0other", "999999999999", "pendingAcceptance"),
		))},
	}}
	p := newTestProvider(t, f, Options{})
	conns, err := p.Connections(context.Background(), ref, "123456789012")
	require.NoError(t, err)
	require.Len(t, conns, 1, "another owner's connection is left out: %+v", conns)
	assert.Equal(t, "vpce-0c1", conns[0].ID)
	assert.Equal(t, "123456789012", conns[0].Account)
	assert.Equal(t, "123456789012", f.last("DescribeVpcEndpointConnections").Get("Filter.2.Value.1"), "the filter still narrows the answer")
}

func acceptRefused(asError bool) answer {
	if asError {
		return answer{400, `<Response><Errors><Error><Code>InvalidVpcEndpointState</Code><Message>Endpoint vpce-0c1 is in available state</Message></Error></Errors><RequestID>r1</RequestID></Response>`}
	}
	return ok(`<AcceptVpcEndpointConnectionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><unsuccessful>
<item><error><code>InvalidVpcEndpointState</code><message>Endpoint vpce-0c1 is in some state (wording varies)</message></error><resourceId>vpce-0c1</resourceId></item></unsuccessful></AcceptVpcEndpointConnectionsResponse>`)
}

// When someone else changes the connection between AcceptConnections'
// read and its call, EC2 refuses the call for the endpoint's state
// (InvalidVpcEndpointState, per item or for the whole call): the provider
// reads the state again and judges it as it would have before the call.
func TestAcceptRefusedForItsStateIsJudgedOnAFreshRead(t *testing.T) {
	for _, tc := range []struct {
		after string // the connection's state on the second read; "" for gone
		kind  cloud.Kind
		want  string
	}{
		{after: "available"},
		{after: "Pending"},
		{after: "", kind: cloud.NotFound, want: "the customer deleted their endpoint before it was accepted"},
		{after: "deleted", kind: cloud.NotFound, want: "the customer deleted their endpoint before it was accepted"},
		{after: "rejected", kind: cloud.Conflict, want: "is rejected and cannot be accepted"},
		{after: "deleting", kind: cloud.Conflict, want: "is deleting and cannot be accepted"},
		{after: "expired", kind: cloud.Conflict, want: "is expired"},
		{after: "failed", kind: cloud.Conflict, want: "is failed"},
		{after: "pendingAcceptance", kind: cloud.Retryable, want: "still waits for acceptance"},
	} {
		for _, asError := range []bool{false, true} {
			second := connectionsOf()
			if tc.after != "" {
				second = connections(tc.after)
			}
			f := &fakeEC2{scripts: map[string][]answer{
				"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)},
				"DescribeVpcEndpointConnections":           {ok(connections("pendingAcceptance")), ok(second)},
				"AcceptVpcEndpointConnections":             {acceptRefused(asError)},
			}}
			p := newTestProvider(t, f, Options{})
			err := p.AcceptConnections(context.Background(), ref, []string{"vpce-0c1"})
			what := fmt.Sprintf("%q after the race, refused as error: %v", tc.after, asError)
			assert.Equal(t, 1, f.count("AcceptVpcEndpointConnections"), what)
			assert.Equal(t, 2, f.count("DescribeVpcEndpointConnections"), "read again: %s", what)
			assert.Equal(t, "vpce-0c1", f.last("DescribeVpcEndpointConnections").Get("Filter.2.Value.1"), what)
			if tc.want == "" {
				assert.NoError(t, err, what)
				continue
			}
			require.Error(t, err, what)
			assert.Equal(t, tc.kind, cloud.KindOf(err), "%s: %v", what, err)
			assert.ErrorContains(t, err, tc.want, what)
		}
	}
}

// Only the code is matched: other refusals are not read again.
func TestAcceptOtherRefusalsAreNotReadAgain(t *testing.T) {
	f := &fakeEC2{scripts: map[string][]answer{
		"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)},
		"DescribeVpcEndpointConnections":           {ok(connections("pendingAcceptance")), ok(connections("available"))},
		"AcceptVpcEndpointConnections":             {ok(unsuccessfulAccept("InvalidState"))},
	}}
	p := newTestProvider(t, f, Options{})
	err := p.AcceptConnections(context.Background(), ref, []string{"vpce-0c1"})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "got %v", err)
	assert.Equal(t, 1, f.count("DescribeVpcEndpointConnections"))
}

func TestAcceptingAConnectionGoneSaysTheCustomerDeletedIt(t *testing.T) {
	for _, listed := range []string{connectionsOf(), connections("deleted")} {
		f := &fakeEC2{scripts: map[string][]answer{
			"DescribeVpcEndpointServiceConfigurations": {ok(serviceConfig)},
			"DescribeVpcEndpointConnections":           {ok(listed)},
		}}
		p := newTestProvider(t, f, Options{})
		err := p.AcceptConnections(context.Background(), ref, []string{"vpce-0c1"})
		assert.Equal(t, cloud.NotFound, cloud.KindOf(err), "got %v", err)
		assert.ErrorContains(t, err, "connection vpce-0c1 is gone: the customer deleted their endpoint before it was accepted")
		assert.Zero(t, f.count("AcceptVpcEndpointConnections"))
	}
}

func TestEndpointStateErrorsAreConflicts(t *testing.T) {
	kind, _ := kindOf("InvalidVpcEndpointState", 400)
	assert.Equal(t, cloud.Conflict, kind, "a state, not an input, despite the Invalid prefix")
}

// elbResponse wraps an ELBv2 Query API result.
func elbResponse(action, result string) string {
	return `<` + action + `Response xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><` + action + `Result>` + result +
		`</` + action + `Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></` + action + `Response>`
}

func TestServiceStateReadsListenersAndRootPrincipals(t *testing.T) {
	const withNLB = `<DescribeVpcEndpointServiceConfigurationsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>
<serviceConfigurationSet><item><serviceId>vpce-svc-0aaa</serviceId><serviceName>com.amazonaws.vpce.us-east-1.vpce-svc-0aaa</serviceName>
<networkLoadBalancerArnSet><item>arn:aws:elasticloadbalancing:us-east-1:210987654321:loadbalancer/net/p/1</item></networkLoadBalancerArnSet>
<tagSet><item><key>linkwright:project</key><value>abcd1234efgh5</value></item><item><key>linkwright:environment</key><value>production</value></item></tagSet>
</item></serviceConfigurationSet></DescribeVpcEndpointServiceConfigurationsResponse>`
	perms := func(next string, principals ...string) answer {
		var items strings.Builder
		for _, pr := range principals {
			items.WriteString(`<item><principal>` + pr + `</principal></item>`)
		}
		return ok(`<DescribeVpcEndpointServicePermissionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><allowedPrincipals>` +
			items.String() + `</allowedPrincipals>` + next + `</DescribeVpcEndpointServicePermissionsResponse>`)
	}
	listener := func(port int) string {
		return fmt.Sprintf(`<member><ListenerArn>arn:aws:elasticloadbalancing:us-east-1:210987654321:listener/net/p/1/%d</ListenerArn><Port>%d</Port><Protocol>TCP</Protocol></member>`, port, port)
	}
	f := &fakeEC2{scripts: map[string][]answer{
		"DescribeVpcEndpointServiceConfigurations": {ok(withNLB)},
		"DescribeVpcEndpointServicePermissions": {
			perms(`<nextToken>p2</nextToken>`, "arn:aws:iam::999999999999:root", "arn:aws:iam::555555555555:role/ops"),
			perms(``, "arn:aws:iam::123456789012:root", "*", "arn:aws:iam::999999999999:root"),
		},
		"DescribeLoadBalancers": {ok(elbResponse("DescribeLoadBalancers",
			`<LoadBalancers><member><LoadBalancerArn>arn:aws:elasticloadbalancing:us-east-1:210987654321:loadbalancer/net/p/1</LoadBalancerArn><VpcId>vpc-0plat</VpcId></member></LoadBalancers>`))},
		"DescribeListeners": {
			ok(elbResponse("DescribeListeners", `<Listeners>`+listener(5432)+listener(2222)+`</Listeners><NextMarker>m1</NextMarker>`)),
			ok(elbResponse("DescribeListeners", `<Listeners>`+listener(3306)+`</Listeners>`)),
		},
	}}
	p := newTestProvider(t, f, Options{})
	st, err := p.ServiceState(context.Background(), ref)
	require.NoError(t, err)
	assert.Equal(t, []int{2222, 3306, 5432}, st.OpenPorts, "every page of listeners, sorted")
	assert.Equal(t, []string{"123456789012", "999999999999"}, st.Accounts, "account roots only, every page, sorted, once each")
	assert.Equal(t, "p2", f.last("DescribeVpcEndpointServicePermissions").Get("NextToken"))
	assert.Equal(t, 1, f.count("DescribeVpcEndpointServiceConfigurations"), "the service is looked up once")
	for _, action := range []string{"ModifyVpcEndpointServicePermissions", "CreateListener", "DeleteListener"} {
		assert.Zero(t, f.count(action), "read-only")
	}
}

func TestPlatformEndpointsCheckServiceAndVPCOnTheAnswer(t *testing.T) {
	const svc = "com.amazonaws.vpce.us-east-1.vpce-svc-0cust"
	item := func(id, vpc, service, state, created string) string {
		return `<item><vpcEndpointId>` + id + `</vpcEndpointId><vpcId>` + vpc + `</vpcId><serviceName>` + service + `</serviceName><state>` + state +
			`</state><creationTimestamp>` + created + `</creationTimestamp><dnsEntrySet><item><dnsName>` + id + `.example.</dnsName></item></dnsEntrySet></item>`
	}
	page := func(next string, items ...string) answer {
		return ok(`<DescribeVpcEndpointsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><vpcEndpointSet>` +
			strings.Join(items, "") + `</vpcEndpointSet>` + next + `</DescribeVpcEndpointsResponse>`)
	}
	f := &fakeEC2{scripts: map[string][]answer{"DescribeVpcEndpoints": {
		page(`<nextToken>t2</nextToken>`,
			item("vpce-0old", "vpc-0plat", svc, "rejected", "2026-11-20T10:00:00.000Z"),
			item("vpce-0othervpc", "vpc-0else", svc, "available", "2026-11-22T10:00:00.000Z"),
			item("vpce-0gone", "vpc-0plat", svc, "deleted", "2026-11-23T10:00:00.000Z")),
		page(``,
			item("vpce-0new", "vpc-0plat", svc, "pendingAcceptance", "2026-11-21T10:00:00.000Z"),
			item("vpce-0othersvc", "vpc-0plat", "com.amazonaws.vpce.us-east-1.vpce-svc-0else", "available", "2026-11-24T10:00:00.000Z")),
	}}}
	p := newTestProvider(t, f, Options{VPCID: "vpc-0plat", SubnetIDs: []string{"subnet-1"}})
	eps, err := p.PlatformEndpoints(context.Background(), ref, svc)
	require.NoError(t, err)
	require.Len(t, eps, 2, "%+v", eps)
	assert.Equal(t, "vpce-0new", eps[0].ID, "newest first")
	assert.Equal(t, cloud.StatePendingAcceptance, eps[0].State)
	assert.Equal(t, time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), eps[0].Created)
	assert.Equal(t, "vpce-0new.example", eps[0].DNSName)
	assert.Equal(t, "vpce-0old", eps[1].ID, "rejected ones too")
	assert.Equal(t, 2, f.count("DescribeVpcEndpoints"), "every page")
	call := f.last("DescribeVpcEndpoints")
	assert.Equal(t, "t2", call.Get("NextToken"))
	assert.Equal(t, "service-name", call.Get("Filter.1.Name"))
	assert.Equal(t, svc, call.Get("Filter.1.Value.1"))
	assert.Equal(t, "vpc-id", call.Get("Filter.2.Name"))
	assert.Equal(t, "vpc-0plat", call.Get("Filter.2.Value.1"))

	_, err = newTestProvider(t, f, Options{}).PlatformEndpoints(context.Background(), ref, svc)
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
	assert.ErrorContains(t, err, "aws.vpcId")
}
