// Package webhook lets ticket events reach the workflows: a signed webhook
// from the ticket system, whose tags say what the customer did, becomes the
// DESIGN.md signal to the enablement the ticket belongs to (found by the
// PrivateLinkTicket search attribute); an approval an agent makes on the
// ticket (tag privatelink:approve:<gate> added) becomes the approve update,
// with the agent the ticket system authenticated as the approver. Unsigned,
// badly signed and stale requests are refused; unknown tickets and events
// are acknowledged and ignored.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v84/github"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"

	"github.com/linkwright/linkwright/internal/approval"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/workflows"
)

// Signaler is what the receiver needs from a Temporal client
// (client.Client has it).
type Signaler interface {
	ListWorkflow(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
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
	// Signer signs the approvals relayed from tickets
	// (webhooks.approvalKeyFile), so that the workflows verify them as
	// issuer linkwright-webhooks. Without it they go unsigned, which a
	// policy with signedApprovals.required refuses.
	Signer *approval.Signer
	// Agents maps a ticket system's agent that is not an e-mail,
	// "<system>:<id>", to the approver's e-mail (webhooks.agents).
	Agents map[string]string
	// Window is how old a signed request may be (5 minutes by default).
	Window time.Duration
	Now    func() time.Time
	Log    *zap.Logger
	// SNSConfig takes AWS's endpoint connection notifications through SNS
	// (POST /webhooks/sns): see sns.go.
	SNSConfig
}

// updateWait bounds the wait for one approve update, so that a workflow
// whose worker is down answers 503 (and the ticket system retries) before
// the ticket system gives up on the request.
const updateWait = 10 * time.Second

// Handler routes /webhooks/zendesk, /webhooks/github, /webhooks/jira,
// /webhooks/servicenow and /webhooks/sns.
func (rc *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/zendesk", rc.zendesk)
	mux.HandleFunc("POST /webhooks/github", rc.github)
	mux.HandleFunc("POST /webhooks/jira", rc.jira)
	mux.HandleFunc("POST /webhooks/servicenow", rc.servicenow)
	mux.Handle("POST /webhooks/sns", rc.SNSHandler(&rc.SNSConfig))
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
// For approvals, a trigger whose condition is the tag being added (and
// whose action removes it) sends {"ticket": "{{ticket.id}}", "event":
// "privatelink:approve:accept-connection", "agent": "{{current_user.email}}"}:
// the tags list is re-sent on every change, so only event may approve.
type zendeskEvent struct {
	Ticket json.RawMessage `json:"ticket"`
	Tags   json.RawMessage `json:"tags"`
	Event  string          `json:"event"`
	Agent  string          `json:"agent"`
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
	rc.deliver(w, r.Context(), ticketEvent{source: "zendesk", key: unquote(ev.Ticket),
		tags: append(splitTags(ev.Tags), ev.Event), added: []string{ev.Event}, agent: ev.Agent, detail: ev.Detail})
}

// github takes GitHub's issues events: X-Hub-Signature-256 is checked with
// go-github's ValidatePayload; a label added to an issue is the event, and
// the issue's updated_at must be within the window (GitHub sends no signed
// timestamp). The sender's login, mapped through Agents, approves.
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
	label := []string{ev.Label.GetName()}
	rc.deliver(w, r.Context(), ticketEvent{source: "github", key: strconv.Itoa(ev.Issue.GetNumber()),
		tags: label, added: label, agent: ev.GetSender().GetLogin()})
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
	// User made the change; Jira Cloud often hides the e-mail, so the
	// account ID is mapped through Agents then.
	User struct {
		AccountID    string `json:"accountId"`
		EmailAddress string `json:"emailAddress"`
	} `json:"user"`
	Issue struct {
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
	agent := ev.User.EmailAddress
	if _, ok := config.Email(agent); !ok {
		agent = ev.User.AccountID
	}
	rc.deliver(w, r.Context(), ticketEvent{source: "jira", key: ev.Issue.Key, tags: added, added: added, agent: agent})
}

// servicenow takes ServiceNow outbound REST messages: the shared secret in
// X-Linkwright-Secret and an RFC 3339 time in X-Linkwright-Timestamp; the
// body is {"ticket": "${number}", "event": "privatelink:endpoint-created"}
// (or "tags"), and for approvals {"ticket": ..., "event":
// "privatelink:approve:<gate>", "agent": <the user's e-mail or user name>}.
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
		Agent  string          `json:"agent"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ev); err != nil {
		http.Error(w, "the body is not the expected JSON: "+err.Error(), http.StatusBadRequest)
		return
	}
	rc.deliver(w, r.Context(), ticketEvent{source: "servicenow", key: unquote(ev.Ticket),
		tags: append(splitTags(ev.Tags), ev.Event), added: []string{ev.Event}, agent: ev.Agent})
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

// gateFor maps an agent-added tag to the gate it approves:
// privatelink:approve:<gate>, also with - or _ as separators, underscores
// in the gate read as hyphens (privatelink_approve_accept_connection).
func gateFor(tag string) (string, bool) {
	tag = strings.ToLower(strings.TrimSpace(tag))
	for _, sep := range []string{":", "-", "_"} {
		if rest, ok := strings.CutPrefix(tag, "privatelink"+sep+"approve"+sep); ok {
			gate := strings.ReplaceAll(rest, "_", "-")
			return gate, gateRe.MatchString(gate)
		}
	}
	return "", false
}

var (
	gateRe      = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	ticketKeyRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._#-]{0,63}$`)
)

