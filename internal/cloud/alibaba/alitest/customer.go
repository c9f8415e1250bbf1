package alitest

import (
	"slices"
	"strings"
)

// The customer's side. The customer acts on the model directly, through the
// same transitions as the API handlers (so the same errors, as *Error), but
// its actions are neither counted nor logged, and do not move transient
// states on: only the provider's reads do. account is the customer's UID;
// it needs no AccessKey.

// serviceNamed finds a service by name or ID.
func (m *Model) serviceNamed(name string) *service {
	if s := m.serviceByName(name); s != nil {
		return s
	}
	return m.services[name]
}

// CreateEndpoint creates an endpoint in account, as a consumer, to a
// service (by name, or ID) in the service's region, in its first two zones.
// It fails as CreateVpcEndpoint does when account may not connect
// (EndpointServiceNotAuthorized). The endpoint is Creating, its connection
// Pending (Connecting when the service accepts automatically).
func (m *Model) CreateEndpoint(account, service string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.serviceNamed(service)
	if s == nil {
		return "", serviceNotFound(service)
	}
	in := endpointInput{
		account: account, region: s.region, serviceID: s.id, vpc: m.newID("vpc"),
		name: "customer-endpoint", securityGroups: []string{m.newID("sg")},
	}
	for _, z := range firstN(s.zones, 2) {
		in.zones = append(in.zones, map[string]string{"ZoneId": z, "VSwitchId": m.newID("vsw")})
	}
	ep, e := m.createEndpoint(in)
	if e != nil {
		return "", e
	}
	return ep.id, nil
}

// DeleteEndpoint deletes one of account's endpoints, as a customer who gives
// up (or starts over) would: it is Deleting, and gone with its connection on
// the next read.
func (m *Model) DeleteEndpoint(account, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ep := m.endpoints[id]
	if ep == nil || ep.owner != account {
		return endpointNotFound(id)
	}
	return asError(m.deleteEndpoint(ep, false))
}

// parseServiceName splits com.aliyuncs.privatelink.<region>.epsrv-<id>.
func parseServiceName(name string) (region string, ok bool) {
	rest, found := strings.CutPrefix(name, "com.aliyuncs.privatelink.")
	if !found {
		return "", false
	}
	region, id, found := strings.Cut(rest, ".")
	if !found || region == "" || !strings.HasPrefix(id, "epsrv-") || len(id) <= len("epsrv-") || strings.Contains(id, ".") {
		return "", false
	}
	return region, true
}

// Grant creates the customer's endpoint service named service
// (com.aliyuncs.privatelink.<region>.epsrv-<id>) in account if it does not
// exist yet, in CustomerZones(region), with a TCP listener on each port of
// its load balancer, then adds principal (a UID, or "*" for everyone) to
// its whitelist.
func (m *Model) Grant(account, service, principal string, ports []int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.serviceNamed(service)
	if s == nil {
		region, ok := parseServiceName(service)
		if !ok {
			return illegal("ServiceName", "%q is not com.aliyuncs.privatelink.<region>.epsrv-<id>", service)
		}
		var err error
		s, err = m.addService(ServiceSpec{Owner: account, Region: region, Name: service, Zones: m.customerZonesOf(region)})
		if err != nil {
			return badRequest("EndpointServiceOperationDenied", "%s", err)
		}
	}
	if s.owner != account {
		return serviceNotFound(service)
	}
	if principal != "*" && !uidPattern.MatchString(principal) {
		return illegal("UserId", "%q is not an account UID or *", principal)
	}
	if !slices.Contains(s.users, principal) {
		s.users = append(s.users, principal)
	}
	for _, port := range ports {
		if !slices.ContainsFunc(m.sortedListeners(), func(l *listener) bool {
			return l.lbID == s.lbID && l.port == port && transport(l.proto) == "TCP"
		}) {
			m.seq++
			l := &listener{seq: m.seq, lbID: s.lbID, sgID: s.sgID, owner: account, region: s.region, proto: "TCP", port: port}
			l.id = m.newID("lsn")
			m.listeners[l.id] = l
		}
	}
	return nil
}

// Revoke removes principal from the whitelist of the customer's service.
func (m *Model) Revoke(account, service, principal string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, e := m.customerService(account, service)
	if e != nil {
		return e
	}
	s.users = slices.DeleteFunc(s.users, func(u string) bool { return u == principal })
	return nil
}

// customerService is account's own service by name or ID.
func (m *Model) customerService(account, service string) (*service, *Error) {
	s := m.serviceNamed(service)
	if s == nil || s.owner != account {
		return nil, serviceNotFound(service)
	}
	return s, nil
}

// SetServiceZones sets the zones the customer's service is offered in (and
// its load balancer's resources with them).
func (m *Model) SetServiceZones(account, service string, zones []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, e := m.customerService(account, service)
	if e != nil {
		return e
	}
	if len(zones) == 0 {
		return missingParam("Zone", "zones")
	}
	s.zones = slices.Clone(zones)
	s.setResources(m)
	return nil
}

// SetSupportedRegions sets the regions, besides its own, consumers may
// connect to a service from (by name or ID), whoever owns it.
func (m *Model) SetSupportedRegions(serviceName string, regions []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.serviceNamed(serviceName)
	if s == nil {
		return serviceNotFound(serviceName)
	}
	s.supportedRegions = slices.Clone(regions)
	return nil
}

// reverse is an endpoint into one of account's services.
func (m *Model) reverse(account, id string) (*endpoint, *Error) {
	ep := m.endpoints[id]
	if ep == nil {
		return nil, endpointNotFound(id)
	}
	s := m.services[ep.serviceID]
	if s == nil || s.owner != account {
		return nil, connectionNotFound(id, ep.serviceID)
	}
	return ep, nil
}

// AcceptEndpoint accepts, as the owner of the service, the connection of an
// endpoint (the platform's) into it, as EnableVpcEndpointConnection.
func (m *Model) AcceptEndpoint(account, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ep, e := m.reverse(account, id)
	if e != nil {
		return e
	}
	return asError(m.enable(ep, 0, false))
}

// RejectEndpoint rejects it, as DisableVpcEndpointConnection.
func (m *Model) RejectEndpoint(account, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	ep, e := m.reverse(account, id)
	if e != nil {
		return e
	}
	return asError(m.disable(ep, false))
}

// DeleteService deletes the customer's service, as a customer in the
// console would: refused with EndpointServiceConnectionDependence as
// DeleteVpcEndpointService is while connections are in play; its resources
// are detached with it.
func (m *Model) DeleteService(account, service string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, e := m.customerService(account, service)
	if e != nil {
		return e
	}
	if e := m.connectionDependence(s); e != nil {
		return e
	}
	s.resources = nil
	m.removeService(s)
	return nil
}

// Endpoints lists the live endpoints into a service (by name or ID), oldest
// first, whoever owns them.
func (m *Model) Endpoints(service string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.serviceNamed(service)
	var out []string
	for _, ep := range m.sortedEndpoints() {
		if s != nil && ep.serviceID == s.id {
			out = append(out, ep.id)
		}
	}
	return out
}

// Pending lists the endpoints into a service whose connection waits for
// acceptance.
func (m *Model) Pending(service string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.serviceNamed(service)
	var out []string
	for _, ep := range m.sortedEndpoints() {
		if s != nil && ep.serviceID == s.id && ep.conn == connPending {
			out = append(out, ep.id)
		}
	}
	return out
}
