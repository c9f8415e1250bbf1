// Package config is the worker's configuration: which cloud and tracker to
// use, where local state lives, who may approve, and the waiting policy.
// It is read from a JSON file (LINKWRIGHT_CONFIG) with environment
// overrides; Temporal client settings are not here but in the standard
// TEMPORAL_* environment and profiles (envconfig).
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/linkwright/linkwright/internal/admin"
	"github.com/linkwright/linkwright/internal/approval/keys"
	"github.com/linkwright/linkwright/internal/strictjson"
)

// Config is the worker's configuration file.
type Config struct {
	// StateDir holds the simulated cloud and the file tracker's tickets.
	StateDir string `json:"stateDir"`
	// Cloud selects the cloud provider: "sim" (default), "aws", "azure" or "alibaba".
	Cloud string `json:"cloud"`
	// AWS configures the AWS provider (cloud "aws"); see the README.
	AWS json.RawMessage `json:"aws,omitempty"`
	// Azure configures the Azure provider (cloud "azure"); see the README.
	Azure json.RawMessage `json:"azure,omitempty"`
	// Alibaba configures the Alibaba Cloud provider (cloud "alibaba"); see
	// the README. Its credentials come from the SDK's environment
	// variables, never from this file.
	Alibaba json.RawMessage `json:"alibaba,omitempty"`
	// Tracker selects the ticket tracker: "file" (default), "zendesk",
	// "jira", "servicenow" or "github".
	Tracker string `json:"tracker"`
	// Zendesk configures the Zendesk tracker: url, email, token (better
	// given as ZENDESK_API_TOKEN).
	Zendesk json.RawMessage `json:"zendesk,omitempty"`
	// GitHub configures the GitHub Issues tracker: owner, repo, token
	// (better given as GITHUB_TOKEN), apiUrl, internalNotes.
	GitHub json.RawMessage `json:"github,omitempty"`
	// Jira configures the Jira Service Management tracker (token better
	// given as JIRA_API_TOKEN).
	Jira json.RawMessage `json:"jira,omitempty"`
	// ServiceNow configures the ServiceNow tracker (password better given
	// as SERVICENOW_PASSWORD).
	ServiceNow json.RawMessage `json:"servicenow,omitempty"`
	// Webhooks configures the receiver that turns ticket events into
	// signals and approvals; it runs in the worker when Listen is set.
	Webhooks Webhooks `json:"webhooks"`
	// UIURL is the Temporal Web UI, linked from ticket notes.
	UIURL string `json:"uiUrl"`
	// Namespace is only used to build Web UI links; the client's namespace
	// comes from TEMPORAL_NAMESPACE.
	Namespace string `json:"namespace"`
	// ActivitiesPerSecond caps the activities of the workflows' own task
	// queue (ticket calls and probes) across all workers.
	ActivitiesPerSecond float64 `json:"activitiesPerSecond"`
	// Budgets are the fleet-wide cloud API budgets, one per action class.
	Budgets Budgets `json:"budgets"`
	// StickyCacheSize is how many workflows each worker keeps in memory
	// between their tasks (0: 256). A workflow outside the cache replays
	// its history at its next task: a smaller cache trades CPU on wake-up
	// for memory. Waiting links wake rarely, so a cache far smaller than
	// the fleet costs little.
	StickyCacheSize int    `json:"stickyCacheSize"`
	Policy          Policy `json:"policy"`
	// Admin is the worker's admin port (health, readiness, metrics).
	Admin Admin `json:"admin"`
	// Telemetry turns metrics and tracing on or off.
	Telemetry Telemetry `json:"telemetry"`
	// Deployment runs the worker as a version of a Worker Deployment.
	Deployment Deployment `json:"deployment"`
}

// Admin configures the admin port: /healthz, /readyz and /metrics.
type Admin struct {
	// Listen is its address (also LINKWRIGHT_ADMIN_LISTEN); the default
	// is loopback only, 127.0.0.1:9090; "off" turns it off.
	Listen string `json:"listen"`
}

