package azure

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/azure/aztest"
	"github.com/linkwright/linkwright/internal/cloud/cloudtest"
)

var ref = cloud.EnvRef{Cloud: "azure", Region: "westeurope", Project: "azure1234abcd", Environment: "production"}

const (
	customer = "00000000-1111-2222-3333-444444444444"
	// The customer's own Private Link service, by resource ID.
	customerService = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-orders/providers/Microsoft.Network/privateLinkServices/pls-orders"
	// Another of theirs, by alias.
	customerAlias = "pls-billing.11111111-2222-4333-8444-555555555555.westeurope.azure.privatelinkservice"
)

func init() { pollFreq = 10 * time.Millisecond }

func setup(t *testing.T) (*Provider, *aztest.Model, *aztest.Transport, aztest.Platform) {
	m := aztest.New()
	plat := m.Build(ref, "pro")
	tr := m.Transport()
	p := newProvider(Options{
		SubscriptionID: aztest.PlatformSubscription, ResourceGroups: []string{"rg-other", plat.ResourceGroup},
		SubnetID:              "/subscriptions/" + aztest.PlatformSubscription + "/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/endpoints",
		EndpointResourceGroup: "rg-endpoints",
	}, &azfake.TokenCredential{}, tr)
	// Quick retries; a Retry-After in the answer still rules.
	p.retry = policy.RetryOptions{MaxRetries: 3, RetryDelay: 5 * time.Millisecond}
	return p, m, tr, plat
}

func TestConformance(t *testing.T) {
	p, m, _, plat := setup(t)
	cloudtest.Run(t, cloudtest.Harness{
		Provider: p, Customer: m, Env: ref,
		Account: customer, Other: "00000000-1111-2222-3333-000000000000",
		CustomerService: customerService, OtherCustomerService: customerAlias, Ports: []int{5432, 8080},
	})
	t.Run("the service name is the alias and the principal the platform subscription", func(t *testing.T) {
		env, err := p.Environment(context.Background(), ref)
		require.NoError(t, err)
		assert.Equal(t, plat.Alias, env.ServiceName)
		assert.Equal(t, aztest.PlatformSubscription, env.Principal)
		assert.Equal(t, "pro", env.Plan)
	})
	t.Run("ports have NSG rules", func(t *testing.T) {
		assert.Equal(t, []string{"allow-lb"}, m.Rules(plat.NSGID), "the suite's teardown closed its ports, rules too; the platform's own rule stays")
		require.NoError(t, p.OpenPorts(context.Background(), ref, []int{8080}))
		assert.Equal(t, []string{"allow-lb", "lw-allow-8080"}, m.Rules(plat.NSGID))
	})
}

func TestPort443NeverReachesAzure(t *testing.T) {
	p, _, tr, _ := setup(t)
	err := p.OpenPorts(context.Background(), ref, []int{5432, 443})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
	assert.Empty(t, tr.Calls, "refused before any call")
}

func TestThrottlingHonoursRetryAfter(t *testing.T) {
	p, _, tr, _ := setup(t)
	tr.RetryAfter = time.Second
	tr.Throttle("privateLinkServices", 1)
	start := time.Now()
	env, err := p.Environment(context.Background(), ref)
	require.NoError(t, err, "one 429 is retried by the SDK")
	assert.NotEmpty(t, env.ServiceName)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "the retry waited for Retry-After")

	tr.RetryAfter = 0
	tr.Throttle("privateLinkServices", 10)
	_, err = p.Environment(context.Background(), ref)
	assert.Equal(t, cloud.Retryable, cloud.KindOf(err), "beyond the SDK's budget, throttling is the activity's to retry: %v", err)
	assert.Contains(t, err.Error(), "throttled")
}

func TestConcurrentChangeIsAConflictToRetry(t *testing.T) {
	p, m, _, plat := setup(t)
	// Another writer changes the service between our read and our write.
	ctx := context.Background()
	s, err := p.service(ctx, ref)
	require.NoError(t, err)
	m.Touch(plat.ServiceID)
	s.Properties.Visibility.Subscriptions = append(s.Properties.Visibility.Subscriptions, ptr(customer))
	poller, err := p.platform().NewPrivateLinkServicesClient().BeginCreateOrUpdate(withETag(ctx, s.Etag), s.group, *s.Name, s.PrivateLinkService, nil)
	if err == nil {
		_, err = poller.PollUntilDone(ctx, nil)
	}
	err = classify("PrivateLinkServices.CreateOrUpdate", "Microsoft.Network/privateLinkServices/write", err)
	assert.Equal(t, cloud.Retryable, cloud.KindOf(err), "a stale ETag is refused and worth a retry: %v", err)
	assert.Contains(t, err.Error(), "changed concurrently")

	// The retry reads afresh and succeeds.
	require.NoError(t, p.AllowAccount(ctx, ref, customer))
	_, err = m.CreateEndpoint(customer, plat.Alias)
	assert.NoError(t, err, "the customer sees the service")
}

