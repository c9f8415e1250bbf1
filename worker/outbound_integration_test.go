package main

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/cloud"
	awsprovider "github.com/linkwright/linkwright/internal/cloud/aws"
	"github.com/linkwright/linkwright/internal/cloud/aws/awstest"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

// An outbound link's whole life on the real dev server: the platform as
// consumer of the customer's service.

// zonedCustomer is an emulated customer whose service has zones.
type zonedCustomer interface {
	emulatedCustomer
	// SetServiceZones puts the customer's service in the zones named in
	// the customer's own naming.
	SetServiceZones(account, service string, names []string) error
}

func (s simCustomer) SetServiceZones(account, service string, names []string) error {
	return s.c.Customer("aws", account).SetServiceZones(service, names)
}

// namesOf are the customer's own names for the zone IDs, from its mapping.
func namesOf(t *testing.T, mapping map[string]string, ids []string) []string {
	t.Helper()
	var names []string
	for name, id := range mapping {
		if slices.Contains(ids, id) {
			names = append(names, name)
		}
	}
	require.Len(t, names, len(ids), "every zone ID has a name in %v", mapping)
	slices.Sort(names)
	return names
}

func outboundRequest(project string, port int) request.Request {
	return request.Request{
		Company: "Globex", RequestedBy: "sam@platform.example", ProjectID: project, Environment: "production",
		Cloud: "aws", Region: "us-east-1", CustomerAccount: account, ConnectionType: request.Outbound,
		CustomerEndpointService: custServiceAWS, CustomerServicePorts: []int{port},
	}
}

// driveOutbound runs an outbound enablement through a zone mismatch and
// its fix to the live link, running. platformZones are the platform's zone
// IDs; mapping is the customer's zone names to IDs.
func driveOutbound(t *testing.T, c client.Client, req request.Request, cust zonedCustomer, principal string, platformZones []string, mapping map[string]string) (workflows.Result, workflows.Status) {
	t.Helper()
	id := req.WorkflowID()
	run := start(t, c, req)
	waitFor(t, c, id, "the customer's grant", phase(workflows.PhaseAwaitingGrant))

	// The customer's load balancer misses the platform's last zone.
	require.NoError(t, cust.Grant(req.CustomerAccount, req.CustomerEndpointService, principal, req.CustomerServicePorts))
	missing := platformZones[len(platformZones)-1]
	require.NoError(t, cust.SetServiceZones(req.CustomerAccount, req.CustomerEndpointService, namesOf(t, mapping, platformZones[:len(platformZones)-1])))
	signal(t, c, id, workflows.SignalCustomerAccessGranted, nil)
	st := waitFor(t, c, id, "the zone mismatch", phase(workflows.PhaseAwaitingFix))
	assert.Equal(t, workflows.WaitingOnCustomer, st.WaitingOn)
	assert.Contains(t, st.Next, missing, "the missing zone ID is named")

	// Fixed, and nudged: the run goes on to the gate.
	require.NoError(t, cust.SetServiceZones(req.CustomerAccount, req.CustomerEndpointService, namesOf(t, mapping, platformZones)))
	signal(t, c, id, workflows.SignalCustomerAccessGranted, nil)
	waitFor(t, c, id, "gate create-reverse-endpoint", gate(workflows.GateCreateReverseEndpoint))
	_, err := update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateCreateReverseEndpoint, Approver: bob})
	require.NoError(t, err)
	st = waitFor(t, c, id, "the customer's acceptance", phase(workflows.PhaseAwaitingEndpoint))
	require.Equal(t, []string{st.ReverseEndpointID}, cust.Pending(req.CustomerEndpointService))
	require.NoError(t, cust.AcceptEndpoint(req.CustomerAccount, st.ReverseEndpointID))
	signal(t, c, id, workflows.SignalCustomerConnectionAccepted, nil)

	// Verified, it goes live without a customer confirmation, running.
	res, handoff := completed(t, c, run)
	assert.Equal(t, workflows.OutcomeCompleted, res.Outcome)
	require.Len(t, res.Status.Verification, 1)
	assert.True(t, res.Status.Verification[0].OK(), res.Status.Verification[0].Diagnosis)
	assert.Equal(t, request.Outbound, handoff.Spec.ConnectionType)
	assert.Empty(t, handoff.Spec.Services)
	assert.Empty(t, handoff.Spec.Accounts)
	live := waitFor(t, c, id, "the outbound link running", func(st workflows.Status) bool {
		return idle(workflows.PhaseLive, 1)(st) && st.LinkStatus == workflows.LinkRunning
	})
	return res, live
}

