package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/request"
)

// recorder records the mutating calls the activities make to the cloud,
// in order, so that tests can assert the order of a teardown or that a
// rejected change changed nothing.
type recorder struct {
	cloud.Provider
	mu    sync.Mutex
	calls []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

func (r *recorder) OpenPorts(ctx context.Context, ref cloud.EnvRef, ports []int) error {
	r.add("open %v", ports)
	return r.Provider.OpenPorts(ctx, ref, ports)
}

func (r *recorder) ClosePorts(ctx context.Context, ref cloud.EnvRef, ports []int) error {
	r.add("close %v", ports)
	return r.Provider.ClosePorts(ctx, ref, ports)
}

func (r *recorder) AllowAccount(ctx context.Context, ref cloud.EnvRef, account string) error {
	r.add("allow %s", account)
	return r.Provider.AllowAccount(ctx, ref, account)
}

func (r *recorder) RevokeAccount(ctx context.Context, ref cloud.EnvRef, account string) error {
	r.add("revoke %s", account)
	return r.Provider.RevokeAccount(ctx, ref, account)
}

func (r *recorder) AcceptConnections(ctx context.Context, ref cloud.EnvRef, ids []string) error {
	r.add("accept %v", ids)
	return r.Provider.AcceptConnections(ctx, ref, ids)
}

func (r *recorder) AcceptConnectionsWithBandwidth(ctx context.Context, ref cloud.EnvRef, ids []string, mbps int) error {
	r.add("accept %v at %d Mbps", ids, mbps)
	return r.Provider.(cloud.BandwidthAccepter).AcceptConnectionsWithBandwidth(ctx, ref, ids, mbps)
}

func (r *recorder) RejectConnections(ctx context.Context, ref cloud.EnvRef, ids []string, reason string) error {
	r.add("reject %v because %s", ids, reason)
	return r.Provider.RejectConnections(ctx, ref, ids, reason)
}

func (r *recorder) CreateEndpoint(ctx context.Context, spec cloud.EndpointSpec) (cloud.Endpoint, error) {
	r.add("create endpoint %s", spec.Service)
	return r.Provider.CreateEndpoint(ctx, spec)
}

func (r *recorder) DeleteEndpoint(ctx context.Context, ref cloud.EnvRef, id string) error {
	r.add("delete endpoint %s", id)
	return r.Provider.DeleteEndpoint(ctx, ref, id)
}

// kinds are the first words of the calls: "open", "reject", ...
func kinds(calls []string) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i], _, _ = strings.Cut(c, " ")
	}
	return out
}

// liveLink runs an enablement to completion and returns what it handed
// the live link, with the cloud left as the enablement made it.
func (s *EnablementSuite) liveLink(req request.Request) LiveInput {
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	if req.Bidirectional() {
		s.at(3*time.Hour, func() { s.customerGrants(req.CustomerServicePorts[0]) })
		s.at(4*time.Hour, func() { s.approve(GateCreateReverseEndpoint, bob) })
		s.at(5*time.Hour, func() { s.customerAcceptsReverse() })
		s.at(6*time.Hour, s.customerConfirms)
	} else {
		s.at(3*time.Hour, s.customerConfirms)
	}
	s.start(req)
	s.Require().NoError(s.runError())
	s.Require().True(s.handedOff(), "the enablement continued as the live link")
	s.completed = s.status()
	s.newEnv() // the live link's run, on the same cloud and tickets
	return *s.handoff
}

// startLive runs the live link from what a run handed it, as a run that
// continued as new (in the environment the test set up with newEnv).
func (s *EnablementSuite) startLive(in LiveInput) {
	s.env.SetContinuedExecutionRunID("earlier-run")
	data, err := json.Marshal(in)
	s.Require().NoError(err)
	s.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: uniRequest().WorkflowID(), TaskQueue: TaskQueue})
	s.env.ExecuteWorkflow(PrivateLinkLive, json.RawMessage(data))
}

// stopAt ends the live link's test run (it would run for ever).
func (s *EnablementSuite) stopAt(d time.Duration) { s.at(d, s.env.CancelWorkflow) }

func (s *EnablementSuite) byHand() interface {
	ClosePort(int) error
	RevokeAccount(string) error
	BreakTarget(int) error
	RepairTarget(int) error
} {
	return s.cloud.ByHand(s.ref)
}

