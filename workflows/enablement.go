package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/internal/ticket"
)

// PrivateLinkEnablement runs the enablement runbook for one request. Its
// input is the request JSON, decoded strictly here so that a malformed
// request fails at once with every problem listed.
func PrivateLinkEnablement(ctx workflow.Context, raw json.RawMessage) (Result, error) {
	e := &enablement{core: newCore(ctx)}
	// The runbook runs in a context that cancel stops; cleanup uses ctx.
	rctx, stop := workflow.WithCancel(ctx)
	e.stop = stop
	if err := e.setup(ctx); err != nil {
		return Result{}, err
	}
	if err := e.validate(ctx, raw); err != nil {
		return Result{Outcome: string(PhaseInvalid), Status: e.status()}, err
	}
	return e.finish(ctx, e.runbook(rctx))
}

type enablement struct {
	*core
	req      request.Request
	env      cloud.Environment
	ref      cloud.EnvRef
	verified *CustomerVerified
	// cancelled is set by the cancel decision, which then stops the runbook.
	cancelled *ended
	// ending is how the run ends, once finish knows it.
	ending *ended
	stop   workflow.CancelFunc
	// child is the running reverse link, for forwarding and its status.
	child childLink
	// before is the platform service as this run found it: undo removes
	// only what this run added to it.
	before cloud.ServiceState
	// allowedByRun are the accounts this run allowed; seen the connection
	// requests it saw waiting; accepted those it accepted.
	allowedByRun, seen, accepted []string
}

// runbook is DESIGN.md's checklist, top to bottom.
func (e *enablement) runbook(ctx workflow.Context) error {
	steps := []func(workflow.Context) error{
		e.openTicket,                // 1. a ticket carries all communication
		e.openPorts,                 // 2. open the requested ports
		e.allowCustomer,             // 3. allow the customer, post the service name
		e.awaitConnectionRequest,    // 4. wait, for days if need be
		e.acceptConnection,          // 5. an engineer approves; accept
		e.verifyPlatformSide,        // 6. connection available, targets healthy
		e.reverseLink,               // 7-11. bidirectional: the platform reaches the customer
		e.awaitCustomerConfirmation, // 6. the customer confirms on the ticket
	}
	if e.req.Outbound() {
		// Nothing reaches the platform: no ports, accounts or connections
		// of its own; the reverse link's verification of every port is the
		// proof that the link works.
		steps = []func(workflow.Context) error{e.openTicket, e.reverseLink}
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// --- 0. validation, before any side effect

func (e *enablement) validate(ctx workflow.Context, raw json.RawMessage) error {
	e.setPhase(ctx, PhaseValidating, WaitingOnNone, "checking the request")
	e.refreshPolicy(ctx)
	req, err := request.Decode(raw)
	var problems request.Errors
	if err != nil {
		errors.As(err, &problems)
	} else {
		problems = req.Validate()
	}
	e.req = req
	e.requester = req.RequestedBy
	e.st.Company, e.st.Project, e.st.Environment, e.st.Cloud, e.st.Region = req.Company, req.ProjectID, req.Environment, req.Cloud, req.Region
	e.st.ConnectionType, e.st.RequestedBy = req.ConnectionType, req.RequestedBy
	e.upsert(ctx, SAProject.ValueSet(clip(req.ProjectID)), SAEnvironment.ValueSet(clip(req.Environment)),
		SACloud.ValueSet(clip(req.Cloud)), SACustomerAccount.ValueSet(clip(req.CustomerAccount)), SAConnectionType.ValueSet(clip(req.ConnectionType)))

	// The platform checks need one read-only cloud call: only a request
	// whose own fields are valid gets it, so that a bad request (port 443 on
	// Azure, say) is refused before any call.
	lookup := err == nil && len(problems) == 0
	if err == nil && !hasField(problems, "projectId", "environment", "cloud") && e.id != req.WorkflowID() {
		problems = append(problems, request.FieldError{Field: "workflowId", Value: e.id, Problem: "does not match the request",
			Fix: "start it with --workflow-id " + req.WorkflowID() + " (one enablement per project, environment and cloud)"})
	}
	if lookup {
		e.ref = cloud.EnvRef{Cloud: req.Cloud, Region: req.Region, Project: req.ProjectID, Environment: req.Environment}
		var found activities.EnvLookup
		if err := workflow.ExecuteActivity(act(ctx, "look up the platform environment"), a.LookupEnvironment, e.ref).Get(ctx, &found); err != nil {
			return err
		}
		if !found.Found {
			problems = append(problems, request.FieldError{Field: "projectId", Value: req.ProjectID,
				Problem: fmt.Sprintf("has no %s environment on %s", req.Environment, req.Cloud), Fix: "check the project ID, environment and cloud"})
		} else {
			e.env = found.Env
			// Found once per run: later calls that need only the service's
			// ID take it from here instead of finding it again.
			e.ref.ServiceHint = found.Env.ServiceID
			problems = append(problems, req.CheckPlatform(request.Platform{Cloud: found.Env.Cloud, Region: found.Env.Region, Plan: found.Env.Plan, Regions: found.Env.Regions})...)
		}
	}
	if len(problems) == 0 {
		e.deadlineFromStart()
		e.audit(ctx, req.RequestedBy, "requested", fmt.Sprintf("%s link for %s, %s/%s on %s", req.ConnectionType, req.Company, req.ProjectID, req.Environment, req.Cloud))
		return nil
	}
	for _, p := range problems {
		e.st.Problems = append(e.st.Problems, p.String())
	}
	e.audit(ctx, "linkwright", "refused the request", strconv.Itoa(len(problems))+" problems")
	e.noteRefusal(ctx, problems)
	e.setPhase(ctx, PhaseInvalid, WaitingOnNone, "fix the request and start it again: "+strings.Join(e.st.Problems, "; "))
	return temporal.NewNonRetryableApplicationError(problems.Error(), "InvalidRequest", nil, problems)
}

// noteRefusal puts a refused request's problems on its ticket, only when
// the request names a ticket that exists: a malformed request opens no
// ticket (its problems are in this run's result and status), and never
// lands on a company's ticket it did not name.
func (e *enablement) noteRefusal(ctx workflow.Context, problems request.Errors) {
	if e.req.Ticket == "" || !ticketKeyRe.MatchString(e.req.Ticket) {
		return
	}
	var t ticket.Ticket
	lookup := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary: "find the named ticket", StartToCloseTimeout: time.Minute, HeartbeatTimeout: heartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: activities.NonRetryable},
	})
	if err := workflow.ExecuteActivity(lookup, a.FindTicket, e.req.Ticket).Get(ctx, &t); err != nil {
		e.audit(ctx, "linkwright", "refusal not posted", "ticket "+e.req.Ticket+": "+err.Error())
		return
	}
	e.st.Ticket, e.st.TicketURL = t.Key, t.URL
	_ = e.note(ctx, problems.Error()+"\n\nNothing was changed in the cloud. Fix the request and start it again.")
}

