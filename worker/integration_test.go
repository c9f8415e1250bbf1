package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/workflows"
)

func TestMain(m *testing.M) { devtest.Main(m) }

const (
	alice   = "alice@platform.example"
	bob     = "bob@platform.example"
	account = "123456789012"
	custSvc = "com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210"
)

func testConfig(t *testing.T) config.Config {
	t.Setenv("LINKWRIGHT_CONFIG", "")
	cfg := config.Default()
	cfg.StateDir = t.TempDir()
	cfg.ActivitiesPerSecond = 200
	cfg.Budgets = config.Budgets{Read: 200, Poll: 200, Mutate: 200, Accept: 200}
	cfg.Policy.Approvers = []string{alice, bob}
	cfg.Policy.PollInitial = config.Duration(200 * time.Millisecond)
	cfg.Policy.PollMax = config.Duration(time.Second)
	cfg.Policy.WebUI = "http://localhost:8233/namespaces/default"
	return cfg
}

func startWorker(t *testing.T, c client.Client, cfg config.Config, opts ...app.Option) func() {
	t.Helper()
	w, stop, err := app.NewWorker(c, cfg, zap.NewNop(), opts...)
	require.NoError(t, err)
	require.NoError(t, w.Start())
	var once bool
	done := func() {
		if !once {
			once = true
			w.Stop()
			stop()
		}
	}
	t.Cleanup(done)
	return done
}

func start(t *testing.T, c client.Client, req request.Request) client.WorkflowRun {
	t.Helper()
	data, err := json.Marshal(req)
	require.NoError(t, err)
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: req.WorkflowID(), TaskQueue: workflows.TaskQueue, StaticSummary: "PrivateLink for " + req.Company,
		// A run of an earlier test still going on this ID is a test that
		// did not wait for its own end: fail here, not later and obscurely.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, workflows.EnablementWorkflow, json.RawMessage(data))
	require.NoError(t, err)
	return run
}

