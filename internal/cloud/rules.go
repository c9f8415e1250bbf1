package cloud

import (
	"slices"
	"strings"
)

// CheckAccept says what accepting connection id needs, given its state
// now (found is false when the cloud no longer lists it): accept is true
// when it still waits for acceptance; nothing is needed (false, nil) when
// it is accepted already, by this run or by someone else; a connection
// gone is NotFound and one rejected, disconnected, failed, expired or
// being deleted is Conflict. Every provider decides with it, before its
// write and again after a write that lost a race, so that they agree.
func CheckAccept(op, id string, state State, found bool) (accept bool, err error) {
	switch {
	case !found || state == StateDeleted:
		return false, Errorf(NotFound, op, "connection %s is gone: the customer deleted their endpoint before it was accepted (or the ID is not a connection to this service); ask the customer to create a new endpoint and send its ID", id)
	case state == StatePendingAcceptance:
		return true, nil
	case state == StateProvisioning || state == StateAvailable:
		return false, nil
	}
	return false, Errorf(Conflict, op, "connection %s is %s and cannot be accepted; the customer must create a new endpoint", id, state)
}

// NewServiceState builds a ServiceState the same way on every provider:
// sorted, without duplicates, and empty lists rather than nil, so that
// callers compare states without caring which cloud they came from.
func NewServiceState(ports []int, accounts []string) ServiceState {
	s := ServiceState{OpenPorts: slices.Clone(ports), Accounts: slices.Clone(accounts)}
	if s.OpenPorts == nil {
		s.OpenPorts = []int{}
	}
	if s.Accounts == nil {
		s.Accounts = []string{}
	}
	slices.Sort(s.OpenPorts)
	slices.Sort(s.Accounts)
	s.OpenPorts, s.Accounts = slices.Compact(s.OpenPorts), slices.Compact(s.Accounts)
	return s
}

// NewestFirst orders endpoints by creation time, newest first; endpoints
// whose cloud gave no time go last, by ID, so the order is stable.
func NewestFirst(eps []Endpoint) {
	slices.SortFunc(eps, func(a, b Endpoint) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
