package sim

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
)

// The simulated cloud answers like EC2 once a bucket is empty: a
// RequestLimitExceeded that is retryable, marked throttled, and did
// nothing; the bucket refills with time, and other APIs keep their own.
func TestThrottleEnforcesTokenBuckets(t *testing.T) {
	c := Open(t.TempDir())
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	th := NewThrottleWith(c, map[string]Limits{"aws": {Describe: Bucket{3, 1}, Mutate: Bucket{2, 1}, Accept: Bucket{2, 1}}})
	th.Now = func() time.Time { return now }
	ref := cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: "abcd1234efgh5", Environment: "production"}
	ctx := context.Background()

	for range 3 {
		_, err := th.Environment(ctx, ref)
		require.NoError(t, err)
	}
	_, err := th.Environment(ctx, ref)
	require.Error(t, err)
	assert.True(t, cloud.IsThrottled(err), "an empty bucket throttles: %v", err)
	assert.True(t, cloud.IsRetryable(err))
	assert.Contains(t, err.Error(), "RequestLimitExceeded")
	assert.EqualValues(t, 1, th.Throttled())

	// Another API has its own bucket.
	_, err = th.ServiceState(ctx, ref)
	require.NoError(t, err)

	// A throttled mutation changes nothing.
	require.NoError(t, th.OpenPorts(ctx, ref, []int{1001}))
	require.NoError(t, th.OpenPorts(ctx, ref, []int{1002}))
	err = th.OpenPorts(ctx, ref, []int{1003})
	require.True(t, cloud.IsThrottled(err))
	now = now.Add(time.Second) // one token back
	st, err := th.ServiceState(ctx, ref)
	require.NoError(t, err)
	assert.Contains(t, st.OpenPorts, 1002)
	assert.NotContains(t, st.OpenPorts, 1003, "the throttled call did nothing")
	require.NoError(t, th.OpenPorts(ctx, ref, []int{1003}), "the bucket refilled")

	// A cloud without limits is not throttled.
	free := NewThrottleWith(c, map[string]Limits{})
	for range 10 {
		_, err := free.Environment(ctx, ref)
		require.NoError(t, err)
	}
}
