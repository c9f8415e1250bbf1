package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/alibaba"
	"github.com/linkwright/linkwright/internal/cloud/alibaba/alitest"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

// alibabaStack is a worker on the Alibaba provider against alitest's model
// of the PrivateLink and NLB APIs (served on loopback, reached by the real
// SDK), with the platform's endpoint service built in it and a customer
// service on loopback.
type alibabaStack struct {
	m        *alitest.Model
	provider *alibaba.Provider
	ref      cloud.EnvRef
	service  string
	custPort int
}

const (
	alibabaPlatformUID = "5123456789012345"
	alibabaAccount     = "1234567890123456"
	custServiceAlibaba = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1customer00000000a"
)

func startAlibabaWorker(t *testing.T, c client.Client) alibabaStack {
	t.Helper()
	s := alibabaStack{m: alitest.New(), ref: cloud.EnvRef{Cloud: "alibaba", Region: "cn-hangzhou", Project: "alibaba12345a", Environment: "production"}}
	host := s.m.Start(t)
	s.m.AddAccount(alibabaPlatformUID, "LTAIplatform", "platform-secret")
	s.m.SetCustomerZones(s.ref.Region, []string{"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"})
	_, s.service = s.m.AddService(alitest.ServiceSpec{
		Owner: alibabaPlatformUID, Region: s.ref.Region, ServerGroupID: "sgp-platform",
		Zones: []string{"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"},
		Tags: map[string]string{alibaba.TagProject: s.ref.Project, alibaba.TagEnvironment: s.ref.Environment,
			alibaba.TagPlan: "pro", alibaba.TagServerGroup: "sgp-platform"},
	})
	s.provider = alibaba.NewWith(alibaba.Options{
		AccountID: alibabaPlatformUID, Region: "cn-hangzhou", VpcID: "vpc-platform", SecurityGroupIDs: []string{"sg-platform"},
		Zones:    []alibaba.Zone{{ZoneID: "cn-hangzhou-h", VSwitchID: "vsw-h"}, {ZoneID: "cn-hangzhou-i", VSwitchID: "vsw-i"}},
		Endpoint: "http://" + host,
	}, alibaba.StaticCredentials("LTAIplatform", "platform-secret"))
	s.custPort = customerService(t)
	cfg := testConfig(t)
	cfg.Cloud = "alibaba"
	startWorker(t, c, cfg, app.WithProvider(s.provider),
		app.WithProber(&probe.Prober{Resolver: suffixResolver(".privatelink.aliyuncs.com"), Timeout: 2 * time.Second}))
	return s
}

// calls are the model's API calls so far, by RAM action.
func (s alibabaStack) calls() map[string]int {
	out := map[string]int{}
	for _, c := range s.m.Log() {
		product := "privatelink"
		if c.Version == alitest.NLBVersion {
			product = "nlb"
		}
		out[product+":"+c.Action]++
	}
	return out
}

