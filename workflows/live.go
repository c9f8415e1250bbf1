package workflows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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

// LiveInput is what one run of the live link hands the next (continue-as-
// new), and what a completed enablement hands the live link. It is taken
// only from a run that continued as new: a start from outside must be an
// adoption, which an approver confirms.
type LiveInput struct {
	Spec   Spec         `json:"spec"`
	Health Health       `json:"health"`
	Audit  []AuditEntry `json:"audit"`
	// Earlier counts audit entries left in earlier runs' histories.
	Earlier int `json:"earlier,omitempty"`
	// Changes counts the changes started so far: the next is change/<n+1>.
	Changes int `json:"changes"`
	// Run counts the live link's runs.
	Run int `json:"run"`
	// CheckNow carries a check-now that arrived as the run continued.
	CheckNow bool `json:"checkNow,omitempty"`
	// DriftGate carries gate repair-drift, open for Health.Drift.
	DriftGate bool `json:"driftGate,omitempty"`
	// DriftDeclined is the drift an approver chose to leave as it is.
	DriftDeclined string `json:"driftDeclined,omitempty"`
}

// Bounds on one run's history: the live link continues as new after this
// many checks (a week of hourly checks), or sooner when the server
// suggests it, and carries at most keepAudit audit entries.
const (
	maxChecksPerRun = 168
	keepAudit       = 200
)

// PrivateLinkLive is the link while it exists: it checks its health every
// healthEvery, repairs drift after an approval, answers test-connection,
// and runs changes and the teardown as child workflows, one at a time. It
// starts when an enablement completes (continue-as-new under the same ID)
// or, for a link built by hand, from an adopt request.
func PrivateLinkLive(ctx workflow.Context, raw json.RawMessage) (Result, error) {
	l := &live{core: newCore(ctx)}
	l.refreshPolicy(ctx)
	if err := l.setup(ctx); err != nil {
		return Result{}, err
	}
	if workflow.GetInfo(ctx).ContinuedExecutionRunID != "" {
		var in LiveInput
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil {
			return Result{}, temporal.NewNonRetryableApplicationError("the live link's carried state cannot be read: "+err.Error(), "InvalidInput", nil)
		}
		l.carry(ctx, in)
	} else if res, err := l.adopt(ctx, raw); err != nil || res != nil {
		if res != nil {
			return *res, err
		}
		return Result{Outcome: string(PhaseInvalid), Status: l.status()}, err
	}
	return l.run(ctx)
}

type live struct {
	*core
	spec   Spec
	ref    cloud.EnvRef
	health Health
	in     LiveInput
	// op is the change or teardown asked for or under way; child its run.
	op    *operation
	child childLink
	// checkNow asks for a check at once; next is when the next one is due.
	checkNow bool
	next     time.Time
	// driftDeclined is the drift an approver chose to leave as it is.
	driftDeclined string
	// adopting is true until an adoption is confirmed.
	adopting bool
	earlier  int
}

// operation is a change or the teardown.
type operation struct {
	kind     string // ChangeWorkflow or TeardownWorkflow
	n        int
	id       string
	change   request.Change
	teardown request.Teardown
	by       string
	started  bool
	// planned is set when the child's plan is known; done when it ended.
	planned, done bool
	plan          []PlanStep
	result        OpResult
	err           error
}

func (l *live) carry(ctx workflow.Context, in LiveInput) {
	l.in = in
	l.spec, l.health = in.Spec, in.Health
	l.health.Checks = 0
	l.st.Audit = append(l.st.Audit, in.Audit...)
	l.earlier = in.Earlier
	l.checkNow = in.CheckNow
	l.driftDeclined = in.DriftDeclined
	l.next = in.Health.LastCheck.Add(l.policy.HealthEvery.D())
	l.in.Run++
	l.describe(ctx)
	if in.DriftGate {
		l.st.Gate = GateRepairDrift
	}
	if l.in.Run == 1 {
		// The first run after the enablement: check at once.
		l.checkNow = true
	}
}

// describe fills the status and search attributes from the spec.
func (l *live) describe(ctx workflow.Context) {
	s := l.spec
	l.ref = cloud.EnvRef{Cloud: s.Cloud, Region: s.Region, Project: s.Project, Environment: s.Environment}
	l.st.Company, l.st.Project, l.st.Environment, l.st.Cloud, l.st.Region = s.Company, s.Project, s.Environment, s.Cloud, s.Region
	l.st.ConnectionType, l.st.RequestedBy = s.ConnectionType, s.RequestedBy
	l.st.Ticket, l.st.TicketURL, l.st.ServiceName = s.Ticket, s.TicketURL, s.ServiceName
	l.st.CustomerEndpoints = s.Connections
	l.st.ReverseEndpointID, l.st.ReverseDNSName = "", ""
	if len(s.Reverse) > 0 {
		l.st.ReverseEndpointID, l.st.ReverseDNSName = s.Reverse[0].EndpointID, s.Reverse[0].DNSName
	}
	acct := ""
	if len(s.Accounts) > 0 {
		acct = s.Accounts[0]
	} else if len(s.Customer) > 0 { // an outbound link allows no account
		acct = s.Customer[0]
	}
	l.upsert(ctx, SAProject.ValueSet(clip(s.Project)), SAEnvironment.ValueSet(clip(s.Environment)), SACloud.ValueSet(clip(s.Cloud)),
		SACustomerAccount.ValueSet(clip(acct)), SAConnectionType.ValueSet(s.ConnectionType), SATicket.ValueSet(clip(s.Ticket)))
}

