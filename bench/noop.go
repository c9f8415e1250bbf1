package main

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/workflows"
)

// The no-op of the same shape: a workflow that replays, command for
// command, what a real enablement recorded in its history (its script,
// extracted by extractScript from a real run on the same server): the same
// activities in the same order on the same task queues with the same
// options, but each a no-op registered as "Noop"+name that returns at once;
// the same local activities, timers, search attribute and memo upserts,
// signals sent, child workflow and continue-as-new; and it waits where the
// real one waited for the same signals and updates, so that the benchmark
// drives both the same way. A poll the real run cancelled (a customer's
// signal made it check at once) is a no-op that answers "not yet" until
// cancelled, under the real poll's retry policy, as the real poll does.

// noopPrefix prefixes the no-op workflow and activity types.
const noopPrefix = "Noop"

// Script is one workflow run's commands and waits, in history order.
type Script struct {
	// Type is the real workflow type mirrored.
	Type string `json:"type"`
	// Project replaces the PrivateLinkProject search attribute's value.
	Project string `json:"project"`
	Steps   []Step `json:"steps"`
	// Updates are the updates the run accepted, in order, each with what
	// its handler did.
	Updates []UpdateSlot `json:"updates,omitempty"`
	// Children are the scripts of the child workflows, by the suffix of
	// their ID after the parent's.
	Children map[string]*Script `json:"children,omitempty"`
	// Next is the run the script continues as new into, if it does.
	Next *Script `json:"next,omitempty"`
}

// UpdateSlot is one accepted update.
type UpdateSlot struct {
	Name  string `json:"name"`
	Gate  string `json:"gate,omitempty"`
	Steps []Step `json:"steps,omitempty"`
}

// Step is one command or wait.
type Step struct {
	Op  string `json:"op"`
	Ref int64  `json:"ref,omitempty"` // the event ID of the command a wait or cancel is for
	// Name: activity, signal, update, child workflow type or change ID.
	Name string `json:"name,omitempty"`
	// Activity and child options.
	Queue           string        `json:"queue,omitempty"`
	StartToClose    time.Duration `json:"startToClose,omitempty"`
	ScheduleToClose time.Duration `json:"scheduleToClose,omitempty"`
	ScheduleToStart time.Duration `json:"scheduleToStart,omitempty"`
	Heartbeat       time.Duration `json:"heartbeat,omitempty"`
	Retry           *retrySpec    `json:"retry,omitempty"`
	Summary         string        `json:"summary,omitempty"`
	// Outcome of an activity: "" completed, "cancelled", "failed".
	Outcome string `json:"outcome,omitempty"`
	// Timer duration; child execution timeout.
	Duration time.Duration `json:"duration,omitempty"`
	// Search attributes to upsert (nil value: unset) and memo fields.
	SA   map[string]*string  `json:"sa,omitempty"`
	Memo map[string]*payload `json:"memo,omitempty"`
	// Target of a signal sent: "parent", or a child's ID suffix.
	Target string   `json:"target,omitempty"`
	Arg    *payload `json:"arg,omitempty"`
	// Slot is an await-update's index into Script.Updates.
	Slot int `json:"slot,omitempty"`
	// Version of a version marker; ParentClose of a child.
	Version     int   `json:"version,omitempty"`
	ParentClose int32 `json:"parentClose,omitempty"`
}

type retrySpec struct {
	Initial     time.Duration `json:"initial,omitempty"`
	Backoff     float64       `json:"backoff,omitempty"`
	Max         time.Duration `json:"max,omitempty"`
	Attempts    int32         `json:"attempts,omitempty"`
	NonRetrying []string      `json:"nonRetrying,omitempty"`
}

// payload is a Temporal payload carried in a script.
type payload struct {
	Metadata map[string][]byte `json:"metadata,omitempty"`
	Data     []byte            `json:"data,omitempty"`
}

func toPayload(p *commonpb.Payload) *payload {
	if p == nil {
		return nil
	}
	return &payload{Metadata: p.GetMetadata(), Data: p.GetData()}
}

