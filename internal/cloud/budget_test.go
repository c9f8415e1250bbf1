package cloud

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flaky throttles its first n calls.
type flaky struct {
	Provider
	n, calls int
}

func (f *flaky) OpenPorts(context.Context, EnvRef, []int) error {
	f.calls++
	if f.calls <= f.n {
		return &Error{Kind: Retryable, Op: "OpenPorts", Msg: "throttled", Throttled: true}
	}
	return nil
}

func (f *flaky) ClosePorts(context.Context, EnvRef, []int) error {
	f.calls++
	return Errorf(NotFound, "ClosePorts", "gone")
}

func TestRetryThrottled(t *testing.T) {
	ctx := context.Background()
	a0, s0 := ThrottleStats()

	f := &flaky{n: 2}
	require.NoError(t, RetryThrottled(f, 4, time.Millisecond).OpenPorts(ctx, EnvRef{}, []int{1}), "two throttles are absorbed")
	assert.Equal(t, 3, f.calls)
	a, s := ThrottleStats()
	assert.EqualValues(t, 2, a-a0)
	assert.EqualValues(t, 0, s-s0)

	f = &flaky{n: 10}
	err := RetryThrottled(f, 4, time.Millisecond).OpenPorts(ctx, EnvRef{}, []int{1})
	assert.True(t, IsThrottled(err), "beyond its tries the throttle surfaces, for the activity to retry")
	assert.Equal(t, 4, f.calls)
	_, s = ThrottleStats()
	assert.EqualValues(t, 1, s-s0)

	f = &flaky{}
	err = RetryThrottled(f, 4, time.Millisecond).ClosePorts(ctx, EnvRef{}, []int{1})
	assert.True(t, IsNotFound(err))
	assert.Equal(t, 1, f.calls, "other errors are not retried here")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	f = &flaky{n: 10}
	err = RetryThrottled(f, 4, time.Hour).OpenPorts(cctx, EnvRef{}, []int{1})
	assert.True(t, IsThrottled(err))
	assert.Equal(t, 1, f.calls, "a cancelled activity stops waiting")
	assert.False(t, errors.Is(err, context.Canceled))
}
