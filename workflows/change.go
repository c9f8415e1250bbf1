package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/internal/ticket"
)

// OpInput starts a change or the teardown, a child of the live link.
type OpInput struct {
	LinkID   string            `json:"linkId"`
	N        int               `json:"n,omitempty"`
	Spec     Spec              `json:"spec"`
	Policy   config.Policy     `json:"policy"`
	Change   *request.Change   `json:"change,omitempty"`
	Teardown *request.Teardown `json:"teardown,omitempty"`
}

// OpResult is how a change or the teardown ended. Spec is the link's spec
// afterwards (unchanged unless the outcome is applied or torn-down); the
// audit trail comes whole, so the live link loses nothing.
type OpResult struct {
	Outcome string       `json:"outcome"`
	By      string       `json:"by,omitempty"`
	Why     string       `json:"why,omitempty"`
	Spec    Spec         `json:"spec"`
	Plan    []PlanStep   `json:"plan"`
	Audit   []AuditEntry `json:"audit"`
}

// opRun is what a change and the teardown share: the link's spec and
// cloud, the report to the live link, cancellation.
type opRun struct {
	*core
	in   OpInput
	spec Spec
	ref  cloud.EnvRef
	env  cloud.Environment
	inv  cloud.Inventory
	rep  *reporter
	stop workflow.CancelFunc
	// cancelled is set by a cancel decision; committed once a teardown is
	// past its gate (it cannot be cancelled then).
	cancelled *ended
	committed bool
}

// startOp checks that the run is the live link's child it claims to be
// and sets up its status, reports and signals.
func startOp(ctx workflow.Context, in OpInput, suffix string) (*opRun, error) {
	info := workflow.GetInfo(ctx)
	if parent := info.ParentWorkflowExecution; parent == nil || parent.ID != in.LinkID || info.WorkflowExecution.ID != in.LinkID+suffix {
		return nil, temporal.NewNonRetryableApplicationError(
			info.WorkflowType.Name+" runs only as a child of the live link it names ("+in.LinkID+suffix+"): send update "+UpdateChange+" or "+UpdateTeardown+" to the link instead",
			"NotAChild", nil)
	}
	o := &opRun{core: newCore(ctx), in: in, spec: in.Spec, rep: &reporter{parent: *info.ParentWorkflowExecution}}
	o.policy, o.home = in.Policy, in.LinkID
	s := in.Spec
	o.ref = cloud.EnvRef{Cloud: s.Cloud, Region: s.Region, Project: s.Project, Environment: s.Environment}
	o.env = cloud.Environment{EnvRef: o.ref, Plan: s.Plan, ServiceName: s.ServiceName, ServiceID: s.ServiceID, Principal: s.Principal}
	o.st.Company, o.st.Project, o.st.Environment, o.st.Cloud, o.st.Region = s.Company, s.Project, s.Environment, s.Cloud, s.Region
	o.st.Ticket, o.st.TicketURL, o.st.ServiceName, o.st.ConnectionType = s.Ticket, s.TicketURL, s.ServiceName, s.ConnectionType
	o.st.Deadline = addBusinessDays(o.started, o.policy.TargetBusinessDays)
	o.onPhase = func(ctx workflow.Context) { o.rep.report(ctx, o.core) }
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { st := o.st; st.Spec = &o.spec; return st, nil }); err != nil {
		return nil, err
	}
	workflow.Go(ctx, o.signals)
	return o, nil
}

// signals takes decisions forwarded by the live link, checking each again
// (anyone could send this signal), and nudges.
func (o *opRun) signals(ctx workflow.Context) {
	s := newSignalLoop(ctx)
	s.on(signalReverseDecision, func(raw json.RawMessage) {
		var d decision
		switch {
		case strictJSON(raw, &d) != nil:
			o.audit(ctx, "unknown", "decision refused", "the payload is not a decision")
		case d.Kind == Cancel && o.committed:
			o.audit(ctx, normalize(d.Approver), "cancel refused", "the teardown is under way and cannot be cancelled")
		case o.admit(ctx, &d, "forwarded by "+o.home) == nil:
			if d.Kind == Cancel {
				o.cancelled = &ended{Outcome: OutcomeCancelled, By: d.Approver, Why: d.Text}
				o.stop()
			} else {
				o.decision = &d
			}
		}
		o.onPhase(ctx)
	})
	s.on(signalReverseNudge, func(json.RawMessage) { o.nudge.SendAsync(struct{}{}) })
	s.run()
}

