package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/linkwright/linkwright/workflows"
)

// driverSignals are the signals the benchmark itself sends: inside an
// update's window they still belong to the main flow, never to the
// update's handler (the driver sends nothing while an update is under way).
var driverSignals = map[string]bool{
	workflows.SignalCustomerEndpointCreated: true, workflows.SignalCustomerAccessGranted: true,
	workflows.SignalCustomerConnectionAccepted: true, workflows.SignalCustomerVerified: true,
	workflows.Approve: true, workflows.Reject: true, workflows.Cancel: true, workflows.SignalCheckNow: true,
}

// childRef names a child workflow a script starts.
type childRef struct {
	Suffix string
	ID     string
	Type   string
}

// extractScript reads a run's history (workflow id, type typ) into the
// script of its no-op, and lists the children it started (their scripts
// are the caller's to fill in, from their own histories).
func extractScript(id, typ string, events []*historypb.HistoryEvent) (*Script, []childRef, error) {
	s := &Script{Type: typ, Children: map[string]*Script{}}
	var children []childRef
	parent := ""
	// Outcome of each activity, by its scheduled event.
	outcome := map[int64]string{}
	for _, ev := range events {
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			parent = ev.GetWorkflowExecutionStartedEventAttributes().GetParentWorkflowExecution().GetWorkflowId()
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
			outcome[ev.GetActivityTaskCanceledEventAttributes().GetScheduledEventId()] = "cancelled"
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			outcome[ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId()] = "failed"
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			outcome[ev.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId()] = "failed"
		}
	}

	// Steps go to the main flow (owner -1) or to the handler of the update
	// whose window (accepted .. completed) is open when a command is
	// issued; a wait or cancel goes to whoever issued its command.
	const mainFlow = -1
	owner := map[int64]int{}
	var open []struct {
		id   string
		slot int
	}
	emit := func(who int, st Step) {
		if who == mainFlow {
			s.Steps = append(s.Steps, st)
		} else {
			s.Updates[who].Steps = append(s.Updates[who].Steps, st)
		}
	}
	current := func() int {
		if len(open) == 0 {
			return mainFlow
		}
		return open[len(open)-1].slot
	}
	command := func(ref int64, st Step) {
		who := current()
		owner[ref] = who
		st.Ref = ref
		emit(who, st)
	}
	follow := func(ref int64, op string) {
		who, ok := owner[ref]
		if !ok {
			return
		}
		emit(who, Step{Op: op, Ref: ref})
	}

	for _, ev := range events {
		eid := ev.GetEventId()
		summary := summaryOf(ev)
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			a := ev.GetActivityTaskScheduledEventAttributes()
			st := Step{Op: opActivity, Name: a.GetActivityType().GetName(), Queue: a.GetTaskQueue().GetName(),
				StartToClose: dur(a.GetStartToCloseTimeout()), ScheduleToClose: dur(a.GetScheduleToCloseTimeout()),
				ScheduleToStart: dur(a.GetScheduleToStartTimeout()), Heartbeat: dur(a.GetHeartbeatTimeout()),
				Summary: summary, Outcome: outcome[eid]}
			if r := a.GetRetryPolicy(); r != nil {
				st.Retry = &retrySpec{Initial: dur(r.GetInitialInterval()), Backoff: r.GetBackoffCoefficient(), Max: dur(r.GetMaximumInterval()),
					Attempts: r.GetMaximumAttempts(), NonRetrying: r.GetNonRetryableErrorTypes()}
			}
			command(eid, st)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			follow(ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId(), opWait)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			follow(ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId(), opWait)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			follow(ev.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId(), opWait)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
			follow(ev.GetActivityTaskCanceledEventAttributes().GetScheduledEventId(), opWait)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
			follow(ev.GetActivityTaskCancelRequestedEventAttributes().GetScheduledEventId(), opCancel)

		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			m := ev.GetMarkerRecordedEventAttributes()
			switch m.GetMarkerName() {
			case "LocalActivity":
				command(eid, Step{Op: opLocal})
			case "Version":
				var change string
				var version int
				dc := converter.GetDefaultDataConverter()
				if p := m.GetDetails()["change-id"]; p != nil {
					_ = dc.FromPayloads(p, &change)
				}
				if p := m.GetDetails()["version"]; p != nil {
					_ = dc.FromPayloads(p, &version)
				}
				command(eid, Step{Op: opVersion, Name: change, Version: version})
			default: // SideEffect, MutableSideEffect
				command(eid, Step{Op: opSideEffect, Name: m.GetMarkerName()})
			}

		case enumspb.EVENT_TYPE_TIMER_STARTED:
			t := ev.GetTimerStartedEventAttributes()
			command(eid, Step{Op: opTimer, Duration: dur(t.GetStartToFireTimeout()), Summary: summary})
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			follow(ev.GetTimerFiredEventAttributes().GetStartedEventId(), opWait)
		case enumspb.EVENT_TYPE_TIMER_CANCELED:
			follow(ev.GetTimerCanceledEventAttributes().GetStartedEventId(), opCancel)

		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			sa := map[string]*string{}
			for k, p := range ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields() {
				if k == "TemporalChangeVersion" { // the version marker's own upsert
					continue
				}
				sa[k] = keyword(p)
			}
			if len(sa) > 0 {
				command(eid, Step{Op: opUpsert, SA: sa})
			}
		case enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
			memo := map[string]*payload{}
			for k, p := range ev.GetWorkflowPropertiesModifiedEventAttributes().GetUpsertedMemo().GetFields() {
				memo[k] = toPayload(p)
			}
			command(eid, Step{Op: opMemo, Memo: memo})

		case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
			a := ev.GetSignalExternalWorkflowExecutionInitiatedEventAttributes()
			target := a.GetWorkflowExecution().GetWorkflowId()
			switch {
			case target == parent && parent != "":
				target = "parent"
			case strings.HasPrefix(target, id):
				target = strings.TrimPrefix(target, id)
			default:
				return nil, nil, fmt.Errorf("%s signals %s, neither its parent nor a child", id, target)
			}
			var arg *payload
			if ps := a.GetInput().GetPayloads(); len(ps) > 0 {
				arg = toPayload(ps[0])
			}
			command(eid, Step{Op: opSignalOut, Name: a.GetSignalName(), Target: target, Arg: arg})
		case enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED:
			follow(ev.GetExternalWorkflowExecutionSignaledEventAttributes().GetInitiatedEventId(), opWait)
		case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED:
			follow(ev.GetSignalExternalWorkflowExecutionFailedEventAttributes().GetInitiatedEventId(), opWait)

		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			a := ev.GetStartChildWorkflowExecutionInitiatedEventAttributes()
			cid := a.GetWorkflowId()
			if !strings.HasPrefix(cid, id) {
				return nil, nil, fmt.Errorf("%s starts child %s, whose ID does not extend its own", id, cid)
			}
			suffix := strings.TrimPrefix(cid, id)
			children = append(children, childRef{Suffix: suffix, ID: cid, Type: a.GetWorkflowType().GetName()})
			command(eid, Step{Op: opChild, Name: a.GetWorkflowType().GetName(), Target: suffix, Queue: a.GetTaskQueue().GetName(),
				Duration: dur(a.GetWorkflowExecutionTimeout()), ParentClose: int32(a.GetParentClosePolicy())})
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
			follow(ev.GetChildWorkflowExecutionStartedEventAttributes().GetInitiatedEventId(), opWaitStarted)
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
			follow(ev.GetChildWorkflowExecutionCompletedEventAttributes().GetInitiatedEventId(), opWait)
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
			follow(ev.GetChildWorkflowExecutionFailedEventAttributes().GetInitiatedEventId(), opWait)
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED:
			follow(ev.GetChildWorkflowExecutionCanceledEventAttributes().GetInitiatedEventId(), opWait)
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED:
			follow(ev.GetChildWorkflowExecutionTerminatedEventAttributes().GetInitiatedEventId(), opWait)
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT:
			follow(ev.GetChildWorkflowExecutionTimedOutEventAttributes().GetInitiatedEventId(), opWait)

		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			name := ev.GetWorkflowExecutionSignaledEventAttributes().GetSignalName()
			who := current()
			if driverSignals[name] {
				who = mainFlow
			}
			emit(who, Step{Op: opAwaitSignal, Name: name})
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes()
			in := a.GetAcceptedRequest().GetInput()
			slot := UpdateSlot{Name: in.GetName()}
			if ps := in.GetArgs().GetPayloads(); len(ps) > 0 {
				var arg struct {
					Gate string `json:"gate"`
				}
				if json.Unmarshal(ps[0].GetData(), &arg) == nil {
					slot.Gate = arg.Gate
				}
			}
			s.Updates = append(s.Updates, slot)
			n := len(s.Updates) - 1
			s.Steps = append(s.Steps, Step{Op: opAwaitUpdate, Name: slot.Name, Slot: n})
			open = append(open, struct {
				id   string
				slot int
			}{a.GetAcceptedRequest().GetMeta().GetUpdateId(), n})
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
			uid := ev.GetWorkflowExecutionUpdateCompletedEventAttributes().GetMeta().GetUpdateId()
			for i := len(open) - 1; i >= 0; i-- {
				if open[i].id == uid {
					open = append(open[:i], open[i+1:]...)
					break
				}
			}

		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
			s.Steps = append(s.Steps, Step{Op: opContinue, Name: ev.GetWorkflowExecutionContinuedAsNewEventAttributes().GetWorkflowType().GetName()})
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
			s.Steps = append(s.Steps, Step{Op: opComplete})
		}
	}
	return s, children, nil
}

func dur(d *durationpb.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return d.AsDuration()
}

// keyword decodes a Keyword search attribute's value; nil is unset.
func keyword(p *commonpb.Payload) *string {
	if p == nil || len(p.GetData()) == 0 || string(p.GetData()) == "null" {
		return nil
	}
	var v string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err != nil {
		var list []string
		if converter.GetDefaultDataConverter().FromPayload(p, &list) == nil && len(list) > 0 {
			v = list[0]
		}
	}
	return &v
}

// summaryOf is an event's summary (user metadata), if it has one.
func summaryOf(ev *historypb.HistoryEvent) string {
	p := ev.GetUserMetadata().GetSummary()
	if p == nil {
		return ""
	}
	var s string
	_ = converter.GetDefaultDataConverter().FromPayload(p, &s)
	return s
}
