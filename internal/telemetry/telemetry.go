// Package telemetry is Linkwright's metrics and traces, both through
// OpenTelemetry: one SDK for Linkwright's own instruments and for the
// Temporal SDK's (go.temporal.io/sdk/contrib/opentelemetry), exposed to
// Prometheus on a registry of its own, and spans exported over OTLP when the
// standard OTEL_* variables say where.
//
// Nothing here is global: Setup returns a Telemetry that the worker wires
// into its client options (ClientOptions), its cloud provider and ticket
// tracker (WrapProvider, WrapTracker) and its fleet gauges (StartFleet).
// A nil *Telemetry wraps nothing and costs nothing.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/workflows"
)

// Options say what to set up.
type Options struct {
	// ServiceName and ServiceVersion name the process in the resource
	// (service.name, service.version); OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES override them.
	ServiceName    string
	ServiceVersion string
	// Metrics turns on the Prometheus registry (MetricsHandler), the
	// Temporal SDK's metrics and Linkwright's own.
	Metrics bool
	// Tracing turns on the tracing interceptor and spans around cloud and
	// ticket calls, exported over OTLP where the OTEL_EXPORTER_OTLP_*
	// variables name an endpoint (see TraceEnv). With no exporter, nothing
	// is traced and nothing is installed.
	Tracing bool
	// TraceExporter, when set, receives the spans instead of OTLP, each as
	// it ends (tests).
	TraceExporter sdktrace.SpanExporter
	// FleetRefresh is how often, at most, the fleet gauges count links in
	// Temporal visibility; 0 is DefaultFleetRefresh.
	FleetRefresh time.Duration
	// Logger logs what telemetry cannot do (a failed count); nil logs nothing.
	Logger *zap.Logger
}

// DefaultFleetRefresh is how often, at most, the fleet gauges query
// visibility when Options.FleetRefresh is 0.
const DefaultFleetRefresh = 30 * time.Second

// Telemetry is the process's metrics and traces.
type Telemetry struct {
	opts     Options
	log      *zap.Logger
	registry *prometheus.Registry
	meters   *sdkmetric.MeterProvider // nil when metrics are off
	meter    metric.Meter
	traces   *sdktrace.TracerProvider // nil when nothing is exported
	tracer   trace.Tracer
	tracing  interceptor.Interceptor // nil when nothing is exported
	sdk      client.MetricsHandler   // nil when metrics are off
	inst     instruments
	fleet    *fleetGauges
}

// propagator is W3C trace context (and baggage), the contrib module's
// default, set explicitly so that it does not depend on the global one.
var propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Setup builds what opts asks for. An OTLP setting it cannot use is an
// error naming the variable.
func Setup(ctx context.Context, opts Options) (*Telemetry, error) {
	if opts.FleetRefresh <= 0 {
		opts.FleetRefresh = DefaultFleetRefresh
	}
	t := &Telemetry{opts: opts, log: opts.Logger, meter: metricnoop.NewMeterProvider().Meter(scope), tracer: tracenoop.NewTracerProvider().Tracer(scope)}
	if t.log == nil {
		t.log = zap.NewNop()
	}
	if !opts.Metrics && !opts.Tracing {
		return t, nil
	}
	res, err := newResource(ctx, opts)
	if err != nil {
		return nil, err
	}
	if opts.Tracing {
		// A test's exporter gets each span as it ends; OTLP gets batches.
		var export sdktrace.TracerProviderOption
		if opts.TraceExporter != nil {
			export = sdktrace.WithSyncer(opts.TraceExporter)
		} else {
			exp, err := TraceEnv(ctx)
			if err != nil {
				return nil, err
			}
			if exp != nil {
				export = sdktrace.WithBatcher(exp)
			}
		}
		if export != nil {
			t.traces = sdktrace.NewTracerProvider(export, sdktrace.WithResource(res))
			t.tracer = t.traces.Tracer(scope)
			if t.tracing, err = temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
				Tracer: t.traces.Tracer("temporal-sdk-go"), TextMapPropagator: propagator,
			}); err != nil {
				_ = t.traces.Shutdown(ctx)
				return nil, err
			}
		}
	}
	if opts.Metrics {
		if err := t.setupMetrics(res); err != nil {
			if t.traces != nil {
				_ = t.traces.Shutdown(ctx)
			}
			return nil, err
		}
	}
	if err := t.inst.init(t.meter); err != nil {
		_ = t.Shutdown(ctx)
		return nil, err
	}
	if t.fleet, err = newFleetGauges(t.meter, opts.FleetRefresh, t.log); err != nil {
		_ = t.Shutdown(ctx)
		return nil, err
	}
	return t, nil
}

// scope is the instrumentation scope of Linkwright's own meter and tracer.
const scope = "github.com/linkwright/linkwright"

