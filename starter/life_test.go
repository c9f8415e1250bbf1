package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

const liveID = "privatelink/abcd1234efgh5/production/aws"

// noServer points the CLI at an address where nothing answers: a command
// that tried to send anything would fail with "cannot reach Temporal".
func noServer(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	return p
}

func TestLifeUsage(t *testing.T) {
	code, out, _ := cli("help")
	assert.Equal(t, exitOK, code)
	for _, s := range []string{"linkwright links    [--phase P] [--cloud C]", "linkwright test     TARGET [--port N]",
		"linkwright change   LINK -f CHANGE.json [--plan]", "linkwright teardown TARGET --requested-by EMAIL --reason TEXT",
		"linkwright adopt    -f ADOPT.json", "linkwright by-hand close-port|revoke-account|break-target|repair-target",
		"apply-change, teardown, repair-drift, adopt"} {
		assert.Contains(t, out, s)
	}

	noServer(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"change", "-f", "change.json"}, "change needs the link: -w WORKFLOW_ID, or --project, --environment and --cloud"},
		{[]string{"change", "--project", "p1", "--cloud", "aws", "-f", "change.json"}, "change needs the link"},
		{[]string{"change", "-w", liveID}, "change needs -f CHANGE.json"},
		{[]string{"change", "-w", liveID, "-f", "c.json", "extra"}, `unexpected argument "extra"`},
		{[]string{"teardown", "-w", liveID}, "teardown needs --reason, --requested-by"},
		{[]string{"teardown", "-w", liveID, "--reason", "gone"}, "teardown needs --requested-by"},
		{[]string{"teardown", "--requested-by", "sam@platform.example", "--reason", "gone"}, "name the enablement"},
		{[]string{"test"}, "name the enablement"},
		{[]string{"test", "-w", liveID, "--port", "70000"}, "--port 70000 is not a TCP port"},
		{[]string{"test", "-w", liveID, "--port", "-1"}, "--port -1 is not a TCP port"},
		{[]string{"test", "-w", liveID, "--ports", "1"}, "flag provided but not defined: -ports"},
		{[]string{"adopt"}, "adopt needs -f ADOPT.json"},
		{[]string{"links", "--phase", "live' OR 'x'='x"}, "is not a phase"},
		{[]string{"links", "--cloud", "a b"}, "is not a cloud"},
		{[]string{"by-hand"}, "by-hand needs an action"},
	}
	for _, c := range cases {
		code, out, errOut := cli(c.args...)
		assert.Equal(t, exitInvalid, code, "%v: %s", c.args, errOut)
		assert.Contains(t, errOut, c.want, "%v", c.args)
		assert.Empty(t, out, "%v", c.args)
	}
}

func TestChangeWithBadFileSendsNothing(t *testing.T) {
	noServer(t)
	bad := writeFile(t, "change.json", `{"requestedby": "sam@platform.example", "reason": "x",
		"addServices": [{"name": "amqp", "Port": 5672}], "removePorts": "2222", "dryrun": true}`)
	code, out, errOut := cli("change", "-w", liveID, "-f", bad)
	assert.Equal(t, exitInvalid, code)
	assert.Empty(t, out)
	for _, want := range []string{"invalid PrivateLink change, 4 problems", `removePorts is a JSON string but must be a list`,
		`requestedby is not a change request field: did you mean "requestedBy"?`,
		`addServices[0].Port is not a change request field: did you mean "port"?`,
		`dryrun is not a change request field: did you mean "dryRun"?`, "Nothing was sent."} {
		assert.Contains(t, errOut, want)
	}
	assert.NotContains(t, errOut, "cannot reach Temporal", "nothing was dialled")

	code, _, errOut = cli("change", "-w", liveID, "-f", filepath.Join(t.TempDir(), "missing.json"))
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "no such file")

	// A well-formed change goes on to the server, which is not there.
	good := writeFile(t, "change.json", `{"requestedBy": "sam@platform.example", "reason": "x", "removePorts": [2222]}`)
	code, _, errOut = cli("change", "-w", liveID, "-f", good, "--plan")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "cannot reach Temporal at 127.0.0.1:1")
}

