package telemetry

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.temporal.io/sdk/client"
)

func clearOTLPEnv(t *testing.T) {
	for _, v := range []string{EnvSDKDisabled, EnvEndpoint, EnvTracesEndpoint, EnvProtocol, EnvTracesProtocol, "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"} {
		t.Setenv(v, "")
	}
}

func TestTraceEnv(t *testing.T) {
	for _, c := range []struct {
		name   string
		env    map[string]string
		export bool
		err    string // a part of the error, naming the variable
	}{
		{name: "nothing set: no exporter"},
		{name: "endpoint, default protocol", env: map[string]string{EnvEndpoint: "http://localhost:4318"}, export: true},
		{name: "traces endpoint only", env: map[string]string{EnvTracesEndpoint: "https://collector.example/v1/traces"}, export: true},
		{name: "grpc", env: map[string]string{EnvEndpoint: "http://localhost:4317", EnvProtocol: "grpc"}, export: true},
		{name: "traces protocol wins", env: map[string]string{EnvEndpoint: "http://localhost:4317", EnvProtocol: "bogus", EnvTracesProtocol: "grpc"}, export: true},
		{name: "disabled", env: map[string]string{EnvEndpoint: "http://localhost:4318", EnvSDKDisabled: "true"}},
		{name: "disabled, any case", env: map[string]string{EnvEndpoint: "http://localhost:4318", EnvSDKDisabled: "TRUE"}},
		{name: "not disabled by false", env: map[string]string{EnvEndpoint: "http://localhost:4318", EnvSDKDisabled: "false"}, export: true},
		{name: "bad protocol", env: map[string]string{EnvEndpoint: "http://localhost:4318", EnvProtocol: "thrift"}, err: `OTEL_EXPORTER_OTLP_PROTOCOL="thrift" is not an OTLP protocol`},
		{name: "bad traces protocol", env: map[string]string{EnvEndpoint: "http://localhost:4318", EnvTracesProtocol: "udp"}, err: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{name: "json", env: map[string]string{EnvEndpoint: "http://localhost:4318", EnvProtocol: "http/json"}, err: "OTEL_EXPORTER_OTLP_PROTOCOL=http/json is not supported"},
		{name: "endpoint without scheme", env: map[string]string{EnvEndpoint: "localhost:4318"}, err: `OTEL_EXPORTER_OTLP_ENDPOINT="localhost:4318" is not an OTLP endpoint`},
		{name: "bad traces endpoint", env: map[string]string{EnvEndpoint: "http://localhost:4318", EnvTracesEndpoint: "ftp://x"}, err: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			clearOTLPEnv(t)
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			exp, err := TraceEnv(t.Context())
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			if !c.export {
				assert.Nil(t, exp)
				return
			}
			require.NotNil(t, exp)
			assert.IsType(t, &otlptrace.Exporter{}, exp)
			require.NoError(t, exp.Shutdown(context.Background()))
		})
	}
}

// Setup turns tracing on only where spans go somewhere; a bad setting
// fails Setup with the variable's name.
func TestSetupTracingFromEnv(t *testing.T) {
	clearOTLPEnv(t)
	tel := setup(t, Options{Tracing: true, Metrics: true})
	assert.False(t, tel.Tracing(), "no endpoint: nothing traced")
	var o client.Options
	tel.ClientOptions(&o)
	assert.Empty(t, o.Interceptors, "no interceptor without an exporter: tracing costs nothing")
	assert.NotNil(t, o.MetricsHandler)

	t.Setenv(EnvEndpoint, "http://127.0.0.1:1") // nothing listens; spans are dropped at export
	t.Setenv("OTEL_SERVICE_NAME", "linkwright-test")
	tel = setup(t, Options{Tracing: true, ServiceName: "linkwright-worker"})
	assert.True(t, tel.Tracing())
	o = client.Options{}
	tel.ClientOptions(&o)
	assert.Len(t, o.Interceptors, 1)

	t.Setenv(EnvProtocol, "zipkin")
	_, err := Setup(t.Context(), Options{Tracing: true})
	require.ErrorContains(t, err, EnvProtocol)
	_, err = Setup(t.Context(), Options{Metrics: true})
	assert.NoError(t, err, "without tracing the OTLP variables are not read")
}

// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the options'
// names, in target_info.
func TestResourceFromEnv(t *testing.T) {
	clearOTLPEnv(t)
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging,service.version=9.9")
	t.Setenv("OTEL_SERVICE_NAME", "linkwright-eu")
	res, err := newResource(t.Context(), Options{ServiceName: "linkwright-worker", ServiceVersion: "1.0"})
	require.NoError(t, err)
	attrs := map[string]string{}
	for _, kv := range res.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	assert.Equal(t, "linkwright-eu", attrs["service.name"])
	assert.Equal(t, "9.9", attrs["service.version"])
	assert.Equal(t, "staging", attrs["deployment.environment"])

	clearOTLPEnv(t)
	res, err = newResource(t.Context(), Options{ServiceName: "linkwright-worker", ServiceVersion: "1.0"})
	require.NoError(t, err)
	attrs = map[string]string{}
	for _, kv := range res.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	assert.Equal(t, "linkwright-worker", attrs["service.name"])
	assert.Equal(t, "1.0", attrs["service.version"])
}