// ticketKeyRe is what a ticket key may look like.
var ticketKeyRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._#-]{0,63}$`)

func (e *enablement) deadlineFromStart() {
	e.st.Deadline = addBusinessDays(e.started, e.policy.TargetBusinessDays)
}

// hasField reports whether any of the fields, or the request as a whole,
// has a problem.
func hasField(es request.Errors, fields ...string) bool {
	for _, e := range es {
		if e.Field == "request" || slices.Contains(fields, e.Field) {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

// --- 1. the ticket

func (e *enablement) openTicket(ctx workflow.Context) error {
	e.setPhase(ctx, PhaseOpeningTicket, WaitingOnNone, "opening the ticket")
	company := e.req.Company
	var t ticket.Ticket
	err := workflow.ExecuteActivity(act(ctx, "open the ticket"), a.OpenTicket, ticket.OpenRequest{
		Key: e.req.Ticket, Company: company, Requester: e.req.RequestedBy, Project: e.req.ProjectID,
		Body: fmt.Sprintf("PrivateLink %s requested by %s for %s/%s on %s (%s).", e.req.ConnectionType, e.req.RequestedBy, e.req.ProjectID, e.req.Environment, e.req.Cloud, e.req.Region),
	}).Get(ctx, &t)
	if err != nil {
		return err
	}
	e.st.Ticket, e.st.TicketURL = t.Key, t.URL
	e.upsert(ctx, SATicket.ValueSet(t.Key))
	e.audit(ctx, "linkwright", "ticket", t.Key+": "+t.Subject)
	return e.note(ctx, "Linkwright is running this enablement: "+e.uiLink())
}

// --- 2. ports

// openPorts opens the requested ports that are not open yet. It reads the
// platform service first (recorded in history, so a crash or a retry does
// not change what this run counts as its own): ports already open, by an
// earlier run or a person, are left alone now and on undo.
func (e *enablement) openPorts(ctx workflow.Context) error {
	e.setPhase(ctx, PhaseOpeningPorts, WaitingOnCloud, "opening ports "+ports(e.req.Ports())+" on the platform environment")
	if err := workflow.ExecuteActivity(act(ctx, "read the platform service"), a.ServiceState, e.ref).Get(ctx, &e.before); err != nil {
		return err
	}
	var missing, found []int
	for _, p := range e.req.Ports() {
		if slices.Contains(e.before.OpenPorts, p) {
			found = append(found, p)
		} else {
			missing = append(missing, p)
		}
	}
	if len(found) > 0 {
		e.audit(ctx, "linkwright", "found ports open", ports(found)+" (not opened by this run: left as they are on undo)")
	}
	if len(missing) == 0 {
		return nil
	}
	in := activities.Ports{Env: e.ref, Ports: missing}
	if err := workflow.ExecuteActivity(act(ctx, "open ports "+ports(in.Ports)), a.OpenPorts, in).Get(ctx, nil); err != nil {
		return err
	}
	e.compensate("close ports "+ports(in.Ports), func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(act(ctx, "undo: close ports"), a.ClosePorts, in).Get(ctx, nil)
	})
	e.audit(ctx, "linkwright", "opened ports", ports(in.Ports))
	return nil
}

// --- 3. allow the customer

// allowCustomer allows the request's accounts that are not allowed yet and
// posts the service name. On undo, every connection request this run saw
// or accepted, and any waiting from an account it allowed, is rejected
// before the account is revoked: no customer endpoint is left waiting.
func (e *enablement) allowCustomer(ctx workflow.Context) error {
	e.setPhase(ctx, PhaseAllowingCustomer, WaitingOnCloud, "allowing "+e.req.CustomerAccount+" on the platform endpoint service")
	var missing, found []string
	for _, acct := range e.req.CustomerAccounts() {
		if slices.ContainsFunc(e.before.Accounts, func(a string) bool { return strings.EqualFold(a, acct) }) {
			found = append(found, acct)
		} else {
			missing = append(missing, acct)
		}
	}
	if len(found) > 0 {
		e.audit(ctx, "linkwright", "found the customer allowed", strings.Join(found, ", ")+" (not allowed by this run: left as it is on undo)")
	}
	if len(missing) > 0 {
		in := activities.Accounts{Env: e.ref, Accounts: missing}
		if err := workflow.ExecuteActivity(act(ctx, "allow the customer's account"), a.AllowAccounts, in).Get(ctx, nil); err != nil {
			return err
		}
		e.allowedByRun = missing
		e.compensate("revoke "+strings.Join(in.Accounts, ", "), func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(act(ctx, "undo: revoke the customer's account"), a.RevokeAccounts, in).Get(ctx, nil)
		})
		e.audit(ctx, "linkwright", "allowed the customer", strings.Join(in.Accounts, ", "))
	}
	e.compensateSaying("reject the connection requests of this run", func(ctx workflow.Context) (string, error) {
		w := activities.Withdrawal{Env: e.ref, Accounts: e.req.CustomerAccounts(), Accepted: e.accepted, Seen: e.seen,
			AllowedByRun: e.allowedByRun, Reason: "the PrivateLink request ended: " + e.endReason()}
		var rejected []string
		if err := workflow.ExecuteActivity(act(ctx, "undo: reject the connection requests"), a.WithdrawConnections, w).Get(ctx, &rejected); err != nil || len(rejected) == 0 {
			return "", err
		}
		return "reject connection " + strings.Join(rejected, ", "), nil
	})
	e.st.ServiceName = e.env.ServiceName
	if err := e.reply(ctx, e.connectInstructions()); err != nil {
		return err
	}
	return e.ticketStatus(ctx, ticket.StatusPending)
}

func (e *enablement) connectInstructions() string {
	var svc strings.Builder
	for _, s := range e.req.Services {
		fmt.Fprintf(&svc, "\n- %s: port %d", s.Name, s.Port)
	}
	if e.req.Cloud == request.CloudAzure {
		return fmt.Sprintf("Hello %s,\n\nYour subscription %s may now connect. Create a private endpoint to our Private Link service with the alias\n\n    %s\n\nand tell us here when it is created. The services and ports are:%s",
			e.req.Company, e.req.CustomerAccount, e.env.ServiceName, svc.String())
	}
	if e.req.Cloud == request.CloudAlibaba {
		region := e.req.Region
		if e.req.CustomerRegion != "" {
			region = e.req.CustomerRegion
		}
		return fmt.Sprintf("Hello %s,\n\nYour Alibaba Cloud account %s may now connect. Create an endpoint in %s, in two or more zones, to the endpoint service\n\n    %s\n\nand tell us here when it is created. The services and ports are:%s",
			e.req.Company, e.req.CustomerAccount, region, e.env.ServiceName, svc.String())
	}
	return fmt.Sprintf("Hello %s,\n\nYour AWS account %s may now connect. Create an interface VPC endpoint in %s to the endpoint service\n\n    %s\n\nand tell us here when it is created. The services and ports are:%s",
		e.req.Company, e.req.CustomerAccount, e.req.Region, e.env.ServiceName, svc.String())
}

// --- 4. wait for the customer's connection request

// awaitConnectionRequest waits for the customer's connection: one waiting
// for acceptance, or one already accepted (by an earlier run, a person, or
// the customer's auto-approval), which this run then does not own.
func (e *enablement) awaitConnectionRequest(ctx workflow.Context) error {
	var conns []cloud.Connection
	in := activities.Accounts{Env: e.ref, Accounts: e.req.CustomerAccounts()}
	err := e.await(ctx, waitFor{
		phase: PhaseAwaitingConnection, on: WaitingOnCustomer,
		next: "the customer creates an endpoint to " + e.env.ServiceName + " (then signal " + SignalCustomerEndpointCreated + ")",
		what: "create an endpoint to " + e.env.ServiceName,
		poll: func(ctx workflow.Context) workflow.Future {
			return workflow.ExecuteActivity(ctx, a.AwaitConnectionRequest, in)
		},
		out: &conns,
	})
	if err != nil {
		return err
	}
	e.st.CustomerEndpoints = nil
	var pending, accepted []string
	for _, c := range conns {
		e.st.CustomerEndpoints = append(e.st.CustomerEndpoints, c.ID)
		if c.State == cloud.StatePendingAcceptance {
			pending = append(pending, c.ID)
			if !slices.Contains(e.seen, c.ID) {
				e.seen = append(e.seen, c.ID)
			}
		} else {
			accepted = append(accepted, c.ID)
		}
	}
	if len(pending) > 0 {
		e.audit(ctx, "customer", "requested a connection", strings.Join(pending, ", "))
	}
	if len(accepted) > 0 && e.env.AutoAccept {
		// Nobody decides at gate accept-connection: the service accepted.
		e.audit(ctx, "cloud", "gate "+GateAcceptConnection+": accepted automatically by the platform service", strings.Join(accepted, ", ")+" (the service "+e.env.ServiceID+" has automatic acceptance on; not accepted by this run: left as they are on undo)")
	} else if len(accepted) > 0 {
		e.audit(ctx, "linkwright", "found connections already accepted", strings.Join(accepted, ", ")+" (not accepted by this run: left as they are on undo)")
	}
	return e.ticketStatus(ctx, ticket.StatusOpen)
}

// --- 5. approve and accept

// acceptConnection opens gate accept-connection for the connections that
// wait for acceptance and accepts them. A connection the customer deletes
// (or that is closed) before it is accepted is a clear outcome: the
// customer is told, and the run waits for a new request.
func (e *enablement) acceptConnection(ctx workflow.Context) error {
	for {
		ids := e.pendingConnections()
		if len(ids) == 0 {
			return nil // accepted already, not by this run: nothing to decide
		}
		d, err := e.gate(ctx, GateAcceptConnection, fmt.Sprintf("an approver accepts connection %s from %s (update %s, gate %s)", strings.Join(ids, ", "), e.req.CustomerAccount, Approve, GateAcceptConnection))
		if err != nil {
			var end *ended
			if errors.As(err, &end) {
				// A rejected request is rejected in the cloud too.
				_ = workflow.ExecuteActivity(act(ctx, "reject the connection"), a.RejectConnections, activities.Connections{Env: e.ref, IDs: ids, Reason: end.Why}).Get(ctx, nil)
			}
			return err
		}
		e.setPhase(ctx, PhaseAcceptingConnection, WaitingOnCloud, "accepting "+strings.Join(ids, ", "))
		in := activities.Connections{Env: e.ref, IDs: ids, BandwidthMbps: e.req.BandwidthMbps}
		err = workflow.ExecuteActivity(act(ctx, "accept the connection"), a.AcceptConnections, in).Get(ctx, nil)
		if kind := errorType(err); kind == string(cloud.NotFound) || kind == string(cloud.Conflict) {
			e.audit(ctx, "customer", "closed the connection request before it was accepted", strings.Join(ids, ", ")+": "+err.Error())
			if err := e.reply(ctx, fmt.Sprintf("Your endpoint %s was deleted or closed before we could accept it. Please create a new endpoint to %s and tell us here.", strings.Join(ids, ", "), e.env.ServiceName)); err != nil {
				return err
			}
			if err := e.awaitConnectionRequest(ctx); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		e.accepted = append(e.accepted, ids...)
		e.audit(ctx, "linkwright", "accepted the connection", strings.Join(ids, ", ")+" approved by "+d.Approver)
		return nil
	}
}

// pendingConnections are the customer's connections this run saw waiting
// and has not accepted.
func (e *enablement) pendingConnections() []string {
	var ids []string
	for _, id := range e.st.CustomerEndpoints {
		if slices.Contains(e.seen, id) && !slices.Contains(e.accepted, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// errorType is the application error type of an activity's failure.
func errorType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

// --- 6. verify the customer's side

func (e *enablement) verifyPlatformSide(ctx workflow.Context) error {
	in := activities.PlatformCheck{Env: e.ref, Accounts: e.req.CustomerAccounts(), IDs: e.st.CustomerEndpoints, Ports: e.req.Ports()}
	var rep activities.PlatformReport
	err := e.await(ctx, waitFor{
		phase: PhaseVerifyingPlatform, on: WaitingOnCloud, next: "waiting for the accepted connection to become available",
		poll: func(ctx workflow.Context) workflow.Future {
			return workflow.ExecuteActivity(ctx, a.CheckPlatformSide, in)
		},
		out: &rep,
	})
	if err != nil {
		return err
	}
	if len(rep.Problems) > 0 {
		e.st.PlatformProblems = rep.Problems
		e.audit(ctx, "linkwright", "platform side failed verification", strings.Join(rep.Problems, "; "))
		if err := e.note(ctx, "Verification of the platform side failed:\n- "+strings.Join(rep.Problems, "\n- ")+"\nFix it; Linkwright re-checks with backoff, or at once on any customer signal."); err != nil {
			return err
		}
		err = e.await(ctx, waitFor{
			phase: PhaseAwaitingFix, on: WaitingOnOperator, next: "fix: " + strings.Join(rep.Problems, "; "),
			poll: func(ctx workflow.Context) workflow.Future {
				return workflow.ExecuteActivity(ctx, a.AwaitPlatformHealthy, in)
			},
			out: &rep,
		})
		if err != nil {
			return err
		}
	}
	e.st.PlatformProblems = nil
	e.audit(ctx, "linkwright", "verified the platform side", fmt.Sprintf("%d connections available, %d targets healthy", len(rep.Connections), len(rep.Targets)))
	return nil
}

// --- 7-11. the reverse link, a child workflow

func (e *enablement) reverseLink(ctx workflow.Context) error {
	if !e.req.Reaches() {
		return nil
	}
	summary := "Reverse PrivateLink for " + e.req.Company + ": platform -> " + e.req.CustomerEndpointService
	if e.req.Outbound() {
		summary = "Outbound PrivateLink for " + e.req.Company + ": platform -> " + e.req.CustomerEndpointService
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:          e.reverseID(),
		StaticSummary:       summary,
		WaitForCancellation: true,
	})
	in := ReverseInput{ParentID: e.id, Request: e.req, Env: e.env, Ticket: e.st.Ticket, Policy: e.policy, Started: e.started, Escalated: e.st.Escalated}
	f := workflow.ExecuteChildWorkflow(cctx, PrivateLinkReverseLink, in)
	var run workflow.Execution
	if err := f.GetChildWorkflowExecution().Get(ctx, &run); err != nil {
		return err
	}
	e.child = childLink{id: run.ID, runID: run.RunID, running: true}
	workflow.Go(ctx, func(ctx workflow.Context) { e.mirror(ctx, &e.child, e.showReverse) })
	var res ReverseResult
	err := f.Get(ctx, &res)
	e.child.running = false
	e.child.audit = nil
	if err != nil {
		return err
	}
	e.st.Audit = mergeAudit(e.st.Audit, res.Audit)
	e.st.Gate = ""
	e.st.Escalated = e.st.Escalated || res.Escalated
	e.st.ReverseEndpointID, e.st.ReverseDNSName, e.st.Verification = res.EndpointID, res.DNSName, res.Verification
	switch res.Outcome {
	case OutcomeCompleted:
	case OutcomeFailed:
		return temporal.NewNonRetryableApplicationError("the reverse link failed: "+res.Why, "ReverseLinkFailed", nil)
	default:
		return &ended{Outcome: res.Outcome, By: res.By, Why: res.Why}
	}
	if res.Created {
		ep := activities.Endpoint{Env: e.ref, ID: res.EndpointID}
		e.compensate("delete reverse endpoint "+res.EndpointID, func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(act(ctx, "undo: delete the reverse endpoint"), a.DeleteEndpoint, ep).Get(ctx, nil)
		})
	}
	e.audit(ctx, "linkwright", "reverse link verified", res.EndpointID+" "+res.DNSName)
	return nil
}

func (e *enablement) reverseID() string { return e.id + "/reverse" }

// endReason is why the run is ending, for undo steps that can say so.
func (e *enablement) endReason() string {
	if e.ending != nil {
		return e.ending.Outcome + " (" + e.ending.Why + ")"
	}
	return "undone"
}

// --- 6. the customer confirms

func (e *enablement) awaitCustomerConfirmation(ctx workflow.Context) error {
	if err := e.reply(ctx, e.confirmationRequest()); err != nil {
		return err
	}
	if err := e.ticketStatus(ctx, ticket.StatusPending); err != nil {
		return err
	}
	for {
		e.verified = nil
		err := e.await(ctx, waitFor{
			phase: PhaseAwaitingConfirmation, on: WaitingOnCustomer,
			next: "the customer confirms the link works (signal " + SignalCustomerVerified + ` {"ok": true})`,
			what: "confirm that the link works",
			cond: func() bool { return e.verified != nil },
		})
		if err != nil {
			return err
		}
		if e.verified.OK {
			e.audit(ctx, "customer", "confirmed the link works", e.verified.Detail)
			return nil
		}
		e.audit(ctx, "customer", "reported a problem", e.verified.Detail)
		if err := e.note(ctx, "The customer reports the link does not work: "+e.verified.Detail+"\nRe-checking the platform side."); err != nil {
			return err
		}
		if err := e.verifyPlatformSide(ctx); err != nil {
			return err
		}
	}
}

func (e *enablement) confirmationRequest() string {
	var b strings.Builder
	b.WriteString("Your connection is accepted and the platform side checks out. Please test it from your VPC, for example:\n")
	for _, s := range e.req.Services {
		fmt.Fprintf(&b, "\n    curl -v telnet://<your endpoint DNS name>:%d   # %s", s.Port, s.Name)
	}
	if e.st.ReverseEndpointID != "" {
		fmt.Fprintf(&b, "\n\nThe platform now reaches your service through endpoint %s; every port answered.", e.st.ReverseEndpointID)
	}
	b.WriteString("\n\nReply here to confirm it works, or tell us what fails.")
	return b.String()
}

// --- the end

func (e *enablement) finish(ctx workflow.Context, err error) (Result, error) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	defer func() { _ = workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) }) }()
	var end *ended
	switch {
	case e.cancelled != nil:
		end = e.cancelled
	case err == nil:
		_ = e.reply(dctx, "PrivateLink for "+e.req.Company+" is live and verified. We are closing this ticket; reply to reopen it.")
		_ = e.ticketStatus(dctx, ticket.StatusSolved)
		e.st.Outcome = OutcomeCompleted
		e.audit(dctx, "linkwright", "completed", "")
		e.setPhase(dctx, PhaseCompleted, WaitingOnNone, "nothing: the link is live")
		recordLive(dctx, e.started, e.st.Deadline)
		_ = workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) })
		// Enablements that completed before the live link existed ended here.
		if workflow.GetVersion(dctx, "continue-as-live", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return Result{Outcome: OutcomeCompleted, Status: e.status()}, nil
		}
		return Result{Outcome: OutcomeCompleted, Status: e.status()}, workflow.NewContinueAsNewError(dctx, LiveWorkflow, e.toLive(dctx))
	case ctx.Err() != nil || (temporal.IsCanceledError(err) && !errors.As(err, &end)):
		// Checked before the reverse link's outcome: its "cancelled" is
		// then only the echo of this one.
		end = &ended{Outcome: OutcomeCancelled, By: "temporal", Why: "the workflow was cancelled through Temporal"}
	case errors.As(err, &end):
	default:
		e.st.Outcome = string(PhaseFailed)
		e.audit(dctx, "linkwright", "failed", err.Error())
		e.setPhase(dctx, PhaseFailed, WaitingOnOperator, "fix the cause, then start the enablement again (steps already done are skipped): "+err.Error())
		_ = e.note(dctx, "Linkwright stopped on an error it cannot retry:\n\n    "+err.Error()+"\n\nNothing was undone. Fix the cause and start the enablement again: steps already done are found and skipped.")
		return Result{Outcome: string(PhaseFailed), Status: e.status()}, err
	}
	e.ending = end
	e.setPhase(dctx, PhaseUndoing, WaitingOnCloud, "undoing completed steps in reverse order")
	failed := e.undoAll(dctx)
	_ = e.reply(dctx, e.endMessage(end))
	if len(failed) > 0 {
		_ = e.note(dctx, "Undo failed for some steps; do them by hand:\n- "+strings.Join(failed, "\n- "))
	}
	_ = e.ticketStatus(dctx, ticket.StatusSolved)
	e.st.Outcome = end.Outcome
	e.audit(dctx, end.By, end.Outcome, end.Why)
	final := map[string]Phase{OutcomeRejected: PhaseRejected, OutcomeCancelled: PhaseCancelled, OutcomeExpired: PhaseExpired}[end.Outcome]
	e.setPhase(dctx, final, WaitingOnNone, end.Outcome+": "+end.Why)
	return Result{Outcome: end.Outcome, Status: e.status()}, nil
}

