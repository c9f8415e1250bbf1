package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

func TestMain(m *testing.M) { devtest.Main(m) }

func cli(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageAndBadInvocations(t *testing.T) {
	code, out, _ := cli()
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "linkwright request  -f REQUEST.json")

	code, _, errOut := cli("launch")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, `unknown command "launch"`)

	code, _, errOut = cli("approve", "-w", "privatelink/x/production/aws")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "approve needs --approver, --gate")

	code, _, errOut = cli("status")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "name the enablement")

	code, _, errOut = cli("customer", "connect")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "needs -f REQUEST.json")
}

func TestRequestValidatesBeforeStarting(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1") // nothing may be started
	code, _, errOut := cli("request", "-f", "../deployments/local/examples/invalid.json")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "7 problems")
	assert.Contains(t, errOut, `environment "integration" cannot use PrivateLink`)
	assert.Contains(t, errOut, "Nothing was started.")

	for _, example := range []string{"bidirectional-aws.json", "outbound-aws.json", "unidirectional-azure.json", "bidirectional-alibaba.json",
		"unidirectional-alibaba-cross-region.json", "unidirectional-alibaba-staging.json"} {
		code, out, errOut := cli("request", "-f", "../deployments/local/examples/"+example, "--dry-run")
		assert.Equal(t, exitOK, code, "%s: %s", example, errOut)
		assert.Contains(t, out, "is valid", example)
	}
}

func TestTargetResolution(t *testing.T) {
	ids := map[string][]string{
		"privatelink/abcd1234efgh5/production/aws": {"-f", "../deployments/local/examples/bidirectional-aws.json"},
		"privatelink/p1/staging/azure":             {"--project", "p1", "--environment", "Staging", "--cloud", "AZURE"},
		"privatelink/given/production/aws":         {"-w", "privatelink/given/production/aws"},
	}
	for want, args := range ids {
		fs := newFlags("t")
		var tg target
		tg.flags(fs)
		require.NoError(t, fs.Parse(args))
		got, err := tg.workflowID()
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}

// startCLIWorker starts the real worker on a dev server for the CLI, with
// its state in dir and the given policy fields (fast polls added), and
// points the CLI at both through the environment.
func startCLIWorker(t *testing.T, dir, policy string) {
	t.Helper()
	c := devtest.Client(t)
	cfgPath := filepath.Join(dir, "linkwright.json")
	require.NoError(t, os.WriteFile(cfgPath, []byte(`{"stateDir": "`+dir+`/state", "activitiesPerSecond": 200, "budgets": {"read": 200, "poll": 200, "mutate": 200, "accept": 200},
		"policy": {"pollInitial": "200ms", "pollMax": "1s", `+policy+`}}`), 0o644))
	t.Setenv("LINKWRIGHT_CONFIG", cfgPath)
	t.Setenv("LINKWRIGHT_STATE_DIR", "")
	t.Setenv("TEMPORAL_ADDRESS", devtest.Address())
	cfg, err := config.Load()
	require.NoError(t, err)
	w, stop, err := app.NewWorker(c, cfg, zap.NewNop())
	require.NoError(t, err)
	require.NoError(t, w.Start())
	t.Cleanup(func() {
		w.Stop()
		stop()
	})
}

// cliDriver returns must, which runs the CLI and requires success, and
// waitPhase, which waits until the request's enablement reaches a phase
// (as the status command says).
func cliDriver(t *testing.T, req string) (func(args ...string) string, func(workflows.Phase) workflows.Status) {
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := cli(args...)
		require.Equal(t, exitOK, code, "linkwright %s: %s", strings.Join(args, " "), errOut)
		return out
	}
	waitPhase := func(p workflows.Phase) workflows.Status {
		t.Helper()
		var found workflows.Status
		require.Eventually(t, func() bool {
			// A fresh value each time: unmarshalling into the last one
			// would keep the fields this answer leaves out (omitempty).
			var st workflows.Status
			code, out, _ := cli("status", "-f", req, "--json")
			if code == exitOK && json.Unmarshal([]byte(out), &st) == nil && st.Phase == p {
				found = st
				return true
			}
			return false
		}, 60*time.Second, 100*time.Millisecond, "waiting for phase %s", p)
		return found
	}
	return must, waitPhase
}

