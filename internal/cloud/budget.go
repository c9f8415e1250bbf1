package cloud

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// Throttle counters of this process: throttling answers a retry got past
// (absorbed) and those handed on to the activity (surfaced), which the
// activity's own retries then take, at the cost of an attempt.
var throttles struct{ absorbed, surfaced atomic.Int64 }

// ThrottleStats reports this process's throttling answers: absorbed by
// RetryThrottled, and surfaced to the caller after its last try.
func ThrottleStats() (absorbed, surfaced int64) {
	return throttles.absorbed.Load(), throttles.surfaced.Load()
}

// RetryThrottled tries a throttled call again, up to attempts tries in
// all, after a backoff with full jitter that doubles from base: a
// throttled call was not carried out, so trying it again is safe, also for
// a mutation. The task queue budgets (config.Budgets) keep throttling
// rare; this absorbs the bursts the budgets let through, such as other
// tools spending from the same account. Other errors pass at once.
func RetryThrottled(p Provider, attempts int, base time.Duration) Provider {
	return Wrap(p, func(ctx context.Context, _ EnvRef, _ string, call func() error) error {
		wait := base
		for try := 1; ; try++ {
			err := call()
			if !IsThrottled(err) {
				return err
			}
			if try >= attempts {
				throttles.surfaced.Add(1)
				return err
			}
			throttles.absorbed.Add(1)
			t := time.NewTimer(rand.N(wait) + wait/2)
			select {
			case <-ctx.Done():
				t.Stop()
				throttles.surfaced.Add(1)
				return err
			case <-t.C:
			}
			wait *= 2
		}
	})
}