func (p *payload) raw() any {
	if p == nil {
		return nil
	}
	return converter.NewRawValue(&commonpb.Payload{Metadata: p.Metadata, Data: p.Data})
}

// Step operations.
const (
	opActivity    = "activity"
	opLocal       = "local-activity"
	opSideEffect  = "side-effect"
	opVersion     = "version"
	opTimer       = "timer"
	opWait        = "wait" // for the future of Ref
	opWaitStarted = "wait-child-started"
	opCancel      = "cancel"
	opUpsert      = "upsert-search-attributes"
	opMemo        = "upsert-memo"
	opSignalOut   = "signal-external"
	opChild       = "child"
	opAwaitSignal = "await-signal"
	opAwaitUpdate = "await-update"
	opContinue    = "continue-as-new"
	opComplete    = "complete"
)

// noopArgs tells a no-op activity how the real one ended.
type noopArgs struct {
	Outcome string `json:"outcome,omitempty"`
}

// errNotYet is a no-op poll's answer until it is cancelled.
const errNotYet = "BenchNotYet"

func noopActivity(_ context.Context, a noopArgs) error {
	switch a.Outcome {
	case "cancelled":
		// As a real poll: "not yet" (benign: logged at debug level, as
		// the real poll's) until the workflow cancels it.
		return temporal.NewApplicationErrorWithOptions("not yet (no-op poll)", errNotYet,
			temporal.ApplicationErrorOptions{Category: temporal.ApplicationErrorCategoryBenign})
	case "failed":
		return temporal.NewNonRetryableApplicationError("failed (no-op of a failed activity)", "BenchFailed", nil)
	}
	return nil
}

func noopLocalActivity(context.Context) error { return nil }

// registerNoop registers the no-op workflow under Noop+<type> for every
// Linkwright workflow type, and the no-op activity under Noop+<name> for
// every activity of activities.Activities, on every task queue.
func registerNoop(w worker.Worker) {
	for _, t := range []string{workflows.EnablementWorkflow, workflows.ReverseLinkWorkflow, workflows.LiveWorkflow,
		workflows.ChangeWorkflow, workflows.TeardownWorkflow} {
		w.RegisterWorkflowWithOptions(noopWorkflow, workflow.RegisterOptions{Name: noopPrefix + t})
	}
	for _, name := range activityNames() {
		w.RegisterActivityWithOptions(noopActivity, activity.RegisterOptions{Name: noopPrefix + name})
	}
}

// activityNames are the activity types Linkwright registers: the methods
// of *activities.Activities.
func activityNames() []string {
	t := reflect.TypeOf(&activities.Activities{})
	out := make([]string, 0, t.NumMethod())
	for i := range t.NumMethod() {
		out = append(out, t.Method(i).Name)
	}
	return out
}

// noopStatus answers the status query as workflows.Status does, for the
// fields the benchmark's driver reads.
type noopStatus struct {
	WorkflowID string `json:"workflowId"`
	Phase      string `json:"phase"`
	WaitingOn  string `json:"waitingOn"`
	Gate       string `json:"gate,omitempty"`
	Project    string `json:"project"`
}

type interp struct {
	s       Script
	key     string
	id      string
	parent  string
	futures map[int64]workflow.Future
	cancels map[int64]workflow.CancelFunc
	childs  map[int64]workflow.ChildWorkflowFuture
	phase   string
	waiting string
	gate    string
	// started and done track the update slots: started are those a
	// handler took, done those whose handler returned.
	started []bool
	done    []bool
}

// noopInput is a no-op's input: which script (by key, see scripts) and
// the project it stands for. The scripts live in the worker, not in the
// input, so that a no-op's history carries no more bytes than the real
// run's (whose input is a request).
type noopInput struct {
	Script  string `json:"script"`
	Project string `json:"project"`
}

// scripts are the no-op scripts by key: the benchmark posts them to the
// worker (/scripts) before it starts any no-op, and never changes one, so
// that a no-op replays the same in this process. A script's child is
// under key+suffix, the run it continues as under key+"/next".
var scripts sync.Map

