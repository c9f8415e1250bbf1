package telemetry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/workflows"
)

// The fleet gauges say how many links stand in each phase and how many
// wait on whom. No worker holds the whole fleet, so they are counted in
// Temporal visibility (CountWorkflow on the PrivateLinkPhase and
// PrivateLinkWaitingOn search attributes of running enablements and live
// links: children carry their own copies of their parent's phase and are
// left out) when Prometheus scrapes, at most once per refresh interval;
// between counts a scrape gets the last counts. Every replica reports the
// same figures: aggregate them with max(), not sum().
const (
	instLinks       = "linkwright_links"
	instWaits       = "linkwright_waits"
	instCountErrors = "linkwright_fleet_count_errors"
)

// FleetPhases are the phases linkwright_links reports, every phase a
// running enablement or live link can stand in; ended phases are left out
// (their workflows have ended). Health is the phase: live is healthy,
// degraded is not.
var FleetPhases = []workflows.Phase{
	workflows.PhaseValidating, workflows.PhaseOpeningTicket, workflows.PhaseOpeningPorts, workflows.PhaseAllowingCustomer,
	workflows.PhaseAwaitingConnection, workflows.PhaseAwaitingApproval, workflows.PhaseAcceptingConnection,
	workflows.PhaseVerifyingPlatform, workflows.PhaseAwaitingGrant, workflows.PhaseCreatingEndpoint, workflows.PhaseAwaitingEndpoint,
	workflows.PhaseVerifyingReverse, workflows.PhaseAwaitingFix, workflows.PhaseAwaitingConfirmation, workflows.PhaseUndoing,
	workflows.PhaseReadingCloud, workflows.PhaseLive, workflows.PhaseDegraded, workflows.PhaseChanging, workflows.PhaseTearingDown,
}

// FleetWaits are the parties linkwright_waits reports.
var FleetWaits = []workflows.WaitingOn{workflows.WaitingOnCustomer, workflows.WaitingOnOperator, workflows.WaitingOnCloud}

type fleetKey struct{ label, value string }

type fleetGauges struct {
	refresh time.Duration
	log     *zap.Logger
	links   metric.Int64ObservableGauge
	waits   metric.Int64ObservableGauge
	errors  metric.Int64Counter

	mu      sync.Mutex
	client  client.Client
	gen     int                // counts StartFleet calls: a count of an earlier one is dropped
	counted time.Time          // when the last count began; zero: never
	cancel  context.CancelFunc // of the count under way; nil: none
	counts  map[fleetKey]int64
}

func newFleetGauges(m metric.Meter, refresh time.Duration, log *zap.Logger) (*fleetGauges, error) {
	f := &fleetGauges{refresh: refresh, log: log, counts: map[fleetKey]int64{}}
	var err error
	if f.links, err = m.Int64ObservableGauge(instLinks, metric.WithDescription(
		"Running links (enablements and live links) by phase, counted in Temporal visibility; the same on every replica: use max()."+
			" phase=\"live\" is a healthy live link, phase=\"degraded\" an unhealthy one.")); err != nil {
		return nil, err
	}
	if f.waits, err = m.Int64ObservableGauge(instWaits, metric.WithDescription(
		"Running links waiting on the customer, an operator or the cloud, counted in Temporal visibility; the same on every replica: use max().")); err != nil {
		return nil, err
	}
	if f.errors, err = m.Int64Counter(instCountErrors, metric.WithDescription(
		"Failed visibility counts behind linkwright_links and linkwright_waits (the gauges keep their last good value).")); err != nil {
		return nil, err
	}
	if _, err = m.RegisterCallback(f.observe, f.links, f.waits); err != nil {
		return nil, err
	}
	return f, nil
}

// StartFleet makes the fleet gauges count through c (the worker's client,
// in its namespace) until stop is called. A later StartFleet replaces an
// earlier one. Nothing is counted until the first scrape, whose figures
// come with the next scrape.
func (t *Telemetry) StartFleet(c client.Client) (stop func()) {
	if t == nil || t.fleet == nil || !t.Metrics() {
		return func() {}
	}
	f := t.fleet
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reset()
	f.gen++
	gen := f.gen
	f.client = c
	f.errors.Add(context.Background(), 0) // exposed as 0 from the start, for increase()
	return func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.gen == gen {
			f.reset()
		}
	}
}

// reset forgets the client and the counts, stopping a count under way.
// f.mu is held.
func (f *fleetGauges) reset() {
	if f.cancel != nil {
		f.cancel()
		f.cancel = nil
	}
	f.client, f.counted, f.counts = nil, time.Time{}, map[fleetKey]int64{}
}

// observe reports the last counts and, when they are older than the
// refresh interval, starts counting afresh for the next scrape. It never
// waits for a count: the Temporal client records its own metrics in this
// meter provider, which cannot be done while the provider collects.
func (f *fleetGauges) observe(_ context.Context, o metric.Observer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.client == nil {
		return nil
	}
	if f.cancel == nil && (f.counted.IsZero() || time.Since(f.counted) >= f.refresh) {
		f.counted = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), countTimeout)
		f.cancel = cancel
		go f.count(ctx, cancel, f.client, f.gen)
	}
	for _, p := range FleetPhases {
		if n, ok := f.counts[fleetKey{"phase", string(p)}]; ok {
			o.ObserveInt64(f.links, n, metric.WithAttributes(attribute.String("phase", string(p))))
		}
	}
	for _, w := range FleetWaits {
		if n, ok := f.counts[fleetKey{"waiting_on", string(w)}]; ok {
			o.ObserveInt64(f.waits, n, metric.WithAttributes(attribute.String("waiting_on", string(w))))
		}
	}
	return nil
}

// countTimeout bounds one count of the whole fleet.
const countTimeout = 20 * time.Second

// count counts every phase and party, a few queries at a time, and keeps
// the counts, except those that failed: they keep their last good count.
func (f *fleetGauges) count(ctx context.Context, cancel context.CancelFunc, c client.Client, gen int) {
	defer cancel()
	type query struct {
		key fleetKey
		q   string
	}
	running := fmt.Sprintf("WorkflowType IN ('%s', '%s') AND ExecutionStatus = 'Running'", workflows.EnablementWorkflow, workflows.LiveWorkflow)
	var qs []query
	for _, p := range FleetPhases {
		qs = append(qs, query{fleetKey{"phase", string(p)}, fmt.Sprintf("%s AND %s = '%s'", running, workflows.SAPhase.GetName(), p)})
	}
	for _, w := range FleetWaits {
		qs = append(qs, query{fleetKey{"waiting_on", string(w)}, fmt.Sprintf("%s AND %s = '%s'", running, workflows.SAWaitingOn.GetName(), w)})
	}
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		counts = map[fleetKey]int64{}
		failed int
		first  error
	)
	sem := make(chan struct{}, 4)
	for _, q := range qs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: q.q})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				if first == nil {
					first = fmt.Errorf("%s: %w", q.q, err)
				}
				return
			}
			counts[q.key] = resp.GetCount()
		})
	}
	wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gen != gen || f.client == nil {
		return // stopped or replaced meanwhile: nothing to report
	}
	f.cancel = nil
	for k, n := range counts {
		f.counts[k] = n
	}
	if failed > 0 {
		f.errors.Add(context.Background(), int64(failed))
		f.log.Warn("fleet gauges: visibility counts failed; the gauges keep their last counts", zap.Int("failed", failed), zap.Int("queries", len(qs)), zap.Error(first))
	}
}
