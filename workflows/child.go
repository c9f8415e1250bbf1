package workflows

import (
	"encoding/json"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/internal/probe"
)

// How the enablement learns where its reverse link stands, with nothing it
// trusts arriving as a signal anyone could forge:
//
//   - the reverse link records its status in its own memo (memoStatus),
//     which only it can write, then signals reverse-progress, which carries
//     nothing;
//   - on that signal the enablement reads the memo of that exact run from
//     the server (a local activity) and shows it; a forged signal only
//     causes a read;
//   - the reverse link's result carries its whole audit trail, so that
//     nothing is lost when its last reports and its completion arrive
//     together.
const memoStatus = "status"

// childView is what a child (reverse link, change, teardown) records about
// itself.
type childView struct {
	// Version grows with every report, so a late read never goes back.
	Version      int            `json:"version"`
	Phase        Phase          `json:"phase"`
	WaitingOn    WaitingOn      `json:"waitingOn"`
	Since        time.Time      `json:"since"`
	Next         string         `json:"next"`
	Gate         string         `json:"gate,omitempty"`
	Escalated    bool           `json:"escalated"`
	EndpointID   string         `json:"endpointId,omitempty"`
	DNSName      string         `json:"dnsName,omitempty"`
	Verification []probe.Result `json:"verification,omitempty"`
	Plan         []PlanStep     `json:"plan,omitempty"`
	Audit        []AuditEntry   `json:"audit"`
}

// childLink is a parent's view of its running child.
type childLink struct {
	id, runID string
	running   bool
	// dirty is set by reverse-progress: read the reverse link's status.
	dirty   bool
	version int
	// audit is the reverse link's audit trail as last read; its result
	// replaces it.
	audit []AuditEntry
}

// mirror reads the child's status whenever it says it changed, until it
// ends, and hands it to apply.
func (c *core) mirror(ctx workflow.Context, ch *childLink, apply func(workflow.Context, childView)) {
	for {
		if err := workflow.Await(ctx, func() bool { return ch.dirty || !ch.running }); err != nil || !ch.running {
			return
		}
		ch.dirty = false
		c.syncChild(ctx, ch, apply)
	}
}

// syncChild reads the child's status from its memo on the server and
// hands it to apply when it is newer than what was shown. A failed read
// changes nothing: the next report, or the child's result, brings the news.
func (c *core) syncChild(ctx workflow.Context, ch *childLink, apply func(workflow.Context, childView)) {
	if !ch.running || ch.runID == "" {
		return
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: 30 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumAttempts: 5},
	})
	var raw json.RawMessage
	err := workflow.ExecuteLocalActivity(lctx, a.ReadMemo, activities.Run{WorkflowID: ch.id, RunID: ch.runID, Field: memoStatus}).Get(ctx, &raw)
	var v childView
	if err != nil || len(raw) == 0 || json.Unmarshal(raw, &v) != nil || !ch.running || v.Version <= ch.version {
		return
	}
	ch.version = v.Version
	ch.audit = v.Audit
	apply(ctx, v)
}

// showReverse shows the reverse link's status as the enablement's.
func (e *enablement) showReverse(ctx workflow.Context, v childView) {
	e.st.Gate = v.Gate
	e.st.ReverseEndpointID, e.st.ReverseDNSName, e.st.Verification = v.EndpointID, v.DNSName, v.Verification
	e.st.Escalated = e.st.Escalated || v.Escalated
	if !v.Phase.Ended() { // how the reverse link ended comes with its result
		e.setPhase(ctx, v.Phase, v.WaitingOn, v.Next)
	}
}

// reporter is a child's side: it records its status in its memo and tells
// its parent to read it. The signal carries nothing: the parent trusts
// only what it reads from this run's memo on the server.
type reporter struct {
	parent workflow.Execution
	// version counts the reports, so the parent never reads one older than
	// what it shows.
	version int
}

func (r *reporter) report(ctx workflow.Context, c *core) {
	r.version++
	v := childView{Version: r.version, Phase: c.st.Phase, WaitingOn: c.st.WaitingOn, Since: c.st.Since, Next: c.st.Next, Gate: c.st.Gate,
		Escalated: c.st.Escalated, EndpointID: c.st.ReverseEndpointID, DNSName: c.st.ReverseDNSName, Verification: c.st.Verification,
		Plan: c.plan, Audit: c.st.Audit}
	if err := workflow.UpsertMemo(ctx, map[string]any{memoStatus: v}); err != nil {
		workflow.GetLogger(ctx).Warn("status not recorded in the memo", "error", err)
		return
	}
	workflow.SignalExternalWorkflow(ctx, r.parent.ID, r.parent.RunID, signalReverseProgress, nil)
}

// status is the enablement's status with the reverse link's audit trail
// merged in, in time order.
func (e *enablement) status() Status {
	st := e.st
	st.Audit = mergeAudit(e.st.Audit, e.child.audit)
	return st
}

// mergeAudit merges two audit trails, each in time order, into one.
func mergeAudit(a, b []AuditEntry) []AuditEntry {
	if len(b) == 0 {
		return a
	}
	out := make([]AuditEntry, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	slices.SortStableFunc(out, func(x, y AuditEntry) int { return x.At.Compare(y.At) })
	return out
}
