package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// cloudCallsBenchmark is the lead's Go benchmark in package workflows
// (time-skipping test environment): a real server cannot skip a week.
// cloudCallsTest is the time-skipping test that counts the cloud calls of
// a whole enablement whose customer acts after an hour and after a week
// (package workflows); it logs its figures, which this section reads.
const cloudCallsTest = "TestEnablement/TestCloudCallsPerWait"

// cloudCallsLine is the test's figure line.
var cloudCallsLine = regexp.MustCompile(`cloud calls per enablement: 1-hour wait (\d+), 7-day wait (\d+)`)

type callsResult struct {
	Missing bool     `json:"missing"`
	Metrics []metric `json:"metrics,omitempty"`
	Output  string   `json:"output"`
}

// metric is one figure of a benchmark line: "BenchmarkX/sub-2  1  123 ns/op  4.0 calls/1h-wait".
type metric struct {
	Benchmark string  `json:"benchmark"`
	Unit      string  `json:"unit"`
	Value     float64 `json:"value"`
}

func (b *bench) sectionCloudCalls(ctx context.Context) error {
	b.printf("\n== 5. Cloud calls per enablement for a 1-hour and a 7-day wait (%s) ==\n", cloudCallsTest)
	res := &callsResult{}
	b.res.CloudCalls = res
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	run := exec.CommandContext(rctx, "go", "test", "-count=1", "-v", "-run", cloudCallsTest, "./workflows/")
	run.Dir = root
	var buf bytes.Buffer
	run.Stdout, run.Stderr = &buf, &buf
	err = run.Run()
	res.Output = buf.String()
	m := cloudCallsLine.FindStringSubmatch(res.Output)
	if m == nil {
		res.Missing = true
		b.logf("%s printed no figures: %v", cloudCallsTest, err)
		return nil
	}
	for i, unit := range []string{"calls/enablement (1-hour wait)", "calls/enablement (7-day wait)"} {
		v, _ := strconv.ParseFloat(m[i+1], 64)
		res.Metrics = append(res.Metrics, metric{Benchmark: cloudCallsTest, Unit: unit, Value: v})
		b.logf("%s: %g", unit, v)
	}
	return err
}

// parseBenchmark reads the figures of `go test -bench` output lines.
func parseBenchmark(out string) []metric {
	var ms []metric
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			ms = append(ms, metric{Benchmark: f[0], Unit: f[i+1], Value: v})
		}
	}
	return ms
}
