// Package workflows is the PrivateLink runbook as deterministic Temporal
// workflows, and the message contract operators use to drive it. This file
// is the one place where the contract's names are decided.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/request"
)

// Task queue and workflow types.
const (
	TaskQueue           = "privatelink"
	EnablementWorkflow  = "PrivateLinkEnablement"
	ReverseLinkWorkflow = "PrivateLinkReverseLink"
	LiveWorkflow        = "PrivateLinkLive"
	ChangeWorkflow      = "PrivateLinkChange"
	TeardownWorkflow    = "PrivateLinkTeardown"
)

// On the live link: updates change (a request.Change) and teardown (a
// request.Teardown), each answering a ChangeResult with the plan, and
// test-connection (a TestConnection, answers a TestResult); signal
// check-now runs a health check at once.
const (
	UpdateChange         = "change"
	UpdateTeardown       = "teardown"
	UpdateTestConnection = "test-connection"
	SignalCheckNow       = "check-now"
)

// Signals relaying facts from the customer or the ticket. Each also makes
// the workflow check the cloud at once instead of at its next poll.
const (
	SignalCustomerEndpointCreated    = "customer-endpoint-created"
	SignalCustomerAccessGranted      = "customer-access-granted"
	SignalCustomerConnectionAccepted = "customer-connection-accepted"
	SignalCustomerVerified           = "customer-verified"
)

// Human decisions: each is both an update (preferred) and a signal of the
// same name and payload.
const (
	Approve = "approve"
	Reject  = "reject"
	Cancel  = "cancel"
)

// QueryStatus returns a Status.
const QueryStatus = "status"

// Gates: the points where a platform engineer decides.
const (
	// GateAcceptConnection: accept the customer's connection request.
	GateAcceptConnection = "accept-connection"
	// GateCreateReverseEndpoint: create the platform's endpoint into the
	// customer's service (bidirectional only).
	GateCreateReverseEndpoint = "create-reverse-endpoint"
	// GateApplyChange: apply a change's plan.
	GateApplyChange = "apply-change"
	// GateTeardown: tear the link down.
	GateTeardown = "teardown"
	// GateRepairDrift: repair what a health check found differs from the spec.
	GateRepairDrift = "repair-drift"
	// GateAdopt: manage a link built by hand, as found in the cloud.
	GateAdopt = "adopt"
)

// Gates lists every gate.
var Gates = []string{GateAcceptConnection, GateCreateReverseEndpoint, GateApplyChange, GateTeardown, GateRepairDrift, GateAdopt}

// Internal signals between the enablement and its reverse-link child.
const (
	signalReverseProgress = "reverse-progress"
	signalReverseDecision = "reverse-decision"
	signalReverseNudge    = "reverse-nudge"
)

// Search attributes, registered by the local dev stack (Makefile).
var (
	SAProject         = temporal.NewSearchAttributeKeyKeyword("PrivateLinkProject")
	SAEnvironment     = temporal.NewSearchAttributeKeyKeyword("PrivateLinkEnvironment")
	SACloud           = temporal.NewSearchAttributeKeyKeyword("PrivateLinkCloud")
	SACustomerAccount = temporal.NewSearchAttributeKeyKeyword("PrivateLinkCustomerAccount")
	SAPhase           = temporal.NewSearchAttributeKeyKeyword("PrivateLinkPhase")
	SAWaitingOn       = temporal.NewSearchAttributeKeyKeyword("PrivateLinkWaitingOn")
	SATicket          = temporal.NewSearchAttributeKeyKeyword("PrivateLinkTicket")
	SAConnectionType  = temporal.NewSearchAttributeKeyKeyword("PrivateLinkConnectionType")
)

// SearchAttributes is every search attribute, for registration.
var SearchAttributes = []temporal.SearchAttributeKeyKeyword{SAProject, SAEnvironment, SACloud, SACustomerAccount, SAPhase, SAWaitingOn, SATicket, SAConnectionType}

// Approval is the payload of approve.
type Approval struct {
	Gate     string `json:"gate"`
	Approver string `json:"approver"`
	Comment  string `json:"comment,omitempty"`
	// IDToken is the approver's OIDC ID token (a JWT), required when the
	// policy's signedApprovals.required is on: the approver is then the
	// token's verified e-mail.
	IDToken string `json:"idToken,omitempty"`
}

// Rejection is the payload of reject.
type Rejection struct {
	Gate     string `json:"gate"`
	Approver string `json:"approver"`
	Reason   string `json:"reason"`
	IDToken  string `json:"idToken,omitempty"`
}

// Cancellation is the payload of cancel.
type Cancellation struct {
	Approver string `json:"approver"`
	Reason   string `json:"reason"`
	IDToken  string `json:"idToken,omitempty"`
}

