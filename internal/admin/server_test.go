package admin

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

func TestHealthAndReadiness(t *testing.T) {
	var temporalUp atomic.Bool
	var runs atomic.Int32
	s := &Server{CacheFor: time.Hour, Checks: []Check{
		{Name: "config", Run: func(context.Context) error { return nil }},
		{Name: "temporal", Run: func(context.Context) error {
			runs.Add(1)
			if !temporalUp.Load() {
				return errors.New("no answer")
			}
			return nil
		}},
	}}
	h := s.Handler()

	code, body := get(t, h, HealthzPath)
	assert.Equal(t, http.StatusOK, code, "liveness does not depend on the checks")
	assert.Equal(t, "ok\n", body)

	code, body = get(t, h, ReadyzPath)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, `"temporal":"no answer"`)
	assert.Contains(t, body, `"config":"ok"`)

	// The answer is cached: a second probe within CacheFor runs nothing.
	temporalUp.Store(true)
	code, _ = get(t, h, ReadyzPath)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.EqualValues(t, 1, runs.Load())

	// New checks are run at the next probe.
	s.SetChecks(s.Checks)
	code, body = get(t, h, ReadyzPath)
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"ready":true`)

	s.Stopping()
	code, body = get(t, h, ReadyzPath)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "stopping")

	code, _ = get(t, h, MetricsPath)
	assert.Equal(t, http.StatusNotFound, code, "no metrics handler: no /metrics")
}

func TestMetricsPath(t *testing.T) {
	s := &Server{Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("linkwright_up 1\n")) })}
	code, body := get(t, s.Handler(), MetricsPath)
	require.Equal(t, http.StatusOK, code)
	assert.True(t, strings.HasPrefix(body, "linkwright_up"))
}