func TestReadChange(t *testing.T) {
	p := writeFile(t, "change.json", `{"requestedBy": "Sam@Platform.Example", "reason": "x", "removePorts": [2222]}`)
	ch, err := readChange(p, false)
	require.NoError(t, err)
	assert.Equal(t, request.Change{RequestedBy: "sam@platform.example", Reason: "x", RemovePorts: []int{2222}}, ch)
	ch, err = readChange(p, true)
	require.NoError(t, err)
	assert.True(t, ch.DryRun, "--plan makes it a dry run")

	p = writeFile(t, "change.json", `{"requestedBy": "a", "reason": "x", "removePorts": [2222], "dryRun": true}`)
	ch, err = readChange(p, false)
	require.NoError(t, err)
	assert.True(t, ch.DryRun, "the file's dryRun stands")
}

// fakeLink is a live link as the client sees it: a status to query, and
// updates that are recorded and answered.
type fakeLink struct {
	st        workflows.Status
	queryErr  error
	answer    any
	updateErr error
	updates   []client.UpdateWorkflowOptions
}

func (f *fakeLink) QueryWorkflow(_ context.Context, id, _, query string, _ ...any) (converter.EncodedValue, error) {
	if f.queryErr != nil {
		return nil, f.queryErr
	}
	if query != workflows.QueryStatus {
		return nil, errors.New("unknown query " + query)
	}
	p, err := converter.GetDefaultDataConverter().ToPayloads(f.st)
	return encodedValue{p}, err
}

func (f *fakeLink) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.updates = append(f.updates, o)
	if f.updateErr != nil {
		return nil, f.updateErr
	}
	return fakeHandle{f.answer}, nil
}

type fakeHandle struct{ answer any }

func (fakeHandle) WorkflowID() string { return liveID }
func (fakeHandle) RunID() string      { return "run-1" }
func (fakeHandle) UpdateID() string   { return "update-1" }
func (h fakeHandle) Get(_ context.Context, v any) error {
	p, err := converter.GetDefaultDataConverter().ToPayload(h.answer)
	if err != nil {
		return err
	}
	return converter.GetDefaultDataConverter().FromPayload(p, v)
}