// Telemetry turns the worker's metrics and traces on or off (both on by
// default; LINKWRIGHT_METRICS and LINKWRIGHT_TRACING, "on" or "off",
// override). Traces leave the process only when the standard
// OTEL_EXPORTER_OTLP_* variables name a collector.
type Telemetry struct {
	Metrics *bool `json:"metrics,omitempty"`
	Tracing *bool `json:"tracing,omitempty"`
}

// MetricsOn says whether the worker serves metrics.
func (t Telemetry) MetricsOn() bool { return t.Metrics == nil || *t.Metrics }

// TracingOn says whether the worker traces (when a collector is named).
func (t Telemetry) TracingOn() bool { return t.Tracing == nil || *t.Tracing }

// Deployment runs the worker with Worker Deployment Versioning: as build
// ID (the binary's build, internal/buildinfo) of the deployment Name.
type Deployment struct {
	// Name is the Worker Deployment (also LINKWRIGHT_DEPLOYMENT_NAME);
	// empty runs the worker unversioned.
	Name string `json:"name"`
	// Promote makes this build the deployment's current version once it
	// polls (also LINKWRIGHT_DEPLOYMENT_PROMOTE=true): for one worker that
	// should take over at once. A fleet promotes with the temporal CLI.
	Promote bool `json:"promote"`
}

// Budgets are activities per second, across every worker of the fleet,
// for each class of cloud call. Each class has its own task queue, whose
// rate limit the server enforces for all workers together, so polls can
// never starve a step's mutation or an approval's accept. Set each at or
// under the cloud's refill rate for that class, less what other tools
// spend from the same account: EC2 refills about 20 tokens a second for
// describes and 5 for each mutating API; Azure Resource Manager allows
// about 20 reads and 3 writes a second per subscription; Alibaba Cloud
// PrivateLink's APIs allow about 10 to 20 calls a second each.
type Budgets struct {
	// Read: the describes a step makes once (looking up the platform's
	// service, zones, inventory).
	Read float64 `json:"read"`
	// Poll: the describes of waits and hourly health checks.
	Poll float64 `json:"poll"`
	// Mutate: creating and deleting endpoints, opening ports, changing
	// who may connect.
	Mutate float64 `json:"mutate"`
	// Accept: accepting and rejecting endpoint connections.
	Accept float64 `json:"accept"`
}

// DefaultBudgets fit one account's EC2 buckets with room for other tools.
func DefaultBudgets() Budgets { return Budgets{Read: 8, Poll: 8, Mutate: 3, Accept: 3} }

// DefaultStickyCacheSize is the sticky cache when the file sets none.
const DefaultStickyCacheSize = 256

// Webhooks configures the webhook receiver. Secrets are best given in the
// environment: LINKWRIGHT_ZENDESK_WEBHOOK_SECRET,
// LINKWRIGHT_GITHUB_WEBHOOK_SECRET, LINKWRIGHT_JIRA_WEBHOOK_SECRET and
// LINKWRIGHT_SERVICENOW_WEBHOOK_SECRET.
type Webhooks struct {
	// Listen is the address, e.g. "127.0.0.1:8081"; empty turns it off.
	Listen           string `json:"listen"`
	ZendeskSecret    string `json:"zendeskSecret"`
	GitHubSecret     string `json:"githubSecret"`
	JiraSecret       string `json:"jiraSecret"`
	ServiceNowSecret string `json:"servicenowSecret"`
	// ApprovalKeyFile is the private key (PEM: PKCS #8, EC or RSA; or a JWK
	// with its private parts) the receiver signs the approvals it relays
	// from tickets with (also LINKWRIGHT_WEBHOOK_APPROVAL_KEY_FILE). Keep
	// it out of the repository and readable by the worker only. Loading
	// derives its public key into policy.signedApprovals.issuers as issuer
	// "linkwright-webhooks", audience "linkwright", so that the workflows
	// verify relayed approvals like any other signed approval.
	ApprovalKeyFile string `json:"approvalKeyFile"`
	// Agents maps a ticket system's agent that is not an e-mail to the
	// approver's e-mail, keyed "<system>:<id>": "github:<login>",
	// "jira:<accountId>", "servicenow:<user name>". An approval made on a
	// ticket by an agent that maps to no e-mail is not relayed.
	Agents map[string]string `json:"agents"`
	// SNSTopicARNs are the SNS topics the platform's endpoint services
	// send their connection notifications to (AWS
	// CreateVpcEndpointConnectionNotification); the receiver takes signed
	// messages from these topics only, at /webhooks/sns. Empty turns it off.
	SNSTopicARNs []string `json:"snsTopicArns"`
}

