package cloud

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAWSStateIgnoresCase(t *testing.T) {
	for in, want := range map[string]State{
		"pendingAcceptance": StatePendingAcceptance, // what the API answers
		"PendingAcceptance": StatePendingAcceptance, // the Go SDK's constant
		"pending":           StateProvisioning,
		"Available":         StateAvailable,
		"rejected":          StateRejected,
		"Failed":            StateFailed,
		"expired":           StateExpired,
		"deleting":          StateDeleting,
		"Deleted":           StateDeleted,
		"partial":           StateUnknown,
	} {
		assert.Equal(t, want, AWSState(in), in)
	}
}

func TestAzureStateDiffersFromAWS(t *testing.T) {
	assert.Equal(t, StatePendingAcceptance, AzureState("Pending"), "Azure's Pending waits for approval")
	assert.Equal(t, StateProvisioning, AWSState("pending"), "AWS's pending is already accepted")
	assert.Equal(t, StateAvailable, AzureState("Approved"))
	assert.Equal(t, StateDisconnected, AzureState("Disconnected"))
	assert.True(t, AzureState("Rejected").Terminal())
	assert.False(t, StatePendingAcceptance.Terminal())
}

func TestErrorKinds(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", Errorf(AccessDenied, "AllowAccount", "missing ec2:ModifyVpcEndpointServicePermissions"))
	assert.Equal(t, AccessDenied, KindOf(err))
	assert.False(t, IsRetryable(err))
	assert.Contains(t, err.Error(), "AllowAccount: missing")
	assert.True(t, IsRetryable(errors.New("connection reset")), "unclassified errors are worth a retry")
	assert.False(t, IsRetryable(nil))
	assert.True(t, IsNotFound(Errorf(NotFound, "X", "gone")))
}
