package webhook

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/linkwright/linkwright/internal/approval"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/workflows"
)

const link = "privatelink/abcd1234efgh5/production/aws"

// signing sets up webhook approval signing as the worker does: a key file,
// the policy config derives from it, and the signer read from it.
func signing(t *testing.T) (*approval.Signer, config.SignedApprovals) {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "approval.pem")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	c := config.Default()
	c.StateDir = t.TempDir()
	require.NoError(t, config.Parse(fmt.Appendf(nil, `{"webhooks": {"approvalKeyFile": %q}}`, path), &c))
	s, err := approval.NewSigner(path)
	require.NoError(t, err)
	return s, c.Policy.SignedApprovals
}

var agents = map[string]string{
	"github:octocat":                "alice@platform.example",
	"jira:5b10ac8d82e05b22cc7d4ef5": "bob@platform.example",
	"servicenow:bob.smith":          "bob@platform.example",
}

func receiver(t *testing.T, ticket string) (*Receiver, *fakeSignaler, config.SignedApprovals) {
	t.Helper()
	signer, policy := signing(t)
	f := &fakeSignaler{running: map[string][]string{ticket: {link}}}
	return &Receiver{Signaler: f, Signer: signer, Agents: agents, Now: func() time.Time { return now },
		ZendeskSecret: "whsec", GitHubSecret: "ghsec", JiraSecret: "jsec", ServiceNowSecret: "snsec"}, f, policy
}

func serve(rc *Receiver, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	rc.Handler().ServeHTTP(rec, req)
	return rec
}

// approved checks that exactly one approve update reached the link, for
// gate as approver, waiting for its outcome, with a token that the
// workflow's verification accepts under the derived issuer.
func approved(t *testing.T, f *fakeSignaler, policy config.SignedApprovals, gate, approver, comment string) {
	t.Helper()
	require.Len(t, f.updates, 1)
	u := f.updates[0]
	assert.Equal(t, link, u.WorkflowID)
	assert.Equal(t, workflows.Approve, u.UpdateName)
	assert.Equal(t, client.WorkflowUpdateStageCompleted, u.WaitForStage, "the answer says what the workflow decided")
	require.Len(t, u.Args, 1)
	a, ok := u.Args[0].(workflows.Approval)
	require.True(t, ok, "%T", u.Args[0])
	assert.Equal(t, gate, a.Gate)
	assert.Equal(t, approver, a.Approver)
	assert.Equal(t, comment, a.Comment)
	id, err := approval.Verify(policy, a.IDToken, now.Add(30*time.Second))
	require.NoError(t, err)
	assert.Equal(t, approver, id.Email)
	assert.Equal(t, approval.WebhookIssuer, id.Issuer)
}

func zendeskPost(rc *Receiver, body string) *httptest.ResponseRecorder {
	return post(rc, body, signed("whsec", now, body))
}

