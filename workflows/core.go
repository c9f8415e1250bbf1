package workflows

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/ticket"
)

// a is the activities receiver, for calls by method value.
var a *activities.Activities

// core is the machinery the enablement and the reverse link share: status,
// ticket talk, waits with reminders, escalation and expiry, gates, undo.
type core struct {
	id string
	// home is the enablement's workflow ID: where decisions are sent and
	// what the Web UI link shows (the child's parent).
	home      string
	policy    config.Policy
	st        Status
	requester string
	started   time.Time
	nudge     workflow.Channel
	decision  *decision
	undo      []compensation
	// onPhase runs after each phase change (the child reports to its parent).
	onPhase func(ctx workflow.Context)
	// covered are gates an approved plan already decided (a change's
	// apply-change covers the gates of the steps it lists): name -> the
	// plan's approver.
	covered map[string]string
	// plan is the change or teardown plan this run follows, if any.
	plan []PlanStep
}

// compensation undoes one step this run changed. do returns what it
// undid ("" when it found nothing left to undo).
type compensation struct {
	what string
	do   func(ctx workflow.Context) (string, error)
}

// ended stops the runbook with an outcome other than completion.
type ended struct {
	Outcome string
	By      string
	Why     string
}

func (e *ended) Error() string { return e.Outcome + " by " + e.By + ": " + e.Why }

func newCore(ctx workflow.Context) *core {
	info := workflow.GetInfo(ctx)
	return &core{
		id:      info.WorkflowExecution.ID,
		home:    info.WorkflowExecution.ID,
		started: workflow.Now(ctx),
		nudge:   workflow.NewBufferedChannel(ctx, 1),
		st:      Status{WorkflowID: info.WorkflowExecution.ID, Since: workflow.Now(ctx), Audit: []AuditEntry{}},
	}
}

// --- status, Web UI, audit

func (c *core) audit(ctx workflow.Context, actor, action, detail string) {
	c.st.Audit = append(c.st.Audit, AuditEntry{At: workflow.Now(ctx), Actor: actor, Action: action, Detail: detail})
}

// setPhase records where the run stands, who it waits on and what happens
// next, in the status, the search attributes and the Web UI's details.
func (c *core) setPhase(ctx workflow.Context, p Phase, on WaitingOn, next string) {
	changed := c.st.Phase != p || c.st.WaitingOn != on
	c.st.Phase, c.st.WaitingOn, c.st.Next = p, on, next
	if changed {
		c.st.Since = workflow.Now(ctx)
		c.upsert(ctx, SAPhase.ValueSet(string(p)), SAWaitingOn.ValueSet(string(on)))
	}
	c.details(ctx)
	if c.onPhase != nil {
		c.onPhase(ctx)
	}
}

func (c *core) upsert(ctx workflow.Context, updates ...temporal.SearchAttributeUpdate) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Warn("search attributes not updated", "error", err)
	}
}

func (c *core) details(ctx workflow.Context) {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** · waiting on **%s** since %s\n\n%s\n", c.st.Phase, c.st.WaitingOn, c.st.Since.UTC().Format(time.RFC1123), c.st.Next)
	if c.st.LinkStatus != "" {
		fmt.Fprintf(&b, "\nStatus: **%s**", c.st.LinkStatus)
		if c.st.LinkStatusReason != "" {
			fmt.Fprintf(&b, ": %s", c.st.LinkStatusReason)
		}
		b.WriteString("\n")
	}
	if c.st.Ticket != "" {
		fmt.Fprintf(&b, "\nTicket: %s", c.st.Ticket)
	}
	if !c.st.Deadline.IsZero() {
		fmt.Fprintf(&b, " · target: %s", c.st.Deadline.UTC().Format("Mon 2 Jan 15:04 MST"))
	}
	workflow.SetCurrentDetails(ctx, b.String())
}

func (c *core) uiLink() string {
	return strings.TrimRight(c.policy.WebUI, "/") + "/workflows/" + url.PathEscape(c.home)
}

// --- activities

// Activity timeouts. Every activity heartbeats while it runs (the worker's
// activities.Heartbeats interceptor), so a worker killed mid-call is noticed
// after heartbeatTimeout, not after a whole start-to-close timeout, which
// can then be long enough for a cloud's long-running operations.
const (
	heartbeatTimeout = 20 * time.Second
	callTimeout      = 5 * time.Minute
	pollCallTimeout  = 2 * time.Minute
)

// act runs one side effect, retried with backoff while the error is
// retryable.
func act(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summary,
		StartToCloseTimeout:    callTimeout,
		HeartbeatTimeout:       heartbeatTimeout,
		ScheduleToCloseTimeout: 6 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: activities.NonRetryable,
		},
	})
}