func newResource(ctx context.Context, opts Options) (*resource.Resource, error) {
	name := opts.ServiceName
	if name == "" {
		name = "linkwright"
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", name)}
	if opts.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", opts.ServiceVersion))
	}
	// Later detectors win: the environment overrides the options.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(attrs...), resource.WithFromEnv())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return res, nil
}

// Histogram buckets. The SDK's latencies are seconds from milliseconds to
// the long polls' minute; OpenTelemetry's default buckets (0 to 10000)
// are made for milliseconds and would put every SDK latency in one.
var (
	latencyBuckets     = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}
	businessDayBuckets = func() []float64 {
		out := make([]float64, 15)
		for i := range out {
			out[i] = float64(i+1) * 24 * 3600 // 1 to 15 business days, in seconds
		}
		return out
	}()
)

func (t *Telemetry) setupMetrics(res *resource.Resource) error {
	t.registry = prometheus.NewRegistry()
	if err := t.registry.Register(collectors.NewGoCollector()); err != nil {
		return err
	}
	if err := t.registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return err
	}
	// The exporter names series the Prometheus way: _total on counters, the
	// unit (seconds) as a suffix; scope labels are left out, since every
	// instrument's name already says whose it is.
	exp, err := otelprom.New(otelprom.WithRegisterer(t.registry), otelprom.WithoutScopeInfo())
	if err != nil {
		return err
	}
	// Views: buckets for the SDK's latencies and the time to live; help
	// text for what the workflows record (the SDK's handler has none).
	views := []sdkmetric.View{
		sdkmetric.NewView(sdkmetric.Instrument{Name: "temporal_*", Kind: sdkmetric.InstrumentKindHistogram},
			sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: latencyBuckets}}),
		sdkmetric.NewView(sdkmetric.Instrument{Name: workflows.MetricTimeToLive},
			sdkmetric.Stream{
				Description: "Time from an enablement's request to its link going live, counting Monday to Friday (UTC) only; 86400 is one business day.",
				Aggregation: sdkmetric.AggregationExplicitBucketHistogram{Boundaries: businessDayBuckets},
			}),
	}
	for name, help := range map[string]string{
		workflows.MetricApprovals:       "Approvals an approver made at an open gate, by gate (gates covered by an approved plan are not counted).",
		workflows.MetricRefusals:        "Rejections an approver made at an open gate, by gate.",
		workflows.MetricDeadlinesAtRisk: "Requests escalated to operators before their business-day target (the escalation milestone).",
		workflows.MetricDeadlinesMissed: "Requests done after their business-day target: an enablement going live, a change applied, a teardown complete.",
	} {
		views = append(views, sdkmetric.NewView(sdkmetric.Instrument{Name: name}, sdkmetric.Stream{Description: help}))
	}
	t.meters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res), sdkmetric.WithView(views...))
	t.meter = t.meters.Meter(scope)
	t.sdk = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: t.meters.Meter("temporal-sdk-go"),
		// Counters as counters (Prometheus _total), not up-down counters
		// (gauges), which is the contrib module's default.
		UseMonotonicCounters: true,
		// The default panics.
		OnError: func(err error) { t.log.Warn("temporal SDK metric not recorded", zap.Error(err)) },
	})
	return nil
}

// MetricsHandler serves the Prometheus exposition of this process's
// metrics (Linkwright's, the Temporal SDK's, Go runtime and process). With
// metrics off it answers 404.
func (t *Telemetry) MetricsHandler() http.Handler {
	if t == nil || t.registry == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "metrics are off", http.StatusNotFound)
		})
	}
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{Registry: t.registry})
}

// ClientOptions puts the Temporal SDK's metrics and the tracing
// interceptor into the client's options. Client interceptors apply to the
// workers made from the client too: every workflow, activity, signal,
// query and update is a span, in the trace of whoever started it.
func (t *Telemetry) ClientOptions(o *client.Options) {
	if t == nil {
		return
	}
	if t.sdk != nil {
		o.MetricsHandler = t.sdk
	}
	if t.tracing != nil {
		o.Interceptors = append(o.Interceptors, t.tracing)
	}
}

// Tracer is Linkwright's tracer: a no-op one unless spans are exported.
func (t *Telemetry) Tracer() trace.Tracer {
	if t == nil {
		return tracenoop.NewTracerProvider().Tracer(scope)
	}
	return t.tracer
}

// Tracing reports whether spans are recorded and exported.
func (t *Telemetry) Tracing() bool { return t != nil && t.traces != nil }

// Metrics reports whether metrics are recorded.
func (t *Telemetry) Metrics() bool { return t != nil && t.meters != nil }

// Shutdown flushes the spans not yet exported and stops the providers.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.traces != nil {
		errs = append(errs, t.traces.Shutdown(ctx))
	}
	if t.meters != nil {
		errs = append(errs, t.meters.Shutdown(ctx))
	}
	return errors.Join(errs...)
}