// read reads the cloud for the link: what the plan starts from.
func (o *opRun) read(ctx workflow.Context) error {
	o.setPhase(ctx, PhaseReadingCloud, WaitingOnCloud, "reading what exists in the cloud for the link")
	var services []string
	for _, r := range o.spec.Reverse {
		services = append(services, r.Service)
	}
	if o.in.Change != nil {
		for _, s := range o.in.Change.AddCustomerServices {
			services = append(services, s.Service)
		}
	}
	return workflow.ExecuteActivity(act(ctx, "read the link's inventory"), a.Inventory, activities.InventoryQuery{Env: o.ref, Services: services}).Get(ctx, &o.inv)
}

// approve posts the plan on the ticket and waits at the gate.
func (o *opRun) approve(ctx workflow.Context, gate, what string) (decision, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Plan for %s (%s):", what, o.id)
	for i, s := range o.plan {
		fmt.Fprintf(&b, "\n%d. [%s] %s: %s", i+1, s.Who, s.Action, s.Detail)
	}
	if err := o.note(ctx, b.String()); err != nil {
		return decision{}, err
	}
	return o.gate(ctx, gate, "an approver approves the plan of "+what+" (update "+Approve+", gate "+gate+", sent to "+o.home+")")
}

// end returns the result, whatever happened: a failure is the outcome
// failed, with the audit trail, so the live link loses nothing.
func (o *opRun) end(ctx workflow.Context, err error, done string) (OpResult, error) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	res := OpResult{Spec: o.in.Spec, Plan: o.plan}
	var end *ended
	switch {
	case err == nil:
		res.Outcome, res.Spec = done, o.spec
		o.setPhase(dctx, PhaseCompleted, WaitingOnNone, done)
		res.Audit = o.st.Audit
		return res, nil
	case o.cancelled != nil:
		end = o.cancelled
	case errors.As(err, &end):
	case temporal.IsCanceledError(err) || ctx.Err() != nil:
		end = &ended{Outcome: OutcomeCancelled, By: "temporal", Why: "cancelled through Temporal"}
	default:
		end = &ended{Outcome: OutcomeFailed, By: "linkwright", Why: err.Error()}
	}
	if len(o.undo) > 0 {
		o.setPhase(dctx, PhaseUndoing, WaitingOnCloud, "undoing what this run changed, in reverse order")
		if failed := o.undoAll(dctx); len(failed) > 0 {
			_ = o.note(dctx, "Undo failed for some steps; do them by hand:\n- "+strings.Join(failed, "\n- "))
		}
	}
	o.audit(dctx, end.By, end.Outcome, end.Why)
	if end.Outcome == OutcomeFailed {
		_ = o.note(dctx, o.id+" stopped on an error it cannot retry:\n\n    "+end.Why+"\n\nWhat it changed was undone; the link's spec is unchanged.")
	}
	final := map[string]Phase{OutcomeRejected: PhaseRejected, OutcomeCancelled: PhaseCancelled, OutcomeExpired: PhaseExpired, OutcomeFailed: PhaseFailed}[end.Outcome]
	o.setPhase(dctx, final, WaitingOnNone, end.Outcome+": "+end.Why)
	res.Outcome, res.By, res.Why, res.Audit = end.Outcome, end.By, end.Why, o.st.Audit
	return res, nil
}

// --- PrivateLinkChange

// PrivateLinkChange changes a live link: it reads the cloud, plans the
// change in the safe order, posts the plan and waits at gate apply-change
// (a dry run returns the plan), then applies it step by step, undoing only
// what it changed if it is cancelled or fails.
func PrivateLinkChange(ctx workflow.Context, in OpInput) (OpResult, error) {
	o, err := startOp(ctx, in, "/change/"+strconv.Itoa(in.N))
	if err != nil {
		return OpResult{}, err
	}
	if in.Change == nil {
		return o.end(ctx, temporal.NewNonRetryableApplicationError("the change request is missing", "InvalidRequest", nil), "")
	}
	c := *in.Change
	o.requester = c.RequestedBy
	rctx, stop := workflow.WithCancel(ctx)
	o.stop = stop
	done := OutcomeApplied
	if c.DryRun {
		done = OutcomePlanned
	}
	return o.end(ctx, o.change(rctx, c), done)
}