func TestIntegrationOutboundLinkOnTheSimulatedCloud(t *testing.T) {
	c := devtest.Client(t)
	cfg := testConfig(t)
	startWorker(t, c, cfg)
	const port = 35436
	req := outboundRequest("abcd1234efgh5", port)
	id := req.WorkflowID()
	simCloud := sim.Open(cfg.SimDir())
	ref := cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: req.ProjectID, Environment: req.Environment}
	zones, err := simCloud.Zones(t.Context(), ref, "")
	require.NoError(t, err)
	env := platformService(t, cfg, ref)
	_, live := driveOutbound(t, c, req, simCustomer{simCloud}, env.Principal, zones.Platform, simCloud.ZoneNames("aws", account, "us-east-1"))
	require.Len(t, live.Spec.Reverse, 1)
	assert.Contains(t, currentDetails(t, c, id), "Status: **running**")

	// The "Test" button, through the platform's endpoint.
	var tr workflows.TestResult
	require.NoError(t, updateInto(c, id, workflows.UpdateTestConnection, workflows.TestConnection{}, &tr))
	assert.True(t, tr.OK, "%v", tr.Problems)
	require.Len(t, tr.Results, 1)
	assert.Equal(t, port, tr.Results[0].Port)

	// Nothing reaches the platform: no port open, no account allowed.
	inv, err := simCloud.Inventory(t.Context(), ref, []string{custServiceAWS})
	require.NoError(t, err)
	assert.Empty(t, inv.OpenPorts)
	assert.Empty(t, inv.Accounts)

	// The customer deletes their service: the link is failed, and says why.
	require.NoError(t, simCloud.Customer("aws", account).DeleteService(custServiceAWS))
	st := checkNow(t, c, id, "the link failed", func(st workflows.Status) bool { return st.LinkStatus == workflows.LinkFailed })
	assert.Equal(t, workflows.PhaseDegraded, st.Phase)
	assert.Contains(t, st.LinkStatusReason, live.Spec.Reverse[0].EndpointID)
	assert.Contains(t, currentDetails(t, c, id), "Status: **failed**")

	// Torn down: the platform's endpoint goes; nothing is left.
	out := tearDown(t, c, id, bob)
	assert.Equal(t, workflows.OutcomeTornDown, out.Outcome)
	inv, err = simCloud.Inventory(t.Context(), ref, []string{custServiceAWS})
	require.NoError(t, err)
	for _, ep := range inv.Endpoints {
		assert.True(t, ep.State.Terminal(), "endpoint %s is %s", ep.ID, ep.State)
	}
}

// The same on the AWS provider against moto, whose customer account names
// zones differently from the platform's: the API calls of one outbound
// enablement, by action.
func TestIntegrationOutboundLinkOnAWS(t *testing.T) {
	c := devtest.Client(t)
	s := startAWSWorker(t, c, "awsmoto00005")
	req := outboundRequest(s.ref.Project, s.custPort)
	id := req.WorkflowID()
	p, err := awsprovider.New(t.Context(), s.opts)
	require.NoError(t, err)
	zones, err := p.Zones(t.Context(), s.ref, "")
	require.NoError(t, err)
	mapping, err := s.x.AccountZones(account, "us-east-1")
	require.NoError(t, err)
	before := s.x.CallCounts()
	driveOutbound(t, c, req, s.x, "arn:aws:iam::"+awstest.PlatformAccount+":root", zones.Platform, mapping)

	total, check := checkCost(t, c, id, s.x.CallCounts)
	n, detail := summarize(minus(minus(total, before), check), "GetCallerIdentity")
	t.Logf("EC2 and ELB API calls for one outbound enablement on moto (a zone mismatch and its fix, polls included): %d: %s", n, detail)
	assert.Zero(t, total["CreateListener"]+total["ModifyVpcEndpointServicePermissions"]+total["AcceptVpcEndpointConnections"], "nothing of the platform's service is changed")

	out := tearDown(t, c, id, bob)
	assert.Equal(t, workflows.OutcomeTornDown, out.Outcome)
	assert.Empty(t, s.x.Endpoints(account, custServiceAWS), "no endpoint of the customer's is touched")
}
