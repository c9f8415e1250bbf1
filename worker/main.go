// Command linkwright-worker runs the PrivateLink workflows and activities
// on the task queue "privatelink": config -> Temporal client -> register ->
// run. Temporal client settings come from the standard TEMPORAL_* variables
// and config profiles; Linkwright's own from LINKWRIGHT_CONFIG.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/logging"
	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/workflows"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "linkwright-worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	log := logging.New()
	defer log.Sync()
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return fmt.Errorf("temporal client settings: %w", err)
	}
	opts.Logger = logging.Temporal(log)
	c, err := client.Dial(opts)
	if err != nil {
		return fmt.Errorf("cannot reach Temporal at %s (start it with `make run`, or set TEMPORAL_ADDRESS): %w", orDefault(opts.HostPort, client.DefaultHostPort), err)
	}
	defer c.Close()
	w, stop := newWorker(c, cfg, log)
	defer stop()
	log.Info("worker starting", zap.String("taskQueue", workflows.TaskQueue), zap.String("cloud", cfg.Cloud),
		zap.String("tracker", cfg.Tracker), zap.String("stateDir", cfg.StateDir), zap.Strings("approvers", cfg.Policy.Approvers))
	if len(cfg.Policy.Approvers) == 0 {
		log.Warn("no approvers configured: every approval will be refused until policy.approvers is set in LINKWRIGHT_CONFIG")
	}
	// Run stops on SIGINT or SIGTERM, letting running activities finish.
	return w.Run(worker.InterruptCh())
}

// newWorker wires the ports for cfg into a worker on the task queue and
// registers the workflows and activities. stop releases what it started.
func newWorker(c client.Client, cfg config.Config, log *zap.Logger) (worker.Worker, func()) {
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

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
