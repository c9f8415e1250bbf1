package alibaba

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"

	"github.com/linkwright/linkwright/internal/cloud"
)

// serviceRegion is the region of a customer's endpoint service, from its
// name.
func serviceRegion(op, service string) (string, error) {
	region, _, ok := cloud.AlibabaServiceName(service)
	if !ok {
		return "", cloud.Errorf(cloud.Invalid, op, "%q is not an Alibaba Cloud endpoint service name (com.aliyuncs.privatelink.<region>.epsrv-<id>)", service)
	}
	return region, nil
}

// customerService describes a customer's endpoint service as the platform
// sees it (ListVpcEndpointServicesByEndUser, in the service's region). Not
// visible is false and no error: the customer has not whitelisted the
// platform yet, or the service does not exist.
func (p *Provider) customerService(ctx context.Context, service string) (privatelink.Service, bool, error) {
	const op = "ListVpcEndpointServicesByEndUser"
	region, err := serviceRegion(op, service)
	if err != nil {
		return privatelink.Service{}, false, err
	}
	c, err := p.in(region)
	if err != nil {
		return privatelink.Service{}, false, err
	}
	defer c.done()
	var found *privatelink.Service
	err = pages(ctx, productPrivateLink, op, func(token string) (string, error) {
		req := privatelink.CreateListVpcEndpointServicesByEndUserRequest()
		req.RegionId, req.ServiceName, req.NextToken, req.MaxResults = region, service, token, requests.NewInteger(pageSize)
		out, err := call(ctx, func() (*privatelink.ListVpcEndpointServicesByEndUserResponse, error) {
			return c.pl.ListVpcEndpointServicesByEndUser(req)
		})
		if err != nil {
			return "", err
		}
		for _, s := range out.Services {
			if strings.EqualFold(s.ServiceName, service) {
				found = &s
				return "", nil
			}
		}
		return out.NextToken, nil
	})
	switch {
	case cloud.IsNotFound(err):
		return privatelink.Service{}, false, nil
	case err != nil:
		return privatelink.Service{}, false, err
	case found == nil:
		return privatelink.Service{}, false, nil
	}
	return *found, true, nil
}

// ServiceVisible implements cloud.Provider.
func (p *Provider) ServiceVisible(ctx context.Context, ref cloud.EnvRef, service string) (bool, error) {
	_, ok, err := p.customerService(ctx, service)
	return ok, err
}

// placedIn checks that the platform's endpoints of an environment in
// region go where the config says: its VPC, vSwitches and security
// groups are in one region.
func (p *Provider) placedIn(op, region string) error {
	if p.opts.Region != "" && region != p.opts.Region {
		return cloud.Errorf(cloud.Invalid, op, "the worker's alibaba.vpcId, zones and securityGroupIds are in %s, not %s: run a worker configured for %s", p.opts.Region, region, region)
	}
	return nil
}