func (l *live) status() Status {
	st := l.st
	spec, health := l.spec, l.health
	st.Spec, st.Health = &spec, &health
	if l.op != nil && l.op.started {
		st.Activity = l.op.id
		st.Audit = mergeAudit(l.st.Audit, l.child.audit)
	}
	return st
}

// --- the life of the link

func (l *live) run(ctx workflow.Context) (Result, error) {
	l.showHealth(ctx)
	for {
		if ctx.Err() != nil {
			return l.cancelled(ctx), nil
		}
		if l.op != nil && !l.op.started {
			if res := l.runOp(ctx); res != nil {
				return *res, nil
			}
			l.showHealth(ctx)
			continue
		}
		if l.decision != nil {
			l.decideDrift(ctx)
			continue
		}
		if l.checkNow || !workflow.Now(ctx).Before(l.next) {
			l.checkNow = false
			l.check(ctx)
			continue
		}
		if l.health.Checks >= maxChecksPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return Result{}, l.continueAsNew(ctx)
		}
		wake := func() bool { return l.checkNow || (l.op != nil && !l.op.started) || l.decision != nil }
		if _, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: l.next.Sub(workflow.Now(ctx)), TimerOptions: workflow.TimerOptions{Summary: "until the next health check"}}, wake); err != nil {
			return Result{}, err
		}
	}
}

// cancelled ends a live link cancelled through Temporal: the link itself
// is left as it is in the cloud, unmanaged until it is adopted again.
func (l *live) cancelled(ctx workflow.Context) Result {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	l.st.Outcome = OutcomeCancelled
	l.audit(dctx, "temporal", OutcomeCancelled, "the live link was cancelled through Temporal; the link in the cloud is unchanged")
	l.setPhase(dctx, PhaseCancelled, WaitingOnNone, "nothing: the link is no longer managed; the cloud is unchanged (adopt it to manage it again, or tear it down by hand)")
	_ = l.note(dctx, "The live link's workflow was cancelled through Temporal. The link in the cloud is unchanged and no longer checked: adopt it again (PrivateLinkLive with an adopt request) to manage it.")
	return Result{Outcome: OutcomeCancelled, Status: l.status()}
}

// continueAsNew hands the link to a new run once every handler has
// finished, so that history stays bounded however long the link lives.
func (l *live) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	in := LiveInput{Spec: l.spec, Health: l.health, Changes: l.in.Changes, Run: l.in.Run, CheckNow: l.checkNow,
		DriftGate: l.st.Gate == GateRepairDrift, DriftDeclined: l.driftDeclined, Earlier: l.earlier}
	in.Audit = l.st.Audit
	if n := len(in.Audit) - keepAudit; n > 0 {
		in.Audit = slices.Clone(in.Audit[n:])
		in.Earlier += n
	}
	return workflow.NewContinueAsNewError(ctx, LiveWorkflow, in)
}

// --- health

// checkOptions: a health check is retried for a while (a throttled
// cloud), then reported as a check that could not be made.
func checkOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summary,
		StartToCloseTimeout:    callTimeout,
		HeartbeatTimeout:       heartbeatTimeout,
		ScheduleToCloseTimeout: 15 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: activities.NonRetryable,
		},
	})
}

func (l *live) linkCheck(port int) activities.LinkCheck {
	in := activities.LinkCheck{Env: l.ref, Ports: l.spec.ports(), Accounts: l.spec.Accounts, Connections: l.spec.Connections, Port: port}
	for _, r := range l.spec.Reverse {
		in.Reverse = append(in.Reverse, activities.ReverseCheck{Service: r.Service, EndpointID: r.EndpointID, DNSName: r.DNSName, Ports: r.Ports})
	}
	return in
}

func (s Spec) ports() []int {
	out := make([]int, 0, len(s.Services))
	for _, svc := range s.Services {
		out = append(out, svc.Port)
	}
	return out
}

// check runs one health check and records what it found.
func (l *live) check(ctx workflow.Context) {
	l.refreshPolicy(ctx)
	var rep activities.LinkReport
	err := workflow.ExecuteActivity(checkOptions(ctx, "health check"), a.CheckLink, l.linkCheck(0)).Get(ctx, &rep)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		rep = activities.LinkReport{Problems: []string{"the health check could not read the cloud: " + err.Error()}}
	}
	now := workflow.Now(ctx)
	l.health.Checks++
	l.health.LastCheck = now
	l.next = now.Add(l.policy.HealthEvery.D())
	l.record(ctx, rep)
	if err := workflow.UpsertMemo(ctx, map[string]any{memoHealth: healthMemo{Healthy: l.health.Healthy, LastCheck: now, Since: l.health.Since, Problems: len(l.health.Problems), Status: l.st.LinkStatus}}); err != nil {
		workflow.GetLogger(ctx).Warn("health not recorded in the memo", "error", err)
	}
}

// memoHealth is the memo field `linkwright links` reads.
const memoHealth = "health"