func TestLongRunningOperationFailure(t *testing.T) {
	p, m, _, _ := setup(t)
	require.NoError(t, m.Grant(customer, customerService, aztest.PlatformSubscription, nil))
	m.FailCreateEndpoint = true
	_, err := p.CreateEndpoint(context.Background(), cloud.EndpointSpec{Env: ref, Service: customerService, Token: "t1", Description: "Acme"})
	assert.Equal(t, cloud.Retryable, cloud.KindOf(err), "a failed operation is retried: %v", err)
	ep, err := p.CreateEndpoint(context.Background(), cloud.EndpointSpec{Env: ref, Service: customerService, Token: "t1", Description: "Acme"})
	require.NoError(t, err)
	assert.Equal(t, cloud.StatePendingAcceptance, ep.State)
}

func TestRequestMessageAtMost140(t *testing.T) {
	p, m, _, _ := setup(t)
	require.NoError(t, m.Grant(customer, customerService, aztest.PlatformSubscription, nil))
	long := make([]byte, 141)
	for i := range long {
		long[i] = 'x'
	}
	_, err := p.CreateEndpoint(context.Background(), cloud.EndpointSpec{Env: ref, Service: customerService, Token: "t", Description: string(long)})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
}

func TestErrorClassification(t *testing.T) {
	for status, kind := range map[int]cloud.Kind{429: cloud.Retryable, 409: cloud.Retryable, 412: cloud.Retryable, 500: cloud.Retryable, 503: cloud.Retryable,
		401: cloud.AccessDenied, 403: cloud.AccessDenied, 404: cloud.NotFound, 400: cloud.Invalid} {
		err := classify("PrivateEndpoints.CreateOrUpdate", "Microsoft.Network/privateEndpoints/write", responseError(status))
		assert.Equal(t, kind, cloud.KindOf(err), "%d", status)
		if kind == cloud.AccessDenied {
			assert.Contains(t, err.Error(), "lacks Microsoft.Network/privateEndpoints/write")
		}
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions([]byte(`{"subscriptionId": "s", "resourceGroups": ["rg"], "endpointResourceGroup": "rg-pe",
		"subnetId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/pe"}`))
	require.NoError(t, err)
	assert.Equal(t, []string{"rg"}, o.ResourceGroups)
	_, err = ParseOptions([]byte(`{"subnetId": "not-an-id"}`))
	assert.ErrorContains(t, err, "azure.subscriptionId is required")
	assert.ErrorContains(t, err, "azure.subnetId must be a subnet's resource ID")
	_, err = ParseOptions([]byte(`{"subscriptionID": "s"}`))
	assert.ErrorContains(t, err, `did you mean "subscriptionId"?`)
}

// connect allows the customer and connects them to the platform service.
func connect(t *testing.T, p *Provider, m *aztest.Model, plat aztest.Platform) string {
	t.Helper()
	require.NoError(t, p.AllowAccount(context.Background(), ref, customer))
	conn, err := m.CreateEndpoint(customer, plat.Alias)
	require.NoError(t, err)
	return conn
}

func TestRejectionReasonIsTheConnectionsDescription(t *testing.T) {
	p, m, _, plat := setup(t)
	ctx := context.Background()
	conn := connect(t, p, m, plat)
	require.NoError(t, p.RejectConnections(ctx, ref, []string{conn}, "the subscription is not on the contract"))
	s, err := p.service(ctx, ref)
	require.NoError(t, err)
	got, err := p.platform().NewPrivateLinkServicesClient().GetPrivateEndpointConnection(ctx, s.group, *s.Name, conn, nil)
	require.NoError(t, err)
	st := got.Properties.PrivateLinkServiceConnectionState
	assert.Equal(t, "Rejected", *st.Status)
	assert.Equal(t, "the subscription is not on the contract", *st.Description, "the customer sees why")
}

// Between the read and the write of an approval, another operator can
// decide on the connection or the customer can delete their private
// endpoint: the approval is judged on the connection's state now.
func TestApproveRace(t *testing.T) {
	for _, tc := range []struct {
		race string // the connection's status meanwhile; "" for gone
		kind cloud.Kind
		want string
	}{
		{race: "Approved"},
		{race: "", kind: cloud.NotFound, want: "is gone: the customer deleted their endpoint before it was accepted"},
		{race: "Rejected", kind: cloud.Conflict, want: "is rejected and cannot be accepted"},
		{race: "Disconnected", kind: cloud.Conflict, want: "is disconnected and cannot be accepted"},
	} {
		p, m, tr, plat := setup(t)
		conn := connect(t, p, m, plat)
		m.RaceNextUpdate(tc.race)
		err := p.AcceptConnections(context.Background(), ref, []string{conn})
		assert.Equal(t, 1, tr.Calls["PUT privateEndpointConnections"], "%q: the write was made", tc.race)
		if tc.want == "" {
			assert.NoError(t, err, "approved meanwhile: success")
			continue
		}
		assert.Equal(t, tc.kind, cloud.KindOf(err), "%q: %v", tc.race, err)
		assert.ErrorContains(t, err, tc.want)
	}
}

func TestApprovingAConnectionGoneSaysTheCustomerDeletedIt(t *testing.T) {
	p, m, tr, plat := setup(t)
	ctx := context.Background()
	conn := connect(t, p, m, plat)
	require.NoError(t, m.DeleteEndpoint(customer, conn))
	err := p.AcceptConnections(ctx, ref, []string{conn})
	assert.Equal(t, cloud.NotFound, cloud.KindOf(err), "got %v", err)
	assert.ErrorContains(t, err, "the customer deleted their endpoint before it was accepted")
	assert.Zero(t, tr.Calls["PUT privateEndpointConnections"], "nothing to approve")
	require.NoError(t, p.RejectConnections(ctx, ref, []string{conn}, "gone"), "nothing to reject")
}

func TestServiceStateReadsRulesAndVisibility(t *testing.T) {
	p, _, tr, _ := setup(t)
	ctx := context.Background()
	st, err := p.ServiceState(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, cloud.ServiceState{OpenPorts: []int{}, Accounts: []string{}}, st)

	require.NoError(t, p.OpenPorts(ctx, ref, []int{8080, 5432}))
	require.NoError(t, p.AllowAccount(ctx, ref, "00000000-1111-2222-3333-BBBBBBBBBBBB"))
	require.NoError(t, p.AllowAccount(ctx, ref, customer))
	// Behind the provider's back: "*" on Visibility, a rule on another
	// frontend of the balancer, and an HA-ports rule.
	s, b, err := p.serviceAndBalancer(ctx, ref)
	require.NoError(t, err)
	s.Properties.Visibility.Subscriptions = append(s.Properties.Visibility.Subscriptions, ptr("*"))
	poller, err := p.platform().NewPrivateLinkServicesClient().BeginCreateOrUpdate(ctx, s.group, *s.Name, s.PrivateLinkService, nil)
	require.NoError(t, err)
	_, err = poller.PollUntilDone(ctx, nil)
	require.NoError(t, err)
	lbp := b.lb.Properties
	lbp.LoadBalancingRules = append(lbp.LoadBalancingRules,
		&armnetwork.LoadBalancingRule{Name: ptr("public-9000"), Properties: &armnetwork.LoadBalancingRulePropertiesFormat{
			FrontendPort: ptr(int32(9000)), FrontendIPConfiguration: &armnetwork.SubResource{ID: ptr(*b.lb.ID + "/frontendIPConfigurations/public")}}},
		&armnetwork.LoadBalancingRule{Name: ptr("ha"), Properties: &armnetwork.LoadBalancingRulePropertiesFormat{
			FrontendPort: ptr(int32(0)), FrontendIPConfiguration: &armnetwork.SubResource{ID: ptr(strings.ToUpper(b.frontend))}}},
		&armnetwork.LoadBalancingRule{Name: ptr("platform-6379"), Properties: &armnetwork.LoadBalancingRulePropertiesFormat{
			FrontendPort: ptr(int32(6379)), FrontendIPConfiguration: &armnetwork.SubResource{ID: ptr(strings.ToUpper(b.frontend))}}})
	require.NoError(t, p.writeBalancer(ctx, b))

	before := tr.Calls["PUT privateLinkServices"] + tr.Calls["PUT loadBalancers"]
	st, err = p.ServiceState(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, []int{5432, 6379, 8080}, st.OpenPorts, "the service's frontend only, named in any case; no HA-ports rule")
	assert.Equal(t, []string{customer, "00000000-1111-2222-3333-bbbbbbbbbbbb"}, st.Accounts, "lower case, sorted, no *")
	assert.Equal(t, before, tr.Calls["PUT privateLinkServices"]+tr.Calls["PUT loadBalancers"], "read-only")
}

// Azure keeps no creation time on a private endpoint: it comes from the
// tag CreateEndpoint writes. Services match by the resource ID or alias
// the endpoint was created with, in any case. (Order and states: the
// conformance suite.)
func TestPlatformEndpointsCreatedFromTheTag(t *testing.T) {
	p, m, _, _ := setup(t)
	ctx := context.Background()
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	p.now = func() time.Time { return clock }
	require.NoError(t, m.Grant(customer, customerService, aztest.PlatformSubscription, nil))
	require.NoError(t, m.Grant(customer, customerAlias, aztest.PlatformSubscription, nil))
	byID, err := p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: ref, Service: customerService, Token: "run-1"})
	require.NoError(t, err)
	assert.Equal(t, clock, byID.Created)
	byAlias, err := p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: ref, Service: customerAlias, Token: "run-x"})
	require.NoError(t, err)

	eps, err := p.PlatformEndpoints(ctx, ref, strings.ToUpper(customerService))
	require.NoError(t, err)
	require.Len(t, eps, 1, "%+v", eps)
	assert.Equal(t, byID.ID, eps[0].ID)
	assert.Equal(t, clock, eps[0].Created)
	got, err := p.DescribeEndpoint(ctx, ref, byID.ID)
	require.NoError(t, err)
	assert.Equal(t, clock, got.Created)

	eps, err = p.PlatformEndpoints(ctx, ref, customerAlias)
	require.NoError(t, err)
	require.Len(t, eps, 1)
	assert.Equal(t, byAlias.ID, eps[0].ID, "by the alias it was created with")
}