var snsTopicARN = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$`)

// AgentSystems are the ticket systems whose agents Webhooks.Agents maps.
var AgentSystems = []string{"github", "jira", "servicenow"}

// Policy is what the workflows need from the configuration. The workflow
// reads it through a local activity when it starts and again at each gate,
// so it is recorded in history and replays deterministically.
type Policy struct {
	// Approvers may approve, reject and cancel enablements (emails).
	Approvers []string `json:"approvers"`
	// PollInitial is the first interval of cloud polls while waiting; it
	// doubles until the wait's next milestone (reminder, escalation,
	// expiry), so polls cost O(log wait) calls. Events (signals, the
	// cloud's notifications) check at once.
	PollInitial Duration `json:"pollInitial"`
	// PollMax is how close a milestone must be to be reached at once
	// rather than after one more poll.
	PollMax Duration `json:"pollMax"`
	// ReminderBusinessDays is how long the customer may be silent before a
	// reminder on the ticket; at most MaxReminders are sent per wait.
	ReminderBusinessDays int `json:"reminderBusinessDays"`
	MaxReminders         int `json:"maxReminders"`
	// TargetBusinessDays is the enablement target; operators are escalated
	// to EscalateBusinessDaysBefore it is missed.
	TargetBusinessDays         int `json:"targetBusinessDays"`
	EscalateBusinessDaysBefore int `json:"escalateBusinessDaysBefore"`
	// ExpireAfter ends a request whose customer is silent this long in one
	// wait, undoing its changes.
	ExpireAfter Duration `json:"expireAfter"`
	// WebUI is the base of Web UI links (for ticket notes).
	WebUI string `json:"webUi"`
	// SignedApprovals makes decisions carry a verified identity.
	SignedApprovals SignedApprovals `json:"signedApprovals"`
	// HealthEvery is how often a live link checks itself (default 1h).
	HealthEvery Duration `json:"healthEvery"`
	// HealthGrace is how long a live link may stay degraded before
	// operators are escalated to (default 1h).
	HealthGrace Duration `json:"healthGrace"`
	// AutoRepairDrift repairs drift that restores the spec (a port closed
	// or an account revoked by hand) at once, without gate repair-drift.
	// Removing what is not in the spec, or accepting a connection, always
	// waits for an approver.
	AutoRepairDrift bool `json:"autoRepairDrift"`
}

// SignedApprovals is the policy for approvals that carry an OIDC ID token
// (a JWT): the approver is then the token's verified e-mail, not a string
// anyone could type. The policy is recorded in workflow history, so it
// holds issuers' public keys only: never a private or shared (HMAC) key,
// and never a path, which could differ between workers.
type SignedApprovals struct {
	// Required makes every approve, reject and cancel carry a valid
	// idToken.
	Required bool            `json:"required"`
	Issuers  []TrustedIssuer `json:"issuers"`
	// MaxAge is how old a token's iat may be (default 15m). A token is
	// recorded in history with the decision it carries, so whoever can read
	// history could replay it: MaxAge bounds that window.
	MaxAge Duration `json:"maxAge"`
	// Leeway is the clock skew allowed on exp, nbf and iat (default 1m).
	Leeway Duration `json:"leeway"`
}

// TrustedIssuer is an identity provider whose ID tokens may carry
// approvals.
type TrustedIssuer struct {
	// Issuer is the tokens' iss, compared exactly.
	Issuer string `json:"issuer"`
	// Audience must be in the tokens' aud: the client ID the tokens are
	// issued for.
	Audience string `json:"audience"`
	// JWKS is the issuer's public key set (RFC 7517 JSON, as served at its
	// jwks_uri). Public keys only: loading refuses private and symmetric
	// keys. Keys rotate: refresh it when the issuer does.
	JWKS json.RawMessage `json:"jwks,omitempty"`
	// JWKSFile is a file holding JWKS instead; loading reads it into JWKS
	// (relative to the worker's working directory) and clears JWKSFile.
	JWKSFile string `json:"jwksFile,omitempty"`
}

// Defaults for SignedApprovals.
const (
	DefaultTokenMaxAge = 15 * time.Minute
	DefaultTokenLeeway = time.Minute
)

// WithDefaults fills MaxAge and Leeway when they are unset (zero or less),
// also for a policy recorded before they existed.
func (s SignedApprovals) WithDefaults() SignedApprovals {
	if s.MaxAge <= 0 {
		s.MaxAge = Duration(DefaultTokenMaxAge)
	}
	if s.Leeway <= 0 {
		s.Leeway = Duration(DefaultTokenLeeway)
	}
	return s
}

// Email is an approver's address as policies compare it: trimmed and
// lower-case. ok is false when s is not a bare address ("a@b.example", not
// "A <a@b.example>").
func Email(s string) (email string, ok bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return "", false
	}
	return s, true
}

// Duration is a time.Duration written as "90s", "15m" or "720h" in JSON.
type Duration time.Duration

// D returns the duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "90s"-style strings.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf(`durations are strings such as "90s", "15m" or "720h"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: use a string such as \"90s\", \"15m\" or \"720h\"", s)
	}
	*d = Duration(v)
	return nil
}

