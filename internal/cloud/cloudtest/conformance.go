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
	// Connections the customer deleted (left out of Inventory) and one the
	// platform rejected (listed, closed).
	var deletedIDs []string
	var rejectedID string
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
		deletedIDs = append(deletedIDs, theirs)
		require.NoError(t, p.RevokeAccount(ctx, h.Env, h.Other))
	})

	t.Run("accepting an unknown connection is NotFound", func(t *testing.T) {
		err := p.AcceptConnections(ctx, h.Env, []string{"vpce-0000000000000dead"})
		assert.True(t, cloud.IsNotFound(err), "got %v", err)
	})

	t.Run("reject is final and repeatable", func(t *testing.T) {
		id, err := h.Customer.CreateEndpoint(h.Account, env.ServiceName)
		require.NoError(t, err)
		rejectedID = id
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
		deletedIDs = append(deletedIDs, id)
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

	// The outbound link checks that the customer's service is offered in
	// every zone of the platform deployment. What the customer's side can
	// do here does not set a service's zones, so the suite checks the
	// shape of the answer; each provider's own tests check the zones.
	t.Run("zones are read, changing nothing", func(t *testing.T) {
		before := inventory(t, p, h, []string{h.CustomerService})
		alone, err := p.Zones(ctx, h.Env, "")
		require.NoError(t, err)
		if alone.Regional {
			assert.Empty(t, alone.Platform, "a regional cloud has no zones to check")
		} else {
			assert.NotEmpty(t, alone.Platform, "the platform deployment is in some zones")
		}
		assert.True(t, slices.IsSorted(alone.Platform), "zone IDs sorted: %v", alone.Platform)
		assert.Empty(t, alone.Service, "no service asked about")

		granted, err := p.Zones(ctx, h.Env, h.CustomerService)
		require.NoError(t, err, "the customer allowed the platform on %s", h.CustomerService)
		assert.Equal(t, alone.Regional, granted.Regional)
		assert.Equal(t, alone.Platform, granted.Platform, "the same platform zones, whatever the service")
		assert.True(t, slices.IsSorted(granted.Service), "zone IDs sorted: %v", granted.Service)
		if granted.Regional {
			assert.Empty(t, granted.Service, "a regional cloud has no zones to check")
		}

		// Not granted yet (the next subtest grants it).
		unseen, err := p.Zones(ctx, h.Env, h.OtherCustomerService)
		if err == nil {
			assert.True(t, alone.Regional && unseen.Regional, "a service the platform cannot see is NotFound, unless the cloud is regional: got %+v", unseen)
		} else {
			assert.True(t, cloud.IsNotFound(err), "a service the platform cannot see: want NotFound, got %v", err)
		}

		assert.Equal(t, before, inventory(t, p, h, []string{h.CustomerService}), "Zones changes nothing")
	})

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

	// What the live link's health checks, changes and teardown plan from:
	// the ports and accounts opened again, the customer's accepted
	// connection and the platform's accepted endpoint all exist now.
	var otherEndpoint, theirs string
	t.Run("inventory matches what was created", func(t *testing.T) {
		require.NoError(t, p.OpenPorts(ctx, h.Env, h.Ports))
		require.NoError(t, p.AllowAccount(ctx, h.Env, h.Account))
		require.NotEmpty(t, rejectedID)
		require.Len(t, deletedIDs, 2)

		inv := inventory(t, p, h, []string{h.CustomerService})
		assert.Equal(t, sortedInts(h.Ports), inv.OpenPorts, "exactly the ports opened")
		assert.Equal(t, []string{strings.ToLower(h.Account)}, inv.Accounts, "exactly the account allowed")
		assert.Equal(t, serviceState(t, p, h), inv.ServiceState, "what the service allows, as ServiceState reads it")

		require.Equal(t, []string{connID, rejectedID}, connIDs(inv.Connections),
			"every connection but those the customer deleted (%v), rejected ones too, oldest first", deletedIDs)
		accepted := inv.Connections[0]
		assert.Equal(t, strings.ToLower(h.Account), strings.ToLower(accepted.Account), "the owner account")
		assert.Equal(t, cloud.StateAvailable, accepted.State)
		assert.Equal(t, cloud.StateRejected, inv.Connections[1].State)
		own, err := p.Connections(ctx, h.Env, h.Account)
		require.NoError(t, err)
		for _, c := range own {
			if c.ID == connID {
				assert.Equal(t, c, accepted, "the owner named as Connections names it")
			}
		}

		require.Equal(t, []string{endpoint.ID}, ids(inv.Endpoints), "the platform's endpoint into the service asked about")
		assert.Equal(t, cloud.StateAvailable, inv.Endpoints[0].State)
		assert.True(t, strings.EqualFold(h.CustomerService, inv.Endpoints[0].Service), "into %s: %s", h.CustomerService, inv.Endpoints[0].Service)
		assert.Equal(t, platformEndpoints(t, p, h, h.CustomerService), inv.Endpoints, "the endpoints as PlatformEndpoints lists them")
		assert.Equal(t, inv, inventory(t, p, h, []string{h.CustomerService}), "reading again finds the same: Inventory changes nothing")

		none := inventory(t, p, h, nil)
		assert.Empty(t, none.Endpoints, "no service asked about: no endpoints")
		assert.Equal(t, inv.ServiceState, none.ServiceState)
		assert.Equal(t, inv.Connections, none.Connections)

		// An endpoint into a service not asked about is not reported.
		other, err := p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: h.Env, Service: h.OtherCustomerService, Token: "conformance-inventory"})
		require.NoError(t, err)
		otherEndpoint = other.ID
		assert.Equal(t, []string{endpoint.ID}, ids(inventory(t, p, h, []string{h.CustomerService}).Endpoints), "not the endpoint into another service")
		assert.Equal(t, []string{other.ID}, ids(inventory(t, p, h, []string{h.OtherCustomerService}).Endpoints))
		both := inventory(t, p, h, []string{h.CustomerService, h.OtherCustomerService})
		assert.Equal(t, []string{other.ID, endpoint.ID}, ids(both.Endpoints), "several services at once, newest first")

		// A connection from another account is listed, with its owner.
		require.NoError(t, p.AllowAccount(ctx, h.Env, h.Other))
		theirs, err = h.Customer.CreateEndpoint(h.Other, env.ServiceName)
		require.NoError(t, err)
		inv = inventory(t, p, h, []string{h.CustomerService})
		assert.Equal(t, sortedStrings([]string{strings.ToLower(h.Account), strings.ToLower(h.Other)}), inv.Accounts)
		require.Equal(t, []string{connID, rejectedID, theirs}, connIDs(inv.Connections), "whatever the owner, oldest first")
		assert.Equal(t, strings.ToLower(h.Other), strings.ToLower(inv.Connections[2].Account), "owned by the other account")
		assert.Equal(t, cloud.StatePendingAcceptance, inv.Connections[2].State)
		assert.Equal(t, strings.ToLower(h.Account), strings.ToLower(inv.Connections[0].Account), "still the first account's")
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

	// Teardown plans from Inventory alone, in the safe order: the
	// platform's endpoints first, then every customer connection rejected,
	// the accounts revoked, the ports closed; Inventory then proves
	// nothing is left. "Nothing" is honest per cloud: a rejected
	// connection stays listed (AWS keeps it until the customer deletes
	// their endpoint, Azure until the private endpoint goes), so what
	// must be gone is every connection that is not closed.
	t.Run("teardown leaves nothing", func(t *testing.T) {
		services := []string{h.CustomerService, h.OtherCustomerService}
		plan := inventory(t, p, h, services)
		require.NotEmpty(t, otherEndpoint)
		require.NotEmpty(t, theirs)
		assert.Subset(t, ids(plan.Endpoints), []string{otherEndpoint}, "the plan finds the endpoints left behind")
		assert.NotContains(t, ids(plan.Endpoints), endpoint.ID, "the endpoint deleted already is not planned again")
		assert.Subset(t, connIDs(plan.Connections), []string{connID, theirs}, "the plan finds every account's connections")

		for _, ep := range plan.Endpoints {
			require.NoError(t, p.DeleteEndpoint(ctx, h.Env, ep.ID), "delete %s", ep.ID)
		}
		var open []string
		for _, c := range plan.Connections {
			if !c.State.Terminal() {
				open = append(open, c.ID)
			}
		}
		assert.Subset(t, open, []string{connID, theirs}, "the accepted and the pending connection are to reject")
		require.NoError(t, p.RejectConnections(ctx, h.Env, open, "the link is torn down"))
		for _, a := range plan.Accounts {
			require.NoError(t, p.RevokeAccount(ctx, h.Env, a), "revoke %s", a)
		}
		require.NoError(t, p.ClosePorts(ctx, h.Env, h.Ports))

		eventually(t, func() bool {
			inv, err := p.Inventory(ctx, h.Env, services)
			return err == nil && len(inv.Endpoints) == 0
		}, "the platform's endpoints are gone (deleting takes a while on a cloud)")
		after := inventory(t, p, h, services)
		assert.Empty(t, after.Endpoints, "no platform endpoint left")
		assert.Empty(t, after.Accounts, "no account allowed")
		for _, port := range h.Ports {
			assert.NotContains(t, after.OpenPorts, port, "port %d closed", port)
		}
		for _, c := range after.Connections {
			assert.True(t, c.State.Terminal(), "connection %s of %s is %s: nothing may be left pending or available", c.ID, c.Account, c.State)
			assert.NotContains(t, []cloud.State{cloud.StatePendingAcceptance, cloud.StateProvisioning, cloud.StateAvailable}, c.State)
		}
		for _, id := range []string{connID, theirs} {
			if i := slices.Index(connIDs(after.Connections), id); i >= 0 {
				assert.Equal(t, cloud.StateRejected, after.Connections[i].State, "%s was rejected", id)
			}
		}
	})
}

// inventory reads the inventory and checks what holds of every one: sorted
// state, nothing deleted, connections oldest first, endpoints newest first.
func inventory(t *testing.T, p cloud.Provider, h Harness, services []string) cloud.Inventory {
	t.Helper()
	inv, err := p.Inventory(context.Background(), h.Env, services)
	require.NoError(t, err)
	assert.True(t, slices.IsSorted(inv.OpenPorts), "ports sorted: %v", inv.OpenPorts)
	assert.True(t, slices.IsSorted(inv.Accounts), "accounts sorted: %v", inv.Accounts)
	for _, c := range inv.Connections {
		assert.NotEqual(t, cloud.StateDeleted, c.State, "%s: deleted connections are left out", c.ID)
		assert.NotEmpty(t, c.Account, "%s: every connection names its owner", c.ID)
	}
	assert.True(t, slices.IsSortedFunc(inv.Connections, func(a, b cloud.Connection) int { return a.Created.Compare(b.Created) }), "connections oldest first")
	for _, ep := range inv.Endpoints {
		assert.NotEqual(t, cloud.StateDeleted, ep.State, "%s: deleted endpoints are left out", ep.ID)
	}
	assert.True(t, slices.IsSortedFunc(inv.Endpoints, func(a, b cloud.Endpoint) int { return b.Created.Compare(a.Created) }), "endpoints newest first")
	return inv
}

func connIDs(conns []cloud.Connection) []string {
	out := []string{}
	for _, c := range conns {
		out = append(out, c.ID)
	}
	return out
}

func sortedInts(s []int) []int {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func sortedStrings(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
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