func (s *EnablementSuite) changeUpdate(c request.Change) (*ChangeResult, *updateOutcome) {
	s.updates++
	out, res := &updateOutcome{}, &ChangeResult{}
	data, err := json.Marshal(c)
	s.Require().NoError(err)
	s.env.UpdateWorkflow(UpdateChange, fmt.Sprintf("update-%d", s.updates), &updateCallback{out: out, res: res}, json.RawMessage(data))
	return res, out
}

func (s *EnablementSuite) teardownUpdate(t request.Teardown) (*ChangeResult, *updateOutcome) {
	s.updates++
	out, res := &updateOutcome{}, &ChangeResult{}
	data, err := json.Marshal(t)
	s.Require().NoError(err)
	s.env.UpdateWorkflow(UpdateTeardown, fmt.Sprintf("update-%d", s.updates), &updateCallback{out: out, res: res}, json.RawMessage(data))
	return res, out
}

func (s *EnablementSuite) TestEnablementContinuesAsTheLiveLink() {
	in := s.liveLink(biRequest(35432))
	st := s.completed
	s.Equal(PhaseCompleted, st.Phase, "the enablement's own run shows its completion")
	s.Equal(uniRequest().WorkflowID(), st.WorkflowID)
	spec := in.Spec
	s.Equal([]request.Service{{Name: "mysql", Port: 3306}, {Name: "sftp", Port: 2222}}, spec.Services)
	s.Equal([]string{customerAccount}, spec.Accounts)
	s.Len(spec.Connections, 1)
	s.Equal("PL-0001", spec.Ticket)
	s.Require().Len(spec.Reverse, 1)
	s.Equal(customerService, spec.Reverse[0].Service)
	s.NotEmpty(spec.Reverse[0].EndpointID)
	s.Require().Len(spec.Deadlines, 1)
	s.Equal("enablement", spec.Deadlines[0].What)
	s.Contains(auditActions(Status{Audit: in.Audit}), "linkwright: completed")
	s.Contains(auditActions(Status{Audit: in.Audit}), "alice@platform.example: approve accept-connection (update)")
}

func (s *EnablementSuite) TestLiveHealthDegradesEscalatesAndRecovers() {
	in := s.liveLink(uniRequest())
	s.policy.HealthEvery = config.Duration(time.Hour)
	s.policy.HealthGrace = config.Duration(3 * time.Hour)
	var first, degraded, escalated, recovered Status
	s.at(30*time.Minute, func() {
		first = s.status()
		s.Require().NoError(s.byHand().BreakTarget(3306))
	})
	s.at(90*time.Minute, func() { degraded = s.status() })
	s.at(5*time.Hour+30*time.Minute, func() {
		escalated = s.status()
		s.Require().NoError(s.byHand().RepairTarget(3306))
		s.signal(SignalCheckNow, nil)
	})
	s.at(5*time.Hour+31*time.Minute, func() { recovered = s.status() })
	s.stopAt(6 * time.Hour)
	s.startLive(in)

	s.Equal(PhaseLive, first.Phase, "the first check after the enablement passes")
	s.True(first.Health.Healthy)
	s.Equal(1, first.Health.Checks)
	s.Require().NotNil(first.Spec)
	s.Equal(in.Spec.Services, first.Spec.Services)

	s.Equal(PhaseDegraded, degraded.Phase)
	s.Equal(WaitingOnOperator, degraded.WaitingOn)
	s.False(degraded.Health.Healthy)
	s.Require().NotEmpty(degraded.Health.Problems)
	s.Contains(degraded.Health.Problems[0], "port 3306")
	s.Contains(degraded.Next, "port 3306")
	s.False(degraded.Health.Escalated, "not yet: the grace period runs")

	s.True(escalated.Health.Escalated, "escalated after the grace period")
	s.Equal(PhaseLive, recovered.Phase, "check-now found the repair at once")
	s.True(recovered.Health.Healthy)

	text := s.ticketText()
	s.Contains(text, "[public=false] A health check of the live link failed")
	s.Contains(text, "[public=false] ESCALATION: the live link has been degraded")
	s.Contains(text, "[public=false] The link recovered")
	s.NotContains(text, "[public=true] A health check", "health is noted internally, never told the customer as is")
	actions := auditActions(recovered)
	s.Equal(1, count(actions, "linkwright: degraded"), "one degradation, noted once however many checks fail")
	s.Contains(actions, "linkwright: recovered")
}