// Inventory reads everything with one call per kind of thing, whatever
// the number of subscriptions and services, and writes nothing.
func TestInventoryCost(t *testing.T) {
	p, m, tr, plat := setup(t)
	ctx := context.Background()
	const other = "00000000-1111-2222-3333-000000000000"
	require.NoError(t, p.OpenPorts(ctx, ref, []int{5432}))
	var conns []string
	for _, sub := range []string{customer, other} {
		require.NoError(t, p.AllowAccount(ctx, ref, sub))
		id, err := m.CreateEndpoint(sub, plat.Alias)
		require.NoError(t, err)
		conns = append(conns, id)
	}
	clock := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	p.now = func() time.Time { clock = clock.Add(time.Minute); return clock }
	var eps []string
	for i, s := range []string{customerService, customerAlias} {
		require.NoError(t, m.Grant(customer, s, aztest.PlatformSubscription, nil))
		ep, err := p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: ref, Service: s, Token: "inventory-" + strconv.Itoa(i)})
		require.NoError(t, err)
		eps = append(eps, ep.ID)
	}

	before := maps.Clone(tr.Calls)
	inv, err := p.Inventory(ctx, ref, []string{customerService, customerAlias})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{
		"GET privateLinkServices":        2, // the service, looked up once: one list per configured group, up to its own
		"GET loadBalancers":              1,
		"GET privateEndpointConnections": 1, // every subscription's, in one listing
		"GET privateEndpoints":           1, // both services, in one listing
	}, since(tr.Calls, before))
	require.Len(t, inv.Connections, 2)
	assert.Equal(t, conns, []string{inv.Connections[0].ID, inv.Connections[1].ID}, "in the order they were made")
	assert.Equal(t, []string{customer, other}, []string{inv.Connections[0].Account, inv.Connections[1].Account}, "owners in lower case")
	require.Len(t, inv.Endpoints, 2)
	assert.Equal(t, []string{eps[1], eps[0]}, []string{inv.Endpoints[0].ID, inv.Endpoints[1].ID}, "newest first")
	assert.Equal(t, []int{5432}, inv.OpenPorts)
	assert.Equal(t, []string{other, customer}, inv.Accounts)

	before = maps.Clone(tr.Calls)
	inv, err = p.Inventory(ctx, ref, nil)
	require.NoError(t, err)
	assert.Zero(t, since(tr.Calls, before)["GET privateEndpoints"], "no service asked about: no listing of endpoints")
	assert.Empty(t, inv.Endpoints)

	tr.RetryAfter = 0
	tr.Throttle("privateEndpointConnections", 10)
	_, err = p.Inventory(ctx, ref, nil)
	assert.Equal(t, cloud.Retryable, cloud.KindOf(err), "throttled beyond the SDK's budget: %v", err)
	missing := ref
	missing.Project = "nosuchproject1"
	_, err = p.Inventory(ctx, missing, nil)
	assert.True(t, cloud.IsNotFound(err), "got %v", err)
}

// since is what was called since before, leaving out what was not.
func since(now, before map[string]int) map[string]int {
	out := map[string]int{}
	for call, n := range now {
		if d := n - before[call]; d != 0 {
			out[call] = d
		}
	}
	return out
}
