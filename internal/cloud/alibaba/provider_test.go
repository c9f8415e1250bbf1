package alibaba

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/alibaba/alitest"
	"github.com/linkwright/linkwright/internal/cloud/cloudtest"
)

const (
	platformUID = "5123456789012345"
	customerUID = "1234567890123456"
	otherUID    = "1234567890120000"
	region      = "cn-hangzhou"

	customerService      = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1customer00000000a"
	otherCustomerService = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1customer00000000b"
)

var ref = cloud.EnvRef{Cloud: "alibaba", Region: region, Project: "alibaba12345a", Environment: "production"}

func init() { retryDelay = time.Millisecond }

type fixture struct {
	p        *Provider
	m        *alitest.Model
	host     string
	svcID    string
	svcName  string
	platform alitest.ServiceSpec
}

// setup builds the model with the platform's endpoint service of ref (an
// NLB service in three zones, accepting connections from cn-shanghai too)
// and a provider of the platform's account pointed at it.
func setup(t *testing.T, tune ...func(*alitest.ServiceSpec, *Options)) fixture {
	t.Helper()
	m := alitest.New()
	host := m.Start(t)
	m.AddAccount(platformUID, "LTAIplatform", "platform-secret")
	// Customers' services are offered in three zones, two of them the
	// platform's.
	m.SetCustomerZones(region, []string{"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"})
	spec := alitest.ServiceSpec{
		Owner: platformUID, Region: region, ServerGroupID: "sgp-platform",
		Tags:             map[string]string{TagProject: ref.Project, TagEnvironment: ref.Environment, TagPlan: "pro", TagServerGroup: "sgp-platform"},
		Zones:            []string{"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"},
		SupportedRegions: []string{"cn-shanghai"},
	}
	opts := Options{
		AccountID: platformUID, Region: region, VpcID: "vpc-platform", SecurityGroupIDs: []string{"sg-platform"},
		Zones:    []Zone{{ZoneID: "cn-hangzhou-h", VSwitchID: "vsw-h"}, {ZoneID: "cn-hangzhou-i", VSwitchID: "vsw-i"}},
		Endpoint: "http://" + host,
	}
	for _, f := range tune {
		f(&spec, &opts)
	}
	// Another project's service, which the tags must tell apart.
	m.AddService(alitest.ServiceSpec{Owner: platformUID, Region: region, Zones: spec.Zones,
		Tags: map[string]string{TagProject: "otherproject1", TagEnvironment: ref.Environment, TagPlan: "pro"}})
	id, name := m.AddService(spec)
	return fixture{p: NewWith(opts, StaticCredentials("LTAIplatform", "platform-secret")), m: m, host: host, svcID: id, svcName: name, platform: spec}
}

// product is the RAM product of a logged call.
func product(c alitest.Call) string {
	if c.Version == alitest.NLBVersion {
		return productNLB
	}
	return productPrivateLink
}

func actionsOf(log []alitest.Call) []string {
	var out []string
	for _, c := range log {
		out = append(out, product(c)+":"+c.Action)
	}
	return out
}

func count(log []alitest.Call, action string) int {
	n := 0
	for _, c := range log {
		if c.Action == action {
			n++
		}
	}
	return n
}

func lastCall(t *testing.T, log []alitest.Call, action string) alitest.Call {
	t.Helper()
	for i := len(log) - 1; i >= 0; i-- {
		if log[i].Action == action {
			return log[i]
		}
	}
	t.Fatalf("no %s call in %v", action, actionsOf(log))
	return alitest.Call{}
}

func TestConformance(t *testing.T) {
	f := setup(t)
	cloudtest.Run(t, cloudtest.Harness{
		Provider: f.p, Customer: f.m, Env: ref,
		Account: customerUID, Other: otherUID,
		CustomerService: customerService, OtherCustomerService: otherCustomerService, Ports: []int{3306, 443},
	})
	t.Run("every call is an action of the RAM policy", func(t *testing.T) {
		called := actionsOf(f.m.Log())
		for _, a := range called {
			assert.Contains(t, Actions, a, "called but not in the RAM policy")
		}
		for _, a := range Actions {
			assert.Contains(t, called, a, "in the RAM policy but the suite never called it")
		}
	})
	t.Run("the environment is the tagged service, the principal the platform's UID", func(t *testing.T) {
		env, err := f.p.Environment(context.Background(), ref)
		require.NoError(t, err)
		assert.Equal(t, f.svcName, env.ServiceName)
		assert.Equal(t, f.svcID, env.ServiceID)
		assert.Equal(t, platformUID, env.Principal)
		assert.Equal(t, "pro", env.Plan)
		assert.Equal(t, []string{"cn-shanghai"}, env.Regions, "the other regions the service accepts connections from")
		assert.False(t, env.AutoAccept)
	})
}