// storeScript stores s and its children and next runs under key.
func storeScript(key string, s *Script) {
	scripts.Store(key, s)
	for suffix, c := range s.Children {
		storeScript(key+suffix, c)
	}
	if s.Next != nil {
		storeScript(key+"/next", s.Next)
	}
}

func noopWorkflow(ctx workflow.Context, input noopInput) error {
	v, ok := scripts.Load(input.Script)
	if !ok {
		return temporal.NewNonRetryableApplicationError("no script "+input.Script+" in this worker (the benchmark posts them to /scripts)", "BenchNoScript", nil)
	}
	s := *v.(*Script)
	s.Project = input.Project
	info := workflow.GetInfo(ctx)
	in := &interp{s: s, key: input.Script, id: info.WorkflowExecution.ID, futures: map[int64]workflow.Future{},
		cancels: map[int64]workflow.CancelFunc{}, childs: map[int64]workflow.ChildWorkflowFuture{},
		started: make([]bool, len(s.Updates)), done: make([]bool, len(s.Updates))}
	if info.ParentWorkflowExecution != nil {
		in.parent = info.ParentWorkflowExecution.ID
	}
	if err := workflow.SetQueryHandler(ctx, workflows.QueryStatus, func() (noopStatus, error) {
		return noopStatus{WorkflowID: in.id, Phase: in.phase, WaitingOn: in.waiting, Gate: in.gate, Project: s.Project}, nil
	}); err != nil {
		return err
	}
	names := map[string]bool{}
	for _, u := range s.Updates {
		names[u.Name] = true
	}
	for name := range names {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, name, func(ctx workflow.Context, _ json.RawMessage) (noopStatus, error) {
			slot := in.take(name)
			if slot < 0 {
				return noopStatus{}, errors.New("no update " + name + " expected")
			}
			_, err := in.run(ctx, s.Updates[slot].Steps)
			in.done[slot] = true
			st := noopStatus{WorkflowID: in.id, Phase: in.phase, WaitingOn: in.waiting, Project: s.Project}
			return st, err
		}, workflow.UpdateHandlerOptions{Validator: func(_ json.RawMessage) error {
			if in.peek(name) < 0 {
				return errors.New("no update " + name + " is expected now")
			}
			return nil
		}}); err != nil {
			return err
		}
	}
	if finished, err := in.run(ctx, s.Steps); finished || err != nil {
		return err
	}
	// A script that ends neither in completion nor continue-as-new ends
	// where the real run was when it was recorded: waiting (a live link
	// until its next health check).
	return workflow.Await(ctx, func() bool { return false })
}

func (in *interp) peek(name string) int {
	for i, u := range in.s.Updates {
		if u.Name == name && !in.started[i] {
			return i
		}
	}
	return -1
}

func (in *interp) take(name string) int {
	i := in.peek(name)
	if i >= 0 {
		in.started[i] = true
	}
	return i
}

// errDone ends a run early: the script completed or continued as new.
type errDone struct{ err error }

func (e errDone) Error() string {
	if e.err == nil {
		return "done"
	}
	return e.err.Error()
}

// run runs steps; finished is true when the script completed or
// continued as new (err is then the continue-as-new).
func (in *interp) run(ctx workflow.Context, steps []Step) (finished bool, err error) {
	err = in.steps(ctx, steps)
	var d errDone
	if errors.As(err, &d) {
		return true, d.err
	}
	return false, err
}

