package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/workflows"
)

type sent struct{ id, signal string }

type fakeSignaler struct {
	running map[string][]string // ticket -> workflow IDs
	queries []string
	sent    []sent
	updates []client.UpdateWorkflowOptions
	// refuse is what the update to a workflow ends with (nil: approved).
	refuse map[string]error
}

func (f *fakeSignaler) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.queries = append(f.queries, req.Query)
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	for key, ids := range f.running {
		if bytes.Contains([]byte(req.Query), []byte("'"+key+"'")) {
			for _, id := range ids {
				resp.Executions = append(resp.Executions, &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: id}})
			}
		}
	}
	return resp, nil
}

func (f *fakeSignaler) SignalWorkflow(_ context.Context, id, _, name string, _ any) error {
	f.sent = append(f.sent, sent{id, name})
	return nil
}

func (f *fakeSignaler) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.updates = append(f.updates, o)
	return outcome{o.WorkflowID, f.refuse[o.WorkflowID]}, nil
}

// outcome is a completed update's handle.
type outcome struct {
	id  string
	err error
}

func (o outcome) WorkflowID() string             { return o.id }
func (o outcome) RunID() string                  { return "" }
func (o outcome) UpdateID() string               { return "" }
func (o outcome) Get(context.Context, any) error { return o.err }

var now = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func setup() (*Receiver, *fakeSignaler) {
	f := &fakeSignaler{running: map[string][]string{"4242": {"privatelink/abcd1234efgh5/production/aws"}}}
	return &Receiver{Signaler: f, ZendeskSecret: "whsec", Now: func() time.Time { return now }}, f
}

func post(rc *Receiver, body string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/zendesk", bytes.NewBufferString(body))
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	rc.Handler().ServeHTTP(rec, req)
	return rec
}

func signed(secret string, at time.Time, body string) http.Header {
	ts := at.Format(time.RFC3339)
	return http.Header{
		"X-Zendesk-Webhook-Signature-Timestamp": {ts},
		"X-Zendesk-Webhook-Signature":           {ZendeskSignature(secret, ts, []byte(body))},
	}
}

const body = `{"ticket": "4242", "tags": "privatelink privatelink:endpoint-created vip"}`

func TestZendeskSignedWebhookSignals(t *testing.T) {
	rc, f := setup()
	rec := post(rc, body, signed("whsec", now.Add(-time.Minute), body))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, []sent{{"privatelink/abcd1234efgh5/production/aws", workflows.SignalCustomerEndpointCreated}}, f.sent)
	assert.Equal(t, []string{"PrivateLinkTicket = '4242' AND ExecutionStatus = 'Running'"}, f.queries)
}

func TestZendeskRefusesUnsignedBadAndStale(t *testing.T) {
	cases := map[string]http.Header{
		"missing":         {},
		"bad signature":   signed("not-the-secret", now, body),
		"stale":           signed("whsec", now.Add(-10*time.Minute), body),
		"from the future": signed("whsec", now.Add(10*time.Minute), body),
	}
	for name, h := range cases {
		rc, f := setup()
		rec := post(rc, body, h)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assert.Empty(t, f.sent, name)
		assert.Empty(t, f.queries, "%s: nothing is looked up for a refused request", name)
	}
	rc, f := setup()
	tampered := signed("whsec", now, body)
	rec := post(rc, `{"ticket": "4242", "tags": "privatelink:verified"}`, tampered)
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "a signature for another body")
	assert.Empty(t, f.sent)
}

func TestUnknownTicketsAndTagsAreAcknowledged(t *testing.T) {
	for _, b := range []string{
		`{"ticket": "9999", "tags": "privatelink:access-granted"}`,
		`{"ticket": "4242", "tags": ["vip", "billing"]}`,
		`{"ticket": "42'42", "tags": "privatelink:verified"}`,
	} {
		rc, f := setup()
		rec := post(rc, b, signed("whsec", now, b))
		assert.Equal(t, http.StatusOK, rec.Code, b)
		assert.Contains(t, rec.Body.String(), "ignored", b)
		assert.Empty(t, f.sent, b)
	}
}

func TestTagMapping(t *testing.T) {
	for tag, want := range map[string]string{
		"privatelink:endpoint-created":    workflows.SignalCustomerEndpointCreated,
		"PrivateLink:Access-Granted":      workflows.SignalCustomerAccessGranted,
		"privatelink_connection_accepted": workflows.SignalCustomerConnectionAccepted,
		"privatelink-verified":            workflows.SignalCustomerVerified,
	} {
		got, ok := signalFor(tag)
		assert.True(t, ok, tag)
		assert.Equal(t, want, got, tag)
	}
	for _, tag := range []string{"privatelink", "privatelink:approve", "endpoint-created"} {
		_, ok := signalFor(tag)
		assert.False(t, ok, tag)
	}
}