type healthMemo struct {
	Healthy   bool      `json:"healthy"`
	LastCheck time.Time `json:"lastCheck"`
	Since     time.Time `json:"since"`
	Problems  int       `json:"problems"`
	// Status is an outbound link's running or failed.
	Status string `json:"status,omitempty"`
}

// record applies a check's report: degrade, recover, escalate, and drift.
func (l *live) record(ctx workflow.Context, rep activities.LinkReport) {
	now := workflow.Now(ctx)
	was, wasProblems := l.health.Healthy, l.health.Problems
	first := l.health.Since.IsZero()
	l.health.Problems, l.health.Verification = rep.Problems, rep.Verification
	l.health.Drift = nil
	for _, d := range rep.Drift {
		l.health.Drift = append(l.health.Drift, Drift(d))
	}
	healthy := rep.Healthy()
	switch {
	case healthy && (!was || first):
		l.health.Healthy, l.health.Since, l.health.Escalated = true, now, false
		if !first {
			l.audit(ctx, "linkwright", "recovered", "every check passes")
			_ = l.note(ctx, "The link recovered: every health check passes again.")
		}
	case !healthy && (was || first):
		l.health.Healthy, l.health.Since, l.health.Escalated = false, now, false
		l.audit(ctx, "linkwright", "degraded", strings.Join(rep.Problems, "; "))
		_ = l.note(ctx, "A health check of the live link failed:\n- "+strings.Join(rep.Problems, "\n- ")+l.repairs(rep.Drift)+
			"\nLinkwright checks again every "+humanDuration(l.policy.HealthEvery.D())+" and notes the recovery; signal "+SignalCheckNow+" to check at once.\n"+l.uiLink())
	case !healthy && !slices.Equal(wasProblems, rep.Problems):
		l.audit(ctx, "linkwright", "still degraded", strings.Join(rep.Problems, "; "))
	}
	if !l.health.Healthy && !l.health.Escalated && now.Sub(l.health.Since) >= l.policy.HealthGrace.D() {
		l.health.Escalated = true
		l.audit(ctx, "linkwright", "escalated to operators", "degraded since "+l.health.Since.UTC().Format(time.RFC1123))
		_ = l.note(ctx, fmt.Sprintf("ESCALATION: the live link has been degraded since %s (more than %s):\n- %s\n%s",
			l.health.Since.UTC().Format(time.RFC1123), humanDuration(l.policy.HealthGrace.D()), strings.Join(l.health.Problems, "\n- "), l.uiLink()))
	}
	l.drift(ctx, rep.Drift)
	l.showHealth(ctx)
}

func (l *live) repairs(drift []activities.Drift) string {
	if len(drift) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("\nDrift from the link's spec, and its repair:")
	for _, d := range drift {
		fmt.Fprintf(&b, "\n- %s: %s", d.What, d.Repair)
	}
	return b.String()
}

// showHealth shows the link as live or degraded, with what happens next.
func (l *live) showHealth(ctx workflow.Context) {
	next := fmt.Sprintf("nothing: the link is healthy (last check %s, next %s)", fmtTime(l.health.LastCheck), fmtTime(l.next))
	on, phase := WaitingOnNone, PhaseLive
	switch {
	case l.st.Gate == GateRepairDrift:
		on = WaitingOnOperator
		next = "an approver decides on repairing drift (update " + Approve + ", gate " + GateRepairDrift + "): " + driftRepairs(l.health.Drift)
		if !l.health.Healthy {
			phase = PhaseDegraded
		}
	case !l.health.Healthy:
		phase, on = PhaseDegraded, WaitingOnOperator
		next = "fix: " + strings.Join(l.health.Problems, "; ") + " (checked again " + fmtTime(l.next) + ")"
	}
	if l.spec.ConnectionType == request.Outbound {
		l.st.LinkStatus, l.st.LinkStatusReason = LinkRunning, ""
		if !l.health.Healthy {
			l.st.LinkStatus, l.st.LinkStatusReason = LinkFailed, strings.Join(l.health.Problems, "; ")
		}
	}
	l.setPhase(ctx, phase, on, next)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "now"
	}
	return t.UTC().Format("Mon 2 Jan 15:04 MST")
}

func driftRepairs(ds []Drift) string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Repair
	}
	return strings.Join(out, "; ")
}

// driftKey names a set of drift, so that one an approver declined is not
// asked about again until it changes.
func driftKey(ds []activities.Drift) string {
	keys := make([]string, len(ds))
	for i, d := range ds {
		keys[i] = d.Kind + ":" + d.Repair
	}
	slices.Sort(keys)
	return strings.Join(keys, "|")
}

