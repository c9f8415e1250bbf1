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

// reverseView is what the reverse link records about itself.
type reverseView struct {
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
	Audit        []AuditEntry   `json:"audit"`
}

// childLink is the enablement's view of its running reverse link.
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

// mirrorChild reads the reverse link's status whenever it says it changed,
// until it ends.
func (e *enablement) mirrorChild(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return e.child.dirty || !e.child.running }); err != nil || !e.child.running {
			return
		}
		e.child.dirty = false
		e.syncChild(ctx)
	}
}

// syncChild reads the reverse link's status from its memo on the server
// and shows it as this run's. A failed read changes nothing: the next
// report, or the reverse link's result, brings the news.
func (e *enablement) syncChild(ctx workflow.Context) {
	if !e.child.running || e.child.runID == "" {
		return
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: 30 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumAttempts: 5},
	})
	var raw json.RawMessage
	err := workflow.ExecuteLocalActivity(lctx, a.ReadMemo, activities.Run{WorkflowID: e.child.id, RunID: e.child.runID, Field: memoStatus}).Get(ctx, &raw)
	var v reverseView
	if err != nil || len(raw) == 0 || json.Unmarshal(raw, &v) != nil || !e.child.running || v.Version <= e.child.version {
		return
	}
	e.child.version = v.Version
	e.child.audit = v.Audit
	e.st.Gate = v.Gate
	e.st.ReverseEndpointID, e.st.ReverseDNSName, e.st.Verification = v.EndpointID, v.DNSName, v.Verification
	e.st.Escalated = e.st.Escalated || v.Escalated
	if !v.Phase.Ended() { // how the reverse link ended comes with its result
		e.setPhase(ctx, v.Phase, v.WaitingOn, v.Next)
	}
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