// Default is the embedded default: simulated cloud, file tracker, state in
// ./.state, no approvers (every approval is refused until some are set).
func Default() Config {
	return Config{
		StateDir:            ".state",
		Cloud:               "sim",
		Tracker:             "file",
		UIURL:               "http://localhost:8233",
		Namespace:           "default",
		ActivitiesPerSecond: 10,
		Budgets:             DefaultBudgets(),
		StickyCacheSize:     DefaultStickyCacheSize,
		Policy:              DefaultPolicy(),
	}
}

// DefaultPolicy is the waiting policy when the file sets none.
func DefaultPolicy() Policy {
	return Policy{
		PollInitial:                Duration(10 * time.Second),
		PollMax:                    Duration(10 * time.Minute),
		ReminderBusinessDays:       2,
		MaxReminders:               2,
		TargetBusinessDays:         5,
		EscalateBusinessDaysBefore: 1,
		ExpireAfter:                Duration(30 * 24 * time.Hour),
		SignedApprovals:            SignedApprovals{}.WithDefaults(),
		HealthEvery:                Duration(time.Hour),
		HealthGrace:                Duration(time.Hour),
	}
}

// Load reads the file named by LINKWRIGHT_CONFIG (if set) over the
// defaults, then applies LINKWRIGHT_STATE_DIR, LINKWRIGHT_CLOUD,
// LINKWRIGHT_UI_URL, LINKWRIGHT_APPROVERS (comma-separated) and
// LINKWRIGHT_WEBHOOK_APPROVAL_KEY_FILE.
func Load() (Config, error) {
	c := Default()
	path := os.Getenv("LINKWRIGHT_CONFIG")
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("LINKWRIGHT_CONFIG: %w", err)
		}
		// finish runs once, below, after the environment: it derives the
		// webhook issuer, which must not be added twice.
		if err := decode(data, &c); err != nil {
			return c, fmt.Errorf("%s: %w", path, err)
		}
	}
	if v := os.Getenv("LINKWRIGHT_STATE_DIR"); v != "" {
		c.StateDir = v
	}
	if v := os.Getenv("LINKWRIGHT_CLOUD"); v != "" {
		c.Cloud = v
	}
	if v := os.Getenv("LINKWRIGHT_ZENDESK_WEBHOOK_SECRET"); v != "" {
		c.Webhooks.ZendeskSecret = v
	}
	for env, dst := range map[string]*string{
		"LINKWRIGHT_GITHUB_WEBHOOK_SECRET":     &c.Webhooks.GitHubSecret,
		"LINKWRIGHT_JIRA_WEBHOOK_SECRET":       &c.Webhooks.JiraSecret,
		"LINKWRIGHT_SERVICENOW_WEBHOOK_SECRET": &c.Webhooks.ServiceNowSecret,
		"LINKWRIGHT_WEBHOOK_APPROVAL_KEY_FILE": &c.Webhooks.ApprovalKeyFile,
	} {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
	}
	if v := os.Getenv("LINKWRIGHT_UI_URL"); v != "" {
		c.UIURL = v
		c.Policy.WebUI = ""
	}
	if v := os.Getenv("LINKWRIGHT_APPROVERS"); v != "" {
		c.Policy.Approvers = strings.Split(v, ",")
	}
	if err := c.fromEnvOps(); err != nil {
		return c, err
	}
	err := c.finish()
	if err != nil && path != "" {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return c, err
}

