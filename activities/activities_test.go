package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/internal/ticket/rest"
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

// otherOwner answers every Connections call with a connection owned by
// another account too, as a cloud that ignored the owner filter would.
type otherOwner struct {
	cloud.Provider
}

func (o otherOwner) Connections(ctx context.Context, ref cloud.EnvRef, account string) ([]cloud.Connection, error) {
	conns, err := o.Provider.Connections(ctx, ref, account)
	return append(conns, cloud.Connection{ID: "vpce-0stranger00000000", Account: "999999999999", State: cloud.StatePendingAcceptance}), err
}

// A connection from an account the request does not name is never taken
// for the customer's, whatever the provider's filter let through.
func TestConnectionsOfOtherAccountsAreIgnored(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	c := sim.Open(t.TempDir())
	env.RegisterActivity(&Activities{Cloud: otherOwner{c}})
	a := &Activities{}
	in := Accounts{Env: ref, Accounts: []string{"123456789012"}}
	_, err := env.ExecuteActivity(a.AwaitConnectionRequest, in)
	assert.Equal(t, ErrNotYet, appErr(t, err).Type(), "the stranger's connection is not a request from the customer")

	_, err = env.ExecuteActivity(a.AllowAccounts, in)
	require.NoError(t, err)
	e, _ := c.Environment(context.Background(), ref)
	mine, err := c.Customer("aws", "123456789012").CreateEndpoint(e.ServiceName)
	require.NoError(t, err)
	v, err := env.ExecuteActivity(a.AwaitConnectionRequest, in)
	require.NoError(t, err)
	var got []cloud.Connection
	require.NoError(t, v.Get(&got))
	require.Len(t, got, 1)
	assert.Equal(t, mine.ID, got[0].ID)
}

// A tracker that refuses the credentials stops the activity at once, with
// the fix in the message; a tracker that is down is retried.
func TestTrackerRefusalsAreNotRetried(t *testing.T) {
	assert.Equal(t, ErrTicketRefused, appErr(t, trackerErr(&rest.Error{Call: "Zendesk create ticket", Status: 401, Fix: "check ZENDESK_API_TOKEN"})).Type())
	assert.True(t, appErr(t, trackerErr(&rest.Error{Call: "x", Status: 403})).NonRetryable())
	assert.Contains(t, trackerErr(&rest.Error{Call: "x", Status: 401, Fix: "check ZENDESK_API_TOKEN"}).Error(), "check ZENDESK_API_TOKEN")
	for _, retry := range []error{&rest.Error{Call: "x", Status: 503}, &rest.Error{Call: "x", Status: 429}, &rest.Error{Call: "x", Body: "no answer"}} {
		var ae *temporal.ApplicationError
		if errors.As(trackerErr(retry), &ae) {
			assert.False(t, ae.NonRetryable(), "%v", retry)
		}
	}
}

// Withdrawing rejects what the run accepted, what it saw waiting, and any
// request waiting from an account it allowed; never a connection it found
// already accepted by someone else.
func TestWithdrawConnections(t *testing.T) {
	f := setup(t)
	a := &Activities{}
	ctx := context.Background()
	const mineAcct, otherAcct = "123456789012", "210000000099"
	for _, acct := range []string{mineAcct, otherAcct} {
		require.NoError(t, f.cloud.AllowAccount(ctx, ref, acct))
	}
	e, _ := f.cloud.Environment(ctx, ref)
	create := func(acct string) string {
		ep, err := f.cloud.Customer("aws", acct).CreateEndpoint(e.ServiceName)
		require.NoError(t, err)
		return ep.ID
	}
	accepted, seen, unseen, live, strangers := create(mineAcct), create(mineAcct), create(mineAcct), create(otherAcct), create(otherAcct)
	require.NoError(t, f.cloud.AcceptConnections(ctx, ref, []string{accepted, live}))
	v, err := f.env.ExecuteActivity(a.WithdrawConnections, Withdrawal{Env: ref, Accounts: []string{mineAcct, otherAcct},
		Accepted: []string{accepted}, Seen: []string{seen}, AllowedByRun: []string{mineAcct}, Reason: "cancelled"})
	require.NoError(t, err)
	var rejected []string
	require.NoError(t, v.Get(&rejected))
	assert.ElementsMatch(t, []string{accepted, seen, unseen}, rejected)
	states := map[string]cloud.State{}
	for _, acct := range []string{mineAcct, otherAcct} {
		conns, err := f.cloud.Connections(ctx, ref, acct)
		require.NoError(t, err)
		for _, c := range conns {
			states[c.ID] = c.State
		}
	}
	assert.Equal(t, cloud.StateAvailable, states[live], "accepted by someone else: left alone")
	assert.Equal(t, cloud.StatePendingAcceptance, states[strangers], "waiting on an account this run did not allow, unseen: left alone")
}

// staticProber answers with what the test says, once per call.
type staticProber struct {
	answers [][]probe.Result
	calls   int
}

func (p *staticProber) Probe(context.Context, string, []int) []probe.Result {
	r := p.answers[min(p.calls, len(p.answers)-1)]
	p.calls++
	return r
}

// A probe that could not be made is retried, not reported; a failing port
// is checked again before it is reported.
func TestProbeRetriesWhatItCouldNotCheck(t *testing.T) {
	run := func(p *staticProber) ([]probe.Result, error) {
		var ts testsuite.WorkflowTestSuite // a new one each time: registrations are kept per suite
		env := ts.NewTestActivityEnvironment()
		env.RegisterActivity(&Activities{Prober: p, Confirm: []time.Duration{time.Millisecond, time.Millisecond}})
		v, err := env.ExecuteActivity((&Activities{}).Probe, ProbeTarget{Host: "h", Ports: []int{5432}})
		if err != nil {
			return nil, err
		}
		var res []probe.Result
		return res, v.Get(&res)
	}
	inconclusive := []probe.Result{{Port: 5432, Outcome: probe.Inconclusive}}
	refused := []probe.Result{{Port: 5432, Outcome: probe.Refused, Advice: "Port 5432: refused"}}
	connected := []probe.Result{{Port: 5432, Outcome: probe.Connected}}

	_, err := run(&staticProber{answers: [][]probe.Result{inconclusive}})
	ae := appErr(t, err)
	assert.Equal(t, ErrInconclusive, ae.Type())
	assert.False(t, ae.NonRetryable(), "retried with backoff")

	res, err := run(&staticProber{answers: [][]probe.Result{refused, connected}})
	require.NoError(t, err)
	assert.True(t, res[0].OK(), "a blip is not reported")

	p := &staticProber{answers: [][]probe.Result{refused}}
	res, err = run(p)
	require.NoError(t, err)
	assert.Equal(t, probe.Refused, res[0].Outcome, "a lasting failure is reported")
	assert.Equal(t, 3, p.calls, "after two more checks")
}

// onlyProvider hides every method but cloud.Provider's: a cloud that takes
// no bandwidth on accept.
type onlyProvider struct{ cloud.Provider }

func TestBandwidthNeedsACloudThatTakesIt(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	sc := sim.Open(t.TempDir())
	env.RegisterActivity(&Activities{Cloud: onlyProvider{sc}, Policy: config.DefaultPolicy})
	a := &Activities{}
	_, err := env.ExecuteActivity(a.AcceptConnections, Connections{Env: ref, IDs: []string{"vpce-0000000000000dead"}, BandwidthMbps: 200})
	ae := appErr(t, err)
	assert.Equal(t, string(cloud.Invalid), ae.Type())
	assert.Contains(t, ae.Error(), "remove bandwidthMbps")
}
