package workflows

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The recorded histories of a completed bidirectional enablement and its
// reverse link (recorded by the integration test with
// LINKWRIGHT_RECORD_HISTORY=$PWD/workflows/testdata) must replay on the
// current code: a change that would break running workflows fails here.
func TestReplayRecordedBidirectionalEnablement(t *testing.T) {
	const id = "privatelink/abcd1234efgh5/production/aws"
	for file, wid := range map[string]string{"testdata/enablement-bidirectional.json": id, "testdata/reverse-link.json": id + "/reverse"} {
		f, err := os.Open(file)
		require.NoError(t, err)
		h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
		f.Close()
		require.NoError(t, err)
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflow(PrivateLinkEnablement)
		r.RegisterWorkflow(PrivateLinkReverseLink)
		// The workflows check their IDs, so replay each under the ID it ran with.
		require.NoError(t, r.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{
			OriginalExecution: workflow.Execution{ID: wid},
		}), file)
	}
}