// sent is the JSON of the update's argument, as the workflow receives it.
func (f *fakeLink) sent(t *testing.T, i int) map[string]any {
	t.Helper()
	require.Greater(t, len(f.updates), i, "update %d was not sent", i)
	require.Len(t, f.updates[i].Args, 1)
	data, err := json.Marshal(f.updates[i].Args[0])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func liveSpec() *workflows.Spec {
	return &workflows.Spec{
		Company: "Acme Corp", Project: "abcd1234efgh5", Environment: "production", Cloud: "aws", Region: "us-east-1",
		ConnectionType: "bidirectional", Services: []request.Service{{Name: "mysql", Port: 3306}, {Name: "sftp", Port: 2222}},
		Accounts: []string{"123456789012"},
		Reverse:  []workflows.ReverseConnection{{Service: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0", Ports: []int{5432}, EndpointID: "vpce-1"}},
	}
}

func TestSpecLink(t *testing.T) {
	assert.Equal(t, request.Link{ConnectionType: "bidirectional", Cloud: "aws", Region: "us-east-1", Ports: []int{3306, 2222}, Accounts: []string{"123456789012"},
		CustomerServices: []string{"com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"}}, liveSpec().Link())
}

// A change invalid for the link as it is now is refused with every
// problem, before anything is sent.
func TestChangeCheckedAgainstTheLinkSendsNothing(t *testing.T) {
	f := &fakeLink{st: workflows.Status{WorkflowID: liveID, Phase: workflows.PhaseLive, Spec: liveSpec()}}
	ch, err := request.DecodeChange([]byte(`{"requestedBy": "sam@platform.example", "reason": "tidy up",
		"addServices": [{"name": "db", "port": 3306}], "removePorts": [3306, 2222, 9999],
		"replaceCustomerAccount": "1234-5678-9012",
		"removeCustomerServices": ["com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210"]}`))
	require.NoError(t, err)
	var out strings.Builder
	err = changeLink(context.Background(), f, liveID, ch, &out)
	var inv *invalidErr
	require.ErrorAs(t, err, &inv, "an invalid change exits 2")
	for _, want := range []string{"5 problems", `removePorts[0] "3306" is also in addServices`, `removePorts[2] "9999" is not open on the link`,
		`removePorts "3306,2222,9999" would close every port of the link`,
		`replaceCustomerAccount "123456789012" is already allowed on the link`, "removeCustomerServices[0]", "Nothing was sent."} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, f.updates, "nothing was sent")
	assert.Empty(t, out.String())

	// A link that is not live yet (no spec) gets no change either.
	f = &fakeLink{st: workflows.Status{WorkflowID: liveID, Phase: workflows.PhaseAwaitingConnection}}
	err = changeLink(context.Background(), f, liveID, request.Change{RequestedBy: "a", Reason: "b", RemovePorts: []int{2222}}, &out)
	require.ErrorContains(t, err, "is not a live link (phase "+string(workflows.PhaseAwaitingConnection)+")")
	assert.Empty(t, f.updates)

	f = &fakeLink{queryErr: errors.New("workflow not found")}
	err = changeLink(context.Background(), f, liveID, request.Change{RequestedBy: "a", Reason: "b", RemovePorts: []int{2222}}, &out)
	require.ErrorContains(t, err, liveID+": workflow not found")
	assert.Empty(t, f.updates)
}

func TestChangeSendsTheChangeAndShowsThePlan(t *testing.T) {
	plan := []workflows.PlanStep{
		{Action: "open port 5672", Detail: "listener and security rule", Who: "linkwright"},
		{Action: "tell the customer", Detail: "port 5672 (amqp) is open", Who: "linkwright"},
		{Action: "allow account 210000000099", Who: "linkwright"},
		{Action: "connect from account 210000000099", Who: "customer"},
	}
	ch, err := request.DecodeChange([]byte(`{"requestedBy": "Sam@Platform.Example", "reason": "new account",
		"addServices": [{"name": "AMQP", "port": 5672}], "replaceCustomerAccount": "2100-0000-0099"}`))
	require.NoError(t, err)

	// A plan only: dryRun is sent, and the answer says nothing changed.
	f := &fakeLink{st: workflows.Status{Spec: liveSpec()}, answer: workflows.ChangeResult{WorkflowID: liveID + "/change/3", DryRun: true, Outcome: workflows.OutcomePlanned, Plan: plan}}
	dry := ch
	dry.DryRun = true
	var out strings.Builder
	require.NoError(t, changeLink(context.Background(), f, liveID, dry, &out))
	require.Len(t, f.updates, 1)
	assert.Equal(t, liveID, f.updates[0].WorkflowID)
	assert.Equal(t, workflows.UpdateChange, f.updates[0].UpdateName)
	assert.Equal(t, client.WorkflowUpdateStageCompleted, f.updates[0].WaitForStage)
	sent := f.sent(t, 0)
	assert.Equal(t, true, sent["dryRun"])
	assert.Equal(t, "210000000099", sent["replaceCustomerAccount"], "sent normalised for the link's cloud")
	assert.Equal(t, "sam@platform.example", sent["requestedBy"])
	_, err = request.DecodeChange(mustJSON(t, f.updates[0].Args[0]))
	require.NoError(t, err, "what is sent decodes strictly, as the workflow decodes it")
	got := out.String()
	assert.Contains(t, got, "Change "+liveID+"/change/3: plan only: add port 5672 (amqp); replace the customer account with 210000000099\n")
	assert.Regexp(t, `(?m)^  1\.\s+\[linkwright\]\s+open port 5672: listener and security rule$`, got)
	assert.Regexp(t, `(?m)^  4\.\s+\[customer\]\s+connect from account 210000000099$`, got)
	assert.Contains(t, got, "Dry run: nothing was changed.")
	assert.NotContains(t, got, "approve")

	// For real: it waits at apply-change, and the output says who acts next.
	f = &fakeLink{st: workflows.Status{Spec: liveSpec()}, answer: workflows.ChangeResult{WorkflowID: liveID + "/change/4", Plan: plan}}
	out.Reset()
	require.NoError(t, changeLink(context.Background(), f, liveID, ch, &out))
	assert.Equal(t, nil, f.sent(t, 0)["dryRun"], "dryRun is left out, false")
	got = out.String()
	assert.Contains(t, got, "Change "+liveID+"/change/4: add port 5672 (amqp)")
	assert.Contains(t, got, "linkwright approve -w "+liveID+" --gate apply-change --approver EMAIL")
	assert.Contains(t, got, "an approver other than sam@platform.example")
	assert.Contains(t, got, "linkwright reject -w "+liveID+" --gate apply-change")

	// The workflow refuses (its validator, or the link is busy).
	f = &fakeLink{st: workflows.Status{Spec: liveSpec()}, updateErr: errors.New("change/3 is under way on this link")}
	err = changeLink(context.Background(), f, liveID, ch, &out)
	require.ErrorContains(t, err, "change on "+liveID+" refused: change/3 is under way on this link")
	var inv *invalidErr
	assert.False(t, errors.As(err, &inv), "a refusal exits 1")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

func TestTeardown(t *testing.T) {
	noServer(t)
	code, out, errOut := cli("teardown", "-w", liveID, "--requested-by", "sam smith", "--reason", "the customer leaves")
	assert.Equal(t, exitInvalid, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "invalid PrivateLink teardown, 1 problem:\n- requestedBy \"sam smith\" contains spaces")
	assert.Contains(t, errOut, "Nothing was sent.")

	f := &fakeLink{answer: workflows.ChangeResult{WorkflowID: liveID + "/teardown", Plan: []workflows.PlanStep{
		{Action: "delete endpoint vpce-1", Who: "linkwright"}, {Action: "delete the endpoint service", Detail: "once our endpoint is gone", Who: "customer"}}}}
	var b strings.Builder
	td := request.Teardown{RequestedBy: "Sam@Platform.Example", Reason: "the customer leaves"}.Normalize()
	require.NoError(t, teardownLink(context.Background(), f, liveID, td, &b))
	require.Len(t, f.updates, 1)
	assert.Equal(t, workflows.UpdateTeardown, f.updates[0].UpdateName)
	assert.Equal(t, map[string]any{"requestedBy": "sam@platform.example", "reason": "the customer leaves"}, f.sent(t, 0))
	got := b.String()
	assert.Contains(t, got, "Teardown of "+liveID+" requested by sam@platform.example: the customer leaves\nIt runs as "+liveID+"/teardown.\n")
	assert.Regexp(t, `(?m)^  2\.\s+\[customer\]\s+delete the endpoint service: once our endpoint is gone$`, got)
	assert.Contains(t, got, "linkwright approve -w "+liveID+" --gate teardown --approver EMAIL")

	f = &fakeLink{updateErr: errors.New("the link has ended (torn-down)")}
	require.ErrorContains(t, teardownLink(context.Background(), f, liveID, td, &b), "teardown on "+liveID+" refused: the link has ended")
}

func TestTestConnection(t *testing.T) {
	checked := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ok := probe.Result{Host: "vpce-1.example", Port: 5432, Outcome: probe.Connected, Diagnosis: "vpce-1.example:5432 (10.0.0.5) connected in 3 ms"}
	bad := probe.Result{Host: "vpce-1.example", Port: 6379, Outcome: probe.Refused, Diagnosis: "vpce-1.example:6379 (10.0.0.5) refused the connection: ask the customer"}

	f := &fakeLink{answer: workflows.TestResult{OK: false, Checked: checked, Results: []probe.Result{ok, bad}, Problems: []string{bad.Diagnosis}}}
	var b strings.Builder
	err := testLink(context.Background(), f, liveID, 0, &b)
	require.EqualError(t, err, "1 of 2 ports failing on "+liveID)
	var ue *usageErr
	var inv *invalidErr
	assert.False(t, errors.As(err, &ue) || errors.As(err, &inv), "a failing port exits 1")
	assert.Equal(t, map[string]any{"port": float64(0)}, f.sent(t, 0))
	assert.Equal(t, workflows.UpdateTestConnection, f.updates[0].UpdateName)
	got := b.String()
	assert.Contains(t, got, "Tested "+liveID+" at Mon 2 Mar 10:00:00 UTC:")
	assert.Regexp(t, `(?m)^  5432\s+ok\s+connected\s+vpce-1.example:5432 \(10.0.0.5\) connected in 3 ms$`, got)
	assert.Regexp(t, `(?m)^  6379\s+FAILING\s+refused\s+vpce-1.example:6379 \(10.0.0.5\) refused the connection: ask the customer$`, got)
	assert.Equal(t, 1, strings.Count(got, "refused the connection"), "a failing port's diagnosis is shown once")

	f = &fakeLink{answer: workflows.TestResult{OK: true, Checked: checked, Results: []probe.Result{ok}}}
	b.Reset()
	require.NoError(t, testLink(context.Background(), f, liveID, 5432, &b))
	assert.Equal(t, map[string]any{"port": float64(5432)}, f.sent(t, 0))
	assert.Contains(t, b.String(), "OK: every port tested connects.")

	// Every port connects but the platform side is broken.
	f = &fakeLink{answer: workflows.TestResult{OK: false, Checked: checked, Problems: []string{"target 10.0.1.4:3306 is unhealthy"}}}
	b.Reset()
	require.ErrorContains(t, testLink(context.Background(), f, liveID, 0, &b), "is not healthy: target 10.0.1.4:3306 is unhealthy")
	assert.Contains(t, b.String(), "Problem: target 10.0.1.4:3306 is unhealthy")

	f = &fakeLink{updateErr: errors.New("port 1 is not a port of this link's reverse connections")}
	require.ErrorContains(t, testLink(context.Background(), f, liveID, 1, &b), "test-connection on "+liveID+" refused: port 1 is not")
}

const goodAdopt = `{
  "company": "Acme Corp", "ticket": "PL-0042", "requestedBy": "sam@platform.example",
  "projectId": "abcd1234efgh5", "environment": "production", "cloud": "aws", "region": "us-east-1",
  "customerAccount": "1234-5678-9012", "services": [{"name": "mysql", "port": 3306}],
  "reverseEndpoints": [{"endpointId": "vpce-0123456789abcdef0", "ports": [5432]}]
}`

func TestAdoptValidatesBeforeStarting(t *testing.T) {
	noServer(t)
	bad := writeFile(t, "adopt.json", `{"company": "", "requestedBy": "sam@platform.example", "projectId": "abcd1234efgh5",
		"environment": "integration", "cloud": "azure", "region": "westeurope", "customerAccount": "123",
		"services": [{"name": "web", "port": 443}], "reverseEndpoints": [{"endpointId": "", "ports": [22]}]}`)
	code, out, errOut := cli("adopt", "-f", bad)
	assert.Equal(t, exitInvalid, code)
	assert.Empty(t, out)
	for _, want := range []string{"invalid PrivateLink adopt request, 6 problems", "company is required", `environment "integration" cannot use PrivateLink`,
		`customerAccount "123" is not an Azure subscription ID`, `services[0].port "443" is HTTPS`,
		"reverseEndpoints[0].endpointId is required", `reverseEndpoints[0].ports[0] "22" is SSH`, "Nothing was started."} {
		assert.Contains(t, errOut, want)
	}

	misspelt := writeFile(t, "adopt.json", `{"projectID": "x", "connectionType": "unidirectional"}`)
	code, _, errOut = cli("adopt", "-f", misspelt)
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, `projectID is not an adopt request field: did you mean "projectId"?`)
	assert.Contains(t, errOut, "connectionType is not an adopt request field")

	good := writeFile(t, "adopt.json", goodAdopt)
	code, out, _ = cli("adopt", "-f", good, "--dry-run")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "adopt.json is valid")

	code, _, errOut = cli("adopt", "-f", good)
	assert.Equal(t, exitFailed, code, "a valid adoption goes on to the server")
	assert.Contains(t, errOut, "cannot reach Temporal")
}

type fakeStarter struct {
	opts     client.StartWorkflowOptions
	workflow any
	args     []any
	err      error
}

func (f *fakeStarter) ExecuteWorkflow(_ context.Context, o client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	f.opts, f.workflow, f.args = o, wf, args
	if f.err != nil {
		return nil, f.err
	}
	return fakeRun{id: o.ID}, nil
}

type fakeRun struct {
	client.WorkflowRun
	id string
}

func (r fakeRun) GetID() string    { return r.id }
func (r fakeRun) GetRunID() string { return "run-1" }

func TestAdoptStartsTheLiveLink(t *testing.T) {
	t.Setenv("LINKWRIGHT_CONFIG", "")
	ad, err := request.DecodeAdopt([]byte(goodAdopt))
	require.NoError(t, err)
	f := &fakeStarter{}
	var b strings.Builder
	require.NoError(t, startAdopt(context.Background(), f, ad, []byte(goodAdopt), &b))
	assert.Equal(t, workflows.LiveWorkflow, f.workflow)
	assert.Equal(t, liveID, f.opts.ID)
	assert.Equal(t, workflows.TaskQueue, f.opts.TaskQueue)
	assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL, f.opts.WorkflowIDConflictPolicy)
	assert.True(t, f.opts.WorkflowExecutionErrorWhenAlreadyStarted)
	require.Len(t, f.args, 1)
	assert.Equal(t, json.RawMessage(goodAdopt), f.args[0], "the file's own bytes are the input")
	sa := f.opts.TypedSearchAttributes
	assert.Equal(t, 5, sa.Size())
	for key, want := range map[temporal.SearchAttributeKeyKeyword]string{workflows.SAProject: "abcd1234efgh5", workflows.SAEnvironment: "production",
		workflows.SACloud: "aws", workflows.SACustomerAccount: "123456789012", workflows.SATicket: "PL-0042"} {
		got, ok := sa.GetKeyword(key)
		assert.True(t, ok, key.GetName())
		assert.Equal(t, want, got, key.GetName())
	}
	assert.Contains(t, f.opts.StaticSummary, "Acme Corp")
	assert.Contains(t, f.opts.StaticDetails, "vpce-0123456789abcdef0")
	got := b.String()
	assert.Contains(t, got, "Started the adoption of "+liveID+" (run run-1).")
	assert.Contains(t, got, "linkwright approve -w "+liveID+" --gate adopt --approver EMAIL")

	f = &fakeStarter{err: serviceerror.NewWorkflowExecutionAlreadyStarted("already started", "", "run-0")}
	err = startAdopt(context.Background(), f, ad, []byte(goodAdopt), &b)
	require.ErrorContains(t, err, "a workflow for abcd1234efgh5/production on aws is already running ("+liveID+")")
	assert.ErrorContains(t, err, "linkwright status -w "+liveID)
}