func (e *enablement) endMessage(end *ended) string {
	switch end.Outcome {
	case OutcomeRejected:
		return "We cannot enable PrivateLink for this request: " + end.Why + ". Any access granted for it has been removed. Reply here if you have questions."
	case OutcomeExpired:
		return "We are closing this PrivateLink request because " + end.Why + ". Access granted for it has been removed; reply here to start again."
	}
	if end.By == "temporal" {
		// Said in the Temporal tooling's words, not the customer's.
		return "This PrivateLink request was cancelled by the platform team. What was set up for it has been removed; reply here if you have questions."
	}
	return "This PrivateLink request was cancelled (" + end.Why + "). What was set up for it has been removed."
}

func ports(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// toLive is what the live link starts from: the link's spec, its deadline
// and the audit trail.
func (e *enablement) toLive(ctx workflow.Context) LiveInput {
	r := e.req
	spec := Spec{Company: r.Company, RequestedBy: r.RequestedBy, Project: r.ProjectID, Environment: r.Environment, Cloud: r.Cloud, Region: r.Region,
		ConnectionType: r.ConnectionType, Ticket: e.st.Ticket, TicketURL: e.st.TicketURL,
		ServiceName: e.env.ServiceName, ServiceID: e.env.ServiceID, Principal: e.env.Principal, Plan: e.env.Plan,
		Services: r.Services, Accounts: r.CustomerAccounts(), Connections: e.st.CustomerEndpoints, Customer: r.CustomerAccounts(),
		Deadlines:     []Deadline{{What: "enablement", Started: e.started, Target: e.st.Deadline, Done: workflow.Now(ctx), Escalate: e.st.Escalated}},
		BandwidthMbps: r.BandwidthMbps, CustomerRegion: r.CustomerRegion}
	if r.Outbound() {
		spec.Accounts = nil // nothing is allowed on the platform's service
	}
	if r.Reaches() && e.st.ReverseEndpointID != "" {
		spec.Reverse = []ReverseConnection{{Service: r.CustomerEndpointService, Ports: r.CustomerServicePorts, EndpointID: e.st.ReverseEndpointID, DNSName: e.st.ReverseDNSName}}
	}
	return LiveInput{Spec: spec, Audit: e.status().Audit}
}