func (s *EnablementSuite) TestDriftIsRepairedAfterApproval() {
	in := s.liveLink(uniRequest())
	var drifted, refused, repaired Status
	var approval *updateOutcome
	s.at(30*time.Minute, func() {
		s.Require().NoError(s.byHand().ClosePort(2222))
		s.signal(SignalCheckNow, nil)
	})
	s.at(31*time.Minute, func() {
		drifted = s.status()
		s.calls.reset()
		s.update(Approve, Approval{Gate: GateRepairDrift, Approver: "mallory@elsewhere.example"})
	})
	s.at(32*time.Minute, func() {
		refused = s.status()
		approval = s.approve(GateRepairDrift, bob)
	})
	s.at(33*time.Minute, func() { repaired = s.status() })
	s.stopAt(2 * time.Hour)
	s.startLive(in)

	s.Equal(PhaseDegraded, drifted.Phase)
	s.Equal(GateRepairDrift, drifted.Gate)
	s.Require().Len(drifted.Health.Drift, 1)
	s.Equal("port-closed", drifted.Health.Drift[0].Kind)
	s.Equal("open port 2222", drifted.Health.Drift[0].Repair)
	s.Equal(GateRepairDrift, refused.Gate, "a stranger's approval changes nothing")
	s.Require().NotNil(approval)
	s.NoError(approval.failed)
	s.Equal(PhaseLive, repaired.Phase)
	s.True(repaired.Health.Healthy)
	s.Empty(repaired.Gate)
	s.Equal([]string{"open [2222]"}, s.calls.list(), "the repair opened the port, and only that")
	s.Contains(s.ticketText(), "Decision needed (gate repair-drift)")
	s.Contains(auditActions(repaired), "bob@platform.example: repaired drift")
}

func (s *EnablementSuite) TestDriftRestoredAtOnceWhenThePolicyAllows() {
	in := s.liveLink(uniRequest())
	s.policy.AutoRepairDrift = true
	var repaired Status
	s.at(30*time.Minute, func() {
		s.calls.reset()
		s.Require().NoError(s.byHand().RevokeAccount(customerAccount))
		s.signal(SignalCheckNow, nil)
	})
	s.at(35*time.Minute, func() { repaired = s.status() })
	s.stopAt(time.Hour)
	s.startLive(in)
	s.Equal(PhaseLive, repaired.Phase)
	s.Empty(repaired.Gate, "no gate: the policy repairs what restores the spec")
	s.Equal([]string{"allow " + customerAccount}, s.calls.list())
	s.Contains(auditActions(repaired), "linkwright (autoRepairDrift): repaired drift")
}

func (s *EnablementSuite) TestTestConnectionReportsEveryPort() {
	in := s.liveLink(biRequest(35432))
	var ok, broken TestResult
	s.at(10*time.Minute, func() {
		s.updates++
		s.env.UpdateWorkflow(UpdateTestConnection, "t1", &updateCallback{out: &updateOutcome{}, res: &ok}, TestConnection{})
	})
	s.at(20*time.Minute, func() {
		s.Require().NoError(s.customer().BreakPort(in.Spec.Reverse[0].EndpointID, 35432))
		s.env.UpdateWorkflow(UpdateTestConnection, "t2", &updateCallback{out: &updateOutcome{}, res: &broken}, TestConnection{Port: 35432})
	})
	s.stopAt(time.Hour)
	s.startLive(in)
	s.True(ok.OK)
	s.Require().Len(ok.Results, 1)
	s.Equal(35432, ok.Results[0].Port)
	s.True(ok.Results[0].OK())
	s.False(broken.OK)
	s.Require().Len(broken.Results, 1)
	s.False(broken.Results[0].OK())
	s.NotEmpty(broken.Results[0].Diagnosis)
}

