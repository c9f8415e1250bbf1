package telemetry

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/ticket"
)

// Instrument names as the meter knows them. The Prometheus exporter adds
// the suffixes: _total on counters, _seconds on histograms in seconds, so
// that linkwright_cloud_api_calls is exposed as
// linkwright_cloud_api_calls_total (telemetry_test.go and the integration
// test in worker/ check the exposed names).
const (
	instCloudCalls     = "linkwright_cloud_api_calls"
	instCloudDuration  = "linkwright_cloud_api_call_duration"
	instTicketCalls    = "linkwright_ticket_api_calls"
	instTicketDuration = "linkwright_ticket_api_call_duration"
)

// Call outcomes, the outcome label: bounded, so that a label never carries
// an error message.
const (
	OutcomeOK           = "ok"
	OutcomeThrottled    = "throttled"     // the cloud said slow down
	OutcomeNotFound     = "not_found"     // cloud.NotFound, ticket.ErrNotFound
	OutcomeAccessDenied = "access_denied" // cloud.AccessDenied
	OutcomeInvalid      = "invalid"       // cloud.Invalid
	OutcomeConflict     = "conflict"      // cloud.Conflict
	OutcomeRetryable    = "retryable"     // cloud.Retryable other than throttling (5xx, eventual consistency)
	OutcomeConfig       = "config"        // ticket.ErrConfig
	OutcomeCanceled     = "canceled"      // the caller's context ended (activity cancelled or timed out)
	OutcomeError        = "error"         // anything else (unclassified)
)

type instruments struct {
	cloudCalls, ticketCalls       metric.Int64Counter
	cloudDuration, ticketDuration metric.Float64Histogram
}

var callBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}

func (in *instruments) init(m metric.Meter) error {
	var errs [4]error
	in.cloudCalls, errs[0] = m.Int64Counter(instCloudCalls,
		metric.WithDescription("Cloud API calls made by this worker, each try of a throttled call counted, by provider, action and outcome."))
	in.cloudDuration, errs[1] = m.Float64Histogram(instCloudDuration, metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(callBuckets...),
		metric.WithDescription("Duration of one cloud API call (one try), by provider and action."))
	in.ticketCalls, errs[2] = m.Int64Counter(instTicketCalls,
		metric.WithDescription("Ticket tracker API calls made by this worker, by tracker, action and outcome."))
	in.ticketDuration, errs[3] = m.Float64Histogram(instTicketDuration, metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(callBuckets...),
		metric.WithDescription("Duration of one ticket tracker call, by tracker and action."))
	return errors.Join(errs[:]...)
}

// WrapProvider counts, times and traces every call of p, under the
// provider name (the config's cloud: sim, aws, azure, alibaba). Wrap the
// raw provider, inside cloud.RetryThrottled, so that each try is counted:
// what the cloud bills and throttles. The span is a child of the span in
// the call's context: the activity's, under the tracing interceptor.
func (t *Telemetry) WrapProvider(p cloud.Provider, provider string) cloud.Provider {
	if !t.Metrics() && !t.Tracing() {
		return p
	}
	return cloud.Wrap(p, func(ctx context.Context, ref cloud.EnvRef, op string, call func() error) error {
		return t.observe(ctx, "cloud."+op, t.inst.cloudCalls, t.inst.cloudDuration, cloudOutcome,
			[]attribute.KeyValue{attribute.String("provider", provider), attribute.String("action", op)},
			[]attribute.KeyValue{attribute.String("cloud.region", ref.Region), attribute.String("linkwright.project", ref.Project), attribute.String("linkwright.environment", ref.Environment)},
			call)
	})
}

// WrapTracker counts, times and traces every call of tr, under the
// tracker name (the config's tracker: file, zendesk, github, jira,
// servicenow).
func (t *Telemetry) WrapTracker(tr ticket.Tracker, tracker string) ticket.Tracker {
	if !t.Metrics() && !t.Tracing() {
		return tr
	}
	return &trackedTracker{t: t, next: tr, name: tracker}
}

type trackedTracker struct {
	t    *Telemetry
	next ticket.Tracker
	name string
}

func (w *trackedTracker) call(ctx context.Context, action string, span []attribute.KeyValue, call func() error) error {
	return w.t.observe(ctx, "ticket."+action, w.t.inst.ticketCalls, w.t.inst.ticketDuration, ticketOutcome,
		[]attribute.KeyValue{attribute.String("tracker", w.name), attribute.String("action", action)}, span, call)
}

func (w *trackedTracker) Open(ctx context.Context, req ticket.OpenRequest) (out ticket.Ticket, err error) {
	err = w.call(ctx, "Open", []attribute.KeyValue{attribute.String("ticket.key", req.Key)}, func() (e error) {
		out, e = w.next.Open(ctx, req)
		return
	})
	return
}

func (w *trackedTracker) Comment(ctx context.Context, c ticket.Comment) error {
	return w.call(ctx, "Comment", []attribute.KeyValue{attribute.String("ticket.key", c.Ticket), attribute.Bool("ticket.public", c.Public)},
		func() error { return w.next.Comment(ctx, c) })
}

func (w *trackedTracker) SetStatus(ctx context.Context, key string, s ticket.Status) error {
	return w.call(ctx, "SetStatus", []attribute.KeyValue{attribute.String("ticket.key", key), attribute.String("ticket.status", string(s))},
		func() error { return w.next.SetStatus(ctx, key, s) })
}

// observe runs call in a span named name (when traced) and counts it with
// labels (when measured). The span carries the labels and extra, and the
// error, if any. call closes over the caller's context: the span wraps the
// call, it is not passed into the cloud's SDK.
func (t *Telemetry) observe(ctx context.Context, name string, calls metric.Int64Counter, duration metric.Float64Histogram,
	outcome func(context.Context, error) string, labels, extra []attribute.KeyValue, call func() error) error {
	var span trace.Span
	if t.Tracing() {
		_, span = t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(labels...), trace.WithAttributes(extra...))
	}
	start := time.Now()
	err := call()
	elapsed := time.Since(start)
	out := outcome(ctx, err)
	if span != nil {
		span.SetAttributes(attribute.String("outcome", out))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
	if t.Metrics() {
		set := attribute.NewSet(labels...)
		duration.Record(ctx, elapsed.Seconds(), metric.WithAttributeSet(set))
		calls.Add(ctx, 1, metric.WithAttributeSet(attribute.NewSet(slices.Concat(labels, []attribute.KeyValue{attribute.String("outcome", out)})...)))
	}
	return err
}

func cloudOutcome(ctx context.Context, err error) string {
	if err == nil {
		return OutcomeOK
	}
	if cloud.IsThrottled(err) {
		return OutcomeThrottled
	}
	var ce *cloud.Error
	if errors.As(err, &ce) {
		switch ce.Kind {
		case cloud.NotFound:
			return OutcomeNotFound
		case cloud.AccessDenied:
			return OutcomeAccessDenied
		case cloud.Invalid:
			return OutcomeInvalid
		case cloud.Conflict:
			return OutcomeConflict
		case cloud.Retryable:
			return OutcomeRetryable
		}
	}
	if canceled(ctx, err) {
		return OutcomeCanceled
	}
	return OutcomeError
}

func ticketOutcome(ctx context.Context, err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, ticket.ErrNotFound):
		return OutcomeNotFound
	case errors.Is(err, ticket.ErrConfig):
		return OutcomeConfig
	case canceled(ctx, err):
		return OutcomeCanceled
	}
	return OutcomeError
}

func canceled(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
