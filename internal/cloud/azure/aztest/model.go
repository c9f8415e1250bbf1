// Package aztest is a stateful model of the Azure network resources the
// Azure provider uses, served through armnetwork's fakes
// (fake.NewServerFactoryTransport) into the real clients: the fakes hold no
// state, so the model is ours. A transport around them enforces ETags on
// conditional writes, injects throttling and counts ARM calls.
package aztest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9/fake"
)

// PlatformSubscription is the platform's subscription in the model.
const PlatformSubscription = "99999999-aaaa-bbbb-cccc-dddddddddddd"

// Model is the Azure side of the tests.
type Model struct {
	mu       sync.Mutex
	seq      int
	services map[string]*armnetwork.PrivateLinkService // "rg/name"
	lbs      map[string]*armnetwork.LoadBalancer       // "rg/name"
	rules    map[string]map[string]*armnetwork.SecurityRule
	pes      map[string]*armnetwork.PrivateEndpoint // "rg/name"
	// FailCreateEndpoint makes the next private endpoint creation's
	// long-running operation end in Failed (see Transport).
	FailCreateEndpoint bool
	// race is what happens to a connection just before the next update
	// of it is served (see RaceNextUpdate).
	race *string
}

// RaceNextUpdate makes the next connection update (an approval or
// rejection) lose a race, as it can on Azure between the provider's read
// and its write: just before the update is served, the connection it
// names gets status, as if another operator had decided ("Approved",
// "Rejected"), or, with status "", is gone, as when the customer deletes
// their private endpoint. The update is then served as Azure would.
func (m *Model) RaceNextUpdate(status string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.race = &status
}

// New returns an empty model.
func New() *Model {
	return &Model{services: map[string]*armnetwork.PrivateLinkService{}, lbs: map[string]*armnetwork.LoadBalancer{},
		rules: map[string]map[string]*armnetwork.SecurityRule{}, pes: map[string]*armnetwork.PrivateEndpoint{}}
}

func key(rg, name string) string { return strings.ToLower(rg + "/" + name) }

