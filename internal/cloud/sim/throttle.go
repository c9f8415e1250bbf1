package sim

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Bucket is one token bucket: Size tokens at most, Refill added a second.
type Bucket struct {
	Size   float64
	Refill float64
}

// Limits are a cloud's buckets by kind of call. Each API (provider
// method) of each cloud and region has its own bucket of its kind, as on
// EC2, where every API is throttled on its own.
type Limits struct {
	Describe, Mutate, Accept Bucket
}

// CloudLimits are the buckets the simulated cloud enforces, per cloud,
// after each cloud's documentation: EC2's request token buckets (100
// tokens refilled at 20 a second for describes, 50 at 5 for mutating
// calls), Azure Resource Manager's per-subscription buckets (250 at 25 for
// reads, 200 at 10 for writes) and Alibaba Cloud's per-API QPS limits
// (about 20 a second for reads, 10 for writes).
var CloudLimits = map[string]Limits{
	"aws":     {Describe: Bucket{100, 20}, Mutate: Bucket{50, 5}, Accept: Bucket{50, 5}},
	"azure":   {Describe: Bucket{250, 25}, Mutate: Bucket{200, 10}, Accept: Bucket{200, 10}},
	"alibaba": {Describe: Bucket{20, 20}, Mutate: Bucket{10, 10}, Accept: Bucket{10, 10}},
}

// throttleAnswer is how each cloud says "slow down".
var throttleAnswer = map[string]string{
	"aws":     "RequestLimitExceeded: Request limit exceeded.",
	"azure":   "429 TooManyRequests: the subscription's request limit is exhausted; retry after the Retry-After interval",
	"alibaba": "Throttling.User: Request was denied due to user flow control.",
}

// kindOfOp is the bucket kind of each provider method.
func kindOfOp(op string) string {
	switch op {
	case "OpenPorts", "ClosePorts", "AllowAccount", "RevokeAccount", "CreateEndpoint", "DeleteEndpoint":
		return "mutate"
	case "AcceptConnections", "RejectConnections":
		return "accept"
	}
	return "describe"
}

// Throttle is a provider (the simulated cloud, usually) behind the
// cloud's token buckets: a call finding its bucket empty is refused with
// the cloud's throttling error, and does nothing.
type Throttle struct {
	cloud.Provider
	// Now is the clock; tests may replace it.
	Now       func() time.Time
	limits    map[string]Limits
	mu        sync.Mutex
	buckets   map[string]*bucketState
	throttled atomic.Int64
}

type bucketState struct {
	tokens float64
	at     time.Time
}

// NewThrottle puts inner behind CloudLimits.
func NewThrottle(inner cloud.Provider) *Throttle {
	return NewThrottleWith(inner, CloudLimits)
}

// NewThrottleWith puts inner behind the given limits, by cloud; a cloud
// without limits is not throttled.
func NewThrottleWith(inner cloud.Provider, limits map[string]Limits) *Throttle {
	t := &Throttle{Now: time.Now, limits: limits, buckets: map[string]*bucketState{}}
	t.Provider = cloud.Wrap(inner, t.around)
	return t
}

// AcceptConnectionsWithBandwidth implements cloud.BandwidthAccepter when
// the provider behind does.
func (t *Throttle) AcceptConnectionsWithBandwidth(ctx context.Context, ref cloud.EnvRef, ids []string, mbps int) error {
	b, ok := t.Provider.(cloud.BandwidthAccepter)
	if !ok {
		return cloud.Errorf(cloud.Invalid, "AcceptConnections", "this cloud takes no bandwidth on accept")
	}
	return b.AcceptConnectionsWithBandwidth(ctx, ref, ids, mbps)
}

// Throttled counts the throttling answers given.
func (t *Throttle) Throttled() int64 { return t.throttled.Load() }

func (t *Throttle) around(_ context.Context, ref cloud.EnvRef, op string, call func() error) error {
	if !t.take(ref, op) {
		t.throttled.Add(1)
		return &cloud.Error{Kind: cloud.Retryable, Op: op, Msg: "throttled by the simulated cloud (" + throttleAnswer[ref.Cloud] + ")", Throttled: true}
	}
	return call()
}

// take spends a token from the bucket of ref's cloud and region for op.
func (t *Throttle) take(ref cloud.EnvRef, op string) bool {
	lim, ok := t.limits[ref.Cloud]
	if !ok {
		return true
	}
	var b Bucket
	switch kindOfOp(op) {
	case "mutate":
		b = lim.Mutate
	case "accept":
		b = lim.Accept
	default:
		b = lim.Describe
	}
	key := ref.Cloud + "/" + ref.Region + "/" + op
	now := t.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.buckets[key]
	if st == nil {
		st = &bucketState{tokens: b.Size, at: now}
		t.buckets[key] = st
	}
	st.tokens = min(b.Size, st.tokens+now.Sub(st.at).Seconds()*b.Refill)
	st.at = now
	if st.tokens < 1 {
		return false
	}
	st.tokens--
	return true
}