// The README walkthrough, through this CLI, against a real dev server and
// the real worker on the simulated cloud.
func TestIntegrationWalkthrough(t *testing.T) {
	dir := t.TempDir()
	startCLIWorker(t, dir, `"approvers": ["oncall@platform.example", "netops@platform.example", "sam@platform.example"]`)

	// The example request, on a port of its own so a running `make run` does not collide.
	data, err := os.ReadFile("../deployments/local/examples/bidirectional-aws.json")
	require.NoError(t, err)
	req := filepath.Join(dir, "request.json")
	require.NoError(t, os.WriteFile(req, bytes.ReplaceAll(data, []byte("[15432]"), []byte("[45432]")), 0o644))

	must, waitPhase := cliDriver(t, req)

	out := must("request", "-f", req)
	assert.Contains(t, out, "Started privatelink/abcd1234efgh5/production/aws")
	code, _, errOut := cli("request", "-f", req)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "already running")

	waitPhase(workflows.PhaseAwaitingConnection)
	assert.Contains(t, must("customer", "connect", "-f", req), "Signalled customer-endpoint-created")
	waitPhase(workflows.PhaseAwaitingApproval)
	code, _, errOut = cli("approve", "-f", req, "--gate", "accept-connection", "--approver", "sam@platform.example")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "requested this enablement and cannot approve it")
	assert.Contains(t, must("approve", "-f", req, "--gate", "accept-connection", "--approver", "oncall@platform.example"), "approve accepted")

	waitPhase(workflows.PhaseAwaitingGrant)
	must("customer", "grant", "-f", req)
	st := waitPhase(workflows.PhaseAwaitingApproval)
	assert.Equal(t, workflows.GateCreateReverseEndpoint, st.Gate)
	must("approve", "-f", req, "--gate", "create-reverse-endpoint", "--approver", "netops@platform.example")
	waitPhase(workflows.PhaseAwaitingEndpoint)
	must("customer", "accept", "-f", req)
	waitPhase(workflows.PhaseAwaitingConfirmation)
	must("customer", "verify", "-f", req, "--detail", "both services answer")

	// The enablement completes and hands the link, under the same ID, to
	// the live link, which checks it at once.
	const id = "privatelink/abcd1234efgh5/production/aws"
	c := devtest.Client(t)
	t.Cleanup(func() { _ = c.TerminateWorkflow(context.Background(), id, "", "end of test") }) // if the test stops before the teardown
	live := waitPhase(workflows.PhaseLive)
	enablement := handedOff(t, c, id)
	assert.Equal(t, workflows.PhaseCompleted, enablement.Phase)
	assert.Equal(t, workflows.OutcomeCompleted, enablement.Outcome)
	require.Len(t, enablement.Verification, 1)
	assert.Equal(t, 45432, enablement.Verification[0].Port)
	assert.True(t, enablement.Verification[0].OK(), enablement.Verification[0].Diagnosis)
	require.NotNil(t, live.Spec)
	assert.Equal(t, enablement.Ticket, live.Ticket)
	require.Len(t, live.Spec.Reverse, 1)
	assert.Equal(t, enablement.ReverseEndpointID, live.Spec.Reverse[0].EndpointID)

	require.Eventually(t, func() bool {
		code, out, _ := cli("status", "-f", req)
		return code == exitOK && strings.Contains(out, "Health:     healthy")
	}, 60*time.Second, 100*time.Millisecond, "the live link's first check")
	out = must("status", "-f", req)
	assert.Contains(t, out, "Phase:      live")
	assert.Contains(t, out, "Spec:       ports mysql:3306, sftp:2222; accounts 123456789012")
	assert.Regexp(t, `reverse vpce-\S+ -> com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0 on \[45432\]`, out)
	assert.Contains(t, out, "netops@platform.example", "the enablement's audit trail lives on")
	assert.Regexp(t, `(?m)^  \S+ \S+  linkwright\s+completed$`, out)
	md, err := os.ReadFile(filepath.Join(dir, "state", "tickets", "PL-0001.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "Acme Corp (customer) · public reply\n\nConfirmed: the link works from our side. both services answer")
	assert.Contains(t, string(md), "Status: **solved**")

	assert.Regexp(t, `(?m)^  port 45432\s+connected\s+vpce-\S+:45432 `, out, "the last check's result per port")

	// A second enablement for the live link is refused, pointing at change.
	code, _, errOut = cli("request", "-f", req)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "is already a live link ("+id+"): change it with `linkwright change -w "+id)

	// The live link answers the "Test" button, per port.
	out = must("test", "-f", req)
	assert.Regexp(t, `(?m)^  45432\s+ok\s+connected\s`, out)
	assert.Contains(t, out, "OK: every port tested connects.")

	// Torn down through the CLI: requested, approved by someone else.
	out = must("teardown", "-f", req, "--requested-by", "netops@platform.example", "--reason", "end of the walkthrough")
	assert.Contains(t, out, "It runs as "+id+"/teardown.")
	require.Eventually(t, func() bool {
		var st workflows.Status
		code, out, _ := cli("status", "-f", req, "--json")
		return code == exitOK && json.Unmarshal([]byte(out), &st) == nil && st.Gate == workflows.GateTeardown
	}, 60*time.Second, 100*time.Millisecond, "waiting for gate teardown")
	code, _, errOut = cli("approve", "-f", req, "--gate", "teardown", "--approver", "netops@platform.example")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "cannot approve it")
	must("approve", "-f", req, "--gate", "teardown", "--approver", "oncall@platform.example")
	st = waitPhase(workflows.PhaseTornDown)
	assert.Equal(t, workflows.OutcomeTornDown, st.Outcome)
}

