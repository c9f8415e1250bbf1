package telemetry

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The standard OpenTelemetry variables Linkwright reads to decide whether
// and where spans go. The OTLP exporters read the rest themselves
// (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _CERTIFICATE, _INSECURE...);
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by
// resource.WithFromEnv (Setup).
const (
	EnvSDKDisabled    = "OTEL_SDK_DISABLED"
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	defaultProtocol   = "http/protobuf" // the specification's default
	protocolGRPC      = "grpc"
	protocolHTTP      = "http/protobuf"
	protocolHTTPJSON  = "http/json"
)

// TraceEnv is the OTLP span exporter the environment asks for, or nil when
// it asks for none: no endpoint variable set, or OTEL_SDK_DISABLED=true.
// The traces-specific variables win over the general ones. An endpoint
// that is not an http(s) URL, or a protocol other than grpc or
// http/protobuf, is an error naming the variable.
func TraceEnv(ctx context.Context) (sdktrace.SpanExporter, error) {
	if strings.EqualFold(strings.TrimSpace(os.Getenv(EnvSDKDisabled)), "true") {
		return nil, nil
	}
	endpointVar, endpoint := firstSet(EnvTracesEndpoint, EnvEndpoint)
	if endpoint == "" {
		return nil, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s=%q is not an OTLP endpoint: give a URL such as http://localhost:4318 (http/protobuf) or http://localhost:4317 (grpc)", endpointVar, endpoint)
	}
	protocolVar, protocol := firstSet(EnvTracesProtocol, EnvProtocol)
	if protocol == "" {
		protocol = defaultProtocol
	}
	var exp sdktrace.SpanExporter
	switch protocol {
	case protocolGRPC:
		exp, err = otlptracegrpc.New(ctx)
	case protocolHTTP:
		exp, err = otlptracehttp.New(ctx)
	case protocolHTTPJSON:
		return nil, fmt.Errorf("%s=%s is not supported by the Go OpenTelemetry SDK: use %s or %s", protocolVar, protocol, protocolHTTP, protocolGRPC)
	default:
		return nil, fmt.Errorf("%s=%q is not an OTLP protocol: use %s (the default) or %s", protocolVar, protocol, protocolHTTP, protocolGRPC)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter (%s=%s, %s): %w", endpointVar, endpoint, protocol, err)
	}
	return exp, nil
}

// firstSet returns the first of the variables that is set and not blank.
func firstSet(names ...string) (name, value string) {
	for _, n := range names {
		if v := strings.TrimSpace(os.Getenv(n)); v != "" {
			return n, v
		}
	}
	return names[len(names)-1], ""
}