// ticketEvent is what a ticket system's webhook says.
type ticketEvent struct {
	source string // zendesk, github, jira or servicenow
	key    string // the ticket
	// tags may relay customer facts; added are what this change added
	// explicitly, the only ones that may approve: a full tag list is re-sent
	// on every change, and a stale approve tag in it would approve later
	// gates.
	tags, added []string
	// agent is who made the change, authenticated by the ticket system: an
	// e-mail, or an ID that Agents maps to one.
	agent  string
	detail string
}

// approver resolves the agent of a ticket change to an approver's e-mail;
// otherwise why says what to configure.
func (rc *Receiver) approver(ev ticketEvent) (email, why string) {
	agent := strings.TrimSpace(ev.agent)
	if agent == "" {
		return "", fmt.Sprintf("the %s webhook names no agent: %s", ev.source, agentHelp[ev.source])
	}
	if email, ok := config.Email(agent); ok {
		return email, ""
	}
	if !slices.Contains(config.AgentSystems, ev.source) {
		return "", fmt.Sprintf("the %s agent %q is not an e-mail: %s", ev.source, agent, agentHelp[ev.source])
	}
	key := config.AgentKey(ev.source, agent)
	if email, ok := config.Email(rc.Agents[key]); ok {
		return email, ""
	}
	return "", fmt.Sprintf(`the %s agent %q is not mapped to an approver: add "%s": "<their e-mail>" to webhooks.agents`, ev.source, agent, key)
}

// decision is the approval the event's agent makes, signed when the
// receiver has a Signer; why says why the agent cannot approve.
func (rc *Receiver) decision(ev ticketEvent) (a workflows.Approval, why string, err error) {
	email, why := rc.approver(ev)
	if why != "" {
		return a, why, nil
	}
	a = workflows.Approval{Approver: email, Comment: "approved on " + ev.source + " ticket " + ev.key}
	if rc.Signer != nil {
		a.IDToken, err = rc.Signer.Mint(email, rc.now(), 0)
	}
	return a, "", err
}

var agentHelp = map[string]string{
	"zendesk":    `add "agent": "{{current_user.email}}" to the trigger's body`,
	"github":     "GitHub sent no sender",
	"jira":       "the webhook carries no user",
	"servicenow": `add "agent" (the user's e-mail or user name) to the outbound message's body`,
}