// handedOff checks that the first run under id, the enablement, ended by
// continuing as new into the live link (the current run), and returns the
// enablement's last status, queried on its closed run.
func handedOff(t *testing.T, c client.Client, id string) workflows.Status {
	t.Helper()
	d, err := c.DescribeWorkflowExecution(t.Context(), id, "")
	require.NoError(t, err)
	info := d.GetWorkflowExecutionInfo()
	require.Equal(t, workflows.LiveWorkflow, info.GetType().GetName())
	first := info.GetFirstRunId()
	require.NotEqual(t, info.GetExecution().GetRunId(), first)
	err = c.GetWorkflow(t.Context(), id, first).GetWithOptions(t.Context(), nil, client.WorkflowRunGetOptions{DisableFollowingRuns: true})
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, err, &can, "the enablement continued as new")
	require.Equal(t, workflows.LiveWorkflow, can.WorkflowType.Name)
	v, err := c.QueryWorkflow(t.Context(), id, first, workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.Status
	require.NoError(t, v.Get(&st))
	return st
}

// flakyStatus answers the status query after failing a number of times.
type flakyStatus struct {
	fails int
	calls int
	st    workflows.Status
}

func (f *flakyStatus) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	f.calls++
	if f.calls <= f.fails {
		return nil, errors.New("context deadline exceeded")
	}
	p, err := converter.GetDefaultDataConverter().ToPayloads(f.st)
	if err != nil {
		return nil, err
	}
	return encodedValue{p}, nil
}

type encodedValue struct{ p *commonpb.Payloads }

func (e encodedValue) HasValue() bool { return e.p != nil }
func (e encodedValue) Get(v any) error {
	return converter.GetDefaultDataConverter().FromPayloads(e.p, v)
}

// The customer's reply finds its ticket even when the status query fails
// for a moment, and when it cannot, says so instead of dropping it.
func TestCustomerReplyFindsItsTicket(t *testing.T) {
	c := customerActs{req: request.Request{ProjectID: "abcd1234efgh5", Environment: "production", Cloud: "aws"}}
	key, err := c.ticketKey(context.Background(), &flakyStatus{fails: 2, st: workflows.Status{Ticket: "PL-0007"}}, "id")
	require.NoError(t, err)
	assert.Equal(t, "PL-0007", key)

	_, err = c.ticketKey(context.Background(), &flakyStatus{fails: 99}, "id")
	assert.ErrorContains(t, err, "cannot find the ticket of id")

	c.req.Ticket = "PL-0009"
	key, err = c.ticketKey(context.Background(), &flakyStatus{fails: 99}, "id")
	require.NoError(t, err)
	assert.Equal(t, "PL-0009", key, "the ticket the request names")
}

// With signed approvals required, the CLI passes the approver's ID token
// (--id-token or LINKWRIGHT_ID_TOKEN): an unsigned approval is refused, a
// signed one is taken with the token's e-mail as the approver.
func TestIntegrationSignedApprovalThroughTheCLI(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "jwks.json"), jwks, 0o644))
	startCLIWorker(t, dir, `"approvers": ["oncall@platform.example", "netops@platform.example"],
		"signedApprovals": {"required": true, "issuers": [{"issuer": "https://idp.platform.example", "audience": "linkwright", "jwksFile": "`+dir+`/jwks.json"}]}`)

	sign := func(email string) string {
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		require.NoError(t, err)
		now := time.Now()
		tok, err := jwt.Signed(sig).Claims(map[string]any{"iss": "https://idp.platform.example", "aud": "linkwright", "sub": email, "email": email,
			"iat": jwt.NewNumericDate(now), "exp": jwt.NewNumericDate(now.Add(10 * time.Minute))}).Serialize()
		require.NoError(t, err)
		return tok
	}
	data, err := os.ReadFile("../deployments/local/examples/bidirectional-aws.json")
	require.NoError(t, err)
	req := filepath.Join(dir, "request.json")
	data = bytes.ReplaceAll(data, []byte(`"production"`), []byte(`"staging"`))
	require.NoError(t, os.WriteFile(req, bytes.ReplaceAll(data, []byte("[15432]"), []byte("[45433]")), 0o644))
	must, waitPhase := cliDriver(t, req)

	must("request", "-f", req)
	waitPhase(workflows.PhaseAwaitingConnection)
	must("customer", "connect", "-f", req)
	waitPhase(workflows.PhaseAwaitingApproval)
	code, _, errOut := cli("approve", "-f", req, "--gate", "accept-connection", "--approver", "oncall@platform.example")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "signed approvals are required")

	out := must("approve", "-f", req, "--gate", "accept-connection", "--id-token", sign("OnCall@Platform.Example"))
	assert.Contains(t, out, "approve accepted")
	assert.Regexp(t, `oncall@platform.example\s+approve accept-connection \(update\): \(signed by https://idp.platform.example\)`, out,
		"the approver is the token's e-mail, and the audit says who signed it")

	t.Setenv("LINKWRIGHT_ID_TOKEN", sign("netops@platform.example"))
	must("cancel", "-f", req, "--reason", "end of test")
	waitPhase(workflows.PhaseCancelled)
}
