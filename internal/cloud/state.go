package cloud

import (
	"regexp"
	"strings"
)

// State is a cloud-neutral connection or endpoint state.
type State string

// The states every provider maps onto.
const (
	StatePendingAcceptance State = "pending-acceptance" // waits for the service owner
	StateProvisioning      State = "provisioning"       // accepted, not yet usable
	StateAvailable         State = "available"
	StateRejected          State = "rejected"
	StateDisconnected      State = "disconnected"
	StateFailed            State = "failed"
	StateExpired           State = "expired"
	StateDeleting          State = "deleting"
	StateDeleted           State = "deleted"
	StateUnknown           State = "unknown"
)

// Terminal reports whether nothing more will happen to the connection
// without a new request.
func (s State) Terminal() bool {
	switch s {
	case StateRejected, StateDisconnected, StateFailed, StateExpired, StateDeleting, StateDeleted:
		return true
	}
	return false
}

// AWSState maps an EC2 endpoint or endpoint-connection state. The API
// answers in lowerCamel ("pendingAcceptance") while the Go SDK's constants
// are PascalCase ("PendingAcceptance"), so the comparison ignores case.
func AWSState(s string) State {
	switch strings.ToLower(s) {
	case "pendingacceptance":
		return StatePendingAcceptance
	case "pending":
		return StateProvisioning
	case "available":
		return StateAvailable
	case "rejected":
		return StateRejected
	case "failed":
		return StateFailed
	case "expired":
		return StateExpired
	case "deleting":
		return StateDeleting
	case "deleted":
		return StateDeleted
	}
	return StateUnknown
}

// AzureState maps an Azure private endpoint connection status. In Azure,
// "Pending" means waiting for approval, unlike AWS's "pending".
func AzureState(s string) State {
	switch strings.ToLower(s) {
	case "pending":
		return StatePendingAcceptance
	case "approved":
		return StateAvailable
	case "rejected":
		return StateRejected
	case "disconnected":
		return StateDisconnected
	}
	return StateUnknown
}

// AlibabaState maps an Alibaba Cloud PrivateLink endpoint connection
// status. Pending waits for the service owner; Connecting is accepted but
// not yet usable; Disconnecting and Disconnected are a connection the
// service owner closed (DisableVpcEndpointConnection: a rejection, in
// the words of the other clouds); ServiceDeleted is gone.
func AlibabaState(s string) State {
	switch strings.ToLower(s) {
	case "pending":
		return StatePendingAcceptance
	case "connecting":
		return StateProvisioning
	case "connected":
		return StateAvailable
	case "disconnecting", "disconnected":
		return StateRejected
	case "deleting":
		return StateDeleting
	case "servicedeleted", "deleted":
		return StateDeleted
	}
	return StateUnknown
}

// AlibabaEndpointState maps the status of an Alibaba endpoint (the
// consumer side) and of its connection: an endpoint being deleted says so
// whatever its connection, and a connected endpoint is available only once
// the endpoint itself is Active.
func AlibabaEndpointState(endpointStatus, connectionStatus string) State {
	switch strings.ToLower(endpointStatus) {
	case "deleting":
		return StateDeleting
	case "deleted":
		return StateDeleted
	}
	st := AlibabaState(connectionStatus)
	if st == StateAvailable && !strings.EqualFold(endpointStatus, "active") {
		return StateProvisioning
	}
	return st
}

var awsRootPrincipal = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):root$`)

// AWSAccount maps an allowed principal of an endpoint service onto the
// account it allows: only an account's root (arn:aws:iam::<id>:root) names
// one whole customer account; roles, users and "*" do not (ok is false).
func AWSAccount(principal string) (account string, ok bool) {
	m := awsRootPrincipal.FindStringSubmatch(principal)
	if m == nil {
		return "", false
	}
	return m[1], true
}
