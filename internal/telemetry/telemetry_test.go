package telemetry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/telemetry/telemetrytest"
	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/workflows"
)

func setup(t *testing.T, opts Options) *Telemetry {
	t.Helper()
	tel, err := Setup(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

// fakeCloud answers ServiceState throttled until its throttles run out,
// DescribeEndpoint NotFound, DeleteEndpoint with an unclassified error;
// every other call panics (the embedded nil Provider).
type fakeCloud struct {
	cloud.Provider
	mu        sync.Mutex
	throttles int
}

func (f *fakeCloud) ServiceState(context.Context, cloud.EnvRef) (cloud.ServiceState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.throttles > 0 {
		f.throttles--
		return cloud.ServiceState{}, &cloud.Error{Kind: cloud.Retryable, Op: "ServiceState", Msg: "slow down", Throttled: true}
	}
	return cloud.ServiceState{OpenPorts: []int{443}}, nil
}

func (f *fakeCloud) DescribeEndpoint(_ context.Context, _ cloud.EnvRef, id string) (cloud.Endpoint, error) {
	return cloud.Endpoint{}, cloud.Errorf(cloud.NotFound, "DescribeEndpoint", "endpoint %s is gone", id)
}

func (f *fakeCloud) DeleteEndpoint(context.Context, cloud.EnvRef, string) error {
	return errors.New("connection reset by peer")
}

type fakeTracker struct{}

func (fakeTracker) Open(context.Context, ticket.OpenRequest) (ticket.Ticket, error) {
	return ticket.Ticket{Key: "PL-1"}, nil
}
func (fakeTracker) Comment(context.Context, ticket.Comment) error { return ticket.ErrNotFound }
func (fakeTracker) SetStatus(context.Context, string, ticket.Status) error {
	return fmt.Errorf("no transition to solved: %w", ticket.ErrConfig)
}

var ref = cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: "abcd1234efgh5", Environment: "production"}

// Every try of a throttled call is counted (the wrapper sits inside the
// throttling retry), each outcome under its own label; the ticket
// tracker's errors likewise.
func TestWrappersCountEveryCallByOutcome(t *testing.T) {
	tel := setup(t, Options{Metrics: true})
	p := cloud.RetryThrottled(tel.WrapProvider(&fakeCloud{throttles: 2}, "aws"), 4, time.Millisecond)
	ctx := t.Context()
	st, err := p.ServiceState(ctx, ref)
	require.NoError(t, err, "the third try succeeds")
	assert.Equal(t, []int{443}, st.OpenPorts, "the wrapper hands the answer through")
	_, err = p.DescribeEndpoint(ctx, ref, "vpce-1")
	assert.True(t, cloud.IsNotFound(err), "the wrapper hands the error through unchanged: %v", err)
	assert.Error(t, p.DeleteEndpoint(ctx, ref, "vpce-1"))

	tr := tel.WrapTracker(fakeTracker{}, "zendesk")
	tk, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme"})
	require.NoError(t, err)
	assert.Equal(t, "PL-1", tk.Key)
	assert.ErrorIs(t, tr.Comment(ctx, ticket.Comment{Ticket: "PL-1"}), ticket.ErrNotFound)
	assert.ErrorIs(t, tr.SetStatus(ctx, "PL-1", ticket.StatusSolved), ticket.ErrConfig)

	fams := telemetrytest.Scrape(t, tel.MetricsHandler())
	calls := "linkwright_cloud_api_calls_total"
	require.Equal(t, "COUNTER", fams.Type(calls), "exposed: %v", fams.Names("linkwright_"))
	assert.Equal(t, []string{"action", "outcome", "provider"}, fams.Labels(calls))
	for _, c := range []struct {
		action, outcome string
		n               float64
	}{{"ServiceState", OutcomeThrottled, 2}, {"ServiceState", OutcomeOK, 1}, {"DescribeEndpoint", OutcomeNotFound, 1}, {"DeleteEndpoint", OutcomeError, 1}} {
		n, _ := fams.Sum(calls, map[string]string{"provider": "aws", "action": c.action, "outcome": c.outcome})
		assert.Equal(t, c.n, n, "%s %s: %s", c.action, c.outcome, fams.String(calls))
	}
	dur := "linkwright_cloud_api_call_duration_seconds"
	require.Equal(t, "HISTOGRAM", fams.Type(dur))
	n, _ := fams.Sum(dur, map[string]string{"provider": "aws", "action": "ServiceState"})
	assert.Equal(t, 3.0, n, "one duration per try")
	assert.Equal(t, []string{"action", "provider"}, fams.Labels(dur))

	tcalls := "linkwright_ticket_api_calls_total"
	require.Equal(t, "COUNTER", fams.Type(tcalls))
	for action, outcome := range map[string]string{"Open": OutcomeOK, "Comment": OutcomeNotFound, "SetStatus": OutcomeConfig} {
		n, _ := fams.Sum(tcalls, map[string]string{"tracker": "zendesk", "action": action, "outcome": outcome})
		assert.Equal(t, 1.0, n, "%s: %s", action, fams.String(tcalls))
	}
	assert.Equal(t, "HISTOGRAM", fams.Type("linkwright_ticket_api_call_duration_seconds"))
	// No scope labels on any series.
	assert.NotContains(t, fams.Labels(calls), "otel_scope_name")
}

// The names the Temporal SDK and the workflows record through the
// client's metrics handler come out the Prometheus way: counters with
// _total, timers in seconds with _seconds and sensible buckets; the Go
// runtime and the process are there too.
func TestSDKHandlerNamesAsExposed(t *testing.T) {
	tel := setup(t, Options{Metrics: true})
	var o client.Options
	tel.ClientOptions(&o)
	require.NotNil(t, o.MetricsHandler)
	assert.Empty(t, o.Interceptors, "no tracing interceptor when tracing is off")
	h := o.MetricsHandler.WithTags(map[string]string{"workflow_type": workflows.EnablementWorkflow})
	h.WithTags(map[string]string{"gate": workflows.GateAcceptConnection}).Counter(workflows.MetricApprovals).Inc(1)
	h.WithTags(map[string]string{"gate": workflows.GateAdopt}).Counter(workflows.MetricRefusals).Inc(1)
	h.Counter(workflows.MetricDeadlinesAtRisk).Inc(1)
	h.Counter(workflows.MetricDeadlinesMissed).Inc(1)
	h.Timer(workflows.MetricTimeToLive).Record(36 * time.Hour) // a day and a half
	h.Counter("temporal_request").Inc(1)
	h.Timer("temporal_request_latency").Record(20 * time.Millisecond)

	fams := telemetrytest.Scrape(t, tel.MetricsHandler())
	for name, typ := range map[string]string{
		"linkwright_approvals_total": "COUNTER", "linkwright_refusals_total": "COUNTER",
		"linkwright_deadlines_at_risk_total": "COUNTER", "linkwright_deadlines_missed_total": "COUNTER",
		"linkwright_time_to_live_business_seconds": "HISTOGRAM",
		"temporal_request_total":                   "COUNTER", "temporal_request_latency_seconds": "HISTOGRAM",
		"go_goroutines": "GAUGE", "process_cpu_seconds_total": "COUNTER", "target_info": "GAUGE",
	} {
		assert.Equal(t, typ, fams.Type(name), "%s; exposed: %v %v", name, fams.Names("linkwright_"), fams.Names("temporal_"))
	}
	n, _ := fams.Sum("linkwright_approvals_total", map[string]string{"gate": workflows.GateAcceptConnection, "workflow_type": workflows.EnablementWorkflow})
	assert.Equal(t, 1.0, n)

	ttl := fams.Series("linkwright_time_to_live_business_seconds", nil)
	require.Len(t, ttl, 1)
	var bounds []float64
	for _, b := range ttl[0].GetHistogram().GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
		if b.GetUpperBound() == 86400 {
			assert.Zero(t, b.GetCumulativeCount(), "a day and a half is more than one business day")
		}
		if b.GetUpperBound() == 2*86400 {
			assert.Equal(t, uint64(1), b.GetCumulativeCount(), "and less than two")
		}
	}
	assert.Equal(t, businessDayBuckets, bounds[:15], "1 to 15 business days")

	lat := fams.Series("temporal_request_latency_seconds", nil)
	require.Len(t, lat, 1)
	assert.Equal(t, 0.001, lat[0].GetHistogram().GetBucket()[0].GetUpperBound(), "SDK latencies get sub-second buckets")
}