func TestUnconfiguredEndpointIsOff(t *testing.T) {
	rc := &Receiver{Signaler: &fakeSignaler{}}
	rec := post(rc, body, signed("", now, body))
	assert.Equal(t, http.StatusNotFound, rec.Code)
}

func githubRequest(secret, event, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	if secret != "" {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(body))
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	}
	return req
}

func labeled(number int, label string, updated time.Time) string {
	return fmt.Sprintf(`{"action": "labeled", "label": {"name": %q}, "issue": {"number": %d, "updated_at": %q}}`, label, number, updated.Format(time.RFC3339))
}

func TestGitHubSignedLabelSignals(t *testing.T) {
	f := &fakeSignaler{running: map[string][]string{"12": {"privatelink/p/production/aws"}}}
	rc := &Receiver{Signaler: f, GitHubSecret: "ghsec", Now: func() time.Time { return now }}
	body := labeled(12, "privatelink:access-granted", now)
	rec := httptest.NewRecorder()
	rc.Handler().ServeHTTP(rec, githubRequest("ghsec", "issues", body))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, []sent{{"privatelink/p/production/aws", workflows.SignalCustomerAccessGranted}}, f.sent)

	for name, req := range map[string]*http.Request{
		"missing": githubRequest("", "issues", body),
		"bad":     githubRequest("other", "issues", body),
		"stale":   githubRequest("ghsec", "issues", labeled(12, "privatelink:access-granted", now.Add(-time.Hour))),
	} {
		f.sent = nil
		rec := httptest.NewRecorder()
		rc.Handler().ServeHTTP(rec, req)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assert.Empty(t, f.sent, name)
	}
	rec = httptest.NewRecorder()
	rc.Handler().ServeHTTP(rec, githubRequest("ghsec", "issue_comment", body))
	assert.Contains(t, rec.Body.String(), "ignored")
}

func jiraRequest(secret, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/jira", bytes.NewBufferString(body))
	if secret != "" {
		req.Header.Set("X-Hub-Signature", HubSignature(secret, []byte(body)))
	}
	return req
}

func jiraUpdate(at time.Time, from, to string) string {
	labels, _ := json.Marshal(strings.Fields(to))
	return fmt.Sprintf(`{"timestamp": %d, "webhookEvent": "jira:issue_updated", "issue": {"key": "PL-7", "fields": {"labels": %s}},
		"changelog": {"items": [{"field": "labels", "fromString": %q, "toString": %q}]}}`, at.UnixMilli(), labels, from, to)
}

func TestJiraSignedLabelSignals(t *testing.T) {
	f := &fakeSignaler{running: map[string][]string{"PL-7": {"privatelink/p/staging/azure"}}}
	rc := &Receiver{Signaler: f, JiraSecret: "jsec", Now: func() time.Time { return now }}
	body := jiraUpdate(now, "privatelink privatelink:endpoint-created", "privatelink privatelink:endpoint-created privatelink:verified")
	rec := httptest.NewRecorder()
	rc.Handler().ServeHTTP(rec, jiraRequest("jsec", body))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, []sent{{"privatelink/p/staging/azure", workflows.SignalCustomerVerified}}, f.sent, "only the label this update added")

	for name, req := range map[string]*http.Request{
		"missing": jiraRequest("", body),
		"bad":     jiraRequest("other", body),
		"stale":   jiraRequest("jsec", jiraUpdate(now.Add(-time.Hour), "", "privatelink:verified")),
	} {
		f.sent = nil
		rec := httptest.NewRecorder()
		rc.Handler().ServeHTTP(rec, req)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assert.Empty(t, f.sent, name)
	}
}

func TestServiceNowSharedSecret(t *testing.T) {
	f := &fakeSignaler{running: map[string][]string{"INC0000042": {"privatelink/p/production/azure"}}}
	rc := &Receiver{Signaler: f, ServiceNowSecret: "snsec", Now: func() time.Time { return now }}
	body := `{"ticket": "INC0000042", "event": "privatelink:connection-accepted"}`
	req := func(secret string, at time.Time) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/servicenow", bytes.NewBufferString(body))
		if secret != "" {
			r.Header.Set("X-Linkwright-Secret", secret)
		}
		r.Header.Set("X-Linkwright-Timestamp", at.Format(time.RFC3339))
		return r
	}
	rec := httptest.NewRecorder()
	rc.Handler().ServeHTTP(rec, req("snsec", now))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, []sent{{"privatelink/p/production/azure", workflows.SignalCustomerConnectionAccepted}}, f.sent)
	for name, r := range map[string]*http.Request{"missing": req("", now), "bad": req("guess", now), "stale": req("snsec", now.Add(-time.Hour))} {
		f.sent = nil
		rec := httptest.NewRecorder()
		rc.Handler().ServeHTTP(rec, r)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, name)
		assert.Empty(t, f.sent, name)
	}
}
