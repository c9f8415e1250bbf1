package workflows

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/internal/ticket"
)

func clientOptions(id string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, TaskQueue: TaskQueue}
}

// publicReplies are the ticket's comments the customer sees.
func (s *EnablementSuite) publicReplies() []string {
	_, comments, err := s.tracker.Read("PL-0001")
	s.Require().NoError(err)
	var out []string
	for _, c := range comments {
		if c.Public {
			out = append(out, c.Body)
		}
	}
	return out
}

// assertPublicRepliesClean checks that nothing meant for engineers reached
// the customer: no loopback or simulated addresses, no resolver or dial
// errors, no instructions about the customer.
func (s *EnablementSuite) assertPublicRepliesClean() {
	for _, body := range s.publicReplies() {
		for _, internal := range []string{"127.", sim.Zone, "simulated", "corrupt", "ask the customer", "dig ", "tcpdump", "server misbehaving", "lookup "} {
			s.NotContains(body, internal, "a public reply carries internal text: %q", body)
		}
	}
}

// toReverseGate plays a bidirectional enablement up to gate
// create-reverse-endpoint, which opens three hours in: the customer
// connects, alice accepts, the customer grants the platform on port.
func (s *EnablementSuite) toReverseGate(port int) {
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	s.at(3*time.Hour, func() { s.customerGrants(port) })
}

func (s *EnablementSuite) undone(st Status) []string {
	var out []string
	for _, a := range st.Audit {
		if a.Action == "undone" {
			out = append(out, a.Detail)
		}
	}
	return out
}

// A decision signalled straight to the reverse link by a stranger is
// checked there, refused and audited: the gate stays shut and no endpoint
// is created into the customer's service.
func (s *EnablementSuite) TestForgedDecisionToTheReverseLinkIsRefused() {
	const port = 25440
	id := biRequest(port).WorkflowID()
	s.toReverseGate(port)
	s.at(4*time.Hour, func() {
		for _, d := range []any{
			decision{Kind: Approve, Gate: GateCreateReverseEndpoint, Approver: "mallory@evil.example"},
			decision{Kind: Approve, Gate: GateCreateReverseEndpoint, Approver: sam}, // the requester
			decision{Kind: Approve, Gate: GateAcceptConnection, Approver: alice},    // not the open gate
			decision{Kind: Cancel, Approver: alice, Text: "x"},
			"not a decision",
		} {
			s.Require().NoError(s.env.SignalWorkflowByID(id+"/reverse", signalReverseDecision, d))
		}
	})
	var during Status
	s.at(5*time.Hour, func() {
		during = s.status()
		s.update(Reject, Rejection{Gate: GateCreateReverseEndpoint, Approver: bob, Reason: "end of test"})
	})
	s.start(biRequest(port))

	s.Equal(PhaseAwaitingApproval, during.Phase)
	s.Equal(GateCreateReverseEndpoint, during.Gate, "the gate is still shut")
	s.Empty(during.ReverseEndpointID)
	actions := auditActions(during)
	s.Contains(actions, "mallory@evil.example: approve create-reverse-endpoint refused (reverse link)")
	s.Contains(actions, "sam@platform.example: approve create-reverse-endpoint refused (reverse link)")
	s.Contains(actions, "alice@platform.example: approve accept-connection refused (reverse link)")
	s.Contains(actions, "alice@platform.example: cancel refused (reverse link)")
	s.Contains(actions, "unknown: decision refused (reverse link)")
	pending, err := s.customer().PendingOnService(customerService)
	s.NoError(err)
	s.Empty(pending, "no endpoint was created into the customer's service")
	s.Equal(OutcomeRejected, s.result().Outcome)
}

// A forged reverse-progress signal carries nothing the enablement trusts:
// it neither ends the enablement nor writes its audit trail, and real
// decisions are still taken.
func (s *EnablementSuite) TestForgedProgressChangesNothing() {
	const port = 25441
	s.toReverseGate(port)
	forged := json.RawMessage(`{"version": 999, "phase": "completed", "waitingOn": "none", "gate": "",
		"audit": [{"at": "2026-11-23T12:00:00Z", "actor": "alice@platform.example", "action": "approve create-reverse-endpoint (update)"}]}`)
	var during Status
	var approval *updateOutcome
	s.at(4*time.Hour, func() { s.signal(signalReverseProgress, forged) })
	s.at(4*time.Hour+time.Minute, func() {
		during = s.status()
		approval = s.approve(GateCreateReverseEndpoint, bob)
	})
	s.at(5*time.Hour, func() { s.customerAcceptsReverse() })
	s.at(6*time.Hour, s.customerConfirms)
	s.start(biRequest(port))

	s.Equal(PhaseAwaitingApproval, during.Phase, "the forged phase was not taken")
	s.Equal(GateCreateReverseEndpoint, during.Gate)
	s.NotContains(auditActions(during), "alice@platform.example: approve create-reverse-endpoint (update)", "no forged audit entry")
	s.NoError(approval.failed, "the real approval is taken")
	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	s.Equal(1, count(auditActions(r.Status), "bob@platform.example: approve create-reverse-endpoint (update)"))
	s.NotContains(auditActions(r.Status), "alice@platform.example: approve create-reverse-endpoint (update)")
}

