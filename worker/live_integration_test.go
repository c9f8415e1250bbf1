package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/cloud"
	awsprovider "github.com/linkwright/linkwright/internal/cloud/aws"
	"github.com/linkwright/linkwright/internal/cloud/aws/awstest"
	"github.com/linkwright/linkwright/internal/cloud/azure/aztest"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

// A link's life after day one, on the real dev server and the real
// worker: the live link a completed enablement becomes, its health checks,
// test-connection, a change, drift by hand, and its teardown.

// updateInto executes an update and decodes its answer into res.
func updateInto(c client.Client, id, name string, arg, res any) error {
	ctx := context.Background()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, res)
	}
	return err
}

// idle is a live link with nothing under way whose checks have reached n.
func idle(p workflows.Phase, n int) func(workflows.Status) bool {
	return func(st workflows.Status) bool {
		return st.Phase == p && st.Activity == "" && st.Health != nil && st.Health.Checks >= n
	}
}

// healthyLive waits until the link is live, healthy, and checked at least
// once, with nothing under way.
func healthyLive(t *testing.T, c client.Client, id string) workflows.Status {
	t.Helper()
	st := waitFor(t, c, id, "the live link, checked and healthy", func(st workflows.Status) bool {
		return idle(workflows.PhaseLive, 1)(st) && st.Health.Healthy
	})
	require.NotNil(t, st.Spec)
	return st
}

// checkNow asks the link for a health check at once and waits until it
// has been made and shows what want says.
func checkNow(t *testing.T, c client.Client, id, what string, want func(workflows.Status) bool) workflows.Status {
	t.Helper()
	before := status(t, c, id)
	require.NotNil(t, before.Health)
	signal(t, c, id, workflows.SignalCheckNow, nil)
	return waitFor(t, c, id, what, func(st workflows.Status) bool {
		return st.Health != nil && st.Health.Checks > before.Health.Checks && want(st)
	})
}

// checkCost measures the cloud calls of one health check of an idle,
// healthy live link: counts before, check-now, counts after. It returns
// the counts before and the check's own.
func checkCost(t *testing.T, c client.Client, id string, counts func() map[string]int) (before, check map[string]int) {
	t.Helper()
	healthyLive(t, c, id)
	before = counts()
	checkNow(t, c, id, "one more health check", func(st workflows.Status) bool { return st.Phase == workflows.PhaseLive })
	return before, minus(counts(), before)
}

// minus is a - b, by key, leaving out what is 0.
func minus(a, b map[string]int) map[string]int {
	out := maps.Clone(a)
	for k, n := range b {
		out[k] -= n
	}
	maps.DeleteFunc(out, func(_ string, n int) bool { return n == 0 })
	return out
}

// currentDetails are the run's current details, as the Web UI shows them
// (the SDK answers them to the built-in metadata query).
func currentDetails(t *testing.T, c client.Client, id string) string {
	t.Helper()
	v, err := c.QueryWorkflow(t.Context(), id, "", "__temporal_workflow_metadata")
	require.NoError(t, err)
	var md sdkpb.WorkflowMetadata
	require.NoError(t, v.Get(&md))
	return md.GetCurrentDetails()
}

func planActions(plan []workflows.PlanStep) []string {
	var out []string
	for _, s := range plan {
		out = append(out, s.Action)
	}
	return out
}

// addPort sends a change adding svc to the live link, requested by
// requester, checks its plan, sees the requester refused at gate
// apply-change, has alice approve it, and waits until the change is
// applied and the link checked again. It returns the link's status then.
func addPort(t *testing.T, c client.Client, id, requester string, svc request.Service) workflows.Status {
	t.Helper()
	before := healthyLive(t, c, id)
	require.NotContains(t, before.Spec.Services, svc)
	ch := request.Change{RequestedBy: requester, Reason: "the customer adds " + svc.Name, AddServices: []request.Service{svc}}
	var res workflows.ChangeResult
	require.NoError(t, updateInto(c, id, workflows.UpdateChange, ch, &res))
	assert.True(t, strings.HasPrefix(res.WorkflowID, id+"/change/"), res.WorkflowID)
	assert.False(t, res.DryRun)
	assert.Empty(t, res.Outcome, "answered with the plan, before the gate")
	assert.Contains(t, planActions(res.Plan), fmt.Sprintf("open ports %d", svc.Port))

	st := waitFor(t, c, id, "gate apply-change", gate(workflows.GateApplyChange))
	assert.Equal(t, workflows.PhaseChanging, st.Phase)
	assert.Equal(t, res.WorkflowID, st.Activity)
	_, err := update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateApplyChange, Approver: requester})
	require.ErrorContains(t, err, "cannot approve it", "the requester never approves")
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateApplyChange, Approver: alice, Comment: "plan checked"})
	require.NoError(t, err)

	st = waitFor(t, c, id, "the change applied and the link checked again", func(st workflows.Status) bool {
		return idle(workflows.PhaseLive, before.Health.Checks+1)(st) && slices.Contains(st.Spec.Services, svc)
	})
	assert.True(t, st.Health.Healthy, "the new port checks out: %v", st.Health.Problems)
	assert.Contains(t, auditOf(st), "linkwright: change applied")
	return st
}