// drift repairs at once what restores the spec where the policy allows
// it, and opens gate repair-drift for the rest.
func (l *live) drift(ctx workflow.Context, ds []activities.Drift) {
	if len(ds) == 0 {
		if l.st.Gate == GateRepairDrift {
			l.st.Gate = ""
			l.audit(ctx, "linkwright", "closed gate", GateRepairDrift+": the drift is gone")
		}
		l.driftDeclined = ""
		return
	}
	if l.policy.AutoRepairDrift {
		var auto []activities.Drift
		for _, d := range ds {
			if d.Restores() {
				auto = append(auto, d)
			}
		}
		if len(auto) > 0 {
			l.repair(ctx, auto, "linkwright (autoRepairDrift)")
			l.checkNow = true
			return
		}
	}
	var gated []activities.Drift
	for _, d := range ds {
		if d.Kind != activities.DriftEndpointMissing { // repaired by a change, not here
			gated = append(gated, d)
		}
	}
	key := driftKey(gated)
	if len(gated) == 0 || key == l.driftDeclined || l.st.Gate == GateRepairDrift {
		return
	}
	l.refreshPolicy(ctx)
	l.st.Gate = GateRepairDrift
	l.decision = nil
	l.audit(ctx, "linkwright", "opened gate", GateRepairDrift+": "+key)
	_ = l.note(ctx, fmt.Sprintf("Decision needed (gate %s): the cloud differs from the link's spec.%s\nApprove: temporal workflow update execute --workflow-id %s --name approve --input '{\"gate\":\"%s\",\"approver\":\"<you>\"}'\nReject (leave it as it is): the same with --name reject and a \"reason\".\n%s",
		GateRepairDrift, l.repairs(gated), l.id, GateRepairDrift, l.uiLink()))
}

// decideDrift acts on a decision at gate repair-drift.
func (l *live) decideDrift(ctx workflow.Context) {
	d := *l.decision
	l.decision = nil
	countDecision(ctx, d)
	l.st.Gate = ""
	var gated []activities.Drift
	for _, x := range l.health.Drift {
		if x.Kind != activities.DriftEndpointMissing {
			gated = append(gated, activities.Drift(x))
		}
	}
	if d.Kind == Reject {
		l.driftDeclined = driftKey(gated)
		_ = l.note(ctx, "Drift left as it is, by "+d.Approver+": "+d.Text)
		l.showHealth(ctx)
		return
	}
	l.repair(ctx, gated, d.Approver)
	l.checkNow = true
}

// repair puts the platform side back to the spec. Each call is idempotent
// (providers read first), so a repair of drift that is already gone
// changes nothing.
func (l *live) repair(ctx workflow.Context, ds []activities.Drift, by string) {
	var open, closePorts []int
	var allow, revoke, accept, forget []string
	for _, d := range ds {
		switch d.Kind {
		case activities.DriftPortClosed:
			open = append(open, d.Port)
		case activities.DriftPortOpen:
			closePorts = append(closePorts, d.Port)
		case activities.DriftAccountRevoked:
			allow = append(allow, d.Account)
		case activities.DriftAccountAllowed:
			revoke = append(revoke, d.Account)
		case activities.DriftConnectionPending:
			accept = append(accept, d.Connection)
		case activities.DriftConnectionGone:
			forget = append(forget, d.Connection)
		}
	}
	var done, failed []string
	try := func(what string, err error) {
		if err != nil {
			failed = append(failed, what+": "+err.Error())
		} else {
			done = append(done, what)
		}
	}
	if len(open) > 0 {
		try("open ports "+ports(open), workflow.ExecuteActivity(act(ctx, "repair: open ports"), a.OpenPorts, activities.Ports{Env: l.ref, Ports: open}).Get(ctx, nil))
	}
	if len(allow) > 0 {
		try("allow "+strings.Join(allow, ", "), workflow.ExecuteActivity(act(ctx, "repair: allow accounts"), a.AllowAccounts, activities.Accounts{Env: l.ref, Accounts: allow}).Get(ctx, nil))
	}
	if len(accept) > 0 {
		err := workflow.ExecuteActivity(act(ctx, "repair: accept connections"), a.AcceptConnections, activities.Connections{Env: l.ref, IDs: accept, BandwidthMbps: l.spec.BandwidthMbps}).Get(ctx, nil)
		try("accept connection "+strings.Join(accept, ", "), err)
		if err == nil {
			for _, id := range accept {
				if !slices.Contains(l.spec.Connections, id) {
					l.spec.Connections = append(l.spec.Connections, id)
				}
			}
		}
	}
	if len(closePorts) > 0 {
		try("close ports "+ports(closePorts), workflow.ExecuteActivity(act(ctx, "repair: close ports"), a.ClosePorts, activities.Ports{Env: l.ref, Ports: closePorts}).Get(ctx, nil))
	}
	if len(revoke) > 0 {
		try("revoke "+strings.Join(revoke, ", "), workflow.ExecuteActivity(act(ctx, "repair: revoke accounts"), a.RevokeAccounts, activities.Accounts{Env: l.ref, Accounts: revoke}).Get(ctx, nil))
	}
	if len(forget) > 0 {
		l.spec.Connections = slices.DeleteFunc(l.spec.Connections, func(id string) bool { return slices.Contains(forget, id) })
		done = append(done, "forget connection "+strings.Join(forget, ", "))
	}
	l.describe(ctx)
	if len(done) > 0 {
		l.audit(ctx, by, "repaired drift", strings.Join(done, "; "))
	}
	msg := "Drift repaired (by " + by + "): " + strings.Join(done, "; ")
	if len(failed) > 0 {
		l.audit(ctx, "linkwright", "drift repair failed", strings.Join(failed, "; "))
		msg += "\nNot repaired, do it by hand:\n- " + strings.Join(failed, "\n- ")
	}
	_ = l.note(ctx, msg)
}

// --- test-connection

