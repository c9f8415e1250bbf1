package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/internal/ticket"
)

const (
	customerAccount = "123456789012"
	customerService = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
	alice           = "alice@platform.example"
	bob             = "bob@platform.example"
	sam             = "sam@platform.example" // the requester
)

// Monday 23 November 2026, 09:00 UTC: business days are easy to follow.
var monday = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func uniRequest() request.Request {
	return request.Request{
		Company: "Acme Corp", RequestedBy: sam, ProjectID: "abcd1234efgh5", Environment: "production",
		Cloud: "aws", Region: "us-east-1", CustomerAccount: customerAccount, ConnectionType: "unidirectional",
		Services: []request.Service{{Name: "mysql", Port: 3306}, {Name: "sftp", Port: 2222}},
	}
}

func biRequest(port int) request.Request {
	r := uniRequest()
	r.ConnectionType = "bidirectional"
	r.CustomerEndpointService = customerService
	r.CustomerServicePorts = []int{port}
	return r
}

type EnablementSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env     *testsuite.TestWorkflowEnvironment
	cloud   *sim.Cloud
	tracker *ticket.File
	policy  *config.Policy
	ref     cloud.EnvRef
	counter *commandCounter
	memos   *memoStore
	updates int
	// calls records the mutating cloud calls the activities made.
	calls *recorder
	// handoff is what a completed enablement handed the live link.
	handoff *LiveInput
	// completed is the enablement's status when it handed off.
	completed Status

	listeners *sim.Listeners
	resolver  *flakyResolver
	mu        sync.Mutex
	started   []activity.Info // every activity the run started
	// cloudCalls counts every provider call the activities made, by method.
	cloudCalls map[string]int
}

// memoStore stands in for the server's record of the reverse link's memo:
// what the reverse link upserts, its parent reads.
type memoStore struct {
	mu     sync.Mutex
	fields map[string]json.RawMessage
	// frozen keeps answering what was there when freeze was called, as if
	// every later report were lost.
	frozen map[string]json.RawMessage
}

func (m *memoStore) freeze() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.frozen = maps.Clone(m.fields)
}

func (m *memoStore) upsert(args mock.Arguments) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fields == nil {
		m.fields = map[string]json.RawMessage{}
	}
	for k, v := range args.Get(0).(map[string]any) {
		data, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		m.fields[k] = data
	}
}

func (m *memoStore) Memo(_ context.Context, _, _, field string) (json.RawMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.frozen != nil {
		return m.frozen[field], nil
	}
	return m.fields[field], nil
}

func TestEnablement(t *testing.T) {
	s := new(EnablementSuite)
	// Warnings and errors only: the test environment logs every poll.
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1}))))
	suite.Run(t, s)
}

func (s *EnablementSuite) SetupTest() {
	dir := s.T().TempDir()
	s.cloud = sim.Open(dir + "/cloud")
	s.cloud.Settle = 0
	s.tracker = ticket.NewFile(dir + "/tickets")
	// Fresh for every test: a run an earlier test left behind (a live link
	// it cancelled) may still read its own test's policy.
	policy := config.DefaultPolicy()
	s.policy = &policy
	s.policy.Approvers = []string{alice, bob}
	s.policy.WebUI = "http://localhost:8233/namespaces/default"
	s.ref = cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: "abcd1234efgh5", Environment: "production"}
	s.listeners = s.cloud.Listeners()
	s.T().Cleanup(s.listeners.Close)
	s.resolver = &flakyResolver{next: s.cloud.Resolver()}
	s.newEnv()
}

// newEnv starts a new test environment (a new run, a new worker) on the
// same simulated cloud and tickets.
func (s *EnablementSuite) newEnv() {
	s.env = s.NewTestWorkflowEnvironment()
	s.counter = &commandCounter{}
	s.started = nil
	s.cloudCalls = nil
	s.env.SetWorkerOptions(worker.Options{Interceptors: []interceptorWorker{s.counter, &activities.Heartbeats{}}})
	// The server keeps the reverse link's memo; here the test does.
	s.memos = &memoStore{}
	s.env.OnUpsertMemo(mock.Anything).Run(s.memos.upsert).Return(nil).Maybe()
	s.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.started = append(s.started, *info)
	})
	s.env.SetStartTime(monday)
	s.env.SetTestTimeout(30 * time.Second)
	s.env.RegisterWorkflow(PrivateLinkEnablement)
	s.env.RegisterWorkflow(PrivateLinkReverseLink)
	s.env.RegisterWorkflow(PrivateLinkLive)
	s.env.RegisterWorkflow(PrivateLinkChange)
	s.env.RegisterWorkflow(PrivateLinkTeardown)
	s.calls = &recorder{Provider: cloud.Wrap(s.cloud, s.countCall)}
	policy := s.policy
	s.env.RegisterActivity(&activities.Activities{
		Cloud: s.calls, Tracker: s.tracker, Prober: &simProber{listeners: s.listeners, probe: &probe.Prober{Resolver: s.resolver, Timeout: time.Second}},
		Policy: func() config.Policy { return *policy }, Workflows: s.memos,
		Confirm: []time.Duration{10 * time.Millisecond},
	})
}

