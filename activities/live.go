package activities

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/probe"
)

// InventoryQuery names a link's platform environment and the customer
// services it reaches.
type InventoryQuery struct {
	Env      cloud.EnvRef `json:"env"`
	Services []string     `json:"services,omitempty"`
}

// Inventory reads what exists in the cloud for a link (read-only).
func (a *Activities) Inventory(ctx context.Context, q InventoryQuery) (cloud.Inventory, error) {
	inv, err := a.Cloud.Inventory(ctx, q.Env, q.Services)
	return inv, cloudErr(err)
}

// LinkCheck is a live link's spec, as a health check needs it.
type LinkCheck struct {
	Env         cloud.EnvRef   `json:"env"`
	Ports       []int          `json:"ports"`
	Accounts    []string       `json:"accounts"`
	Connections []string       `json:"connections,omitempty"`
	Reverse     []ReverseCheck `json:"reverse,omitempty"`
	// Port, when not 0, limits the probes to that port (test-connection).
	Port int `json:"port,omitempty"`
}

// ReverseCheck is one platform endpoint into a customer service.
type ReverseCheck struct {
	Service    string `json:"service"`
	EndpointID string `json:"endpointId"`
	DNSName    string `json:"dnsName"`
	Ports      []int  `json:"ports"`
}

// Drift is one difference between the cloud and a link's spec, with the
// repair that restores the spec.
type Drift struct {
	// Kind is one of the Drift* constants.
	Kind   string `json:"kind"`
	What   string `json:"what"`
	Repair string `json:"repair"`
	// Port, Account, Connection or Endpoint is what the repair acts on.
	Port       int    `json:"port,omitempty"`
	Account    string `json:"account,omitempty"`
	Connection string `json:"connection,omitempty"`
	Endpoint   string `json:"endpoint,omitempty"`
}

// Drift kinds.
const (
	DriftPortClosed        = "port-closed"        // repair: open it
	DriftPortOpen          = "port-open"          // repair: close it
	DriftAccountRevoked    = "account-revoked"    // repair: allow it
	DriftAccountAllowed    = "account-allowed"    // repair: revoke it
	DriftConnectionPending = "connection-pending" // repair: accept it
	DriftConnectionGone    = "connection-gone"    // repair: forget it
	DriftEndpointMissing   = "endpoint-missing"   // repair: by change
)

// Restores reports whether the repair puts back what the spec says (and
// so may run without an approver where the policy allows it).
func (d Drift) Restores() bool {
	return d.Kind == DriftPortClosed || d.Kind == DriftAccountRevoked
}

// LinkReport is what a health check found. Problems are for engineers.
type LinkReport struct {
	Problems     []string       `json:"problems,omitempty"`
	Drift        []Drift        `json:"drift,omitempty"`
	Verification []probe.Result `json:"verification,omitempty"`
	// Available are the available connections from the link's accounts.
	Available []string `json:"available,omitempty"`
}

// Healthy reports whether nothing failed.
func (r LinkReport) Healthy() bool { return len(r.Problems) == 0 }

// CheckLink checks a live link against its spec: what the platform
// service allows, the customer's connections, the load balancer's
// targets, the platform's endpoints into customer services, and DNS and
// TCP through each of them on every port. It changes nothing.
func (a *Activities) CheckLink(ctx context.Context, in LinkCheck) (LinkReport, error) {
	services := make([]string, 0, len(in.Reverse))
	for _, r := range in.Reverse {
		services = append(services, r.Service)
	}
	inv, err := a.Cloud.Inventory(ctx, in.Env, services)
	if err != nil {
		return LinkReport{}, cloudErr(err)
	}
	var open []int
	for _, p := range in.Ports {
		if slices.Contains(inv.OpenPorts, p) {
			open = append(open, p)
		}
	}
	var targets []cloud.Target
	if len(open) > 0 {
		if targets, err = a.Cloud.TargetHealth(ctx, in.Env, open); err != nil {
			return LinkReport{}, cloudErr(err)
		}
	}
	rep := Assess(in, inv, targets)
	for _, r := range in.Reverse {
		ep, ok := findEndpoint(inv.Endpoints, r.EndpointID)
		ports := r.Ports
		if in.Port != 0 {
			ports = slices.DeleteFunc(slices.Clone(ports), func(p int) bool { return p != in.Port })
		}
		if !ok || ep.State != cloud.StateAvailable || len(ports) == 0 {
			continue
		}
		host := r.DNSName
		if ep.DNSName != "" {
			host = ep.DNSName
		}
		res, err := a.Probe(ctx, ProbeTarget{Host: host, Ports: ports})
		if err != nil {
			return LinkReport{}, err
		}
		rep.Verification = append(rep.Verification, res...)
		for _, p := range res {
			if !p.OK() {
				rep.Problems = append(rep.Problems, p.Diagnosis)
			}
		}
	}
	return rep, nil
}

func findEndpoint(eps []cloud.Endpoint, id string) (cloud.Endpoint, bool) {
	i := slices.IndexFunc(eps, func(ep cloud.Endpoint) bool { return ep.ID == id })
	if i < 0 {
		return cloud.Endpoint{}, false
	}
	return eps[i], true
}