// platformZones are the zone IDs of the configured vSwitches, sorted.
func (p *Provider) platformZones() []string {
	var out []string
	for _, z := range p.opts.Zones {
		out = append(out, z.ZoneID)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Zones implements cloud.Provider. Alibaba zone IDs (cn-hangzhou-h) are
// the same in every account, so they compare as they are. A service in
// another region (cross-region access) is reached from any zone of the
// platform's region, so it counts as offered in all of the platform's:
// nothing is missing.
func (p *Provider) Zones(ctx context.Context, ref cloud.EnvRef, service string) (cloud.Zones, error) {
	if err := p.placedIn("Zones", ref.Region); err != nil {
		return cloud.Zones{}, err
	}
	z := cloud.Zones{Platform: p.platformZones()}
	if service == "" {
		return z, nil
	}
	region, err := serviceRegion("Zones", service)
	if err != nil {
		return cloud.Zones{}, err
	}
	svc, ok, err := p.customerService(ctx, service)
	if err != nil {
		return cloud.Zones{}, err
	}
	if !ok {
		return cloud.Zones{}, cloud.Errorf(cloud.NotFound, "Zones", "endpoint service %s is not visible to the platform's account %s: the customer has not whitelisted it yet, or the service does not exist", service, p.opts.AccountID)
	}
	if region != ref.Region {
		// Reached across regions, the service serves an endpoint in any
		// zone of the platform's region: offered in all of the platform's.
		z.Service = slices.Clone(z.Platform)
		return z, nil
	}
	z.Service = slices.Clone(svc.Zones)
	slices.Sort(z.Service)
	return z, nil
}

// CreateEndpoint implements cloud.Provider: an interface endpoint in the
// configured VPC and security groups, in every configured zone the
// customer's service offers (at least MinZones), with a ClientToken
// derived from spec.Token so that a retry never makes two. The service's
// zone affinity is kept on the endpoint; a service in another region is
// reached with ServiceRegionId. Those two parameters are not in the typed
// SDK's request, so such endpoints are created through CommonRequest.
func (p *Provider) CreateEndpoint(ctx context.Context, spec cloud.EndpointSpec) (cloud.Endpoint, error) {
	const op = "CreateVpcEndpoint"
	if p.opts.VpcID == "" || len(p.opts.Zones) == 0 {
		return cloud.Endpoint{}, cloud.Errorf(cloud.Invalid, op, "set alibaba.vpcId and alibaba.zones in the worker's config: they say where the platform's endpoints into customers' services go")
	}
	if err := p.placedIn(op, spec.Env.Region); err != nil {
		return cloud.Endpoint{}, err
	}
	region, err := serviceRegion(op, spec.Service)
	if err != nil {
		return cloud.Endpoint{}, err
	}
	svc, ok, err := p.customerService(ctx, spec.Service)
	if err != nil {
		return cloud.Endpoint{}, err
	}
	if !ok {
		return cloud.Endpoint{}, cloud.Errorf(cloud.NotFound, op, "endpoint service %s is not visible to the platform's account %s: the customer must add it to the service's whitelist", spec.Service, p.opts.AccountID)
	}
	crossRegion := region != spec.Env.Region
	zones := p.opts.Zones
	if !crossRegion {
		zones = nil
		for _, z := range p.opts.Zones {
			if slices.Contains(svc.Zones, z.ZoneID) {
				zones = append(zones, z)
			}
		}
	}
	if len(zones) < p.opts.MinZones {
		return cloud.Endpoint{}, cloud.Errorf(cloud.Invalid, op, "endpoint service %s is offered in zones %s and the platform's vSwitches are in %s: an endpoint needs %d zones in common; ask the customer to add %s to their service",
			spec.Service, list(svc.Zones), list(p.platformZones()), p.opts.MinZones, list(missing(p.platformZones(), svc.Zones)))
	}
	params := map[string]string{
		"VpcId": p.opts.VpcID, "ServiceId": svc.ServiceId, "EndpointType": "Interface",
		"EndpointName": endpointName(spec.Token), "EndpointDescription": spec.Description,
		"ClientToken": clientToken(spec.Token),
		"Tag.1.Key":   TagProject, "Tag.1.Value": spec.Env.Project,
		"Tag.2.Key": TagEnvironment, "Tag.2.Value": spec.Env.Environment,
	}
	for i, sg := range p.opts.SecurityGroupIDs {
		params["SecurityGroupId."+strconv.Itoa(i+1)] = sg
	}
	for i, z := range zones {
		params["Zone."+strconv.Itoa(i+1)+".ZoneId"] = z.ZoneID
		params["Zone."+strconv.Itoa(i+1)+".VSwitchId"] = z.VSwitchID
	}
	if !crossRegion && !svc.ZoneAffinityEnabled {
		return p.createTyped(ctx, spec, params)
	}
	if crossRegion {
		params["ServiceRegionId"] = region
	}
	if svc.ZoneAffinityEnabled {
		params["ZoneAffinityEnabled"] = "true"
	}
	var out privatelink.CreateVpcEndpointResponse
	if err := p.common(ctx, spec.Env.Region, op, params, &out); err != nil {
		return cloud.Endpoint{}, err
	}
	return created(spec, out), nil
}

// createTyped is CreateEndpoint through the typed SDK, with the same
// parameters.
func (p *Provider) createTyped(ctx context.Context, spec cloud.EndpointSpec, params map[string]string) (cloud.Endpoint, error) {
	c, err := p.in(spec.Env.Region)
	if err != nil {
		return cloud.Endpoint{}, err
	}
	defer c.done()
	req := privatelink.CreateCreateVpcEndpointRequest()
	req.RegionId = spec.Env.Region
	req.VpcId, req.ServiceId, req.EndpointType = params["VpcId"], params["ServiceId"], params["EndpointType"]
	req.EndpointName, req.EndpointDescription, req.ClientToken = params["EndpointName"], params["EndpointDescription"], params["ClientToken"]
	sgs := slices.Clone(p.opts.SecurityGroupIDs)
	req.SecurityGroupId = &sgs
	var zones []privatelink.CreateVpcEndpointZone
	for i := 1; params["Zone."+strconv.Itoa(i)+".ZoneId"] != ""; i++ {
		zones = append(zones, privatelink.CreateVpcEndpointZone{ZoneId: params["Zone."+strconv.Itoa(i)+".ZoneId"], VSwitchId: params["Zone."+strconv.Itoa(i)+".VSwitchId"]})
	}
	req.Zone = &zones
	req.Tag = &[]privatelink.CreateVpcEndpointTag{{Key: TagProject, Value: spec.Env.Project}, {Key: TagEnvironment, Value: spec.Env.Environment}}
	out, err := call(ctx, func() (*privatelink.CreateVpcEndpointResponse, error) { return c.pl.CreateVpcEndpoint(req) })
	if err != nil {
		return cloud.Endpoint{}, classify(productPrivateLink, "CreateVpcEndpoint", err)
	}
	return created(spec, *out), nil
}

func created(spec cloud.EndpointSpec, out privatelink.CreateVpcEndpointResponse) cloud.Endpoint {
	return cloud.Endpoint{
		ID: out.EndpointId, Service: orDefault(out.ServiceName, spec.Service),
		State:   cloud.AlibabaEndpointState(out.EndpointStatus, out.ConnectionStatus),
		DNSName: out.EndpointDomain, Created: parseTime(out.CreateTime),
	}
}

// endpointName names an endpoint after its token (at most 128 characters).
func endpointName(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "linkwright-" + hex.EncodeToString(sum[:])[:16]
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// missing are the items of want not in have.
func missing(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}

// DescribeEndpoint implements cloud.Provider.
func (p *Provider) DescribeEndpoint(ctx context.Context, ref cloud.EnvRef, id string) (cloud.Endpoint, error) {
	const op = "GetVpcEndpointAttribute"
	c, err := p.in(ref.Region)
	if err != nil {
		return cloud.Endpoint{}, err
	}
	defer c.done()
	req := privatelink.CreateGetVpcEndpointAttributeRequest()
	req.RegionId, req.EndpointId = ref.Region, id
	out, err := call(ctx, func() (*privatelink.GetVpcEndpointAttributeResponse, error) { return c.pl.GetVpcEndpointAttribute(req) })
	if err != nil {
		return cloud.Endpoint{}, classify(productPrivateLink, op, err)
	}
	if out.EndpointId != id {
		return cloud.Endpoint{}, cloud.Errorf(cloud.NotFound, productPrivateLink+":"+op, "no endpoint %s", id)
	}
	return cloud.Endpoint{
		ID: out.EndpointId, Service: out.ServiceName, State: cloud.AlibabaEndpointState(out.EndpointStatus, out.ConnectionStatus),
		DNSName: out.EndpointDomain, Created: parseTime(out.CreateTime),
	}, nil
}

// PlatformEndpoints implements cloud.Provider: the endpoints in the
// configured VPC into service, but for deleted ones. The filters narrow
// the answer; the service and VPC are checked on it too.
func (p *Provider) PlatformEndpoints(ctx context.Context, ref cloud.EnvRef, service string) ([]cloud.Endpoint, error) {
	const op = "ListVpcEndpoints"
	if p.opts.VpcID == "" {
		return nil, cloud.Errorf(cloud.Invalid, op, "set alibaba.vpcId in the worker's config: it says where the platform's endpoints into customers' services are")
	}
	if err := p.placedIn(op, ref.Region); err != nil {
		return nil, err
	}
	c, err := p.in(ref.Region)
	if err != nil {
		return nil, err
	}
	defer c.done()
	out := []cloud.Endpoint{}
	if err := pages(ctx, productPrivateLink, op, func(token string) (string, error) {
		req := privatelink.CreateListVpcEndpointsRequest()
		req.RegionId, req.ServiceName, req.VpcId, req.NextToken, req.MaxResults = ref.Region, service, p.opts.VpcID, token, requests.NewInteger(pageSize)
		page, err := call(ctx, func() (*privatelink.ListVpcEndpointsResponse, error) { return c.pl.ListVpcEndpoints(req) })
		if err != nil {
			return "", err
		}
		for _, e := range page.Endpoints {
			ep := cloud.Endpoint{ID: e.EndpointId, Service: e.ServiceName, State: cloud.AlibabaEndpointState(e.EndpointStatus, e.ConnectionStatus),
				DNSName: e.EndpointDomain, Created: parseTime(e.CreateTime)}
			if strings.EqualFold(e.ServiceName, service) && e.VpcId == p.opts.VpcID && ep.State != cloud.StateDeleted {
				out = append(out, ep)
			}
		}
		return page.NextToken, nil
	}); err != nil {
		return nil, err
	}
	cloud.NewestFirst(out)
	return out, nil
}

// DeleteEndpoint implements cloud.Provider: an endpoint already gone (or
// being deleted) is success.
func (p *Provider) DeleteEndpoint(ctx context.Context, ref cloud.EnvRef, id string) error {
	const op = "DeleteVpcEndpoint"
	ep, err := p.DescribeEndpoint(ctx, ref, id)
	if cloud.IsNotFound(err) || (err == nil && (ep.State == cloud.StateDeleted || ep.State == cloud.StateDeleting)) {
		return nil
	}
	if err != nil {
		return err
	}
	c, err := p.in(ref.Region)
	if err != nil {
		return err
	}
	defer c.done()
	req := privatelink.CreateDeleteVpcEndpointRequest()
	req.RegionId, req.EndpointId = ref.Region, id
	_, err = call(ctx, func() (*privatelink.DeleteVpcEndpointResponse, error) { return c.pl.DeleteVpcEndpoint(req) })
	err = classify(productPrivateLink, op, err)
	if cloud.KindOf(err) == cloud.Conflict {
		// Being deleted since the read (another run, a person)?
		if ep, rerr := p.DescribeEndpoint(ctx, ref, id); cloud.IsNotFound(rerr) || (rerr == nil && (ep.State == cloud.StateDeleting || ep.State == cloud.StateDeleted)) {
			return nil
		}
	}
	if err != nil && !cloud.IsNotFound(err) {
		return err
	}
	return nil
}