// The reverse link's result carries its whole audit trail: even when the
// enablement's reads of its status stop after the approval, the steps after
// it (acceptance, verification) are in the enablement's final audit.
func (s *EnablementSuite) TestReverseAuditIsNotLostWhenReportsAre() {
	const port = 25442
	s.toReverseGate(port)
	s.at(4*time.Hour, func() {
		s.memos.freeze() // every report from now on is lost
		s.approve(GateCreateReverseEndpoint, bob)
	})
	var frozen Status
	s.at(4*time.Hour+30*time.Minute, func() { frozen = s.status() })
	s.at(5*time.Hour, func() { s.customerAcceptsReverse() })
	s.at(6*time.Hour, s.customerConfirms)
	s.start(biRequest(port))

	s.Equal(PhaseAwaitingApproval, frozen.Phase, "the reads stopped: the mirror is behind")
	s.NotContains(auditActions(frozen), "linkwright: created the reverse endpoint")
	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	actions := auditActions(r.Status)
	for _, want := range []string{
		"linkwright: asked for access", "customer: granted access", "linkwright: opened gate",
		"bob@platform.example: approve create-reverse-endpoint (reverse link)", "linkwright: created the reverse endpoint",
		"customer: accepted the reverse endpoint", "linkwright: verified the reverse link",
	} {
		s.Contains(actions, want)
	}
	for i := 1; i < len(r.Status.Audit); i++ {
		s.False(r.Status.Audit[i].At.Before(r.Status.Audit[i-1].At), "the audit trail is in time order")
	}
}

// PrivateLinkReverseLink started by anyone but its enablement refuses to
// run: it would otherwise act on an input no one checked.
func (s *EnablementSuite) TestReverseLinkRunsOnlyAsAChild() {
	s.env.SetStartWorkflowOptions(clientOptions("privatelink/abcd1234efgh5/production/aws/reverse"))
	s.env.ExecuteWorkflow(PrivateLinkReverseLink, ReverseInput{ParentID: "privatelink/abcd1234efgh5/production/aws", Request: biRequest(25443)})
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	s.Contains(err.Error(), "runs only as the child of the enablement")
	s.Empty(s.connections())
}

// runToCompletion runs a unidirectional enablement to completion in the
// current environment.
func (s *EnablementSuite) runToCompletion() Result {
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	s.at(3*time.Hour, s.customerConfirms)
	s.start(uniRequest())
	r := s.result()
	s.Require().Equal(OutcomeCompleted, r.Outcome)
	return r
}

// A second enablement on a link that already works finds the ports open,
// the account allowed and the connection accepted: it changed none of it,
// so cancelling it removes none of it.
func (s *EnablementSuite) TestRerunOnALiveLinkUndoesNothingItDidNotDo() {
	first := s.runToCompletion()
	s.newEnv()
	var cancel *updateOutcome
	s.at(time.Hour, func() {
		cancel = s.update(Cancel, Cancellation{Approver: alice, Reason: "started by mistake"})
	})
	s.start(uniRequest())

	r := s.result()
	s.Equal(OutcomeCancelled, r.Outcome)
	s.NoError(cancel.failed)
	s.Empty(s.undone(r.Status), "nothing was this run's to undo")
	actions := auditActions(r.Status)
	s.Contains(actions, "linkwright: found ports open")
	s.Contains(actions, "linkwright: found the customer allowed")
	s.Contains(actions, "linkwright: found connections already accepted")
	s.NotContains(actions, "linkwright: opened gate", "an accepted connection needs no approval")
	targets, err := s.cloud.TargetHealth(context.Background(), s.ref, []int{3306, 2222})
	s.Require().NoError(err)
	for _, t := range targets {
		s.True(t.Healthy, "port %d is still open", t.Port)
	}
	conns := s.connections()
	s.Require().Len(conns, 1)
	s.Equal(first.Status.CustomerEndpoints[0], conns[0].ID)
	s.Equal(cloud.StateAvailable, conns[0].State, "the live link's connection is untouched")
	state, err := s.cloud.ServiceState(context.Background(), s.ref)
	s.Require().NoError(err)
	s.Contains(state.Accounts, customerAccount, "the customer is still allowed")
}