// Assess compares what exists in the cloud with a link's spec: the
// problems that make the link unhealthy and the drift to repair.
func Assess(in LinkCheck, inv cloud.Inventory, targets []cloud.Target) LinkReport {
	var rep LinkReport
	drift := func(d Drift, problem bool) {
		rep.Drift = append(rep.Drift, d)
		if problem {
			rep.Problems = append(rep.Problems, d.What)
		}
	}
	for _, p := range in.Ports {
		if !slices.Contains(inv.OpenPorts, p) {
			drift(Drift{Kind: DriftPortClosed, Port: p, What: fmt.Sprintf("port %d is closed on the platform service, but the link opens it", p), Repair: fmt.Sprintf("open port %d", p)}, true)
		}
	}
	for _, p := range inv.OpenPorts {
		if !slices.Contains(in.Ports, p) {
			drift(Drift{Kind: DriftPortOpen, Port: p, What: fmt.Sprintf("port %d is open on the platform service, but not in the link's spec", p), Repair: fmt.Sprintf("close port %d", p)}, false)
		}
	}
	has := func(list []string, v string) bool {
		return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, v) })
	}
	for _, acct := range in.Accounts {
		if !has(inv.Accounts, acct) {
			drift(Drift{Kind: DriftAccountRevoked, Account: acct, What: "account " + acct + " is no longer allowed on the platform service", Repair: "allow " + acct}, true)
		}
	}
	for _, acct := range inv.Accounts {
		if !has(in.Accounts, acct) {
			drift(Drift{Kind: DriftAccountAllowed, Account: acct, What: "account " + acct + " is allowed on the platform service, but not in the link's spec", Repair: "revoke " + acct}, false)
		}
	}
	for _, c := range inv.Connections {
		if !has(in.Accounts, c.Account) {
			continue
		}
		switch c.State {
		case cloud.StateAvailable:
			rep.Available = append(rep.Available, c.ID)
		case cloud.StatePendingAcceptance:
			drift(Drift{Kind: DriftConnectionPending, Connection: c.ID, Account: c.Account,
				What: "connection " + c.ID + " from " + c.Account + " waits for acceptance", Repair: "accept connection " + c.ID}, false)
		}
	}
	for _, id := range in.Connections {
		i := slices.IndexFunc(inv.Connections, func(c cloud.Connection) bool { return c.ID == id })
		switch {
		case i < 0:
			drift(Drift{Kind: DriftConnectionGone, Connection: id, What: "connection " + id + " is gone: the customer deleted their endpoint", Repair: "forget connection " + id}, true)
		case inv.Connections[i].State.Terminal():
			drift(Drift{Kind: DriftConnectionGone, Connection: id, What: "connection " + id + " is " + string(inv.Connections[i].State) + ": the customer must create a new endpoint", Repair: "forget connection " + id}, true)
		case inv.Connections[i].State != cloud.StateAvailable:
			rep.Problems = append(rep.Problems, "connection "+id+" is "+string(inv.Connections[i].State)+", not available")
		}
	}
	for _, t := range targets {
		if !t.Healthy {
			rep.Problems = append(rep.Problems, "port "+strconv.Itoa(t.Port)+": the platform's targets are unhealthy: "+t.Reason)
		}
	}
	for _, r := range in.Reverse {
		ep, ok := findEndpoint(inv.Endpoints, r.EndpointID)
		switch {
		case !ok || ep.State.Terminal():
			state := "gone"
			if ok {
				state = string(ep.State)
			}
			drift(Drift{Kind: DriftEndpointMissing, Endpoint: r.EndpointID,
				What:   fmt.Sprintf("the platform's endpoint %s into %s is %s", r.EndpointID, r.Service, state),
				Repair: "a change that removes and adds the customer service " + r.Service + " (the customer accepts the new endpoint)"}, true)
		case ep.State != cloud.StateAvailable:
			rep.Problems = append(rep.Problems, fmt.Sprintf("the platform's endpoint %s into %s is %s, not available", r.EndpointID, r.Service, ep.State))
		}
	}
	return rep
}

// DescribeEndpoint reads one of the platform's endpoints (read-only).
func (a *Activities) DescribeEndpoint(ctx context.Context, in Endpoint) (cloud.Endpoint, error) {
	ep, err := a.Cloud.DescribeEndpoint(ctx, in.Env, in.ID)
	return ep, cloudErr(err)
}

// AwaitNothingLeft reads the cloud after a teardown until nothing of the
// link is left (NotYet names what is): ports of the spec still open,
// accounts still allowed, connections not closed, platform endpoints not
// deleted.
func (a *Activities) AwaitNothingLeft(ctx context.Context, in LinkCheck) ([]string, error) {
	services := make([]string, 0, len(in.Reverse))
	for _, r := range in.Reverse {
		services = append(services, r.Service)
	}
	inv, err := a.Cloud.Inventory(ctx, in.Env, services)
	if err != nil {
		return nil, cloudErr(err)
	}
	var left []string
	for _, p := range in.Ports {
		if slices.Contains(inv.OpenPorts, p) {
			left = append(left, fmt.Sprintf("port %d is open", p))
		}
	}
	for _, acct := range inv.Accounts {
		left = append(left, "account "+acct+" is allowed")
	}
	for _, c := range inv.Connections {
		if !c.State.Terminal() {
			left = append(left, "connection "+c.ID+" from "+c.Account+" is "+string(c.State))
		}
	}
	for _, ep := range inv.Endpoints {
		if !ep.State.Terminal() {
			left = append(left, "endpoint "+ep.ID+" into "+ep.Service+" is "+string(ep.State))
		}
	}
	if len(left) > 0 {
		return left, notYet("left of the link: %s", strings.Join(left, "; "))
	}
	return nil, nil
}