func TestWhitelistIsReadBeforeItIsChanged(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	require.NoError(t, f.p.AllowAccount(ctx, ref, customerUID))
	require.NoError(t, f.p.AllowAccount(ctx, ref, customerUID))
	assert.Equal(t, 1, count(f.m.Log(), "AddUserToVpcEndpointService"), "the second allow reads the whitelist and changes nothing")
	assert.Equal(t, "1234567890123456", lastCall(t, f.m.Log(), "AddUserToVpcEndpointService").Params["UserId"])
	st, err := f.p.ServiceState(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, []string{customerUID}, st.Accounts)

	require.NoError(t, f.p.RevokeAccount(ctx, ref, customerUID))
	require.NoError(t, f.p.RevokeAccount(ctx, ref, customerUID), "revoking one not on the whitelist is success")
	assert.Equal(t, 1, count(f.m.Log(), "RemoveUserFromVpcEndpointService"))

	for _, bad := range []string{"*", "123456789012", "12345678901234567"} {
		err := f.p.AllowAccount(ctx, ref, bad)
		assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "%s: %v", bad, err)
	}
	assert.Equal(t, 1, count(f.m.Log(), "AddUserToVpcEndpointService"), "refused before any call")
}

func TestManualAcceptanceWithBandwidth(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	require.NoError(t, f.p.AllowAccount(ctx, ref, customerUID))
	id, err := f.m.CreateEndpoint(customerUID, f.svcName)
	require.NoError(t, err)

	err = f.p.AcceptConnectionsWithBandwidth(ctx, ref, []string{id}, 50001)
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
	assert.ErrorContains(t, err, "100-50000")
	assert.Zero(t, count(f.m.Log(), "EnableVpcEndpointConnection"), "an out-of-range bandwidth is refused before the call")

	require.NoError(t, f.p.AcceptConnectionsWithBandwidth(ctx, ref, []string{id}, 200))
	call := lastCall(t, f.m.Log(), "EnableVpcEndpointConnection")
	assert.Equal(t, "200", call.Params["Bandwidth"])
	assert.Equal(t, id, call.Params["EndpointId"])
	assert.Equal(t, f.svcID, call.Params["ServiceId"])

	require.NoError(t, f.p.AcceptConnections(ctx, ref, []string{id}), "accepting again, while it connects, is success")
	assert.Equal(t, 1, count(f.m.Log(), "EnableVpcEndpointConnection"), "read first: no second Enable")
	require.Eventually(t, func() bool {
		conns, err := f.p.Connections(ctx, ref, customerUID)
		return err == nil && len(conns) == 1 && conns[0].State == cloud.StateAvailable
	}, 5*time.Second, time.Millisecond)
}

func TestBandwidthRangeIsTheResourceTypes(t *testing.T) {
	f := setup(t, func(s *alitest.ServiceSpec, _ *Options) { s.ResourceType = "slb" })
	ctx := context.Background()
	require.NoError(t, f.p.AllowAccount(ctx, ref, customerUID))
	id, err := f.m.CreateEndpoint(customerUID, f.svcName)
	require.NoError(t, err)
	err = f.p.AcceptConnectionsWithBandwidth(ctx, ref, []string{id}, 20000)
	assert.ErrorContains(t, err, "SLB endpoint service allows per connection (100-10240 Mbps)")
	require.NoError(t, f.p.AcceptConnectionsWithBandwidth(ctx, ref, []string{id}, 10240))
}