func (s *EnablementSuite) countCall(_ context.Context, _ cloud.EnvRef, op string, call func() error) error {
	s.mu.Lock()
	if s.cloudCalls == nil {
		s.cloudCalls = map[string]int{}
	}
	s.cloudCalls[op]++
	s.mu.Unlock()
	return call()
}

func (s *EnablementSuite) callCount() (n int, byOp map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.cloudCalls {
		n += c
	}
	return n, maps.Clone(s.cloudCalls)
}

// simProber probes the simulated cloud's endpoints through a resolver the
// test controls.
type simProber struct {
	listeners *sim.Listeners
	probe     *probe.Prober
}

func (p *simProber) Probe(ctx context.Context, host string, ports []int) []probe.Result {
	_ = p.listeners.Reconcile()
	return p.probe.Probe(ctx, host, ports)
}

// flakyResolver fails its next lookups temporarily, as a resolver that
// cannot answer now does, then answers from next.
type flakyResolver struct {
	mu       sync.Mutex
	failNext int
	next     probe.Resolver
}

func (f *flakyResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	f.mu.Lock()
	fail := f.failNext > 0
	if fail {
		f.failNext--
	}
	f.mu.Unlock()
	if fail {
		return nil, &net.DNSError{Err: "server misbehaving", Name: host, IsTemporary: true}
	}
	return f.next.LookupHost(ctx, host)
}

func (s *EnablementSuite) start(req request.Request) {
	data, err := json.Marshal(req)
	s.Require().NoError(err)
	s.startRaw(req.WorkflowID(), data)
}

func (s *EnablementSuite) startRaw(id string, data []byte) {
	s.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id, TaskQueue: TaskQueue})
	s.env.ExecuteWorkflow(PrivateLinkEnablement, json.RawMessage(data))
}

func (s *EnablementSuite) at(d time.Duration, fn func()) { s.env.RegisterDelayedCallback(fn, d) }

// atWhen runs fn after d, or at the first hour after it at which the
// workflow's status satisfies ok: a customer acting without telling us is
// found by a poll whose interval grows with the wait, so a test waits for
// the state the workflow reached, not for a guessed time.
func (s *EnablementSuite) atWhen(d time.Duration, ok func(Status) bool, fn func()) {
	s.at(d, func() {
		if ok(s.status()) {
			fn()
			return
		}
		s.atWhen(time.Hour, ok, fn)
	})
}

func gateOpen(g string) func(Status) bool { return func(st Status) bool { return st.Gate == g } }

func inPhase(p Phase) func(Status) bool { return func(st Status) bool { return st.Phase == p } }

func (s *EnablementSuite) status() Status {
	v, err := s.env.QueryWorkflow(QueryStatus)
	s.Require().NoError(err)
	var st Status
	s.Require().NoError(v.Get(&st))
	return st
}

func (s *EnablementSuite) result() Result {
	s.Require().True(s.env.IsWorkflowCompleted())
	if s.handedOff() {
		return Result{Outcome: OutcomeCompleted, Status: s.status()}
	}
	var r Result
	s.Require().NoError(s.env.GetWorkflowResult(&r))
	return r
}

// runError is the run's error, where continuing as the live link is no
// error: a completed enablement continues as new into PrivateLinkLive.
func (s *EnablementSuite) runError() error {
	if s.handedOff() {
		return nil
	}
	return s.env.GetWorkflowError()
}

// handedOff reports whether the run continued as the live link, and keeps
// what it handed over in s.handoff.
func (s *EnablementSuite) handedOff() bool {
	var can *workflow.ContinueAsNewError
	if !errors.As(s.env.GetWorkflowError(), &can) {
		return false
	}
	s.Require().Equal(LiveWorkflow, can.WorkflowType.Name, "an enablement continues only as the live link")
	var in LiveInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &in))
	s.handoff = &in
	return true
}

type updateOutcome struct {
	rejected, failed error
	done             bool
}