// inGroup lists the resources of one resource group, in the order of
// their names.
func inGroup[T any](all map[string]*T, rg string) []*T {
	var keys []string
	for k := range all {
		if strings.HasPrefix(k, strings.ToLower(rg)+"/") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]*T, 0, len(keys))
	for _, k := range keys {
		out = append(out, all[k])
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (m *Model) etag() *string {
	m.seq++
	return ptr(fmt.Sprintf(`W/"%d"`, m.seq))
}

func notFound[T any](resp *azfake.Responder[T], errResp *azfake.ErrorResponder) (azfake.Responder[T], azfake.ErrorResponder) {
	errResp.SetResponseError(http.StatusNotFound, "ResourceNotFound")
	return *resp, *errResp
}

// Servers wires the model into armnetwork's fake servers.
func (m *Model) Servers() *fake.ServerFactory {
	return &fake.ServerFactory{
		PrivateLinkServicesServer: fake.PrivateLinkServicesServer{
			NewListPager:                           m.listServices,
			Get:                                    m.getService,
			BeginCreateOrUpdate:                    m.putService,
			NewListPrivateEndpointConnectionsPager: m.listConnections,
			GetPrivateEndpointConnection:           m.getConnection,
			UpdatePrivateEndpointConnection:        m.updateConnection,
			BeginCheckPrivateLinkServiceVisibility: m.checkVisibility,
		},
		LoadBalancersServer: fake.LoadBalancersServer{Get: m.getLB, BeginCreateOrUpdate: m.putLB},
		SecurityRulesServer: fake.SecurityRulesServer{NewListPager: m.listRules, BeginCreateOrUpdate: m.putRule, BeginDelete: m.deleteRule},
		PrivateEndpointsServer: fake.PrivateEndpointsServer{
			BeginCreateOrUpdate: m.putEndpoint, Get: m.getEndpoint, BeginDelete: m.deleteEndpoint, NewListPager: m.listEndpoints,
		},
	}
}

// --- Private Link services

func (m *Model) listServices(rg string, _ *armnetwork.PrivateLinkServicesClientListOptions) (resp azfake.PagerResponder[armnetwork.PrivateLinkServicesClientListResponse]) {
	m.mu.Lock()
	defer m.mu.Unlock()
	resp.AddPage(http.StatusOK, snapshot(armnetwork.PrivateLinkServicesClientListResponse{
		PrivateLinkServiceListResult: armnetwork.PrivateLinkServiceListResult{Value: inGroup(m.services, rg)}}), nil)
	return resp
}

func (m *Model) getService(_ context.Context, rg, name string, _ *armnetwork.PrivateLinkServicesClientGetOptions) (resp azfake.Responder[armnetwork.PrivateLinkServicesClientGetResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.services[key(rg, name)]
	if s == nil {
		return notFound(&resp, &errResp)
	}
	resp.SetResponse(http.StatusOK, snapshot(armnetwork.PrivateLinkServicesClientGetResponse{PrivateLinkService: *s}), nil)
	return resp, errResp
}

func (m *Model) putService(_ context.Context, rg, name string, s armnetwork.PrivateLinkService, _ *armnetwork.PrivateLinkServicesClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armnetwork.PrivateLinkServicesClientCreateOrUpdateResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.services[key(rg, name)]
	if old != nil && old.Properties != nil && s.Properties != nil {
		// Read-only parts stay the server's.
		s.Properties.Alias, s.Properties.PrivateEndpointConnections = old.Properties.Alias, old.Properties.PrivateEndpointConnections
	}
	s.Etag = m.etag()
	m.services[key(rg, name)] = &s
	resp.SetTerminalResponse(http.StatusOK, snapshot(armnetwork.PrivateLinkServicesClientCreateOrUpdateResponse{PrivateLinkService: s}), nil)
	return resp, errResp
}

func (m *Model) byAlias(service string) *armnetwork.PrivateLinkService {
	for _, s := range m.services {
		if strings.EqualFold(deref(s.ID), service) || (s.Properties != nil && strings.EqualFold(deref(s.Properties.Alias), service)) {
			return s
		}
	}
	return nil
}

func visible(s *armnetwork.PrivateLinkService, subscription string) bool {
	if s == nil || s.Properties == nil || s.Properties.Visibility == nil {
		return false
	}
	return slices.ContainsFunc(s.Properties.Visibility.Subscriptions, func(x *string) bool {
		return strings.EqualFold(deref(x), subscription) || deref(x) == "*"
	})
}

func (m *Model) checkVisibility(_ context.Context, _ string, req armnetwork.CheckPrivateLinkServiceVisibilityRequest, _ *armnetwork.PrivateLinkServicesClientBeginCheckPrivateLinkServiceVisibilityOptions) (resp azfake.PollerResponder[armnetwork.PrivateLinkServicesClientCheckPrivateLinkServiceVisibilityResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ok := visible(m.byAlias(deref(req.PrivateLinkServiceAlias)), PlatformSubscription)
	resp.SetTerminalResponse(http.StatusOK, snapshot(armnetwork.PrivateLinkServicesClientCheckPrivateLinkServiceVisibilityResponse{
		PrivateLinkServiceVisibility: armnetwork.PrivateLinkServiceVisibility{Visible: &ok}}), nil)
	return resp, errResp
}

func (m *Model) listConnections(rg, name string, _ *armnetwork.PrivateLinkServicesClientListPrivateEndpointConnectionsOptions) (resp azfake.PagerResponder[armnetwork.PrivateLinkServicesClientListPrivateEndpointConnectionsResponse]) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var page armnetwork.PrivateLinkServicesClientListPrivateEndpointConnectionsResponse
	if s := m.services[key(rg, name)]; s != nil && s.Properties != nil {
		page.Value = s.Properties.PrivateEndpointConnections
	}
	resp.AddPage(http.StatusOK, snapshot(page), nil)
	return resp
}

func (m *Model) connection(rg, name, conn string) *armnetwork.PrivateEndpointConnection {
	s := m.services[key(rg, name)]
	if s == nil || s.Properties == nil {
		return nil
	}
	for _, c := range s.Properties.PrivateEndpointConnections {
		if deref(c.Name) == conn {
			return c
		}
	}
	return nil
}

func (m *Model) getConnection(_ context.Context, rg, name, conn string, _ *armnetwork.PrivateLinkServicesClientGetPrivateEndpointConnectionOptions) (resp azfake.Responder[armnetwork.PrivateLinkServicesClientGetPrivateEndpointConnectionResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.connection(rg, name, conn)
	if c == nil {
		return notFound(&resp, &errResp)
	}
	resp.SetResponse(http.StatusOK, snapshot(armnetwork.PrivateLinkServicesClientGetPrivateEndpointConnectionResponse{PrivateEndpointConnection: *c}), nil)
	return resp, errResp
}

func (m *Model) updateConnection(_ context.Context, rg, name, conn string, params armnetwork.PrivateEndpointConnection, _ *armnetwork.PrivateLinkServicesClientUpdatePrivateEndpointConnectionOptions) (resp azfake.Responder[armnetwork.PrivateLinkServicesClientUpdatePrivateEndpointConnectionResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if race := m.race; race != nil {
		m.race = nil
		if c := m.connection(rg, name, conn); c != nil && *race != "" {
			c.Properties.PrivateLinkServiceConnectionState.Status = ptr(*race)
		} else if c != nil {
			m.removeConnection(func(x *armnetwork.PrivateEndpointConnection) bool { return x == c })
		}
	}
	c := m.connection(rg, name, conn)
	if c == nil {
		return notFound(&resp, &errResp)
	}
	status := deref(params.Properties.PrivateLinkServiceConnectionState.Status)
	current := deref(c.Properties.PrivateLinkServiceConnectionState.Status)
	if (current == "Rejected" || current == "Disconnected") && status == "Approved" {
		errResp.SetResponseError(http.StatusBadRequest, "CannotApproveRejectedPrivateEndpointConnection")
		return resp, errResp
	}
	c.Properties.PrivateLinkServiceConnectionState = params.Properties.PrivateLinkServiceConnectionState
	resp.SetResponse(http.StatusOK, snapshot(armnetwork.PrivateLinkServicesClientUpdatePrivateEndpointConnectionResponse{PrivateEndpointConnection: *c}), nil)
	return resp, errResp
}

// --- load balancers and security rules

func (m *Model) getLB(_ context.Context, rg, name string, _ *armnetwork.LoadBalancersClientGetOptions) (resp azfake.Responder[armnetwork.LoadBalancersClientGetResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	lb := m.lbs[key(rg, name)]
	if lb == nil {
		return notFound(&resp, &errResp)
	}
	resp.SetResponse(http.StatusOK, snapshot(armnetwork.LoadBalancersClientGetResponse{LoadBalancer: *lb}), nil)
	return resp, errResp
}

func (m *Model) putLB(_ context.Context, rg, name string, lb armnetwork.LoadBalancer, _ *armnetwork.LoadBalancersClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armnetwork.LoadBalancersClientCreateOrUpdateResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	lb.Etag = m.etag()
	m.lbs[key(rg, name)] = &lb
	resp.SetTerminalResponse(http.StatusOK, snapshot(armnetwork.LoadBalancersClientCreateOrUpdateResponse{LoadBalancer: lb}), nil)
	return resp, errResp
}

func (m *Model) listRules(rg, nsg string, _ *armnetwork.SecurityRulesClientListOptions) (resp azfake.PagerResponder[armnetwork.SecurityRulesClientListResponse]) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var page armnetwork.SecurityRulesClientListResponse
	for _, r := range m.rules[key(rg, nsg)] {
		page.Value = append(page.Value, r)
	}
	resp.AddPage(http.StatusOK, snapshot(page), nil)
	return resp
}

func (m *Model) putRule(_ context.Context, rg, nsg, name string, r armnetwork.SecurityRule, _ *armnetwork.SecurityRulesClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armnetwork.SecurityRulesClientCreateOrUpdateResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rules[key(rg, nsg)] == nil {
		m.rules[key(rg, nsg)] = map[string]*armnetwork.SecurityRule{}
	}
	r.Name = ptr(name)
	m.rules[key(rg, nsg)][name] = &r
	resp.SetTerminalResponse(http.StatusOK, snapshot(armnetwork.SecurityRulesClientCreateOrUpdateResponse{SecurityRule: r}), nil)
	return resp, errResp
}

func (m *Model) deleteRule(_ context.Context, rg, nsg, name string, _ *armnetwork.SecurityRulesClientBeginDeleteOptions) (resp azfake.PollerResponder[armnetwork.SecurityRulesClientDeleteResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rules[key(rg, nsg)], name)
	resp.SetTerminalResponse(http.StatusOK, snapshot(armnetwork.SecurityRulesClientDeleteResponse{}), nil)
	return resp, errResp
}

// Rules lists the security rules of an NSG by name.
func (m *Model) Rules(nsgID string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, _ := arm.ParseResourceID(nsgID)
	var out []string
	for name := range m.rules[key(id.ResourceGroupName, id.Name)] {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// --- private endpoints (the platform's, into customers' services)

func (m *Model) putEndpoint(_ context.Context, rg, name string, pe armnetwork.PrivateEndpoint, _ *armnetwork.PrivateEndpointsClientBeginCreateOrUpdateOptions) (resp azfake.PollerResponder[armnetwork.PrivateEndpointsClientCreateOrUpdateResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if existing := m.pes[key(rg, name)]; existing != nil {
		m.sync(existing)
		resp.SetTerminalResponse(http.StatusOK, snapshot(armnetwork.PrivateEndpointsClientCreateOrUpdateResponse{PrivateEndpoint: *existing}), nil)
		return resp, errResp
	}
	conns := pe.Properties.ManualPrivateLinkServiceConnections
	if len(conns) != 1 || conns[0].Properties == nil {
		errResp.SetResponseError(http.StatusBadRequest, "InvalidRequestFormat")
		return resp, errResp
	}
	target := m.byAlias(deref(conns[0].Properties.PrivateLinkServiceID))
	if !visible(target, PlatformSubscription) {
		errResp.SetResponseError(http.StatusBadRequest, "PrivateLinkServiceNotFound")
		return resp, errResp
	}
	if len(deref(conns[0].Properties.RequestMessage)) > 140 {
		errResp.SetResponseError(http.StatusBadRequest, "RequestMessageTooLong")
		return resp, errResp
	}
	m.seq++
	pe.Name = ptr(name)
	pe.ID = ptr(fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/privateEndpoints/%s", PlatformSubscription, rg, name))
	pe.Properties.CustomDNSConfigs = []*armnetwork.CustomDNSConfigPropertiesFormat{{
		Fqdn: ptr(name + ".privatelink." + deref(pe.Location) + ".azure.internal"), IPAddresses: []*string{ptr(fmt.Sprintf("10.30.0.%d", m.seq%250+4))},
	}}
	target.Properties.PrivateEndpointConnections = append(target.Properties.PrivateEndpointConnections, &armnetwork.PrivateEndpointConnection{
		Name: ptr(name + "." + deref(target.Name)),
		Properties: &armnetwork.PrivateEndpointConnectionProperties{
			PrivateEndpoint:                   &armnetwork.PrivateEndpoint{ID: pe.ID},
			PrivateLinkServiceConnectionState: &armnetwork.PrivateLinkServiceConnectionState{Status: ptr("Pending"), Description: conns[0].Properties.RequestMessage},
		},
	})
	m.pes[key(rg, name)] = &pe
	m.sync(&pe)
	resp.AddNonTerminalResponse(http.StatusCreated, nil)
	resp.SetTerminalResponse(http.StatusOK, snapshot(armnetwork.PrivateEndpointsClientCreateOrUpdateResponse{PrivateEndpoint: pe}), nil)
	return resp, errResp
}

// sync copies the connection's state, as the customer's service sees it,
// onto the private endpoint.
func (m *Model) sync(pe *armnetwork.PrivateEndpoint) {
	for _, s := range m.services {
		if s.Properties == nil {
			continue
		}
		for _, c := range s.Properties.PrivateEndpointConnections {
			if strings.EqualFold(deref(c.Properties.PrivateEndpoint.ID), deref(pe.ID)) {
				pe.Properties.ManualPrivateLinkServiceConnections[0].Properties.PrivateLinkServiceConnectionState = c.Properties.PrivateLinkServiceConnectionState
			}
		}
	}
}

func (m *Model) getEndpoint(_ context.Context, rg, name string, _ *armnetwork.PrivateEndpointsClientGetOptions) (resp azfake.Responder[armnetwork.PrivateEndpointsClientGetResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pe := m.pes[key(rg, name)]
	if pe == nil {
		return notFound(&resp, &errResp)
	}
	m.sync(pe)
	resp.SetResponse(http.StatusOK, snapshot(armnetwork.PrivateEndpointsClientGetResponse{PrivateEndpoint: *pe}), nil)
	return resp, errResp
}

// listEndpoints lists the private endpoints of a resource group, with
// their connections' state.
func (m *Model) listEndpoints(rg string, _ *armnetwork.PrivateEndpointsClientListOptions) (resp azfake.PagerResponder[armnetwork.PrivateEndpointsClientListResponse]) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var page armnetwork.PrivateEndpointsClientListResponse
	for _, pe := range inGroup(m.pes, rg) {
		m.sync(pe)
		copied := *pe
		page.Value = append(page.Value, &copied)
	}
	resp.AddPage(http.StatusOK, snapshot(page), nil)
	return resp
}

// removeConnection removes the connections matching gone from every
// service, as Azure does when their private endpoint is deleted.
func (m *Model) removeConnection(gone func(*armnetwork.PrivateEndpointConnection) bool) {
	for _, s := range m.services {
		if s.Properties != nil {
			s.Properties.PrivateEndpointConnections = slices.DeleteFunc(s.Properties.PrivateEndpointConnections, gone)
		}
	}
}

func (m *Model) deleteEndpoint(_ context.Context, rg, name string, _ *armnetwork.PrivateEndpointsClientBeginDeleteOptions) (resp azfake.PollerResponder[armnetwork.PrivateEndpointsClientDeleteResponse], errResp azfake.ErrorResponder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if pe := m.pes[key(rg, name)]; pe != nil {
		m.removeConnection(func(c *armnetwork.PrivateEndpointConnection) bool {
			return strings.EqualFold(deref(c.Properties.PrivateEndpoint.ID), deref(pe.ID))
		})
		delete(m.pes, key(rg, name))
	}
	resp.SetTerminalResponse(http.StatusOK, snapshot(armnetwork.PrivateEndpointsClientDeleteResponse{}), nil)
	return resp, errResp
}

// snapshot is a deep copy of a response, taken under the model's lock: the
// fakes serialise a response after the handler returns, when the model may
// already be changing (a customer acting at the same time).
func snapshot[T any](v T) T {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // the SDK's own model types always marshal
	}
	var out T
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}
