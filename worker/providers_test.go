package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/cloud/cloudtest"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

// suffixResolver answers names under a suffix with loopback, where a
// test's listener stands in for the customer's service behind an
// emulator's endpoint; other names do not resolve.
type suffixResolver string

func (s suffixResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if strings.HasSuffix(host, string(s)) {
		return []string{"127.0.0.1"}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// customerService listens on loopback for the test, accepting and closing
// every connection, and returns its port.
func customerService(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// summarize totals API calls by name, leaving out the names in skip.
func summarize(calls map[string]int, skip ...string) (int, string) {
	total := 0
	var parts []string
	for k, n := range calls {
		if slices.Contains(skip, k) {
			continue
		}
		total += n
		parts = append(parts, fmt.Sprintf("%s=%d", k, n))
	}
	slices.Sort(parts)
	return total, strings.Join(parts, " ")
}

// emulatedCustomer is the customer in a cloud emulator's world: the
// conformance suite's customer, and the platform's endpoints waiting on
// one of the customer's services.
type emulatedCustomer interface {
	cloudtest.Customer
	Pending(service string) []string
}

// driveBidirectional runs a bidirectional enablement to completion (its
// handoff to the live link, which is left running until the test ends) on a
// worker already started, acting as the customer through cust (whose
// account and service the request names) and as the approvers. service is
// the platform's service name the customer connects to; principal is what
// the customer allows on their own service.
func driveBidirectional(t *testing.T, c client.Client, req request.Request, cust emulatedCustomer, service, principal string) workflows.Result {
	t.Helper()
	id := req.WorkflowID()
	run := start(t, c, req)
	st := driveToEndpointAcceptance(t, c, req, cust, service, principal)
	require.Equal(t, []string{st.ReverseEndpointID}, cust.Pending(req.CustomerEndpointService))
	require.NoError(t, cust.AcceptEndpoint(req.CustomerAccount, st.ReverseEndpointID))
	signal(t, c, id, workflows.SignalCustomerConnectionAccepted, nil)

	waitFor(t, c, id, "the customer's confirmation", phase(workflows.PhaseAwaitingConfirmation))
	signal(t, c, id, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true})
	res, _ := completed(t, c, run)
	assert.Equal(t, workflows.OutcomeCompleted, res.Outcome)
	require.Len(t, res.Status.Verification, 1)
	assert.True(t, res.Status.Verification[0].OK(), res.Status.Verification[0].Diagnosis)
	return res
}

// driveToEndpointAcceptance drives a started bidirectional enablement to
// the customer's acceptance of the platform's endpoint: the customer
// connects, an approver accepts, the customer grants, another approver
// lets the platform create its endpoint.
func driveToEndpointAcceptance(t *testing.T, c client.Client, req request.Request, cust emulatedCustomer, service, principal string) workflows.Status {
	t.Helper()
	id := req.WorkflowID()
	st := waitFor(t, c, id, "the customer's turn", phase(workflows.PhaseAwaitingConnection))
	assert.Equal(t, service, st.ServiceName, "the service name the customer is told")
	_, err := cust.CreateEndpoint(req.CustomerAccount, service)
	require.NoError(t, err, "the customer was allowed on the platform's service")
	signal(t, c, id, workflows.SignalCustomerEndpointCreated, nil)

	waitFor(t, c, id, "gate accept-connection", gate(workflows.GateAcceptConnection))
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateAcceptConnection, Approver: alice})
	require.NoError(t, err)

	waitFor(t, c, id, "the customer's grant", phase(workflows.PhaseAwaitingGrant))
	require.NoError(t, cust.Grant(req.CustomerAccount, req.CustomerEndpointService, principal, req.CustomerServicePorts))
	signal(t, c, id, workflows.SignalCustomerAccessGranted, nil)

	waitFor(t, c, id, "gate create-reverse-endpoint", gate(workflows.GateCreateReverseEndpoint))
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateCreateReverseEndpoint, Approver: bob})
	require.NoError(t, err)
	return waitFor(t, c, id, "the customer's acceptance", phase(workflows.PhaseAwaitingEndpoint))
}