func (o *opRun) change(ctx workflow.Context, c request.Change) error {
	// Checked again here: the change is acted on here.
	if es := c.Validate(o.spec.Link()); len(es) > 0 {
		return temporal.NewNonRetryableApplicationError(es.Of("change").Error(), "InvalidRequest", nil)
	}
	if err := o.read(ctx); err != nil {
		return err
	}
	o.plan = o.planChange(c)
	o.audit(ctx, "linkwright", "planned", fmt.Sprintf("%d steps", len(o.plan)))
	if c.DryRun {
		o.st.Next = "dry run: nothing changed"
		return nil
	}
	d, err := o.approve(ctx, GateApplyChange, "a change: "+c.Summary())
	if err != nil {
		return err
	}
	// The plan's approval covers the gates of the steps it lists.
	o.covered = map[string]string{GateAcceptConnection: d.Approver, GateCreateReverseEndpoint: d.Approver}
	if err := o.ticketStatus(ctx, ticket.StatusOpen); err != nil {
		return err
	}
	steps := []func(workflow.Context, request.Change) error{
		o.addPorts, o.replaceAccount, o.addReverse, // what is added first, verified
		o.removePorts, o.removeReverse, o.retireAccounts, // then what goes
	}
	for _, step := range steps {
		if err := step(ctx, c); err != nil {
			return err
		}
	}
	if o.spec.ConnectionType != request.Outbound {
		o.spec.ConnectionType = request.Unidirectional
		if len(o.spec.Reverse) > 0 {
			o.spec.ConnectionType = request.Bidirectional
		}
	}
	o.spec.Deadlines = append(o.spec.Deadlines, Deadline{What: "change " + strconv.Itoa(o.in.N), Started: o.started, Target: o.st.Deadline, Done: workflow.Now(ctx), Escalate: o.st.Escalated})
	countDone(ctx, o.st.Deadline)
	_ = o.reply(ctx, "The change to your PrivateLink is complete: "+c.Summary()+". Reply here if anything does not work.")
	return o.ticketStatus(ctx, ticket.StatusSolved)
}

// planChange lists the steps in the safe orders of DESIGN.md: open a port
// before telling the customer, tell the customer before closing one; a new
// account is allowed, connected, accepted and verified before the old
// one's connections are rejected and the account revoked.
func (o *opRun) planChange(c request.Change) []PlanStep {
	var plan []PlanStep
	add := func(who, action, detail string) {
		plan = append(plan, PlanStep{Who: who, Action: action, Detail: detail})
	}
	if len(c.AddServices) > 0 {
		var missing, found []int
		for _, s := range c.AddServices {
			if slices.Contains(o.inv.OpenPorts, s.Port) {
				found = append(found, s.Port)
			} else {
				missing = append(missing, s.Port)
			}
		}
		if len(missing) > 0 {
			add("linkwright", "open ports "+ports(missing), "on "+o.spec.ServiceName)
		}
		if len(found) > 0 {
			add("linkwright", "keep ports "+ports(found), "found open already: not opened (nor closed on undo) by this change")
		}
		add("linkwright", "tell the customer", "the new ports are open to them")
	}
	if c.ReplaceCustomerAccount != "" {
		next := c.NewAccounts()
		add("linkwright", "allow "+strings.Join(next, ", "), "on "+o.spec.ServiceName+", and tell the customer how to connect")
		add("customer", "connect from "+strings.Join(next, ", "), "create an endpoint to "+o.spec.ServiceName+" from the new account")
		add("linkwright", "accept the new connection", "covered by this plan's approval")
		add("linkwright", "verify the new connection", "available, targets healthy")
	}
	for _, s := range c.AddCustomerServices {
		add("customer", "allow "+o.spec.Principal, "on "+s.Service)
		if eps := o.endpointsInto(s.Service); len(eps) > 0 {
			add("linkwright", "adopt endpoint "+eps[0].ID, "found into "+s.Service+": not created (nor deleted on undo) by this change")
		} else {
			add("linkwright", "create an endpoint into "+s.Service, "covered by this plan's approval")
		}
		add("customer", "accept the platform's endpoint", "on "+s.Service)
		add("linkwright", "verify DNS and TCP", "ports "+ports(s.Ports)+" through the new endpoint")
	}
	if len(c.RemovePorts) > 0 {
		add("linkwright", "tell the customer", "ports "+ports(c.RemovePorts)+" are being closed")
		add("linkwright", "close ports "+ports(c.RemovePorts), "on "+o.spec.ServiceName)
	}
	for _, svc := range c.RemoveCustomerServices {
		ids := o.reverseIDs(svc)
		add("linkwright", "delete endpoint "+orNone(strings.Join(ids, ", ")), "the platform's endpoints into "+svc)
		add("linkwright", "tell the customer", "they may now remove the platform's access to "+svc)
	}
	if c.ReplaceCustomerAccount != "" {
		var ids []string
		for _, cn := range o.inv.Connections {
			if !cn.State.Terminal() && o.isOld(cn.Account, c) {
				ids = append(ids, cn.ID)
			}
		}
		add("linkwright", "reject the old connections", orNone(strings.Join(ids, ", ")))
		add("linkwright", "revoke "+strings.Join(o.oldAccounts(c), ", "), "on "+o.spec.ServiceName)
	}
	return plan
}

