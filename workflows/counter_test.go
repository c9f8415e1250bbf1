package workflows

import (
	"sync"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

type interceptorWorker = interceptor.WorkerInterceptor

// commandCounter estimates the history events a run writes from the
// commands it issues and the messages it takes, since the test environment
// keeps no history. Retries of an activity write nothing, as on a server.
type commandCounter struct {
	interceptor.WorkerInterceptorBase
	mu sync.Mutex
	n  int
}

func (c *commandCounter) add(events int) {
	c.mu.Lock()
	c.n += events
	c.mu.Unlock()
}

func (c *commandCounter) events() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Each wake-up of the workflow is a workflow task: 3 events.
const workflowTask = 3

func (c *commandCounter) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &countInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, c: c}
}

type countInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	c *commandCounter
}

func (i *countInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&countOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, c: i.c})
}

func (i *countInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	i.c.add(2 + workflowTask) // started and completed
	return i.Next.ExecuteWorkflow(ctx, in)
}

func (i *countInbound) HandleSignal(ctx workflow.Context, in *interceptor.HandleSignalInput) error {
	i.c.add(1 + workflowTask)
	return i.Next.HandleSignal(ctx, in)
}

func (i *countInbound) ExecuteUpdate(ctx workflow.Context, in *interceptor.UpdateInput) (any, error) {
	i.c.add(2 + workflowTask) // accepted and completed
	return i.Next.ExecuteUpdate(ctx, in)
}

type countOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	c *commandCounter
}

func (o *countOutbound) ExecuteActivity(ctx workflow.Context, name string, args ...any) workflow.Future {
	o.c.add(3 + workflowTask) // scheduled, started, closed
	return o.Next.ExecuteActivity(ctx, name, args...)
}

func (o *countOutbound) ExecuteLocalActivity(ctx workflow.Context, name string, args ...any) workflow.Future {
	o.c.add(1) // a marker
	return o.Next.ExecuteLocalActivity(ctx, name, args...)
}

func (o *countOutbound) NewTimerWithOptions(ctx workflow.Context, d time.Duration, opts workflow.TimerOptions) workflow.Future {
	o.c.add(2 + workflowTask) // started, fired or cancelled
	return o.Next.NewTimerWithOptions(ctx, d, opts)
}

func (o *countOutbound) UpsertTypedSearchAttributes(ctx workflow.Context, attrs ...temporal.SearchAttributeUpdate) error {
	o.c.add(1)
	return o.Next.UpsertTypedSearchAttributes(ctx, attrs...)
}

func (o *countOutbound) SignalExternalWorkflow(ctx workflow.Context, id, runID, name string, arg any) workflow.Future {
	o.c.add(2 + workflowTask)
	return o.Next.SignalExternalWorkflow(ctx, id, runID, name, arg)
}

func (o *countOutbound) ExecuteChildWorkflow(ctx workflow.Context, name string, args ...any) workflow.ChildWorkflowFuture {
	o.c.add(4 + workflowTask) // initiated, started, closed
	return o.Next.ExecuteChildWorkflow(ctx, name, args...)
}
