package alibaba

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/nlb"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"

	"github.com/linkwright/linkwright/internal/cloud"
)

// pageSize is what list calls ask for (the API's maximum is 1000 for most
// lists; 50 keeps answers small).
const pageSize = 50

// service finds the platform's endpoint service of an environment by its
// tags. The tags are the filter and are checked on the answer too.
func (p *Provider) service(ctx context.Context, ref cloud.EnvRef) (privatelink.Service, error) {
	const op = "ListVpcEndpointServices"
	c, err := p.in(ref.Region)
	if err != nil {
		return privatelink.Service{}, err
	}
	defer c.done()
	tags := []privatelink.ListVpcEndpointServicesTag{{Key: TagProject, Value: ref.Project}, {Key: TagEnvironment, Value: ref.Environment}}
	var found []privatelink.Service
	if err := pages(ctx, productPrivateLink, op, func(token string) (string, error) {
		req := privatelink.CreateListVpcEndpointServicesRequest()
		req.RegionId, req.Tag, req.NextToken, req.MaxResults = ref.Region, &tags, token, requests.NewInteger(pageSize)
		out, err := call(ctx, func() (*privatelink.ListVpcEndpointServicesResponse, error) { return c.pl.ListVpcEndpointServices(req) })
		if err != nil {
			return "", err
		}
		for _, s := range out.Services {
			if tag(s.Tags, TagProject) == ref.Project && tag(s.Tags, TagEnvironment) == ref.Environment {
				found = append(found, s)
			}
		}
		return out.NextToken, nil
	}); err != nil {
		return privatelink.Service{}, err
	}
	switch len(found) {
	case 0:
		return privatelink.Service{}, cloud.Errorf(cloud.NotFound, "Environment", "no endpoint service in %s tagged %s=%s and %s=%s: tag the platform's endpoint service of that environment", ref.Region, TagProject, ref.Project, TagEnvironment, ref.Environment)
	case 1:
		return found[0], nil
	}
	var ids []string
	for _, s := range found {
		ids = append(ids, s.ServiceId)
	}
	return privatelink.Service{}, cloud.Errorf(cloud.Invalid, "Environment", "endpoint services %s are all tagged for %s %s: keep the tags on one", strings.Join(ids, ", "), ref.Project, ref.Environment)
}