// Metrics off: the handler answers 404, the client options are left
// alone, the wrappers are the things wrapped.
func TestOffCostsNothing(t *testing.T) {
	tel := setup(t, Options{})
	var o client.Options
	tel.ClientOptions(&o)
	assert.Nil(t, o.MetricsHandler)
	assert.Empty(t, o.Interceptors)
	f := &fakeCloud{}
	assert.Same(t, cloud.Provider(f), tel.WrapProvider(f, "aws"))
	var tr ticket.Tracker = fakeTracker{}
	assert.Equal(t, tr, tel.WrapTracker(tr, "file"))
	assert.False(t, tel.Metrics())
	assert.False(t, tel.Tracing())
	var none *Telemetry
	assert.Same(t, cloud.Provider(f), none.WrapProvider(f, "aws"), "a nil Telemetry wraps nothing")
	none.ClientOptions(&o)
	none.StartFleet(nil)()
}

// Each cloud and ticket call is a span under the span of its context (the
// activity's, in a worker), named after the call, with its labels and
// its error.
func TestCallSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel := setup(t, Options{Tracing: true, TraceExporter: exp})
	require.True(t, tel.Tracing())
	require.False(t, tel.Metrics())
	var o client.Options
	tel.ClientOptions(&o)
	assert.Len(t, o.Interceptors, 1, "the tracing interceptor")
	assert.Nil(t, o.MetricsHandler, "metrics are off")

	ctx, parent := tel.Tracer().Start(t.Context(), "RunActivity:ReadServiceState")
	p := tel.WrapProvider(&fakeCloud{}, "azure")
	_, err := p.ServiceState(ctx, ref)
	require.NoError(t, err)
	_, err = p.DescribeEndpoint(ctx, ref, "pe-1")
	require.Error(t, err)
	require.ErrorIs(t, tel.WrapTracker(fakeTracker{}, "jira").Comment(ctx, ticket.Comment{Ticket: "PL-1"}), ticket.ErrNotFound)
	parent.End()

	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	root := byName["RunActivity:ReadServiceState"]
	for _, name := range []string{"cloud.ServiceState", "cloud.DescribeEndpoint", "ticket.Comment"} {
		s, ok := byName[name]
		require.True(t, ok, "span %s among %d", name, len(spans))
		assert.Equal(t, root.SpanContext.TraceID(), s.SpanContext.TraceID(), name)
		assert.Equal(t, root.SpanContext.SpanID(), s.Parent.SpanID(), "%s is a child of the activity's span", name)
	}
	attrs := map[string]string{}
	for _, a := range byName["cloud.DescribeEndpoint"].Attributes {
		attrs[string(a.Key)] = a.Value.Emit()
	}
	assert.Equal(t, "azure", attrs["provider"])
	assert.Equal(t, "DescribeEndpoint", attrs["action"])
	assert.Equal(t, OutcomeNotFound, attrs["outcome"])
	assert.Equal(t, codes.Error, byName["cloud.DescribeEndpoint"].Status.Code)
	assert.Equal(t, codes.Unset, byName["cloud.ServiceState"].Status.Code)
	assert.Equal(t, codes.Error, byName["ticket.Comment"].Status.Code)
}

