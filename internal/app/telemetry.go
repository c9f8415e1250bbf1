package app

import "github.com/linkwright/linkwright/internal/telemetry"

// WithTelemetry measures and traces the worker with t (nil: nothing):
// every cloud call (each try, inside the throttling retry) and ticket call
// is counted, timed and, when spans are exported, a span under its
// activity's; the fleet gauges count links through the worker's client
// until the worker's stop. The client's own metrics and tracing
// interceptor come from t.ClientOptions, set before the client is dialled.
func WithTelemetry(t *telemetry.Telemetry) Option { return func(o *options) { o.telemetry = t } }