func tag(tags []privatelink.TagModel, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

// Environment implements cloud.Provider. A service that accepts
// connections automatically is refused unless the worker's config allows
// such services, and is reported as AutoAccept when it does.
func (p *Provider) Environment(ctx context.Context, ref cloud.EnvRef) (cloud.Environment, error) {
	svc, err := p.service(ctx, ref)
	if err != nil {
		return cloud.Environment{}, err
	}
	if svc.AutoAcceptEnabled && !p.opts.AllowAutoAcceptServices {
		return cloud.Environment{}, cloud.Errorf(cloud.Conflict, "Environment", "endpoint service %s accepts connections automatically (AutoAcceptEnabled), so no approver would decide: turn AutoAcceptEnabled off on the service, or set alibaba.allowAutoAcceptServices in the worker's config to use it as it is", svc.ServiceId)
	}
	regions, err := p.supportedRegions(ctx, ref.Region, svc.ServiceId)
	if err != nil {
		return cloud.Environment{}, err
	}
	return cloud.Environment{
		EnvRef: ref, Plan: tag(svc.Tags, TagPlan), ServiceName: svc.ServiceName, ServiceID: svc.ServiceId,
		Principal: p.opts.AccountID, AutoAccept: svc.AutoAcceptEnabled, Regions: regions,
	}, nil
}

// supportedRegions reads the other regions consumers may connect to a
// service from: its SupportedRegionSet, which the typed SDK's answer
// lacks, so the call goes through CommonRequest on the same client.
func (p *Provider) supportedRegions(ctx context.Context, region, serviceID string) ([]string, error) {
	var out struct {
		SupportedRegionSet []struct {
			SupportedRegionId   string
			RegionServiceStatus string
		}
	}
	if err := p.common(ctx, region, "GetVpcEndpointServiceAttribute", map[string]string{"ServiceId": serviceID}, &out); err != nil {
		return nil, err
	}
	var regions []string
	for _, r := range out.SupportedRegionSet {
		if r.SupportedRegionId != "" && r.SupportedRegionId != region && !strings.EqualFold(r.RegionServiceStatus, "Inactive") {
			regions = append(regions, r.SupportedRegionId)
		}
	}
	slices.Sort(regions)
	return slices.Compact(regions), nil
}

// common calls a PrivateLink action through the SDK's CommonRequest, for
// parameters and answers the typed SDK lacks, and decodes the answer.
func (p *Provider) common(ctx context.Context, region, action string, params map[string]string, out any) error {
	c, err := p.in(region)
	if err != nil {
		return err
	}
	defer c.done()
	req := requests.NewCommonRequest()
	req.Method = "POST"
	req.Product = "PrivateLink"
	req.Version = "2020-04-15"
	req.ApiName = action
	req.Domain = c.pl.Domain
	if req.Domain == "" {
		req.Domain = "privatelink." + region + ".aliyuncs.com"
	}
	if strings.HasPrefix(strings.ToLower(p.opts.Endpoint), "http://") {
		req.Scheme = "http"
	}
	req.QueryParams["RegionId"] = region
	for k, v := range params {
		req.QueryParams[k] = v
	}
	resp, err := call(ctx, func() (any, error) { return c.pl.ProcessCommonRequest(req) })
	if err != nil {
		return classify(productPrivateLink, action, err)
	}
	type contentBytes interface{ GetHttpContentBytes() []byte }
	if err := json.Unmarshal(resp.(contentBytes).GetHttpContentBytes(), out); err != nil {
		return cloud.Errorf(cloud.Retryable, productPrivateLink+":"+action, "unreadable answer: %v", err)
	}
	return nil
}

// ServiceState implements cloud.Provider: the ports with a listener on
// the service's load balancer and the UIDs on its whitelist.
func (p *Provider) ServiceState(ctx context.Context, ref cloud.EnvRef) (cloud.ServiceState, error) {
	svc, err := p.service(ctx, ref)
	if err != nil {
		return cloud.ServiceState{}, err
	}
	return p.serviceState(ctx, ref.Region, svc)
}

func (p *Provider) serviceState(ctx context.Context, region string, svc privatelink.Service) (cloud.ServiceState, error) {
	lb, err := p.loadBalancer(ctx, region, svc)
	if err != nil {
		return cloud.ServiceState{}, err
	}
	listeners, err := p.listeners(ctx, region, lb)
	if err != nil {
		return cloud.ServiceState{}, err
	}
	users, err := p.users(ctx, region, svc.ServiceId)
	if err != nil {
		return cloud.ServiceState{}, err
	}
	var ports []int
	for port := range listeners {
		ports = append(ports, port)
	}
	return cloud.NewServiceState(ports, users), nil
}

// loadBalancer is the NLB behind the service (its service resource).
func (p *Provider) loadBalancer(ctx context.Context, region string, svc privatelink.Service) (string, error) {
	const op = "ListVpcEndpointServiceResources"
	if !strings.EqualFold(svc.ServiceResourceType, "nlb") && svc.ServiceResourceType != "" {
		return "", cloud.Errorf(cloud.Invalid, op, "endpoint service %s is served by a %s; Linkwright opens ports on a Network Load Balancer (nlb) only", svc.ServiceId, svc.ServiceResourceType)
	}
	c, err := p.in(region)
	if err != nil {
		return "", err
	}
	defer c.done()
	found := ""
	if err := pages(ctx, productPrivateLink, op, func(token string) (string, error) {
		req := privatelink.CreateListVpcEndpointServiceResourcesRequest()
		req.RegionId, req.ServiceId, req.NextToken, req.MaxResults = region, svc.ServiceId, token, requests.NewInteger(pageSize)
		out, err := call(ctx, func() (*privatelink.ListVpcEndpointServiceResourcesResponse, error) {
			return c.pl.ListVpcEndpointServiceResources(req)
		})
		if err != nil {
			return "", err
		}
		for _, r := range out.Resources {
			if strings.EqualFold(r.ResourceType, "nlb") && found == "" {
				found = r.ResourceId
			}
		}
		if found != "" {
			return "", nil // no need for more pages
		}
		return out.NextToken, nil
	}); err != nil {
		return "", err
	}
	if found != "" {
		return found, nil
	}
	return "", cloud.Errorf(cloud.Invalid, op, "endpoint service %s has no Network Load Balancer attached: attach the platform's NLB to it", svc.ServiceId)
}

// listeners maps each TCP listener port of a load balancer to its ID.
func (p *Provider) listeners(ctx context.Context, region, lb string) (map[int]string, error) {
	const op = "ListListeners"
	c, err := p.in(region)
	if err != nil {
		return nil, err
	}
	defer c.done()
	out := map[int]string{}
	if err := pages(ctx, productNLB, op, func(token string) (string, error) {
		req := nlb.CreateListListenersRequest()
		req.RegionId, req.LoadBalancerIds, req.ListenerProtocol, req.NextToken, req.MaxResults = region, &[]string{lb}, "TCP", token, requests.NewInteger(pageSize)
		page, err := call(ctx, func() (*nlb.ListListenersResponse, error) { return c.nlb.ListListeners(req) })
		if err != nil {
			return "", err
		}
		for _, l := range page.Listeners {
			if l.LoadBalancerId == lb && strings.EqualFold(l.ListenerProtocol, "TCP") && !strings.EqualFold(l.ListenerStatus, "Deleting") {
				out[l.ListenerPort] = l.ListenerId
			}
		}
		return page.NextToken, nil
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// users reads the service's whitelist: the UIDs on it ("*" is no account).
func (p *Provider) users(ctx context.Context, region, serviceID string) ([]string, error) {
	const op = "ListVpcEndpointServiceUsers"
	c, err := p.in(region)
	if err != nil {
		return nil, err
	}
	defer c.done()
	var out []string
	if err := pages(ctx, productPrivateLink, op, func(token string) (string, error) {
		req := privatelink.CreateListVpcEndpointServiceUsersRequest()
		req.RegionId, req.ServiceId, req.NextToken, req.MaxResults = region, serviceID, token, requests.NewInteger(pageSize)
		page, err := call(ctx, func() (*privatelink.ListVpcEndpointServiceUsersResponse, error) {
			return c.pl.ListVpcEndpointServiceUsers(req)
		})
		if err != nil {
			return "", err
		}
		for _, u := range page.Users {
			if u.UserId > 0 {
				out = append(out, fmt.Sprintf("%016d", u.UserId))
			}
		}
		return page.NextToken, nil
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// balancer is the platform's service, the NLB behind it and its TCP
// listeners by port.
type balancer struct {
	svc       privatelink.Service
	lb        string
	listeners map[int]string
}

func (p *Provider) balancer(ctx context.Context, ref cloud.EnvRef) (balancer, error) {
	svc, err := p.service(ctx, ref)
	if err != nil {
		return balancer{}, err
	}
	lb, err := p.loadBalancer(ctx, ref.Region, svc)
	if err != nil {
		return balancer{}, err
	}
	listeners, err := p.listeners(ctx, ref.Region, lb)
	return balancer{svc: svc, lb: lb, listeners: listeners}, err
}

// OpenPorts implements cloud.Provider: a TCP listener per port on the
// service's NLB, forwarding to the server group tagged on the service.
// Listeners that exist are left alone (read first). CreateListener gets no
// ClientToken: one stable enough for retries would also be reused when a
// port is closed and opened again, and bring the deleted listener back;
// a listener made meanwhile answers Conflict, and is read again.
func (p *Provider) OpenPorts(ctx context.Context, ref cloud.EnvRef, ports []int) error {
	const op = "CreateListener"
	b, err := p.balancer(ctx, ref)
	if err != nil {
		return err
	}
	group := tag(b.svc.Tags, TagServerGroup)
	if group == "" {
		return cloud.Errorf(cloud.Invalid, op, "endpoint service %s has no %s tag: tag it with the ID of the NLB server group that serves the platform", b.svc.ServiceId, TagServerGroup)
	}
	lb, have := b.lb, b.listeners
	c, err := p.in(ref.Region)
	if err != nil {
		return err
	}
	defer c.done()
	for _, port := range ports {
		if have[port] != "" {
			continue
		}
		req := nlb.CreateCreateListenerRequest()
		req.RegionId, req.LoadBalancerId, req.ListenerProtocol, req.ListenerPort, req.ServerGroupId = ref.Region, lb, "TCP", requests.NewInteger(port), group
		req.ListenerDescription = "linkwright " + ref.Project + " " + ref.Environment
		_, err := call(ctx, func() (*nlb.CreateListenerResponse, error) { return c.nlb.CreateListener(req) })
		if err := classify(productNLB, op, err); err != nil {
			if cloud.KindOf(err) != cloud.Conflict {
				return err
			}
			// Someone made the listener meanwhile: read again.
			again, rerr := p.listeners(ctx, ref.Region, lb)
			if rerr != nil {
				return rerr
			}
			if again[port] == "" {
				return err
			}
		}
	}
	return nil
}

// ClosePorts implements cloud.Provider: the listeners of the ports are
// deleted; one already gone is success.
func (p *Provider) ClosePorts(ctx context.Context, ref cloud.EnvRef, ports []int) error {
	const op = "DeleteListener"
	b, err := p.balancer(ctx, ref)
	if err != nil {
		return err
	}
	have := b.listeners
	c, err := p.in(ref.Region)
	if err != nil {
		return err
	}
	defer c.done()
	for _, port := range ports {
		id := have[port]
		if id == "" {
			continue
		}
		req := nlb.CreateDeleteListenerRequest()
		req.RegionId, req.ListenerId = ref.Region, id
		_, err := call(ctx, func() (*nlb.DeleteListenerResponse, error) { return c.nlb.DeleteListener(req) })
		if err := classify(productNLB, op, err); err != nil && !cloud.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// AllowAccount implements cloud.Provider: the UID joins the whitelist,
// read first (the call takes no ClientToken). "*" is refused: Linkwright
// allows one customer at a time.
func (p *Provider) AllowAccount(ctx context.Context, ref cloud.EnvRef, account string) error {
	return p.whitelist(ctx, ref, account, true)
}

// RevokeAccount implements cloud.Provider: the UID leaves the whitelist,
// read first; one not on it is success.
func (p *Provider) RevokeAccount(ctx context.Context, ref cloud.EnvRef, account string) error {
	return p.whitelist(ctx, ref, account, false)
}

// whitelist puts the UID on the service's whitelist (add) or takes it off,
// after reading the whitelist: a UID already where it should be costs no
// write.
func (p *Provider) whitelist(ctx context.Context, ref cloud.EnvRef, account string, add bool) error {
	op := "RemoveUserFromVpcEndpointService"
	if add {
		op = "AddUserToVpcEndpointService"
	}
	uid, err := checkUID(op, account)
	if err != nil {
		return err
	}
	svc, err := p.service(ctx, ref)
	if err != nil {
		return err
	}
	users, err := p.users(ctx, ref.Region, svc.ServiceId)
	if err != nil || slices.Contains(users, account) == add {
		return err
	}
	c, err := p.in(ref.Region)
	if err != nil {
		return err
	}
	defer c.done()
	if add {
		req := privatelink.CreateAddUserToVpcEndpointServiceRequest()
		req.RegionId, req.ServiceId, req.UserId = ref.Region, svc.ServiceId, requests.NewInteger64(uid)
		_, err = call(ctx, func() (*privatelink.AddUserToVpcEndpointServiceResponse, error) {
			return c.pl.AddUserToVpcEndpointService(req)
		})
		return classify(productPrivateLink, op, err)
	}
	req := privatelink.CreateRemoveUserFromVpcEndpointServiceRequest()
	req.RegionId, req.ServiceId, req.UserId = ref.Region, svc.ServiceId, requests.NewInteger64(uid)
	_, err = call(ctx, func() (*privatelink.RemoveUserFromVpcEndpointServiceResponse, error) {
		return c.pl.RemoveUserFromVpcEndpointService(req)
	})
	if err := classify(productPrivateLink, op, err); err != nil && !cloud.IsNotFound(err) {
		return err
	}
	return nil
}

func checkUID(op, account string) (int64, error) {
	if account == "*" {
		return 0, cloud.Errorf(cloud.Invalid, op, `allowing everyone ("*") is refused: Linkwright allows one customer account UID at a time`)
	}
	if !uidRe.MatchString(account) {
		return 0, cloud.Errorf(cloud.Invalid, op, "%q is not an Alibaba Cloud account UID (16 digits)", account)
	}
	uid, err := strconv.ParseInt(account, 10, 64)
	if err != nil {
		return 0, cloud.Errorf(cloud.Invalid, op, "%q is not an Alibaba Cloud account UID (16 digits)", account)
	}
	return uid, nil
}

// Connections implements cloud.Provider. The owner filter narrows the
// answer; the owner is checked on it too, so that a filter the API (or a
// model) ignores lets no other account's connection through.
func (p *Provider) Connections(ctx context.Context, ref cloud.EnvRef, account string) ([]cloud.Connection, error) {
	uid, err := checkUID("ListVpcEndpointConnections", strings.TrimSpace(account))
	if err != nil {
		return nil, err
	}
	svc, err := p.service(ctx, ref)
	if err != nil {
		return nil, err
	}
	all, err := p.connections(ctx, ref.Region, svc.ServiceId, func(r *privatelink.ListVpcEndpointConnectionsRequest) {
		r.EndpointOwnerId = requests.NewInteger64(uid)
	})
	if err != nil {
		return nil, err
	}
	var out []cloud.Connection
	for _, c := range all {
		if c.Account == strings.TrimSpace(account) {
			out = append(out, c)
		}
	}
	return out, nil
}

// connections lists the connections to a service, narrowed by the filter
// given (none: every connection, whatever its owner or state). The
// service is checked on the answer too.
func (p *Provider) connections(ctx context.Context, region, serviceID string, filter func(*privatelink.ListVpcEndpointConnectionsRequest)) ([]cloud.Connection, error) {
	const op = "ListVpcEndpointConnections"
	c, err := p.in(region)
	if err != nil {
		return nil, err
	}
	defer c.done()
	var out []cloud.Connection
	if err := pages(ctx, productPrivateLink, op, func(token string) (string, error) {
		req := privatelink.CreateListVpcEndpointConnectionsRequest()
		req.RegionId, req.ServiceId, req.NextToken, req.MaxResults = region, serviceID, token, requests.NewInteger(pageSize)
		if filter != nil {
			filter(req)
		}
		page, err := call(ctx, func() (*privatelink.ListVpcEndpointConnectionsResponse, error) {
			return c.pl.ListVpcEndpointConnections(req)
		})
		if err != nil {
			return "", err
		}
		for _, conn := range page.Connections {
			if conn.ServiceId != "" && conn.ServiceId != serviceID {
				continue
			}
			// The API keeps no creation time on a connection: its last
			// change stands in, for the oldest-first order.
			out = append(out, cloud.Connection{
				ID: conn.EndpointId, Account: fmt.Sprintf("%016d", conn.EndpointOwnerId),
				State: cloud.AlibabaState(conn.ConnectionStatus), Created: parseTime(conn.ModifiedTime),
			})
		}
		return page.NextToken, nil
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// parseTime reads the API's times (ISO 8601, UTC); the zero time when
// there is none.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05Z", "2006-01-02T15:04Z"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// states reads the current state of the given connections.
func (p *Provider) states(ctx context.Context, region, serviceID string, ids []string) (map[string]cloud.State, error) {
	states := map[string]cloud.State{}
	for _, id := range ids {
		conns, err := p.connections(ctx, region, serviceID, func(r *privatelink.ListVpcEndpointConnectionsRequest) { r.EndpointId = id })
		if err != nil {
			return nil, err
		}
		for _, c := range conns {
			if c.ID == id {
				states[id] = c.State
			}
		}
	}
	return states, nil
}

// AcceptConnections implements cloud.Provider, with the service's default
// bandwidth.
func (p *Provider) AcceptConnections(ctx context.Context, ref cloud.EnvRef, ids []string) error {
	return p.AcceptConnectionsWithBandwidth(ctx, ref, ids, 0)
}

// AcceptConnectionsWithBandwidth implements cloud.BandwidthAccepter:
// EnableVpcEndpointConnection, with Bandwidth where mbps is not 0 (checked
// against the range of the service's resource type first), for each
// connection that still waits. A refusal for the connection's state is
// judged again on a fresh read, as on the other clouds.
func (p *Provider) AcceptConnectionsWithBandwidth(ctx context.Context, ref cloud.EnvRef, ids []string, mbps int) error {
	const op = "EnableVpcEndpointConnection"
	svc, err := p.service(ctx, ref)
	if err != nil {
		return err
	}
	if mbps != 0 {
		lo, hi, kind := cloud.AlibabaBandwidthRange(svc.ServiceResourceType)
		if mbps < lo || mbps > hi {
			return cloud.Errorf(cloud.Invalid, op, "bandwidth %d Mbps is outside what a %s endpoint service allows per connection (%d-%d Mbps): change the request's bandwidthMbps", mbps, strings.ToUpper(kind), lo, hi)
		}
	}
	states, err := p.states(ctx, ref.Region, svc.ServiceId, ids)
	if err != nil {
		return err
	}
	c, err := p.in(ref.Region)
	if err != nil {
		return err
	}
	defer c.done()
	for _, id := range ids {
		st, ok := listed(states, id)
		accept, err := cloud.CheckAccept(productPrivateLink+":"+op, id, st, ok)
		if err != nil {
			return err
		}
		if !accept {
			continue
		}
		req := privatelink.CreateEnableVpcEndpointConnectionRequest()
		req.RegionId, req.ServiceId, req.EndpointId = ref.Region, svc.ServiceId, id
		if mbps != 0 {
			req.Bandwidth = requests.NewInteger(mbps)
		}
		_, err = call(ctx, func() (*privatelink.EnableVpcEndpointConnectionResponse, error) {
			return c.pl.EnableVpcEndpointConnection(req)
		})
		if err == nil {
			continue
		}
		refusal := classify(productPrivateLink, op, err)
		if k := cloud.KindOf(refusal); k != cloud.Conflict && k != cloud.NotFound {
			return refusal
		}
		// The state changed between the read and the call: judge again.
		again, rerr := p.states(ctx, ref.Region, svc.ServiceId, []string{id})
		if rerr != nil {
			return rerr
		}
		st, ok = listed(again, id)
		accept, err = cloud.CheckAccept(productPrivateLink+":"+op, id, st, ok)
		if err != nil {
			return err
		}
		if accept {
			return &cloud.Error{Kind: cloud.Retryable, Op: productPrivateLink + ":" + op, Msg: "refused for its state, yet " + id + " still waits for acceptance; trying again", Err: refusal}
		}
	}
	return nil
}

// listed is the state of a connection as accepting judges it: on
// Alibaba a connection is Deleting only because the customer deleted its
// endpoint, on the way to gone, so it counts as gone (NotFound).
func listed(states map[string]cloud.State, id string) (cloud.State, bool) {
	st, ok := states[id]
	if st == cloud.StateDeleting {
		return "", false
	}
	return st, ok
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// RejectConnections implements cloud.Provider: DisableVpcEndpointConnection
// for each connection not closed already. Alibaba keeps no reason on a
// connection: it is on the ticket.
func (p *Provider) RejectConnections(ctx context.Context, ref cloud.EnvRef, ids []string, _ string) error {
	const op = "DisableVpcEndpointConnection"
	svc, err := p.service(ctx, ref)
	if err != nil {
		return err
	}
	states, err := p.states(ctx, ref.Region, svc.ServiceId, ids)
	if err != nil {
		return err
	}
	c, err := p.in(ref.Region)
	if err != nil {
		return err
	}
	defer c.done()
	for _, id := range ids {
		if st, ok := states[id]; !ok || st.Terminal() {
			continue
		}
		req := privatelink.CreateDisableVpcEndpointConnectionRequest()
		req.RegionId, req.ServiceId, req.EndpointId = ref.Region, svc.ServiceId, id
		_, err := call(ctx, func() (*privatelink.DisableVpcEndpointConnectionResponse, error) {
			return c.pl.DisableVpcEndpointConnection(req)
		})
		if err := classify(productPrivateLink, op, err); err != nil && !cloud.IsNotFound(err) {
			if cloud.KindOf(err) == cloud.Conflict {
				// Closed meanwhile (by the customer or another run)?
				again, rerr := p.states(ctx, ref.Region, svc.ServiceId, []string{id})
				if st, ok := again[id]; rerr == nil && (!ok || st.Terminal()) {
					continue
				}
			}
			return err
		}
	}
	return nil
}

// TargetHealth implements cloud.Provider: the health of the servers behind
// each port's listener (GetListenerHealthStatus). A port without a
// listener is unhealthy, with that as its reason.
func (p *Provider) TargetHealth(ctx context.Context, ref cloud.EnvRef, ports []int) ([]cloud.Target, error) {
	const op = "GetListenerHealthStatus"
	b, err := p.balancer(ctx, ref)
	if err != nil {
		return nil, err
	}
	lb, listeners := b.lb, b.listeners
	c, err := p.in(ref.Region)
	if err != nil {
		return nil, err
	}
	defer c.done()
	var out []cloud.Target
	for _, port := range ports {
		id := listeners[port]
		if id == "" {
			out = append(out, cloud.Target{Port: port, Reason: fmt.Sprintf("no listener for port %d on %s", port, lb)})
			continue
		}
		req := nlb.CreateGetListenerHealthStatusRequest()
		req.RegionId, req.ListenerId = ref.Region, id
		st, err := call(ctx, func() (*nlb.GetListenerHealthStatusResponse, error) { return c.nlb.GetListenerHealthStatus(req) })
		if err != nil {
			return nil, classify(productNLB, op, err)
		}
		out = append(out, health(port, st.ListenerHealthStatus))
	}
	return out, nil
}

func health(port int, items []nlb.ListenerHealthStatusItem) cloud.Target {
	var bad []string
	groups := 0
	for _, it := range items {
		for _, g := range it.ServerGroupInfos {
			groups++
			for _, s := range g.NonNormalServers {
				bad = append(bad, fmt.Sprintf("%s %s (%s)", orDefault(s.ServerIp, s.ServerId), strings.ToLower(s.Status), s.Reason.ReasonCode))
			}
		}
	}
	switch {
	case groups == 0:
		return cloud.Target{Port: port, Reason: "no server group behind the listener"}
	case len(bad) > 0:
		return cloud.Target{Port: port, Reason: "unhealthy servers: " + strings.Join(bad, ", ")}
	}
	return cloud.Target{Port: port, Healthy: true}
}

// Inventory implements cloud.Provider (connections being deleted left out
// with the deleted ones): the service's lookup, its state (as
// ServiceState reads it), one listing of every connection to it, and one
// listing of the platform's endpoints per service asked about. Nothing
// changes.
func (p *Provider) Inventory(ctx context.Context, ref cloud.EnvRef, services []string) (cloud.Inventory, error) {
	svc, err := p.service(ctx, ref)
	if err != nil {
		return cloud.Inventory{}, err
	}
	state, err := p.serviceState(ctx, ref.Region, svc)
	if err != nil {
		return cloud.Inventory{}, err
	}
	all, err := p.connections(ctx, ref.Region, svc.ServiceId, nil)
	if err != nil {
		return cloud.Inventory{}, err
	}
	out := cloud.Inventory{ServiceState: state, Connections: []cloud.Connection{}, Endpoints: []cloud.Endpoint{}}
	for _, c := range all {
		// Deleting is the customer's endpoint on its way to gone: nothing
		// is left to do about it, as about one deleted.
		if c.State != cloud.StateDeleted && c.State != cloud.StateDeleting {
			out.Connections = append(out.Connections, c)
		}
	}
	slices.SortFunc(out.Connections, func(a, b cloud.Connection) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, s := range services {
		eps, err := p.PlatformEndpoints(ctx, ref, s)
		if err != nil {
			return cloud.Inventory{}, err
		}
		out.Endpoints = append(out.Endpoints, eps...)
	}
	cloud.NewestFirst(out.Endpoints)
	return out, nil
}