func (s *EnablementSuite) update(name string, arg any) *updateOutcome {
	s.updates++
	out := &updateOutcome{}
	s.env.UpdateWorkflow(name, fmt.Sprintf("update-%d", s.updates), &testsuite.TestUpdateCallback{
		OnReject:   func(err error) { out.rejected, out.done = err, true },
		OnAccept:   func() {},
		OnComplete: func(_ any, err error) { out.failed, out.done = err, true },
	}, arg)
	return out
}

func (s *EnablementSuite) approve(gate, who string) *updateOutcome {
	return s.update(Approve, Approval{Gate: gate, Approver: who, Comment: "looks right"})
}

func (s *EnablementSuite) signal(name string, arg any) { s.env.SignalWorkflow(name, arg) }

func (s *EnablementSuite) platformService() string {
	env, err := s.cloud.Environment(context.Background(), s.ref)
	s.Require().NoError(err)
	return env.ServiceName
}

func (s *EnablementSuite) customer() sim.Customer { return s.cloud.Customer("aws", customerAccount) }

// customerConnects creates the customer's endpoint and tells the workflow.
func (s *EnablementSuite) customerConnects() {
	_, err := s.customer().CreateEndpoint(s.platformService())
	s.Require().NoError(err)
	s.signal(SignalCustomerEndpointCreated, CustomerEvent{Detail: "vpce created"})
}

func (s *EnablementSuite) customerGrants(port int) {
	s.Require().NoError(s.customer().Grant(customerService, "arn:aws:iam::"+sim.PlatformAWSAccount+":root", []int{port}))
	s.signal(SignalCustomerAccessGranted, nil)
}

func (s *EnablementSuite) customerAcceptsReverse() string {
	pending, err := s.customer().PendingOnService(customerService)
	s.Require().NoError(err)
	s.Require().Len(pending, 1, "one platform endpoint waits for the customer")
	s.Require().NoError(s.customer().AcceptEndpoint(pending[0].ID))
	s.signal(SignalCustomerConnectionAccepted, nil)
	return pending[0].ID
}

func (s *EnablementSuite) customerConfirms() {
	s.signal(SignalCustomerVerified, CustomerVerified{OK: true, Detail: "mysql and sftp answer"})
}

func (s *EnablementSuite) ticketText() string {
	_, comments, err := s.tracker.Read("PL-0001")
	s.Require().NoError(err)
	var b strings.Builder
	for _, c := range comments {
		fmt.Fprintf(&b, "[public=%t] %s\n", c.Public, c.Body)
	}
	return b.String()
}

func (s *EnablementSuite) connections() []cloud.Connection {
	conns, err := s.cloud.Connections(context.Background(), s.ref, customerAccount)
	s.Require().NoError(err)
	return conns
}

// undone asserts the platform is back where it started: ports closed, the
// customer no longer allowed, the connection rejected.
func (s *EnablementSuite) assertUndone() {
	targets, err := s.cloud.TargetHealth(context.Background(), s.ref, []int{3306, 2222})
	s.Require().NoError(err)
	for _, t := range targets {
		s.False(t.Healthy, "port %d still open", t.Port)
	}
	_, err = s.customer().CreateEndpoint(s.platformService())
	s.Error(err, "the customer is no longer allowed")
	for _, c := range s.connections() {
		s.Equal(cloud.StateRejected, c.State, "connection %s", c.ID)
	}
}

func auditActions(st Status) []string {
	out := make([]string, len(st.Audit))
	for i, a := range st.Audit {
		out[i] = a.Actor + ": " + a.Action
	}
	return out
}

func (s *EnablementSuite) TestUnidirectionalHappyPath() {
	s.at(time.Hour, s.customerConnects)
	var gateStatus Status
	var approval *updateOutcome
	s.at(2*time.Hour, func() {
		gateStatus = s.status()
		approval = s.approve(GateAcceptConnection, alice)
	})
	s.at(3*time.Hour, s.customerConfirms)
	s.start(uniRequest())

	s.NoError(s.runError())
	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	s.Equal(PhaseAwaitingApproval, gateStatus.Phase)
	s.Equal(WaitingOnOperator, gateStatus.WaitingOn)
	s.Equal(GateAcceptConnection, gateStatus.Gate)
	s.Equal(addBusinessDays(monday, 5), gateStatus.Deadline)
	s.True(approval.done)
	s.NoError(approval.failed)

	st := r.Status
	s.Equal(PhaseCompleted, st.Phase)
	s.Equal("PL-0001", st.Ticket)
	s.Equal(s.platformService(), st.ServiceName)
	s.Len(st.CustomerEndpoints, 1)
	s.Contains(auditActions(st), "alice@platform.example: approve accept-connection (update)")
	s.Contains(auditActions(st), "customer: confirmed the link works")
	conns := s.connections()
	s.Require().Len(conns, 1)
	s.Equal(cloud.StateAvailable, conns[0].State)

	tk, _, err := s.tracker.Read("PL-0001")
	s.Require().NoError(err)
	s.Equal(ticket.StatusSolved, tk.Status)
	text := s.ticketText()
	s.Contains(text, "[public=true] Hello Acme Corp")
	s.Contains(text, s.platformService())
	s.Contains(text, "Decision needed (gate accept-connection)")
	s.Contains(text, "is live and verified")
	s.Contains(text, "/workflows/privatelink%2Fabcd1234efgh5%2Fproduction%2Faws")
}