// Parse reads a config file strictly over c.
func Parse(data []byte, c *Config) error {
	if err := decode(data, c); err != nil {
		return err
	}
	return c.finish()
}

func decode(data []byte, c *Config) error {
	if err := strictjson.Decode(data, c); err != nil {
		return fmt.Errorf("invalid worker config: %w", err)
	}
	return nil
}

func (c *Config) finish() error {
	def := DefaultPolicy()
	p := &c.Policy
	for i, a := range p.Approvers {
		p.Approvers[i] = strings.ToLower(strings.TrimSpace(a))
	}
	if p.PollInitial <= 0 {
		p.PollInitial = def.PollInitial
	}
	if p.PollMax < p.PollInitial {
		p.PollMax = max(def.PollMax, p.PollInitial)
	}
	if p.TargetBusinessDays <= 0 {
		p.TargetBusinessDays = def.TargetBusinessDays
	}
	if p.ExpireAfter <= 0 {
		p.ExpireAfter = def.ExpireAfter
	}
	if p.HealthEvery <= 0 {
		p.HealthEvery = def.HealthEvery
	}
	if p.HealthGrace <= 0 {
		p.HealthGrace = def.HealthGrace
	}
	if p.WebUI == "" {
		p.WebUI = strings.TrimRight(c.UIURL, "/") + "/namespaces/" + c.Namespace
	}
	switch c.Cloud {
	case "sim", "aws", "azure", "alibaba":
	case "":
		c.Cloud = "sim"
	default:
		return fmt.Errorf("cloud %q is not available in this build: use \"sim\", \"aws\", \"azure\" or \"alibaba\"", c.Cloud)
	}
	switch c.Tracker {
	case "file", "zendesk", "jira", "servicenow", "github":
	case "":
		c.Tracker = "file"
	default:
		return fmt.Errorf("tracker %q is not available: use \"file\", \"zendesk\", \"jira\", \"servicenow\" or \"github\"", c.Tracker)
	}
	if err := c.finishBudgets(); err != nil {
		return err
	}
	if c.StateDir == "" {
		c.StateDir = ".state"
	}
	abs, err := filepath.Abs(c.StateDir)
	if err != nil {
		return err
	}
	c.StateDir = abs
	if err := c.finishOps(); err != nil {
		return err
	}
	return c.finishApprovals()
}

// fromEnvOps applies the environment's admin, telemetry and deployment
// settings.
func (c *Config) fromEnvOps() error {
	if v := os.Getenv("LINKWRIGHT_ADMIN_LISTEN"); v != "" {
		c.Admin.Listen = v
	}
	for env, dst := range map[string]**bool{"LINKWRIGHT_METRICS": &c.Telemetry.Metrics, "LINKWRIGHT_TRACING": &c.Telemetry.Tracing} {
		switch v := strings.ToLower(os.Getenv(env)); v {
		case "":
		case "on", "true", "1":
			on := true
			*dst = &on
		case "off", "false", "0":
			off := false
			*dst = &off
		default:
			return fmt.Errorf("%s=%q: use \"on\" or \"off\"", env, v)
		}
	}
	if v := os.Getenv("LINKWRIGHT_DEPLOYMENT_NAME"); v != "" {
		c.Deployment.Name = v
	}
	switch v := strings.ToLower(os.Getenv("LINKWRIGHT_DEPLOYMENT_PROMOTE")); v {
	case "":
	case "true", "1", "on":
		c.Deployment.Promote = true
	case "false", "0", "off":
		c.Deployment.Promote = false
	default:
		return fmt.Errorf("LINKWRIGHT_DEPLOYMENT_PROMOTE=%q: use \"true\" or \"false\"", v)
	}
	return nil
}