// tearDown sends the teardown, requested by requester, has alice approve
// it at gate teardown, and returns the live link's result.
func tearDown(t *testing.T, c client.Client, id, requester string) workflows.Result {
	t.Helper()
	runID := liveRun(t, c, id)
	var res workflows.ChangeResult
	require.NoError(t, updateInto(c, id, workflows.UpdateTeardown, request.Teardown{RequestedBy: requester, Reason: "the customer leaves"}, &res))
	assert.Equal(t, id+"/teardown", res.WorkflowID)
	assert.Contains(t, planActions(res.Plan), "read the cloud back")
	st := waitFor(t, c, id, "gate teardown", gate(workflows.GateTeardown))
	assert.Equal(t, workflows.PhaseTearingDown, st.Phase)
	_, err := update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateTeardown, Approver: requester})
	require.ErrorContains(t, err, "cannot approve it")
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateTeardown, Approver: alice})
	require.NoError(t, err)

	var out workflows.Result
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	require.NoError(t, c.GetWorkflow(ctx, id, runID).Get(ctx, &out), "the live link ends")
	assert.Equal(t, workflows.OutcomeTornDown, out.Outcome)
	assert.Equal(t, workflows.PhaseTornDown, out.Status.Phase)
	return out
}

// nothingLeft asserts that the cloud holds nothing of the link: none of
// its ports open, no account allowed, no connection or platform endpoint
// that is not closed.
func nothingLeft(t *testing.T, inv cloud.Inventory, ports []int) {
	t.Helper()
	for _, p := range ports {
		assert.NotContains(t, inv.OpenPorts, p, "port %d closed", p)
	}
	assert.Empty(t, inv.Accounts, "no account allowed")
	for _, cn := range inv.Connections {
		assert.True(t, cn.State.Terminal(), "connection %s from %s is %s", cn.ID, cn.Account, cn.State)
	}
	for _, ep := range inv.Endpoints {
		assert.True(t, ep.State.Terminal(), "platform endpoint %s into %s is %s", ep.ID, ep.Service, ep.State)
	}
}