func (s *EnablementSuite) TestChangeAddsAPortAfterApproval() {
	in := s.liveLink(uniRequest())
	change := request.Change{RequestedBy: sam, Reason: "the customer adds RabbitMQ", AddServices: []request.Service{{Name: "amqp", Port: 5672}}}
	var planned *ChangeResult
	var plannedOut *updateOutcome
	var atGate, done Status
	s.at(10*time.Minute, func() {
		s.calls.reset()
		planned, plannedOut = s.changeUpdate(change)
	})
	s.at(20*time.Minute, func() {
		atGate = s.status()
		s.update(Approve, Approval{Gate: GateApplyChange, Approver: sam}) // the requester: refused
	})
	s.at(30*time.Minute, func() { s.approve(GateApplyChange, alice) })
	s.at(40*time.Minute, func() { done = s.status() })
	s.stopAt(time.Hour)
	s.startLive(in)

	s.Require().NoError(plannedOut.failed)
	s.Equal(uniRequest().WorkflowID()+"/change/1", planned.WorkflowID)
	s.False(planned.DryRun)
	s.Require().NotEmpty(planned.Plan)
	s.Equal("open ports 5672", planned.Plan[0].Action)
	s.Equal(PhaseChanging, atGate.Phase)
	s.Equal(GateApplyChange, atGate.Gate)
	s.Equal(PhaseLive, done.Phase)
	s.Contains(done.Spec.Services, request.Service{Name: "amqp", Port: 5672})
	s.Equal([]string{"open [5672]"}, s.calls.list())
	actions := auditActions(done)
	s.Contains(actions, "sam@platform.example: approve apply-change refused (update)")
	s.Contains(actions, "alice@platform.example: approve apply-change (update)")
	s.Contains(actions, "linkwright: change applied")
	text := s.ticketText()
	s.Contains(text, "Plan for a change")
	s.Contains(text, "[public=true] These services are now open to you")
	st, err := s.cloud.ServiceState(context.Background(), s.ref)
	s.Require().NoError(err)
	s.Contains(st.OpenPorts, 5672)
}

func (s *EnablementSuite) TestDryRunChangesNothing() {
	in := s.liveLink(uniRequest())
	var planned *ChangeResult
	var out *updateOutcome
	var after Status
	s.at(10*time.Minute, func() {
		s.calls.reset()
		planned, out = s.changeUpdate(request.Change{RequestedBy: sam, Reason: "what would it take", RemovePorts: []int{2222}, DryRun: true})
	})
	s.at(20*time.Minute, func() { after = s.status() })
	s.stopAt(time.Hour)
	s.startLive(in)
	s.Require().NoError(out.failed)
	s.True(planned.DryRun)
	s.Equal(OutcomePlanned, planned.Outcome)
	s.Equal([]string{"tell the customer", "close ports 2222"}, []string{planned.Plan[0].Action, planned.Plan[1].Action})
	s.Empty(s.calls.list(), "a dry run changes nothing")
	s.Equal(in.Spec.Services, after.Spec.Services)
	s.Equal(PhaseLive, after.Phase)
}

func (s *EnablementSuite) TestChangeRejectedAtItsGateChangesNothing() {
	in := s.liveLink(uniRequest())
	var after Status
	s.at(10*time.Minute, func() {
		s.calls.reset()
		s.changeUpdate(request.Change{RequestedBy: sam, Reason: "close sftp", RemovePorts: []int{2222}})
	})
	s.at(20*time.Minute, func() {
		s.update(Reject, Rejection{Gate: GateApplyChange, Approver: alice, Reason: "the customer still uses sftp"})
	})
	s.at(30*time.Minute, func() { after = s.status() })
	s.stopAt(time.Hour)
	s.startLive(in)
	s.Empty(s.calls.list(), "nothing changed in the cloud")
	s.Equal(in.Spec.Services, after.Spec.Services)
	s.Equal(PhaseLive, after.Phase)
	s.Contains(auditActions(after), "alice@platform.example: rejected")
}

func (s *EnablementSuite) TestChangeRemovesAPortTellingTheCustomerFirst() {
	in := s.liveLink(uniRequest())
	var done Status
	s.at(10*time.Minute, func() {
		s.calls.reset()
		s.changeUpdate(request.Change{RequestedBy: sam, Reason: "sftp retired", RemovePorts: []int{2222}})
	})
	s.at(20*time.Minute, func() { s.approve(GateApplyChange, alice) })
	s.at(30*time.Minute, func() { done = s.status() })
	s.stopAt(time.Hour)
	s.startLive(in)
	s.Equal([]string{"close [2222]"}, s.calls.list())
	s.Equal([]request.Service{{Name: "mysql", Port: 3306}}, done.Spec.Services)
	text := s.ticketText()
	told := strings.Index(text, "we are closing sftp (port 2222)")
	s.Greater(told, 0, "the customer is told before the port closes")
	s.Equal(PhaseLive, done.Phase)
}

