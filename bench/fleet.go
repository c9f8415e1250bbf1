package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

// fleetLevel is section 3 at one K.
type fleetLevel struct {
	K int `json:"k"`
	// Waiting and Live are the enablements waiting on their customers and
	// the live links, counted in visibility once settled (or when the
	// level ran out of time).
	Waiting      int64   `json:"waiting"`
	Live         int64   `json:"live"`
	SetupSeconds float64 `json:"setupSeconds"`
	// The setup worker once the fleet settled.
	WorkerRSS  int64 `json:"workerRssBytes"`
	Goroutines int   `json:"goroutines"`
	// The measuring worker (shipped budgets) after the samples.
	MeasureRSS        int64 `json:"measureRssBytes"`
	MeasureGoroutines int   `json:"measureGoroutines"`
	ServerRSS         int64 `json:"serverRssBytes"`
	// FirstCall: from ExecuteWorkflow returning to the new enablement's
	// first cloud call; Accept: from the approve update returning to
	// AcceptConnections carried out.
	FirstCall  latency `json:"firstCall"`
	Accept     latency `json:"accept"`
	Incomplete string  `json:"incomplete,omitempty"`
}

// adoptRequest is live link i's adopt request.
func adoptRequest(i int) request.Adopt {
	p := liveProject(i)
	return request.Adopt{Company: "Bench " + p, RequestedBy: requester, ProjectID: p, Environment: benchEnv, Cloud: benchCloud,
		Region: benchRegion, CustomerAccount: customerAccount(i, true), Services: []request.Service{{Name: "mysql", Port: 3306}}}
}

// buildByHand builds live link i in its simulated cloud as a person
// would, before Linkwright: the port open, the customer allowed, the
// customer's endpoint created and accepted.
func (b *bench) buildByHand(ctx context.Context, i int) error {
	return b.withCloud(liveProject(i), func(c *sim.Cloud) error {
		ref := realRef(benchEnv)
		account := customerAccount(i, true)
		if err := c.OpenPorts(ctx, ref, []int{3306}); err != nil {
			return err
		}
		if err := c.AllowAccount(ctx, ref, account); err != nil {
			return err
		}
		ep, err := c.Customer(benchCloud, account).CreateEndpoint(b.service)
		if err != nil {
			return err
		}
		return c.AcceptConnections(ctx, ref, []string{ep.ID})
	})
}

// adopt builds n links by hand and has Linkwright adopt them: each
// starts PrivateLinkLive with an adopt request, and is approved at gate
// adopt once it waits there; it returns once all are approved.
func (b *bench) adopt(ctx context.Context, n int, deadline time.Time) ([]string, error) {
	out := make([]string, n)
	err := parallel(n, b.o.Concurrency, func(k int) error {
		i := int(b.nextL.Add(1) - 1)
		if err := b.buildByHand(ctx, i); err != nil {
			return err
		}
		ad := adoptRequest(i)
		data, err := json.Marshal(ad)
		if err != nil {
			return err
		}
		_, err = b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: ad.WorkflowID(), TaskQueue: workflows.TaskQueue,
			StaticSummary: "PrivateLink built by hand for " + ad.Company + ", adopted", WorkflowExecutionErrorWhenAlreadyStarted: true},
			workflows.LiveWorkflow, json.RawMessage(data))
		out[k] = ad.WorkflowID()
		return err
	})
	out = slices.DeleteFunc(out, func(id string) bool { return id == "" })
	if err != nil {
		return out, err
	}
	// Once approved, each checks its health and goes live: the caller
	// counts them there.
	_, err = b.waitAll(ctx, out, workflows.LiveWorkflow, workflows.PhaseAwaitingApproval, deadline, func(id string) error {
		_, err := b.approve(ctx, id, workflows.GateAdopt)
		return err
	})
	return out, err
}