func TestLinksQuery(t *testing.T) {
	base := "WorkflowType IN ('PrivateLinkEnablement','PrivateLinkLive') AND ExecutionStatus = 'Running'"
	q, err := linksQuery("", "")
	require.NoError(t, err)
	assert.Equal(t, base, q)
	q, err = linksQuery("Degraded", " azure ")
	require.NoError(t, err)
	assert.Equal(t, base+" AND PrivateLinkPhase = 'degraded' AND PrivateLinkCloud = 'azure'", q)
	_, err = linksQuery("x'y", "")
	var ue *usageErr
	require.ErrorAs(t, err, &ue)
}

func keywordPayload(t *testing.T, v string) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	p.Metadata["type"] = []byte("Keyword")
	return p
}

func memoPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

func execution(t *testing.T, id string, sa map[string]string, memo map[string]any) *workflowpb.WorkflowExecutionInfo {
	info := &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "r"}}
	if sa != nil {
		info.SearchAttributes = &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{}}
		for k, v := range sa {
			info.SearchAttributes.IndexedFields[k] = keywordPayload(t, v)
		}
	}
	if memo != nil {
		info.Memo = &commonpb.Memo{Fields: map[string]*commonpb.Payload{}}
		for k, v := range memo {
			info.Memo.Fields[k] = memoPayload(t, v)
		}
	}
	return info
}

