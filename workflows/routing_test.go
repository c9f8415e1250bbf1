package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// queueSpy records the task queue each activity is scheduled on, as seen
// after Routing (an interceptor listed earlier sees the workflow's calls
// later: the last one listed is the outermost).
type queueSpy struct {
	interceptor.WorkerInterceptorBase
	mu     sync.Mutex
	queues map[string]string
}

func (s *queueSpy) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &spyIn{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, spy: s}
}

type spyIn struct {
	interceptor.WorkflowInboundInterceptorBase
	spy *queueSpy
}

func (i *spyIn) Init(out interceptor.WorkflowOutboundInterceptor) error {
	return i.Next.Init(&spyOut{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: out}, spy: i.spy})
}

type spyOut struct {
	interceptor.WorkflowOutboundInterceptorBase
	spy *queueSpy
}

func (o *spyOut) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	o.spy.mu.Lock()
	o.spy.queues[activityType] = workflow.GetActivityOptions(ctx).TaskQueue
	o.spy.mu.Unlock()
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

// Each cloud call goes to its class's task queue, with its own budget;
// the rest stays on the workflows' queue.
func TestRoutingSendsEachActivityToItsClassQueue(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	spy := &queueSpy{queues: map[string]string{}}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{spy, &Routing{}}})
	names := []string{"AcceptConnections", "AwaitConnectionRequest", "CreateEndpoint", "LookupEnvironment", "PostComment"}
	for _, n := range names {
		env.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: n})
	}
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		for _, n := range names {
			if err := workflow.ExecuteActivity(ctx, n).Get(ctx, nil); err != nil {
				return err
			}
		}
		return nil
	}, workflow.RegisterOptions{Name: "routed"})
	env.ExecuteWorkflow("routed")
	require.NoError(t, env.GetWorkflowError())
	assert.Equal(t, map[string]string{
		"AcceptConnections":      "privatelink-cloud-accept",
		"AwaitConnectionRequest": "privatelink-cloud-poll",
		"CreateEndpoint":         "privatelink-cloud-mutate",
		"LookupEnvironment":      "privatelink-cloud-read",
		"PostComment":            "default-test-taskqueue",
	}, spy.queues)
}