// poll runs a NotYet-until-done activity: its retries are the polls, and
// they add nothing to history. The interval starts at first and doubles
// until the wait's deadline (the next milestone), with no cap in between: a wait of a week costs a few polls more than a wait of an hour
// (log2 of the wait), and a poll never comes later after the customer
// acted than the time already waited. Events (the customer's signals, the
// cloud's notifications, a nudge) check at once.
func (c *core) poll(ctx workflow.Context, summary string, until, first time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		Summary:                summary,
		StartToCloseTimeout:    pollCallTimeout,
		HeartbeatTimeout:       heartbeatTimeout,
		ScheduleToCloseTimeout: until,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: first, BackoffCoefficient: 2, MaximumInterval: max(until, first),
			MaximumAttempts:        pollAttempts(first, until),
			NonRetryableErrorTypes: activities.NonRetryable,
		},
	})
}

// pollAttempts is enough attempts to poll until the deadline with the
// interval doubling from first: the first try, one per doubling, and one
// more. Set explicitly, it is also the budget of cloud calls one wait may
// make: O(log(until/first)).
func pollAttempts(first, until time.Duration) int32 {
	n := int32(2)
	for d := first; d < until && n < math.MaxInt32; d *= 2 {
		n++
	}
	return n
}

func (c *core) refreshPolicy(ctx workflow.Context) {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{ScheduleToCloseTimeout: 10 * time.Second})
	var p config.Policy
	if err := workflow.ExecuteLocalActivity(lctx, a.LoadPolicy).Get(ctx, &p); err == nil {
		c.policy = p
	}
}

// --- ticket

func (c *core) reply(ctx workflow.Context, body string) error {
	return c.comment(ctx, true, body)
}

func (c *core) note(ctx workflow.Context, body string) error {
	return c.comment(ctx, false, body)
}

func (c *core) comment(ctx workflow.Context, public bool, body string) error {
	if c.st.Ticket == "" {
		return nil
	}
	summary := "ticket: internal note"
	if public {
		summary = "ticket: public reply"
	}
	return workflow.ExecuteActivity(act(ctx, summary), a.PostComment, ticket.Comment{Ticket: c.st.Ticket, Public: public, Body: body}).Get(ctx, nil)
}

// ticketStatus sets the ticket's status. The status is a courtesy to the
// people reading the ticket: a tracker that cannot set it (a missing
// transition, say) is recorded in the audit trail and the runbook goes on.
func (c *core) ticketStatus(ctx workflow.Context, s ticket.Status) error {
	if c.st.Ticket == "" {
		return nil
	}
	err := workflow.ExecuteActivity(act(ctx, "ticket: "+string(s)), a.SetTicketStatus, activities.TicketStatus{Ticket: c.st.Ticket, Status: s}).Get(ctx, nil)
	if err != nil && ctx.Err() == nil {
		c.audit(ctx, "linkwright", "ticket status not set", string(s)+": "+err.Error())
		return nil
	}
	return err
}

// --- waiting

// waitFor describes one wait. Either poll (an activity that answers NotYet
// until done) or cond (a condition on workflow state) says when it is over.
type waitFor struct {
	phase Phase
	on    WaitingOn
	next  string
	// what the customer must do, for reminders and expiry ("create an endpoint").
	what string
	poll func(ctx workflow.Context) workflow.Future
	out  any
	cond func() bool
}

type milestone int

const (
	milestoneNone milestone = iota
	milestoneReminder
	milestoneEscalation
	milestoneExpiry
)

func (m milestone) String() string {
	return [...]string{"next check", "customer reminder", "escalation before the target", "expiry"}[m]
}

// await waits until w is done, sending reminders to a silent customer,
// escalating to operators before the business-day target is missed, and
// expiring a request the customer abandons. A nudge signal checks at once.
// The history it adds depends on the number of milestones and nudges, not
// on how long the wait lasts.
func (c *core) await(ctx workflow.Context, w waitFor) error {
	c.setPhase(ctx, w.phase, w.on, w.next)
	c.nudge.ReceiveAsync(nil) // a nudge from before this wait: the first check is immediate anyway
	since := workflow.Now(ctx)
	// quiet is when the wait last heard anything: polls resume from a
	// milestone at the interval they had reached, and from a nudge (the
	// customer is at work) at PollInitial again.
	quiet := since
	reminders := 0
	for {
		at, m := c.nextMilestone(workflow.Now(ctx), since, reminders, w.on)
		if due := at.Sub(workflow.Now(ctx)) <= c.policy.PollMax.D(); due && m != milestoneNone {
			if m == milestoneReminder {
				reminders++
			}
			if err := c.reach(ctx, m, w, since); err != nil {
				return err
			}
			continue
		}
		left := at.Sub(workflow.Now(ctx))
		first := max(c.policy.PollInitial.D(), workflow.Now(ctx).Sub(quiet)/2)
		done, nudged, err := c.check(ctx, w, left, first, m)
		if done || err != nil {
			return err
		}
		if nudged {
			quiet = workflow.Now(ctx)
		}
	}
}