func status(t *testing.T, c client.Client, id string) workflows.Status {
	t.Helper()
	v, err := c.QueryWorkflow(context.Background(), id, "", workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.Status
	require.NoError(t, v.Get(&st))
	return st
}

func waitFor(t *testing.T, c client.Client, id, what string, ok func(workflows.Status) bool) workflows.Status {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last workflows.Status
	for time.Now().Before(deadline) {
		// A fresh value each time: decoding into the last one would keep
		// the fields this answer leaves out (omitempty), such as a gate
		// that has since closed.
		var st workflows.Status
		v, err := c.QueryWorkflow(context.Background(), id, "", workflows.QueryStatus)
		if err == nil && v.Get(&st) == nil {
			if ok(st) {
				return st
			}
			last = st
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last status: phase %s, gate %q, under way %q, next %q", what, last.Phase, last.Gate, last.Activity, last.Next)
	return last
}

// waitPolled waits until the workflow's poll activity of the given type has
// run at least once and found nothing (its next attempt is scheduled):
// state the workflow has reached, never a guess at timing.
func waitPolled(t *testing.T, c client.Client, id, activityType string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		d, err := c.DescribeWorkflowExecution(context.Background(), id, "")
		if err == nil {
			for _, pa := range d.PendingActivities {
				if pa.GetActivityType().GetName() == activityType && pa.GetAttempt() >= 2 {
					return
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for the first %s poll of %s", activityType, id)
}

// signalsReceived counts the signals in the workflow's history.
func signalsReceived(t *testing.T, c client.Client, id string) int {
	t.Helper()
	_, h := historyLength(t, c, id, "")
	n := 0
	for _, ev := range h.Events {
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED {
			n++
		}
	}
	return n
}

// completed waits for an enablement run to end and checks that it
// completed: a completed enablement continues as new, under the same ID,
// into the live link (PrivateLinkLive), so its end is a continue-as-new,
// not a result. It returns the enablement's own final status (queried on
// its closed run) as its result, and what it handed the live link. The
// live link is left running for the test, and terminated when the test
// ends if the test did not end it.
func completed(t *testing.T, c client.Client, run client.WorkflowRun) (workflows.Result, workflows.LiveInput) {
	t.Helper()
	id := run.GetID()
	t.Cleanup(func() { endLink(t, c, id) })
	// Without DisableFollowingRuns, Get follows the chain into the live
	// link, which runs for ever.
	err := run.GetWithOptions(t.Context(), nil, client.WorkflowRunGetOptions{DisableFollowingRuns: true})
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, err, &can, "a completed enablement continues as the live link")
	require.Equal(t, workflows.LiveWorkflow, can.WorkflowType.Name, "an enablement continues only as the live link")
	var in workflows.LiveInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
	st := statusOfRun(t, c, id, run.GetRunID())
	require.Equal(t, workflows.PhaseCompleted, st.Phase)
	return workflows.Result{Outcome: st.Outcome, Status: st}, in
}

// statusOfRun queries one run, running or closed (a closed run is
// answered by a worker replaying its history: retried while no worker
// is up, as when the chaos test has just killed it).
func statusOfRun(t *testing.T, c client.Client, id, runID string) workflows.Status {
	t.Helper()
	var st workflows.Status
	var err error
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		var v converter.EncodedValue
		if v, err = c.QueryWorkflow(ctx, id, runID, workflows.QueryStatus); err == nil {
			err = v.Get(&st)
		}
		cancel()
		if err == nil {
			return st
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("cannot query run %s of %s: %v", runID, id, err)
	return st
}

// endLink terminates whatever still runs under the link's ID (a live link
// the test did not tear down), so that no test leaks a workflow into the
// next one: the start helper refuses a running ID.
func endLink(t *testing.T, c client.Client, id string) {
	t.Helper()
	err := c.TerminateWorkflow(context.Background(), id, "", "end of test")
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		t.Errorf("cannot end the link %s: %v", id, err)
	}
}

// liveRun is the current run of a link's ID: the live link once its
// enablement has completed.
func liveRun(t *testing.T, c client.Client, id string) string {
	t.Helper()
	d, err := c.DescribeWorkflowExecution(t.Context(), id, "")
	require.NoError(t, err)
	require.Equal(t, workflows.LiveWorkflow, d.GetWorkflowExecutionInfo().GetType().GetName())
	return d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
}

func phase(p workflows.Phase) func(workflows.Status) bool {
	return func(st workflows.Status) bool { return st.Phase == p }
}

func gate(g string) func(workflows.Status) bool {
	return func(st workflows.Status) bool { return st.Gate == g }
}

func update(c client.Client, id, name string, arg any) (workflows.Status, error) {
	ctx := context.Background()
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	var st workflows.Status
	if err == nil {
		err = h.Get(ctx, &st)
	}
	return st, err
}

func signal(t *testing.T, c client.Client, id, name string, arg any) {
	t.Helper()
	require.NoError(t, c.SignalWorkflow(context.Background(), id, "", name, arg))
}

func historyLength(t *testing.T, c client.Client, id, runID string) (int, *historypb.History) {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	return len(h.Events), h
}

// record writes histories for the replay tests of package workflows when
// LINKWRIGHT_RECORD_HISTORY names a directory (workflows/testdata).
func record(t *testing.T, hists map[string]*historypb.History) {
	t.Helper()
	dir := os.Getenv("LINKWRIGHT_RECORD_HISTORY")
	if dir == "" {
		return
	}
	for name, hist := range hists {
		data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
}

func platformService(t *testing.T, cfg config.Config, ref cloud.EnvRef) cloud.Environment {
	env, err := sim.Open(cfg.SimDir()).Environment(context.Background(), ref)
	require.NoError(t, err)
	return env
}

// A bidirectional enablement, driven end to end through the client API on
// the simulated cloud, against a real server and the real worker.
func TestIntegrationBidirectionalEnablement(t *testing.T) {
	c := devtest.Client(t)
	cfg := testConfig(t)
	startWorker(t, c, cfg)
	const port = 35432
	req := request.Request{
		Company: "Acme Corp", RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5", Environment: "production",
		Cloud: "aws", Region: "us-east-1", CustomerAccount: account, ConnectionType: "bidirectional",
		Services:                []request.Service{{Name: "mysql", Port: 3306}, {Name: "sftp", Port: 2222}},
		CustomerEndpointService: custSvc, CustomerServicePorts: []int{port},
	}
	id := req.WorkflowID()
	env := platformService(t, cfg, cloud.EnvRef{Cloud: "aws", Project: req.ProjectID, Environment: req.Environment})
	customer := sim.Open(cfg.SimDir()).Customer("aws", account)
	run := start(t, c, req)

	waitFor(t, c, id, "the customer's turn", phase(workflows.PhaseAwaitingConnection))
	_, err := customer.CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	signal(t, c, id, workflows.SignalCustomerEndpointCreated, workflows.CustomerEvent{Detail: "created"})

	waitFor(t, c, id, "gate accept-connection", gate(workflows.GateAcceptConnection))
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateAcceptConnection, Approver: "mallory@elsewhere.example"})
	require.ErrorContains(t, err, "is not an approver")
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: "no-such-gate", Approver: alice})
	require.ErrorContains(t, err, `"gate" must be one of`)
	st, err := update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateAcceptConnection, Approver: alice, Comment: "account verified"})
	require.NoError(t, err)
	assert.Contains(t, st.Audit[len(st.Audit)-1].Action, "approve accept-connection (update)")

	waitFor(t, c, id, "the customer's grant", phase(workflows.PhaseAwaitingGrant))
	require.NoError(t, customer.Grant(custSvc, env.Principal, []int{port}))
	signal(t, c, id, workflows.SignalCustomerAccessGranted, nil)

	waitFor(t, c, id, "gate create-reverse-endpoint", gate(workflows.GateCreateReverseEndpoint))
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateCreateReverseEndpoint, Approver: bob})
	require.NoError(t, err)

	st = waitFor(t, c, id, "the customer's acceptance", phase(workflows.PhaseAwaitingEndpoint))
	require.NotEmpty(t, st.ReverseEndpointID)
	require.NoError(t, customer.AcceptEndpoint(st.ReverseEndpointID))
	signal(t, c, id, workflows.SignalCustomerConnectionAccepted, nil)

	waitFor(t, c, id, "the customer's confirmation", phase(workflows.PhaseAwaitingConfirmation))
	signal(t, c, id, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true, Detail: "works"})

	res, handoff := completed(t, c, run)
	assert.Equal(t, workflows.OutcomeCompleted, res.Outcome)
	require.Len(t, res.Status.Verification, 1)
	assert.True(t, res.Status.Verification[0].OK(), res.Status.Verification[0].Diagnosis)
	// The link lives on under the same ID, with the spec the enablement built.
	assert.Equal(t, res.Status.Ticket, handoff.Spec.Ticket)
	require.Len(t, handoff.Spec.Reverse, 1)
	assert.Equal(t, res.Status.ReverseEndpointID, handoff.Spec.Reverse[0].EndpointID)
	live := waitFor(t, c, id, "the live link", phase(workflows.PhaseLive))
	require.NotNil(t, live.Spec)
	assert.Equal(t, []request.Service{{Name: "mysql", Port: 3306}, {Name: "sftp", Port: 2222}}, live.Spec.Services)

	_, comments, err := ticket.NewFile(cfg.TicketDir()).Read(res.Status.Ticket)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(comments), 8, "the ticket tells the story")

	n, h := historyLength(t, c, id, run.GetRunID())
	child, ch := historyLength(t, c, id+"/reverse", "")
	t.Logf("history events of a completed bidirectional enablement: %d (reverse-link child: %d)", n, child)
	record(t, map[string]*historypb.History{"enablement-bidirectional.json": h, "reverse-link.json": ch})

	// The Web UI finds it by search attribute (this run: the server may
	// hold earlier runs of the same link from other tests).
	query := fmt.Sprintf("PrivateLinkProject = '%s' AND PrivateLinkPhase = 'completed' AND PrivateLinkTicket = '%s' AND RunId = '%s'", req.ProjectID, res.Status.Ticket, run.GetRunID())
	require.Eventually(t, func() bool {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		return err == nil && len(resp.Executions) == 1 && resp.Executions[0].Execution.WorkflowId == id
	}, 15*time.Second, 200*time.Millisecond, "visibility query %s", query)
}

