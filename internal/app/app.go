// Package app wires the configured ports into a Temporal worker on the
// privatelink task queue. The worker command and the tests share it.
package app

import (
	"context"
	"os"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/alibaba"
	"github.com/linkwright/linkwright/internal/cloud/aws"
	"github.com/linkwright/linkwright/internal/cloud/azure"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/telemetry"
	"github.com/linkwright/linkwright/internal/ticket"
	ghtracker "github.com/linkwright/linkwright/internal/ticket/github"
	"github.com/linkwright/linkwright/internal/ticket/jira"
	"github.com/linkwright/linkwright/internal/ticket/servicenow"
	"github.com/linkwright/linkwright/internal/ticket/zendesk"
	"github.com/linkwright/linkwright/workflows"
)

// Option changes what NewWorker wires.
type Option func(*options)

type options struct {
	prober     activities.Prober
	provider   cloud.Provider
	deployment worker.DeploymentOptions
	// dataConverter decodes memos read through the client.
	dataConverter converter.DataConverter
	telemetry     *telemetry.Telemetry // telemetry.go
}

// WithDataConverter is the converter the workflows' payloads are in (the
// client's: encrypted when keys are set), for the memos activities read.
func WithDataConverter(dc converter.DataConverter) Option {
	return func(o *options) { o.dataConverter = dc }
}

// WithDeployment runs every worker as a Worker Deployment Version
// (deployment.go).
func WithDeployment(d worker.DeploymentOptions) Option { return func(o *options) { o.deployment = d } }

// WorkerStopTimeout is how long a stopping worker lets running activities
// finish; a container's grace period must be longer.
const WorkerStopTimeout = 10 * time.Second

// WithProvider replaces the configured cloud provider (tests use it to
// reach a provider wired to an emulator's transport).
func WithProvider(p cloud.Provider) Option { return func(o *options) { o.provider = p } }

// WithProber replaces the connectivity prober (tests use it to reach
// endpoints an emulator only pretends to create).
func WithProber(p activities.Prober) Option { return func(o *options) { o.prober = p } }

// NewWorker wires the ports for cfg into a worker on the task queue and
// registers the workflows and activities. stop releases what it started.
func NewWorker(c client.Client, cfg config.Config, log *zap.Logger, opts ...Option) (worker.Worker, func(), error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var provider cloud.Provider
	var prober activities.Prober
	switch {
	case o.provider != nil:
		provider, prober = o.provider, probe.New()
	case cfg.Cloud == "azure":
		azOpts, err := azure.ParseOptions(cfg.Azure)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		p, err := azure.New(azOpts)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		provider, prober = p, probe.New()
	case cfg.Cloud == "alibaba":
		aliOpts, err := alibaba.ParseOptions(cfg.Alibaba)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		p, err := alibaba.New(aliOpts)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		provider, prober = p, probe.New()
	case cfg.Cloud == "aws":
		awsOpts, err := aws.ParseOptions(cfg.AWS)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		p, err := aws.New(ctx, awsOpts)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		provider, prober = p, probe.New()
	default:
		simCloud := sim.Open(cfg.SimDir())
		listeners := simCloud.Listeners()
		listeners.OnError = func(addr string, err error) {
			log.Warn("simulated endpoint cannot listen", zap.String("addr", addr), zap.Error(err))
		}
		go listeners.Run(ctx, time.Second)
		// The simulated cloud throttles like the real ones, so that the
		// budgets are tested where they are used.
		provider, prober = sim.NewThrottle(simCloud), simCloud.Prober(listeners, 5*time.Second)
	}
	if o.prober != nil {
		prober = o.prober
	}
	provider = o.telemetry.WrapProvider(provider, cfg.Cloud) // each try counted: inside the retry
	provider = cloud.RetryThrottled(provider, throttleTries, throttleBackoff)
	tracker, err := newTracker(cfg)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	tracker = o.telemetry.WrapTracker(tracker, cfg.Tracker)
	context.AfterFunc(ctx, o.telemetry.StartFleet(c)) // the fleet gauges count until stop
	if cfg.StickyCacheSize > 0 {
		// Process-wide in the SDK; it applies to workers created after it.
		worker.SetStickyWorkflowCacheSize(cfg.StickyCacheSize)
	}
	interceptors := []interceptor.WorkerInterceptor{&activities.Heartbeats{}, &workflows.Routing{}}
	ws := &Workers{Worker: worker.New(c, workflows.TaskQueue, worker.Options{
		// Ticket calls and probes; the cloud's budgets are the per-class
		// task queues' below. The server enforces each limit across
		// every worker of the task queue.
		TaskQueueActivitiesPerSecond: cfg.ActivitiesPerSecond,
		WorkerStopTimeout:            WorkerStopTimeout,
		Interceptors:                 interceptors,
		DeploymentOptions:            o.deployment,
	})}
	budgets := map[activities.Class]float64{activities.ClassRead: cfg.Budgets.Read, activities.ClassPoll: cfg.Budgets.Poll,
		activities.ClassMutate: cfg.Budgets.Mutate, activities.ClassAccept: cfg.Budgets.Accept}
	for _, class := range activities.CloudClasses {
		ws.classes = append(ws.classes, worker.New(c, activities.Queue(workflows.TaskQueue, class), worker.Options{
			TaskQueueActivitiesPerSecond: budgets[class],
			WorkerStopTimeout:            WorkerStopTimeout,
			Interceptors:                 interceptors,
			DeploymentOptions:            o.deployment,
			// These queues carry activities only.
			DisableWorkflowWorker: true,
		}))
	}
	ws.RegisterWorkflow(workflows.PrivateLinkEnablement)
	ws.RegisterWorkflow(workflows.PrivateLinkReverseLink)
	ws.RegisterWorkflow(workflows.PrivateLinkLive)
	ws.RegisterWorkflow(workflows.PrivateLinkChange)
	ws.RegisterWorkflow(workflows.PrivateLinkTeardown)
	ws.RegisterActivity(&activities.Activities{
		Cloud:   provider,
		Tracker: tracker,
		Prober:  prober,
		Policy:  policySource(cfg, log),
		// The enablement reads its reverse link's status from the server.
		Workflows: activities.ClientMemo{Client: c, DataConverter: o.dataConverter},
	})
	return ws, cancel, nil
}

