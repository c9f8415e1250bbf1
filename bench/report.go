package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/linkwright/linkwright/internal/config"
)

// results are every figure, as -out writes them.
type results struct {
	Started    time.Time         `json:"started"`
	Took       string            `json:"took"`
	Options    options           `json:"options"`
	Throughput *throughputResult `json:"throughput,omitempty"`
	Approval   *approvalResult   `json:"approval,omitempty"`
	Fleet      []fleetLevel      `json:"fleet,omitempty"`
	Throttling *throttleResult   `json:"throttling,omitempty"`
	CloudCalls *callsResult      `json:"cloudCalls,omitempty"`
	Errors     []string          `json:"errors,omitempty"`
}

// latency summarises samples, in milliseconds.
type latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50Ms"`
	P90 float64 `json:"p90Ms"`
	P99 float64 `json:"p99Ms"`
	Max float64 `json:"maxMs"`
	Min float64 `json:"minMs"`
}

func stats(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	ms := make([]float64, len(ds))
	for i, d := range ds {
		ms[i] = float64(d) / float64(time.Millisecond)
	}
	slices.Sort(ms)
	q := func(p float64) float64 {
		// nearest rank
		i := int(math.Ceil(p*float64(len(ms)))) - 1
		return ms[min(max(i, 0), len(ms)-1)]
	}
	return latency{N: len(ms), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: ms[len(ms)-1], Min: ms[0]}
}

func (l latency) String() string {
	if l.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("n=%d p50 %s p90 %s p99 %s max %s", l.N, ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max))
}

func ms(v float64) string {
	if math.Abs(v) >= 10000 {
		return fmt.Sprintf("%.1fs", v/1000)
	}
	return fmt.Sprintf("%.0fms", v)
}

