package aztest

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9/fake"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Platform is a platform environment built in the model.
type Platform struct {
	ServiceID, Alias, NSGID string
	ResourceGroup           string
}

// Build creates what a platform environment has before Linkwright runs: a
// load balancer with a frontend and a backend pool with a member, an NSG,
// and a Private Link service on the frontend tagged for Linkwright.
func (m *Model) Build(ref cloud.EnvRef, plan string) Platform {
	m.mu.Lock()
	defer m.mu.Unlock()
	rg := "rg-" + ref.Project
	base := "/subscriptions/" + PlatformSubscription + "/resourceGroups/" + rg + "/providers/Microsoft.Network"
	lbName := "lb-" + ref.Environment
	frontend := base + "/loadBalancers/" + lbName + "/frontendIPConfigurations/fe"
	m.lbs[key(rg, lbName)] = &armnetwork.LoadBalancer{
		Name: ptr(lbName), ID: ptr(base + "/loadBalancers/" + lbName), Etag: m.etag(),
		Properties: &armnetwork.LoadBalancerPropertiesFormat{
			FrontendIPConfigurations: []*armnetwork.FrontendIPConfiguration{{Name: ptr("fe"), ID: ptr(frontend)}},
			BackendAddressPools: []*armnetwork.BackendAddressPool{{Name: ptr("backend"), ID: ptr(base + "/loadBalancers/" + lbName + "/backendAddressPools/backend"),
				Properties: &armnetwork.BackendAddressPoolPropertiesFormat{LoadBalancerBackendAddresses: []*armnetwork.LoadBalancerBackendAddress{{Name: ptr("app-1")}}}}},
		},
	}
	nsg := base + "/networkSecurityGroups/nsg-" + ref.Environment
	m.rules[key(rg, "nsg-"+ref.Environment)] = map[string]*armnetwork.SecurityRule{
		"allow-lb": {Name: ptr("allow-lb"), Properties: &armnetwork.SecurityRulePropertiesFormat{Priority: ptr(int32(3000))}},
	}
	name := "pls-" + ref.Environment
	alias := fmt.Sprintf("%s.%s.%s.azure.privatelinkservice", name, "0a1b2c3d-0000-4000-8000-"+fmt.Sprintf("%012d", len(m.services)), ref.Region)
	m.services[key(rg, name)] = &armnetwork.PrivateLinkService{
		Name: ptr(name), ID: ptr(base + "/privateLinkServices/" + name), Location: ptr(ref.Region), Etag: m.etag(),
		Tags: map[string]*string{"linkwright:project": ptr(ref.Project), "linkwright:environment": ptr(ref.Environment),
			"linkwright:plan": ptr(plan), "linkwright:nsg": ptr(nsg)},
		Properties: &armnetwork.PrivateLinkServiceProperties{
			Alias:                                ptr(alias),
			LoadBalancerFrontendIPConfigurations: []*armnetwork.FrontendIPConfiguration{{ID: ptr(frontend)}},
			Visibility:                           &armnetwork.PrivateLinkServicePropertiesVisibility{},
		},
	}
	return Platform{ServiceID: base + "/privateLinkServices/" + name, Alias: alias, NSGID: nsg, ResourceGroup: rg}
}

// --- the customer's side (cloudtest.Customer)

// CreateEndpoint makes a private endpoint in the customer's subscription
// to the platform service: it fails unless the service is visible to it.
func (m *Model) CreateEndpoint(account, service string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.byAlias(service)
	if !visible(s, account) {
		return "", fmt.Errorf("private link service %s is not visible to subscription %s", service, account)
	}
	m.seq++
	pe := fmt.Sprintf("pe-%d", m.seq)
	status := "Pending"
	if s.Properties.AutoApproval != nil {
		for _, sub := range s.Properties.AutoApproval.Subscriptions {
			if strings.EqualFold(deref(sub), account) {
				status = "Approved"
			}
		}
	}
	name := pe + "." + deref(s.Name)
	s.Properties.PrivateEndpointConnections = append(s.Properties.PrivateEndpointConnections, &armnetwork.PrivateEndpointConnection{
		Name: ptr(name),
		Properties: &armnetwork.PrivateEndpointConnectionProperties{
			PrivateEndpoint:                   &armnetwork.PrivateEndpoint{ID: ptr("/subscriptions/" + account + "/resourceGroups/rg-customer/providers/Microsoft.Network/privateEndpoints/" + pe)},
			PrivateLinkServiceConnectionState: &armnetwork.PrivateLinkServiceConnectionState{Status: ptr(status)},
		},
	})
	return name, nil
}