// A malformed request fails at once with every problem, and changes
// nothing in the simulated cloud.
func TestIntegrationInvalidRequestFailsAtOnce(t *testing.T) {
	c := devtest.Client(t)
	cfg := testConfig(t)
	startWorker(t, c, cfg)
	simCloud := sim.Open(cfg.SimDir())
	before, _ := os.ReadFile(filepath.Join(cfg.SimDir(), "cloud.json"))
	data := []byte(`{"company": "Contoso", "requestedBy": "dana@platform.example", "projectId": "azure1234abcd", "environment": "production",
		"cloud": "azure", "region": "westeurope", "customerAccount": "12345", "connectionType": "unidirectional",
		"services": [{"name": "web", "port": 443}, {"name": "ssh", "port": 22}]}`)
	startedAt := time.Now()
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "privatelink/azure1234abcd/production/azure", TaskQueue: workflows.TaskQueue},
		workflows.EnablementWorkflow, json.RawMessage(data))
	require.NoError(t, err)
	err = run.Get(context.Background(), nil)
	require.Error(t, err)
	assert.Less(t, time.Since(startedAt), 10*time.Second, "fails at once, not after retries")
	for _, want := range []string{"3 problems", `customerAccount "12345"`, `services[0].port "443" is HTTPS`, `services[1].port "22" is SSH`} {
		assert.Contains(t, err.Error(), want)
	}
	after, _ := os.ReadFile(filepath.Join(cfg.SimDir(), "cloud.json"))
	assert.Equal(t, string(before), string(after), "nothing changed in the simulated cloud")
	env, err := simCloud.Environment(context.Background(), cloud.EnvRef{Cloud: "azure", Project: "azure1234abcd", Environment: "production"})
	require.NoError(t, err)
	targets, err := simCloud.TargetHealth(context.Background(), env.EnvRef, []int{443, 22})
	require.NoError(t, err)
	assert.False(t, targets[0].Healthy || targets[1].Healthy)
	st := status(t, c, run.GetID())
	assert.Equal(t, workflows.PhaseInvalid, st.Phase)
	assert.Len(t, st.Problems, 3)
}