// countingClient answers CountWorkflow from a function of the query and,
// like the real client, records a metric of its own through the client
// options' handler for each call: a new instrument each time, which the
// meter provider cannot create while it collects (a count made inside the
// gauges' callback would deadlock).
type countingClient struct {
	client.Client
	sdk     client.MetricsHandler
	mu      sync.Mutex
	queries []string
	answer  func(q string) (int64, error)
}

func (c *countingClient) CountWorkflow(_ context.Context, req *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error) {
	c.mu.Lock()
	c.queries = append(c.queries, req.GetQuery())
	n := len(c.queries)
	c.mu.Unlock()
	c.sdk.Counter(fmt.Sprintf("temporal_test_count_%d", n)).Inc(1)
	count, err := c.answer(req.GetQuery())
	if err != nil {
		return nil, err
	}
	return &workflowservice.CountWorkflowExecutionsResponse{Count: count}, nil
}

func (c *countingClient) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queries)
}

func sdkHandler(tel *Telemetry) client.MetricsHandler {
	var o client.Options
	tel.ClientOptions(&o)
	return o.MetricsHandler
}

// scrapeUntil scrapes until ok holds, for up to 10 seconds: the gauges
// count in the background, for the scrapes after the one that asks.
func scrapeUntil(t *testing.T, tel *Telemetry, what string, ok func(telemetrytest.Families) bool) telemetrytest.Families {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams := telemetrytest.Scrape(t, tel.MetricsHandler())
		if ok(fams) {
			return fams
		}
		require.True(t, time.Now().Before(deadline), "timed out waiting for %s: %s %s", what, fams.String("linkwright_links"), fams.String("linkwright_waits"))
		time.Sleep(5 * time.Millisecond)
	}
}