func TestAutomaticAcceptance(t *testing.T) {
	ctx := context.Background()
	t.Run("refused unless the config allows it", func(t *testing.T) {
		f := setup(t, func(s *alitest.ServiceSpec, _ *Options) { s.AutoAccept = true })
		_, err := f.p.Environment(ctx, ref)
		assert.Equal(t, cloud.Conflict, cloud.KindOf(err))
		assert.ErrorContains(t, err, "alibaba.allowAutoAcceptServices")
	})
	t.Run("allowed, it is reported and connections need no accept", func(t *testing.T) {
		f := setup(t, func(s *alitest.ServiceSpec, o *Options) { s.AutoAccept, o.AllowAutoAcceptServices = true, true })
		env, err := f.p.Environment(ctx, ref)
		require.NoError(t, err)
		assert.True(t, env.AutoAccept)
		require.NoError(t, f.p.AllowAccount(ctx, ref, customerUID))
		_, err = f.m.CreateEndpoint(customerUID, f.svcName)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			conns, err := f.p.Connections(ctx, ref, customerUID)
			return err == nil && len(conns) == 1 && conns[0].State == cloud.StateAvailable
		}, 5*time.Second, time.Millisecond)
		assert.Zero(t, count(f.m.Log(), "EnableVpcEndpointConnection"), "the service accepted, not the platform")
	})
}

func TestOwnerIsCheckedOnTheAnswer(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	for _, uid := range []string{customerUID, otherUID} {
		require.NoError(t, f.p.AllowAccount(ctx, ref, uid))
	}
	mine, err := f.m.CreateEndpoint(customerUID, f.svcName)
	require.NoError(t, err)
	_, err = f.m.CreateEndpoint(otherUID, f.svcName)
	require.NoError(t, err)
	f.m.IgnoreOwnerFilter = true
	conns, err := f.p.Connections(ctx, ref, customerUID)
	require.NoError(t, err)
	require.Len(t, conns, 1, "the other account's connection is left out although the filter was ignored")
	assert.Equal(t, mine, conns[0].ID)
}

func TestListsFollowNextToken(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	var ids []string
	for _, uid := range []string{customerUID, otherUID, "1234567890129999"} {
		require.NoError(t, f.p.AllowAccount(ctx, ref, uid))
		id, err := f.m.CreateEndpoint(uid, f.svcName)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	f.m.PageSize = 1
	inv, err := f.p.Inventory(ctx, ref, nil)
	require.NoError(t, err)
	var got []string
	for _, c := range inv.Connections {
		got = append(got, c.ID)
	}
	assert.ElementsMatch(t, ids, got)
	assert.Len(t, inv.Accounts, 3, "the whitelist, page by page")
}

// grant sets up a customer's service the platform may reach.
func grant(t *testing.T, f fixture, service string) {
	t.Helper()
	require.NoError(t, f.m.Grant(customerUID, service, platformUID, []int{5432}))
}

func TestEndpointGoesInTheZonesTheServiceOffers(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	grant(t, f, customerService)
	spec := cloud.EndpointSpec{Env: ref, Service: customerService, Token: "run-1/1", Description: "Linkwright for Acme"}
	ep, err := f.p.CreateEndpoint(ctx, spec)
	require.NoError(t, err)
	call := lastCall(t, f.m.Log(), "CreateVpcEndpoint")
	zones := []string{call.Params["Zone.1.ZoneId"], call.Params["Zone.2.ZoneId"]}
	assert.ElementsMatch(t, []string{"cn-hangzhou-h", "cn-hangzhou-i"}, zones)
	assert.Equal(t, "vpc-platform", call.Params["VpcId"])
	assert.Equal(t, "sg-platform", call.Params["SecurityGroupId.1"])
	assert.NotEmpty(t, call.Params["ClientToken"])
	assert.NotEmpty(t, ep.DNSName)
	assert.Equal(t, cloud.StatePendingAcceptance, ep.State)

	again, err := f.p.CreateEndpoint(ctx, spec)
	require.NoError(t, err)
	assert.Equal(t, ep.ID, again.ID, "the same token never makes a second endpoint")
	spec.Token = "run-2/1"
	other, err := f.p.CreateEndpoint(ctx, spec)
	require.NoError(t, err)
	assert.NotEqual(t, ep.ID, other.ID, "another run's token makes its own")

	found, err := f.p.PlatformEndpoints(ctx, ref, customerService)
	require.NoError(t, err)
	assert.Equal(t, []string{other.ID, ep.ID}, []string{found[0].ID, found[1].ID}, "newest first")
}

func TestTooFewZonesInCommonIsRefusedBeforeTheCall(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	grant(t, f, customerService)
	require.NoError(t, f.m.SetServiceZones(customerUID, customerService, []string{"cn-hangzhou-h", "cn-hangzhou-k"}))
	_, err := f.p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: ref, Service: customerService, Token: "t"})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
	assert.ErrorContains(t, err, "ask the customer to add cn-hangzhou-i")
	assert.Zero(t, count(f.m.Log(), "CreateVpcEndpoint"))

	z, err := f.p.Zones(ctx, ref, customerService)
	require.NoError(t, err)
	assert.Equal(t, []string{"cn-hangzhou-i"}, z.Missing(), "the zone check names the same zone")
}