// A bidirectional enablement for an Alibaba request with a bandwidth,
// through the real workflows and worker on a real dev server, against the
// model; then its teardown, which leaves nothing and deletes in the
// documented order.
func TestIntegrationAlibabaBidirectional(t *testing.T) {
	c := devtest.Client(t)
	s := startAlibabaWorker(t, c)
	req := request.Request{
		Company: "Acme Corp", RequestedBy: "dana@platform.example", ProjectID: s.ref.Project, Environment: s.ref.Environment,
		Cloud: "alibaba", Region: s.ref.Region, CustomerAccount: alibabaAccount, ConnectionType: "bidirectional",
		Services:                []request.Service{{Name: "mysql", Port: 3306}, {Name: "https", Port: 443}},
		CustomerEndpointService: custServiceAlibaba, CustomerServicePorts: []int{s.custPort}, BandwidthMbps: 200,
	}
	res := driveBidirectional(t, c, req, s.m, s.service, alibabaPlatformUID)
	assert.Equal(t, workflows.OutcomeCompleted, res.Outcome, "443 is allowed on Alibaba")

	enable := slices.IndexFunc(s.m.Log(), func(c alitest.Call) bool { return c.Action == "EnableVpcEndpointConnection" })
	require.GreaterOrEqual(t, enable, 0)
	assert.Equal(t, "200", s.m.Log()[enable].Params["Bandwidth"], "the request's bandwidth on the accept")
	create := slices.IndexFunc(s.m.Log(), func(c alitest.Call) bool { return c.Action == "CreateVpcEndpoint" })
	require.GreaterOrEqual(t, create, 0)
	assert.NotEmpty(t, s.m.Log()[create].Params["Zone.2.ZoneId"], "the endpoint is in two zones")

	total, check := checkCost(t, c, req.WorkflowID(), s.calls)
	n, detail := summarize(minus(total, check))
	t.Logf("Alibaba API calls for one bidirectional enablement (polls included): %d: %s", n, detail)
	nc, cdetail := summarize(check)
	t.Logf("Alibaba API calls per health check: %d: %s", nc, cdetail)

	// A change on the live link: a port added, approved by another.
	st := addPort(t, c, req.WorkflowID(), bob, request.Service{Name: "redis", Port: 6379})
	assert.Contains(t, s.m.Listeners(s.loadBalancer(t)), "TCP:6379", "a listener on the NLB")
	assert.Equal(t, 200, st.Spec.BandwidthMbps, "the live link keeps the bandwidth for repairs")

	before := len(s.m.Log())
	out := tearDown(t, c, req.WorkflowID(), bob)
	assert.Equal(t, workflows.OutcomeTornDown, out.Outcome)
	inv, err := s.provider.Inventory(context.Background(), s.ref, []string{custServiceAlibaba})
	require.NoError(t, err)
	nothingLeft(t, inv, append(req.Ports(), 6379))

	// The documented order: the platform's endpoint first (then the
	// customer may delete their service), the customer's connections
	// disabled before the account leaves the whitelist and the listeners
	// go.
	var order []string
	for _, call := range s.m.Log()[before:] {
		switch call.Action {
		case "DeleteVpcEndpoint", "DisableVpcEndpointConnection", "RemoveUserFromVpcEndpointService", "DeleteListener":
			if !slices.Contains(order, call.Action) {
				order = append(order, call.Action)
			}
		}
	}
	assert.Equal(t, []string{"DeleteVpcEndpoint", "DisableVpcEndpointConnection", "RemoveUserFromVpcEndpointService", "DeleteListener"}, order)
	require.NoError(t, s.m.DeleteService(alibabaAccount, custServiceAlibaba), "with the platform's endpoint gone, the customer may delete their service")
}

// loadBalancer is the NLB behind the platform's service.
func (s alibabaStack) loadBalancer(t *testing.T) string {
	t.Helper()
	for _, c := range s.m.Log() {
		if c.Action == "CreateListener" {
			return c.Params["LoadBalancerId"]
		}
	}
	t.Fatal("no listener was created")
	return ""
}

// An outbound link on Alibaba Cloud through the model: the zone check
// (zone IDs, the same in every account) through a mismatch and its fix,
// the platform's endpoint, the customer's acceptance, running; then the
// teardown. Nothing of the platform's service changes.
func TestIntegrationAlibabaOutbound(t *testing.T) {
	c := devtest.Client(t)
	s := startAlibabaWorker(t, c)
	req := request.Request{
		Company: "Globex", RequestedBy: "sam@platform.example", ProjectID: s.ref.Project, Environment: s.ref.Environment,
		Cloud: "alibaba", Region: s.ref.Region, CustomerAccount: alibabaAccount, ConnectionType: request.Outbound,
		CustomerEndpointService: custServiceAlibaba, CustomerServicePorts: []int{s.custPort},
	}
	zones, err := s.provider.Zones(t.Context(), s.ref, "")
	require.NoError(t, err)
	identity := map[string]string{}
	for _, z := range s.m.CustomerZones(s.ref.Region) {
		identity[z] = z
	}
	driveOutbound(t, c, req, s.m, alibabaPlatformUID, zones.Platform, identity)
	calls := s.calls()
	assert.Zero(t, calls["nlb:CreateListener"]+calls["privatelink:AddUserToVpcEndpointService"]+calls["privatelink:EnableVpcEndpointConnection"], "nothing of the platform's service is changed")
	out := tearDown(t, c, req.WorkflowID(), bob)
	assert.Equal(t, workflows.OutcomeTornDown, out.Outcome)
	assert.Empty(t, s.m.Pending(custServiceAlibaba))
	require.NoError(t, s.m.DeleteService(alibabaAccount, custServiceAlibaba), "the platform's endpoint is gone: the customer may delete the service")
}
