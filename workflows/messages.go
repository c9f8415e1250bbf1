// Package workflows is the PrivateLink runbook as deterministic Temporal
// workflows, and the message contract operators use to drive it. This file
// is the one place where the contract's names are decided.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/linkwright/linkwright/internal/probe"
)

// Task queue and workflow types.
const (
	TaskQueue           = "privatelink"
	EnablementWorkflow  = "PrivateLinkEnablement"
	ReverseLinkWorkflow = "PrivateLinkReverseLink"
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
)

// Gates lists every gate.
var Gates = []string{GateAcceptConnection, GateCreateReverseEndpoint}

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
)

// SearchAttributes is every search attribute, for registration.
var SearchAttributes = []temporal.SearchAttributeKeyKeyword{SAProject, SAEnvironment, SACloud, SACustomerAccount, SAPhase, SAWaitingOn, SATicket}

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
	case PhaseCompleted, PhaseInvalid, PhaseRejected, PhaseCancelled, PhaseExpired, PhaseFailed:
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
	Audit             []AuditEntry   `json:"audit"`
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

// Outcomes of an enablement or reverse link.
const (
	OutcomeCompleted = "completed"
	OutcomeRejected  = "rejected"
	OutcomeCancelled = "cancelled"
	OutcomeExpired   = "expired"
	// OutcomeFailed is a reverse link stopped by an error it cannot retry.
	OutcomeFailed = "failed"
)
