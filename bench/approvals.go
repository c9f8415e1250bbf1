package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkwright/linkwright/workflows"
)

// approvalResult is section 2.
type approvalResult struct {
	Background   int      `json:"background"`
	SetupSeconds float64  `json:"setupSeconds"`
	Accept       latency  `json:"accept"`
	Reverse      *latency `json:"reverse,omitempty"`
	Note         string   `json:"note,omitempty"`
}

// timeApprovals approves gate on each link, one at a time, and times
// from the update's return (client side) to the call the approval lets
// through reaching the cloud (in the worker's records): AcceptConnections
// carried out for accept-connection, CreateEndpoint for
// create-reverse-endpoint.
func (b *bench) timeApprovals(ctx context.Context, links []*link, gate string) ([]time.Duration, error) {
	var out []time.Duration
	for _, l := range links {
		returned, err := b.approve(ctx, l.id, gate)
		if err != nil {
			return out, fmt.Errorf("approving %s at %s: %w", l.id, gate, err)
		}
		recs, err := b.waitRecords(ctx, []string{l.project}, 5*time.Minute, func(r linkRecord) bool {
			if gate == workflows.GateAcceptConnection {
				return r.AcceptOK != 0
			}
			return r.CreateOK != 0
		})
		if err != nil {
			return out, fmt.Errorf("%s after its approval at %s: %w", l.id, gate, err)
		}
		at := recs[l.project].AcceptOK
		if gate != workflows.GateAcceptConnection {
			at = recs[l.project].CreateOK
		}
		out = append(out, time.Unix(0, at).Sub(returned))
	}
	return out, nil
}

func (b *bench) sectionApproval(ctx context.Context) error {
	b.printf("\n== 2. Approval latency with %d enablements waiting on customers in the background ==\n", b.o.Background)
	res := &approvalResult{Background: b.o.Background}
	b.res.Approval = res
	if err := b.useWorker(modeSetup); err != nil {
		return err
	}
	t0 := time.Now()
	deadline := t0.Add(b.o.LevelTimeout)
	bg, err := b.startEnablements(ctx, b.o.Background)
	b.fleet = append(b.fleet, bg...)
	if err != nil {
		return err
	}
	gates, err := b.startEnablements(ctx, b.o.Approvals)
	if err != nil {
		return err
	}
	defer func() { _ = b.terminate(context.Background(), ids(gates)) }()
	if err := b.toGate(ctx, gates, deadline); err != nil {
		return err
	}
	if _, err := b.waitAll(ctx, ids(bg), workflows.EnablementWorkflow, workflows.PhaseAwaitingConnection, deadline, nil); err != nil {
		return err
	}
	res.SetupSeconds = time.Since(t0).Seconds()
	b.logf("%d background enablements wait for their customers and %d wait at gate %s (set up in %s)",
		len(bg), len(gates), workflows.GateAcceptConnection, time.Since(t0).Round(time.Second))

	// The measurements run on the shipped budgets, the cloud throttling.
	if err := b.useWorker(modeMeasure); err != nil {
		return err
	}
	lat, err := b.timeApprovals(ctx, gates, workflows.GateAcceptConnection)
	res.Accept = stats(lat)
	if err != nil {
		return err
	}
	b.logf("accept-connection: %s", res.Accept)

	// The same links, on to the reverse link's gate.
	err = parallel(len(gates), b.o.Concurrency, func(k int) error {
		l := gates[k]
		if _, err := b.waitStatus(ctx, l.id, "the customer's grant", 10*time.Minute, phaseIs(workflows.PhaseAwaitingGrant)); err != nil {
			return err
		}
		if err := b.customerGrant(l.idx); err != nil {
			return err
		}
		if err := b.signal(ctx, l.id, workflows.SignalCustomerAccessGranted, nil); err != nil {
			return err
		}
		_, err := b.waitStatus(ctx, l.id, "gate create-reverse-endpoint", 10*time.Minute, gateIs(workflows.GateCreateReverseEndpoint))
		return err
	})
	if err != nil {
		res.Note = "create-reverse-endpoint not timed: " + err.Error()
		return nil
	}
	lat, err = b.timeApprovals(ctx, gates, workflows.GateCreateReverseEndpoint)
	rs := stats(lat)
	res.Reverse = &rs
	if err != nil {
		return err
	}
	b.logf("create-reverse-endpoint: %s", rs)
	return nil
}