// DeleteEndpoint deletes the customer's private endpoint behind one of the
// connections CreateEndpoint made: the connection is gone with it, as on
// Azure.
func (m *Model) DeleteEndpoint(account, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	found := false
	m.removeConnection(func(c *armnetwork.PrivateEndpointConnection) bool {
		pe, err := arm.ParseResourceID(deref(c.Properties.PrivateEndpoint.ID))
		mine := deref(c.Name) == id && err == nil && strings.EqualFold(pe.SubscriptionID, account)
		found = found || mine
		return mine
	})
	if !found {
		return fmt.Errorf("subscription %s has no private endpoint behind connection %s", account, id)
	}
	return nil
}

// Grant creates the customer's Private Link service (by resource ID or
// alias) if needed and makes it visible to a subscription.
func (m *Model) Grant(account, service, principal string, _ []int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.byAlias(service)
	if s == nil {
		rg, name, id, alias := "rg-customer-svc", "pls-customer", "", service
		if parsed, err := arm.ParseResourceID(service); err == nil {
			rg, name, id = parsed.ResourceGroupName, parsed.Name, service
			alias = name + ".11111111-2222-4333-8444-555555555555.westeurope.azure.privatelinkservice"
		} else {
			name = strings.SplitN(service, ".", 2)[0]
			id = "/subscriptions/" + account + "/resourceGroups/" + rg + "/providers/Microsoft.Network/privateLinkServices/" + name
		}
		s = &armnetwork.PrivateLinkService{Name: ptr(name), ID: ptr(id), Etag: m.etag(), Properties: &armnetwork.PrivateLinkServiceProperties{
			Alias: ptr(alias), Visibility: &armnetwork.PrivateLinkServicePropertiesVisibility{}}}
		m.services[key(rg, name)] = s
	}
	s.Properties.Visibility.Subscriptions = append(s.Properties.Visibility.Subscriptions, ptr(principal))
	return nil
}

// AcceptEndpoint approves the platform's private endpoint on the
// customer's service.
func (m *Model) AcceptEndpoint(_, id string) error { return m.setReverse(id, "Approved") }

// RejectEndpoint rejects it.
func (m *Model) RejectEndpoint(_, id string) error { return m.setReverse(id, "Rejected") }

func (m *Model) setReverse(peName, status string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.services {
		if s.Properties == nil {
			continue
		}
		for _, c := range s.Properties.PrivateEndpointConnections {
			if strings.HasSuffix(deref(c.Properties.PrivateEndpoint.ID), "/privateEndpoints/"+peName) {
				c.Properties.PrivateLinkServiceConnectionState.Status = ptr(status)
				return nil
			}
		}
	}
	return fmt.Errorf("no connection from private endpoint %s", peName)
}

// Pending lists the platform's private endpoints waiting on a customer
// service (by resource ID or alias).
func (m *Model) Pending(service string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	if s := m.byAlias(service); s != nil {
		for _, c := range s.Properties.PrivateEndpointConnections {
			if deref(c.Properties.PrivateLinkServiceConnectionState.Status) == "Pending" {
				id, _ := arm.ParseResourceID(deref(c.Properties.PrivateEndpoint.ID))
				out = append(out, id.Name)
			}
		}
	}
	return out
}

// --- transport

// Transport serves the model through armnetwork's fakes, enforcing If-Match
// on writes, injecting throttling and counting calls.
type Transport struct {
	m    *Model
	next policy.Transporter
	mu   sync.Mutex
	// Calls counts ARM requests by "METHOD resource-type".
	Calls    map[string]int
	throttle map[string]int
	// RetryAfter is what throttled answers ask to wait.
	RetryAfter time.Duration
}

