package workflows

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The recorded history of a completed bidirectional enablement (recorded by
// the integration test with LINKWRIGHT_RECORD_HISTORY=$PWD/workflows/testdata)
// must replay on the current code: a change that would break running
// workflows fails here.
func TestReplayRecordedBidirectionalEnablement(t *testing.T) {
	f, err := os.Open("testdata/enablement-bidirectional.json")
	require.NoError(t, err)
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflow(PrivateLinkEnablement)
	r.RegisterWorkflow(PrivateLinkReverseLink)
	// The workflow checks its ID against the request, so replay it under
	// the ID it ran with.
	require.NoError(t, r.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: "privatelink/abcd1234efgh5/production/aws"},
	}))
}