func (s *EnablementSuite) TestBidirectionalHappyPath() {
	const port = 25432
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	s.at(3*time.Hour, func() { s.customerGrants(port) })
	var gated Status
	s.at(4*time.Hour, func() {
		gated = s.status()
		s.approve(GateCreateReverseEndpoint, bob)
	})
	var reverseID string
	s.at(5*time.Hour, func() { reverseID = s.customerAcceptsReverse() })
	s.at(6*time.Hour, s.customerConfirms)
	s.start(biRequest(port))

	s.NoError(s.runError())
	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	s.Equal(GateCreateReverseEndpoint, gated.Gate, "the child's gate shows in the parent's status")
	s.Equal(PhaseAwaitingApproval, gated.Phase)
	st := r.Status
	s.Equal(reverseID, st.ReverseEndpointID)
	s.True(strings.HasSuffix(st.ReverseDNSName, sim.Zone), st.ReverseDNSName)
	s.Require().Len(st.Verification, 1)
	s.True(st.Verification[0].OK(), st.Verification[0].Diagnosis)
	s.Equal(port, st.Verification[0].Port)
	s.Contains(auditActions(st), "bob@platform.example: approve create-reverse-endpoint (update)")
	s.Contains(auditActions(st), "linkwright: verified the reverse link")
	text := s.ticketText()
	s.assertPublicRepliesClean()
	s.Contains(text, "arn:aws:iam::"+sim.PlatformAWSAccount+":root")
	s.Contains(text, "We created endpoint "+reverseID)
	s.Contains(text, "every port answered")
}

func (s *EnablementSuite) TestRefusedApprovalsThroughUpdate() {
	s.policy.Approvers = []string{alice, sam} // the requester is an approver, yet may not approve
	s.at(time.Hour, s.customerConnects)
	var notApprover, requester, wrongGate, malformed, good *updateOutcome
	var during Status
	s.at(2*time.Hour, func() {
		notApprover = s.approve(GateAcceptConnection, "mallory@elsewhere.example")
		requester = s.approve(GateAcceptConnection, "Sam@Platform.Example")
		wrongGate = s.approve(GateCreateReverseEndpoint, alice)
		malformed = s.update(Approve, Approval{Gate: "accept-everything"})
	})
	s.at(3*time.Hour, func() {
		during = s.status()
		good = s.approve(GateAcceptConnection, alice)
	})
	s.at(4*time.Hour, s.customerConfirms)
	s.start(uniRequest())

	s.Equal(OutcomeCompleted, s.result().Outcome)
	s.ErrorContains(notApprover.failed, "mallory@elsewhere.example is not an approver")
	s.ErrorContains(requester.failed, "requested this enablement and cannot approve it")
	s.ErrorContains(wrongGate.failed, `gate "create-reverse-endpoint" is not open: the open gate is "accept-connection"`)
	s.ErrorContains(malformed.rejected, `"gate" must be one of`)
	s.ErrorContains(malformed.rejected, `"approver" is required`)
	s.NoError(good.failed)
	s.Nil(good.rejected)

	s.Equal(PhaseAwaitingApproval, during.Phase, "refused approvals change nothing")
	actions := auditActions(during)
	s.Contains(actions, "mallory@elsewhere.example: approve accept-connection refused (update)")
	s.Contains(actions, "sam@platform.example: approve accept-connection refused (update)")
	s.Contains(actions, "alice@platform.example: approve create-reverse-endpoint refused (update)")
}