// The reverse endpoint's idempotency token is unique per run: a re-run
// after a cancel gets a new endpoint, not the first run's deleted one back.
func (s *EnablementSuite) TestReverseEndpointTokenIsUniquePerRun() {
	const port = 25444
	s.toReverseGate(port)
	s.at(4*time.Hour, func() { s.approve(GateCreateReverseEndpoint, bob) })
	var first string
	s.at(5*time.Hour, func() {
		first = s.status().ReverseEndpointID
		s.update(Cancel, Cancellation{Approver: alice, Reason: "try again"})
	})
	s.start(biRequest(port))
	s.Require().Equal(OutcomeCancelled, s.result().Outcome)
	s.Require().NotEmpty(first)

	s.newEnv()
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	s.at(3*time.Hour, func() { s.approve(GateCreateReverseEndpoint, bob) })
	var second Status
	s.at(4*time.Hour, func() {
		second = s.status()
		s.update(Cancel, Cancellation{Approver: alice, Reason: "end of test"})
	})
	s.start(biRequest(port))

	s.Equal(PhaseAwaitingEndpoint, second.Phase)
	s.NotEmpty(second.ReverseEndpointID)
	s.NotEqual(first, second.ReverseEndpointID, "a new endpoint, not the first run's")
	s.NotContains(s.ticketText(), "was rejected, so we removed it")
}

// An endpoint into the customer's service made before this run (by a run
// that was terminated, or by hand) is adopted: no second endpoint, no
// gate for creating one, and cancelling leaves it in place.
func (s *EnablementSuite) TestExistingReverseEndpointIsAdopted() {
	const port = 25445
	s.Require().NoError(s.customer().Grant(customerService, "arn:aws:iam::"+sim.PlatformAWSAccount+":root", []int{port}))
	byHand, err := s.cloud.CreateEndpoint(context.Background(), cloud.EndpointSpec{Env: s.ref, Service: customerService, Token: "made-by-hand"})
	s.Require().NoError(err)
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	var adopted Status
	s.at(3*time.Hour, func() {
		adopted = s.status()
		s.update(Cancel, Cancellation{Approver: alice, Reason: "end of test"})
	})
	s.start(biRequest(port))

	s.Equal(OutcomeCancelled, s.result().Outcome)
	s.Equal(PhaseAwaitingEndpoint, adopted.Phase, "no gate: nothing to create")
	s.Equal(byHand.ID, adopted.ReverseEndpointID)
	s.NotContains(auditActions(adopted), "linkwright: created the reverse endpoint")
	ep, err := s.cloud.DescribeEndpoint(context.Background(), s.ref, byHand.ID)
	s.Require().NoError(err)
	s.Equal(cloud.StatePendingAcceptance, ep.State, "undo left the adopted endpoint in place")
	pending, err := s.customer().PendingOnService(customerService)
	s.Require().NoError(err)
	s.Len(pending, 1, "no second endpoint")
}

// A customer who deletes the endpoint before it is accepted gets a clear
// answer and the run waits for a new one, instead of failing.
func (s *EnablementSuite) TestEndpointDeletedBeforeAcceptWaitsForANewOne() {
	var first string
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() {
		first = s.status().CustomerEndpoints[0]
		s.Require().NoError(s.customer().DeleteEndpoint(first))
		s.approve(GateAcceptConnection, alice)
	})
	var waiting Status
	s.at(3*time.Hour, func() {
		waiting = s.status()
		s.customerConnects()
	})
	s.at(4*time.Hour, func() { s.approve(GateAcceptConnection, bob) })
	s.at(5*time.Hour, s.customerConfirms)
	s.start(uniRequest())

	s.NoError(s.runError())
	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	s.Equal(PhaseAwaitingConnection, waiting.Phase)
	s.Require().Len(r.Status.CustomerEndpoints, 1)
	s.NotEqual(first, r.Status.CustomerEndpoints[0])
	s.Contains(auditActions(r.Status), "customer: closed the connection request before it was accepted")
	s.Contains(s.ticketText(), "was deleted or closed before we could accept it")
}

// Cancel leaves no customer endpoint waiting for acceptance: neither one
// the run saw at its gate, nor one the customer made that the run had not
// seen yet (it allowed the account, so the request was for this run).
func (s *EnablementSuite) TestCancelRejectsWaitingConnections() {
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.update(Cancel, Cancellation{Approver: alice, Reason: "customer withdrew"}) })
	s.start(uniRequest())
	s.Equal(OutcomeCancelled, s.result().Outcome)
	s.assertUndone()
	s.Require().Len(s.connections(), 1)

	s.SetupTest()
	s.policy.PollMax = config.Duration(24 * time.Hour)
	s.at(3*time.Hour, func() {
		_, err := s.customer().CreateEndpoint(s.platformService()) // no signal: the run has not seen it
		s.Require().NoError(err)
	})
	var unseen Status
	s.at(3*time.Hour+time.Minute, func() {
		unseen = s.status()
		s.update(Cancel, Cancellation{Approver: alice, Reason: "customer withdrew"})
	})
	s.start(uniRequest())
	s.Equal(PhaseAwaitingConnection, unseen.Phase)
	s.Equal(OutcomeCancelled, s.result().Outcome)
	s.assertUndone()
	s.Require().Len(s.connections(), 1)
}