// A worker stopped mid-wait and a new one started lose nothing: the run
// picks up where it was, and no step is done twice.
func TestIntegrationWorkerRestartMidWait(t *testing.T) {
	c := devtest.Client(t)
	cfg := testConfig(t)
	stopFirst := startWorker(t, c, cfg)
	req := request.Request{
		Company: "Globex", RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5", Environment: "staging",
		Cloud: "aws", Region: "us-east-1", CustomerAccount: "210000000099", ConnectionType: "unidirectional",
		Services: []request.Service{{Name: "redis", Port: 6379}},
	}
	id := req.WorkflowID()
	env := platformService(t, cfg, cloud.EnvRef{Cloud: "aws", Project: req.ProjectID, Environment: req.Environment})
	run := start(t, c, req)
	before := waitFor(t, c, id, "the customer's turn", phase(workflows.PhaseAwaitingConnection))

	stopFirst()
	// While no worker runs, the customer connects and says so.
	_, err := sim.Open(cfg.SimDir()).Customer("aws", req.CustomerAccount).CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	signal(t, c, id, workflows.SignalCustomerEndpointCreated, nil)
	time.Sleep(500 * time.Millisecond)

	startWorker(t, c, cfg)
	st := waitFor(t, c, id, "gate accept-connection after the restart", gate(workflows.GateAcceptConnection))
	assert.Equal(t, before.Ticket, st.Ticket)
	assert.Equal(t, before.Audit, st.Audit[:len(before.Audit)], "the audit trail before the restart is intact")
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateAcceptConnection, Approver: alice})
	require.NoError(t, err)
	waitFor(t, c, id, "the customer's confirmation", phase(workflows.PhaseAwaitingConfirmation))
	signal(t, c, id, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true})
	res, _ := completed(t, c, run)
	assert.Equal(t, workflows.OutcomeCompleted, res.Outcome)
	counts := map[string]int{}
	for _, a := range res.Status.Audit {
		counts[a.Action]++
	}
	assert.Equal(t, 1, counts["opened ports"], "no step was done twice")
	assert.Equal(t, 1, counts["ticket"])
	assert.Equal(t, 1, counts["allowed the customer"])
}