func defaultAcceptBudget() float64 { return config.Default().Budgets.Accept }

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// table prints rows aligned under a header.
func (b *bench) table(header string, rows [][]string) {
	tw := tabwriter.NewWriter(b.out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  "+header)
	for _, r := range rows {
		fmt.Fprintln(tw, "  "+strings.Join(r, "\t"))
	}
	tw.Flush()
}

func (b *bench) printThroughput() {
	r := b.res.Throughput
	if r == nil {
		return
	}
	b.printf("\n1. Throughput and CPU, %d interleaved rounds of %d bidirectional enablements driven to their live link, and of %d no-ops of the same shape\n", b.o.Rounds, b.o.N, b.o.N)
	b.printf("   (setup budgets of %g activities/s per task queue, the simulated cloud not throttling: the worker's and the server's capacity, not the cloud's)\n", b.o.SetupBudget)
	var rows [][]string
	for i, rd := range r.Rounds {
		rows = append(rows, []string{fmt.Sprint(i/2 + 1), rd.Kind, fmt.Sprintf("%.1f", rd.Seconds), fmt.Sprintf("%.2f", rd.PerSecond),
			fmt.Sprintf("%.1f", rd.WorkerCPU), fmt.Sprintf("%.1f", rd.ServerCPU), fmt.Sprintf("%.3f", rd.CPUPerWorkflow),
			fmt.Sprintf("%.1f", rd.Events), fmt.Sprintf("%.1f", rd.Bytes/1024), fmt.Sprintf("%.1f", rd.LiveEvents), fmt.Sprint(rd.Failed)})
	}
	b.table("ROUND\tKIND\tSECONDS\tPER SECOND\tWORKER CPU s\tSERVER CPU s\tCPU s PER WORKFLOW\tEVENTS (RUN+CHILD)\tKiB (RUN+CHILD)\tLIVE RUN EVENTS\tFAILED", rows)
	b.printf("   enablements/s %.2f   no-ops/s %.2f\n", r.RealPerSecond, r.NoopPerSecond)
	b.printf("   CPU s per workflow (worker + dev server): enablement %.3f   no-op %.3f   ratio %.2f\n", r.RealCPU, r.NoopCPU, r.CPURatio)
	var wr, wn, sr, sn, nr, nn float64
	for _, rd := range r.Rounds {
		if rd.Kind == "real" {
			wr, sr, nr = wr+rd.WorkerCPU/float64(rd.N), sr+rd.ServerCPU/float64(rd.N), nr+1
		} else {
			wn, sn, nn = wn+rd.WorkerCPU/float64(rd.N), sn+rd.ServerCPU/float64(rd.N), nn+1
		}
	}
	if nr > 0 && nn > 0 {
		b.printf("     of which the worker: enablement %.3f   no-op %.3f;   the dev server: enablement %.3f   no-op %.3f\n", wr/nr, wn/nn, sr/nr, sn/nn)
	}
	b.printf("   idle (measured before the rounds, included above): worker %.3f CPU-s/s, dev server %.3f CPU-s/s\n", r.IdleWorker, r.IdleServer)
	b.printf("   history events per workflow (run + reverse child): enablement %.1f   no-op %.1f\n", r.RealEvents, r.NoopEvents)
	for _, part := range []string{"enablement", "reverse child", "live run"} {
		real, noop := r.Shapes["real/"+part], r.Shapes["noop/"+part]
		if real == nil && noop == nil {
			continue
		}
		b.printf("\n   Shape of the %s (mean per workflow): real vs no-op\n", part)
		var rows [][]string
		for _, k := range shapeRows(real, noop) {
			mark := ""
			if math.Abs(real[k]-noop[k]) > 0.05 {
				mark = "differs"
			}
			rows = append(rows, []string{k, fmt.Sprintf("%.1f", real[k]), fmt.Sprintf("%.1f", noop[k]), mark})
		}
		b.table("KIND OF EVENT\tREAL\tNO-OP\t", rows)
	}
}

func (b *bench) printApproval() {
	r := b.res.Approval
	if r == nil {
		return
	}
	b.printf("\n2. Approval latency: %d approvals sent one at a time, %d enablements waiting on customers in the background (setup %.0fs)\n", r.Accept.N, r.Background, r.SetupSeconds)
	b.printf("   from the approve update returning (client) to the call it lets through reaching the cloud (worker's records); shipped budgets, the cloud throttling\n")
	rows := [][]string{{"accept-connection -> AcceptConnections", fmt.Sprint(r.Accept.N), ms(r.Accept.P50), ms(r.Accept.P90), ms(r.Accept.P99), ms(r.Accept.Max)}}
	if r.Reverse != nil {
		rows = append(rows, []string{"create-reverse-endpoint -> CreateEndpoint", fmt.Sprint(r.Reverse.N), ms(r.Reverse.P50), ms(r.Reverse.P90), ms(r.Reverse.P99), ms(r.Reverse.Max)})
	}
	b.table("GATE -> CALL\tN\tP50\tP90\tP99\tMAX", rows)
	if r.Note != "" {
		b.printf("   note: %s\n", r.Note)
	}
}

func (b *bench) printFleet() {
	if len(b.res.Fleet) == 0 {
		return
	}
	b.printf("\n3. Fleet: K enablements waiting on their customers (polling) and K live links (hourly health checks)\n")
	b.printf("   setup on raised budgets; RSS and goroutines of that worker once settled (no forced GC); latencies on a worker restarted with the shipped budgets, the cloud throttling\n")
	var rows [][]string
	for _, l := range b.res.Fleet {
		status := "settled"
		if l.Incomplete != "" {
			status = "INCOMPLETE: " + l.Incomplete
		}
		rows = append(rows, []string{fmt.Sprint(l.K), fmt.Sprint(l.Waiting), fmt.Sprint(l.Live), fmt.Sprintf("%.0f", l.SetupSeconds),
			fmt.Sprintf("%.0f", mib(l.WorkerRSS)), fmt.Sprint(l.Goroutines), fmt.Sprintf("%.0f", mib(l.MeasureRSS)), fmt.Sprint(l.MeasureGoroutines),
			fmt.Sprintf("%.0f", mib(l.ServerRSS)),
			ms(l.FirstCall.P50), ms(l.FirstCall.P99), ms(l.Accept.P50), ms(l.Accept.P99), status})
	}
	b.table("K\tWAITING\tLIVE\tSETUP s\tWORKER RSS MiB\tGOROUTINES\tMEASURE RSS MiB\tMEASURE GOROUTINES\tSERVER RSS MiB\tFIRST CALL P50\tP99\tAPPROVAL->ACCEPT P50\tP99\tSTATUS", rows)
}

func (b *bench) printThrottling() {
	r := b.res.Throttling
	if r == nil {
		return
	}
	b.printf("\n4. Throttling: %d enablements at gate accept-connection, every approve update sent at once (accept budget %g/s; the simulated cloud's EC2-like buckets)\n", r.N, r.AcceptBudget)
	rows := [][]string{
		{"accepts carried out", fmt.Sprintf("%d of %d", r.Accepted, r.N)},
		{"time for all approve updates to return", fmt.Sprintf("%.1fs", r.UpdatesSeconds)},
		{"time for all accepts to complete", fmt.Sprintf("%.1fs (median accept %s after the first approval)", r.AcceptsSeconds, ms(r.AcceptLatencyP50))},
		{"AcceptConnections calls reaching the cloud", fmt.Sprint(r.AcceptCalls)},
		{"throttled answers of the simulated cloud", fmt.Sprintf("%d (AcceptConnections: %d)", r.SimThrottled, r.AcceptThrottled)},
		{"throttle errors absorbed by the provider-side retry", fmt.Sprint(r.Absorbed)},
		{"throttle errors surfaced as activity failures", fmt.Sprint(r.Surfaced)},
		{"approve updates that failed", fmt.Sprint(r.UpdateErrors)},
		{"workflows failed", fmt.Sprint(r.WorkflowsFailed)},
	}
	b.table("FIGURE\tVALUE", rows)
	if r.Note != "" {
		b.printf("   note: %s\n", r.Note)
	}
}

func (b *bench) printCloudCalls() {
	r := b.res.CloudCalls
	if r == nil {
		return
	}
	b.printf("\n5. Cloud calls per enablement for a 1-hour and a 7-day wait (TestEnablement/TestCloudCallsPerWait, package workflows, time-skipping test environment)\n")
	if r.Missing {
		b.printf("   MISSING: %s\n", r.Output)
		return
	}
	if len(r.Metrics) == 0 {
		b.printf("   the benchmark printed no figures:\n%s\n", indent(r.Output))
		return
	}
	var rows [][]string
	for _, m := range r.Metrics {
		rows = append(rows, []string{m.Benchmark, m.Unit, fmt.Sprintf("%g", m.Value)})
	}
	b.table("BENCHMARK\tUNIT\tVALUE", rows)
}

// report prints every section's table, in order.
func (b *bench) report() {
	b.printf("\n==================== Linkwright benchmark figures (took %s) ====================\n", b.res.Took)
	b.printThroughput()
	b.printApproval()
	b.printFleet()
	b.printThrottling()
	b.printCloudCalls()
	for _, e := range b.res.Errors {
		b.printf("\nERROR %s\n", e)
	}
	b.printf("\n")
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "   " + l
	}
	return strings.Join(lines, "\n")
}