// A throttled call is tried again within the activity this many times in
// all, backing off from throttleBackoff, before the activity's own retry
// policy takes over.
const (
	throttleTries   = 4
	throttleBackoff = 200 * time.Millisecond
)

// Workers are the worker of the workflows' task queue (workflows, ticket
// calls, probes) and one worker per class of cloud call, each on its own
// task queue with its own budget (activities.Queue). Workflows register on
// the first; activities on all, so any of them may run any activity.
type Workers struct {
	worker.Worker
	classes []worker.Worker
}

// RegisterActivity registers a on every task queue.
func (ws *Workers) RegisterActivity(a any) {
	ws.Worker.RegisterActivity(a)
	for _, w := range ws.classes {
		w.RegisterActivity(a)
	}
}

// RegisterActivityWithOptions registers a on every task queue.
func (ws *Workers) RegisterActivityWithOptions(a any, options activity.RegisterOptions) {
	ws.Worker.RegisterActivityWithOptions(a, options)
	for _, w := range ws.classes {
		w.RegisterActivityWithOptions(a, options)
	}
}

// Start starts every worker; none is left running when one fails.
func (ws *Workers) Start() error {
	if err := ws.Worker.Start(); err != nil {
		return err
	}
	for i, w := range ws.classes {
		if err := w.Start(); err != nil {
			for _, started := range ws.classes[:i] {
				started.Stop()
			}
			ws.Worker.Stop()
			return err
		}
	}
	return nil
}

// Stop stops every worker, letting running activities finish.
func (ws *Workers) Stop() {
	var wg sync.WaitGroup
	for _, w := range append([]worker.Worker{ws.Worker}, ws.classes...) {
		wg.Add(1)
		go func() { defer wg.Done(); w.Stop() }()
	}
	wg.Wait()
}

// Run starts every worker and stops them all when interruptCh delivers.
func (ws *Workers) Run(interruptCh <-chan any) error {
	if err := ws.Start(); err != nil {
		return err
	}
	<-interruptCh
	ws.Stop()
	return nil
}

// newTracker is the configured ticket tracker.
func newTracker(cfg config.Config) (ticket.Tracker, error) {
	switch cfg.Tracker {
	case "zendesk":
		o, err := zendesk.ParseOptions(cfg.Zendesk)
		if err != nil {
			return nil, err
		}
		return zendesk.New(o), nil
	case "github":
		o, err := ghtracker.ParseOptions(cfg.GitHub)
		if err != nil {
			return nil, err
		}
		return ghtracker.New(o)
	case "jira":
		o, err := jira.ParseOptions(cfg.Jira)
		if err != nil {
			return nil, err
		}
		return jira.New(o), nil
	case "servicenow":
		o, err := servicenow.ParseOptions(cfg.ServiceNow)
		if err != nil {
			return nil, err
		}
		return servicenow.New(o), nil
	}
	return ticket.NewFile(cfg.TicketDir()), nil
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