// The whole life of a link on the simulated cloud: a bidirectional
// enablement becomes the live link; test-connection answers per port; a
// change adds a port after an approver other than its requester approves
// it; a target broken by hand degrades the link (status and Web UI say
// why) and its repair brings it back; the teardown, approved, removes
// everything and ends the link torn-down; and the ID is free for a new
// enablement.
func TestIntegrationLiveLinkLifeOnTheSimulatedCloud(t *testing.T) {
	c := devtest.Client(t)
	cfg := testConfig(t)
	startWorker(t, c, cfg)
	const port = 35434
	req := request.Request{
		Company: "Acme Corp", RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5", Environment: "production",
		Cloud: "aws", Region: "us-east-1", CustomerAccount: account, ConnectionType: "bidirectional",
		Services:                []request.Service{{Name: "mysql", Port: 3306}},
		CustomerEndpointService: custSvc, CustomerServicePorts: []int{port},
	}
	id := req.WorkflowID()
	simCloud := sim.Open(cfg.SimDir())
	env := platformService(t, cfg, cloud.EnvRef{Cloud: "aws", Project: req.ProjectID, Environment: req.Environment})
	res := driveBidirectional(t, c, req, simCustomer{simCloud}, env.ServiceName, env.Principal)

	// Live: the spec the enablement built, and a first check at once.
	st := healthyLive(t, c, id)
	assert.Equal(t, req.Services, st.Spec.Services)
	assert.Equal(t, []string{account}, st.Spec.Accounts)
	require.Len(t, st.Spec.Reverse, 1)
	assert.Equal(t, res.Status.ReverseEndpointID, st.Spec.Reverse[0].EndpointID)
	assert.Equal(t, res.Status.Ticket, st.Ticket)
	assert.Equal(t, workflows.WaitingOnNone, st.WaitingOn)
	assert.Empty(t, st.Health.Problems)

	// test-connection: DNS and TCP through the reverse endpoint, per port.
	var tr workflows.TestResult
	require.NoError(t, updateInto(c, id, workflows.UpdateTestConnection, workflows.TestConnection{}, &tr))
	assert.True(t, tr.OK, "%v", tr.Problems)
	require.Len(t, tr.Results, 1)
	assert.Equal(t, port, tr.Results[0].Port)
	assert.True(t, tr.Results[0].OK(), tr.Results[0].Diagnosis)
	err := updateInto(c, id, workflows.UpdateTestConnection, workflows.TestConnection{Port: 1}, &tr)
	require.ErrorContains(t, err, "port 1 is not a port of this link's reverse connections")

	// A change adds a port: planned, approved by someone other than its
	// requester, applied; the port is open in the cloud.
	amqp := request.Service{Name: "amqp", Port: 5672}
	st = addPort(t, c, id, bob, amqp)
	assert.Equal(t, []request.Service{{Name: "mysql", Port: 3306}, amqp}, st.Spec.Services)
	inv, err := simCloud.Inventory(t.Context(), env.EnvRef, nil)
	require.NoError(t, err)
	assert.Contains(t, inv.OpenPorts, 5672, "the port is open in the cloud")

	// A target broken by hand: the next check degrades the link, and the
	// status and the Web UI's current details say why.
	require.NoError(t, simCloud.ByHand(env.EnvRef).BreakTarget(3306))
	st = checkNow(t, c, id, "the link degraded", phase(workflows.PhaseDegraded))
	require.False(t, st.Health.Healthy)
	require.NotEmpty(t, st.Health.Problems)
	problem := strings.Join(st.Health.Problems, "; ")
	assert.Contains(t, problem, "port 3306: the platform's targets are unhealthy")
	assert.Equal(t, workflows.WaitingOnOperator, st.WaitingOn)
	details := currentDetails(t, c, id)
	assert.Contains(t, details, string(workflows.PhaseDegraded))
	assert.Contains(t, details, "port 3306: the platform's targets are unhealthy", "the Web UI says what fails")

	// Repaired, the next check finds it live again.
	require.NoError(t, simCloud.ByHand(env.EnvRef).RepairTarget(3306))
	st = checkNow(t, c, id, "the link recovered", phase(workflows.PhaseLive))
	assert.True(t, st.Health.Healthy)
	assert.Empty(t, st.Health.Problems)
	assert.NotContains(t, currentDetails(t, c, id), "unhealthy")
	actions := auditOf(st)
	assert.Contains(t, actions, "linkwright: degraded")
	assert.Contains(t, actions, "linkwright: recovered")

	// The teardown, approved, ends the link; nothing of it is left.
	liveRunID := liveRun(t, c, id)
	out := tearDown(t, c, id, bob)
	assert.Contains(t, auditOf(out.Status), bob+": "+workflows.OutcomeTornDown)
	inv, err = simCloud.Inventory(t.Context(), env.EnvRef, []string{custSvc})
	require.NoError(t, err)
	nothingLeft(t, inv, []int{3306, 5672})
	_, live := historyLength(t, c, id, liveRunID)
	_, change := historyLength(t, c, id+"/change/1", "")
	_, teardown := historyLength(t, c, id+"/teardown", "")
	record(t, map[string]*historypb.History{"live.json": live, "change-add-port.json": change, "teardown.json": teardown})

	// The ID is free: a new enablement starts under it (and is withdrawn).
	again := start(t, c, req)
	waitFor(t, c, id, "the new enablement waiting for the customer", phase(workflows.PhaseAwaitingConnection))
	_, err = update(c, id, workflows.Cancel, workflows.Cancellation{Approver: alice, Reason: "end of test"})
	require.NoError(t, err)
	var res2 workflows.Result
	require.NoError(t, again.Get(t.Context(), &res2))
	assert.Equal(t, workflows.OutcomeCancelled, res2.Outcome)
	assert.NotEqual(t, res.Status.Ticket, res2.Status.Ticket, "a new ticket for a new link")
}

// The same life on the AWS provider against moto: enablement, live, a
// change adding a port, teardown; and what one health check costs.
func TestIntegrationLiveLinkLifeOnAWS(t *testing.T) {
	c := devtest.Client(t)
	s := startAWSWorker(t, c, "awsmoto00002")
	req := s.request()
	id := req.WorkflowID()
	driveBidirectional(t, c, req, s.x, s.plat.ServiceName, "arn:aws:iam::"+awstest.PlatformAccount+":root")

	_, check := checkCost(t, c, id, s.x.CallCounts)
	n, detail := summarize(check)
	t.Logf("AWS (moto): %d EC2 and ELB calls per health check of a bidirectional link with 2 ports: %s", n, detail)
	require.Positive(t, n, "a health check reads the cloud")

	addPort(t, c, id, bob, request.Service{Name: "amqp", Port: 5672})
	_, check = checkCost(t, c, id, s.x.CallCounts)
	n, detail = summarize(check)
	t.Logf("AWS (moto): %d EC2 and ELB calls per health check with 3 ports: %s", n, detail)

	p, err := awsprovider.New(t.Context(), s.opts)
	require.NoError(t, err)
	inv, err := p.Inventory(t.Context(), s.ref, nil)
	require.NoError(t, err)
	assert.Contains(t, inv.OpenPorts, 5672, "the port is open in the cloud")

	tearDown(t, c, id, bob)
	inv, err = p.Inventory(t.Context(), s.ref, []string{custServiceAWS})
	require.NoError(t, err)
	nothingLeft(t, inv, []int{3306, 2222, 5672})
}

