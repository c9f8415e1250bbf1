package app

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/admin"
	"github.com/linkwright/linkwright/workflows"
)

// Readiness is what /readyz checks for a worker: its config loaded (it
// was, or the process would have stopped), the Temporal server answering,
// and the worker started and seen by the server polling the workflows'
// task queue under this process's identity.
type Readiness struct {
	client   client.Client
	identity string
	started  atomic.Bool
}

// NewReadiness checks c's server and the pollers of identity, the
// client's Identity (set one explicitly: the SDK's default is not
// readable back).
func NewReadiness(c client.Client, identity string) *Readiness {
	return &Readiness{client: c, identity: identity}
}

// Started records that the workers started.
func (r *Readiness) Started() { r.started.Store(true) }

// Checks are the admin server's readiness checks.
func (r *Readiness) Checks() []admin.Check {
	return []admin.Check{
		{Name: "config", Run: func(context.Context) error { return nil }},
		{Name: "temporal", Run: func(ctx context.Context) error {
			if _, err := r.client.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
				return fmt.Errorf("the Temporal server does not answer: %w", err)
			}
			return nil
		}},
		{Name: "polling", Run: r.polling},
	}
}

func (r *Readiness) polling(ctx context.Context) error {
	if !r.started.Load() {
		return errors.New("the worker has not started")
	}
	resp, err := r.client.DescribeTaskQueue(ctx, workflows.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return fmt.Errorf("cannot describe task queue %s: %w", workflows.TaskQueue, err)
	}
	for _, p := range resp.GetPollers() {
		if p.GetIdentity() == r.identity {
			return nil
		}
	}
	return fmt.Errorf("the server has not seen this worker (%s) poll task queue %s yet", r.identity, workflows.TaskQueue)
}
