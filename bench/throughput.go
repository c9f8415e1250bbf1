package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/proto"

	"github.com/linkwright/linkwright/workflows"
)

// driveWithin bounds one driven enablement.
const driveWithin = 5 * time.Minute

// drive takes one bidirectional enablement (or its no-op) from its start
// to its live link waiting for its first hourly health check, the way the
// README walkthrough and the worker's integration tests do: the customer
// acts in the simulated cloud (a no-op has nothing in the cloud: only the
// signals), the approvals go through the approve update, each step waits
// for the status query to show the workflow's turn.
func (b *bench) drive(ctx context.Context, l *link) error {
	wait := func(what string, ok func(workflows.Status) bool) (workflows.Status, error) {
		return b.waitStatus(ctx, l.id, what, driveWithin, ok)
	}
	if _, err := wait("the customer's turn", phaseIs(workflows.PhaseAwaitingConnection)); err != nil {
		return err
	}
	if !l.noop {
		if err := b.customerConnect(l.idx); err != nil {
			return err
		}
	}
	if err := b.signal(ctx, l.id, workflows.SignalCustomerEndpointCreated, workflows.CustomerEvent{Detail: "benchmark"}); err != nil {
		return err
	}
	if _, err := wait("gate accept-connection", gateIs(workflows.GateAcceptConnection)); err != nil {
		return err
	}
	if _, err := b.approve(ctx, l.id, workflows.GateAcceptConnection); err != nil {
		return err
	}
	if _, err := wait("the customer's grant", phaseIs(workflows.PhaseAwaitingGrant)); err != nil {
		return err
	}
	if !l.noop {
		if err := b.customerGrant(l.idx); err != nil {
			return err
		}
	}
	if err := b.signal(ctx, l.id, workflows.SignalCustomerAccessGranted, nil); err != nil {
		return err
	}
	if _, err := wait("gate create-reverse-endpoint", gateIs(workflows.GateCreateReverseEndpoint)); err != nil {
		return err
	}
	if _, err := b.approve(ctx, l.id, workflows.GateCreateReverseEndpoint); err != nil {
		return err
	}
	st, err := wait("the customer's acceptance", func(st workflows.Status) bool {
		return st.Phase == workflows.PhaseAwaitingEndpoint && (l.noop || st.ReverseEndpointID != "")
	})
	if err != nil {
		return err
	}
	if !l.noop {
		if err := b.customerAccept(l.idx, st.ReverseEndpointID); err != nil {
			return err
		}
	}
	if err := b.signal(ctx, l.id, workflows.SignalCustomerConnectionAccepted, nil); err != nil {
		return err
	}
	if _, err := wait("the customer's confirmation", phaseIs(workflows.PhaseAwaitingConfirmation)); err != nil {
		return err
	}
	if err := b.signal(ctx, l.id, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true, Detail: "benchmark"}); err != nil {
		return err
	}
	_, err = wait("the live link", phaseIs(workflows.PhaseLive))
	return err
}

// scriptOf reads a driven real enablement's histories (its run, its
// children, the live run it continued as) into the no-op's script.
func (b *bench) scriptOf(ctx context.Context, l *link) (*Script, error) {
	events, err := b.history(ctx, l.id, l.runID)
	if err != nil {
		return nil, err
	}
	s, children, err := extractScript(l.id, workflows.EnablementWorkflow, events)
	if err != nil {
		return nil, err
	}
	for _, ch := range children {
		cev, err := b.history(ctx, ch.ID, "")
		if err != nil {
			return nil, err
		}
		cs, grand, err := extractScript(ch.ID, ch.Type, cev)
		if err != nil {
			return nil, err
		}
		if len(grand) > 0 {
			return nil, fmt.Errorf("%s starts children of its own: not mirrored", ch.ID)
		}
		s.Children[ch.Suffix] = cs
	}
	last := events[len(events)-1]
	if last.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
		return nil, fmt.Errorf("%s did not continue as new into the live link", l.id)
	}
	can := last.GetWorkflowExecutionContinuedAsNewEventAttributes()
	lev, err := b.history(ctx, l.id, can.GetNewExecutionRunId())
	if err != nil {
		return nil, err
	}
	live, _, err := extractScript(l.id, can.GetWorkflowType().GetName(), lev)
	if err != nil {
		return nil, err
	}
	s.Next = live
	return s, nil
}