// check waits for w until left has passed or a nudge arrives, polling
// first after first (the first poll is at once). It reports done when w
// is over, and whether a nudge ended it.
func (c *core) check(ctx workflow.Context, w waitFor, left, first time.Duration, m milestone) (done, nudged bool, err error) {
	if w.poll == nil {
		ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: left, TimerOptions: workflow.TimerOptions{Summary: "until " + m.String()}}, w.cond)
		return ok, false, err
	}
	deadline := workflow.Now(ctx).Add(left)
	pctx, cancel := workflow.WithCancel(c.poll(ctx, w.next, left, first))
	defer cancel()
	f := w.poll(pctx)
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(f, func(f workflow.Future) { err = f.Get(ctx, w.out) })
	sel.AddReceive(c.nudge, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil); nudged = true })
	sel.Select(ctx)
	switch {
	case nudged:
		cancel()
		_ = f.Get(ctx, nil)
		return false, true, ctx.Err()
	case err == nil:
		return true, false, nil
	case isNotYet(err):
		nudged, err = c.rest(ctx, deadline, m)
		return false, nudged, err
	}
	return true, false, err
}

// rest waits out what is left of a check whose polls ended before its
// deadline (the next doubling would have passed it): the check after the
// last poll is the milestone itself, unless a nudge comes first.
func (c *core) rest(ctx workflow.Context, deadline time.Time, m milestone) (nudged bool, err error) {
	left := deadline.Sub(workflow.Now(ctx))
	if left <= 0 {
		return false, nil
	}
	nudged, err = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: left, TimerOptions: workflow.TimerOptions{Summary: "until " + m.String()}},
		func() bool { return c.nudge.Len() > 0 })
	c.nudge.ReceiveAsync(nil)
	return nudged, err
}

func isNotYet(err error) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrNotYet {
		return true
	}
	var timeoutErr *temporal.TimeoutError
	return errors.As(err, &timeoutErr)
}

// nextMilestone is the first milestone still ahead of this wait. With none
// ahead, it is a check-in ExpireAfter from now, so a poll never runs
// without a deadline.
func (c *core) nextMilestone(now, since time.Time, reminders int, on WaitingOn) (time.Time, milestone) {
	at, m := now.Add(c.policy.ExpireAfter.D()), milestoneNone
	consider := func(t time.Time, k milestone) {
		if t.Before(at) || (t.Equal(at) && m == milestoneNone) {
			at, m = t, k
		}
	}
	if !c.st.Escalated {
		consider(c.escalateAt(), milestoneEscalation)
	}
	if on == WaitingOnCustomer {
		consider(since.Add(c.policy.ExpireAfter.D()), milestoneExpiry)
		if reminders < c.policy.MaxReminders && c.policy.ReminderBusinessDays > 0 {
			consider(addBusinessDays(since, c.policy.ReminderBusinessDays*(reminders+1)), milestoneReminder)
		}
	}
	return at, m
}

func (c *core) escalateAt() time.Time {
	return addBusinessDays(c.started, max(c.policy.TargetBusinessDays-c.policy.EscalateBusinessDaysBefore, 0))
}

func (c *core) reach(ctx workflow.Context, m milestone, w waitFor, since time.Time) error {
	switch m {
	case milestoneReminder:
		c.audit(ctx, "linkwright", "reminded the customer", w.what)
		if err := c.reply(ctx, fmt.Sprintf("A friendly reminder: we are still waiting for you to %s. Reply here if anything is unclear.", w.what)); err != nil {
			return err
		}
		return c.ticketStatus(ctx, ticket.StatusPending)
	case milestoneEscalation:
		c.st.Escalated = true
		countAtRisk(ctx)
		c.audit(ctx, "linkwright", "escalated to operators", "target "+c.st.Deadline.UTC().Format(time.RFC1123))
		c.details(ctx)
		return c.note(ctx, fmt.Sprintf("ESCALATION: this enablement will miss its %d-business-day target (%s) unless it moves. It is %s, waiting on %s since %s: %s\n%s",
			c.policy.TargetBusinessDays, c.st.Deadline.UTC().Format(time.RFC1123), c.st.Phase, c.st.WaitingOn, since.UTC().Format(time.RFC1123), c.st.Next, c.uiLink()))
	case milestoneExpiry:
		return &ended{Outcome: OutcomeExpired, By: "linkwright", Why: fmt.Sprintf("the customer did not %s within %s", w.what, humanDuration(c.policy.ExpireAfter.D()))}
	}
	return nil
}