func (s *EnablementSuite) TestChangeReplacesTheCustomerAccountInTheSafeOrder() {
	in := s.liveLink(uniRequest())
	const next = "210000000099"
	var waiting, done Status
	s.at(10*time.Minute, func() {
		s.calls.reset()
		s.changeUpdate(request.Change{RequestedBy: sam, Reason: "the customer moves accounts", ReplaceCustomerAccount: next})
	})
	s.at(20*time.Minute, func() { s.approve(GateApplyChange, alice) })
	s.at(2*time.Hour, func() {
		waiting = s.status()
		_, err := s.cloud.Customer("aws", next).CreateEndpoint(s.platformService())
		s.Require().NoError(err)
		s.signal(SignalCustomerEndpointCreated, nil)
	})
	s.at(4*time.Hour, func() { done = s.status() })
	s.stopAt(5 * time.Hour)
	s.startLive(in)

	s.Equal(PhaseChanging, waiting.Phase)
	s.Equal(WaitingOnCustomer, waiting.WaitingOn, "the new account must connect")
	s.Equal(PhaseLive, done.Phase, done.Next)
	s.Equal([]string{next}, done.Spec.Accounts)
	s.Require().Len(done.Spec.Connections, 1)
	s.NotEqual(in.Spec.Connections[0], done.Spec.Connections[0])
	s.Equal([]string{"allow", "accept", "reject", "revoke"}, kinds(s.calls.list()),
		"the new account is allowed and accepted before the old one's connection is rejected and the account revoked")
	s.Equal("revoke "+customerAccount, s.calls.list()[3])
	s.Contains(auditActions(done), "linkwright: gate accept-connection covered by the approved plan")
}

func (s *EnablementSuite) TestChangeCancelledPartWayUndoesOnlyItsOwnSteps() {
	in := s.liveLink(uniRequest())
	const next = "210000000099"
	var done Status
	s.at(10*time.Minute, func() {
		s.changeUpdate(request.Change{RequestedBy: sam, Reason: "new account and AMQP", ReplaceCustomerAccount: next,
			AddServices: []request.Service{{Name: "amqp", Port: 5672}}})
	})
	s.at(20*time.Minute, func() {
		s.calls.reset()
		s.approve(GateApplyChange, alice)
	})
	// The new account never connects: the change is cancelled.
	s.at(3*time.Hour, func() { s.update(Cancel, Cancellation{Approver: bob, Reason: "the customer changed their mind"}) })
	s.at(4*time.Hour, func() { done = s.status() })
	s.stopAt(5 * time.Hour)
	s.startLive(in)
	s.Equal([]string{"open [5672]", "allow " + next, "revoke " + next, "close [5672]"}, s.calls.list(),
		"only what the change did is undone, in reverse order; the old account and its ports are untouched")
	s.Equal(in.Spec.Services, done.Spec.Services)
	s.Equal(in.Spec.Accounts, done.Spec.Accounts)
	s.Equal(PhaseLive, done.Phase)
	s.Contains(auditActions(done), "bob@platform.example: cancelled")
}

func (s *EnablementSuite) TestChangeAddsAndRemovesAReverseConnection() {
	in := s.liveLink(uniRequest())
	const other = "com.amazonaws.vpce.us-east-1.vpce-svc-0aaaabbbbccccdddd"
	var added, removed Status
	s.at(10*time.Minute, func() {
		s.changeUpdate(request.Change{RequestedBy: sam, Reason: "reach their Redis", AddCustomerServices: []request.CustomerService{{Service: other, Ports: []int{36379}}}})
	})
	s.at(20*time.Minute, func() { s.approve(GateApplyChange, alice) })
	s.at(time.Hour, func() {
		s.Require().NoError(s.customer().Grant(other, "arn:aws:iam::210987654321:root", []int{36379}))
		s.signal(SignalCustomerAccessGranted, nil)
	})
	s.at(2*time.Hour, func() {
		pending, err := s.customer().PendingOnService(other)
		s.Require().NoError(err)
		s.Require().Len(pending, 1, "the change created one endpoint, with no second gate")
		s.Require().NoError(s.customer().AcceptEndpoint(pending[0].ID))
		s.signal(SignalCustomerConnectionAccepted, nil)
	})
	s.at(3*time.Hour, func() {
		added = s.status()
		s.calls.reset()
		s.changeUpdate(request.Change{RequestedBy: sam, Reason: "Redis retired", RemoveCustomerServices: []string{other}})
	})
	s.at(3*time.Hour+10*time.Minute, func() { s.approve(GateApplyChange, bob) })
	s.at(4*time.Hour, func() { removed = s.status() })
	s.stopAt(5 * time.Hour)
	s.startLive(in)

	s.Require().Len(added.Spec.Reverse, 1, added.Next)
	s.Equal(other, added.Spec.Reverse[0].Service)
	s.Equal(request.Bidirectional, added.Spec.ConnectionType)
	s.Equal(PhaseLive, added.Phase)
	s.Empty(removed.Spec.Reverse)
	s.Equal(request.Unidirectional, removed.Spec.ConnectionType)
	s.Equal([]string{"delete endpoint " + added.Spec.Reverse[0].EndpointID}, s.calls.list())
	s.Contains(s.ticketText(), "You may now remove the platform's access to it")
}