// endpointsInto are the platform's live endpoints into a customer service.
func (o *opRun) endpointsInto(service string) []cloud.Endpoint {
	var out []cloud.Endpoint
	for _, ep := range o.inv.Endpoints {
		if strings.EqualFold(ep.Service, service) && !ep.State.Terminal() {
			out = append(out, ep)
		}
	}
	return out
}

// reverseIDs are the endpoints of a reverse connection: the spec's and
// any other the platform has into the service.
func (o *opRun) reverseIDs(service string) []string {
	var ids []string
	for _, r := range o.spec.Reverse {
		if strings.EqualFold(r.Service, service) {
			ids = append(ids, r.EndpointID)
		}
	}
	for _, ep := range o.endpointsInto(service) {
		if !slices.Contains(ids, ep.ID) {
			ids = append(ids, ep.ID)
		}
	}
	return ids
}

func (o *opRun) oldAccounts(c request.Change) []string {
	var out []string
	for _, acct := range o.in.Spec.Accounts {
		if o.isOld(acct, c) {
			out = append(out, acct)
		}
	}
	return out
}

func (o *opRun) isOld(acct string, c request.Change) bool {
	eq := func(x string) bool { return strings.EqualFold(x, acct) }
	return slices.ContainsFunc(o.in.Spec.Accounts, eq) && !slices.ContainsFunc(c.NewAccounts(), eq)
}

// The steps. Each does nothing when the change does not ask for it.

func (o *opRun) addPorts(ctx workflow.Context, c request.Change) error {
	if len(c.AddServices) == 0 {
		return nil
	}
	var missing []int
	for _, s := range c.AddServices {
		if !slices.Contains(o.inv.OpenPorts, s.Port) {
			missing = append(missing, s.Port)
		}
	}
	o.setPhase(ctx, PhaseOpeningPorts, WaitingOnCloud, "opening ports "+ports(missing))
	if len(missing) > 0 {
		in := activities.Ports{Env: o.ref, Ports: missing}
		if err := workflow.ExecuteActivity(act(ctx, "open ports "+ports(missing)), a.OpenPorts, in).Get(ctx, nil); err != nil {
			return err
		}
		o.compensate("close ports "+ports(missing), func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(act(ctx, "undo: close ports"), a.ClosePorts, in).Get(ctx, nil)
		})
		o.audit(ctx, "linkwright", "opened ports", ports(missing))
	}
	o.spec.Services = append(o.spec.Services, c.AddServices...)
	var b strings.Builder
	for _, s := range c.AddServices {
		fmt.Fprintf(&b, "\n- %s: port %d", s.Name, s.Port)
	}
	return o.reply(ctx, "These services are now open to you through your existing endpoint to "+o.spec.ServiceName+":"+b.String())
}

