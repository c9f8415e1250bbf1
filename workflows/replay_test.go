package workflows

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Recorded histories must replay on the current code: a change that would
// break running workflows fails here, before a new build takes over the
// waiting links (workers run auto-upgrade: internal/app/deployment.go).
//
// Every JSON file under testdata is a history and replays: the top level
// holds recordings of the current code; testdata/released/<version>/ holds
// those of each release (`make record-histories RELEASE=<version>`), kept
// for as long as runs of that release may still be open on a server. The
// "-before-live" files are from before an enablement continued as the live
// link. They are recorded by the integration tests
// (TestIntegrationBidirectionalEnablement and
// TestIntegrationLiveLinkLifeOnTheSimulatedCloud) with
// LINKWRIGHT_RECORD_HISTORY naming the directory.
func TestReplayRecordedHistories(t *testing.T) {
	var files []string
	require.NoError(t, filepath.WalkDir("testdata", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			files = append(files, path)
		}
		return err
	}))
	types := map[string]bool{}
	for _, file := range files {
		t.Run(strings.TrimPrefix(file, "testdata/"), func(t *testing.T) {
			f, err := os.Open(file)
			require.NoError(t, err)
			hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			f.Close()
			require.NoError(t, err)
			started := hist.Events[0].GetWorkflowExecutionStartedEventAttributes()
			require.NotNil(t, started, "a history starts with WorkflowExecutionStarted")
			types[started.GetWorkflowType().GetName()] = true
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(PrivateLinkEnablement)
			r.RegisterWorkflow(PrivateLinkReverseLink)
			r.RegisterWorkflow(PrivateLinkLive)
			r.RegisterWorkflow(PrivateLinkChange)
			r.RegisterWorkflow(PrivateLinkTeardown)
			// The workflows check their IDs, so replay each under the ID it
			// ran with (recorded in its first event).
			require.NotEmpty(t, started.GetWorkflowId())
			require.NoError(t, r.ReplayWorkflowHistoryWithOptions(nil, hist, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: started.GetWorkflowId()},
			}))
		})
	}
	// Every workflow type has a recording to hold it to.
	for _, typ := range []string{EnablementWorkflow, ReverseLinkWorkflow, LiveWorkflow, ChangeWorkflow, TeardownWorkflow} {
		require.True(t, types[typ], "no recorded history of %s in testdata", typ)
	}
	require.True(t, slices.ContainsFunc(files, func(f string) bool { return strings.HasPrefix(f, "testdata/released/") }),
		"no released histories under testdata/released/: record them with make record-histories RELEASE=<version>")
}