// deploymentName is what Temporal accepts as a Worker Deployment's name.
var deploymentName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// finishOps fills and checks the admin and deployment settings.
func (c *Config) finishOps() error {
	if c.Admin.Listen == "" {
		c.Admin.Listen = admin.DefaultListen
	}
	if c.Admin.Listen != "off" {
		if _, port, err := net.SplitHostPort(c.Admin.Listen); err != nil || port == "" {
			return fmt.Errorf("admin.listen %q: give host:port, e.g. \":9090\" in a container or \"127.0.0.1:9090\", or \"off\"", c.Admin.Listen)
		}
	}
	if c.Deployment.Name != "" && !deploymentName.MatchString(c.Deployment.Name) {
		return fmt.Errorf("deployment.name %q: use letters, digits, '-' and '_' only (no '.')", c.Deployment.Name)
	}
	if c.Deployment.Promote && c.Deployment.Name == "" {
		return errors.New("deployment.promote needs deployment.name (or LINKWRIGHT_DEPLOYMENT_NAME)")
	}
	return nil
}

// finishBudgets fills unset budgets with the defaults and refuses
// negative ones, naming the field.
func (c *Config) finishBudgets() error {
	def := DefaultBudgets()
	var probs strictjson.Problems
	for _, b := range []struct {
		name string
		v    *float64
		def  float64
	}{{"read", &c.Budgets.Read, def.Read}, {"poll", &c.Budgets.Poll, def.Poll}, {"mutate", &c.Budgets.Mutate, def.Mutate}, {"accept", &c.Budgets.Accept, def.Accept}} {
		probs.Add(*b.v < 0, fmt.Sprintf("budgets.%s is %g: give activities per second across the fleet, e.g. %g (or leave it out for that default)", b.name, *b.v, b.def))
		if *b.v == 0 {
			*b.v = b.def
		}
	}
	probs.Add(c.StickyCacheSize < 0, fmt.Sprintf("stickyCacheSize is %d: give the number of workflows a worker keeps in memory, e.g. %d", c.StickyCacheSize, DefaultStickyCacheSize))
	if c.StickyCacheSize == 0 {
		c.StickyCacheSize = DefaultStickyCacheSize
	}
	probs.Add(c.ActivitiesPerSecond < 0, fmt.Sprintf("activitiesPerSecond is %g: give activities per second across the fleet, e.g. 10", c.ActivitiesPerSecond))
	return probs.Err()
}

// finishApprovals reads the issuers' key files into the policy, derives the
// webhook issuer and checks signed approvals and agents, reporting every
// problem at once.
func (c *Config) finishApprovals() error {
	var probs strictjson.Problems
	s := &c.Policy.SignedApprovals
	*s = s.WithDefaults()
	seen := map[string]bool{}
	for i := range s.Issuers {
		iss := &s.Issuers[i]
		field := fmt.Sprintf("policy.signedApprovals.issuers[%d]", i)
		probs.Add(iss.Issuer == "", field+`.issuer is empty: set it to the ID tokens' iss exactly, e.g. "https://accounts.google.com"`)
		probs.Add(iss.Issuer != "" && seen[iss.Issuer], fmt.Sprintf("%s.issuer %s is listed twice: give each issuer once, with all its keys", field, iss.Issuer))
		seen[iss.Issuer] = true
		probs.Add(iss.Issuer == keys.WebhookIssuer && c.Webhooks.ApprovalKeyFile != "",
			fmt.Sprintf("%s.issuer %s comes from webhooks.approvalKeyFile: remove this entry", field, keys.WebhookIssuer))
		probs.Add(iss.Audience == "", field+".audience is empty: set it to the client ID the ID tokens are issued for (their aud)")
		if err := iss.loadKeys(field); err != nil {
			probs.Add(true, err.Error())
		}
	}
	if path := c.Webhooks.ApprovalKeyFile; path != "" {
		iss, err := webhookIssuer(path)
		if err != nil {
			probs.Add(true, fmt.Sprintf("webhooks.approvalKeyFile: %v", err))
		} else {
			s.Issuers = append(s.Issuers, iss)
		}
	}
	probs.Add(s.Required && len(s.Issuers) == 0, "policy.signedApprovals.required is on but no issuer is trusted: add one to policy.signedApprovals.issuers (or set webhooks.approvalKeyFile)")
	c.Webhooks.Agents = agents(c.Webhooks.Agents, &probs)
	for i, arn := range c.Webhooks.SNSTopicARNs {
		probs.Add(!snsTopicARN.MatchString(arn), fmt.Sprintf("webhooks.snsTopicArns[%d]: %q is not an SNS topic ARN: give it as arn:aws:sns:<region>:<account>:<topic>, the topic the endpoint service's connection notification publishes to", i, arn))
	}
	return probs.Err()
}