// A resolver that cannot answer for a moment is retried, not reported:
// the customer hears nothing about it and the link is verified.
func (s *EnablementSuite) TestTransientDNSFailureIsNotToldToTheCustomer() {
	const port = 25446
	s.toReverseGate(port)
	s.at(4*time.Hour, func() { s.approve(GateCreateReverseEndpoint, bob) })
	s.at(5*time.Hour, func() {
		s.resolver.mu.Lock()
		s.resolver.failNext = 3
		s.resolver.mu.Unlock()
		s.customerAcceptsReverse()
	})
	s.at(6*time.Hour, s.customerConfirms)
	s.start(biRequest(port))

	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	s.NotContains(auditActions(r.Status), "linkwright: reverse link failed verification")
	s.NotContains(s.ticketText(), "We cannot reach your service yet")
	s.assertPublicRepliesClean()
}

// Every activity heartbeats: a worker killed mid-call is noticed after the
// heartbeat timeout, not after the whole start-to-close timeout.
func (s *EnablementSuite) TestEveryActivityHasAHeartbeatTimeout() {
	s.runToCompletion()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.NotEmpty(s.started)
	for _, info := range s.started {
		if info.IsLocalActivity {
			continue
		}
		s.Positive(info.HeartbeatTimeout, "%s has no heartbeat timeout", info.ActivityType.Name)
		s.Greater(info.StartToCloseTimeout, info.HeartbeatTimeout, info.ActivityType.Name)
	}
}

// A refusal of a malformed request that names an existing ticket is noted
// there; one naming a ticket that does not exist opens none.
func (s *EnablementSuite) TestRefusalGoesOnlyToANamedExistingTicket() {
	tk, err := s.tracker.Open(context.Background(), ticket.OpenRequest{Company: "Acme Corp", Project: "abcd1234efgh5"})
	s.Require().NoError(err)
	req := uniRequest()
	req.Ticket = tk.Key
	req.Services = []request.Service{{Name: "ssh", Port: 22}}
	s.start(req)
	s.Require().Error(s.env.GetWorkflowError())
	s.Contains(s.ticketText(), "services[0].port")
	s.Contains(s.ticketText(), "Nothing was changed in the cloud")

	s.SetupTest()
	req.Ticket = "PL-0042"
	s.start(req)
	s.Require().Error(s.env.GetWorkflowError())
	_, _, err = s.tracker.Read("PL-0001")
	s.ErrorIs(err, ticket.ErrNotFound, "no ticket was opened")
	s.Contains(strings.Join(auditActions(s.status()), "\n"), "linkwright: refusal not posted")
}

// An adopted endpoint the customer rejects is not this run's to delete:
// it is left as it is, the customer is not told it was removed, and the
// gate opens for a new one.
func (s *EnablementSuite) TestRejectedAdoptedEndpointIsNotRemoved() {
	const port = 25448
	s.Require().NoError(s.customer().Grant(customerService, "arn:aws:iam::"+sim.PlatformAWSAccount+":root", []int{port}))
	byHand, err := s.cloud.CreateEndpoint(context.Background(), cloud.EndpointSpec{Env: s.ref, Service: customerService, Token: "made-by-hand"})
	s.Require().NoError(err)
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	s.at(3*time.Hour, func() {
		s.Require().NoError(s.customer().RejectEndpoint(byHand.ID))
		s.signal(SignalCustomerConnectionAccepted, CustomerEvent{Detail: "rejected it"})
	})
	var after Status
	s.at(4*time.Hour, func() {
		after = s.status()
		s.update(Cancel, Cancellation{Approver: alice, Reason: "end of test"})
	})
	s.start(biRequest(port))

	s.Equal(GateCreateReverseEndpoint, after.Gate, "the gate opens for a new endpoint")
	text := s.ticketText()
	s.Contains(text, "Endpoint "+byHand.ID+" to your service was rejected.")
	s.NotContains(text, "so we removed it")
	ep, err := s.cloud.DescribeEndpoint(context.Background(), s.ref, byHand.ID)
	s.Require().NoError(err)
	s.Equal(cloud.StateRejected, ep.State, "not deleted by this run")
}
