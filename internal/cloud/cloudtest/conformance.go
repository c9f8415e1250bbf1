// Package cloudtest is the provider conformance suite: one set of behaviours
// every cloud.Provider passes (sim, AWS, Azure), whatever its SDK.
package cloudtest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Customer acts as the customer in the provider's world (the sim's customer
// side, an emulator's API, a fake's model).
type Customer interface {
	// CreateEndpoint connects account to a service; it fails when the
	// account is not allowed.
	CreateEndpoint(account, service string) (id string, err error)
	// Grant creates the customer's service if needed and allows principal.
	Grant(account, service, principal string, ports []int) error
	AcceptEndpoint(account, id string) error
	RejectEndpoint(account, id string) error
	// DeleteEndpoint deletes one of account's endpoints to a platform
	// service, as a customer who gives up (or starts over) would.
	DeleteEndpoint(account, id string) error
}

// Harness is what the suite needs from one provider.
type Harness struct {
	Provider cloud.Provider
	Customer Customer
	// Env is a Pro environment with no customers yet.
	Env cloud.EnvRef
	// Account is a customer account; Other is one never allowed.
	Account, Other string
	// CustomerService is a name for the customer's own endpoint service,
	// valid for the cloud; OtherCustomerService is a second one.
	CustomerService, OtherCustomerService string
	// Ports are two ports valid on the cloud.
	Ports []int
}