// --- gates

// gate opens a gate and waits for a platform engineer's decision. The
// policy (approvers) is read afresh first.
func (c *core) gate(ctx workflow.Context, name, next string) (decision, error) {
	if by, ok := c.covered[name]; ok {
		// Once: a gate that opens again (the customer rejected the endpoint
		// the plan created, say) waits for an approver.
		delete(c.covered, name)
		c.audit(ctx, "linkwright", "gate "+name+" covered by the approved plan", "approved by "+by)
		return decision{Kind: Approve, Gate: name, Approver: by}, nil
	}
	c.refreshPolicy(ctx)
	c.decision = nil
	c.st.Gate = name
	defer func() { c.st.Gate = "" }()
	c.setPhase(ctx, PhaseAwaitingApproval, WaitingOnOperator, next)
	c.audit(ctx, "linkwright", "opened gate", name)
	if err := c.note(ctx, fmt.Sprintf("Decision needed (gate %s): %s\nApprove: temporal workflow update execute --workflow-id %s --name approve --input '{\"gate\":\"%s\",\"approver\":\"<you>\"}'\nReject: the same with --name reject and a \"reason\".\n%s",
		name, next, c.home, name, c.uiLink())); err != nil {
		return decision{}, err
	}
	since := workflow.Now(ctx)
	for {
		at, m := c.nextMilestone(workflow.Now(ctx), since, 0, WaitingOnOperator)
		var ok bool
		var err error
		if m == milestoneNone {
			err = workflow.Await(ctx, func() bool { return c.decision != nil })
			ok = true
		} else {
			ok, err = workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: max(at.Sub(workflow.Now(ctx)), 0), TimerOptions: workflow.TimerOptions{Summary: "until " + m.String()}},
				func() bool { return c.decision != nil })
		}
		if err != nil {
			return decision{}, err
		}
		if ok {
			d := *c.decision
			c.decision = nil
			countDecision(ctx, d)
			if d.Kind == Reject {
				return d, &ended{Outcome: OutcomeRejected, By: d.Approver, Why: d.Text}
			}
			msg := fmt.Sprintf("Approved by %s (gate %s).", d.Approver, name)
			if d.Text != "" {
				msg += " " + d.Text
			}
			return d, c.note(ctx, msg)
		}
		if err := c.reach(ctx, m, waitFor{}, since); err != nil {
			return decision{}, err
		}
	}
}

// --- undo

// compensate registers the undo of a step this run changed. Only what a
// run changed is undone: a step that found the cloud as it wanted
// registers nothing, so undo never removes what another run or a person
// set up.
func (c *core) compensate(what string, do func(ctx workflow.Context) error) {
	c.compensateSaying(what, func(ctx workflow.Context) (string, error) { return what, do(ctx) })
}

// compensateSaying registers an undo that finds out what it undoes when it
// runs, and says so ("" when it found nothing left to undo).
func (c *core) compensateSaying(what string, do func(ctx workflow.Context) (string, error)) {
	c.undo = append(c.undo, compensation{what: what, do: do})
}

// undoAll undoes the completed steps in reverse order. A failed undo is
// reported and the rest still run.
func (c *core) undoAll(ctx workflow.Context) []string {
	var failed []string
	for i := len(c.undo) - 1; i >= 0; i-- {
		u := c.undo[i]
		done, err := u.do(ctx)
		if err != nil {
			failed = append(failed, u.what+": "+err.Error())
			c.audit(ctx, "linkwright", "undo failed", u.what+": "+err.Error())
			continue
		}
		if done != "" {
			c.audit(ctx, "linkwright", "undone", done)
		}
	}
	c.undo = nil
	return failed
}

// humanDuration says a policy duration the way people do: "30 days",
// "36 hours", "90 minutes".
func humanDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= 2*time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d >= 2*time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}

// --- business days

// addBusinessDays adds n working days (Monday to Friday, UTC) to t.
func addBusinessDays(t time.Time, n int) time.Time {
	t = t.UTC()
	for n > 0 {
		t = t.Add(24 * time.Hour)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			n--
		}
	}
	return t
}