// deliver signals the running workflows of the ticket, and sends them the
// approvals the event carries.
func (rc *Receiver) deliver(w http.ResponseWriter, ctx context.Context, ev ticketEvent) {
	var signals, gates, out []string
	for _, t := range ev.tags {
		if s, ok := signalFor(t); ok {
			signals = append(signals, s)
		}
	}
	for _, t := range ev.added {
		if g, ok := gateFor(t); ok {
			gates = append(gates, g)
		}
	}
	log := rc.log().With(zap.String("source", ev.source), zap.String("ticket", ev.key))
	if len(signals)+len(gates) == 0 || !ticketKeyRe.MatchString(ev.key) {
		log.Info("webhook ignored: no PrivateLink tag or no ticket", zap.Strings("tags", ev.tags), zap.Strings("added", ev.added))
		fmt.Fprintln(w, "ignored: no privatelink:* tag or no ticket")
		return
	}
	var decision workflows.Approval
	if len(gates) > 0 {
		var why string
		var err error
		decision, why, err = rc.decision(ev)
		switch {
		case err != nil:
			log.Error("webhook: cannot sign the approval", zap.Error(err))
			http.Error(w, "cannot sign the approval: "+err.Error(), http.StatusInternalServerError)
			return
		case why != "":
			// Acknowledged, so that the system does not retry what only
			// configuration can fix.
			log.Warn("webhook approval not sent", zap.Strings("gates", gates), zap.String("agent", ev.agent), zap.String("why", why))
			out = append(out, fmt.Sprintf("not approved (%s): %s", strings.Join(gates, ", "), why))
			gates = nil
		}
	}
	if len(signals)+len(gates) == 0 {
		fmt.Fprintln(w, strings.Join(out, "\n"))
		return
	}
	resp, err := rc.Signaler.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("%s = '%s' AND ExecutionStatus = 'Running'", workflows.SATicket.GetName(), ev.key),
	})
	if err != nil {
		log.Error("webhook: cannot look up the enablement", zap.Error(err))
		http.Error(w, "cannot reach Temporal; retry later", http.StatusServiceUnavailable)
		return
	}
	if len(resp.Executions) == 0 {
		log.Info("webhook ignored: no running enablement for the ticket")
		fmt.Fprintln(w, "ignored: no running enablement for ticket "+ev.key)
		return
	}
	for _, ex := range resp.Executions {
		id := ex.Execution.GetWorkflowId()
		for _, s := range signals {
			var payload any = workflows.CustomerEvent{Detail: ev.source + " ticket " + ev.key + " " + ev.detail}
			if s == workflows.SignalCustomerVerified {
				payload = workflows.CustomerVerified{OK: true, Detail: ev.source + " ticket " + ev.key + " " + ev.detail}
			}
			if err := rc.Signaler.SignalWorkflow(ctx, id, "", s, payload); err != nil {
				log.Error("webhook: signal failed", zap.String("workflowId", id), zap.String("signal", s), zap.Error(err))
				http.Error(w, "signal failed; retry later", http.StatusServiceUnavailable)
				return
			}
			log.Info("webhook signalled", zap.String("workflowId", id), zap.String("signal", s))
		}
		for _, g := range gates {
			decision.Gate = g
			refusal, err := rc.approve(ctx, id, decision)
			if err != nil {
				log.Error("webhook: approve update failed", zap.String("workflowId", id), zap.String("gate", g), zap.Error(err))
				http.Error(w, "cannot reach Temporal to approve; retry later", http.StatusServiceUnavailable)
				return
			}
			if refusal != "" {
				log.Warn("webhook approval refused", zap.String("workflowId", id), zap.String("gate", g), zap.String("approver", decision.Approver), zap.String("refusal", refusal))
				out = append(out, fmt.Sprintf("%s: not approved (%s): %s", id, g, refusal))
				continue
			}
			log.Info("webhook approved", zap.String("workflowId", id), zap.String("gate", g), zap.String("approver", decision.Approver))
			out = append(out, fmt.Sprintf("%s: approved %s as %s", id, g, decision.Approver))
		}
	}
	if len(signals) > 0 {
		out = append([]string{fmt.Sprintf("signalled %s to %d enablement(s)", strings.Join(signals, ", "), len(resp.Executions))}, out...)
	}
	fmt.Fprintln(w, strings.Join(out, "\n"))
}

// approve sends the approve update and waits for its outcome. refusal is
// the workflow's answer when it refuses (or has ended); err means Temporal
// could not be asked.
func (rc *Receiver) approve(ctx context.Context, workflowID string, a workflows.Approval) (refusal string, err error) {
	ctx, cancel := context.WithTimeout(ctx, updateWait)
	defer cancel()
	h, err := rc.Signaler.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		UpdateName:   workflows.Approve,
		Args:         []any{a},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if appErr, ok := errors.AsType[*temporal.ApplicationError](err); ok {
		return appErr.Message(), nil
	}
	if _, ok := errors.AsType[*serviceerror.NotFound](err); ok {
		return "the workflow is no longer running", nil
	}
	return "", err
}
