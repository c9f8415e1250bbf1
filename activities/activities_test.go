package activities

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/ticket"
)

var ref = cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: "abcd1234efgh5", Environment: "production"}

type fixture struct {
	env     *testsuite.TestActivityEnvironment
	cloud   *sim.Cloud
	tracker *ticket.File
}

func setup(t *testing.T) fixture {
	var ts testsuite.WorkflowTestSuite
	dir := t.TempDir()
	f := fixture{env: ts.NewTestActivityEnvironment(), cloud: sim.Open(dir + "/cloud"), tracker: ticket.NewFile(dir + "/tickets")}
	f.cloud.Settle = 0
	f.env.RegisterActivity(&Activities{Cloud: f.cloud, Tracker: f.tracker, Prober: probe.New(), Policy: config.DefaultPolicy})
	return f
}

func appErr(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "want an application error, got %v", err)
	return ae
}

func TestAwaitConnectionRequestIsNotYetUntilTheCustomerConnects(t *testing.T) {
	f := setup(t)
	a := &Activities{}
	in := Accounts{Env: ref, Accounts: []string{"123456789012"}}
	_, err := f.env.ExecuteActivity(a.AllowAccounts, in)
	require.NoError(t, err)
	_, err = f.env.ExecuteActivity(a.AwaitConnectionRequest, in)
	ae := appErr(t, err)
	assert.Equal(t, ErrNotYet, ae.Type())
	assert.False(t, ae.NonRetryable(), "NotYet is retried: the retries are the polls")
	assert.Equal(t, temporal.ApplicationErrorCategoryBenign, ae.Category(), "a poll that finds nothing is no error to log")

	env, _ := f.cloud.Environment(context.Background(), ref)
	ep, err := f.cloud.Customer("aws", "123456789012").CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	v, err := f.env.ExecuteActivity(a.AwaitConnectionRequest, in)
	require.NoError(t, err)
	var conns []cloud.Connection
	require.NoError(t, v.Get(&conns))
	require.Len(t, conns, 1)
	assert.Equal(t, ep.ID, conns[0].ID)
}

func TestCloudErrorsAreClassified(t *testing.T) {
	f := setup(t)
	a := &Activities{}
	_, err := f.env.ExecuteActivity(a.AcceptConnections, Connections{Env: ref, IDs: []string{"vpce-0000000000000dead"}})
	ae := appErr(t, err)
	assert.Equal(t, string(cloud.NotFound), ae.Type())
	assert.True(t, ae.NonRetryable())

	_, err = f.env.ExecuteActivity(a.AllowAccounts, Accounts{Env: ref, Accounts: []string{"*"}})
	ae = appErr(t, err)
	assert.Equal(t, string(cloud.Invalid), ae.Type())
	assert.True(t, ae.NonRetryable())

	retry := cloudErr(cloud.Errorf(cloud.Retryable, "DescribeVpcEndpointConnections", "RequestLimitExceeded"))
	ae = appErr(t, retry)
	assert.False(t, ae.NonRetryable())
	assert.Contains(t, ae.Error(), "RequestLimitExceeded")
}

func TestLookupEnvironmentMissingIsNotAnError(t *testing.T) {
	f := setup(t)
	a := &Activities{}
	missing := ref
	missing.Project = "nosuchproject"
	v, err := f.env.ExecuteActivity(a.LookupEnvironment, missing)
	require.NoError(t, err)
	var got EnvLookup
	require.NoError(t, v.Get(&got))
	assert.False(t, got.Found)
	v, err = f.env.ExecuteActivity(a.LookupEnvironment, ref)
	require.NoError(t, err)
	require.NoError(t, v.Get(&got))
	assert.True(t, got.Found)
	assert.Equal(t, "pro", got.Env.Plan)
}