// On a real server, a wait found by polling costs the same history whether
// it lasts two polls or forty: the polls are activity retries.
func TestIntegrationPollingAddsNoHistory(t *testing.T) {
	c := devtest.Client(t)
	cfg := testConfig(t)
	cfg.Policy.PollInitial = config.Duration(100 * time.Millisecond)
	cfg.Policy.PollMax = config.Duration(250 * time.Millisecond)
	startWorker(t, c, cfg)
	req := request.Request{
		Company: "Initech", RequestedBy: "sam@platform.example", ProjectID: "eu7k2m9p4q1xz", Environment: "production",
		Cloud: "aws", Region: "eu-west-1", CustomerAccount: "310000000001", ConnectionType: "unidirectional",
		Services: []request.Service{{Name: "pg", Port: 5432}},
	}
	env := platformService(t, cfg, cloud.EnvRef{Cloud: "aws", Project: req.ProjectID, Environment: req.Environment})
	lengths := map[time.Duration]int{}
	for _, wait := range []time.Duration{300 * time.Millisecond, 10 * time.Second} {
		customer := sim.Open(cfg.SimDir()).Customer("aws", req.CustomerAccount)
		run := start(t, c, req)
		waitFor(t, c, req.WorkflowID(), "the customer's turn", phase(workflows.PhaseAwaitingConnection))
		time.Sleep(wait)
		_, err := customer.CreateEndpoint(env.ServiceName) // no signal: the poll finds it
		require.NoError(t, err)
		waitFor(t, c, req.WorkflowID(), "gate", gate(workflows.GateAcceptConnection))
		_, err = update(c, req.WorkflowID(), workflows.Approve, workflows.Approval{Gate: workflows.GateAcceptConnection, Approver: alice})
		require.NoError(t, err)
		waitFor(t, c, req.WorkflowID(), "confirmation", phase(workflows.PhaseAwaitingConfirmation))
		signal(t, c, req.WorkflowID(), workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true})
		completed(t, c, run)
		lengths[wait], _ = historyLength(t, c, req.WorkflowID(), run.GetRunID())
		// Next round: the live link the enablement became ended, so that a
		// new enablement may start under the ID; a fresh customer account,
		// so the first round's endpoint does not count; and the ports
		// closed again, so that it opens them too (a run opens only the
		// ports it finds closed).
		endLink(t, c, req.WorkflowID())
		req.CustomerAccount = "310000000002"
		require.NoError(t, sim.Open(cfg.SimDir()).ClosePorts(context.Background(), env.EnvRef, req.Ports()))
	}
	t.Logf("history events: %v", lengths)
	short, long := lengths[300*time.Millisecond], lengths[10*time.Second]
	assert.InDelta(t, short, long, 4, "about 40 polls more must not mean more history")
}

// An enablement replaced with TerminateExisting undoes nothing; the next
// run finds what the terminated one made (ports, account, accepted
// connection, reverse endpoint), adopts it instead of making it again, says
// so in its audit trail, and completes the link.
func TestIntegrationTerminatedRunIsAdoptedByTheNext(t *testing.T) {
	c := devtest.Client(t)
	cfg := testConfig(t)
	startWorker(t, c, cfg)
	const port = 35433
	req := request.Request{
		Company: "Umbrella", RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5", Environment: "staging",
		Cloud: "aws", Region: "us-east-1", CustomerAccount: account, ConnectionType: "bidirectional",
		Services:                []request.Service{{Name: "pg", Port: 5432}},
		CustomerEndpointService: custSvc, CustomerServicePorts: []int{port},
	}
	id := req.WorkflowID()
	env := platformService(t, cfg, cloud.EnvRef{Cloud: "aws", Project: req.ProjectID, Environment: req.Environment})
	simCloud := sim.Open(cfg.SimDir())
	customer := simCloud.Customer("aws", account)
	first := start(t, c, req)
	made := driveToEndpointAcceptance(t, c, req, simCustomer{simCloud}, env.ServiceName, env.Principal)
	require.NotEmpty(t, made.ReverseEndpointID)

	data, err := json.Marshal(req)
	require.NoError(t, err)
	second, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: id, TaskQueue: workflows.TaskQueue, WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING,
	}, workflows.EnablementWorkflow, json.RawMessage(data))
	require.NoError(t, err)
	require.NotEqual(t, first.GetRunID(), second.GetRunID())
	require.Error(t, first.Get(context.Background(), nil), "the first run was terminated")

	adopted := waitFor(t, c, id, "the customer's acceptance, in the new run", phase(workflows.PhaseAwaitingEndpoint))
	assert.Equal(t, made.ReverseEndpointID, adopted.ReverseEndpointID, "the endpoint the first run made")
	pending, err := customer.PendingOnService(custSvc)
	require.NoError(t, err)
	require.Len(t, pending, 1, "no second endpoint into the customer's service")
	require.NoError(t, customer.AcceptEndpoint(adopted.ReverseEndpointID))
	signal(t, c, id, workflows.SignalCustomerConnectionAccepted, nil)
	waitFor(t, c, id, "the customer's confirmation", phase(workflows.PhaseAwaitingConfirmation))
	signal(t, c, id, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true})
	res, _ := completed(t, c, second)
	assert.Equal(t, workflows.OutcomeCompleted, res.Outcome)
	actions := auditOf(res.Status)
	for _, found := range []string{"linkwright: found ports open", "linkwright: found the customer allowed",
		"linkwright: found connections already accepted", "linkwright: found the reverse endpoint"} {
		assert.Contains(t, actions, found)
	}
	for _, made := range []string{"linkwright: opened ports", "linkwright: allowed the customer", "linkwright: created the reverse endpoint"} {
		assert.NotContains(t, actions, made, "the new run made nothing again")
	}
}