// CustomerVerified is the payload of customer-verified.
type CustomerVerified struct {
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// CustomerEvent is the (optional) payload of the other customer signals.
type CustomerEvent struct {
	Detail string `json:"detail,omitempty"`
}

// Phase is where an enablement stands.
type Phase string

// Phases, in runbook order, then the endings.
const (
	PhaseValidating           Phase = "validating"
	PhaseOpeningTicket        Phase = "opening-ticket"
	PhaseOpeningPorts         Phase = "opening-ports"
	PhaseAllowingCustomer     Phase = "allowing-customer"
	PhaseAwaitingConnection   Phase = "awaiting-connection-request"
	PhaseAwaitingApproval     Phase = "awaiting-approval"
	PhaseAcceptingConnection  Phase = "accepting-connection"
	PhaseVerifyingPlatform    Phase = "verifying-platform-side"
	PhaseAwaitingGrant        Phase = "awaiting-customer-grant"
	PhaseCreatingEndpoint     Phase = "creating-reverse-endpoint"
	PhaseAwaitingEndpoint     Phase = "awaiting-endpoint-acceptance"
	PhaseVerifyingReverse     Phase = "verifying-reverse-link"
	PhaseAwaitingFix          Phase = "awaiting-fix"
	PhaseAwaitingConfirmation Phase = "awaiting-customer-confirmation"
	PhaseUndoing              Phase = "undoing"

	// The live link.
	PhaseReadingCloud Phase = "reading-cloud" // adoption, change and teardown plans
	PhaseLive         Phase = "live"
	PhaseDegraded     Phase = "degraded"
	PhaseChanging     Phase = "changing"
	PhaseTearingDown  Phase = "tearing-down"
	PhaseTornDown     Phase = "torn-down"

	PhaseCompleted Phase = "completed"
	PhaseInvalid   Phase = "invalid"
	PhaseRejected  Phase = "rejected"
	PhaseCancelled Phase = "cancelled"
	PhaseExpired   Phase = "expired"
	PhaseFailed    Phase = "failed"
)

// Ended reports whether the phase is final.
func (p Phase) Ended() bool {
	switch p {
	case PhaseCompleted, PhaseInvalid, PhaseRejected, PhaseCancelled, PhaseExpired, PhaseFailed, PhaseTornDown:
		return true
	}
	return false
}

// WaitingOn says who must act next.
type WaitingOn string

// Who an enablement waits on.
const (
	WaitingOnCustomer WaitingOn = "customer"
	WaitingOnOperator WaitingOn = "operator"
	WaitingOnCloud    WaitingOn = "cloud"
	WaitingOnNone     WaitingOn = "none"
)

// Status is the answer to the status query.
type Status struct {
	WorkflowID     string `json:"workflowId"`
	Company        string `json:"company"`
	Project        string `json:"project"`
	Environment    string `json:"environment"`
	Cloud          string `json:"cloud"`
	Region         string `json:"region"`
	ConnectionType string `json:"connectionType"`
	RequestedBy    string `json:"requestedBy"`

	Phase     Phase     `json:"phase"`
	WaitingOn WaitingOn `json:"waitingOn"`
	Since     time.Time `json:"since"`
	// Next says in one line what happens next and who must act.
	Next string `json:"next"`
	// Gate is the gate open for a decision, if any.
	Gate string `json:"gate,omitempty"`
	// Deadline is the business-day target for the whole enablement.
	Deadline  time.Time `json:"deadline"`
	Escalated bool      `json:"escalated"`

	Ticket            string         `json:"ticket,omitempty"`
	TicketURL         string         `json:"ticketUrl,omitempty"`
	ServiceName       string         `json:"serviceName,omitempty"`
	CustomerEndpoints []string       `json:"customerEndpoints,omitempty"`
	ReverseEndpointID string         `json:"reverseEndpointId,omitempty"`
	ReverseDNSName    string         `json:"reverseDnsName,omitempty"`
	PlatformProblems  []string       `json:"platformProblems,omitempty"`
	Verification      []probe.Result `json:"verification,omitempty"`
	Problems          []string       `json:"problems,omitempty"`
	Outcome           string         `json:"outcome,omitempty"`
	// LinkStatus is an outbound live link's status as the platform shows
	// it to the customer: running, or failed with LinkStatusReason.
	LinkStatus       string `json:"linkStatus,omitempty"`
	LinkStatusReason string `json:"linkStatusReason,omitempty"`
	// Spec and Health are the live link's (PrivateLinkLive).
	Spec   *Spec   `json:"spec,omitempty"`
	Health *Health `json:"health,omitempty"`
	// Activity is the change or teardown running on the live link.
	Activity string       `json:"activity,omitempty"`
	Audit    []AuditEntry `json:"audit"`
}

// AuditEntry is one step or decision, in order.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"`
}

// Result is what a finished enablement returns.
type Result struct {
	Outcome string `json:"outcome"`
	Status  Status `json:"status"`
}

// Statuses of an outbound live link (Status.LinkStatus).
const (
	LinkRunning = "running"
	LinkFailed  = "failed"
)

