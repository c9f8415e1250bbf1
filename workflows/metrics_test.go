package workflows

import (
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// captured records what the workflows record through the SDK's metrics
// handler: counters' sums and timers' values, by name and tags.
type captured struct {
	mu     sync.Mutex
	counts map[string]int64
	timers map[string][]time.Duration
}

type captureHandler struct {
	c    *captured
	tags map[string]string
}

func newCapture() (*captured, client.MetricsHandler) {
	c := &captured{counts: map[string]int64{}, timers: map[string][]time.Duration{}}
	return c, captureHandler{c: c, tags: map[string]string{}}
}

func (h captureHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := map[string]string{}
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[k] = v
	}
	return captureHandler{c: h.c, tags: merged}
}

// key is name{gate=...}: the SDK's own tags are left out.
func (h captureHandler) key(name string) string {
	var kv []string
	for k, v := range h.tags {
		if k == "gate" { // the test environment sets no workflow_type
			kv = append(kv, k+"="+v)
		}
	}
	sort.Strings(kv)
	return name + "{" + strings.Join(kv, ",") + "}"
}

func (h captureHandler) Counter(name string) client.MetricsCounter {
	return counterFunc{h, h.key(name)}
}
func (h captureHandler) Gauge(string) client.MetricsGauge      { return client.MetricsNopHandler.Gauge("") }
func (h captureHandler) Timer(name string) client.MetricsTimer { return timerFunc{h, h.key(name)} }

type counterFunc struct {
	h   captureHandler
	key string
}

func (c counterFunc) Inc(n int64) {
	if !strings.HasPrefix(c.key, "linkwright_") {
		return // the SDK's own
	}
	c.h.c.mu.Lock()
	defer c.h.c.mu.Unlock()
	c.h.c.counts[c.key] += n
}

type timerFunc struct {
	h   captureHandler
	key string
}

func (t timerFunc) Record(d time.Duration) {
	if !strings.HasPrefix(t.key, "linkwright_") {
		return
	}
	t.h.c.mu.Lock()
	defer t.h.c.mu.Unlock()
	t.h.c.timers[t.key] = append(t.h.c.timers[t.key], d)
}

// linkwright returns what was recorded under Linkwright's names.
func (c *captured) linkwright() (map[string]int64, map[string][]time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	counts, timers := map[string]int64{}, map[string][]time.Duration{}
	for k, v := range c.counts {
		counts[k] = v
	}
	for k, v := range c.timers {
		timers[k] = v
	}
	return counts, timers
}

// metricsRun runs one scenario of the enablement suite with a capturing
// metrics handler: scenario schedules what happens and starts the run.
func metricsRun(t *testing.T, scenario func(s *EnablementSuite)) (map[string]int64, map[string][]time.Duration) {
	t.Helper()
	s := new(EnablementSuite)
	s.SetT(t)
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError + 1}))))
	c, h := newCapture()
	s.SetMetricsHandler(h)
	s.SetupTest()
	scenario(s)
	return c.linkwright()
}

const enablementTags = "{}"

func TestWorkflowMetrics(t *testing.T) {
	t.Run("an enablement live on time", func(t *testing.T) {
		counts, timers := metricsRun(t, func(s *EnablementSuite) {
			s.at(time.Hour, s.customerConnects)
			s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
			s.at(3*time.Hour, s.customerConfirms)
			s.start(uniRequest())
			require.NoError(t, s.runError())
			require.Equal(t, OutcomeCompleted, s.result().Outcome)
		})
		assert.Equal(t, map[string]int64{MetricApprovals + "{gate=" + GateAcceptConnection + "}": 1}, counts,
			"one approval; nothing refused, at risk or missed")
		ttl := timers[MetricTimeToLive+enablementTags]
		require.Len(t, ttl, 1)
		assert.InDelta(t, 3*time.Hour, ttl[0], float64(time.Hour), "live about three hours after the request, on a Monday")
	})

	t.Run("a refusal", func(t *testing.T) {
		counts, timers := metricsRun(t, func(s *EnablementSuite) {
			s.at(time.Hour, s.customerConnects)
			s.at(2*time.Hour, func() {
				s.update(Reject, Rejection{Gate: GateAcceptConnection, Approver: alice, Reason: "not the customer's account"})
			})
			s.start(uniRequest())
			require.Equal(t, OutcomeRejected, s.result().Outcome)
		})
		assert.Equal(t, map[string]int64{MetricRefusals + "{gate=" + GateAcceptConnection + "}": 1}, counts)
		assert.Empty(t, timers, "never live")
	})

	t.Run("an enablement at risk, then late", func(t *testing.T) {
		// Monday + 8 days is the Tuesday after: six business days, one
		// past the five-day target; escalation came on day four.
		late := 8 * 24 * time.Hour
		counts, timers := metricsRun(t, func(s *EnablementSuite) {
			s.at(late, s.customerConnects)
			s.atWhen(late+time.Hour, gateOpen(GateAcceptConnection), func() { s.approve(GateAcceptConnection, alice) })
			s.atWhen(late+2*time.Hour, inPhase(PhaseAwaitingConfirmation), s.customerConfirms)
			s.start(uniRequest())
			require.NoError(t, s.runError())
			require.Equal(t, OutcomeCompleted, s.result().Outcome)
		})
		assert.Equal(t, int64(1), counts[MetricDeadlinesAtRisk+enablementTags])
		assert.Equal(t, int64(1), counts[MetricDeadlinesMissed+enablementTags])
		ttl := timers[MetricTimeToLive+enablementTags]
		require.Len(t, ttl, 1)
		assert.Greater(t, ttl[0], 6*24*time.Hour, "six business days and some hours")
		assert.Less(t, ttl[0], 7*24*time.Hour, "the weekend does not count")
	})
}

func TestBusinessTime(t *testing.T) {
	friday := time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		from, to time.Time
		want     time.Duration
	}{
		{monday, monday.Add(3 * time.Hour), 3 * time.Hour},
		{friday, friday.Add(3*24*time.Hour - 6*time.Hour), 18 * time.Hour}, // Friday 16:00 to Monday 10:00
		{monday, addBusinessDays(monday, 5), 5 * 24 * time.Hour},
		{friday, addBusinessDays(friday, 1), 24 * time.Hour},
		{time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC), 0}, // a weekend
		{monday, monday, 0},
		{monday.Add(time.Hour), monday, 0},
	} {
		assert.Equal(t, c.want, businessTime(c.from, c.to), "%s to %s", c.from, c.to)
	}
}
