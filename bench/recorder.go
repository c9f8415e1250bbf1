package main

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/linkwright/linkwright/internal/cloud"
)

// recorder wraps the provider the worker's activities call (below the
// provider-side throttle retry that app.NewWorker adds, above the
// simulated cloud and its throttle): it counts every call per method and
// records, per link, when calls reached the cloud. Times are wall-clock
// Unix nanoseconds, comparable with the benchmark process's on the same
// machine.
type recorder struct {
	mu    sync.Mutex
	calls map[string]*callCount
	links map[string]*linkRecord
}

// callCount is what one provider method saw.
type callCount struct {
	Calls     int64 `json:"calls"`     // every call that reached the wrapper
	OK        int64 `json:"ok"`        // answered without error
	Throttled int64 `json:"throttled"` // answered with the cloud's throttling error
	Errors    int64 `json:"errors"`    // any other error (NotYet polls are not errors: they answer)
}

// linkRecord is when one link's calls reached the cloud.
type linkRecord struct {
	// First is the first call of any method for the link, FirstMethod its method.
	First       int64  `json:"first,omitempty"`
	FirstMethod string `json:"firstMethod,omitempty"`
	// AcceptFirst is the first AcceptConnections call (throttled or not),
	// AcceptOK the first that the cloud carried out.
	AcceptFirst int64 `json:"acceptFirst,omitempty"`
	AcceptOK    int64 `json:"acceptOk,omitempty"`
	// CreateFirst and CreateOK are the same for CreateEndpoint.
	CreateFirst int64 `json:"createFirst,omitempty"`
	CreateOK    int64 `json:"createOk,omitempty"`
}

func newRecorder() *recorder {
	return &recorder{calls: map[string]*callCount{}, links: map[string]*linkRecord{}}
}

// wrap puts the recorder around p.
func (r *recorder) wrap(p cloud.Provider) cloud.Provider { return cloud.Wrap(p, r.around) }

func (r *recorder) around(_ context.Context, ref cloud.EnvRef, op string, call func() error) error {
	at := time.Now().UnixNano()
	r.mu.Lock()
	lr := r.links[ref.Project]
	if lr == nil {
		lr = &linkRecord{First: at, FirstMethod: op}
		r.links[ref.Project] = lr
	}
	switch op {
	case "AcceptConnections":
		if lr.AcceptFirst == 0 {
			lr.AcceptFirst = at
		}
	case "CreateEndpoint":
		if lr.CreateFirst == 0 {
			lr.CreateFirst = at
		}
	}
	r.mu.Unlock()

	err := call()

	r.mu.Lock()
	defer r.mu.Unlock()
	cc := r.calls[op]
	if cc == nil {
		cc = &callCount{}
		r.calls[op] = cc
	}
	cc.Calls++
	switch {
	case err == nil:
		cc.OK++
		switch op {
		case "AcceptConnections":
			if lr.AcceptOK == 0 {
				lr.AcceptOK = at
			}
		case "CreateEndpoint":
			if lr.CreateOK == 0 {
				lr.CreateOK = at
			}
		}
	case cloud.IsThrottled(err):
		cc.Throttled++
	default:
		cc.Errors++
	}
	return err
}

// snapshotCalls copies the per-method counts.
func (r *recorder) snapshotCalls() map[string]callCount {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]callCount, len(r.calls))
	for k, v := range r.calls {
		out[k] = *v
	}
	return out
}

// recordsOf copies the records of the links named (all when none is).
func (r *recorder) recordsOf(projects []string) map[string]linkRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]linkRecord{}
	if len(projects) == 0 {
		for k, v := range r.links {
			out[k] = *v
		}
		return out
	}
	for _, p := range projects {
		if v := r.links[p]; v != nil {
			out[p] = *v
		}
	}
	return out
}

// methods lists the methods seen, sorted.
func methods(m map[string]callCount) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