// testConnection runs the verification now: the platform side and DNS and
// TCP through every reverse endpoint, or only port.
func (l *live) testConnection(ctx workflow.Context, port int) (TestResult, error) {
	var rep activities.LinkReport
	if err := workflow.ExecuteActivity(checkOptions(ctx, "test the connection"), a.CheckLink, l.linkCheck(port)).Get(ctx, &rep); err != nil {
		return TestResult{}, err
	}
	res := TestResult{OK: rep.Healthy(), Checked: workflow.Now(ctx), Results: rep.Verification, Problems: rep.Problems}
	l.audit(ctx, "linkwright", "tested the connection", testSummary(res))
	return res, nil
}

func testSummary(r TestResult) string {
	var parts []string
	for _, p := range r.Results {
		parts = append(parts, fmt.Sprintf("%s:%d %s", p.Host, p.Port, p.Outcome))
	}
	if len(r.Problems) > 0 {
		parts = append(parts, strconv.Itoa(len(r.Problems))+" problems")
	}
	if len(parts) == 0 {
		return "platform side ok"
	}
	return strings.Join(parts, ", ")
}

// --- handlers

func (l *live) setup(ctx workflow.Context) error {
	if err := setDecisionHandlers(ctx, l); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateTestConnection,
		func(ctx workflow.Context, in TestConnection) (TestResult, error) {
			return l.testConnection(ctx, in.Port)
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in TestConnection) error {
			if err := l.ready(); err != nil {
				return err
			}
			if in.Port != 0 && !slices.Contains(l.testPorts(), in.Port) {
				return fmt.Errorf("port %d is not a port of this link's reverse connections (%s): use 0 for all", in.Port, ports(l.testPorts()))
			}
			return nil
		}}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateChange, l.startChange,
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, raw json.RawMessage) error {
			_, err := l.checkChange(raw)
			return err
		}}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateTeardown, l.startTeardown,
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, raw json.RawMessage) error {
			_, err := l.checkTeardown(raw)
			return err
		}}); err != nil {
		return err
	}
	workflow.Go(ctx, l.signals)
	return nil
}

func (l *live) testPorts() []int {
	var out []int
	for _, r := range l.spec.Reverse {
		out = append(out, r.Ports...)
	}
	return out
}

// ready refuses what needs a live link while it is being adopted or ended.
func (l *live) ready() error {
	switch {
	case l.adopting:
		return fmt.Errorf("the link is not managed yet: an approver confirms the adoption first (gate %s)", GateAdopt)
	case l.st.Phase.Ended():
		return fmt.Errorf("the link has ended (%s)", l.st.Phase)
	}
	return nil
}

func (l *live) busy() error {
	if err := l.ready(); err != nil {
		return err
	}
	if l.op != nil {
		return fmt.Errorf("%s is under way on this link: wait for it to end, or cancel it (update %s)", l.op.id, Cancel)
	}
	return nil
}

func (l *live) link() request.Link { return l.spec.Link() }

func (l *live) checkChange(raw json.RawMessage) (request.Change, error) {
	if err := l.busy(); err != nil {
		return request.Change{}, err
	}
	c, err := request.DecodeChange(raw)
	if err != nil {
		return c, err
	}
	c = c.Normalize(l.spec.Cloud)
	return c, c.Validate(l.link()).Of("change")
}

func (l *live) checkTeardown(raw json.RawMessage) (request.Teardown, error) {
	if err := l.busy(); err != nil {
		return request.Teardown{}, err
	}
	t, err := request.DecodeTeardown(raw)
	if err != nil {
		return t, err
	}
	return t, t.Validate().Of("teardown")
}

// startChange asks the run for a change and answers with its plan once
// the change has read the cloud (for a dry run, when it ended).
func (l *live) startChange(ctx workflow.Context, raw json.RawMessage) (ChangeResult, error) {
	c, err := l.checkChange(raw)
	if err != nil {
		return ChangeResult{}, err
	}
	l.in.Changes++
	op := &operation{kind: ChangeWorkflow, n: l.in.Changes, id: l.id + "/change/" + strconv.Itoa(l.in.Changes), change: c, by: c.RequestedBy}
	l.audit(ctx, c.RequestedBy, "requested a change", c.Summary()+" ("+c.Reason+")")
	return l.await(ctx, op, c.DryRun)
}

func (l *live) startTeardown(ctx workflow.Context, raw json.RawMessage) (ChangeResult, error) {
	t, err := l.checkTeardown(raw)
	if err != nil {
		return ChangeResult{}, err
	}
	op := &operation{kind: TeardownWorkflow, id: l.id + "/teardown", teardown: t, by: t.RequestedBy}
	l.audit(ctx, t.RequestedBy, "requested the teardown", t.Reason)
	return l.await(ctx, op, false)
}

func (l *live) await(ctx workflow.Context, op *operation, dry bool) (ChangeResult, error) {
	l.op = op
	if l.st.Gate == GateRepairDrift {
		l.st.Gate = ""
		l.audit(ctx, "linkwright", "closed gate", GateRepairDrift+": "+op.id+" comes first")
	}
	// A dry run answers when it ended; a change when its plan is known.
	if err := workflow.Await(ctx, func() bool { return op.done || (op.planned && !dry) }); err != nil {
		return ChangeResult{}, err
	}
	res := ChangeResult{WorkflowID: op.id, DryRun: dry, Plan: op.plan}
	if op.done {
		res.Outcome, res.Why = op.result.Outcome, op.result.Why
		if op.err != nil {
			return res, op.err
		}
	}
	return res, nil
}