func TestZoneAffinityIsKept(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.m.AddService(alitest.ServiceSpec{Owner: customerUID, Region: region, Name: customerService, ZoneAffinity: true,
		Zones: []string{"cn-hangzhou-h", "cn-hangzhou-i"}})
	grant(t, f, customerService)
	_, err := f.p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: ref, Service: customerService, Token: "t"})
	require.NoError(t, err)
	call := lastCall(t, f.m.Log(), "CreateVpcEndpoint")
	assert.Equal(t, "true", call.Params["ZoneAffinityEnabled"], "through CommonRequest: the typed SDK lacks the parameter")
}

func TestCrossRegion(t *testing.T) {
	const shanghai = "com.aliyuncs.privatelink.cn-shanghai.epsrv-bp1customer0000000sh"
	ctx := context.Background()
	t.Run("allowed where the customer's service lists the platform's region", func(t *testing.T) {
		f := setup(t)
		f.m.AddService(alitest.ServiceSpec{Owner: customerUID, Region: "cn-shanghai", Name: shanghai, SupportedRegions: []string{region}})
		grant(t, f, shanghai)
		z, err := f.p.Zones(ctx, ref, shanghai)
		require.NoError(t, err)
		assert.Empty(t, z.Missing(), "reached across regions, from any of the platform's zones")
		assert.Equal(t, []string{"cn-hangzhou-h", "cn-hangzhou-i"}, z.Platform)
		ep, err := f.p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: ref, Service: shanghai, Token: "t"})
		require.NoError(t, err)
		call := lastCall(t, f.m.Log(), "CreateVpcEndpoint")
		assert.Equal(t, "cn-shanghai", call.Params["ServiceRegionId"])
		assert.Equal(t, region, call.Region, "the endpoint is the platform's, in its region")
		eps, err := f.p.PlatformEndpoints(ctx, ref, shanghai)
		require.NoError(t, err)
		require.Len(t, eps, 1)
		assert.Equal(t, ep.ID, eps[0].ID)
	})
	t.Run("refused where it does not", func(t *testing.T) {
		f := setup(t)
		f.m.AddService(alitest.ServiceSpec{Owner: customerUID, Region: "cn-shanghai", Name: shanghai})
		grant(t, f, shanghai)
		_, err := f.p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: ref, Service: shanghai, Token: "t"})
		assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "%v", err)
		assert.Contains(t, err.Error(), "ServiceRegionId")
	})
}

func TestThePlatformDeletesItsEndpointBeforeTheCustomerDeletesTheService(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	grant(t, f, customerService)
	ep, err := f.p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: ref, Service: customerService, Token: "t"})
	require.NoError(t, err)
	require.NoError(t, f.m.AcceptEndpoint(customerUID, ep.ID))
	assert.Error(t, f.m.DeleteService(customerUID, customerService), "a service with a live connection cannot be deleted")
	require.NoError(t, f.p.DeleteEndpoint(ctx, ref, ep.ID))
	require.NoError(t, f.p.DeleteEndpoint(ctx, ref, ep.ID), "deleting again is success")
	require.Eventually(t, func() bool {
		eps, err := f.p.PlatformEndpoints(ctx, ref, customerService)
		return err == nil && len(eps) == 0
	}, 5*time.Second, time.Millisecond)
	require.NoError(t, f.m.DeleteService(customerUID, customerService), "with the platform's endpoint gone, the customer may delete the service")
	assert.Equal(t, 1, count(f.m.Log(), "DeleteVpcEndpoint"))
}