func TestZendeskApprovalEvent(t *testing.T) {
	rc, f, policy := receiver(t, "4242")
	rec := zendeskPost(rc, `{"ticket": 4242, "event": "privatelink:approve:accept-connection", "agent": "Alice@Platform.Example", "tags": "privatelink vip"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	approved(t, f, policy, workflows.GateAcceptConnection, "alice@platform.example", "approved on zendesk ticket 4242")
	assert.Equal(t, link+": approved accept-connection as alice@platform.example\n", rec.Body.String())
	assert.Empty(t, f.sent, "an approval is no customer fact")
}

// Zendesk re-sends the whole tag list on every change: an approve tag left
// in it would approve whatever gate opens next.
func TestZendeskTagsListNeverApproves(t *testing.T) {
	rc, f, _ := receiver(t, "4242")
	rec := zendeskPost(rc, `{"ticket": "4242", "tags": "privatelink:approve:accept-connection privatelink:endpoint-created", "agent": "alice@platform.example"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Empty(t, f.updates)
	assert.Equal(t, []sent{{link, workflows.SignalCustomerEndpointCreated}}, f.sent, "the customer facts in the list still signal")
}

func TestZendeskApprovalWithoutAgentIsNotSent(t *testing.T) {
	rc, f, _ := receiver(t, "4242")
	for body, why := range map[string]string{
		`{"ticket": "4242", "event": "privatelink:approve:accept-connection"}`:                `the zendesk webhook names no agent: add "agent": "{{current_user.email}}" to the trigger's body`,
		`{"ticket": "4242", "event": "privatelink:approve:accept-connection", "agent": "Al"}`: `the zendesk agent "Al" is not an e-mail: add "agent": "{{current_user.email}}" to the trigger's body`,
	} {
		rec := zendeskPost(rc, body)
		assert.Equal(t, http.StatusOK, rec.Code, "acknowledged, so that Zendesk does not retry")
		assert.Equal(t, "not approved (accept-connection): "+why+"\n", rec.Body.String())
	}
	assert.Empty(t, f.updates)
	assert.Empty(t, f.queries, "nothing to send, nothing looked up")
}

func TestGitHubApprovalLabel(t *testing.T) {
	rc, f, policy := receiver(t, "12")
	body := func(label, login string) string {
		return fmt.Sprintf(`{"action": "labeled", "label": {"name": %q}, "issue": {"number": 12, "updated_at": %q}, "sender": {"login": %q}}`,
			label, now.Format(time.RFC3339), login)
	}
	rec := serve(rc, githubRequest("ghsec", "issues", body("privatelink_approve_accept_connection", "OctoCat")))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	approved(t, f, policy, workflows.GateAcceptConnection, "alice@platform.example", "approved on github ticket 12")

	f.updates = nil
	rec = serve(rc, githubRequest("ghsec", "issues", body("privatelink:approve:accept-connection", "mallory")))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, f.updates, "an unmapped login approves nothing")
	assert.Equal(t, `not approved (accept-connection): the github agent "mallory" is not mapped to an approver: add "github:mallory": "<their e-mail>" to webhooks.agents`+"\n", rec.Body.String())
}

func TestJiraApprovalLabel(t *testing.T) {
	update := func(user string) string {
		return fmt.Sprintf(`{"timestamp": %d, "webhookEvent": "jira:issue_updated", "user": %s,
			"issue": {"key": "PL-7", "fields": {"labels": ["privatelink", "privatelink-approve-create-reverse-endpoint"]}},
			"changelog": {"items": [{"field": "labels", "fromString": "privatelink", "toString": "privatelink privatelink-approve-create-reverse-endpoint"}]}}`,
			now.UnixMilli(), user)
	}
	for user, approver := range map[string]string{
		`{"accountId": "5b10ac8d82e05b22cc7d4ef5"}`:                                  "bob@platform.example",
		`{"accountId": "5b10ac8d82e05b22cc7d4ef5", "emailAddress": ""}`:              "bob@platform.example",
		`{"accountId": "557058:f58131cb", "emailAddress": "Carol@Platform.Example"}`: "carol@platform.example",
	} {
		rc, f, policy := receiver(t, "PL-7")
		rec := serve(rc, jiraRequest("jsec", update(user)))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		approved(t, f, policy, workflows.GateCreateReverseEndpoint, approver, "approved on jira ticket PL-7")
	}

	rc, f, _ := receiver(t, "PL-7")
	rec := serve(rc, jiraRequest("jsec", update(`{"accountId": "unknown"}`)))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, f.updates)
	assert.Contains(t, rec.Body.String(), `add "jira:unknown": "<their e-mail>" to webhooks.agents`)

	// A label already on the issue is no new approval.
	rec = serve(rc, jiraRequest("jsec", jiraUpdate(now, "privatelink:approve:accept-connection", "privatelink:approve:accept-connection vip")))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, f.updates)
}

func servicenowRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/servicenow", bytes.NewBufferString(body))
	r.Header.Set("X-Linkwright-Secret", "snsec")
	r.Header.Set("X-Linkwright-Timestamp", now.Format(time.RFC3339))
	return r
}

