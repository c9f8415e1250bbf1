package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/internal/admin"
	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

// This package has a dev server of its own: its tests make Worker
// Deployment versions current on the task queues, which would take the
// workflows of other packages' unversioned workers.
func TestMain(m *testing.M) { devtest.Main(m) }

func testConfig(t *testing.T) config.Config {
	t.Setenv("LINKWRIGHT_CONFIG", "")
	cfg := config.Default()
	cfg.StateDir = t.TempDir()
	cfg.ActivitiesPerSecond = 200
	cfg.Budgets = config.Budgets{Read: 200, Poll: 200, Mutate: 200, Accept: 200}
	cfg.Policy.Approvers = []string{"alice@platform.example"}
	cfg.Policy.PollInitial = config.Duration(200 * time.Millisecond)
	cfg.Policy.PollMax = config.Duration(time.Second)
	return cfg
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last: %s", what, last)
}

func startVersion(t *testing.T, c client.Client, cfg config.Config, deployment, build string) func() {
	t.Helper()
	w, stop, err := app.NewWorker(c, cfg, zap.NewNop(), app.WithDeployment(app.Deployment(deployment, build)))
	require.NoError(t, err)
	require.NoError(t, w.Start())
	var done bool
	halt := func() {
		if !done {
			done = true
			w.Stop()
			stop()
		}
	}
	t.Cleanup(halt)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	require.NoError(t, app.Promote(ctx, c, deployment, build, 200*time.Millisecond, zap.NewNop()))
	return halt
}

func versionOf(t *testing.T, c client.Client, id string) (build string, behavior enumspb.VersioningBehavior) {
	t.Helper()
	d, err := c.DescribeWorkflowExecution(context.Background(), id, "")
	require.NoError(t, err)
	vi := d.GetWorkflowExecutionInfo().GetVersioningInfo()
	return vi.GetDeploymentVersion().GetBuildId(), vi.GetBehavior()
}

func statusOf(c client.Client, id string) (workflows.Status, error) {
	var st workflows.Status
	v, err := c.QueryWorkflow(context.Background(), id, "", workflows.QueryStatus)
	if err == nil {
		err = v.Get(&st)
	}
	return st, err
}

func startLink(t *testing.T, c client.Client, environment string) string {
	t.Helper()
	req := request.Request{Company: "Initech", RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5", Environment: environment,
		Cloud: "aws", Region: "us-east-1", CustomerAccount: "123456789012", ConnectionType: "unidirectional",
		Services: []request.Service{{Name: "postgresql", Port: 5432}}}
	data, err := json.Marshal(req)
	require.NoError(t, err)
	id := req.WorkflowID()
	_, err = c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: workflows.TaskQueue,
		WorkflowExecutionErrorWhenAlreadyStarted: true}, workflows.EnablementWorkflow, json.RawMessage(data))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.TerminateWorkflow(context.Background(), id, "", "test over") })
	eventually(t, "the link to wait for its customer", func() (bool, string) {
		st, err := statusOf(c, id)
		return st.Phase == workflows.PhaseAwaitingConnection, fmt.Sprintf("%s %v %+v", st.Phase, err, st.Audit)
	})
	return id
}

// onBuild nudges the link (a new workflow task) and waits until that task
// ran on build, then checks the link still waits where it did.
func onBuild(t *testing.T, c client.Client, id, build string) {
	t.Helper()
	require.NoError(t, c.SignalWorkflow(context.Background(), id, "", workflows.SignalCheckNow, nil))
	eventually(t, "the link's next task to run on "+build, func() (bool, string) {
		b, _ := versionOf(t, c, id)
		return b == build, "build " + b
	})
	st, err := statusOf(c, id)
	require.NoError(t, err)
	assert.Equal(t, workflows.PhaseAwaitingConnection, st.Phase)
}

// The upgrade path the README gives, on a real server: a link started by
// an unversioned worker moves to the first versioned build once it is
// current; a link started on v1 moves to v2 once v2 is current and v1
// stops. Each resumes from where it waited. Workflows are auto-upgrade
// (app.Deployment), which this test pins: pinned, they would stay on v1.
func TestIntegrationNewBuildTakesOverWaitingLinks(t *testing.T) {
	c := devtest.Client(t)
	cfg := testConfig(t)
	const deployment = "linkwright-it"
	// Afterwards the task queues go back to unversioned workers (as an
	// operator would leave versioning), so that the test can run again on
	// this server.
	t.Cleanup(func() {
		_, err := c.WorkerDeploymentClient().GetHandle(deployment).SetCurrentVersion(context.Background(),
			client.WorkerDeploymentSetCurrentVersionOptions{BuildID: "", IgnoreMissingTaskQueues: true})
		assert.NoError(t, err, "back to unversioned workers")
	})

	w, stop, err := app.NewWorker(c, cfg, zap.NewNop())
	require.NoError(t, err)
	require.NoError(t, w.Start())
	before := startLink(t, c, "production")
	build, _ := versionOf(t, c, before)
	assert.Empty(t, build, "started unversioned")

	stopV1 := startVersion(t, c, cfg, deployment, "v1")
	w.Stop()
	stop()
	onBuild(t, c, before, "v1")

	onV1 := startLink(t, c, "staging")
	build, behavior := versionOf(t, c, onV1)
	assert.Equal(t, "v1", build)
	assert.Equal(t, enumspb.VERSIONING_BEHAVIOR_AUTO_UPGRADE, behavior)

	startVersion(t, c, cfg, deployment, "v2")
	stopV1()
	onBuild(t, c, onV1, "v2")
	onBuild(t, c, before, "v2")
}

// Readiness holds only once the worker has started and the server has
// seen it poll under this process's identity.
func TestIntegrationReadiness(t *testing.T) {
	base := devtest.Client(t)
	const identity = "readiness-test@host@linkwright-worker"
	c, err := client.NewClientFromExisting(base, client.Options{Identity: identity})
	require.NoError(t, err)
	defer c.Close()

	r := app.NewReadiness(c, identity)
	adm := &admin.Server{Checks: r.Checks(), CacheFor: time.Nanosecond}
	srv := httptest.NewServer(adm.Handler())
	defer srv.Close()
	get := func(path string) (int, map[string]any) {
		resp, err := http.Get(srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	code, body := get(admin.ReadyzPath)
	require.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, fmt.Sprint(body["checks"]), "has not started")
	code, _ = get(admin.HealthzPath)
	require.Equal(t, http.StatusOK, code)

	w, stop, err := app.NewWorker(c, testConfig(t), zap.NewNop())
	require.NoError(t, err)
	require.NoError(t, w.Start())
	defer stop()
	defer w.Stop()
	r.Started()
	eventually(t, "/readyz to answer 200", func() (bool, string) {
		code, body := get(admin.ReadyzPath)
		return code == http.StatusOK, fmt.Sprint(code, body)
	})

	// Another process's identity is not this one polling.
	other := app.NewReadiness(c, "someone-else")
	other.Started()
	for _, check := range other.Checks() {
		if check.Name == "polling" {
			assert.ErrorContains(t, check.Run(context.Background()), "has not seen this worker (someone-else)")
		}
	}
	adm.Stopping()
	code, _ = get(admin.ReadyzPath)
	assert.Equal(t, http.StatusServiceUnavailable, code)
}
