package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/workflows"
)

// Deployment runs the workers as version buildID of the Worker Deployment
// name. Every workflow is auto-upgrade: a link waits for days or weeks
// and a live link for years, so pinning each to the build that started it
// would keep every old build running until its last link ends. Instead a
// new build takes over every running workflow at its next task, and a
// change to workflow code that would replay differently goes behind
// workflow.GetVersion; the replay tests over workflows/testdata hold the
// released histories to that.
func Deployment(name, buildID string) worker.DeploymentOptions {
	return worker.DeploymentOptions{
		UseVersioning:             true,
		Version:                   worker.WorkerDeploymentVersion{DeploymentName: name, BuildID: buildID},
		DefaultVersioningBehavior: workflow.VersioningBehaviorAutoUpgrade,
	}
}

// TaskQueues are every task queue a worker polls: a version serves all.
func TaskQueues() []string {
	qs := []string{workflows.TaskQueue}
	for _, class := range activities.CloudClasses {
		qs = append(qs, activities.Queue(workflows.TaskQueue, class))
	}
	return qs
}

// Promote makes buildID the current version of deployment name once the
// server has seen this version poll every task queue, retrying every
// `every` until ctx ends. It is for a single worker that should take over
// at once (make run, small installations); a fleet rolling out replicas
// promotes with `temporal worker deployment set-current-version` once
// they are up. Nothing happens when the version is already current.
func Promote(ctx context.Context, c client.Client, name, buildID string, every time.Duration, log *zap.Logger) error {
	h := c.WorkerDeploymentClient().GetHandle(name)
	var last error
	for {
		err := promoteOnce(ctx, h, buildID)
		if err == nil {
			log.Info("worker deployment version is current", zap.String("deployment", name), zap.String("buildId", buildID))
			return nil
		}
		if !errors.Is(err, errNotYet) {
			last = err
			log.Warn("cannot make this build the current version yet", zap.String("deployment", name), zap.String("buildId", buildID), zap.Error(err))
		}
		select {
		case <-ctx.Done():
			if last == nil {
				last = err
			}
			return fmt.Errorf("version %s of deployment %s was not made current: %w", buildID, name, last)
		case <-time.After(every):
		}
	}
}

var errNotYet = errors.New("the server has not seen this version poll all its task queues yet")

func promoteOnce(ctx context.Context, h client.WorkerDeploymentHandle, buildID string) error {
	d, err := h.Describe(ctx, client.WorkerDeploymentDescribeOptions{})
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return errNotYet
	}
	if err != nil {
		return err
	}
	if cur := d.Info.RoutingConfig.CurrentVersion; cur != nil && cur.BuildID == buildID {
		return nil
	}
	v, err := h.DescribeVersion(ctx, client.WorkerDeploymentDescribeVersionOptions{BuildID: buildID})
	if errors.As(err, &nf) {
		return errNotYet
	}
	if err != nil {
		return err
	}
	var seen []string
	for _, q := range v.Info.TaskQueuesInfos {
		seen = append(seen, q.Name)
	}
	for _, q := range TaskQueues() {
		if !slices.Contains(seen, q) {
			return errNotYet
		}
	}
	_, err = h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: buildID, ConflictToken: d.ConflictToken})
	return err
}