// throttleResult is section 4.
type throttleResult struct {
	N            int     `json:"n"`
	SetupSeconds float64 `json:"setupSeconds"`
	// UpdatesSeconds: until every approve update returned; AcceptsSeconds:
	// until the last AcceptConnections was carried out, both from the
	// first update sent.
	UpdatesSeconds float64 `json:"updatesSeconds"`
	AcceptsSeconds float64 `json:"acceptsSeconds"`
	// UpdateErrors counts approve updates that returned an error (each
	// is tried again while its gate is open, up to three times).
	UpdateErrors int64 `json:"updateErrors"`
	Accepted     int   `json:"accepted"`
	// AcceptCalls are AcceptConnections calls that reached the simulated
	// cloud, AcceptThrottled those it answered with its throttling error.
	AcceptCalls     int64 `json:"acceptCalls"`
	AcceptThrottled int64 `json:"acceptThrottled"`
	// SimThrottled: every throttling answer of the simulated cloud (all
	// methods); Absorbed: retried past by the provider-side retry;
	// Surfaced: handed on to the activity as a failed attempt.
	SimThrottled     int64   `json:"simThrottled"`
	Absorbed         int64   `json:"absorbed"`
	Surfaced         int64   `json:"surfaced"`
	WorkflowsFailed  int64   `json:"workflowsFailed"`
	AcceptBudget     float64 `json:"acceptBudget"`
	AcceptLatencyP50 float64 `json:"acceptLatencyP50Ms"`
	Note             string  `json:"note,omitempty"`
}

func (b *bench) sectionThrottling(ctx context.Context) error {
	b.printf("\n== 4. Throttling: %d approvals sent at once, shipped budgets, the simulated cloud throttling as EC2 ==\n", b.o.Simultaneous)
	res := &throttleResult{N: b.o.Simultaneous}
	b.res.Throttling = res
	if err := b.useWorker(modeSetup); err != nil {
		return err
	}
	t0 := time.Now()
	links, err := b.startEnablements(ctx, b.o.Simultaneous)
	defer func() { _ = b.terminate(context.Background(), ids(links)) }()
	if err != nil {
		return err
	}
	if err := b.toGate(ctx, links, t0.Add(b.o.LevelTimeout)); err != nil {
		return err
	}
	res.SetupSeconds = time.Since(t0).Seconds()
	b.logf("%d enablements wait at gate %s (set up in %s)", len(links), workflows.GateAcceptConnection, time.Since(t0).Round(time.Second))
	if err := b.useWorker(modeMeasure); err != nil {
		return err
	}
	res.AcceptBudget = defaultAcceptBudget()
	f0, err := b.worker.figures()
	if err != nil {
		return err
	}
	failedQuery := fmt.Sprintf("WorkflowType IN ('%s', '%s') AND ExecutionStatus = 'Failed'", workflows.EnablementWorkflow, workflows.ReverseLinkWorkflow)
	failed0, err := b.count(ctx, failedQuery)
	if err != nil {
		return err
	}
	start := time.Now()
	var updErrs atomic.Int64
	var wg sync.WaitGroup
	for _, l := range links {
		wg.Go(func() {
			for try := 0; try < 3; try++ {
				_, err := b.approve(ctx, l.id, workflows.GateAcceptConnection)
				if err == nil {
					return
				}
				updErrs.Add(1)
				// An update that timed out may have been accepted all the
				// same: approve again only while the gate is still open.
				if st, err := b.status(ctx, l.id); err == nil && st.Gate != workflows.GateAcceptConnection {
					return
				}
			}
		})
	}
	wg.Wait()
	res.UpdatesSeconds = time.Since(start).Seconds()
	res.UpdateErrors = updErrs.Load()
	b.logf("every approve update returned after %.1fs (%d errors); waiting for the accepts", res.UpdatesSeconds, res.UpdateErrors)
	// The accepts come at the accept budget's pace: wait three times as long.
	within := 10*time.Minute + time.Duration(3*float64(len(links))/res.AcceptBudget)*time.Second
	recs, err := b.waitRecords(ctx, projects(links), within, func(r linkRecord) bool { return r.AcceptOK != 0 })
	var last int64
	var lat []time.Duration
	for _, r := range recs {
		if r.AcceptOK != 0 {
			res.Accepted++
			last = max(last, r.AcceptOK)
			lat = append(lat, time.Unix(0, r.AcceptOK).Sub(start))
		}
	}
	if last != 0 {
		res.AcceptsSeconds = time.Unix(0, last).Sub(start).Seconds()
		res.AcceptLatencyP50 = stats(lat).P50
	}
	if err != nil {
		res.Note = err.Error()
	}
	f1, ferr := b.worker.figures()
	if ferr != nil {
		return ferr
	}
	res.AcceptCalls = f1.Calls["AcceptConnections"].Calls - f0.Calls["AcceptConnections"].Calls
	res.AcceptThrottled = f1.Calls["AcceptConnections"].Throttled - f0.Calls["AcceptConnections"].Throttled
	res.SimThrottled = f1.SimThrottled - f0.SimThrottled
	res.Absorbed = f1.Absorbed - f0.Absorbed
	res.Surfaced = f1.Surfaced - f0.Surfaced
	failed1, cerr := b.count(ctx, failedQuery)
	if cerr != nil {
		return cerr
	}
	res.WorkflowsFailed = failed1 - failed0
	b.logf("%d of %d accepts carried out, the last %.1fs after the first approval; throttled %d, absorbed %d, surfaced %d, workflows failed %d",
		res.Accepted, res.N, res.AcceptsSeconds, res.SimThrottled, res.Absorbed, res.Surfaced, res.WorkflowsFailed)
	return err
}