func (s *EnablementSuite) TestRefusedApprovalsThroughSignal() {
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() {
		s.signal(Approve, Approval{Gate: GateAcceptConnection, Approver: "mallory@elsewhere.example"})
		s.signal(Approve, Approval{Gate: GateAcceptConnection, Approver: sam})
		s.signal(Approve, Approval{Gate: GateCreateReverseEndpoint, Approver: alice})
		s.signal(Approve, Approval{Gate: GateAcceptConnection}) // no approver
		s.signal(Approve, "not even an object")
	})
	var during Status
	s.at(3*time.Hour, func() {
		during = s.status()
		s.signal(Approve, Approval{Gate: GateAcceptConnection, Approver: bob})
	})
	s.at(4*time.Hour, s.customerConfirms)
	s.start(uniRequest())

	s.Equal(OutcomeCompleted, s.result().Outcome)
	s.Equal(PhaseAwaitingApproval, during.Phase, "invalid signals change nothing")
	refused := 0
	for _, a := range during.Audit {
		if strings.HasSuffix(a.Action, "refused (signal)") {
			refused++
		}
	}
	s.Equal(5, refused, "every refused signal is in the audit trail: %v", auditActions(during))
	s.Contains(auditActions(s.result().Status), "bob@platform.example: approve accept-connection (signal)")
}

func (s *EnablementSuite) TestRejectAtAcceptConnection() {
	s.at(time.Hour, s.customerConnects)
	var rejection *updateOutcome
	s.at(2*time.Hour, func() {
		rejection = s.update(Reject, Rejection{Gate: GateAcceptConnection, Approver: alice, Reason: "the account is not the customer's"})
	})
	s.start(uniRequest())

	s.NoError(s.runError())
	r := s.result()
	s.Equal(OutcomeRejected, r.Outcome)
	s.Equal(PhaseRejected, r.Status.Phase)
	s.NoError(rejection.failed)
	s.assertUndone()
	s.Contains(s.ticketText(), "the account is not the customer's")
}

func (s *EnablementSuite) TestRejectAtCreateReverseEndpoint() {
	const port = 25433
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	s.at(3*time.Hour, func() { s.customerGrants(port) })
	s.at(4*time.Hour, func() {
		s.update(Reject, Rejection{Gate: GateCreateReverseEndpoint, Approver: bob, Reason: "that service belongs to someone else"})
	})
	s.start(biRequest(port))

	r := s.result()
	s.Equal(OutcomeRejected, r.Outcome)
	s.Empty(r.Status.ReverseEndpointID)
	s.assertUndone()
	pending, err := s.customer().PendingOnService(customerService)
	s.NoError(err)
	s.Empty(pending, "no endpoint was created into the customer's service")
	s.Contains(s.ticketText(), "that service belongs to someone else")
}

func (s *EnablementSuite) TestCustomerSilentRemindersEscalationExpiry() {
	s.start(uniRequest())

	s.NoError(s.runError())
	r := s.result()
	s.Equal(OutcomeExpired, r.Outcome)
	s.True(r.Status.Escalated)
	text := s.ticketText()
	s.Equal(2, strings.Count(text, "A friendly reminder"), "at most MaxReminders reminders: %s", text)
	s.Contains(text, "ESCALATION: this enablement will miss its 5-business-day target")
	s.Contains(text, "We are closing this PrivateLink request because the customer did not create an endpoint")
	s.assertUndone()
	var remindedAt, escalatedAt []time.Time
	for _, a := range r.Status.Audit {
		switch a.Action {
		case "reminded the customer":
			remindedAt = append(remindedAt, a.At)
		case "escalated to operators":
			escalatedAt = append(escalatedAt, a.At)
		}
	}
	s.Require().Len(remindedAt, 2)
	s.Require().Len(escalatedAt, 1)
	s.WithinDuration(addBusinessDays(monday, 2), remindedAt[0], s.policy.PollMax.D()+time.Minute)
	s.WithinDuration(addBusinessDays(monday, 4), escalatedAt[0], s.policy.PollMax.D()+time.Minute)
	s.True(r.Status.Audit[len(r.Status.Audit)-1].At.Sub(monday) >= 30*24*time.Hour-s.policy.PollMax.D(), "expires after 30 days")
}

func (s *EnablementSuite) TestCancelPartWayUndoesInReverseOrder() {
	const port = 25434
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	s.at(3*time.Hour, func() { s.customerGrants(port) })
	s.at(4*time.Hour, func() { s.approve(GateCreateReverseEndpoint, bob) })
	var cancel *updateOutcome
	var before Status
	s.at(5*time.Hour, func() {
		before = s.status()
		cancel = s.update(Cancel, Cancellation{Approver: alice, Reason: "customer withdrew"})
	})
	s.start(biRequest(port))

	r := s.result()
	s.Equal(OutcomeCancelled, r.Outcome)
	s.NoError(cancel.failed)
	s.Equal(PhaseAwaitingEndpoint, before.Phase)
	s.Require().NotEmpty(before.ReverseEndpointID)
	var undone []string
	for _, a := range r.Status.Audit {
		if a.Action == "undone" {
			undone = append(undone, a.Detail)
		}
	}
	s.Equal([]string{
		"delete reverse endpoint " + before.ReverseEndpointID,
		"reject connection " + before.CustomerEndpoints[0],
		"revoke " + customerAccount,
		"close ports 3306, 2222",
	}, undone)
	s.assertUndone()
	ep, err := s.cloud.DescribeEndpoint(context.Background(), s.ref, before.ReverseEndpointID)
	s.NoError(err)
	s.Equal(cloud.StateDeleted, ep.State)
	s.Contains(s.ticketText(), "was cancelled (customer withdrew)")
}