// agents checks webhooks.agents, in key order so that the problems read
// the same every time, and normalises it for lookups (AgentKey, Email).
func agents(in map[string]string, probs *strictjson.Problems) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for _, k := range slices.Sorted(maps.Keys(in)) {
		field := fmt.Sprintf("webhooks.agents[%q]", k)
		system, id, _ := strings.Cut(k, ":")
		system = strings.ToLower(strings.TrimSpace(system))
		if !slices.Contains(AgentSystems, system) || strings.TrimSpace(id) == "" {
			probs.Add(true, field+`: key agents as "<system>:<id>" with system `+strings.Join(AgentSystems, ", ")+`, e.g. "github:octocat"`)
			continue
		}
		email, ok := Email(in[k])
		if !ok {
			probs.Add(true, fmt.Sprintf("%s: %q is not an e-mail: map the agent to the approver's e-mail, as policy.approvers lists it", field, in[k]))
			continue
		}
		out[AgentKey(system, id)] = email
	}
	return out
}

// loadKeys reads the issuer's key file into JWKS and checks the keys,
// keeping them in their canonical form: the same keys give the same
// policy on every worker, whatever the file's layout.
func (iss *TrustedIssuer) loadKeys(field string) error {
	if iss.JWKSFile != "" {
		if len(iss.JWKS) > 0 {
			return fmt.Errorf("%s: give jwks or jwksFile, not both", field)
		}
		data, err := os.ReadFile(iss.JWKSFile)
		if err != nil {
			return fmt.Errorf("%s.jwksFile: %v: give a file holding the issuer's public key set (its jwks_uri document)", field, err)
		}
		iss.JWKS, iss.JWKSFile = data, ""
		field += ".jwksFile"
	} else {
		field += ".jwks"
	}
	if len(iss.JWKS) == 0 {
		return fmt.Errorf("%s is empty: set jwks to the issuer's public key set, or jwksFile to a file holding it", field)
	}
	set, err := keys.ParsePublic(iss.JWKS)
	if err != nil {
		return fmt.Errorf("%s: %v", field, err)
	}
	iss.JWKS, err = json.Marshal(set)
	return err
}

// AgentKey is the Webhooks.Agents key of a ticket system's agent. GitHub
// logins are case-insensitive, so they are keyed in lower case.
func AgentKey(system, id string) string {
	id = strings.TrimSpace(id)
	if system == "github" {
		id = strings.ToLower(id)
	}
	return system + ":" + id
}

// webhookIssuer is the trusted issuer of the approvals the webhook
// receiver signs with the key in path.
func webhookIssuer(path string) (TrustedIssuer, error) {
	key, err := keys.ReadPrivate(path)
	if err != nil {
		return TrustedIssuer{}, err
	}
	jwks, err := keys.PublicSet(key)
	if err != nil {
		return TrustedIssuer{}, err
	}
	return TrustedIssuer{Issuer: keys.WebhookIssuer, Audience: keys.WebhookAudience, JWKS: jwks}, nil
}

// SimDir and TicketDir are where the simulated cloud and the file tracker
// keep their state.
func (c Config) SimDir() string    { return filepath.Join(c.StateDir, "cloud") }
func (c Config) TicketDir() string { return filepath.Join(c.StateDir, "tickets") }
