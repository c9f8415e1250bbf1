package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The benchmark starts this test binary again as its worker process.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) != "" {
		os.Exit(workerMain(nil))
	}
	os.Exit(m.Run())
}

// The whole benchmark, at -quick sizes, against the dev server
// (LINKWRIGHT_TEMPORAL): every section prints figures, and those that
// cannot be zero are not. No figure is compared with a time.
func TestBenchQuick(t *testing.T) {
	temporal := os.Getenv("LINKWRIGHT_TEMPORAL")
	if temporal == "" || testing.Short() {
		if os.Getenv("LINKWRIGHT_REQUIRE_INTEGRATION") != "" {
			t.Fatal("LINKWRIGHT_TEMPORAL is not set: run `make test`, which builds bin/temporal and sets it")
		}
		t.Skip("integration test: needs the Temporal dev server; run `make test` (it builds bin/temporal)")
	}
	out := filepath.Join(t.TempDir(), "figures.json")
	var stdout, stderr bytes.Buffer
	code := benchMain([]string{"-quick", "-temporal", temporal, "-out", out}, &stdout, &stderr)
	t.Log(stdout.String())
	require.Equal(t, 0, code, "exit code; stderr: %s", stderr.String())

	text := stdout.String()
	for _, header := range []string{"1. Throughput and CPU", "2. Approval latency", "3. Fleet", "4. Throttling", "5. Cloud calls per enablement"} {
		assert.Contains(t, text, "\n"+header, "section printed")
	}
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	var r results
	require.NoError(t, json.Unmarshal(data, &r))
	assert.Empty(t, r.Errors)

	tp := r.Throughput
	require.NotNil(t, tp)
	assert.Len(t, tp.Rounds, 2*r.Options.Rounds, "interleaved rounds of each kind")
	for _, rd := range tp.Rounds {
		assert.Zero(t, rd.Failed, "round of %s", rd.Kind)
		assert.Positive(t, rd.PerSecond)
		assert.Positive(t, rd.WorkerCPU+rd.ServerCPU)
		assert.Positive(t, rd.Events)
	}
	assert.Positive(t, tp.RealPerSecond)
	assert.Positive(t, tp.NoopPerSecond)
	assert.Positive(t, tp.RealCPU)
	assert.Positive(t, tp.NoopCPU)
	assert.Positive(t, tp.CPURatio)
	for _, part := range []string{"enablement", "reverse child", "live run"} {
		real, noop := tp.Shapes["real/"+part], tp.Shapes["noop/"+part]
		require.NotEmpty(t, real, part)
		require.NotEmpty(t, noop, part)
		for k, v := range real {
			if strings.HasPrefix(k, "activity ") || strings.HasPrefix(k, "child ") || strings.HasPrefix(k, "update ") || strings.HasPrefix(k, "continue-as-new") {
				assert.InDelta(t, v, noop[k], 0.5, "%s: %s, real vs no-op", part, k)
			}
		}
	}
	assert.Contains(t, tp.Shapes["real/enablement"], "child PrivateLinkReverseLink")
	assert.Positive(t, tp.Shapes["real/enablement"]["update approve"])

	ap := r.Approval
	require.NotNil(t, ap)
	assert.Equal(t, r.Options.Approvals, ap.Accept.N)
	assert.NotZero(t, ap.Accept.Max)
	require.NotNil(t, ap.Reverse, ap.Note)
	assert.Equal(t, r.Options.Approvals, ap.Reverse.N)

	require.Len(t, r.Fleet, len(r.Options.Levels))
	for _, lv := range r.Fleet {
		assert.Empty(t, lv.Incomplete)
		assert.GreaterOrEqual(t, lv.Waiting, int64(lv.K))
		assert.GreaterOrEqual(t, lv.Live, int64(lv.K))
		assert.Positive(t, lv.WorkerRSS)
		assert.Positive(t, lv.Goroutines)
		assert.Positive(t, lv.MeasureRSS)
		assert.Positive(t, lv.ServerRSS)
		assert.Equal(t, r.Options.Samples, lv.FirstCall.N)
		assert.Equal(t, r.Options.Samples, lv.Accept.N)
	}

	th := r.Throttling
	require.NotNil(t, th)
	assert.Equal(t, th.N, th.Accepted, th.Note)
	assert.GreaterOrEqual(t, th.AcceptCalls, int64(th.N))
	assert.Positive(t, th.AcceptsSeconds)
	assert.Zero(t, th.UpdateErrors)
	assert.Zero(t, th.WorkflowsFailed)

	cc := r.CloudCalls
	require.NotNil(t, cc)
	if !cc.Missing {
		assert.NotEmpty(t, cc.Metrics, cc.Output)
	}
}