// shape counts what a history holds, by kind: what the no-op must match.
type shape map[string]float64

// shapeOf counts one run's events by kind. No-op types are named as the
// real ones they mirror.
func shapeOf(events []*historypb.HistoryEvent, into shape) {
	name := func(s string) string { return strings.TrimPrefix(s, noopPrefix) }
	for _, ev := range events {
		into["events"]++
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			into["workflow tasks"]++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			into["activity "+name(ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName())]++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED:
			into["activity cancelled (poll cut short by a signal)"]++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			into["marker "+ev.GetMarkerRecordedEventAttributes().GetMarkerName()]++
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			into["timer"]++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			into["signal received "+ev.GetWorkflowExecutionSignaledEventAttributes().GetSignalName()]++
		case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
			into["signal sent "+ev.GetSignalExternalWorkflowExecutionInitiatedEventAttributes().GetSignalName()]++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			into["update "+ev.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName()]++
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			into["child "+name(ev.GetStartChildWorkflowExecutionInitiatedEventAttributes().GetWorkflowType().GetName())]++
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			into["search attribute upsert"]++
		case enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
			into["memo upsert"]++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
			into["continue-as-new "+name(ev.GetWorkflowExecutionContinuedAsNewEventAttributes().GetWorkflowType().GetName())]++
		}
	}
}

// linkHistory reads a driven link's histories: its enablement run, its
// reverse child, and the live run up to its first wait.
func (b *bench) linkHistory(ctx context.Context, l *link) (run, child, live []*historypb.HistoryEvent, err error) {
	if run, err = b.history(ctx, l.id, l.runID); err != nil {
		return
	}
	if child, err = b.history(ctx, l.id+"/reverse", ""); err != nil {
		return
	}
	last := run[len(run)-1]
	if a := last.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
		live, err = b.history(ctx, l.id, a.GetNewExecutionRunId())
	}
	return
}

// round is one measured round of one kind.
type round struct {
	Kind      string  `json:"kind"`
	N         int     `json:"n"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"perSecond"`
	WorkerCPU float64 `json:"workerCpuSeconds"`
	ServerCPU float64 `json:"serverCpuSeconds"`
	// CPUPerWorkflow is (worker + server CPU) / N.
	CPUPerWorkflow float64 `json:"cpuSecondsPerWorkflow"`
	// Events per link: the enablement run plus its reverse child; Live
	// the live run to its first wait.
	Events     float64 `json:"eventsPerWorkflow"`
	LiveEvents float64 `json:"liveEventsPerWorkflow"`
	// Bytes is the size of the run's and the child's events.
	Bytes  float64 `json:"historyBytesPerWorkflow"`
	Failed int     `json:"failed"`
}

type throughputResult struct {
	Rounds []round `json:"rounds"`
	// Means over the rounds, per kind: workflows per second, CPU seconds
	// (worker + server) per workflow, history events per workflow (run +
	// reverse child), and the ratio of the CPU figures, real / no-op.
	RealPerSecond float64 `json:"realPerSecond"`
	NoopPerSecond float64 `json:"noopPerSecond"`
	RealCPU       float64 `json:"realCpuSecondsPerWorkflow"`
	NoopCPU       float64 `json:"noopCpuSecondsPerWorkflow"`
	CPURatio      float64 `json:"cpuRatio"`
	RealEvents    float64 `json:"realEventsPerWorkflow"`
	NoopEvents    float64 `json:"noopEventsPerWorkflow"`
	// IdleWorker and IdleServer are CPU seconds per second spent idle,
	// before the rounds: part of every round's CPU.
	IdleWorker float64 `json:"idleWorkerCpuPerSecond"`
	IdleServer float64 `json:"idleServerCpuPerSecond"`
	// Shapes: mean counts per link, of the enablement run, its reverse
	// child and its live run to its first wait, real and no-op.
	Shapes map[string]shape `json:"shapes"`
}