// The fleet gauges count running enablements and live links in
// visibility, per phase and per party waited on, at most once per refresh
// interval; a failed count is counted, logged, and leaves the gauge out
// (or at its last good value).
func TestFleetGauges(t *testing.T) {
	tel := setup(t, Options{Metrics: true, FleetRefresh: time.Hour})
	var fail atomic.Bool
	fail.Store(true)
	answer := func(q string) (int64, error) {
		switch {
		case !strings.Contains(q, "WorkflowType IN ('PrivateLinkEnablement', 'PrivateLinkLive') AND ExecutionStatus = 'Running'"):
			return 0, fmt.Errorf("unexpected query %s", q)
		case strings.HasSuffix(q, "PrivateLinkPhase = 'live'"):
			return 3, nil
		case strings.HasSuffix(q, "PrivateLinkPhase = 'degraded'") && fail.Load():
			return 0, errors.New("visibility unavailable")
		case strings.HasSuffix(q, "PrivateLinkWaitingOn = 'operator'"):
			return 2, nil
		}
		return 0, nil
	}
	c := &countingClient{sdk: sdkHandler(tel), answer: answer}
	fams := telemetrytest.Scrape(t, tel.MetricsHandler())
	assert.Empty(t, fams.Series("linkwright_links", nil), "not started: no figures")
	assert.Zero(t, c.count())

	stop := tel.StartFleet(c)
	fams = scrapeUntil(t, tel, "the first count", func(f telemetrytest.Families) bool {
		n, _ := f.Sum("linkwright_fleet_count_errors_total", nil)
		return n > 0
	})
	queries := len(FleetPhases) + len(FleetWaits)
	assert.Equal(t, queries, c.count(), "one count per phase and party")
	require.Equal(t, "GAUGE", fams.Type("linkwright_links"), "exposed: %v", fams.Names("linkwright_"))
	n, _ := fams.Sum("linkwright_links", map[string]string{"phase": "live"})
	assert.Equal(t, 3.0, n)
	n, ok := fams.Sum("linkwright_links", map[string]string{"phase": "awaiting-approval"})
	assert.True(t, ok, "phases with no link are reported as 0")
	assert.Zero(t, n)
	_, ok = fams.Sum("linkwright_links", map[string]string{"phase": "degraded"})
	assert.False(t, ok, "a phase whose count failed is left out")
	n, _ = fams.Sum("linkwright_waits", map[string]string{"waiting_on": "operator"})
	assert.Equal(t, 2.0, n)
	assert.Len(t, fams.Series("linkwright_waits", nil), len(FleetWaits))
	n, _ = fams.Sum("linkwright_fleet_count_errors_total", nil)
	assert.Equal(t, 1.0, n)
	assert.Equal(t, "COUNTER", fams.Type("temporal_test_count_1_total"), "the client's own metrics were recorded")

	fail.Store(false)
	for range 3 {
		fams = telemetrytest.Scrape(t, tel.MetricsHandler())
	}
	assert.Equal(t, queries, c.count(), "within the refresh interval a scrape counts nothing")
	_, ok = fams.Sum("linkwright_links", map[string]string{"phase": "degraded"})
	assert.False(t, ok)

	stop()
	fams = telemetrytest.Scrape(t, tel.MetricsHandler())
	assert.Empty(t, fams.Series("linkwright_links", nil), "stopped: no figures")

	// A short interval counts again at the next scrape; the failed phase is back.
	tel2 := setup(t, Options{Metrics: true, FleetRefresh: time.Nanosecond})
	c2 := &countingClient{sdk: sdkHandler(tel2), answer: answer}
	defer tel2.StartFleet(c2)()
	scrapeUntil(t, tel2, "a second count", func(f telemetrytest.Families) bool {
		_, ok := f.Sum("linkwright_links", map[string]string{"phase": "degraded"})
		return ok && c2.count() >= 2*queries
	})
}
