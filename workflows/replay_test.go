package workflows

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Recorded histories must replay on the current code: a change that would
// break running workflows fails here. They are recorded by the integration
// tests (TestIntegrationBidirectionalEnablement and
// TestIntegrationLiveLinkLifeOnTheSimulatedCloud) with
// LINKWRIGHT_RECORD_HISTORY=$PWD/workflows/testdata. The "-before-live"
// files are from before an enablement continued as the live link: runs of
// that code may still be open on a server, so they replay too.
func TestReplayRecordedHistories(t *testing.T) {
	const id = "privatelink/abcd1234efgh5/production/aws"
	for _, h := range []struct{ file, id, workflowType string }{
		{"enablement-bidirectional-before-live.json", id, EnablementWorkflow},
		{"reverse-link-before-live.json", id + "/reverse", ReverseLinkWorkflow},
		{"enablement-bidirectional.json", id, EnablementWorkflow},
		{"reverse-link.json", id + "/reverse", ReverseLinkWorkflow},
		{"live.json", id, LiveWorkflow},
		{"change-add-port.json", id + "/change/1", ChangeWorkflow},
		{"teardown.json", id + "/teardown", TeardownWorkflow},
	} {
		t.Run(h.file, func(t *testing.T) {
			f, err := os.Open("testdata/" + h.file)
			require.NoError(t, err)
			hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			f.Close()
			require.NoError(t, err)
			started := hist.Events[0].GetWorkflowExecutionStartedEventAttributes()
			require.Equal(t, h.workflowType, started.GetWorkflowType().GetName(), "the recording is of the workflow it claims")
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(PrivateLinkEnablement)
			r.RegisterWorkflow(PrivateLinkReverseLink)
			r.RegisterWorkflow(PrivateLinkLive)
			r.RegisterWorkflow(PrivateLinkChange)
			r.RegisterWorkflow(PrivateLinkTeardown)
			// The workflows check their IDs, so replay each under the ID it ran with.
			require.NoError(t, r.ReplayWorkflowHistoryWithOptions(nil, hist, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: h.id},
			}))
		})
	}
}