func (in *interp) steps(ctx workflow.Context, steps []Step) error {
	for _, st := range steps {
		switch st.Op {
		case opActivity:
			actx, cancel := workflow.WithCancel(ctx)
			opts := workflow.ActivityOptions{TaskQueue: st.Queue, StartToCloseTimeout: st.StartToClose, ScheduleToCloseTimeout: st.ScheduleToClose,
				ScheduleToStartTimeout: st.ScheduleToStart, HeartbeatTimeout: st.Heartbeat, Summary: st.Summary}
			if r := st.Retry; r != nil {
				opts.RetryPolicy = &temporal.RetryPolicy{InitialInterval: r.Initial, BackoffCoefficient: r.Backoff, MaximumInterval: r.Max,
					MaximumAttempts: r.Attempts, NonRetryableErrorTypes: r.NonRetrying}
			}
			in.futures[st.Ref] = workflow.ExecuteActivity(workflow.WithActivityOptions(actx, opts), noopPrefix+st.Name, noopArgs{Outcome: st.Outcome})
			in.cancels[st.Ref] = cancel
		case opLocal:
			lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 10 * time.Second})
			_ = workflow.ExecuteLocalActivity(lctx, noopLocalActivity).Get(ctx, nil)
		case opSideEffect:
			_ = workflow.SideEffect(ctx, func(workflow.Context) any { return nil })
		case opVersion:
			workflow.GetVersion(ctx, st.Name, workflow.DefaultVersion, workflow.Version(st.Version))
		case opTimer:
			tctx, cancel := workflow.WithCancel(ctx)
			in.futures[st.Ref] = workflow.NewTimerWithOptions(tctx, st.Duration, workflow.TimerOptions{Summary: st.Summary})
			in.cancels[st.Ref] = cancel
		case opWait:
			if f := in.futures[st.Ref]; f != nil {
				_ = f.Get(ctx, nil)
			}
		case opWaitStarted:
			if f := in.childs[st.Ref]; f != nil {
				_ = f.GetChildWorkflowExecution().Get(ctx, nil)
			}
		case opCancel:
			if c := in.cancels[st.Ref]; c != nil {
				c()
			}
		case opUpsert:
			var ups []temporal.SearchAttributeUpdate
			for k, v := range st.SA {
				key := temporal.NewSearchAttributeKeyKeyword(k)
				switch {
				case v == nil:
					ups = append(ups, key.ValueUnset())
				case k == workflows.SAProject.GetName():
					ups = append(ups, key.ValueSet(in.s.Project))
				default:
					ups = append(ups, key.ValueSet(*v))
				}
				switch k {
				case workflows.SAPhase.GetName():
					in.phase = deref(v)
				case workflows.SAWaitingOn.GetName():
					in.waiting = deref(v)
				}
			}
			if len(ups) > 0 {
				if err := workflow.UpsertTypedSearchAttributes(ctx, ups...); err != nil {
					return err
				}
			}
		case opMemo:
			memo := map[string]any{}
			for k, v := range st.Memo {
				memo[k] = v.raw()
			}
			if err := workflow.UpsertMemo(ctx, memo); err != nil {
				return err
			}
		case opSignalOut:
			target := in.id + st.Target
			if st.Target == "parent" {
				target = in.parent
			}
			in.futures[st.Ref] = workflow.SignalExternalWorkflow(ctx, target, "", st.Name, st.Arg.raw())
		case opChild:
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: in.id + st.Target, TaskQueue: st.Queue,
				WorkflowExecutionTimeout: st.Duration, ParentClosePolicy: enumspb.ParentClosePolicy(st.ParentClose)})
			f := workflow.ExecuteChildWorkflow(cctx, noopPrefix+st.Name, noopInput{Script: in.key + st.Target, Project: in.s.Project})
			in.futures[st.Ref], in.childs[st.Ref] = f, f
		case opAwaitSignal:
			workflow.GetSignalChannel(ctx, st.Name).Receive(ctx, nil)
		case opAwaitUpdate:
			if st.Slot < len(in.s.Updates) {
				in.gate = in.s.Updates[st.Slot].Gate
				err := workflow.Await(ctx, func() bool { return in.done[st.Slot] })
				in.gate = ""
				if err != nil {
					return err
				}
			}
		case opContinue:
			if in.s.Next == nil {
				return errDone{}
			}
			// Handlers finish first, as a real run's do.
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
			return errDone{err: workflow.NewContinueAsNewError(ctx, noopPrefix+in.s.Next.Type, noopInput{Script: in.key + "/next", Project: in.s.Project})}
		case opComplete:
			_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
			return errDone{}
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