// waitCount waits until a visibility count reaches want.
func (b *bench) waitCount(ctx context.Context, query string, want int64, deadline time.Time) (int64, error) {
	for {
		n, err := b.count(ctx, query)
		if err != nil {
			return n, err
		}
		if n >= want {
			return n, nil
		}
		if time.Now().After(deadline) {
			return n, fmt.Errorf("%w: %d of %d", errTimeout, n, want)
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func (b *bench) sectionFleet(ctx context.Context) error {
	b.printf("\n== 3. Fleet at K = %v: K enablements waiting on customers and K live links ==\n", b.o.Levels)
	waitingQ := runningInPhase(workflows.EnablementWorkflow, workflows.PhaseAwaitingConnection)
	liveQ := runningInPhase(workflows.LiveWorkflow, workflows.PhaseLive)
	liveN := 0
	for _, k := range b.o.Levels {
		lv := fleetLevel{K: k}
		if err := b.useWorker(modeSetup); err != nil {
			return err
		}
		t0 := time.Now()
		deadline := t0.Add(b.o.LevelTimeout)
		needE := max(k-len(b.fleet), 0)
		needL := max(k-liveN, 0)
		b.logf("level %d: starting %d enablements and adopting %d links built by hand", k, needE, needL)
		var wg sync.WaitGroup
		var errE, errL, errG error
		var adopted []string
		var gates []*link
		wg.Go(func() {
			var started []*link
			started, errE = b.startEnablements(ctx, needE)
			b.fleet = append(b.fleet, started...)
		})
		wg.Go(func() { adopted, errL = b.adopt(ctx, needL, deadline) })
		wg.Go(func() {
			if gates, errG = b.startEnablements(ctx, b.o.Samples); errG == nil {
				errG = b.toGate(ctx, gates, deadline)
			}
		})
		wg.Wait()
		liveN += len(adopted)
		var err error
		if err = errors.Join(errE, errL, errG); err == nil {
			var werr error
			if lv.Waiting, werr = b.waitCount(ctx, waitingQ, int64(len(b.fleet)), deadline); werr != nil {
				err = werr
			} else {
				lv.Live, err = b.waitCount(ctx, liveQ, int64(liveN), deadline)
			}
		}
		lv.SetupSeconds = time.Since(t0).Seconds()
		if err != nil {
			lv.Incomplete = err.Error()
			lv.Waiting, _ = b.count(ctx, waitingQ)
			lv.Live, _ = b.count(ctx, liveQ)
			b.logf("level %d did NOT settle in %s: %d waiting, %d live reached (%v)", k, time.Since(t0).Round(time.Second), lv.Waiting, lv.Live, err)
		} else {
			b.logf("level %d settled in %s: %d waiting, %d live", k, time.Since(t0).Round(time.Second), lv.Waiting, lv.Live)
		}
		// The worker that holds the fleet, as it is.
		if f, err := b.worker.figures(); err == nil {
			lv.Goroutines = f.Goroutines
		}
		lv.WorkerRSS, _ = procRSS(b.worker.pid())
		lv.ServerRSS, _ = procRSS(b.server.pid())

		// Latencies on the shipped budgets.
		if err := b.useWorker(modeMeasure); err != nil {
			return err
		}
		var samples []string
		var first []time.Duration
		for range b.o.Samples {
			i, err := b.newEnablementIndex()
			if err != nil {
				return err
			}
			l, err := b.startEnablement(ctx, i)
			if err != nil {
				return err
			}
			started := time.Now()
			samples = append(samples, l.id)
			recs, err := b.waitRecords(ctx, []string{l.project}, 5*time.Minute, func(r linkRecord) bool { return r.First != 0 })
			if err != nil {
				lv.Incomplete = joinNote(lv.Incomplete, "first call: "+err.Error())
				break
			}
			first = append(first, time.Unix(0, recs[l.project].First).Sub(started))
		}
		lv.FirstCall = stats(first)
		if len(gates) > 0 && errG == nil {
			lat, err := b.timeApprovals(ctx, gates, workflows.GateAcceptConnection)
			lv.Accept = stats(lat)
			if err != nil {
				lv.Incomplete = joinNote(lv.Incomplete, "approvals: "+err.Error())
			}
		}
		if f, err := b.worker.figures(); err == nil {
			lv.MeasureGoroutines = f.Goroutines
		}
		lv.MeasureRSS, _ = procRSS(b.worker.pid())
		b.logf("level %d: worker RSS %.0f MiB, %d goroutines; first call %s; approval -> accept %s", k, mib(lv.WorkerRSS), lv.Goroutines, lv.FirstCall, lv.Accept)
		b.res.Fleet = append(b.res.Fleet, lv)
		if err := b.terminate(ctx, append(samples, ids(gates)...)); err != nil {
			return err
		}
		if lv.Incomplete != "" {
			b.logf("the next levels are skipped: level %d did not finish", k)
			break
		}
	}
	return nil
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