// An approved plan covers the gates of the steps it lists once: when the
// customer rejects the endpoint the change created, the gate opens again
// and waits for an approver before a second endpoint is made.
func (s *EnablementSuite) TestChangePlanApprovalCoversAGateOnce() {
	in := s.liveLink(uniRequest())
	const other = "com.amazonaws.vpce.us-east-1.vpce-svc-0aaaabbbbccccdddd"
	var reopened, done Status
	var firstID string
	s.at(10*time.Minute, func() {
		s.changeUpdate(request.Change{RequestedBy: sam, Reason: "reach their Redis", AddCustomerServices: []request.CustomerService{{Service: other, Ports: []int{36379}}}})
	})
	s.at(20*time.Minute, func() { s.approve(GateApplyChange, alice) })
	s.at(time.Hour, func() {
		s.Require().NoError(s.customer().Grant(other, "arn:aws:iam::210987654321:root", []int{36379}))
		s.signal(SignalCustomerAccessGranted, nil)
	})
	s.at(2*time.Hour, func() {
		pending, err := s.customer().PendingOnService(other)
		s.Require().NoError(err)
		s.Require().Len(pending, 1)
		firstID = pending[0].ID
		s.Require().NoError(s.customer().RejectEndpoint(firstID))
		s.signal(SignalCustomerConnectionAccepted, nil)
	})
	s.at(3*time.Hour, func() {
		reopened = s.status()
		pending, err := s.customer().PendingOnService(other)
		s.Require().NoError(err)
		s.Empty(pending, "no second endpoint before an approver says so")
		s.approve(GateCreateReverseEndpoint, bob)
	})
	s.at(4*time.Hour, func() {
		pending, err := s.customer().PendingOnService(other)
		s.Require().NoError(err)
		s.Require().Len(pending, 1)
		s.NotEqual(firstID, pending[0].ID)
		s.Require().NoError(s.customer().AcceptEndpoint(pending[0].ID))
		s.signal(SignalCustomerConnectionAccepted, nil)
	})
	s.at(5*time.Hour, func() { done = s.status() })
	s.stopAt(6 * time.Hour)
	s.startLive(in)

	s.Equal(GateCreateReverseEndpoint, reopened.Gate, reopened.Next)
	s.Equal(WaitingOnOperator, reopened.WaitingOn)
	s.Require().Len(done.Spec.Reverse, 1, done.Next)
	s.NotEqual(firstID, done.Spec.Reverse[0].EndpointID)
	actions := auditActions(done)
	covered := 0
	for _, a := range actions {
		if a == "linkwright: gate create-reverse-endpoint covered by the approved plan" {
			covered++
		}
	}
	s.Equal(1, covered, "%q", actions)
	s.Contains(actions, "linkwright: opened gate", "the second time, the gate waits")
}