// Run runs the suite. Each subtest builds on the previous ones' state, as an
// enablement does.
func Run(t *testing.T, h Harness) {
	ctx := context.Background()
	p := h.Provider
	var env cloud.Environment
	require.NotEmpty(t, h.OtherCustomerService, "the harness names a second customer service")
	require.NotEqual(t, h.CustomerService, h.OtherCustomerService)

	t.Run("environment lookup", func(t *testing.T) {
		var err error
		env, err = p.Environment(ctx, h.Env)
		require.NoError(t, err)
		assert.Equal(t, h.Env.Project, env.Project)
		assert.Equal(t, h.Env.Region, env.Region)
		assert.NotEmpty(t, env.ServiceName)
		assert.NotEmpty(t, env.Principal)
		assert.NotEmpty(t, env.Plan)
		missing := h.Env
		missing.Project = "nosuchproject1"
		_, err = p.Environment(ctx, missing)
		assert.True(t, cloud.IsNotFound(err), "missing environment: want NotFound, got %v", err)
	})
	require.NotEmpty(t, env.ServiceName, "cannot go on without the environment")

	t.Run("open ports idempotently", func(t *testing.T) {
		require.NoError(t, p.OpenPorts(ctx, h.Env, h.Ports))
		require.NoError(t, p.OpenPorts(ctx, h.Env, h.Ports), "opening again is success")
		targets, err := p.TargetHealth(ctx, h.Env, h.Ports)
		require.NoError(t, err)
		require.Len(t, targets, len(h.Ports))
		for _, tg := range targets {
			assert.True(t, tg.Healthy, "port %d: %s", tg.Port, tg.Reason)
		}
		st := serviceState(t, p, h)
		for _, port := range h.Ports {
			assert.Contains(t, st.OpenPorts, port, "an opened port has a listener or rule")
		}
		assert.Empty(t, st.Accounts, "no customer allowed yet")
	})

	t.Run("a customer not allowed cannot connect", func(t *testing.T) {
		_, err := h.Customer.CreateEndpoint(h.Other, env.ServiceName)
		assert.Error(t, err)
		conns, err := p.Connections(ctx, h.Env, h.Other)
		require.NoError(t, err)
		assert.Empty(t, conns)
	})

	t.Run("allowing everyone is refused", func(t *testing.T) {
		err := p.AllowAccount(ctx, h.Env, "*")
		assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "got %v", err)
	})

	var connID string
	t.Run("allow, connect, accept", func(t *testing.T) {
		require.NoError(t, p.AllowAccount(ctx, h.Env, h.Account))
		require.NoError(t, p.AllowAccount(ctx, h.Env, h.Account), "allowing twice is success")
		assert.Equal(t, []string{strings.ToLower(h.Account)}, serviceState(t, p, h).Accounts, "the allowed account, as an account")
		id, err := h.Customer.CreateEndpoint(h.Account, env.ServiceName)
		require.NoError(t, err)
		conns, err := p.Connections(ctx, h.Env, h.Account)
		require.NoError(t, err)
		require.Len(t, conns, 1)
		assert.Equal(t, id, conns[0].ID)
		assert.Equal(t, cloud.StatePendingAcceptance, conns[0].State)
		others, err := p.Connections(ctx, h.Env, h.Other)
		require.NoError(t, err)
		assert.Empty(t, others, "another account's connection is not this account's")
		connID = id
		require.NoError(t, p.AcceptConnections(ctx, h.Env, []string{id}))
		require.NoError(t, p.AcceptConnections(ctx, h.Env, []string{id}), "accepting twice is harmless")
		eventually(t, func() bool {
			conns, err := p.Connections(ctx, h.Env, h.Account)
			return err == nil && len(conns) == 1 && conns[0].State == cloud.StateAvailable
		}, "the accepted connection becomes available")
	})

	t.Run("a connection accepted twice still succeeds", func(t *testing.T) {
		require.NoError(t, p.AcceptConnections(ctx, h.Env, []string{connID}), "accepting an available connection again is success")
		assert.Equal(t, cloud.StateAvailable, stateOf(t, p, h, connID))
	})

	t.Run("connections are the account's own", func(t *testing.T) {
		require.NoError(t, p.AllowAccount(ctx, h.Env, h.Other))
		theirs, err := h.Customer.CreateEndpoint(h.Other, env.ServiceName)
		require.NoError(t, err)
		for _, account := range []string{h.Account, strings.ToUpper(h.Account)} {
			conns, err := p.Connections(ctx, h.Env, account)
			require.NoError(t, err)
			require.Len(t, conns, 1, "%s: only its own connection, whatever the case of its name", account)
			assert.Equal(t, connID, conns[0].ID)
			assert.Equal(t, strings.ToLower(h.Account), strings.ToLower(conns[0].Account))
		}
		conns, err := p.Connections(ctx, h.Env, h.Other)
		require.NoError(t, err)
		require.Len(t, conns, 1)
		assert.Equal(t, theirs, conns[0].ID)
		require.NoError(t, h.Customer.DeleteEndpoint(h.Other, theirs))
		require.NoError(t, p.RevokeAccount(ctx, h.Env, h.Other))
	})

	t.Run("accepting an unknown connection is NotFound", func(t *testing.T) {
		err := p.AcceptConnections(ctx, h.Env, []string{"vpce-0000000000000dead"})
		assert.True(t, cloud.IsNotFound(err), "got %v", err)
	})

	t.Run("reject is final and repeatable", func(t *testing.T) {
		id, err := h.Customer.CreateEndpoint(h.Account, env.ServiceName)
		require.NoError(t, err)
		require.NoError(t, p.RejectConnections(ctx, h.Env, []string{id}, "not the customer's account"))
		require.NoError(t, p.RejectConnections(ctx, h.Env, []string{id}, "not the customer's account"), "rejecting twice is harmless")
		assert.Equal(t, cloud.StateRejected, stateOf(t, p, h, id))
		err = p.AcceptConnections(ctx, h.Env, []string{id})
		assert.Error(t, err, "a rejected connection cannot be accepted")
		assert.Equal(t, cloud.StateAvailable, stateOf(t, p, h, connID), "the other connection is untouched")
	})

	t.Run("accepting a connection the customer deleted is NotFound", func(t *testing.T) {
		id, err := h.Customer.CreateEndpoint(h.Account, env.ServiceName)
		require.NoError(t, err)
		require.NoError(t, h.Customer.DeleteEndpoint(h.Account, id))
		err = p.AcceptConnections(ctx, h.Env, []string{id})
		assert.True(t, cloud.IsNotFound(err), "got %v", err)
		assert.ErrorContains(t, err, "customer deleted", "the message says what happened")
		conns, err := p.Connections(ctx, h.Env, h.Account)
		require.NoError(t, err)
		for _, c := range conns {
			if c.ID == id {
				assert.NotEqual(t, cloud.StatePendingAcceptance, c.State, "a deleted connection no longer waits for acceptance")
			}
		}
		assert.Equal(t, cloud.StateAvailable, stateOf(t, p, h, connID), "the other connection is untouched")
	})

	t.Run("revoke stops new connections", func(t *testing.T) {
		require.NoError(t, p.RevokeAccount(ctx, h.Env, h.Account))
		require.NoError(t, p.RevokeAccount(ctx, h.Env, h.Account), "revoking twice is success")
		assert.Empty(t, serviceState(t, p, h).Accounts, "the revoked account is no longer allowed")
		_, err := h.Customer.CreateEndpoint(h.Account, env.ServiceName)
		assert.Error(t, err)
	})

	t.Run("close ports", func(t *testing.T) {
		require.NoError(t, p.ClosePorts(ctx, h.Env, h.Ports[:1]))
		targets, err := p.TargetHealth(ctx, h.Env, h.Ports)
		require.NoError(t, err)
		assert.False(t, targets[0].Healthy)
		assert.NotEmpty(t, targets[0].Reason)
		assert.True(t, targets[1].Healthy)
		st := serviceState(t, p, h)
		assert.NotContains(t, st.OpenPorts, h.Ports[0], "a closed port has no listener or rule")
		assert.Contains(t, st.OpenPorts, h.Ports[1])
	})

	var endpoint cloud.Endpoint
	t.Run("reverse endpoint needs the customer's grant", func(t *testing.T) {
		visible, err := p.ServiceVisible(ctx, h.Env, h.CustomerService)
		require.NoError(t, err)
		assert.False(t, visible)
		_, err = p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: h.Env, Service: h.CustomerService, Token: "conformance-early"})
		assert.Error(t, err, "an endpoint to a service that has not granted the platform fails")

		require.NoError(t, h.Customer.Grant(h.Account, h.CustomerService, env.Principal, h.Ports))
		visible, err = p.ServiceVisible(ctx, h.Env, h.CustomerService)
		require.NoError(t, err)
		assert.True(t, visible)

		spec := cloud.EndpointSpec{Env: h.Env, Service: h.CustomerService, Token: "conformance-1", Description: "Linkwright conformance"}
		endpoint, err = p.CreateEndpoint(ctx, spec)
		require.NoError(t, err)
		assert.Equal(t, cloud.StatePendingAcceptance, endpoint.State)
		assert.False(t, endpoint.Created.IsZero(), "the creation time, as the cloud says")
		again, err := p.CreateEndpoint(ctx, spec)
		require.NoError(t, err)
		assert.Equal(t, endpoint.ID, again.ID, "the same token never creates two endpoints")
	})
	require.NotEmpty(t, endpoint.ID)

	t.Run("platform endpoints are found by service", func(t *testing.T) {
		require.NoError(t, h.Customer.Grant(h.Account, h.OtherCustomerService, env.Principal, h.Ports))
		other, err := p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: h.Env, Service: h.OtherCustomerService, Token: "conformance-other"})
		require.NoError(t, err)

		eps := platformEndpoints(t, p, h, h.CustomerService)
		require.Equal(t, []string{endpoint.ID}, ids(eps), "the endpoint just created, not the one into another service")
		assert.Equal(t, cloud.StatePendingAcceptance, eps[0].State)
		assert.False(t, eps[0].Created.IsZero(), "the creation time, as the cloud says")
		assert.Equal(t, []string{other.ID}, ids(platformEndpoints(t, p, h, h.OtherCustomerService)))
		require.NoError(t, p.DeleteEndpoint(ctx, h.Env, other.ID))
		eventually(t, func() bool {
			eps, err := p.PlatformEndpoints(ctx, h.Env, h.OtherCustomerService)
			return err == nil && len(eps) == 0
		}, "a deleted endpoint is no longer listed")
	})

	t.Run("the customer accepts the reverse endpoint", func(t *testing.T) {
		require.NoError(t, h.Customer.AcceptEndpoint(h.Account, endpoint.ID))
		eventually(t, func() bool {
			ep, err := p.DescribeEndpoint(ctx, h.Env, endpoint.ID)
			return err == nil && ep.State == cloud.StateAvailable && ep.DNSName != ""
		}, "the accepted endpoint becomes available with a DNS name")
	})

	t.Run("the customer rejects a reverse endpoint", func(t *testing.T) {
		ep, err := p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: h.Env, Service: h.CustomerService, Token: "conformance-2"})
		require.NoError(t, err)
		require.NoError(t, h.Customer.RejectEndpoint(h.Account, ep.ID))
		got, err := p.DescribeEndpoint(ctx, h.Env, ep.ID)
		require.NoError(t, err)
		assert.Equal(t, cloud.StateRejected, got.State)
		assert.True(t, got.State.Terminal())
		eps := platformEndpoints(t, p, h, h.CustomerService)
		assert.Equal(t, []string{ep.ID, endpoint.ID}, ids(eps), "rejected ones too, newest first")
	})

	t.Run("delete the reverse endpoint", func(t *testing.T) {
		require.NoError(t, p.DeleteEndpoint(ctx, h.Env, endpoint.ID))
		require.NoError(t, p.DeleteEndpoint(ctx, h.Env, endpoint.ID), "deleting twice is success")
		ep, err := p.DescribeEndpoint(ctx, h.Env, endpoint.ID)
		if err == nil {
			assert.Contains(t, []cloud.State{cloud.StateDeleting, cloud.StateDeleted}, ep.State)
		} else {
			assert.True(t, cloud.IsNotFound(err), "got %v", err)
		}
		eventually(t, func() bool {
			eps, err := p.PlatformEndpoints(ctx, h.Env, h.CustomerService)
			return err == nil && !slices.Contains(ids(eps), endpoint.ID)
		}, "a deleted endpoint is no longer listed")
	})
}

