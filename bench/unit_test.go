package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/workflows"
)

func recorded(t *testing.T, name string) []*historypb.HistoryEvent {
	t.Helper()
	data, err := os.ReadFile("../workflows/testdata/" + name)
	require.NoError(t, err)
	var h historypb.History
	require.NoError(t, protojson.Unmarshal(data, &h))
	return h.Events
}

// The no-op's script has a step for every command and wait of the
// recorded enablement, in its order: one activity per activity scheduled,
// an await for every signal and update, the child, the continue-as-new.
func TestExtractScriptMirrorsTheRecordedEnablement(t *testing.T) {
	events := recorded(t, "enablement-bidirectional.json")
	s, children, err := extractScript("privatelink/abcd1234efgh5/production/aws", workflows.EnablementWorkflow, events)
	require.NoError(t, err)
	require.Equal(t, []childRef{{Suffix: "/reverse", ID: "privatelink/abcd1234efgh5/production/aws/reverse", Type: workflows.ReverseLinkWorkflow}}, children)

	want, got := shape{}, shape{}
	shapeOf(events, want)
	count := func(steps []Step) {
		for _, st := range steps {
			switch st.Op {
			case opActivity:
				got["activity "+st.Name]++
			case opAwaitSignal:
				got["signal received "+st.Name]++
			case opSignalOut:
				got["signal sent "+st.Name]++
			case opChild:
				got["child "+st.Name]++
			case opTimer:
				got["timer"]++
			case opLocal:
				got["marker LocalActivity"]++
			case opVersion:
				got["marker Version"]++
			case opMemo:
				got["memo upsert"]++
			case opContinue:
				got["continue-as-new "+st.Name]++
			}
		}
	}
	count(s.Steps)
	for _, u := range s.Updates {
		got["update "+u.Name]++
		count(u.Steps)
	}
	for k, v := range want {
		switch k {
		case "events", "workflow tasks", "search attribute upsert", "activity cancelled (poll cut short by a signal)":
			continue
		}
		assert.Equal(t, v, got[k], k)
	}
	gates := []string{}
	for _, u := range s.Updates {
		gates = append(gates, u.Gate)
	}
	assert.Contains(t, gates, workflows.GateAcceptConnection)
	assert.Contains(t, gates, workflows.GateCreateReverseEndpoint)
	assert.Equal(t, opContinue, s.Steps[len(s.Steps)-1].Op)

	child, _, err := extractScript("privatelink/abcd1234efgh5/production/aws/reverse", workflows.ReverseLinkWorkflow, recorded(t, "reverse-link.json"))
	require.NoError(t, err)
	var toParent int
	for _, st := range child.Steps {
		if st.Op == opSignalOut {
			assert.Equal(t, "parent", st.Target)
			toParent++
		}
	}
	assert.Positive(t, toParent)
}

func TestStatsNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := stats(ds)
	assert.Equal(t, latency{N: 100, P50: 50, P90: 90, P99: 99, Max: 100, Min: 1}, s)
	assert.Equal(t, latency{}, stats(nil))
}

func TestParseBenchmark(t *testing.T) {
	out := "goos: linux\nBenchmarkCloudCallsPerWait/1h-2   \t       1\t  123456 ns/op\t         6.000 calls/enablement\nPASS\n"
	assert.Equal(t, []metric{{"BenchmarkCloudCallsPerWait/1h-2", "ns/op", 123456}, {"BenchmarkCloudCallsPerWait/1h-2", "calls/enablement", 6}}, parseBenchmark(out))
}

// Each benchmark link has a simulated cloud of its own, where its
// project is the seeded one; answers name the link's own project.
func TestShardsRouteEachLinkToItsOwnCloud(t *testing.T) {
	s := newShards(t.TempDir(), 0)
	defer s.Close()
	ctx := context.Background()
	a := cloud.EnvRef{Cloud: benchCloud, Region: benchRegion, Project: enablementProject(1), Environment: benchEnv}
	b := a
	b.Project = enablementProject(2)
	env, err := s.Environment(ctx, a)
	require.NoError(t, err)
	assert.Equal(t, a, env.EnvRef)
	require.NoError(t, s.OpenPorts(ctx, a, []int{3306}))
	sa, err := s.ServiceState(ctx, a)
	require.NoError(t, err)
	sb, err := s.ServiceState(ctx, b)
	require.NoError(t, err)
	assert.Equal(t, []int{3306}, sa.OpenPorts)
	assert.Empty(t, sb.OpenPorts, "another link's cloud is untouched")
	p, ok := projectOfPort(customerPort(2))
	assert.True(t, ok)
	assert.Equal(t, enablementProject(2), p)
}