func (s *EnablementSuite) TestTeardownRemovesEverythingInOrder() {
	in := s.liveLink(biRequest(35432))
	var planned *ChangeResult
	var final Result
	s.at(10*time.Minute, func() {
		s.calls.reset()
		planned, _ = s.teardownUpdate(request.Teardown{RequestedBy: sam, Reason: "the customer leaves"})
	})
	s.at(20*time.Minute, func() { s.approve(GateTeardown, alice) })
	s.startLive(in)
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowResult(&final))
	s.Equal(OutcomeTornDown, final.Outcome)
	s.Equal(PhaseTornDown, final.Status.Phase)
	s.Equal(uniRequest().WorkflowID()+"/teardown", planned.WorkflowID)
	s.Equal([]string{"delete", "reject", "revoke", "close"}, kinds(s.calls.list()),
		"the platform's own endpoints first, then the customer's connections, the accounts, the ports")
	inv, err := s.cloud.Inventory(context.Background(), s.ref, []string{customerService})
	s.Require().NoError(err)
	s.Empty(inv.Accounts)
	s.NotContains(inv.OpenPorts, 3306)
	for _, c := range inv.Connections {
		s.True(c.State.Terminal(), "connection %s is %s", c.ID, c.State)
	}
	for _, ep := range inv.Endpoints {
		s.True(ep.State.Terminal(), "endpoint %s is %s", ep.ID, ep.State)
	}
	text := s.ticketText()
	s.Less(strings.Index(text, "You may now delete the service"), strings.Index(text, "has been removed"))
	// The operator's reason is for the platform: an internal note, never
	// a public reply or the rejection the customer sees on their side.
	s.Contains(text, "[public=false] Teardown complete (the customer leaves), requested by sam@platform.example")
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "[public=true]") {
			s.NotContains(line, "the customer leaves")
		}
	}
	s.Contains(s.calls.list()[1], "because the PrivateLink was removed (ticket PL-0001)")
	s.NotContains(s.calls.list()[1], "the customer leaves")
	s.Contains(auditActions(final.Status), "linkwright: read the cloud back")
}

func (s *EnablementSuite) TestForgedChildrenAreRefused() {
	s.newEnv()
	s.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: uniRequest().WorkflowID() + "/teardown", TaskQueue: TaskQueue})
	s.env.ExecuteWorkflow(PrivateLinkTeardown, OpInput{LinkID: uniRequest().WorkflowID(), Teardown: &request.Teardown{RequestedBy: "mallory@elsewhere.example", Reason: "x"}})
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	s.Contains(err.Error(), "runs only as a child of the live link")
	inv, ierr := s.cloud.Inventory(context.Background(), s.ref, nil)
	s.Require().NoError(ierr)
	s.Empty(inv.OpenPorts)
}

// updateCallback takes an update's outcome and its result.
type updateCallback struct {
	out *updateOutcome
	res any
}

func (c *updateCallback) Accept() {}

func (c *updateCallback) Reject(err error) { c.out.rejected, c.out.done = err, true }

func (c *updateCallback) Complete(success any, err error) {
	c.out.failed, c.out.done = err, true
	if err == nil && success != nil {
		data, merr := json.Marshal(success)
		if merr == nil {
			_ = json.Unmarshal(data, c.res)
		}
	}
}

// TestAYearOfHourlyChecksKeepsEachRunBounded runs the live link for a year
// of hourly checks, run after run, and bounds every run's history.
func (s *EnablementSuite) TestAYearOfHourlyChecksKeepsEachRunBounded() {
	in := s.liveLink(uniRequest())
	const year = 365 * 24
	checks, runs, worst, firstDay := 0, 0, 0, 0
	for checks < year {
		if runs > 0 {
			s.newEnv()
		}
		if runs == 0 {
			// A day of hourly checks, counted on its own for the note.
			var day int
			s.at(24*time.Hour-time.Minute, func() { day = s.counter.events() })
			defer func() { s.T().Logf("estimated history events of the first day of hourly checks: %d", firstDay) }()
			s.startLive(in)
			firstDay = day
		} else {
			s.startLive(in)
		}
		var can *workflow.ContinueAsNewError
		s.Require().ErrorAs(s.env.GetWorkflowError(), &can, "run %d continues as new", runs)
		s.Equal(LiveWorkflow, can.WorkflowType.Name)
		var next LiveInput
		s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
		s.Equal(in.Spec, next.Spec, "the spec is carried unchanged")
		s.LessOrEqual(len(next.Audit), keepAudit, "the carried audit trail is bounded")
		s.Equal(runs+1, next.Run)
		checks += next.Health.Checks
		worst = max(worst, s.counter.events())
		runs++
		in = next
	}
	s.T().Logf("a year of hourly checks: %d runs, at most %d estimated history events per run", runs, worst)
	s.Equal(year/maxChecksPerRun+1, runs)
	s.LessOrEqual(worst, maxChecksPerRun*16+300, "each run's history stays under a fixed bound")
	s.Greater(firstDay, 24*8, "the estimate counts the day's checks")
}