func (b *bench) sectionThroughput(ctx context.Context) error {
	b.printf("\n== 1. Throughput and CPU: bidirectional enablements vs no-ops of the same shape ==\n")
	if err := b.useWorker(modeSetup); err != nil {
		return err
	}
	res := &throughputResult{Shapes: map[string]shape{}}
	b.res.Throughput = res

	// A real enablement first: its histories are the no-op's script.
	i, err := b.newEnablementIndex()
	if err != nil {
		return err
	}
	first, err := b.startEnablement(ctx, i)
	if err != nil {
		return err
	}
	if err := b.drive(ctx, first); err != nil {
		return fmt.Errorf("the warm-up enablement: %w", err)
	}
	script, err := b.scriptOf(ctx, first)
	if err != nil {
		return fmt.Errorf("reading the warm-up enablement's histories: %w", err)
	}
	b.logf("warm-up enablement %s driven to live; its histories give the no-op's script (%d steps, %d in its child, %d in its live run)",
		first.id, len(script.Steps), len(script.Children["/reverse"].stepsOrEmpty()), len(script.Next.stepsOrEmpty()))
	const key = "enablement"
	if err := b.useScript(key, script); err != nil {
		return err
	}
	noopN := 0
	warm, err := b.startNoop(ctx, noopN, key)
	if err != nil {
		return err
	}
	noopN++
	if err := b.drive(ctx, warm); err != nil {
		return fmt.Errorf("the warm-up no-op: %w", err)
	}
	if err := b.terminate(ctx, []string{first.id, warm.id}); err != nil {
		return err
	}

	// The idle baseline: what the worker and the server spend doing nothing.
	time.Sleep(2 * time.Second)
	w0, s0, err := b.cpuNow()
	if err != nil {
		return err
	}
	idle := 5 * time.Second
	time.Sleep(idle)
	w1, s1, err := b.cpuNow()
	if err != nil {
		return err
	}
	res.IdleWorker, res.IdleServer = (w1-w0).Seconds()/idle.Seconds(), (s1-s0).Seconds()/idle.Seconds()
	b.logf("idle: the worker uses %.3f CPU-s/s, the dev server %.3f CPU-s/s", res.IdleWorker, res.IdleServer)

	sums := map[string]shape{}
	counted := map[string]int{}
	for r := range b.o.Rounds {
		for _, kind := range []string{"real", "noop"} {
			time.Sleep(2 * time.Second) // what the last round left (terminations) settles
			links := make([]*link, b.o.N)
			for k := range links {
				var err error
				if kind == "real" {
					var i int
					if i, err = b.newEnablementIndex(); err == nil {
						links[k] = &link{idx: i}
					}
				} else {
					links[k] = &link{idx: noopN, noop: true}
					noopN++
				}
				if err != nil {
					return err
				}
			}
			w0, s0, err := b.cpuNow()
			if err != nil {
				return err
			}
			t0 := time.Now()
			var failed atomic.Int64
			var mu sync.Mutex
			var firstErr error
			var wg sync.WaitGroup
			for k := range links {
				wg.Go(func() {
					var l *link
					var err error
					if kind == "real" {
						l, err = b.startEnablement(ctx, links[k].idx)
					} else {
						l, err = b.startNoop(ctx, links[k].idx, key)
					}
					if err == nil {
						links[k] = l
						err = b.drive(ctx, l)
					}
					if err != nil {
						failed.Add(1)
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			took := time.Since(t0)
			w1, s1, err := b.cpuNow()
			if err != nil {
				return err
			}
			rd := round{Kind: kind, N: b.o.N, Seconds: took.Seconds(), PerSecond: float64(b.o.N) / took.Seconds(),
				WorkerCPU: (w1 - w0).Seconds(), ServerCPU: (s1 - s0).Seconds(), Failed: int(failed.Load())}
			rd.CPUPerWorkflow = (rd.WorkerCPU + rd.ServerCPU) / float64(b.o.N)
			// Histories, after the measured window.
			var evs, lev, size float64
			n := 0
			for _, l := range links {
				if l.id == "" {
					continue
				}
				run, child, live, err := b.linkHistory(ctx, l)
				if err != nil {
					continue
				}
				n++
				evs += float64(len(run) + len(child))
				for _, ev := range append(run[:len(run):len(run)], child...) {
					size += float64(proto.Size(ev))
				}
				lev += float64(len(live))
				for part, h := range map[string][]*historypb.HistoryEvent{"enablement": run, "reverse child": child, "live run": live} {
					key := kind + "/" + part
					if sums[key] == nil {
						sums[key] = shape{}
					}
					shapeOf(h, sums[key])
				}
			}
			if n > 0 {
				rd.Events, rd.LiveEvents, rd.Bytes = evs/float64(n), lev/float64(n), size/float64(n)
				counted[kind] += n
			}
			res.Rounds = append(res.Rounds, rd)
			b.logf("round %d, %-4s: %d in %.1fs = %.2f/s; CPU worker %.1fs + server %.1fs = %.3fs per workflow; %.0f events per workflow%s",
				r+1, kind, b.o.N, rd.Seconds, rd.PerSecond, rd.WorkerCPU, rd.ServerCPU, rd.CPUPerWorkflow, rd.Events, failedNote(rd.Failed, firstErr))
			var live []string
			for _, l := range links {
				if l.id != "" {
					live = append(live, l.id)
				}
			}
			if err := b.terminate(ctx, live); err != nil {
				return err
			}
			if rd.Failed == b.o.N {
				return fmt.Errorf("every %s workflow of round %d failed: %v", kind, r+1, firstErr)
			}
		}
	}
	for key, sum := range sums {
		kind, _, _ := strings.Cut(key, "/")
		mean := shape{}
		for k, v := range sum {
			mean[k] = v / float64(max(counted[kind], 1))
		}
		res.Shapes[key] = mean
	}
	var rs, ns, rc, nc, re, ne, nr, nn float64
	for _, rd := range res.Rounds {
		if rd.Kind == "real" {
			rs, rc, re, nr = rs+rd.PerSecond, rc+rd.CPUPerWorkflow, re+rd.Events, nr+1
		} else {
			ns, nc, ne, nn = ns+rd.PerSecond, nc+rd.CPUPerWorkflow, ne+rd.Events, nn+1
		}
	}
	if nr > 0 && nn > 0 {
		res.RealPerSecond, res.NoopPerSecond = rs/nr, ns/nn
		res.RealCPU, res.NoopCPU = rc/nr, nc/nn
		res.RealEvents, res.NoopEvents = re/nr, ne/nn
		if res.NoopCPU > 0 {
			res.CPURatio = res.RealCPU / res.NoopCPU
		}
	}
	return nil
}

func (s *Script) stepsOrEmpty() []Step {
	if s == nil {
		return nil
	}
	return s.Steps
}

func failedNote(n int, err error) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d FAILED (first: %v)", n, err)
}

// shapeRows are the shape's kinds, in a stable order.
func shapeRows(shapes ...shape) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range shapes {
		for k := range s {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rowRank(out[i]), rowRank(out[j])
		if ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}

func rowRank(k string) int {
	if strings.HasPrefix(k, "activity cancelled") {
		return 1
	}
	for i, p := range []string{"activity ", "activity cancelled", "marker ", "timer", "signal received", "signal sent", "update ", "child ", "search attribute", "memo", "continue-as-new", "workflow tasks", "events"} {
		if strings.HasPrefix(k, p) {
			return i
		}
	}
	return 99
}