func (s *EnablementSuite) TestRequesterMayCancelButNotStrangers() {
	var stranger, requester *updateOutcome
	s.at(time.Hour, func() {
		stranger = s.update(Cancel, Cancellation{Approver: "mallory@elsewhere.example", Reason: "why not"})
		requester = s.update(Cancel, Cancellation{Approver: sam, Reason: "not needed any more"})
	})
	s.start(uniRequest())
	s.Equal(OutcomeCancelled, s.result().Outcome)
	s.ErrorContains(stranger.failed, "is not an approver")
	s.NoError(requester.failed)
}

func (s *EnablementSuite) TestReverseEndpointRejectedByCustomer() {
	const port = 25435
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	s.at(3*time.Hour, func() { s.customerGrants(port) })
	s.at(4*time.Hour, func() { s.approve(GateCreateReverseEndpoint, bob) })
	var first string
	var afterReject Status
	s.at(5*time.Hour, func() {
		pending, err := s.customer().PendingOnService(customerService)
		s.Require().NoError(err)
		s.Require().Len(pending, 1)
		first = pending[0].ID
		s.Require().NoError(s.customer().RejectEndpoint(first))
		s.signal(SignalCustomerConnectionAccepted, CustomerEvent{Detail: "oops, rejected"})
	})
	s.at(6*time.Hour, func() {
		afterReject = s.status()
		s.approve(GateCreateReverseEndpoint, bob)
	})
	var second string
	s.at(7*time.Hour, func() { second = s.customerAcceptsReverse() })
	s.at(8*time.Hour, s.customerConfirms)
	s.start(biRequest(port))

	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	s.Equal(GateCreateReverseEndpoint, afterReject.Gate, "after a rejection the gate opens again")
	s.NotEqual(first, second)
	s.Equal(second, r.Status.ReverseEndpointID)
	ep, err := s.cloud.DescribeEndpoint(context.Background(), s.ref, first)
	s.NoError(err)
	s.Equal(cloud.StateDeleted, ep.State, "the rejected endpoint was removed")
	s.Contains(auditActions(r.Status), "customer: rejected the reverse endpoint")
	s.Contains(s.ticketText(), "Endpoint "+first+" to your service was rejected")
}

func (s *EnablementSuite) TestVerificationFailingThenRepaired() {
	const port = 25436
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	s.at(3*time.Hour, func() { s.customerGrants(port) })
	s.at(4*time.Hour, func() { s.approve(GateCreateReverseEndpoint, bob) })
	var reverseID string
	s.at(5*time.Hour, func() {
		pending, err := s.customer().PendingOnService(customerService)
		s.Require().NoError(err)
		s.Require().Len(pending, 1)
		reverseID = pending[0].ID
		s.Require().NoError(s.customer().BreakPort(reverseID, port))
		s.Require().NoError(s.customer().AcceptEndpoint(reverseID))
		s.signal(SignalCustomerConnectionAccepted, nil)
	})
	var broken Status
	s.at(6*time.Hour, func() {
		broken = s.status()
		s.Require().NoError(s.customer().RepairPort(reverseID, port))
		s.signal(SignalCustomerConnectionAccepted, CustomerEvent{Detail: "listener fixed"})
	})
	s.at(7*time.Hour, s.customerConfirms)
	s.start(biRequest(port))

	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	s.Equal(PhaseAwaitingFix, broken.Phase)
	s.Equal(WaitingOnCustomer, broken.WaitingOn)
	s.Require().Len(broken.Verification, 1)
	s.Equal("refused", string(broken.Verification[0].Outcome))
	s.True(r.Status.Verification[0].OK())
	text := s.ticketText()
	s.assertPublicRepliesClean()
	s.Contains(text, "We cannot reach your service yet")
	s.Contains(text, "refused the connection")
	s.Contains(text, fmt.Sprintf("curl -v telnet://%s:%d", broken.ReverseDNSName, port))
}

