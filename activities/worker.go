package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
)

// Heartbeats makes every activity heartbeat while it runs, four times per
// heartbeat timeout. A worker killed mid-activity then stops heartbeating,
// and the server retries the activity elsewhere after the heartbeat timeout
// (seconds) instead of its whole start-to-close timeout; a cancelled
// workflow's activities learn of it at their next heartbeat.
type Heartbeats struct {
	interceptor.WorkerInterceptorBase
}

// InterceptActivity implements interceptor.WorkerInterceptor.
func (*Heartbeats) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &beating{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type beating struct {
	interceptor.ActivityInboundInterceptorBase
}

func (b *beating) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	if info.HeartbeatTimeout > 0 && !info.IsLocalActivity {
		done := make(chan struct{})
		defer close(done)
		go func() {
			t := time.NewTicker(info.HeartbeatTimeout / 4)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					activity.RecordHeartbeat(ctx)
				}
			}
		}()
	}
	return b.Next.ExecuteActivity(ctx, in)
}

// Describer is the part of a Temporal client ClientMemo needs.
type Describer interface {
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
}

// ClientMemo reads memos through a Temporal client, decoding them with the
// data converter the workflows use.
type ClientMemo struct {
	Client        Describer
	DataConverter converter.DataConverter
}

// Memo implements MemoReader: a missing field is nil.
func (m ClientMemo) Memo(ctx context.Context, workflowID, runID, field string) (json.RawMessage, error) {
	resp, err := m.Client.DescribeWorkflowExecution(ctx, workflowID, runID)
	if err != nil {
		return nil, fmt.Errorf("describe %s: %w", workflowID, err)
	}
	p := resp.GetWorkflowExecutionInfo().GetMemo().GetFields()[field]
	if p == nil {
		return nil, nil
	}
	dc := m.DataConverter
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	var raw json.RawMessage
	if err := dc.FromPayload(p, &raw); err != nil {
		return nil, fmt.Errorf("memo %s of %s: %w", field, workflowID, err)
	}
	return raw, nil
}