func (o *opRun) replaceAccount(ctx workflow.Context, c request.Change) error {
	if c.ReplaceCustomerAccount == "" {
		return nil
	}
	req := request.Request{Company: o.spec.Company, RequestedBy: c.RequestedBy, ProjectID: o.spec.Project, Environment: o.spec.Environment,
		Cloud: o.spec.Cloud, Region: o.spec.Region, CustomerAccount: c.ReplaceCustomerAccount, CustomerSubscriptions: c.ReplaceCustomerSubscriptions,
		ConnectionType: o.spec.ConnectionType, Services: o.spec.Services}
	e := &enablement{core: o.core, req: req, env: o.env, ref: o.ref, before: o.inv.ServiceState}
	for _, step := range []func(workflow.Context) error{e.allowCustomer, e.awaitConnectionRequest, e.acceptConnection, e.verifyPlatformSide} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	o.spec.Accounts = c.NewAccounts()
	o.spec.Connections = slices.Clone(o.st.CustomerEndpoints)
	o.describeSpec()
	return nil
}

func (o *opRun) addReverse(ctx workflow.Context, c request.Change) error {
	for _, s := range c.AddCustomerServices {
		req := request.Request{Company: o.spec.Company, RequestedBy: c.RequestedBy, ProjectID: o.spec.Project, Environment: o.spec.Environment,
			Cloud: o.spec.Cloud, Region: o.spec.Region, ConnectionType: request.Bidirectional, CustomerEndpointService: s.Service, CustomerServicePorts: s.Ports}
		r := &reverse{core: o.core, in: ReverseInput{ParentID: o.home, Request: req, Env: o.env, Ticket: o.spec.Ticket, Policy: o.policy, Started: o.started}, ref: o.ref}
		if err := r.runbook(ctx); err != nil {
			return err
		}
		o.spec.Reverse = append(o.spec.Reverse, ReverseConnection{Service: s.Service, Ports: s.Ports, EndpointID: o.st.ReverseEndpointID, DNSName: o.st.ReverseDNSName})
	}
	return nil
}

func (o *opRun) removePorts(ctx workflow.Context, c request.Change) error {
	if len(c.RemovePorts) == 0 {
		return nil
	}
	var names []string
	for _, s := range o.spec.Services {
		if slices.Contains(c.RemovePorts, s.Port) {
			names = append(names, fmt.Sprintf("%s (port %d)", s.Name, s.Port))
		}
	}
	if err := o.reply(ctx, "As requested, we are closing "+strings.Join(names, ", ")+" on your PrivateLink to "+o.spec.ServiceName+" now."); err != nil {
		return err
	}
	var open []int
	for _, p := range c.RemovePorts {
		if slices.Contains(o.inv.OpenPorts, p) {
			open = append(open, p)
		}
	}
	o.setPhase(ctx, PhaseOpeningPorts, WaitingOnCloud, "closing ports "+ports(c.RemovePorts))
	if len(open) > 0 {
		in := activities.Ports{Env: o.ref, Ports: open}
		if err := workflow.ExecuteActivity(act(ctx, "close ports "+ports(open)), a.ClosePorts, in).Get(ctx, nil); err != nil {
			return err
		}
		o.compensate("reopen ports "+ports(open), func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(act(ctx, "undo: reopen ports"), a.OpenPorts, in).Get(ctx, nil)
		})
		o.audit(ctx, "linkwright", "closed ports", ports(open))
	}
	o.spec.Services = slices.DeleteFunc(o.spec.Services, func(s request.Service) bool { return slices.Contains(c.RemovePorts, s.Port) })
	return nil
}

func (o *opRun) removeReverse(ctx workflow.Context, c request.Change) error {
	for _, svc := range c.RemoveCustomerServices {
		o.setPhase(ctx, PhaseCreatingEndpoint, WaitingOnCloud, "deleting the platform's endpoints into "+svc)
		for _, id := range o.reverseIDs(svc) {
			if err := workflow.ExecuteActivity(act(ctx, "delete endpoint "+id), a.DeleteEndpoint, activities.Endpoint{Env: o.ref, ID: id}).Get(ctx, nil); err != nil {
				return err
			}
			o.audit(ctx, "linkwright", "deleted the reverse endpoint", id+" into "+svc)
		}
		o.spec.Reverse = slices.DeleteFunc(o.spec.Reverse, func(r ReverseConnection) bool { return strings.EqualFold(r.Service, svc) })
		if err := o.reply(ctx, "We removed the platform's endpoint into your service "+svc+". You may now remove the platform's access to it, and delete the service if nothing else uses it."); err != nil {
			return err
		}
	}
	return nil
}

