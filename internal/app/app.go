// Package app wires the configured ports into a Temporal worker on the
// privatelink task queue. The worker command and the tests share it.
package app

import (
	"context"
	"os"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/workflows"
)

// NewWorker wires the ports for cfg into a worker on the task queue and
// registers the workflows and activities. stop releases what it started.
func NewWorker(c client.Client, cfg config.Config, log *zap.Logger) (worker.Worker, func()) {
	simCloud := sim.Open(cfg.SimDir())
	listeners := simCloud.Listeners()
	listeners.OnError = func(addr string, err error) {
		log.Warn("simulated endpoint cannot listen", zap.String("addr", addr), zap.Error(err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	go listeners.Run(ctx, time.Second)

	w := worker.New(c, workflows.TaskQueue, worker.Options{
		// The cloud API budget is per account and region, shared by every
		// worker: the server enforces this limit across the task queue.
		TaskQueueActivitiesPerSecond: cfg.ActivitiesPerSecond,
		WorkerStopTimeout:            10 * time.Second,
	})
	w.RegisterWorkflow(workflows.PrivateLinkEnablement)
	w.RegisterWorkflow(workflows.PrivateLinkReverseLink)
	w.RegisterActivity(&activities.Activities{
		Cloud:   simCloud,
		Tracker: ticket.NewFile(cfg.TicketDir()),
		Prober:  simCloud.Prober(listeners, 5*time.Second),
		Policy:  policySource(cfg, log),
	})
	return w, cancel
}

// policySource re-reads the config so that a changed approver list reaches
// running workflows at their next gate; a broken file keeps the last good one.
func policySource(cfg config.Config, log *zap.Logger) func() config.Policy {
	var mu sync.Mutex
	last := cfg.Policy
	return func() config.Policy {
		mu.Lock()
		defer mu.Unlock()
		if os.Getenv("LINKWRIGHT_CONFIG") == "" {
			return last
		}
		fresh, err := config.Load()
		if err != nil {
			log.Warn("config not reloaded; keeping the last good policy", zap.Error(err))
			return last
		}
		last = fresh.Policy
		return last
	}
}
