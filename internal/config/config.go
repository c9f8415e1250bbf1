// Package config is the worker's configuration: which cloud and tracker to
// use, where local state lives, who may approve, and the waiting policy.
// It is read from a JSON file (LINKWRIGHT_CONFIG) with environment
// overrides; Temporal client settings are not here but in the standard
// TEMPORAL_* environment and profiles (envconfig).
package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/linkwright/linkwright/internal/strictjson"
)

// Config is the worker's configuration file.
type Config struct {
	// StateDir holds the simulated cloud and the file tracker's tickets.
	StateDir string `json:"stateDir"`
	// Cloud selects the cloud provider: "sim" (default), "aws" or "azure".
	Cloud string `json:"cloud"`
	// AWS configures the AWS provider (cloud "aws"); see the README.
	AWS json.RawMessage `json:"aws,omitempty"`
	// Azure configures the Azure provider (cloud "azure"); see the README.
	Azure json.RawMessage `json:"azure,omitempty"`
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
	// signals; it runs in the worker when Listen is set.
	Webhooks Webhooks `json:"webhooks"`
	// UIURL is the Temporal Web UI, linked from ticket notes.
	UIURL string `json:"uiUrl"`
	// Namespace is only used to build Web UI links; the client's namespace
	// comes from TEMPORAL_NAMESPACE.
	Namespace string `json:"namespace"`
	// ActivitiesPerSecond caps activities across the whole task queue (all
	// workers), so that the fleet shares the cloud's API budget.
	ActivitiesPerSecond float64 `json:"activitiesPerSecond"`
	Policy              Policy  `json:"policy"`
}

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
}

// Policy is what the workflows need from the configuration. The workflow
// reads it through a local activity when it starts and again at each gate,
// so it is recorded in history and replays deterministically.
type Policy struct {
	// Approvers may approve, reject and cancel enablements (emails).
	Approvers []string `json:"approvers"`
	// PollInitial and PollMax bound the backoff of cloud polls while waiting.
	PollInitial Duration `json:"pollInitial"`
	PollMax     Duration `json:"pollMax"`
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
		StateDir:  ".state",
		Cloud:     "sim",
		Tracker:   "file",
		UIURL:     "http://localhost:8233",
		Namespace: "default",
		// EC2 mutating calls refill at about 1 per second per account and
		// region; polls are mostly Describe calls, with a larger budget.
		ActivitiesPerSecond: 10,
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
	}
}

// Load reads the file named by LINKWRIGHT_CONFIG (if set) over the
// defaults, then applies LINKWRIGHT_STATE_DIR, LINKWRIGHT_CLOUD,
// LINKWRIGHT_UI_URL and LINKWRIGHT_APPROVERS (comma-separated).
func Load() (Config, error) {
	c := Default()
	if path := os.Getenv("LINKWRIGHT_CONFIG"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("LINKWRIGHT_CONFIG: %w", err)
		}
		if err := Parse(data, &c); err != nil {
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
	return c, c.finish()
}

// Parse reads a config file strictly over c.
func Parse(data []byte, c *Config) error {
	if err := strictjson.Decode(data, c); err != nil {
		return fmt.Errorf("invalid worker config: %w", err)
	}
	return c.finish()
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
	if p.WebUI == "" {
		p.WebUI = strings.TrimRight(c.UIURL, "/") + "/namespaces/" + c.Namespace
	}
	switch c.Cloud {
	case "sim", "aws", "azure":
	case "":
		c.Cloud = "sim"
	default:
		return fmt.Errorf("cloud %q is not available in this build: use \"sim\", \"aws\" or \"azure\"", c.Cloud)
	}
	switch c.Tracker {
	case "file", "zendesk", "jira", "servicenow", "github":
	case "":
		c.Tracker = "file"
	default:
		return fmt.Errorf("tracker %q is not available: use \"file\", \"zendesk\", \"jira\", \"servicenow\" or \"github\"", c.Tracker)
	}
	if c.StateDir == "" {
		c.StateDir = ".state"
	}
	abs, err := filepath.Abs(c.StateDir)
	if err != nil {
		return err
	}
	c.StateDir = abs
	return nil
}

// SimDir and TicketDir are where the simulated cloud and the file tracker
// keep their state.
func (c Config) SimDir() string    { return filepath.Join(c.StateDir, "cloud") }
func (c Config) TicketDir() string { return filepath.Join(c.StateDir, "tickets") }
