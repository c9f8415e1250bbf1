package workflows

import (
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/linkwright/linkwright/activities"
)

// Routing sends each activity to the task queue of its class
// (activities.ClassOf): every worker registers it, so the choice is the
// same wherever a workflow runs. It changes only where an activity task
// waits, not the workflow's commands, so histories recorded before it
// replay unchanged.
type Routing struct {
	interceptor.WorkerInterceptorBase
}

// InterceptWorkflow implements interceptor.WorkerInterceptor.
func (*Routing) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &routingIn{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type routingIn struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (r *routingIn) Init(out interceptor.WorkflowOutboundInterceptor) error {
	return r.Next.Init(&routingOut{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: out}})
}

type routingOut struct {
	interceptor.WorkflowOutboundInterceptorBase
}

func (o *routingOut) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	if activities.ClassOf(activityType) != activities.ClassLocal {
		ctx = workflow.WithTaskQueue(ctx, activities.QueueOf(TaskQueue, activityType))
	}
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}