// Transport returns a transport for the model.
func (m *Model) Transport() *Transport {
	return &Transport{m: m, next: fake.NewServerFactoryTransport(m.Servers()), Calls: map[string]int{}, throttle: map[string]int{}, RetryAfter: time.Second}
}

// CallCounts returns a copy of the counts so far, read under the
// transport's lock (activities make requests while a test reads them).
func (t *Transport) CallCounts() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.Calls)
}

// Throttle answers the next n requests whose path contains part with 429.
func (t *Transport) Throttle(part string, n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.throttle[part] += n
}

func resourceType(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := len(parts) - 1; i >= 0; i-- {
		switch strings.ToLower(parts[i]) {
		case "privatelinkservices", "loadbalancers", "securityrules", "privateendpoints", "privateendpointconnections", "checkprivatelinkservicevisibility":
			return parts[i]
		}
	}
	return path
}

func errorResponse(req *http.Request, status int, code string, header http.Header) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	header.Set("Content-Type", "application/json")
	body := fmt.Sprintf(`{"error":{"code":%q,"message":"%s from the test model"}}`, code, code)
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: header, Request: req,
		Body: ioNopCloser(body), ContentLength: int64(len(body))}
}

// Do serves one request.
func (t *Transport) Do(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	t.Calls[req.Method+" "+resourceType(req.URL.Path)]++
	for part, n := range t.throttle {
		if n > 0 && strings.Contains(strings.ToLower(req.URL.Path), strings.ToLower(part)) {
			t.throttle[part] = n - 1
			t.mu.Unlock()
			return errorResponse(req, http.StatusTooManyRequests, "TooManyRequests",
				http.Header{"Retry-After": []string{fmt.Sprint(int(t.RetryAfter.Seconds()))}}), nil
		}
	}
	t.mu.Unlock()
	if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/privateEndpoints/") && t.m.takeFailure() {
		// The operation is accepted, then fails: Azure's async protocol.
		h := http.Header{"Azure-Asyncoperation": []string{"https://" + req.URL.Host + "/lw-operations/failed"}, "Content-Type": []string{"application/json"}}
		return &http.Response{StatusCode: http.StatusCreated, Status: "201 Created", Header: h, Request: req, Body: ioNopCloser(`{"properties":{"provisioningState":"Updating"}}`)}, nil
	}
	if strings.HasPrefix(req.URL.Path, "/lw-operations/failed") {
		body := `{"status":"Failed","error":{"code":"InternalServerError","message":"the operation failed in the test model"}}`
		return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Header: http.Header{"Content-Type": []string{"application/json"}}, Request: req, Body: ioNopCloser(body)}, nil
	}
	if match := req.Header.Get("If-Match"); match != "" && req.Method == http.MethodPut {
		if current := t.m.etagOf(req.URL.Path); current != "" && current != match {
			return errorResponse(req, http.StatusPreconditionFailed, "PreconditionFailed", nil), nil
		}
	}
	return t.next.Do(req)
}

// etagOf is the current ETag of the Private Link service or load balancer
// at path.
func (m *Model) etagOf(path string) string {
	id, err := arm.ParseResourceID(path)
	if err != nil {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch strings.ToLower(id.ResourceType.Types[len(id.ResourceType.Types)-1]) {
	case "privatelinkservices":
		if s := m.services[key(id.ResourceGroupName, id.Name)]; s != nil {
			return deref(s.Etag)
		}
	case "loadbalancers":
		if lb := m.lbs[key(id.ResourceGroupName, id.Name)]; lb != nil {
			return deref(lb.Etag)
		}
	}
	return ""
}

func (m *Model) takeFailure() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.FailCreateEndpoint
	m.FailCreateEndpoint = false
	return f
}

// Touch changes a Private Link service behind the provider's back, as a
// concurrent writer would: its ETag changes.
func (m *Model) Touch(serviceID string) {
	id, _ := arm.ParseResourceID(serviceID)
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.services[key(id.ResourceGroupName, id.Name)]; s != nil {
		s.Etag = m.etag()
	}
}