// decide forwards decisions at a running change's or teardown's gate (and
// cancel) to it, after checking them against its state read afresh; the
// child checks them again. Gates repair-drift and adopt are this run's.
func (l *live) decide(ctx workflow.Context, d decision, via string) error {
	running := l.op != nil && l.child.running
	if running {
		l.refreshPolicy(ctx)
		l.syncChild(ctx, &l.child, l.showOp)
		l.requester = l.op.by
	} else {
		l.requester = l.spec.RequestedBy
		if l.adopting {
			l.requester = l.in.Spec.RequestedBy
		}
	}
	if d.Kind == Cancel && !running {
		err := fmt.Errorf("there is no change or teardown under way to cancel: to remove the link, use update %s", UpdateTeardown)
		if l.adopting {
			err = fmt.Errorf("an adoption is not cancelled: reject it at gate %s", GateAdopt)
		}
		l.audit(ctx, normalize(d.Approver), d.what()+" refused ("+via+")", err.Error())
		return err
	}
	if err := l.admit(ctx, &d, via); err != nil {
		return err
	}
	if running {
		l.st.Gate = "" // until the child says where it stands
		return workflow.SignalExternalWorkflow(ctx, l.child.id, l.child.runID, signalReverseDecision, d).Get(ctx, nil)
	}
	l.decision = &d
	return nil
}

func (l *live) signals(ctx workflow.Context) {
	s := newSignalLoop(ctx)
	s.customer(l.core, func(name, detail string) {
		l.audit(ctx, "customer", name, detail)
		if l.op != nil && l.child.running {
			_ = workflow.SignalExternalWorkflow(ctx, l.child.id, l.child.runID, signalReverseNudge, name).Get(ctx, nil)
			return
		}
		l.checkNow = true
	}, func(CustomerVerified) {})
	s.decisions(l.core, l)
	s.on(SignalCheckNow, func(json.RawMessage) { l.checkNow = true })
	s.on(signalReverseProgress, func(json.RawMessage) {
		if l.child.running {
			l.child.dirty = true
		}
	})
	s.run()
}

// --- changes and the teardown, as children

// runOp runs the change or teardown asked for, as a child workflow, and
// applies its outcome. It returns the link's result when the link ends.
func (l *live) runOp(ctx workflow.Context) *Result {
	op := l.op
	op.started = true
	l.refreshPolicy(ctx)
	phase, summary := PhaseChanging, "Change "+strconv.Itoa(op.n)+" of "+l.id+": "+op.change.Summary()
	if op.kind == TeardownWorkflow {
		phase, summary = PhaseTearingDown, "Teardown of "+l.id+": "+op.teardown.Reason
	}
	in := OpInput{LinkID: l.id, N: op.n, Spec: l.spec, Policy: l.policy}
	if op.kind == ChangeWorkflow {
		in.Change = &op.change
	} else {
		in.Teardown = &op.teardown
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: op.id, StaticSummary: clipTo(summary, 400), WaitForCancellation: true})
	f := workflow.ExecuteChildWorkflow(cctx, op.kind, in)
	var run workflow.Execution
	if err := f.GetChildWorkflowExecution().Get(ctx, &run); err != nil {
		op.done, op.err = true, err
		l.audit(ctx, "linkwright", op.kind+" not started", err.Error())
		l.op = nil
		return nil
	}
	l.child = childLink{id: run.ID, runID: run.RunID, running: true}
	l.setPhase(ctx, phase, WaitingOnNone, op.id+" reads the cloud and plans")
	workflow.Go(ctx, func(ctx workflow.Context) { l.mirror(ctx, &l.child, l.showOp) })
	var res OpResult
	err := f.Get(ctx, &res)
	l.child.running = false
	l.child.audit = nil
	l.st.Audit = mergeAudit(l.st.Audit, res.Audit)
	l.st.Gate = ""
	op.result, op.plan, op.done = res, res.Plan, true
	l.op = nil
	if err != nil {
		op.err = err
		l.audit(ctx, "linkwright", op.id+" failed", err.Error())
		return nil
	}
	switch res.Outcome {
	case OutcomeApplied:
		l.spec = res.Spec
		l.describe(ctx)
		l.audit(ctx, "linkwright", "change applied", op.id)
		l.checkNow = true
	case OutcomePlanned:
	case OutcomeTornDown:
		l.spec = res.Spec
		l.st.Outcome = OutcomeTornDown
		l.audit(ctx, op.by, OutcomeTornDown, op.teardown.Reason)
		l.setPhase(ctx, PhaseTornDown, WaitingOnNone, "nothing: the link is torn down; a new enablement may start under this ID")
		_ = workflow.UpsertMemo(ctx, map[string]any{memoHealth: nil})
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		_ = workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) })
		return &Result{Outcome: OutcomeTornDown, Status: l.status()}
	default:
		l.audit(ctx, "linkwright", op.id+" ended", res.Outcome+": "+res.Why)
		l.checkNow = true // a cancelled change was undone: see where the link stands
	}
	return nil
}