// Outcomes of an enablement or reverse link.
const (
	OutcomeCompleted = "completed"
	OutcomeRejected  = "rejected"
	OutcomeCancelled = "cancelled"
	OutcomeExpired   = "expired"
	// OutcomeFailed is a reverse link stopped by an error it cannot retry.
	OutcomeFailed = "failed"
	// OutcomeTornDown is a live link that was torn down.
	OutcomeTornDown = "torn-down"
	// OutcomeApplied is a change that was applied; OutcomePlanned a dry run.
	OutcomeApplied = "applied"
	OutcomePlanned = "planned"
)

// Spec is what a live link is meant to be: checked by every health check,
// changed only by a change.
type Spec struct {
	Company     string `json:"company"`
	RequestedBy string `json:"requestedBy"`
	Project     string `json:"project"`
	Environment string `json:"environment"`
	Cloud       string `json:"cloud"`
	Region      string `json:"region"`
	// ConnectionType is unidirectional or bidirectional (bidirectional
	// while it has reverse connections), or outbound (only reverse
	// connections, for the link's whole life).
	ConnectionType string `json:"connectionType"`
	// Customer are the customer's accounts (AWS account, Azure
	// subscriptions), whether or not the platform's service allows them.
	Customer  []string `json:"customer,omitempty"`
	Ticket    string   `json:"ticket,omitempty"`
	TicketURL string   `json:"ticketUrl,omitempty"`
	// ServiceName and ServiceID are the platform's endpoint service.
	ServiceName string `json:"serviceName"`
	ServiceID   string `json:"serviceId,omitempty"`
	Principal   string `json:"principal,omitempty"`
	Plan        string `json:"plan,omitempty"`
	// Services are the platform ports open to the customer.
	Services []request.Service `json:"services"`
	// Accounts are the customer accounts (Azure subscriptions) allowed.
	Accounts []string `json:"accounts"`
	// Connections are the customer's accepted connections.
	Connections []string `json:"connections,omitempty"`
	// Reverse are the platform's endpoints into customer services.
	Reverse []ReverseConnection `json:"reverse,omitempty"`
	// Deadlines is the business-day target of every request the link
	// went through, in order.
	Deadlines []Deadline `json:"deadlines,omitempty"`
	// BandwidthMbps limits each accepted customer connection (Alibaba);
	// 0 is the service's default.
	BandwidthMbps int `json:"bandwidthMbps,omitempty"`
	// CustomerRegion is where the customer connects from when it is not
	// the platform's region (Alibaba cross-region access).
	CustomerRegion string `json:"customerRegion,omitempty"`
}

// Link is what a change to the link is checked against.
func (s Spec) Link() request.Link {
	lk := request.Link{ConnectionType: s.ConnectionType, Cloud: s.Cloud, Region: s.Region, Ports: s.ports(), Accounts: s.Accounts, CustomerRegion: s.CustomerRegion}
	for _, r := range s.Reverse {
		lk.CustomerServices = append(lk.CustomerServices, r.Service)
	}
	return lk
}

// ReverseConnection is one platform endpoint into a customer service.
type ReverseConnection struct {
	Service    string `json:"service"`
	Ports      []int  `json:"ports"`
	EndpointID string `json:"endpointId"`
	DNSName    string `json:"dnsName"`
}

// Deadline is one request's business-day target and when it was met.
type Deadline struct {
	What     string    `json:"what"`
	Started  time.Time `json:"started"`
	Target   time.Time `json:"target"`
	Done     time.Time `json:"done,omitzero"`
	Escalate bool      `json:"escalated,omitempty"`
}

// Health is what the live link's last check found.
type Health struct {
	Healthy   bool      `json:"healthy"`
	LastCheck time.Time `json:"lastCheck,omitzero"`
	// Since is when the link became healthy or degraded.
	Since time.Time `json:"since,omitzero"`
	// Checks counts the checks of this run.
	Checks int `json:"checks"`
	// Problems are what fails, for engineers.
	Problems []string `json:"problems,omitempty"`
	// Drift is where the cloud differs from the spec, with the repair.
	Drift        []Drift        `json:"drift,omitempty"`
	Verification []probe.Result `json:"verification,omitempty"`
	Escalated    bool           `json:"escalated,omitempty"`
}

// Drift is one difference between the cloud and the spec, with its repair.
type Drift = activities.Drift

// TestConnection is the input of test-connection: Port 0 tests every port.
type TestConnection struct {
	Port int `json:"port"`
}

// TestResult is what test-connection found, per port.
type TestResult struct {
	OK      bool           `json:"ok"`
	Checked time.Time      `json:"checked"`
	Results []probe.Result `json:"results"`
	// Problems are the platform side's (connections, targets), if any.
	Problems []string `json:"problems,omitempty"`
}

// PlanStep is one step of a change or teardown plan, in order.
type PlanStep struct {
	Action string `json:"action"`
	Detail string `json:"detail"`
	// Who acts: linkwright, customer or approver.
	Who string `json:"who"`
}

// ChangeResult answers the change update and ends PrivateLinkChange.
type ChangeResult struct {
	WorkflowID string     `json:"workflowId"`
	Outcome    string     `json:"outcome,omitempty"`
	DryRun     bool       `json:"dryRun"`
	Plan       []PlanStep `json:"plan"`
	Why        string     `json:"why,omitempty"`
}
