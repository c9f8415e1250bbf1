package azure

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Connections implements cloud.Provider: the service's private endpoint
// connections whose endpoint lives in the customer's subscription (the
// owner, read from each endpoint's resource ID; the API has no filter).
func (p *Provider) Connections(ctx context.Context, ref cloud.EnvRef, account string) ([]cloud.Connection, error) {
	s, err := p.service(ctx, ref)
	if err != nil {
		return nil, err
	}
	all, err := p.connections(ctx, s)
	if err != nil {
		return nil, err
	}
	var out []cloud.Connection
	for _, c := range all {
		if strings.EqualFold(c.Account, account) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (p *Provider) connections(ctx context.Context, s pls) ([]cloud.Connection, error) {
	pager := p.platform().NewPrivateLinkServicesClient().NewListPrivateEndpointConnectionsPager(s.group, deref(s.Name), nil)
	var out []cloud.Connection
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, classify("PrivateLinkServices.ListPrivateEndpointConnections", "Microsoft.Network/privateLinkServices/privateEndpointConnections/read", err)
		}
		for _, c := range page.Value {
			out = append(out, connection(c))
		}
	}
	return out, nil
}

func connection(c *armnetwork.PrivateEndpointConnection) cloud.Connection {
	conn := cloud.Connection{ID: deref(c.Name), State: cloud.StateUnknown}
	if c.Properties == nil {
		return conn
	}
	if c.Properties.PrivateEndpoint != nil {
		if id, err := arm.ParseResourceID(deref(c.Properties.PrivateEndpoint.ID)); err == nil {
			conn.Account = strings.ToLower(id.SubscriptionID)
		}
	}
	if st := c.Properties.PrivateLinkServiceConnectionState; st != nil {
		conn.State = cloud.AzureState(deref(st.Status))
	}
	return conn
}

// AcceptConnections implements cloud.Provider: approving an approved
// connection is success.
func (p *Provider) AcceptConnections(ctx context.Context, ref cloud.EnvRef, ids []string) error {
	return p.decide(ctx, ref, ids, true, "Approved by Linkwright")
}