// The same life on the Azure provider against the armnetwork fakes.
func TestIntegrationLiveLinkLifeOnAzure(t *testing.T) {
	c := devtest.Client(t)
	s := startAzureWorker(t, c)
	req := s.request()
	id := req.WorkflowID()
	driveBidirectional(t, c, req, s.m, s.plat.Alias, aztest.PlatformSubscription)

	_, check := checkCost(t, c, id, s.tr.CallCounts)
	n, detail := summarize(check)
	t.Logf("Azure (fakes): %d ARM calls per health check of a bidirectional link with 1 port: %s", n, detail)
	require.Positive(t, n, "a health check reads the cloud")

	addPort(t, c, id, bob, request.Service{Name: "amqp", Port: 5672})
	_, check = checkCost(t, c, id, s.tr.CallCounts)
	n, detail = summarize(check)
	t.Logf("Azure (fakes): %d ARM calls per health check with 2 ports: %s", n, detail)

	inv, err := s.provider.Inventory(t.Context(), s.ref, nil)
	require.NoError(t, err)
	assert.Contains(t, inv.OpenPorts, 5672, "the port is open in the cloud")

	tearDown(t, c, id, bob)
	inv, err = s.provider.Inventory(t.Context(), s.ref, []string{custServiceAzure})
	require.NoError(t, err)
	nothingLeft(t, inv, []int{5432, 5672})
}

// History stays small as a live link checks itself: one run's history
// for 24 health checks (healthEvery 1s) is counted on the real server.
func TestIntegrationLiveLinkHistoryPerCheck(t *testing.T) {
	const checks = 24
	c := devtest.Client(t)
	cfg := testConfig(t)
	cfg.Policy.HealthEvery = config.Duration(time.Second)
	startWorker(t, c, cfg)
	req := request.Request{
		Company: "Initech", RequestedBy: "sam@platform.example", ProjectID: "eu7k2m9p4q1xz", Environment: "production",
		Cloud: "aws", Region: "eu-west-1", CustomerAccount: "310000000003", ConnectionType: "unidirectional",
		Services: []request.Service{{Name: "pg", Port: 5432}},
	}
	id := req.WorkflowID()
	env := platformService(t, cfg, cloud.EnvRef{Cloud: "aws", Project: req.ProjectID, Environment: req.Environment})
	run := start(t, c, req)
	waitFor(t, c, id, "the customer's turn", phase(workflows.PhaseAwaitingConnection))
	_, err := sim.Open(cfg.SimDir()).Customer("aws", req.CustomerAccount).CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	signal(t, c, id, workflows.SignalCustomerEndpointCreated, nil)
	waitFor(t, c, id, "gate", gate(workflows.GateAcceptConnection))
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateAcceptConnection, Approver: alice})
	require.NoError(t, err)
	waitFor(t, c, id, "confirmation", phase(workflows.PhaseAwaitingConfirmation))
	signal(t, c, id, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true})
	completed(t, c, run)
	runID := liveRun(t, c, id)

	// One check a second: wait for the 25th to have begun, so that the
	// 24th is whole in the history.
	deadline := time.Now().Add(3 * time.Minute)
	var st workflows.Status
	for {
		st = statusOfRun(t, c, id, runID)
		if st.Health != nil && st.Health.Checks > checks {
			break
		}
		require.True(t, time.Now().Before(deadline), "timed out waiting for %d checks; last status: %+v", checks+1, st.Health)
		time.Sleep(250 * time.Millisecond)
	}
	assert.True(t, st.Health.Healthy, "%v", st.Health.Problems)

	// The events of the run up to the 25th check's start: the run's
	// start, 24 whole checks and the wait for the next.
	_, h := historyLength(t, c, id, runID)
	scheduled, n := 0, len(h.Events)
	for i, ev := range h.Events {
		if ev.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
			ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "CheckLink" {
			scheduled++
			if scheduled == checks+1 {
				n = i
				break
			}
		}
	}
	require.Equal(t, checks+1, scheduled, "the history holds %d checks", checks+1)
	t.Logf("live link: %d history events for %d checks (%d in the run so far)", n, checks, len(h.Events))
	// Each check is a timer, an activity, a memo upsert, a local activity
	// marker and their workflow tasks: about a dozen events. A run
	// continues as new long before its history grows large.
	bound := checks*15 + 100
	assert.Less(t, n, bound, "history for %d checks must stay below %d events", checks, bound)
	endLink(t, c, id)
}