func TestThrottlingIsAbsorbed(t *testing.T) {
	ctx := context.Background()
	for _, code := range []string{"Throttling", "Throttling.User", "ServiceUnavailable"} {
		t.Run(code, func(t *testing.T) {
			f := setup(t)
			f.m.Throttle("ListVpcEndpointServices", attempts-1, code)
			_, err := f.p.Environment(ctx, ref)
			require.NoError(t, err, "retried past %s", code)
			assert.Equal(t, attempts, count(f.m.Log(), "ListVpcEndpointServices"))

			f.m.Throttle("ListVpcEndpointServices", attempts, code)
			_, err = f.p.Environment(ctx, ref)
			assert.True(t, cloud.IsRetryable(err), "beyond the provider's attempts it is retryable, for the activity's retries: %v", err)
		})
	}
}

func TestAccessErrorsNameTheRAMAction(t *testing.T) {
	f := setup(t)
	f.m.Fail("AddUserToVpcEndpointService", 1, 403, "Forbidden.RAM", "User not authorized to operate on the specified resource.")
	err := f.p.AllowAccount(context.Background(), ref, customerUID)
	assert.Equal(t, cloud.AccessDenied, cloud.KindOf(err))
	assert.ErrorContains(t, err, "privatelink:AddUserToVpcEndpointService")
	assert.ErrorContains(t, err, "deployments/alibaba/ram-policy.json")
}

func TestMissingEnvironmentIsNotFound(t *testing.T) {
	f := setup(t)
	other := ref
	other.Environment = "staging"
	_, err := f.p.Environment(context.Background(), other)
	assert.True(t, cloud.IsNotFound(err), "%v", err)
	assert.ErrorContains(t, err, TagEnvironment)
}

func TestParseOptions(t *testing.T) {
	_, err := ParseOptions([]byte(`{"accountId": "123", "zones": [{"zoneId": "cn-hangzhou-h"}], "endpoint": "ftp://x"}`))
	require.Error(t, err)
	for _, want := range []string{"alibaba.accountId", "alibaba.region", "alibaba.vpcId", "alibaba.zones[0] needs both", "alibaba.securityGroupIds", "alibaba.endpoint"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = ParseOptions([]byte(`{"accountID": "5123456789012345"}`))
	assert.ErrorContains(t, err, "accountID", "strict: a misspelt field is named")
	o, err := ParseOptions([]byte(`{"accountId": "5123456789012345", "region": "cn-hangzhou", "vpcId": "vpc-1", "zones": [{"zoneId": "cn-hangzhou-h", "vSwitchId": "vsw-1"}], "securityGroupIds": ["sg-1"]}`))
	require.NoError(t, err)
	assert.Equal(t, "5123456789012345", o.AccountID)
	assert.False(t, slices.ContainsFunc([]string{o.Endpoint}, func(s string) bool { return strings.Contains(s, "secret") }))
}

// An API that hands back the same NextToken would make a listing loop
// for ever: it is an error instead.
func TestARepeatedNextTokenEndsTheListing(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"RequestId": "r", "NextToken": "page-2", "Users": [{"UserId": 1234567890123456}]}`))
	}))
	t.Cleanup(srv.Close)
	p := NewWith(Options{AccountID: platformUID, Endpoint: srv.URL}, StaticCredentials("LTAIx", "secret"))
	_, err := p.users(context.Background(), region, "epsrv-x")
	assert.True(t, cloud.IsRetryable(err), "%v", err)
	assert.ErrorContains(t, err, `NextToken "page-2" twice`)
	assert.Equal(t, 2, calls, "the first page, then the second, which gave the same token")
}

// The platform's VPC, vSwitches and security groups are in one region: an
// environment in another gets a clear refusal, not an API error about a
// VPC it cannot see.
func TestEndpointsOnlyInTheConfiguredRegion(t *testing.T) {
	f := setup(t)
	other := ref
	other.Region = "cn-shanghai"
	_, err := f.p.CreateEndpoint(context.Background(), cloud.EndpointSpec{Env: other, Service: "com.aliyuncs.privatelink.cn-shanghai.epsrv-bp1customer0000000sh", Token: "t"})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
	assert.ErrorContains(t, err, "are in cn-hangzhou, not cn-shanghai")
	_, err = f.p.Zones(context.Background(), other, "")
	assert.ErrorContains(t, err, "are in cn-hangzhou, not cn-shanghai")
	assert.Empty(t, f.m.Log(), "refused before any call")
}