func TestServiceNowApprovalEvent(t *testing.T) {
	for agent, approver := range map[string]string{"bob.smith": "bob@platform.example", "dave@platform.example": "dave@platform.example"} {
		rc, f, policy := receiver(t, "INC0000042")
		rec := serve(rc, servicenowRequest(`{"ticket": "INC0000042", "event": "privatelink:approve:accept-connection", "agent": "`+agent+`"}`))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		approved(t, f, policy, workflows.GateAcceptConnection, approver, "approved on servicenow ticket INC0000042")
	}

	rc, f, _ := receiver(t, "INC0000042")
	rec := serve(rc, servicenowRequest(`{"ticket": "INC0000042", "tags": ["privatelink:approve:accept-connection"], "agent": "bob.smith"}`))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, f.updates, "the tags list never approves")
	rec = serve(rc, servicenowRequest(`{"ticket": "INC0000042", "event": "privatelink:approve:accept-connection", "agent": "eve"}`))
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Empty(t, f.updates)
	assert.Contains(t, rec.Body.String(), `the servicenow agent "eve" is not mapped to an approver`)
}

func TestApprovalAnswerPerWorkflow(t *testing.T) {
	rc, f, _ := receiver(t, "4242")
	other := "privatelink/abcd1234efgh5/staging/aws"
	ended := "privatelink/abcd1234efgh5/production/azure"
	f.running["4242"] = []string{link, other, ended}
	f.refuse = map[string]error{
		other: temporal.NewApplicationError("gate accept-connection is not open: the enablement waits at create-reverse-endpoint", "Refused"),
		ended: serviceerror.NewNotFound("workflow execution already completed"),
	}
	rec := zendeskPost(rc, `{"ticket": "4242", "event": "privatelink_approve_accept_connection", "agent": "alice@platform.example"}`)
	require.Equal(t, http.StatusOK, rec.Code, "a refusal is the workflow's answer, not a failure to retry")
	assert.Equal(t, link+": approved accept-connection as alice@platform.example\n"+
		other+": not approved (accept-connection): gate accept-connection is not open: the enablement waits at create-reverse-endpoint\n"+
		ended+": not approved (accept-connection): the workflow is no longer running\n", rec.Body.String())
	assert.Len(t, f.updates, 3)

	f.refuse = map[string]error{link: serviceerror.NewUnavailable("connection refused")}
	rec = zendeskPost(rc, `{"ticket": "4242", "event": "privatelink:approve:accept-connection", "agent": "alice@platform.example"}`)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "Temporal out of reach: the ticket system retries")
}

func TestApprovalWithoutSignerIsUnsigned(t *testing.T) {
	rc, f, _ := receiver(t, "4242")
	rc.Signer = nil
	rec := zendeskPost(rc, `{"ticket": "4242", "event": "privatelink:approve:accept-connection", "agent": "alice@platform.example"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Len(t, f.updates, 1)
	assert.Empty(t, f.updates[0].Args[0].(workflows.Approval).IDToken, "the workflow's policy decides whether an unsigned approval counts")
}

func TestGateMapping(t *testing.T) {
	for tag, want := range map[string]string{
		"privatelink:approve:accept-connection":       "accept-connection",
		"PrivateLink:Approve:Create-Reverse-Endpoint": "create-reverse-endpoint",
		"privatelink_approve_accept_connection":       "accept-connection",
		"privatelink-approve-create-reverse-endpoint": "create-reverse-endpoint",
	} {
		got, ok := gateFor(tag)
		assert.True(t, ok, tag)
		assert.Equal(t, want, got, tag)
	}
	for _, tag := range []string{"", "privatelink:approve", "privatelink:approve:", "privatelink:approve:a gate", "privatelink:endpoint-created", "approve:accept-connection", "privatelink:approve:-x"} {
		_, ok := gateFor(tag)
		assert.False(t, ok, tag)
	}
	for _, tag := range []string{"privatelink:approve:accept-connection", "privatelink_approve_accept_connection"} {
		_, ok := signalFor(tag)
		assert.False(t, ok, "an approval is no customer fact: %s", tag)
	}
}