func (s *EnablementSuite) TestCustomerReportsAProblemThenConfirms() {
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	var rechecked Status
	s.at(3*time.Hour, func() {
		s.signal(SignalCustomerVerified, CustomerVerified{OK: false, Detail: "sftp times out"})
	})
	s.at(4*time.Hour, func() {
		rechecked = s.status()
		s.customerConfirms()
	})
	s.start(uniRequest())

	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	s.Equal(PhaseAwaitingConfirmation, rechecked.Phase, "after re-checking, it asks the customer again")
	actions := auditActions(r.Status)
	s.Contains(actions, "customer: reported a problem")
	s.Equal(2, count(actions, "linkwright: verified the platform side"), "the platform side was checked again")
	s.Contains(s.ticketText(), "The customer reports the link does not work: sftp times out")
}

// A wait on the cloud longer than expireAfter keeps polling: without a
// customer milestone the poll's deadline is measured from now.
func (s *EnablementSuite) TestLongWaitOnTheCloudKeepsPolling() {
	s.policy.ExpireAfter = config.Duration(24 * time.Hour)
	s.policy.MaxReminders = 0
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() {
		s.Require().NoError(s.cloud.ClosePorts(context.Background(), s.ref, []int{2222})) // a target goes unhealthy
		s.approve(GateAcceptConnection, alice)
	})
	var broken Status
	s.at(3*24*time.Hour, func() {
		broken = s.status()
		s.Require().NoError(s.cloud.OpenPorts(context.Background(), s.ref, []int{2222}))
	})
	s.atWhen(3*24*time.Hour+time.Hour, inPhase(PhaseAwaitingConfirmation), s.customerConfirms)
	s.start(uniRequest())

	s.NoError(s.runError())
	s.Equal(OutcomeCompleted, s.result().Outcome)
	s.Equal(PhaseAwaitingFix, broken.Phase)
	s.Contains(broken.PlatformProblems, "port 2222: no listener on the load balancer for this port")
}

