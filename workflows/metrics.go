package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// Metrics recorded by workflow code. They go through
// workflow.GetMetricsHandler, the client's MetricsHandler (none: a no-op)
// which the SDK wraps in a replay-aware handler with the workflow's tags
// (namespace, task_queue, workflow_type): go.temporal.io/sdk
// internal/internal_event_handlers.go sets
// metrics.NewReplayAwareHandler(&context.isReplay, ...), whose counters and
// timers record nothing while the worker replays history. So each is
// counted once, when the workflow first runs the code, however often a
// worker replays it afterwards. Recording adds no command to history:
// no workflow.GetVersion is needed and recorded histories replay unchanged.
//
// The names are the instruments'; the Prometheus exporter adds _total to
// counters and _seconds to timers (internal/telemetry).
const (
	// MetricApprovals counts approvals at a gate (label gate): decisions
	// an approver made at the open gate, not gates an approved plan
	// covered.
	MetricApprovals = "linkwright_approvals"
	// MetricRefusals counts rejections at a gate (label gate): the
	// approver refused what the gate asked.
	MetricRefusals = "linkwright_refusals"
	// MetricDeadlinesAtRisk counts requests that reached their escalation
	// milestone (escalated to operators, before the business-day target).
	MetricDeadlinesAtRisk = "linkwright_deadlines_at_risk"
	// MetricDeadlinesMissed counts requests done after their business-day
	// target: an enablement when its link goes live, a change when applied,
	// a teardown when complete. Once per request.
	MetricDeadlinesMissed = "linkwright_deadlines_missed"
	// MetricTimeToLive is the business time (Monday to Friday, UTC) from
	// an enablement's start to its link going live, recorded as a timer:
	// exposed in seconds, 86400 to a business day.
	MetricTimeToLive = "linkwright_time_to_live_business"
)

// countDecision counts a human decision at a gate.
func countDecision(ctx workflow.Context, d decision) {
	name := MetricApprovals
	if d.Kind == Reject {
		name = MetricRefusals
	}
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"gate": d.Gate}).Counter(name).Inc(1)
}

// countAtRisk counts a request escalated before its target.
func countAtRisk(ctx workflow.Context) {
	workflow.GetMetricsHandler(ctx).Counter(MetricDeadlinesAtRisk).Inc(1)
}

// countDone counts a request done after its deadline.
func countDone(ctx workflow.Context, deadline time.Time) {
	if !deadline.IsZero() && workflow.Now(ctx).After(deadline) {
		workflow.GetMetricsHandler(ctx).Counter(MetricDeadlinesMissed).Inc(1)
	}
}

// recordLive records an enablement's time to live, and whether it was late.
func recordLive(ctx workflow.Context, started, deadline time.Time) {
	workflow.GetMetricsHandler(ctx).Timer(MetricTimeToLive).Record(businessTime(started, workflow.Now(ctx)))
	countDone(ctx, deadline)
}

// businessTime is the time between from and to that falls on Monday to
// Friday (UTC), the days addBusinessDays counts: from a Friday 16:00 to
// the Monday 10:00 after is 18 hours.
func businessTime(from, to time.Time) time.Duration {
	from, to = from.UTC(), to.UTC()
	var d time.Duration
	for t := from; t.Before(to); {
		end := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		if to.Before(end) {
			end = to
		}
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday {
			d += end.Sub(t)
		}
		t = end
	}
	return d
}
