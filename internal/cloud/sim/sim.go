// Package sim is a simulated cloud that behaves like the real ones where the
// runbook cares: endpoint connections go pendingAcceptance -> pending ->
// available, principals are enforced, accepting twice is harmless. Its state
// lives on disk, shared by the worker and the starter, and its endpoints are
// real TCP listeners on loopback (see Listeners), so verification dials real
// sockets. The Customer side lets demos and tests act as the customer.
package sim

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/ondisk"
)

// Cloud is the simulated cloud. It serves the "aws", "azure" and "alibaba"
// clouds, each with its own naming, principals and zones.
type Cloud struct {
	dir string
	h   *ondisk.Handle
	// Settle is how long an accepted endpoint stays "pending" before it is
	// available, as on AWS.
	Settle time.Duration
	// KeepDeleted is how long a deleted endpoint stays listed, in state
	// deleted, as EC2 shows a deleted endpoint (and its connection) for a
	// while; after it the endpoint and its client token are removed from
	// the state.
	KeepDeleted time.Duration
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// DefaultSettle is how long an accepted connection takes to become available.
const DefaultSettle = 2 * time.Second

// DefaultKeepDeleted is how long a deleted endpoint stays listed.
const DefaultKeepDeleted = time.Hour

// Zone is the DNS suffix of simulated endpoint names; Resolver answers for it.
const Zone = "sim.linkwright.internal"

// Open opens (or creates, with the seeded inventory) the simulated cloud
// whose state lives in dir. Nothing is read until the first call, which
// fails if the state cannot be opened (and the next call tries again).
// Several Clouds, in one process or several, may share one dir. A state
// of an earlier release (dir/cloud.json) is imported on first use and set
// aside as cloud.json.migrated.
func Open(dir string) *Cloud {
	c := &Cloud{dir: dir, Settle: DefaultSettle, KeepDeleted: DefaultKeepDeleted, Now: time.Now}
	c.h = newHandle(c, dir)
	return c
}

// Close closes the state's database. Calling it is optional (what a
// caller never closes is closed once the Cloud is no longer used); a call
// after Close opens the database again.
func (c *Cloud) Close() error { return c.h.Close() }

var (
	_ cloud.Provider          = (*Cloud)(nil)
	_ cloud.BandwidthAccepter = (*Cloud)(nil)
)

func key(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// settle applies the passage of time to an endpoint as it is read: an
// accepted one is available Settle after it was accepted. What is read
// settled is saved settled when it is next written.
func (c *Cloud) settle(e *endpoint, now time.Time) {
	if e.State == cloud.StateProvisioning && now.Sub(e.Accepted) >= c.Settle {
		e.State = cloud.StateAvailable
	}
}

// customerPrincipal is how an account is named on a service's allow list.
func customerPrincipal(cloudName, account string) string {
	if cloudName == "aws" {
		return "arn:aws:iam::" + account + ":root"
	}
	return strings.ToLower(account)
}

// accountOf undoes customerPrincipal; other principals (such as "*") name
// no one account and are left out.
func accountOf(cloudName, principal string) (string, bool) {
	if cloudName == "aws" {
		return cloud.AWSAccount(principal)
	}
	return key(principal), principal != "*" && principal != ""
}

// newID numbers a new endpoint and gives it its ID and loopback address.
func (t *tx) newID(cloudName string) (id, ip string, err error) {
	n, err := t.nextSeq()
	if err != nil {
		return "", "", err
	}
	ip = fmt.Sprintf("127.77.%d.%d", n/250, n%250+1)
	h := shortHash(fmt.Sprint("endpoint-", n))
	switch cloudName {
	case "azure":
		return "pe-" + h[:12], ip, nil
	case cloudAlibaba:
		return "ep-" + h[:20], ip, nil
	}
	return "vpce-" + h[:17], ip, nil
}

// Environment implements cloud.Provider.
func (c *Cloud) Environment(_ context.Context, ref cloud.EnvRef) (cloud.Environment, error) {
	var out cloud.Environment
	err := c.view(func(t *tx) error {
		e, err := t.env(ref)
		if err == nil {
			out = e.Environment
		}
		return err
	})
	return out, err
}

// OpenPorts implements cloud.Provider.
func (c *Cloud) OpenPorts(_ context.Context, ref cloud.EnvRef, ports []int) error {
	return c.update(func(t *tx) error {
		e, err := t.env(ref)
		if err != nil {
			return err
		}
		for _, p := range ports {
			if p == 443 && ref.Cloud == "azure" {
				return cloud.Errorf(cloud.Invalid, "OpenPorts", "port 443 cannot be opened on Azure Private Link (origin cloaking)")
			}
			if !slices.Contains(e.OpenPorts, p) {
				e.OpenPorts = append(e.OpenPorts, p)
			}
		}
		slices.Sort(e.OpenPorts)
		return t.putEnv(e)
	})
}

// ClosePorts implements cloud.Provider.
func (c *Cloud) ClosePorts(_ context.Context, ref cloud.EnvRef, ports []int) error {
	return c.update(func(t *tx) error {
		e, err := t.env(ref)
		if err != nil {
			return err
		}
		e.OpenPorts = slices.DeleteFunc(e.OpenPorts, func(p int) bool { return slices.Contains(ports, p) })
		return t.putEnv(e)
	})
}

// AllowAccount implements cloud.Provider.
func (c *Cloud) AllowAccount(_ context.Context, ref cloud.EnvRef, account string) error {
	if account == "" || account == "*" {
		return cloud.Errorf(cloud.Invalid, "AllowAccount", "refusing to allow %q: name one customer account", account)
	}
	if ref.Cloud == cloudAlibaba {
		if err := alibabaAccountCheck("AllowAccount", account); err != nil {
			return err
		}
	}
	return c.update(func(t *tx) error {
		_, svc, err := t.platformService(ref)
		if err != nil {
			return err
		}
		p := customerPrincipal(ref.Cloud, account)
		if slices.Contains(svc.Allowed, p) {
			return nil
		}
		svc.Allowed = append(svc.Allowed, p)
		return t.putService(svc)
	})
}

// RevokeAccount implements cloud.Provider.
func (c *Cloud) RevokeAccount(_ context.Context, ref cloud.EnvRef, account string) error {
	return c.update(func(t *tx) error {
		_, svc, err := t.platformService(ref)
		if err != nil {
			return err
		}
		p := customerPrincipal(ref.Cloud, account)
		if !slices.Contains(svc.Allowed, p) {
			return nil
		}
		svc.Allowed = slices.DeleteFunc(svc.Allowed, func(a string) bool { return a == p })
		return t.putService(svc)
	})
}

// ServiceState implements cloud.Provider: the environment's open ports
// and the accounts its service allows, read back from their principals.
func (c *Cloud) ServiceState(_ context.Context, ref cloud.EnvRef) (cloud.ServiceState, error) {
	var out cloud.ServiceState
	err := c.view(func(t *tx) (err error) {
		out, err = t.serviceState(ref)
		return err
	})
	return out, err
}

func (t *tx) serviceState(ref cloud.EnvRef) (cloud.ServiceState, error) {
	e, svc, err := t.platformService(ref)
	if err != nil {
		return cloud.ServiceState{}, err
	}
	var accounts []string
	for _, p := range svc.Allowed {
		if a, ok := accountOf(ref.Cloud, p); ok {
			accounts = append(accounts, a)
		}
	}
	return cloud.NewServiceState(e.OpenPorts, accounts), nil
}

// Connections implements cloud.Provider.
func (c *Cloud) Connections(_ context.Context, ref cloud.EnvRef, account string) ([]cloud.Connection, error) {
	var out []cloud.Connection
	err := c.view(func(t *tx) error {
		e, err := t.env(ref)
		if err != nil {
			return err
		}
		eps, err := t.endpointsOf(e.ServiceName)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			// The owner is checked here, not trusted to a filter, as on
			// every provider; Azure subscriptions compare in lower case.
			if ep.connectsTo(e) && ep.Owner == normalizeAccount(ref.Cloud, account) {
				out = append(out, ep.connection())
			}
		}
		return nil
	})
	oldestFirst(out)
	return out, err
}

// connectsTo reports whether ep is a customer's endpoint to e's service.
func (ep *endpoint) connectsTo(e *environment) bool {
	return !ep.Platform && key(ep.Service) == key(e.ServiceName)
}

func (ep *endpoint) connection() cloud.Connection {
	return cloud.Connection{ID: ep.ID, Account: ep.Owner, State: ep.State, Created: ep.Created}
}

// intoService reports whether ep is one of the platform's endpoints on
// cloudName into the customer service named (in any case).
func (ep *endpoint) intoService(cloudName, service string) bool {
	return ep.Platform && ep.Cloud == cloudName && key(ep.Service) == key(service)
}

// oldestFirst orders connections by creation, then by ID, so that the
// order is stable.
func oldestFirst(conns []cloud.Connection) {
	slices.SortFunc(conns, func(a, b cloud.Connection) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Inventory implements cloud.Provider: one read transaction, so that what
// it reports existed together.
func (c *Cloud) Inventory(_ context.Context, ref cloud.EnvRef, services []string) (cloud.Inventory, error) {
	out := cloud.Inventory{Connections: []cloud.Connection{}, Endpoints: []cloud.Endpoint{}}
	err := c.view(func(t *tx) error {
		e, err := t.env(ref)
		if err != nil {
			return err
		}
		if out.ServiceState, err = t.serviceState(ref); err != nil {
			return err
		}
		eps, err := t.endpointsOf(e.ServiceName)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			if ep.State != cloud.StateDeleted && ep.connectsTo(e) {
				out.Connections = append(out.Connections, ep.connection())
			}
		}
		seen := map[string]bool{}
		for _, s := range services {
			if seen[key(s)] {
				continue
			}
			seen[key(s)] = true
			eps, err := t.endpointsOf(s)
			if err != nil {
				return err
			}
			for _, ep := range eps {
				if ep.State != cloud.StateDeleted && ep.intoService(ref.Cloud, s) {
					out.Endpoints = append(out.Endpoints, ep.public())
				}
			}
		}
		return nil
	})
	if err != nil {
		return cloud.Inventory{}, err
	}
	oldestFirst(out.Connections)
	cloud.NewestFirst(out.Endpoints)
	return out, nil
}

// connection finds a connection to ref's platform service: nil when there
// is none (never was, or gone).
func (t *tx) connection(ref cloud.EnvRef, id string) (*endpoint, error) {
	e, err := t.env(ref)
	if err != nil {
		return nil, err
	}
	ep, err := t.endpoint(id)
	if err != nil || ep == nil || key(ep.Service) != key(e.ServiceName) {
		return nil, err
	}
	return ep, nil
}

// AcceptConnections implements cloud.Provider.
func (c *Cloud) AcceptConnections(_ context.Context, ref cloud.EnvRef, ids []string) error {
	return c.accept("AcceptConnections", ref, ids, 0)
}

// AcceptConnectionsWithBandwidth implements cloud.BandwidthAccepter, on
// Alibaba Cloud only, as EnableVpcEndpointConnection's Bandwidth: mbps
// (0: the service's default) must be within the range of the service's
// load balancer type (NLB 100-50000), and is kept on each connection this
// call accepts (CustomerEndpoint.Bandwidth reads it back). A connection
// accepted already keeps the bandwidth it has.
func (c *Cloud) AcceptConnectionsWithBandwidth(_ context.Context, ref cloud.EnvRef, ids []string, mbps int) error {
	const op = "AcceptConnectionsWithBandwidth"
	if ref.Cloud != cloudAlibaba {
		return cloud.Errorf(cloud.Invalid, op, "bandwidth is only for Alibaba Cloud, not %s: accept without one", ref.Cloud)
	}
	return c.accept(op, ref, ids, mbps)
}

func (c *Cloud) accept(op string, ref cloud.EnvRef, ids []string, mbps int) error {
	return c.update(func(t *tx) error {
		_, svc, err := t.platformService(ref)
		if err != nil {
			return err
		}
		if err := svc.checkBandwidth(op, mbps); err != nil {
			return err
		}
		for _, id := range ids {
			ep, err := t.connection(ref, id)
			if err != nil {
				return err
			}
			var state cloud.State
			if ep != nil {
				state = ep.State
			}
			accept, err := cloud.CheckAccept(op, id, state, ep != nil)
			if err != nil {
				return err
			}
			if accept {
				ep.State, ep.Accepted = cloud.StateProvisioning, c.Now()
				ep.Bandwidth = mbps
				if err := t.putEndpoint(ep); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// RejectConnections implements cloud.Provider.
func (c *Cloud) RejectConnections(_ context.Context, ref cloud.EnvRef, ids []string, _ string) error {
	return c.update(func(t *tx) error {
		for _, id := range ids {
			ep, err := t.connection(ref, id)
			if err != nil {
				return err
			}
			if ep != nil && !ep.State.Terminal() { // gone already: nothing to reject
				ep.State = cloud.StateRejected
				if err := t.putEndpoint(ep); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// TargetHealth implements cloud.Provider.
func (c *Cloud) TargetHealth(_ context.Context, ref cloud.EnvRef, ports []int) ([]cloud.Target, error) {
	var out []cloud.Target
	err := c.view(func(t *tx) error {
		e, err := t.env(ref)
		if err != nil {
			return err
		}
		for _, p := range ports {
			tg := cloud.Target{Port: p, Healthy: true}
			switch {
			case !slices.Contains(e.OpenPorts, p):
				tg.Healthy, tg.Reason = false, "no listener on the load balancer for this port"
			case slices.Contains(e.UnhealthyPorts, p):
				tg.Healthy, tg.Reason = false, "targets fail their health checks"
			}
			out = append(out, tg)
		}
		return nil
	})
	return out, err
}

// ServiceVisible implements cloud.Provider.
func (c *Cloud) ServiceVisible(_ context.Context, ref cloud.EnvRef, name string) (bool, error) {
	var ok bool
	err := c.view(func(t *tx) error {
		e, err := t.env(ref)
		if err != nil {
			return err
		}
		svc, err := t.service(name)
		ok = svc.visibleTo(ref.Cloud, e.Principal)
		return err
	})
	return ok, err
}

// Zones implements cloud.Provider: the platform deployment's zone IDs and,
// when service is named, those of the customer's service, changing
// nothing. Azure answers Regional. On Alibaba Cloud zone IDs are what
// every account names its zones; a customer's service in another region,
// reached across regions, serves an endpoint in any of the platform's
// zones, so it is answered as offered in all of them (one that does not
// take consumers from the platform's region is Invalid).
func (c *Cloud) Zones(_ context.Context, ref cloud.EnvRef, service string) (cloud.Zones, error) {
	var out cloud.Zones
	err := c.view(func(t *tx) error {
		e, err := t.env(ref)
		if err != nil {
			return err
		}
		if e.Cloud != "aws" && e.Cloud != cloudAlibaba {
			out.Regional = true
			return nil
		}
		out.Platform = e.zoneIDs()
		if service == "" {
			return nil
		}
		svc, err := t.service(service)
		if err != nil {
			return err
		}
		if !svc.visibleTo(ref.Cloud, e.Principal) {
			return cloud.Errorf(cloud.NotFound, "Zones", "service %s does not exist or has not allowed the platform principal %s: the customer allows it on their service first", service, e.Principal)
		}
		if home, _, ok := alibabaService(svc.Name); ok && e.Cloud == cloudAlibaba && home != key(e.Region) {
			if err := reachableFrom("Zones", e.Cloud, svc.Name, home, svc.Regions, e.Region); err != nil {
				return err
			}
			out.Service = out.Platform
			return nil
		}
		out.Service = svc.zoneIDs(e.Region)
		return nil
	})
	if err != nil {
		return cloud.Zones{}, err
	}
	return out, nil
}

// CreateEndpoint implements cloud.Provider.
func (c *Cloud) CreateEndpoint(_ context.Context, spec cloud.EndpointSpec) (cloud.Endpoint, error) {
	var out cloud.Endpoint
	if len(spec.Description) > 140 {
		return out, cloud.Errorf(cloud.Invalid, "CreateEndpoint", "description is %d characters; at most 140", len(spec.Description))
	}
	err := c.update(func(t *tx) error {
		if spec.Token != "" {
			id, err := t.token(spec.Token)
			if err != nil {
				return err
			}
			if id != "" {
				ep, err := t.endpoint(id)
				if err != nil {
					return err
				}
				if ep != nil {
					out = ep.public()
					return nil
				}
			}
		}
		e, err := t.env(spec.Env)
		if err != nil {
			return err
		}
		svc, err := t.service(spec.Service)
		if err != nil {
			return err
		}
		if !svc.visibleTo(spec.Env.Cloud, e.Principal) {
			return cloud.Errorf(cloud.Invalid, "CreateEndpoint", "service %s does not exist or has not allowed the platform principal %s", spec.Service, e.Principal)
		}
		if home, _, ok := alibabaService(svc.Name); ok && e.Cloud == cloudAlibaba {
			if err := reachableFrom("CreateEndpoint", e.Cloud, svc.Name, home, svc.Regions, e.Region); err != nil {
				return err
			}
		}
		ep, err := t.newEndpoint(spec.Env.Cloud, spec.Env.Region, e.Account, svc, c.Now(), func(ep *endpoint) { ep.Platform = true })
		if err != nil {
			return err
		}
		if spec.Token != "" {
			if err := t.putToken(spec.Token, ep.ID); err != nil {
				return err
			}
		}
		out = ep.public()
		return nil
	})
	return out, err
}

// visibleTo reports whether a principal on a cloud may connect to svc.
func (svc *service) visibleTo(cloudName, principal string) bool {
	return svc != nil && svc.Cloud == cloudName && (slices.Contains(svc.Allowed, principal) || slices.Contains(svc.Allowed, "*"))
}

// newEndpoint creates an endpoint into svc, as set sets it.
func (t *tx) newEndpoint(cloudName, region, owner string, svc *service, now time.Time, set func(*endpoint)) (*endpoint, error) {
	id, ip, err := t.newID(cloudName)
	if err != nil {
		return nil, err
	}
	ep := &endpoint{ID: id, Cloud: cloudName, Region: region, Owner: owner, Service: svc.Name,
		State: cloud.StatePendingAcceptance, Created: now, IP: ip,
		DNSName: id + "." + region + "." + Zone}
	if cloudName == cloudAlibaba {
		ep.DNSName = alibabaDNSName(id, svc, region)
	}
	if set != nil {
		set(ep)
	}
	return ep, t.putEndpoint(ep)
}

func (ep *endpoint) public() cloud.Endpoint {
	return cloud.Endpoint{ID: ep.ID, Service: ep.Service, State: ep.State, DNSName: ep.DNSName, IPs: []string{ep.IP}, Created: ep.Created}
}

// DescribeEndpoint implements cloud.Provider. A deleted endpoint is
// described, as deleted, for KeepDeleted; then it is not found.
func (c *Cloud) DescribeEndpoint(_ context.Context, ref cloud.EnvRef, id string) (cloud.Endpoint, error) {
	var out cloud.Endpoint
	err := c.view(func(t *tx) error {
		ep, err := t.endpoint(id)
		if err != nil {
			return err
		}
		if ep == nil || !ep.Platform || ep.Cloud != ref.Cloud {
			return cloud.Errorf(cloud.NotFound, "DescribeEndpoint", "no platform endpoint %s", id)
		}
		out = ep.public()
		return nil
	})
	return out, err
}

// PlatformEndpoints implements cloud.Provider: the platform's endpoints on
// ref's cloud into service (named in any case), but for deleted ones.
func (c *Cloud) PlatformEndpoints(_ context.Context, ref cloud.EnvRef, service string) ([]cloud.Endpoint, error) {
	var out []cloud.Endpoint
	err := c.view(func(t *tx) error {
		eps, err := t.endpointsOf(service)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			if ep.intoService(ref.Cloud, service) && ep.State != cloud.StateDeleted {
				out = append(out, ep.public())
			}
		}
		return nil
	})
	cloud.NewestFirst(out)
	return out, err
}

// DeleteEndpoint implements cloud.Provider. The endpoint is listed, as
// deleted, for KeepDeleted; then it and its client token are removed.
func (c *Cloud) DeleteEndpoint(_ context.Context, ref cloud.EnvRef, id string) error {
	return c.update(func(t *tx) error {
		ep, err := t.endpoint(id)
		if err != nil || ep == nil || !ep.Platform || ep.Cloud != ref.Cloud {
			return err
		}
		return t.markDeleted(ep)
	})
}