// RejectConnections implements cloud.Provider: the reason goes in the
// connection's description, which the customer sees.
func (p *Provider) RejectConnections(ctx context.Context, ref cloud.EnvRef, ids []string, reason string) error {
	if reason == "" {
		reason = "Rejected by Linkwright"
	}
	return p.decide(ctx, ref, ids, false, clip(reason, 140))
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (p *Provider) decide(ctx context.Context, ref cloud.EnvRef, ids []string, approve bool, description string) error {
	const op = "PrivateLinkServices.UpdatePrivateEndpointConnection"
	const perm = "Microsoft.Network/privateLinkServices/privateEndpointConnections/write"
	s, err := p.service(ctx, ref)
	if err != nil {
		return err
	}
	client := p.platform().NewPrivateLinkServicesClient()
	for _, id := range ids {
		conn, found, err := p.readConnection(ctx, s, id)
		if err != nil {
			return err
		}
		state := connection(&conn).State
		status := "Approved"
		if approve {
			accept, err := cloud.CheckAccept(op, id, state, found)
			if err != nil {
				return err
			}
			if !accept {
				continue
			}
		} else {
			if !found || state.Terminal() {
				continue // gone or closed already: nothing to reject
			}
			status = "Rejected"
		}
		if conn.Properties == nil {
			conn.Properties = &armnetwork.PrivateEndpointConnectionProperties{}
		}
		conn.Properties.PrivateLinkServiceConnectionState = &armnetwork.PrivateLinkServiceConnectionState{Status: ptr(status), Description: ptr(description)}
		_, err = client.UpdatePrivateEndpointConnection(ctx, s.group, deref(s.Name), id, conn, nil)
		err = classify(op, perm, err)
		switch {
		case err == nil:
		case !approve:
			// Deleted since the read: nothing left to reject.
			if err := ignoreNotFound(err); err != nil {
				return err
			}
		case cloud.IsRetryable(err):
			return err // the retry reads the state first
		default:
			// Refused, perhaps because someone changed the connection
			// since the read (the customer deleted their endpoint,
			// another operator approved or rejected it): judge it again
			// on its state now.
			if err := p.afterRace(ctx, s, id, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// readConnection reads one of the service's connections; found is false
// when there is none (never was, or the customer deleted their endpoint).
func (p *Provider) readConnection(ctx context.Context, s pls, id string) (armnetwork.PrivateEndpointConnection, bool, error) {
	got, err := p.platform().NewPrivateLinkServicesClient().GetPrivateEndpointConnection(ctx, s.group, deref(s.Name), id, nil)
	err = classify("PrivateLinkServices.GetPrivateEndpointConnection", "Microsoft.Network/privateLinkServices/privateEndpointConnections/read", err)
	if cloud.IsNotFound(err) {
		return armnetwork.PrivateEndpointConnection{}, false, nil
	}
	return got.PrivateEndpointConnection, err == nil, err
}

// afterRace judges an approval Azure refused by the connection's state
// now: approved meanwhile is success, gone is NotFound, closed is
// Conflict; one still pending keeps the refusal, whose cause is not the
// state.
func (p *Provider) afterRace(ctx context.Context, s pls, id string, refusal error) error {
	conn, found, err := p.readConnection(ctx, s, id)
	if err != nil {
		return err
	}
	still, err := cloud.CheckAccept("PrivateLinkServices.UpdatePrivateEndpointConnection", id, connection(&conn).State, found)
	if still {
		return refusal
	}
	return err
}

// alias returns the alias of a customer service given by alias or by
// resource ID (read from the service; not visible yet if unreadable).
func (p *Provider) alias(ctx context.Context, service string) (string, bool, error) {
	if !strings.HasPrefix(service, "/") {
		return service, true, nil
	}
	id, err := arm.ParseResourceID(service)
	if err != nil {
		return "", false, cloud.Errorf(cloud.Invalid, "PrivateLinkServices.Get", "%q is not a Private Link service resource ID", service)
	}
	f, err := p.clients(id.SubscriptionID)
	if err != nil {
		return "", false, err
	}
	got, err := f.NewPrivateLinkServicesClient().Get(ctx, id.ResourceGroupName, id.Name, nil)
	if err != nil {
		err = classify("PrivateLinkServices.Get", "Microsoft.Network/privateLinkServices/read", err)
		if cloud.IsNotFound(err) || cloud.KindOf(err) == cloud.AccessDenied {
			return "", false, nil // not shared with the platform yet
		}
		return "", false, err
	}
	if got.Properties == nil || got.Properties.Alias == nil {
		return "", false, nil
	}
	return *got.Properties.Alias, true, nil
}

// ServiceVisible implements cloud.Provider with Azure's visibility check.
func (p *Provider) ServiceVisible(ctx context.Context, ref cloud.EnvRef, service string) (bool, error) {
	const op = "PrivateLinkServices.CheckPrivateLinkServiceVisibility"
	alias, ok, err := p.alias(ctx, service)
	if err != nil || !ok {
		return false, err
	}
	poller, err := p.platform().NewPrivateLinkServicesClient().BeginCheckPrivateLinkServiceVisibility(ctx, ref.Region,
		armnetwork.CheckPrivateLinkServiceVisibilityRequest{PrivateLinkServiceAlias: &alias}, nil)
	if err != nil {
		return false, classify(op, "Microsoft.Network/locations/checkPrivateLinkServiceVisibility/action", err)
	}
	res, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: pollFreq})
	if err != nil {
		return false, classify(op, "Microsoft.Network/locations/checkPrivateLinkServiceVisibility/action", err)
	}
	return deref(res.Visible), nil
}

// CreateEndpoint implements cloud.Provider: a private endpoint in the
// platform subnet with a manual connection to the customer's service (by
// resource ID or alias), named from spec.Token so a retry finds the first;
// the long-running operation is polled to completion.
func (p *Provider) CreateEndpoint(ctx context.Context, spec cloud.EndpointSpec) (cloud.Endpoint, error) {
	const op = "PrivateEndpoints.CreateOrUpdate"
	if len(spec.Description) > 140 {
		return cloud.Endpoint{}, cloud.Errorf(cloud.Invalid, op, "the request message is %d characters; Azure takes at most 140", len(spec.Description))
	}
	name := endpointName(spec.Token)
	pe := armnetwork.PrivateEndpoint{
		Location: ptr(spec.Env.Region),
		// A retry's PUT writes TagCreated again, a little later: still
		// within the run, so runs stay in order.
		Tags: map[string]*string{TagProject: ptr(spec.Env.Project), TagEnvironment: ptr(spec.Env.Environment),
			TagCreated: ptr(p.now().UTC().Format(time.RFC3339Nano))},
		Properties: &armnetwork.PrivateEndpointProperties{
			Subnet: &armnetwork.Subnet{ID: ptr(p.opts.SubnetID)},
			ManualPrivateLinkServiceConnections: []*armnetwork.PrivateLinkServiceConnection{{
				Name: ptr(name),
				Properties: &armnetwork.PrivateLinkServiceConnectionProperties{
					PrivateLinkServiceID: ptr(spec.Service), RequestMessage: ptr(spec.Description),
				},
			}},
		},
	}
	poller, err := p.platform().NewPrivateEndpointsClient().BeginCreateOrUpdate(ctx, p.opts.EndpointResourceGroup, name, pe, nil)
	if err != nil {
		return cloud.Endpoint{}, classify(op, "Microsoft.Network/privateEndpoints/write", err)
	}
	res, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: pollFreq})
	if err != nil {
		return cloud.Endpoint{}, classify(op, "Microsoft.Network/privateEndpoints/write", err)
	}
	return endpoint(res.PrivateEndpoint), nil
}

func endpoint(pe armnetwork.PrivateEndpoint) cloud.Endpoint {
	ep := cloud.Endpoint{ID: deref(pe.Name), State: cloud.StateUnknown}
	if created, err := time.Parse(time.RFC3339Nano, deref(pe.Tags[TagCreated])); err == nil {
		ep.Created = created
	}
	props := pe.Properties
	if props == nil {
		return ep
	}
	for _, c := range append(props.ManualPrivateLinkServiceConnections, props.PrivateLinkServiceConnections...) {
		if c.Properties != nil {
			ep.Service = deref(c.Properties.PrivateLinkServiceID)
			if st := c.Properties.PrivateLinkServiceConnectionState; st != nil {
				ep.State = cloud.AzureState(deref(st.Status))
			}
		}
	}
	for _, d := range props.CustomDNSConfigs {
		if d.Fqdn != nil && ep.DNSName == "" {
			ep.DNSName = *d.Fqdn
		}
		for _, ip := range d.IPAddresses {
			ep.IPs = append(ep.IPs, deref(ip))
		}
	}
	if ep.DNSName == "" && len(ep.IPs) > 0 {
		ep.DNSName = ep.IPs[0] // no private DNS zone: the address itself
	}
	if deref(props.ProvisioningState) == armnetwork.ProvisioningStateDeleting {
		ep.State = cloud.StateDeleting // whatever its connection said
	}
	return ep
}

// connectsTo reports whether a private endpoint's connection (manual or
// automatic) is to service: the resource ID or alias it was created with,
// compared without case as Azure does.
func connectsTo(pe *armnetwork.PrivateEndpoint, service string) bool {
	if pe == nil || pe.Properties == nil {
		return false
	}
	for _, c := range append(pe.Properties.ManualPrivateLinkServiceConnections, pe.Properties.PrivateLinkServiceConnections...) {
		if c != nil && c.Properties != nil && strings.EqualFold(deref(c.Properties.PrivateLinkServiceID), service) {
			return true
		}
	}
	return false
}

// PlatformEndpoints implements cloud.Provider: the private endpoints in the
// configured endpoint resource group connected to service. Azure lists no
// deleted endpoints; Created is from TagCreated, so endpoints Linkwright
// did not create come last.
func (p *Provider) PlatformEndpoints(ctx context.Context, ref cloud.EnvRef, service string) ([]cloud.Endpoint, error) {
	return p.platformEndpoints(ctx, []string{service})
}

// platformEndpoints is PlatformEndpoints for several services at once, in
// one listing of the endpoint resource group.
func (p *Provider) platformEndpoints(ctx context.Context, services []string) ([]cloud.Endpoint, error) {
	pager := p.platform().NewPrivateEndpointsClient().NewListPager(p.opts.EndpointResourceGroup, nil)
	out := []cloud.Endpoint{}
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, classify("PrivateEndpoints.List", "Microsoft.Network/privateEndpoints/read", err)
		}
		for _, pe := range page.Value {
			if slices.ContainsFunc(services, func(s string) bool { return connectsTo(pe, s) }) {
				out = append(out, endpoint(*pe))
			}
		}
	}
	cloud.NewestFirst(out)
	return out, nil
}

