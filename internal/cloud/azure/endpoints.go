package azure

import (
	"context"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Connections implements cloud.Provider: the service's private endpoint
// connections whose endpoint lives in the customer's subscription.
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
		got, err := client.GetPrivateEndpointConnection(ctx, s.group, deref(s.Name), id, nil)
		if err != nil {
			err = classify("PrivateLinkServices.GetPrivateEndpointConnection", "Microsoft.Network/privateLinkServices/privateEndpointConnections/read", err)
			if !approve && cloud.IsNotFound(err) {
				continue // gone already: nothing to reject
			}
			return err
		}
		state := connection(&got.PrivateEndpointConnection).State
		status := "Approved"
		switch {
		case approve && state == cloud.StateAvailable, !approve && state.Terminal():
			continue
		case approve && state != cloud.StatePendingAcceptance:
			return cloud.Errorf(cloud.Conflict, op, "connection %s is %s and cannot be approved; the customer must create a new private endpoint", id, state)
		case !approve:
			status = "Rejected"
		}
		conn := got.PrivateEndpointConnection
		if conn.Properties == nil {
			conn.Properties = &armnetwork.PrivateEndpointConnectionProperties{}
		}
		conn.Properties.PrivateLinkServiceConnectionState = &armnetwork.PrivateLinkServiceConnectionState{Status: ptr(status), Description: ptr(description)}
		if _, err := client.UpdatePrivateEndpointConnection(ctx, s.group, deref(s.Name), id, conn, nil); err != nil {
			return classify(op, perm, err)
		}
	}
	return nil
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
		Tags:     map[string]*string{TagProject: ptr(spec.Env.Project), TagEnvironment: ptr(spec.Env.Environment)},
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
	return ep
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