func (o *opRun) retireAccounts(ctx workflow.Context, c request.Change) error {
	if c.ReplaceCustomerAccount == "" {
		return nil
	}
	old := o.oldAccounts(c)
	o.spec.Accounts = c.NewAccounts()
	if len(old) == 0 {
		return nil
	}
	o.setPhase(ctx, PhaseAllowingCustomer, WaitingOnCloud, "rejecting the old account's connections and revoking "+strings.Join(old, ", "))
	var inv cloud.Inventory
	if err := workflow.ExecuteActivity(act(ctx, "read the link's inventory"), a.Inventory, activities.InventoryQuery{Env: o.ref}).Get(ctx, &inv); err != nil {
		return err
	}
	var ids []string
	for _, cn := range inv.Connections {
		if !cn.State.Terminal() && slices.ContainsFunc(old, func(x string) bool { return strings.EqualFold(x, cn.Account) }) {
			ids = append(ids, cn.ID)
		}
	}
	if len(ids) > 0 {
		in := activities.Connections{Env: o.ref, IDs: ids, Reason: "replaced by account " + c.ReplaceCustomerAccount}
		if err := workflow.ExecuteActivity(act(ctx, "reject the old connections"), a.RejectConnections, in).Get(ctx, nil); err != nil {
			return err
		}
		o.audit(ctx, "linkwright", "rejected the old connections", strings.Join(ids, ", "))
	}
	if err := workflow.ExecuteActivity(act(ctx, "revoke the old accounts"), a.RevokeAccounts, activities.Accounts{Env: o.ref, Accounts: old}).Get(ctx, nil); err != nil {
		return err
	}
	o.audit(ctx, "linkwright", "revoked", strings.Join(old, ", "))
	return o.reply(ctx, "Your new account is connected. The old account "+strings.Join(old, ", ")+" no longer has access to "+o.spec.ServiceName+".")
}

func (o *opRun) describeSpec() {
	o.st.CustomerEndpoints = o.spec.Connections
}

// --- PrivateLinkTeardown

// PrivateLinkTeardown removes a live link: it reads the cloud, plans, waits
// at gate teardown, then deletes the platform's own endpoints first, tells
// the customer they may delete their service, rejects every customer
// connection, revokes the accounts, closes the ports, reads the cloud back
// to prove nothing is left, and closes the ticket. Once approved it cannot
// be cancelled: nothing of it is undone.
func PrivateLinkTeardown(ctx workflow.Context, in OpInput) (OpResult, error) {
	o, err := startOp(ctx, in, "/teardown")
	if err != nil {
		return OpResult{}, err
	}
	if in.Teardown == nil {
		return o.end(ctx, temporal.NewNonRetryableApplicationError("the teardown request is missing", "InvalidRequest", nil), "")
	}
	o.requester = in.Teardown.RequestedBy
	rctx, stop := workflow.WithCancel(ctx)
	o.stop = stop
	return o.end(ctx, o.teardown(rctx, *in.Teardown), OutcomeTornDown)
}