func (s *EnablementSuite) TestContinueAsNewFinishesHandlersFirst() {
	in := s.liveLink(uniRequest())
	out, res := &updateOutcome{}, &TestResult{}
	// The server suggests continuing as new while a check and an update
	// run: the update must finish first, and nothing is lost.
	s.at(30*time.Minute, func() {
		s.env.SetContinueAsNewSuggested(true)
		s.signal(SignalCheckNow, nil)
		s.env.UpdateWorkflow(UpdateTestConnection, "t1", &updateCallback{out: out, res: res}, TestConnection{})
	})
	s.startLive(in)
	var can *workflow.ContinueAsNewError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &can)
	s.True(out.done, "the update finished before the run continued as new")
	s.NoError(out.failed)
	s.True(res.OK)
	var next LiveInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Contains(auditActions(Status{Audit: next.Audit}), "linkwright: tested the connection")
	s.Contains(auditActions(Status{Audit: next.Audit}), "linkwright: completed", "the enablement's audit is carried")
}

func (s *EnablementSuite) adoptRequest() request.Adopt {
	return request.Adopt{Company: "Acme Corp", RequestedBy: sam, ProjectID: s.ref.Project, Environment: s.ref.Environment, Cloud: "aws", Region: "us-east-1",
		CustomerAccount: customerAccount, Services: []request.Service{{Name: "mysql", Port: 3306}}}
}

func (s *EnablementSuite) startAdopt(data []byte) {
	s.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: uniRequest().WorkflowID(), TaskQueue: TaskQueue})
	s.env.ExecuteWorkflow(PrivateLinkLive, json.RawMessage(data))
}

func (s *EnablementSuite) TestAdoptionReadsTheCloudAndWaitsForAnApprover() {
	ctx := context.Background()
	// A link built by hand: port 3306 open, the customer allowed and connected.
	s.Require().NoError(s.cloud.OpenPorts(ctx, s.ref, []int{3306}))
	s.Require().NoError(s.cloud.AllowAccount(ctx, s.ref, customerAccount))
	ep, err := s.customer().CreateEndpoint(s.platformService())
	s.Require().NoError(err)
	s.Require().NoError(s.cloud.AcceptConnections(ctx, s.ref, []string{ep.ID}))
	s.calls.reset()
	var atGate, live Status
	s.at(time.Hour, func() {
		atGate = s.status()
		s.update(Approve, Approval{Gate: GateAdopt, Approver: sam}) // the requester: refused
		s.approve(GateAdopt, alice)
	})
	s.at(2*time.Hour, func() { live = s.status() })
	s.stopAt(3 * time.Hour)
	data, err := json.Marshal(s.adoptRequest())
	s.Require().NoError(err)
	s.startAdopt(data)

	s.Equal(PhaseAwaitingApproval, atGate.Phase)
	s.Equal(GateAdopt, atGate.Gate)
	s.Require().NotNil(atGate.Spec)
	s.Equal([]request.Service{{Name: "mysql", Port: 3306}}, atGate.Spec.Services)
	s.Equal([]string{customerAccount}, atGate.Spec.Accounts)
	s.Equal([]string{ep.ID}, atGate.Spec.Connections)
	s.Equal(PhaseLive, live.Phase)
	s.True(live.Health.Healthy)
	s.Empty(s.calls.list(), "adoption changes nothing in the cloud")
	actions := auditActions(live)
	s.Contains(actions, "sam@platform.example: approve adopt refused (update)")
	s.Contains(actions, "linkwright: adopted")
	s.Contains(s.ticketText(), "Linkwright was asked to adopt this link")
}

func (s *EnablementSuite) TestCarriedStateFromOutsideIsNotTrusted() {
	// A stranger starts the live link with a made-up spec, as if it had
	// continued as new: without a run before it, it is an adopt request,
	// and this one is not valid.
	forged, err := json.Marshal(LiveInput{Spec: Spec{Project: s.ref.Project, Environment: "production", Cloud: "aws", Accounts: []string{"999999999999"}}})
	s.Require().NoError(err)
	s.startAdopt(forged)
	err = s.env.GetWorkflowError()
	s.Require().Error(err)
	s.Contains(err.Error(), "spec is not an adopt request field")
	st, serr := s.cloud.ServiceState(context.Background(), s.ref)
	s.Require().NoError(serr)
	s.Empty(st.Accounts, "nothing was allowed")
}