// Inventory implements cloud.Provider. It costs, whatever the number of
// subscriptions and services: the service's lookup (a PrivateLinkServices
// List per configured resource group, up to the one that has it) once;
// its load balancer (LoadBalancers.Get); one listing of the service's
// connections (ListPrivateEndpointConnections); and, when services are
// asked about, one listing of the endpoint resource group
// (PrivateEndpoints.List) for all of them. Every call is a read.
//
// Azure lists no deleted connection (it goes with its private endpoint)
// and keeps no creation time on one: the connections come in the order
// Azure lists them, which is the order they were made in.
func (p *Provider) Inventory(ctx context.Context, ref cloud.EnvRef, services []string) (cloud.Inventory, error) {
	s, b, err := p.serviceAndBalancer(ctx, ref)
	if err != nil {
		return cloud.Inventory{}, err
	}
	all, err := p.connections(ctx, s)
	if err != nil {
		return cloud.Inventory{}, err
	}
	out := cloud.Inventory{ServiceState: serviceState(s, b), Connections: []cloud.Connection{}, Endpoints: []cloud.Endpoint{}}
	for _, c := range all {
		if c.State != cloud.StateDeleted {
			out.Connections = append(out.Connections, c)
		}
	}
	// Stable: connections without a time keep Azure's order.
	slices.SortStableFunc(out.Connections, func(a, b cloud.Connection) int { return a.Created.Compare(b.Created) })
	if len(services) > 0 {
		if out.Endpoints, err = p.platformEndpoints(ctx, services); err != nil {
			return cloud.Inventory{}, err
		}
	}
	return out, nil
}

// DescribeEndpoint implements cloud.Provider.
func (p *Provider) DescribeEndpoint(ctx context.Context, ref cloud.EnvRef, id string) (cloud.Endpoint, error) {
	got, err := p.platform().NewPrivateEndpointsClient().Get(ctx, p.opts.EndpointResourceGroup, id, nil)
	if err != nil {
		return cloud.Endpoint{}, classify("PrivateEndpoints.Get", "Microsoft.Network/privateEndpoints/read", err)
	}
	return endpoint(got.PrivateEndpoint), nil
}

// DeleteEndpoint implements cloud.Provider: one already gone is success.
func (p *Provider) DeleteEndpoint(ctx context.Context, ref cloud.EnvRef, id string) error {
	const op = "PrivateEndpoints.Delete"
	poller, err := p.platform().NewPrivateEndpointsClient().BeginDelete(ctx, p.opts.EndpointResourceGroup, id, nil)
	if err == nil {
		_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: pollFreq})
	}
	return ignoreNotFound(classify(op, "Microsoft.Network/privateEndpoints/delete", err))
}