type fakeLister struct {
	pages   [][]*workflowpb.WorkflowExecutionInfo
	queries []string
	tokens  [][]byte
}

func (f *fakeLister) ListWorkflow(_ context.Context, r *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.queries = append(f.queries, r.GetQuery())
	f.tokens = append(f.tokens, r.GetNextPageToken())
	i := len(f.queries) - 1
	resp := &workflowservice.ListWorkflowExecutionsResponse{Executions: f.pages[i]}
	if i+1 < len(f.pages) {
		resp.NextPageToken = []byte{byte(i + 1)}
	}
	return resp, nil
}

func TestLinks(t *testing.T) {
	lastCheck := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	live := execution(t, "privatelink/p2/production/aws", map[string]string{
		"PrivateLinkProject": "p2", "PrivateLinkEnvironment": "production", "PrivateLinkCloud": "aws",
		"PrivateLinkCustomerAccount": "123456789012", "PrivateLinkPhase": "live", "PrivateLinkTicket": "PL-0042",
		"PrivateLinkConnectionType": "bidirectional",
	}, map[string]any{"health": map[string]any{"healthy": true, "lastCheck": lastCheck, "problems": 0}})
	degraded := execution(t, "privatelink/p3/staging/azure", map[string]string{"PrivateLinkPhase": "degraded", "PrivateLinkCloud": "azure"},
		map[string]any{"health": map[string]any{"healthy": false, "lastCheck": lastCheck, "problems": 2}, "other": "x"})
	enabling := execution(t, "privatelink/p1/production/aws", map[string]string{"PrivateLinkPhase": "awaiting-customer-connection"}, nil)
	bare := execution(t, "privatelink/p4/staging/aws", nil, map[string]any{"health": nil})

	f := &fakeLister{pages: [][]*workflowpb.WorkflowExecutionInfo{{live, degraded}, {enabling, bare}}}
	rows, err := listLinks(context.Background(), f, "Q")
	require.NoError(t, err)
	assert.Equal(t, []string{"Q", "Q"}, f.queries)
	assert.Equal(t, [][]byte{nil, {1}}, f.tokens, "it follows the page token")
	require.Len(t, rows, 4)
	assert.Equal(t, linkRow{ID: "privatelink/p2/production/aws", Project: "p2", Environment: "production", Phase: "live", Health: "healthy",
		LastCheck: "Mon 2 Mar 09:30:00 UTC", Customer: "123456789012", Cloud: "aws", Type: "bidirectional", Ticket: "PL-0042"}, rows[1])

	var b strings.Builder
	printLinks(&b, rows)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 6, b.String())
	assert.Regexp(t, `^LINK\s+PHASE\s+HEALTH\s+LAST CHECK\s+CUSTOMER\s+CLOUD\s+TYPE\s+TICKET$`, lines[0])
	assert.Regexp(t, `^privatelink/p1/production/aws\s+awaiting-customer-connection\s+-\s+-\s+-\s+-\s+-\s+-$`, lines[1], "sorted by link; no memo, no attributes: -")
	assert.Regexp(t, `^privatelink/p2/production/aws\s+live\s+healthy\s+Mon 2 Mar 09:30:00 UTC\s+123456789012\s+aws\s+bidirectional\s+PL-0042$`, lines[2])
	assert.Regexp(t, `^privatelink/p3/staging/azure\s+degraded\s+failing \(2\)\s+Mon 2 Mar 09:30:00 UTC\s+-\s+azure\s+-\s+-$`, lines[3])
	assert.Regexp(t, `^privatelink/p4/staging/aws\s+-\s+-\s+-\s+-\s+-\s+-\s+-$`, lines[4], "a memo cleared to null reads as none")
	assert.Equal(t, "4 links.", lines[5])

	b.Reset()
	printLinks(&b, nil)
	assert.Equal(t, "No running links match.\n", b.String())
}