// showOp shows the running change's or teardown's status as the link's.
func (l *live) showOp(ctx workflow.Context, v childView) {
	if l.op == nil {
		return
	}
	l.st.Gate = v.Gate
	if len(v.Plan) > 0 {
		l.op.plan, l.op.planned = v.Plan, true
	}
	phase := PhaseChanging
	if l.op.kind == TeardownWorkflow {
		phase = PhaseTearingDown
	}
	if !v.Phase.Ended() {
		l.setPhase(ctx, phase, v.WaitingOn, l.op.id+": "+v.Next)
	}
}

// --- adoption

// adopt reads a link built by hand from the cloud, shows the spec it
// found, and waits for an approver to confirm it (gate adopt). Nothing in
// the cloud is changed. It returns a result when the run ends here.
func (l *live) adopt(ctx workflow.Context, raw json.RawMessage) (*Result, error) {
	l.adopting = true
	l.setPhase(ctx, PhaseValidating, WaitingOnNone, "checking the adopt request")
	ad, err := request.DecodeAdopt(raw)
	var problems request.Errors
	if err != nil {
		if !errors.As(err, &problems) {
			problems = request.Errors{{Field: "request", Problem: err.Error(), Fix: "send an adopt request as in the README"}}
		}
	} else {
		problems = ad.Validate()
	}
	l.requester = ad.RequestedBy
	l.in.Spec.RequestedBy = ad.RequestedBy
	l.st.Company, l.st.Project, l.st.Environment, l.st.Cloud, l.st.Region, l.st.RequestedBy = ad.Company, ad.ProjectID, ad.Environment, ad.Cloud, ad.Region, ad.RequestedBy
	if err == nil && !hasField(problems, "projectId", "environment", "cloud") && l.id != ad.WorkflowID() {
		problems = append(problems, request.FieldError{Field: "workflowId", Value: l.id, Problem: "does not match the adopt request",
			Fix: "start it with --workflow-id " + ad.WorkflowID() + " (one link per project, environment and cloud)"})
	}
	var env cloud.Environment
	if len(problems) == 0 {
		l.ref = cloud.EnvRef{Cloud: ad.Cloud, Region: ad.Region, Project: ad.ProjectID, Environment: ad.Environment}
		var found activities.EnvLookup
		if err := workflow.ExecuteActivity(act(ctx, "look up the platform environment"), a.LookupEnvironment, l.ref).Get(ctx, &found); err != nil {
			return nil, err
		}
		if !found.Found {
			problems = append(problems, request.FieldError{Field: "projectId", Value: ad.ProjectID,
				Problem: fmt.Sprintf("has no %s environment on %s", ad.Environment, ad.Cloud), Fix: "check the project ID, environment and cloud"})
		} else if found.Env.Region != ad.Region {
			problems = append(problems, request.FieldError{Field: "region", Value: ad.Region, Problem: "does not match the platform environment, which runs in " + found.Env.Region, Fix: "set region to " + found.Env.Region})
		} else if ad.CustomerRegion != "" && !slices.Contains(found.Env.Regions, ad.CustomerRegion) {
			problems = append(problems, request.FieldError{Field: "customerRegion", Value: ad.CustomerRegion, Problem: "is not a region the platform's endpoint service accepts connections from",
				Fix: "the service accepts connections from these other regions: " + orNone(strings.Join(found.Env.Regions, ", ")) + "; add the region to the service's supported regions first"})
		}
		env = found.Env
	}
	if len(problems) > 0 {
		for _, p := range problems {
			l.st.Problems = append(l.st.Problems, p.String())
		}
		l.audit(ctx, "linkwright", "refused the adopt request", strconv.Itoa(len(problems))+" problems")
		l.setPhase(ctx, PhaseInvalid, WaitingOnNone, "fix the adopt request and start it again: "+strings.Join(l.st.Problems, "; "))
		return nil, temporal.NewNonRetryableApplicationError(problems.Of("adopt request").Error(), "InvalidRequest", nil, problems)
	}
	l.audit(ctx, ad.RequestedBy, "asked to adopt", fmt.Sprintf("a link built by hand for %s, %s/%s on %s", ad.Company, ad.ProjectID, ad.Environment, ad.Cloud))

	// Read the cloud: the reverse endpoints named, then the inventory.
	l.setPhase(ctx, PhaseReadingCloud, WaitingOnCloud, "reading what exists in the cloud for the link")
	spec := Spec{Company: ad.Company, RequestedBy: ad.RequestedBy, Project: ad.ProjectID, Environment: ad.Environment, Cloud: ad.Cloud, Region: ad.Region,
		ConnectionType: request.Unidirectional, ServiceName: env.ServiceName, ServiceID: env.ServiceID, Principal: env.Principal, Plan: env.Plan,
		BandwidthMbps: ad.BandwidthMbps, CustomerRegion: ad.CustomerRegion}
	var findings []string
	var services []string
	for _, re := range ad.ReverseEndpoints {
		var ep cloud.Endpoint
		err := workflow.ExecuteActivity(act(ctx, "read reverse endpoint "+re.EndpointID), a.DescribeEndpoint, activities.Endpoint{Env: l.ref, ID: re.EndpointID}).Get(ctx, &ep)
		if err != nil {
			findings = append(findings, "reverse endpoint "+re.EndpointID+" was not found: "+err.Error())
			continue
		}
		spec.Reverse = append(spec.Reverse, ReverseConnection{Service: ep.Service, Ports: re.Ports, EndpointID: ep.ID, DNSName: ep.DNSName})
		services = append(services, ep.Service)
		if ep.State != cloud.StateAvailable {
			findings = append(findings, "reverse endpoint "+ep.ID+" is "+string(ep.State))
		}
	}
	if len(spec.Reverse) > 0 {
		spec.ConnectionType = request.Bidirectional
	}
	var inv cloud.Inventory
	if err := workflow.ExecuteActivity(act(ctx, "read the link's inventory"), a.Inventory, activities.InventoryQuery{Env: l.ref, Services: services}).Get(ctx, &inv); err != nil {
		return nil, err
	}
	named := map[int]string{}
	for _, s := range ad.Services {
		named[s.Port] = s.Name
	}
	for _, p := range inv.OpenPorts {
		name := named[p]
		if name == "" {
			name = "port-" + strconv.Itoa(p)
		}
		spec.Services = append(spec.Services, request.Service{Name: name, Port: p})
	}
	for _, s := range ad.Services {
		if !slices.Contains(inv.OpenPorts, s.Port) {
			findings = append(findings, fmt.Sprintf("port %d (%s) is not open on the platform service: it is not part of the link", s.Port, s.Name))
		}
	}
	accounts := request.Request{Cloud: ad.Cloud, CustomerAccount: ad.CustomerAccount, CustomerSubscriptions: ad.CustomerSubscriptions}.CustomerAccounts()
	for _, acct := range accounts {
		if slices.ContainsFunc(inv.Accounts, func(x string) bool { return strings.EqualFold(x, acct) }) {
			spec.Accounts = append(spec.Accounts, acct)
		} else {
			findings = append(findings, "account "+acct+" is not allowed on the platform service: it is not part of the link")
		}
	}
	for _, c := range inv.Connections {
		if c.State == cloud.StateAvailable && slices.ContainsFunc(spec.Accounts, func(x string) bool { return strings.EqualFold(x, c.Account) }) {
			spec.Connections = append(spec.Connections, c.ID)
		}
	}
	for _, acct := range inv.Accounts {
		if !slices.ContainsFunc(accounts, func(x string) bool { return strings.EqualFold(x, acct) }) {
			findings = append(findings, "account "+acct+" is allowed on the platform service but not named in the adopt request: reported as drift")
		}
	}
	// The ticket: the one named, or a new one for the link.
	var t ticket.Ticket
	if ad.Ticket != "" {
		err = workflow.ExecuteActivity(act(ctx, "find the named ticket"), a.FindTicket, ad.Ticket).Get(ctx, &t)
	} else {
		err = workflow.ExecuteActivity(act(ctx, "open the ticket"), a.OpenTicket, ticket.OpenRequest{Company: ad.Company, Requester: ad.RequestedBy, Project: ad.ProjectID,
			Body: fmt.Sprintf("PrivateLink built by hand for %s/%s on %s (%s), adopted by Linkwright at the request of %s.", ad.ProjectID, ad.Environment, ad.Cloud, ad.Region, ad.RequestedBy)}).Get(ctx, &t)
	}
	if err != nil {
		return nil, err
	}
	spec.Ticket, spec.TicketURL = t.Key, t.URL
	l.spec = spec
	l.describe(ctx)
	l.audit(ctx, "linkwright", "found the link", l.specSummary())
	if len(findings) > 0 {
		l.audit(ctx, "linkwright", "findings", strings.Join(findings, "; "))
	}
	msg := "Linkwright was asked to adopt this link. It found, and will manage from now on:\n" + l.specSummary()
	if len(findings) > 0 {
		msg += "\n\nFindings:\n- " + strings.Join(findings, "\n- ")
	}
	if err := l.note(ctx, msg+"\n"+l.uiLink()); err != nil {
		return nil, err
	}
	if _, err := l.gate(ctx, GateAdopt, "an approver confirms the link as found: "+l.specSummary()+" (update "+Approve+", gate "+GateAdopt+")"); err != nil {
		var end *ended
		if !errors.As(err, &end) {
			return nil, err
		}
		l.st.Outcome = end.Outcome
		l.audit(ctx, end.By, "adoption "+end.Outcome, end.Why)
		l.setPhase(ctx, PhaseRejected, WaitingOnNone, "the link is not managed by Linkwright: "+end.Why)
		_ = l.note(ctx, "Adoption rejected by "+end.By+": "+end.Why+". Nothing was changed in the cloud.")
		return &Result{Outcome: end.Outcome, Status: l.status()}, nil
	}
	l.adopting = false
	l.audit(ctx, "linkwright", "adopted", "the link is managed from now on")
	l.in.Run = 1
	l.checkNow = true
	return nil, nil
}

// specSummary says in one line what the link is.
func (l *live) specSummary() string {
	s := l.spec
	var svc []string
	for _, v := range s.Services {
		svc = append(svc, fmt.Sprintf("%s:%d", v.Name, v.Port))
	}
	out := fmt.Sprintf("ports %s open to %s on %s", orNone(strings.Join(svc, ", ")), orNone(strings.Join(s.Accounts, ", ")), s.ServiceName)
	if len(s.Connections) > 0 {
		out += "; connections " + strings.Join(s.Connections, ", ")
	}
	for _, r := range s.Reverse {
		out += fmt.Sprintf("; reverse endpoint %s into %s on %s", r.EndpointID, r.Service, ports(r.Ports))
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