func (o *opRun) teardown(ctx workflow.Context, t request.Teardown) error {
	if err := o.read(ctx); err != nil {
		return err
	}
	var endpoints, conns []string
	for _, r := range o.spec.Reverse {
		endpoints = append(endpoints, o.reverseIDs(r.Service)...)
	}
	for _, c := range o.inv.Connections {
		if !c.State.Terminal() {
			conns = append(conns, c.ID)
		}
	}
	var closing []int
	for _, p := range o.spec.ports() {
		if slices.Contains(o.inv.OpenPorts, p) {
			closing = append(closing, p)
		}
	}
	add := func(who, action, detail string) {
		o.plan = append(o.plan, PlanStep{Who: who, Action: action, Detail: detail})
	}
	if len(endpoints) > 0 {
		add("linkwright", "delete the platform's endpoints", strings.Join(endpoints, ", "))
		add("linkwright", "tell the customer", "they may now delete their service")
	}
	add("linkwright", "reject every customer connection", orNone(strings.Join(conns, ", ")))
	add("linkwright", "revoke the accounts", orNone(strings.Join(o.inv.Accounts, ", ")))
	add("linkwright", "close the ports", orNone(ports(closing)))
	add("linkwright", "read the cloud back", "prove nothing is left")
	add("linkwright", "close the ticket", o.spec.Ticket)
	o.audit(ctx, "linkwright", "planned", fmt.Sprintf("%d steps", len(o.plan)))
	if _, err := o.approve(ctx, GateTeardown, "the teardown ("+t.Reason+")"); err != nil {
		return err
	}
	// From here on the teardown runs to its end.
	o.committed = true
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	o.setPhase(ctx, PhaseTearingDown, WaitingOnCloud, "removing the link in the safe order")
	for _, id := range endpoints {
		if err := workflow.ExecuteActivity(act(ctx, "delete endpoint "+id), a.DeleteEndpoint, activities.Endpoint{Env: o.ref, ID: id}).Get(ctx, nil); err != nil {
			return err
		}
		o.audit(ctx, "linkwright", "deleted the reverse endpoint", id)
	}
	if len(endpoints) > 0 {
		var svcs []string
		for _, r := range o.spec.Reverse {
			svcs = append(svcs, r.Service)
		}
		if err := o.reply(ctx, "We removed the platform's endpoints into your service "+strings.Join(svcs, ", ")+". You may now delete the service, or remove the platform's access to it."); err != nil {
			return err
		}
	}
	if len(conns) > 0 {
		// The reason is the customer's to read (Azure shows it on their
		// connection): the platform's words, never the operator's free text.
		in := activities.Connections{Env: o.ref, IDs: conns, Reason: "the PrivateLink was removed (ticket " + o.spec.Ticket + ")"}
		if err := workflow.ExecuteActivity(act(ctx, "reject every customer connection"), a.RejectConnections, in).Get(ctx, nil); err != nil {
			return err
		}
		o.audit(ctx, "linkwright", "rejected the connections", strings.Join(conns, ", "))
	}
	if len(o.inv.Accounts) > 0 {
		if err := workflow.ExecuteActivity(act(ctx, "revoke the accounts"), a.RevokeAccounts, activities.Accounts{Env: o.ref, Accounts: o.inv.Accounts}).Get(ctx, nil); err != nil {
			return err
		}
		o.audit(ctx, "linkwright", "revoked", strings.Join(o.inv.Accounts, ", "))
	}
	if len(closing) > 0 {
		if err := workflow.ExecuteActivity(act(ctx, "close the ports"), a.ClosePorts, activities.Ports{Env: o.ref, Ports: closing}).Get(ctx, nil); err != nil {
			return err
		}
		o.audit(ctx, "linkwright", "closed ports", ports(closing))
	}
	if err := o.proveNothingLeft(ctx); err != nil {
		return err
	}
	o.spec.Deadlines = append(o.spec.Deadlines, Deadline{What: "teardown", Started: o.started, Target: o.st.Deadline, Done: workflow.Now(ctx)})
	countDone(ctx, o.st.Deadline)
	// The operator's reason is an internal note; the customer reads what
	// was done.
	_ = o.note(ctx, "Teardown complete ("+t.Reason+"), requested by "+o.requester+"; the cloud was read back and nothing of the link is left.")
	_ = o.reply(ctx, "The PrivateLink for "+o.spec.Company+" has been removed, as agreed, and nothing of it is left on the platform. We are closing this ticket; reply here if you have questions.")
	return o.ticketStatus(ctx, ticket.StatusSolved)
}

// proveNothingLeft reads the cloud back until nothing of the link is left
// (deletions take a while in some clouds), or says what is.
func (o *opRun) proveNothingLeft(ctx workflow.Context) error {
	in := activities.LinkCheck{Env: o.ref, Ports: o.spec.ports()}
	for _, r := range o.spec.Reverse {
		in.Reverse = append(in.Reverse, activities.ReverseCheck{Service: r.Service, EndpointID: r.EndpointID})
	}
	var left []string
	err := o.await(ctx, waitFor{
		phase: PhaseTearingDown, on: WaitingOnCloud, next: "reading the cloud back until nothing of the link is left",
		poll: func(ctx workflow.Context) workflow.Future {
			return workflow.ExecuteActivity(ctx, a.AwaitNothingLeft, in)
		},
		out: &left,
	})
	if err != nil {
		return err
	}
	o.audit(ctx, "linkwright", "read the cloud back", "nothing of the link is left")
	return nil
}
