// Package webhook lets ticket events reach the workflows as signals: a
// signed webhook from the ticket system, whose tags say what the customer
// did, becomes the DESIGN.md signal to the enablement the ticket belongs to
// (found by the PrivateLinkTicket search attribute). Unsigned, badly
// signed and stale requests are refused; unknown tickets and events are
// acknowledged and ignored.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v84/github"
	"go.temporal.io/api/workflowservice/v1"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/workflows"
)

// Signaler is what the receiver needs from a Temporal client.
type Signaler interface {
	ListWorkflow(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// Receiver serves the webhook endpoints.
type Receiver struct {
	Signaler Signaler
	// ZendeskSecret is the Zendesk webhook's signing secret; empty turns
	// the Zendesk endpoint off. GitHubSecret likewise for GitHub.
	ZendeskSecret    string
	GitHubSecret     string
	JiraSecret       string
	ServiceNowSecret string
	// Window is how old a signed request may be (5 minutes by default).
	Window time.Duration
	Now    func() time.Time
	Log    *zap.Logger
}

// Handler routes /webhooks/zendesk, /webhooks/github, /webhooks/jira and
// /webhooks/servicenow.
func (rc *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/zendesk", rc.zendesk)
	mux.HandleFunc("POST /webhooks/github", rc.github)
	mux.HandleFunc("POST /webhooks/jira", rc.jira)
	mux.HandleFunc("POST /webhooks/servicenow", rc.servicenow)
	return mux
}

func (rc *Receiver) now() time.Time {
	if rc.Now != nil {
		return rc.Now()
	}
	return time.Now()
}

func (rc *Receiver) window() time.Duration {
	if rc.Window > 0 {
		return rc.Window
	}
	return 5 * time.Minute
}

func (rc *Receiver) log() *zap.Logger {
	if rc.Log != nil {
		return rc.Log
	}
	return zap.NewNop()
}

// refuse answers 401 and logs why (never the secret or the signature).
func (rc *Receiver) refuse(w http.ResponseWriter, r *http.Request, why string) {
	rc.log().Warn("webhook refused", zap.String("path", r.URL.Path), zap.String("remote", r.RemoteAddr), zap.String("why", why))
	http.Error(w, "refused: "+why, http.StatusUnauthorized)
}

// ZendeskSignature is how Zendesk signs a webhook: base64 of the
// HMAC-SHA256 of the timestamp followed by the body.
func ZendeskSignature(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// zendeskEvent is the body the Zendesk webhook sends: configure the
// trigger's JSON body as {"ticket": "{{ticket.id}}", "tags": "{{ticket.tags}}"}.
type zendeskEvent struct {
	Ticket json.RawMessage `json:"ticket"`
	Tags   json.RawMessage `json:"tags"`
	Detail string          `json:"detail"`
}

func (rc *Receiver) zendesk(w http.ResponseWriter, r *http.Request) {
	if rc.ZendeskSecret == "" {
		http.Error(w, "the Zendesk webhook is not configured on this worker", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	ts, sig := r.Header.Get("X-Zendesk-Webhook-Signature-Timestamp"), r.Header.Get("X-Zendesk-Webhook-Signature")
	switch {
	case ts == "" || sig == "":
		rc.refuse(w, r, "unsigned: X-Zendesk-Webhook-Signature and its timestamp are required")
		return
	case subtle.ConstantTimeCompare([]byte(sig), []byte(ZendeskSignature(rc.ZendeskSecret, ts, body))) != 1:
		rc.refuse(w, r, "bad signature")
		return
	}
	at, err := time.Parse(time.RFC3339, ts)
	if err != nil || rc.now().Sub(at).Abs() > rc.window() {
		rc.refuse(w, r, "stale or unreadable timestamp "+ts)
		return
	}
	var ev zendeskEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "the body is not the expected JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	rc.deliver(w, r.Context(), "zendesk", unquote(ev.Ticket), splitTags(ev.Tags), ev.Detail)
}

// github takes GitHub's issues events: X-Hub-Signature-256 is checked with
// go-github's ValidatePayload; a label added to an issue is the event, and
// the issue's updated_at must be within the window (GitHub sends no signed
// timestamp).
func (rc *Receiver) github(w http.ResponseWriter, r *http.Request) {
	if rc.GitHubSecret == "" {
		http.Error(w, "the GitHub webhook is not configured on this worker", http.StatusNotFound)
		return
	}
	payload, err := gh.ValidatePayload(r, []byte(rc.GitHubSecret))
	if err != nil {
		rc.refuse(w, r, "signature: "+err.Error())
		return
	}
	if gh.WebHookType(r) != "issues" {
		fmt.Fprintln(w, "ignored: not an issues event")
		return
	}
	var ev gh.IssuesEvent
	if err := json.Unmarshal(payload, &ev); err != nil || ev.Issue == nil {
		http.Error(w, "the body is not an issues event", http.StatusBadRequest)
		return
	}
	if rc.now().Sub(ev.Issue.GetUpdatedAt().Time).Abs() > rc.window() {
		rc.refuse(w, r, "stale: the issue was updated at "+ev.Issue.GetUpdatedAt().String())
		return
	}
	if ev.GetAction() != "labeled" || ev.Label == nil {
		fmt.Fprintln(w, "ignored: not a label added")
		return
	}
	rc.deliver(w, r.Context(), "github", strconv.Itoa(ev.Issue.GetNumber()), []string{ev.Label.GetName()}, "")
}

// HubSignature is the X-Hub-Signature value Jira (and GitHub's older
// header) send: "sha256=" and the hex HMAC-SHA256 of the body.
func HubSignature(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// jiraEvent is the part of a Jira webhook Linkwright reads.
type jiraEvent struct {
	Timestamp int64 `json:"timestamp"`
	Issue     struct {
		Key    string `json:"key"`
		Fields struct {
			Labels []string `json:"labels"`
		} `json:"fields"`
	} `json:"issue"`
	Changelog struct {
		Items []struct {
			Field      string `json:"field"`
			FromString string `json:"fromString"`
			ToString   string `json:"toString"`
		} `json:"items"`
	} `json:"changelog"`
}

// jira takes Jira webhooks (jira:issue_updated) signed with a shared
// secret in X-Hub-Signature; the labels added by the update are the events.
func (rc *Receiver) jira(w http.ResponseWriter, r *http.Request) {
	if rc.JiraSecret == "" {
		http.Error(w, "the Jira webhook is not configured on this worker", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	sig := r.Header.Get("X-Hub-Signature")
	switch {
	case sig == "":
		rc.refuse(w, r, "unsigned: X-Hub-Signature is required")
		return
	case subtle.ConstantTimeCompare([]byte(sig), []byte(HubSignature(rc.JiraSecret, body))) != 1:
		rc.refuse(w, r, "bad signature")
		return
	}
	var ev jiraEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "the body is not a Jira event: "+err.Error(), http.StatusBadRequest)
		return
	}
	if rc.now().Sub(time.UnixMilli(ev.Timestamp)).Abs() > rc.window() {
		rc.refuse(w, r, "stale or missing timestamp")
		return
	}
	var added []string
	for _, it := range ev.Changelog.Items {
		if it.Field == "labels" {
			before := strings.Fields(it.FromString)
			for _, l := range strings.Fields(it.ToString) {
				if !slices.Contains(before, l) {
					added = append(added, l)
				}
			}
		}
	}
	rc.deliver(w, r.Context(), "jira", ev.Issue.Key, added, "")
}

// servicenow takes ServiceNow outbound REST messages: the shared secret in
// X-Linkwright-Secret and an RFC 3339 time in X-Linkwright-Timestamp; the
// body is {"ticket": "${number}", "event": "privatelink:endpoint-created"}
// (or "tags").
func (rc *Receiver) servicenow(w http.ResponseWriter, r *http.Request) {
	if rc.ServiceNowSecret == "" {
		http.Error(w, "the ServiceNow webhook is not configured on this worker", http.StatusNotFound)
		return
	}
	secret, ts := r.Header.Get("X-Linkwright-Secret"), r.Header.Get("X-Linkwright-Timestamp")
	switch {
	case secret == "":
		rc.refuse(w, r, "unsigned: X-Linkwright-Secret is required")
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(rc.ServiceNowSecret)) != 1:
		rc.refuse(w, r, "bad secret")
		return
	}
	at, err := time.Parse(time.RFC3339, ts)
	if err != nil || rc.now().Sub(at).Abs() > rc.window() {
		rc.refuse(w, r, "stale or missing X-Linkwright-Timestamp")
		return
	}
	var ev struct {
		Ticket json.RawMessage `json:"ticket"`
		Event  string          `json:"event"`
		Tags   json.RawMessage `json:"tags"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ev); err != nil {
		http.Error(w, "the body is not the expected JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	rc.deliver(w, r.Context(), "servicenow", unquote(ev.Ticket), append(splitTags(ev.Tags), ev.Event), "")
}

// unquote reads a JSON string or number as text.
func unquote(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// splitTags reads tags as a list or a space-separated string.
func splitTags(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	return strings.Fields(unquote(raw))
}

// signalFor maps an agent-set tag to a signal: privatelink:endpoint-created
// and friends (also with - or _ for systems whose tags forbid colons).
func signalFor(tag string) (string, bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	for _, sep := range []string{":", "-", "_"} {
		if rest, ok := strings.CutPrefix(tag, "privatelink"+sep); ok {
			switch strings.ReplaceAll(rest, "_", "-") {
			case "endpoint-created":
				return workflows.SignalCustomerEndpointCreated, true
			case "access-granted":
				return workflows.SignalCustomerAccessGranted, true
			case "connection-accepted":
				return workflows.SignalCustomerConnectionAccepted, true
			case "verified":
				return workflows.SignalCustomerVerified, true
			}
		}
	}
	return "", false
}

var ticketKeyRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._#-]{0,63}$`)

// deliver signals the running enablements of the ticket.
func (rc *Receiver) deliver(w http.ResponseWriter, ctx context.Context, source, key string, tags []string, detail string) {
	var signals []string
	for _, t := range tags {
		if s, ok := signalFor(t); ok {
			signals = append(signals, s)
		}
	}
	if len(signals) == 0 || !ticketKeyRe.MatchString(key) {
		rc.log().Info("webhook ignored: no PrivateLink tag or no ticket", zap.String("source", source), zap.String("ticket", key), zap.Strings("tags", tags))
		fmt.Fprintln(w, "ignored: no privatelink:* tag or no ticket")
		return
	}
	resp, err := rc.Signaler.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("%s = '%s' AND ExecutionStatus = 'Running'", workflows.SATicket.GetName(), key),
	})
	if err != nil {
		rc.log().Error("webhook: cannot look up the enablement", zap.String("ticket", key), zap.Error(err))
		http.Error(w, "cannot reach Temporal; retry later", http.StatusServiceUnavailable)
		return
	}
	if len(resp.Executions) == 0 {
		rc.log().Info("webhook ignored: no running enablement for the ticket", zap.String("source", source), zap.String("ticket", key))
		fmt.Fprintln(w, "ignored: no running enablement for ticket "+key)
		return
	}
	for _, ex := range resp.Executions {
		id := ex.Execution.GetWorkflowId()
		for _, s := range signals {
			var payload any = workflows.CustomerEvent{Detail: source + " ticket " + key + " " + detail}
			if s == workflows.SignalCustomerVerified {
				payload = workflows.CustomerVerified{OK: true, Detail: source + " ticket " + key + " " + detail}
			}
			if err := rc.Signaler.SignalWorkflow(ctx, id, "", s, payload); err != nil {
				rc.log().Error("webhook: signal failed", zap.String("workflowId", id), zap.String("signal", s), zap.Error(err))
				http.Error(w, "signal failed; retry later", http.StatusServiceUnavailable)
				return
			}
			rc.log().Info("webhook signalled", zap.String("source", source), zap.String("ticket", key), zap.String("workflowId", id), zap.String("signal", s))
		}
	}
	fmt.Fprintf(w, "signalled %s to %d enablement(s)\n", strings.Join(signals, ", "), len(resp.Executions))
}