func count(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// nudgeScenario: the customer connects 3 hours in, when the poll backoff
// is long; the signal (if sent) makes the workflow look at once.
func (s *EnablementSuite) nudgeScenario(signal bool) Status {
	s.policy.PollMax = config.Duration(24 * time.Hour)
	s.at(3*time.Hour, func() {
		_, err := s.customer().CreateEndpoint(s.platformService())
		s.Require().NoError(err)
	})
	if signal {
		s.at(3*time.Hour+time.Minute, func() { s.signal(SignalCustomerEndpointCreated, nil) })
	}
	var st Status
	s.at(3*time.Hour+5*time.Minute, func() {
		st = s.status()
		s.update(Cancel, Cancellation{Approver: alice, Reason: "end of test"})
	})
	s.start(uniRequest())
	return st
}

func (s *EnablementSuite) TestNudgeEndsALongPollEarly() {
	st := s.nudgeScenario(true)
	s.Equal(PhaseAwaitingApproval, st.Phase, "the signal made the workflow check at once")
}

func (s *EnablementSuite) TestWithoutNudgeThePollWaitsItsBackoff() {
	st := s.nudgeScenario(false)
	s.Equal(PhaseAwaitingConnection, st.Phase, "without the signal the next poll is hours away")
}

func (s *EnablementSuite) TestInvalidRequestFailsAtOnceWithEveryProblem() {
	data := []byte(`{"company":"Acme Corp","requestedBy":"sam@platform.example","projectId":"abcd1234efgh5","environment":"production",
		"cloud":"aws","region":"us-east-1","customerAccount":"12345","connectionType":"bidirectional",
		"services":[{"name":"ssh","port":22}],"customerServicePorts":[5432]}`)
	s.startRaw("privatelink/abcd1234efgh5/production/aws", data)

	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	for _, want := range []string{"customerAccount \"12345\"", "services[0].port \"22\"", "customerEndpointService is required"} {
		s.Contains(err.Error(), want)
	}
	st := s.status()
	s.Equal(PhaseInvalid, st.Phase)
	s.Len(st.Problems, 3, "the problems are in the run's status")
	s.Empty(st.Ticket, "a malformed request opens no ticket")
	_, _, terr := s.tracker.Read("PL-0001")
	s.ErrorIs(terr, ticket.ErrNotFound, "no ticket was opened")
	targets, terr := s.cloud.TargetHealth(context.Background(), s.ref, []int{22})
	s.Require().NoError(terr)
	s.False(targets[0].Healthy, "nothing was opened")
}

func (s *EnablementSuite) TestPlatformRulesAndWorkflowID() {
	req := uniRequest()
	req.ProjectID = "start3r0000ab" // a Starter project
	data, _ := json.Marshal(req)
	s.startRaw("my-own-id", data)
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	s.Contains(err.Error(), "is on the starter plan; PrivateLink needs the Pro plan")
	s.Contains(err.Error(), "--workflow-id privatelink/start3r0000ab/production/aws")
}

func (s *EnablementSuite) TestWrongRegionIsRefused() {
	req := uniRequest()
	req.ProjectID = "eu7k2m9p4q1xz" // runs in eu-west-1
	s.start(req)
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	s.Contains(err.Error(), "region \"us-east-1\" does not match the platform environment, which runs in eu-west-1")
}

// historyScenario: the customer connects after wait (found by polling, no
// signal), an approver approves, the customer confirms.
func (s *EnablementSuite) historyScenario(wait time.Duration) int {
	s.policy.ExpireAfter = config.Duration(60 * 24 * time.Hour)
	s.at(wait, func() {
		_, err := s.customer().CreateEndpoint(s.platformService())
		s.Require().NoError(err)
	})
	s.atWhen(wait+time.Hour, gateOpen(GateAcceptConnection), func() {
		s.approve(GateAcceptConnection, alice)
		s.atWhen(time.Hour, inPhase(PhaseAwaitingConfirmation), s.customerConfirms)
	})
	s.start(uniRequest())
	s.Equal(OutcomeCompleted, s.result().Outcome)
	return s.counter.events()
}

func (s *EnablementSuite) TestHistoryOfA30DayWaitIsBounded() {
	short := s.historyScenario(time.Hour)
	s.SetupTest()
	long := s.historyScenario(30 * 24 * time.Hour)
	s.T().Logf("estimated history events: 1-hour wait %d, 30-day wait %d", short, long)
	// The 30-day wait adds its reminders and the escalation, nothing per poll:
	// about 4300 polls at a 10-minute cap would be thousands of events.
	s.LessOrEqual(long-short, 60)
	s.Greater(long, short, "the reminders and escalation are there")
}

// callsScenario: the customer creates their endpoint after wait and tells
// no one (the poll must find it), an approver approves, the customer
// confirms. It counts the cloud calls of the whole enablement.
func (s *EnablementSuite) callsScenario(wait time.Duration) (int, map[string]int) {
	s.policy.PollInitial = config.Duration(5 * time.Second) // the shipped policy
	s.policy.ExpireAfter = config.Duration(30 * 24 * time.Hour)
	s.at(wait, func() {
		_, err := s.customer().CreateEndpoint(s.platformService())
		s.Require().NoError(err)
	})
	s.atWhen(wait, gateOpen(GateAcceptConnection), func() {
		s.approve(GateAcceptConnection, alice)
		s.atWhen(time.Minute, inPhase(PhaseAwaitingConfirmation), s.customerConfirms)
	})
	s.start(uniRequest())
	s.Equal(OutcomeCompleted, s.result().Outcome)
	return s.callCount()
}

// Cloud calls grow with the log of the wait, not with the wait: polls
// double their interval until the next milestone. A week costs a few
// calls more than an hour (figures for make bench: go test -v -run
// 'TestEnablement/TestCloudCallsPerWait' ./workflows/).
func (s *EnablementSuite) TestCloudCallsPerWait() {
	hour, hourBy := s.callsScenario(time.Hour)
	s.SetupTest()
	week, weekBy := s.callsScenario(7 * 24 * time.Hour)
	s.T().Logf("cloud calls per enablement: 1-hour wait %d, 7-day wait %d", hour, week)
	s.T().Logf("  by call, 1-hour wait: %v", hourBy)
	s.T().Logf("  by call, 7-day wait:  %v", weekBy)
	// log2(7 days / 1 hour) is about 7.4 doublings more; a 2-minute cap
	// would have polled about 5,000 times more.
	s.LessOrEqual(week-hour, 12, "a week costs a few calls more than an hour")
	s.Greater(week, hour, "the longer wait polls a few more times")
}

func TestAddBusinessDays(t *testing.T) {
	friday := time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC)
	cases := []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{monday, 0, monday},
		{monday, 1, monday.Add(24 * time.Hour)},
		{monday, 5, monday.Add(7 * 24 * time.Hour)},
		{friday, 1, friday.Add(3 * 24 * time.Hour)},
		{friday.Add(24 * time.Hour), 1, friday.Add(3 * 24 * time.Hour)}, // Saturday -> Monday
	}
	for _, c := range cases {
		if got := addBusinessDays(c.from, c.n); !got.Equal(c.want) {
			t.Errorf("addBusinessDays(%s, %d) = %s, want %s", c.from, c.n, got, c.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * 24 * time.Hour: "30 days", 36 * time.Hour: "36 hours", 90 * time.Minute: "90 minutes", 90 * time.Second: "1m30s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