// A retried activity keeps its workflow, run and activity ID, so the key
// PostComment derives from them dedups the retry. The test environment
// gives each call a new activity ID, so the retry itself is shown with the
// key a retry would carry.
func TestPostCommentKeysOnActivityIdentity(t *testing.T) {
	f := setup(t)
	a := &Activities{}
	tk, err := f.tracker.Open(context.Background(), ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	for range 2 {
		_, err = f.env.ExecuteActivity(a.PostComment, ticket.Comment{Ticket: tk.Key, Public: true, Body: "hello"})
		require.NoError(t, err)
	}
	_, comments, err := f.tracker.Read(tk.Key)
	require.NoError(t, err)
	require.Len(t, comments, 2, "two activities, two comments")
	assert.Equal(t, "default-test-workflow-id/default-test-run-id/0", comments[0].IdempotencyKey)
	assert.Equal(t, "default-test-workflow-id/default-test-run-id/1", comments[1].IdempotencyKey)

	retry := ticket.Comment{Ticket: tk.Key, Public: true, Body: "hello", IdempotencyKey: comments[1].IdempotencyKey}
	_, err = f.env.ExecuteActivity(a.PostComment, retry)
	require.NoError(t, err)
	_, comments, err = f.tracker.Read(tk.Key)
	require.NoError(t, err)
	assert.Len(t, comments, 2, "the retry posts nothing")

	_, err = f.env.ExecuteActivity(a.PostComment, ticket.Comment{Ticket: "PL-9999", Body: "x"})
	ae := appErr(t, err)
	assert.Equal(t, ErrTicketNotFound, ae.Type())
	assert.True(t, ae.NonRetryable())
}

func TestAwaitEndpointAvailable(t *testing.T) {
	f := setup(t)
	a := &Activities{}
	env, _ := f.cloud.Environment(context.Background(), ref)
	const svc = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
	cu := f.cloud.Customer("aws", "123456789012")
	require.NoError(t, cu.Grant(svc, env.Principal, []int{5432}))
	ep, err := f.cloud.CreateEndpoint(context.Background(), cloud.EndpointSpec{Env: ref, Service: svc, Token: "t"})
	require.NoError(t, err)
	in := Endpoint{Env: ref, ID: ep.ID}

	_, err = f.env.ExecuteActivity(a.AwaitEndpointAvailable, in)
	assert.Equal(t, ErrNotYet, appErr(t, err).Type())
	require.NoError(t, cu.AcceptEndpoint(ep.ID))
	_, err = f.env.ExecuteActivity(a.AwaitEndpointAvailable, in)
	require.NoError(t, err)

	ep2, err := f.cloud.CreateEndpoint(context.Background(), cloud.EndpointSpec{Env: ref, Service: svc, Token: "t2"})
	require.NoError(t, err)
	require.NoError(t, cu.RejectEndpoint(ep2.ID))
	_, err = f.env.ExecuteActivity(a.AwaitEndpointAvailable, Endpoint{Env: ref, ID: ep2.ID})
	ae := appErr(t, err)
	assert.Equal(t, ErrEndpointClosed, ae.Type())
	assert.True(t, ae.NonRetryable())
}

func TestCheckPlatformSideReportsProblems(t *testing.T) {
	f := setup(t)
	a := &Activities{}
	env, _ := f.cloud.Environment(context.Background(), ref)
	require.NoError(t, f.cloud.AllowAccount(context.Background(), ref, "123456789012"))
	ep, err := f.cloud.Customer("aws", "123456789012").CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	require.NoError(t, f.cloud.AcceptConnections(context.Background(), ref, []string{ep.ID}))
	require.NoError(t, f.cloud.OpenPorts(context.Background(), ref, []int{3306}))
	in := PlatformCheck{Env: ref, Accounts: []string{"123456789012"}, IDs: []string{ep.ID, "vpce-gone"}, Ports: []int{3306, 2222}}
	v, err := f.env.ExecuteActivity(a.CheckPlatformSide, in)
	require.NoError(t, err)
	var rep PlatformReport
	require.NoError(t, v.Get(&rep))
	require.Len(t, rep.Problems, 2, "%v", rep.Problems)
	assert.Contains(t, rep.Problems[0], "vpce-gone is gone")
	assert.Contains(t, rep.Problems[1], "port 2222: no listener")

	_, err = f.env.ExecuteActivity(a.AwaitPlatformHealthy, in)
	assert.Equal(t, ErrNotYet, appErr(t, err).Type())
}