func serviceState(t *testing.T, p cloud.Provider, h Harness) cloud.ServiceState {
	t.Helper()
	st, err := p.ServiceState(context.Background(), h.Env)
	require.NoError(t, err)
	assert.True(t, slices.IsSorted(st.OpenPorts), "ports sorted: %v", st.OpenPorts)
	assert.True(t, slices.IsSorted(st.Accounts), "accounts sorted: %v", st.Accounts)
	return st
}

func platformEndpoints(t *testing.T, p cloud.Provider, h Harness, service string) []cloud.Endpoint {
	t.Helper()
	eps, err := p.PlatformEndpoints(context.Background(), h.Env, service)
	require.NoError(t, err)
	for _, ep := range eps {
		assert.NotEqual(t, cloud.StateDeleted, ep.State, "%s: deleted endpoints are left out", ep.ID)
	}
	return eps
}

func ids(eps []cloud.Endpoint) []string {
	out := []string{}
	for _, ep := range eps {
		out = append(out, ep.ID)
	}
	return out
}

func stateOf(t *testing.T, p cloud.Provider, h Harness, id string) cloud.State {
	t.Helper()
	conns, err := p.Connections(context.Background(), h.Env, h.Account)
	require.NoError(t, err)
	for _, c := range conns {
		if c.ID == id {
			return c.State
		}
	}
	t.Fatalf("connection %s not listed", id)
	return ""
}

func eventually(t *testing.T, ok func() bool, what string) {
	t.Helper()
	require.Eventually(t, ok, 15*time.Second, 50*time.Millisecond, what)
}
