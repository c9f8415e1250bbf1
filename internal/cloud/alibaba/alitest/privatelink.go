package alitest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// bandwidthRange is the connection bandwidth (Mbit/s) EnableVpcEndpointConnection
// accepts per resource type behind the service: NLB 100-50000, ALB 100-25000,
// CLB (slb) 100-10240.
var bandwidthRange = map[string][2]int{"nlb": {100, 50000}, "alb": {100, 25000}, "slb": {100, 10240}}

// defaultBandwidth is the bandwidth of a new connection, as PrivateLink's
// reference gives it (3072 Mbit/s).
const defaultBandwidth = 3072

// ownService is a service of the caller's in the request's region; the real
// cloud does not tell another account's service from a missing one.
func (m *Model) ownService(r *request) (*service, *Error) {
	id := r.get("ServiceId")
	s := m.services[id]
	if s == nil || s.region != r.region || s.owner != r.account {
		return nil, serviceNotFound(id)
	}
	return s, nil
}

func (m *Model) serviceView(s *service) privatelink.Service {
	lo, hi := bandwidthRange[s.resourceType][0], bandwidthRange[s.resourceType][1]
	v := privatelink.Service{
		ServiceId: s.id, ServiceName: s.name, ServiceDomain: s.domain(), RegionId: s.region,
		ServiceStatus: "Active", ServiceBusinessStatus: "Normal", ServiceType: "Interface",
		ServiceResourceType: s.resourceType, AutoAcceptEnabled: s.autoAccept, ZoneAffinityEnabled: s.zoneAffinity,
		Zones: slices.Clone(s.zones), CreateTime: isoTime(s.created), Payer: "Endpoint",
		ConnectBandwidth: defaultBandwidth, MinBandwidth: lo, MaxBandwidth: hi, Tags: []privatelink.TagModel{},
	}
	for _, k := range slices.Sorted(maps.Keys(s.tags)) {
		v.Tags = append(v.Tags, privatelink.TagModel{Key: k, Value: s.tags[k]})
	}
	return v
}

// listServices is ListVpcEndpointServices: the caller's own services in
// the region, filtered by ServiceId, ServiceName, ServiceResourceType and
// Tag.N (every tag given must match; a tag without a value matches on its
// key).
func (m *Model) listServices(r *request) (any, *Error) {
	tags := r.structs("Tag", "Key", "Value")
	var all []privatelink.Service
	for _, s := range m.sortedServices() {
		if s.owner != r.account || s.region != r.region ||
			!matches(r.get("ServiceId"), s.id) || !matches(r.get("ServiceName"), s.name) ||
			!matches(r.get("ServiceResourceType"), s.resourceType) || !hasTags(s.tags, tags) {
			continue
		}
		all = append(all, m.serviceView(s))
	}
	items, next, size, e := page(m, r, all)
	if e != nil {
		return nil, e
	}
	return privatelink.ListVpcEndpointServicesResponse{Services: nonNil(items), NextToken: next, MaxResults: size, TotalCount: len(all)}, nil
}

// SupportedRegion is an entry of GetVpcEndpointServiceAttribute's
// SupportedRegionSet, which the real API answers and the typed SDK (v1.63)
// does not parse: a provider reads it through a CommonRequest.
type SupportedRegion struct {
	SupportedRegionId    string
	ServiceRegionId      string
	RegionServiceStatus  string
	RegionBusinessStatus string
}

// ServiceAttribute is GetVpcEndpointServiceAttribute's answer: the SDK's
// response and SupportedRegionSet.
type ServiceAttribute struct {
	privatelink.GetVpcEndpointServiceAttributeResponse
	SupportedRegionSet []SupportedRegion `json:"SupportedRegionSet"`
}

// getServiceAttribute is GetVpcEndpointServiceAttribute, for the owner.
// SupportedRegionSet lists the regions consumers may connect from besides
// the service's own.
func (m *Model) getServiceAttribute(r *request) (any, *Error) {
	s, e := m.ownService(r)
	if e != nil {
		return nil, e
	}
	v := m.serviceView(s)
	out := ServiceAttribute{SupportedRegionSet: []SupportedRegion{}}
	out.GetVpcEndpointServiceAttributeResponse = privatelink.GetVpcEndpointServiceAttributeResponse{
		ServiceId: v.ServiceId, ServiceName: v.ServiceName, ServiceDomain: v.ServiceDomain, RegionId: v.RegionId,
		ServiceStatus: v.ServiceStatus, ServiceBusinessStatus: v.ServiceBusinessStatus, ServiceType: v.ServiceType,
		ServiceResourceType: v.ServiceResourceType, AutoAcceptEnabled: v.AutoAcceptEnabled,
		ZoneAffinityEnabled: v.ZoneAffinityEnabled, Zones: v.Zones, CreateTime: v.CreateTime, Payer: v.Payer,
		ConnectBandwidth: v.ConnectBandwidth, MinBandwidth: v.MinBandwidth, MaxBandwidth: v.MaxBandwidth,
	}
	for _, region := range s.supportedRegions {
		out.SupportedRegionSet = append(out.SupportedRegionSet, SupportedRegion{
			SupportedRegionId: region, ServiceRegionId: s.region, RegionServiceStatus: "Active", RegionBusinessStatus: "Normal",
		})
	}
	return out, nil
}

// listServicesByEndUser is ListVpcEndpointServicesByEndUser: the services
// in the region the caller may connect to (its own, whitelisted ones, and
// those open to "*"), filtered by ServiceId, ServiceName and ServiceType.
// Others are not listed: the real cloud hides them.
func (m *Model) listServicesByEndUser(r *request) (any, *Error) {
	var all []privatelink.Service
	for _, s := range m.sortedServices() {
		if s.region != r.region || !s.allows(r.account) || !matches(r.get("ServiceId"), s.id) ||
			!matches(r.get("ServiceName"), s.name) || !matches(r.get("ServiceType"), "Interface") {
			continue
		}
		all = append(all, m.serviceView(s))
	}
	items, next, size, e := page(m, r, all)
	if e != nil {
		return nil, e
	}
	return privatelink.ListVpcEndpointServicesByEndUserResponse{Services: nonNil(items), NextToken: next, MaxResults: size, TotalCount: strconv.Itoa(len(all))}, nil
}

// listServiceUsers is ListVpcEndpointServiceUsers: the whitelist, UIDs in
// Users, "*" (everyone) in UserARNs.
func (m *Model) listServiceUsers(r *request) (any, *Error) {
	s, e := m.ownService(r)
	if e != nil {
		return nil, e
	}
	filter, _, e := r.integer("UserId")
	if e != nil {
		return nil, e
	}
	users := []privatelink.User{}
	arns := []privatelink.UserARN{}
	for _, u := range s.users {
		if u == "*" {
			arns = append(arns, privatelink.UserARN{UserARN: "*"})
			continue
		}
		id, _ := strconv.ParseInt(u, 10, 64)
		if filter == 0 || filter == id {
			users = append(users, privatelink.User{UserId: id})
		}
	}
	items, next, size, e := page(m, r, users)
	if e != nil {
		return nil, e
	}
	return privatelink.ListVpcEndpointServiceUsersResponse{Users: nonNil(items), UserARNs: arns, NextToken: next, MaxResults: size, TotalCount: strconv.Itoa(len(users))}, nil
}

// whitelistUser reads the user of Add/RemoveUser: UserId (a UID) or UserARN
// ("acs:ram:*:<uid>:*", or "*" for everyone).
func whitelistUser(r *request) (string, *Error) {
	id, hasID, e := r.integer("UserId")
	if e != nil {
		return "", e
	}
	if hasID && id <= 0 {
		return "", illegal("UserId", "%d is not an account ID", id)
	}
	arn := r.get("UserARN")
	if !hasID && arn == "" {
		return "", missingParam("UserArn", "UserId or UserARN")
	}
	user := ""
	if hasID {
		user = strconv.FormatInt(id, 10)
	}
	if arn != "" {
		fromARN := ""
		if arn == "*" {
			fromARN = "*"
		} else if parts := strings.Split(arn, ":"); len(parts) == 5 && parts[0] == "acs" && parts[1] == "ram" && uidPattern.MatchString(parts[3]) {
			fromARN = parts[3]
		} else {
			return "", illegal("UserARN", "%q is not acs:ram:*:<account-id>:* or *", arn)
		}
		if user != "" && user != fromARN {
			return "", badRequest("Mismatch.UserIdAndUserArn", "The UserId and UserARN are mismatched.")
		}
		user = fromARN
	}
	return user, nil
}

// addUser is AddUserToVpcEndpointService; adding a user already there is
// success.
func (m *Model) addUser(r *request) (any, *Error) {
	s, e := m.ownService(r)
	if e != nil {
		return nil, e
	}
	user, e := whitelistUser(r)
	if e != nil {
		return nil, e
	}
	if dry, e := r.dryRun(); e != nil || dry {
		return nil, firstError(e, errDryRun)
	}
	if !slices.Contains(s.users, user) {
		s.users = append(s.users, user)
	}
	return privatelink.AddUserToVpcEndpointServiceResponse{}, nil
}

// removeUser is RemoveUserFromVpcEndpointService; a user not on the
// whitelist is EndpointServiceUserNotFound.
func (m *Model) removeUser(r *request) (any, *Error) {
	s, e := m.ownService(r)
	if e != nil {
		return nil, e
	}
	user, e := whitelistUser(r)
	if e != nil {
		return nil, e
	}
	if !slices.Contains(s.users, user) {
		return nil, badRequest("EndpointServiceUserNotFound", "The user %s is not on the whitelist of %s.", user, s.id)
	}
	if dry, e := r.dryRun(); e != nil || dry {
		return nil, firstError(e, errDryRun)
	}
	s.users = slices.DeleteFunc(s.users, func(u string) bool { return u == user })
	return privatelink.RemoveUserFromVpcEndpointServiceResponse{}, nil
}

// relatedEndpoints counts the live connections with a zone in zone.
func (m *Model) relatedEndpoints(s *service, zone string) int64 {
	n := int64(0)
	for _, ep := range m.endpoints {
		if ep.serviceID == s.id && slices.ContainsFunc(ep.zones, func(z *endpointZone) bool { return z.zone == zone }) {
			n++
		}
	}
	return n
}

// listServiceResources is ListVpcEndpointServiceResources.
func (m *Model) listServiceResources(r *request) (any, *Error) {
	s, e := m.ownService(r)
	if e != nil {
		return nil, e
	}
	var all []privatelink.Resource
	for _, res := range s.resources {
		if !matches(r.get("ZoneId"), res.zone) {
			continue
		}
		all = append(all, privatelink.Resource{
			ResourceId: res.id, ResourceType: res.typ, ZoneId: res.zone, RegionId: s.region, VpcId: res.vpc,
			VSwitchId: res.vswitch, Ip: res.addr, AutoAllocatedEnabled: true, StatusInfo: "Normal",
			RelatedEndpointCount: m.relatedEndpoints(s, res.zone),
		})
	}
	items, next, size, e := page(m, r, all)
	if e != nil {
		return nil, e
	}
	return privatelink.ListVpcEndpointServiceResourcesResponse{Resources: nonNil(items), NextToken: next, MaxResults: size}, nil
}

// zoneInPlay reports whether a zone connection carries or is about to
// carry traffic.
func zoneInPlay(status string) bool {
	return status == connConnected || status == connConnecting || status == connDisconnecting
}

// detachResource is DetachResourceFromVpcEndpointService: ResourceId in
// ZoneId (every zone when none is given). It is refused while a zone
// connection in a zone it serves is in play.
func (m *Model) detachResource(r *request) (any, *Error) {
	s, e := m.ownService(r)
	if e != nil {
		return nil, e
	}
	id, zone, typ := r.get("ResourceId"), r.get("ZoneId"), r.get("ResourceType")
	var gone []*resource
	for _, res := range s.resources {
		if res.id == id && matches(zone, res.zone) {
			gone = append(gone, res)
		}
	}
	if len(gone) == 0 {
		return nil, badRequest("EndpointServiceResourceNotFound", "The specified service resource is not found: %s in %s.", id, orAll(zone))
	}
	if typ != "" && !strings.EqualFold(typ, gone[0].typ) {
		return nil, badRequest("Mismatch.ResourceType", "The ResourceType is mismatched for %s: %s, not %s.", id, gone[0].typ, typ)
	}
	for _, ep := range m.sortedEndpoints() {
		if ep.serviceID != s.id {
			continue
		}
		for _, z := range ep.zones {
			if zoneInPlay(z.status) && slices.ContainsFunc(gone, func(res *resource) bool { return res.zone == z.zone }) {
				return nil, badRequest("EndpointServiceConnectionDependence",
					"You cannot remove the resource of zone %s while the connection of endpoint %s is %s there: disable the zone connection first.", z.zone, ep.id, z.status)
			}
		}
	}
	if dry, e := r.dryRun(); e != nil || dry {
		return nil, firstError(e, errDryRun)
	}
	s.resources = slices.DeleteFunc(s.resources, func(res *resource) bool { return slices.Contains(gone, res) })
	return privatelink.DetachResourceFromVpcEndpointServiceResponse{}, nil
}

func orAll(zone string) string {
	if zone == "" {
		return "any zone"
	}
	return zone
}

// deleteServiceAction is DeleteVpcEndpointService.
func (m *Model) deleteServiceAction(r *request) (any, *Error) {
	s, e := m.ownService(r)
	if e != nil {
		return nil, e
	}
	dry, e := r.dryRun()
	if e != nil {
		return nil, e
	}
	if e := m.deleteService(s, dry); e != nil {
		return nil, e
	}
	return privatelink.DeleteVpcEndpointServiceResponse{}, nil
}

// deleteService deletes a service in the documented order: it is refused
// with EndpointServiceConnectionDependence while a connection is still in
// play (Pending, Connecting, Disconnecting or being deleted, or with a zone
// connection Connected, Connecting or Disconnecting: a Connected connection
// whose zone connections are all disabled does not hold it, nor does a
// Disconnected one), then with EndpointServiceDependenceViolation while
// resources are attached. The endpoints left are ServiceDeleted.
func (m *Model) deleteService(s *service, dry bool) *Error {
	if e := m.connectionDependence(s); e != nil {
		return e
	}
	if len(s.resources) > 0 {
		return badRequest("EndpointServiceDependenceViolation", "The specified EndpointService already contains a resource: %s.", s.resources[0].id)
	}
	if dry {
		return errDryRun
	}
	m.removeService(s)
	return nil
}

// connectionDependence is the EndpointServiceConnectionDependence that
// holds a service back from deletion, if any.
func (m *Model) connectionDependence(s *service) *Error {
	for _, ep := range m.sortedEndpoints() {
		if ep.serviceID != s.id {
			continue
		}
		switch ep.conn {
		case connPending, connConnecting, connDisconnecting, connDeleting:
			return badRequest("EndpointServiceConnectionDependence", "You cannot delete EndpointService with Endpoint connected: %s is %s.", ep.id, ep.conn)
		}
		for _, z := range ep.zones {
			if zoneInPlay(z.status) {
				return badRequest("EndpointServiceConnectionDependence",
					"You cannot delete EndpointService with Endpoint connected: the zone connection of %s in %s is %s.", ep.id, z.zone, z.status)
			}
		}
	}
	return nil
}

// removeService deletes a service; the endpoints left are ServiceDeleted.
func (m *Model) removeService(s *service) {
	delete(m.services, s.id)
	for _, ep := range m.endpoints {
		if ep.serviceID == s.id {
			ep.conn = connServiceDeleted
			ep.modified = m.tick()
		}
	}
}

// connectionOf is the connection of endpoint id to service s.
func (m *Model) connectionOf(s *service, id string) (*endpoint, *Error) {
	ep := m.endpoints[id]
	if ep == nil || ep.serviceID != s.id {
		return nil, connectionNotFound(id, s.id)
	}
	return ep, nil
}

func (m *Model) connectionView(ep *endpoint) privatelink.Connection {
	owner, _ := strconv.ParseInt(ep.owner, 10, 64)
	c := privatelink.Connection{
		ServiceId: ep.serviceID, EndpointId: ep.id, EndpointOwnerId: owner, EndpointVpcId: ep.vpc,
		ConnectionStatus: ep.conn, Bandwidth: ep.bandwidth, ModifiedTime: isoTime(ep.modified),
		ResourceOwner: ep.owner == ep.serviceOwner, Zones: []privatelink.Zone{},
	}
	for _, z := range ep.zones {
		c.Zones = append(c.Zones, privatelink.Zone{
			ZoneId: z.zone, ZoneStatus: z.status, EniId: z.eni, VSwitchId: z.vswitch, ZoneDomain: z.domain,
			ResourceId: m.resourceIn(ep.serviceID, z.zone), RegionId: ep.region, ConnectionId: ep.connectionID,
			ConnectionStringId: strconv.FormatInt(ep.connectionID, 10),
		})
	}
	return c
}

// resourceIn is the ID of the service's resource in a zone (the first, as
// the model does not allocate among several).
func (m *Model) resourceIn(serviceID, zone string) string {
	if s := m.services[serviceID]; s != nil {
		for _, res := range s.resources {
			if res.zone == zone {
				return res.id
			}
		}
	}
	return ""
}

// listConnections is ListVpcEndpointConnections: the connections to one of
// the caller's services, oldest first, filtered by EndpointId,
// EndpointOwnerId (unless IgnoreOwnerFilter) and ConnectionStatus.
func (m *Model) listConnections(r *request) (any, *Error) {
	s, e := m.ownService(r)
	if e != nil {
		return nil, e
	}
	owner, hasOwner, e := r.integer("EndpointOwnerId")
	if e != nil {
		return nil, e
	}
	var shown []*endpoint
	for _, ep := range m.sortedEndpoints() {
		if ep.serviceID != s.id || !matches(r.get("EndpointId"), ep.id) || !matches(r.get("ConnectionStatus"), ep.conn) {
			continue
		}
		if hasOwner && !m.IgnoreOwnerFilter && strconv.FormatInt(owner, 10) != ep.owner {
			continue
		}
		shown = append(shown, ep)
	}
	items, next, size, e := page(m, r, shown)
	if e != nil {
		return nil, e
	}
	out := privatelink.ListVpcEndpointConnectionsResponse{Connections: []privatelink.Connection{}, NextToken: next, MaxResults: size, TotalCount: strconv.Itoa(len(shown))}
	for _, ep := range items {
		out.Connections = append(out.Connections, m.connectionView(ep))
	}
	m.advance(items...)
	return out, nil
}

// enableConnection is EnableVpcEndpointConnection.
func (m *Model) enableConnection(r *request) (any, *Error) {
	s, e := m.ownService(r)
	if e != nil {
		return nil, e
	}
	ep, e := m.connectionOf(s, r.get("EndpointId"))
	if e != nil {
		return nil, e
	}
	bw, set, e := r.integer("Bandwidth")
	if e != nil {
		return nil, e
	}
	if set {
		if rng := bandwidthRange[s.resourceType]; bw < int64(rng[0]) || bw > int64(rng[1]) {
			return nil, illegal("Bandwidth", "%d Mbit/s is outside %d-%d for a %s service", bw, rng[0], rng[1], s.resourceType)
		}
	}
	dry, e := r.dryRun()
	if e != nil {
		return nil, e
	}
	if e := m.enable(ep, int(bw), dry); e != nil {
		return nil, e
	}
	return privatelink.EnableVpcEndpointConnectionResponse{}, nil
}

// enable accepts a connection: Pending or Disconnected -> Connecting (a
// Disconnected connection may be accepted again, as on the real cloud).
func (m *Model) enable(ep *endpoint, bandwidth int, dry bool) *Error {
	switch ep.conn {
	case connPending, connDisconnected:
	case connDeleting:
		return badRequest("EndpointOperationDenied", "The specified operation of endpoint is not allowed: %s is being deleted.", ep.id)
	default:
		return badRequest("EndpointConnectionOperationDenied", "The endpoint is being connected: the connection of %s is %s.", ep.id, ep.conn)
	}
	if dry {
		return errDryRun
	}
	ep.conn = connConnecting
	for _, z := range ep.zones {
		z.status = connConnecting
	}
	if bandwidth > 0 {
		ep.bandwidth = bandwidth
	}
	ep.modified = m.tick()
	return nil
}

// disableConnection is DisableVpcEndpointConnection.
func (m *Model) disableConnection(r *request) (any, *Error) {
	s, e := m.ownService(r)
	if e != nil {
		return nil, e
	}
	ep, e := m.connectionOf(s, r.get("EndpointId"))
	if e != nil {
		return nil, e
	}
	dry, e := r.dryRun()
	if e != nil {
		return nil, e
	}
	if e := m.disable(ep, dry); e != nil {
		return nil, e
	}
	return privatelink.DisableVpcEndpointConnectionResponse{}, nil
}

// disable rejects or disconnects a connection: Pending, Connecting or
// Connected -> Disconnecting.
func (m *Model) disable(ep *endpoint, dry bool) *Error {
	switch ep.conn {
	case connPending, connConnecting, connConnected:
	case connDeleting:
		return badRequest("EndpointOperationDenied", "The specified operation of endpoint is not allowed: %s is being deleted.", ep.id)
	default:
		return badRequest("EndpointConnectionOperationDenied", "The connection of %s is %s already.", ep.id, ep.conn)
	}
	if dry {
		return errDryRun
	}
	ep.conn = connDisconnecting
	for _, z := range ep.zones {
		z.status = connDisconnecting
	}
	ep.modified = m.tick()
	return nil
}

// zoneConnection finds the zone of an Enable/DisableVpcEndpointZoneConnection.
func (m *Model) zoneConnection(r *request) (*endpoint, *endpointZone, *Error) {
	s, e := m.ownService(r)
	if e != nil {
		return nil, nil, e
	}
	ep, e := m.connectionOf(s, r.get("EndpointId"))
	if e != nil {
		return nil, nil, e
	}
	for _, z := range ep.zones {
		if z.zone == r.get("ZoneId") {
			if ep.conn != connConnected {
				return nil, nil, badRequest("IncorrectStatus.VpcEndpointConnection", "The status of VpcEndpointConnection [%s] is incorrect: %s, not Connected.", ep.id, ep.conn)
			}
			return ep, z, nil
		}
	}
	return nil, nil, notFound("ResourceNotFound.VpcEndpointZone", "The specified resource %s is not found: %s has no zone connection there.", r.get("ZoneId"), ep.id)
}

// enableZoneConnection is EnableVpcEndpointZoneConnection: a Disconnected
// zone of a Connected connection -> Connected.
func (m *Model) enableZoneConnection(r *request) (any, *Error) {
	ep, z, e := m.zoneConnection(r)
	if e != nil {
		return nil, e
	}
	if z.status != connDisconnected {
		return nil, badRequest("IncorrectStatus.VpcEndpointZone", "The status of VpcEndpointZone [%s] is incorrect: %s, not Disconnected.", z.zone, z.status)
	}
	if dry, e := r.dryRun(); e != nil || dry {
		return nil, firstError(e, errDryRun)
	}
	z.status = connConnected
	ep.modified = m.tick()
	return privatelink.EnableVpcEndpointZoneConnectionResponse{}, nil
}

// disableZoneConnection is DisableVpcEndpointZoneConnection: a Connected
// zone of a Connected connection -> Disconnected.
func (m *Model) disableZoneConnection(r *request) (any, *Error) {
	ep, z, e := m.zoneConnection(r)
	if e != nil {
		return nil, e
	}
	if z.status != connConnected {
		return nil, badRequest("IncorrectStatus.VpcEndpointZone", "The status of VpcEndpointZone [%s] is incorrect: %s, not Connected.", z.zone, z.status)
	}
	if dry, e := r.dryRun(); e != nil || dry {
		return nil, firstError(e, errDryRun)
	}
	z.status = connDisconnected
	ep.modified = m.tick()
	return privatelink.DisableVpcEndpointZoneConnectionResponse{}, nil
}

// endpointInput is what CreateVpcEndpoint asks for.
type endpointInput struct {
	account, region                       string
	serviceID, serviceName, serviceRegion string
	vpc, name, desc, token                string
	securityGroups                        []string
	zones                                 []map[string]string // ZoneId, VSwitchId, ip
	zoneAffinity                          *bool
	crossRegionBW                         int
	dry                                   bool
}

// createEndpointAction is CreateVpcEndpoint, with the parameters the typed
// SDK lacks (ServiceRegionId, CrossRegionBandwidth, ZoneAffinityEnabled)
// read as a CommonRequest sends them.
func (m *Model) createEndpointAction(r *request) (any, *Error) {
	in := endpointInput{
		account: r.account, region: r.region, serviceID: r.get("ServiceId"), serviceName: r.get("ServiceName"),
		serviceRegion: r.get("ServiceRegionId"), vpc: r.get("VpcId"), name: r.get("EndpointName"),
		desc: r.get("EndpointDescription"), token: r.get("ClientToken"), securityGroups: r.list("SecurityGroupId"),
		zones: r.structs("Zone", "ZoneId", "VSwitchId", "ip"),
	}
	affinity, set, e := r.boolean("ZoneAffinityEnabled")
	if e != nil {
		return nil, e
	}
	if set {
		in.zoneAffinity = &affinity
	}
	bw, _, e := r.integer("CrossRegionBandwidth")
	if e != nil {
		return nil, e
	}
	in.crossRegionBW = int(bw)
	if in.dry, e = r.dryRun(); e != nil {
		return nil, e
	}
	ep, e := m.createEndpoint(in)
	if e != nil {
		return nil, e
	}
	return privatelink.CreateVpcEndpointResponse{
		EndpointId: ep.id, EndpointName: ep.name, EndpointDescription: ep.desc, EndpointDomain: ep.domain(),
		EndpointStatus: ep.status, EndpointBusinessStatus: "Normal", ConnectionStatus: ep.conn,
		ServiceId: ep.serviceID, ServiceName: ep.serviceName, VpcId: ep.vpc, Bandwidth: int64(ep.bandwidth),
		CreateTime: isoTime(ep.created),
	}, nil
}

func tokenKey(account, region, token string) string {
	return account + "\x00" + region + "\x00" + token
}

// createEndpoint creates an endpoint (Creating, its connection Pending, or
// Connecting when the service accepts automatically). The same ClientToken
// from the same account answers the endpoint it created first, even once
// deleted, as the real cloud answers a repeated request with the earlier
// result.
func (m *Model) createEndpoint(in endpointInput) (*endpoint, *Error) {
	if in.token != "" {
		if id, ok := m.tokens[tokenKey(in.account, in.region, in.token)]; ok {
			ep := m.endpoints[id]
			if ep == nil {
				ep = m.tombstones[id]
			}
			if (in.serviceID != "" && in.serviceID != ep.serviceID) || (in.serviceName != "" && in.serviceName != ep.serviceName) {
				return nil, badRequest("IdempotentParameterMismatch", "The ClientToken %s was used for a request to %s.", in.token, ep.serviceName)
			}
			return ep, nil
		}
	}
	if in.serviceID == "" && in.serviceName == "" {
		return nil, missingParam("ServiceId", "ServiceId or ServiceName")
	}
	svcRegion := in.serviceRegion
	if svcRegion == "" {
		svcRegion = in.region
	}
	var s *service
	for _, c := range m.services {
		if c.region == svcRegion && matches(in.serviceID, c.id) && matches(in.serviceName, c.name) {
			s = c
		}
	}
	if s == nil {
		return nil, serviceNotFound(firstOf(in.serviceID, in.serviceName))
	}
	if !s.allows(in.account) {
		return nil, badRequest("EndpointServiceNotAuthorized", "The specified endpoint service is not authorized to user %s: %s.", in.account, s.id)
	}
	if svcRegion != in.region && !slices.Contains(s.supportedRegions, in.region) {
		return nil, illegal("ServiceRegionId", "service %s in %s does not accept endpoints from %s (supported regions: %s)",
			s.id, svcRegion, in.region, strings.Join(s.supportedRegions, ", "))
	}
	if len(in.securityGroups) == 0 {
		return nil, badRequest("EndpointMustContainSecurityGroup", "The specified endpoint must have at least one security group.")
	}
	if len(in.zones) == 0 {
		return nil, missingParam("Zone", "Zone.N.ZoneId and Zone.N.VSwitchId")
	}
	seen := map[string]bool{}
	for i, z := range in.zones {
		zone := z["ZoneId"]
		switch {
		case zone == "":
			return nil, missing(fmt.Sprintf("Zone.%d.ZoneId", i+1))
		case z["VSwitchId"] == "":
			return nil, missingParam("VSwitchId", fmt.Sprintf("Zone.%d.VSwitchId", i+1))
		case seen[zone]:
			return nil, badRequest("EndpointZoneDuplicated", "The zone is duplicated for the Endpoint: %s.", zone)
		case svcRegion == in.region && !slices.Contains(s.zones, zone):
			return nil, badRequest("EndpointServiceNotSupportedZone", "The specified endpoint service does not support the zone %s (it is offered in %s).", zone, strings.Join(s.zones, ", "))
		case svcRegion != in.region && !m.inRegion(zone, in.region):
			return nil, illegal("ZoneId", "%s is not a zone of %s", zone, in.region)
		}
		seen[zone] = true
	}
	if in.dry {
		return nil, errDryRun
	}
	ep := &endpoint{
		id: m.newID("ep"), name: in.name, desc: in.desc, owner: in.account, region: in.region, vpc: in.vpc,
		serviceID: s.id, serviceName: s.name, serviceRegion: s.region, serviceOwner: s.owner,
		securityGroups: in.securityGroups, status: statusCreating,
		conn: connPending, bandwidth: defaultBandwidth, crossRegionBW: in.crossRegionBW,
		zoneAffinity: s.zoneAffinity, token: in.token,
	}
	if in.zoneAffinity != nil {
		ep.zoneAffinity = *in.zoneAffinity
	}
	ep.created = m.tick()
	ep.seq, ep.modified, ep.connectionID = m.seq, ep.created, int64(m.seq)
	for i, z := range in.zones {
		ip := z["ip"]
		if ip == "" {
			ip = fmt.Sprintf("10.%d.%d.%d", 20+i, ep.seq/250%250, ep.seq%250+4)
		}
		ep.zones = append(ep.zones, &endpointZone{
			zone: z["ZoneId"], vswitch: z["VSwitchId"], eni: m.newID("eni"), ip: ip, status: zoneWait,
			domain: ep.id + "-" + in.region + "." + s.id + "." + z["ZoneId"] + ".privatelink.aliyuncs.com",
		})
	}
	if s.autoAccept {
		ep.conn = connConnecting
		for _, z := range ep.zones {
			z.status = connConnecting
		}
	}
	m.endpoints[ep.id] = ep
	if in.token != "" {
		m.tokens[tokenKey(in.account, in.region, in.token)] = ep.id
	}
	return ep, nil
}

func (ep *endpoint) domain() string {
	return ep.id + "." + ep.serviceID + "." + ep.region + ".privatelink.aliyuncs.com"
}

// advance moves the transient states of endpoints just read one step on:
// Creating -> Active, Connecting -> Connected, Disconnecting ->
// Disconnected, Deleting -> gone.
func (m *Model) advance(eps ...*endpoint) {
	for _, ep := range eps {
		if ep.status == statusDeleting {
			delete(m.endpoints, ep.id)
			m.tombstones[ep.id] = ep
			continue
		}
		if ep.status == statusCreating {
			ep.status = statusActive
		}
		switch ep.conn {
		case connConnecting:
			ep.conn = connConnected
		case connDisconnecting:
			ep.conn = connDisconnected
		default:
			continue
		}
		for _, z := range ep.zones {
			switch z.status {
			case connConnecting:
				z.status = connConnected
			case connDisconnecting:
				z.status = connDisconnected
			}
		}
		ep.modified = m.tick()
	}
}

// ownEndpoint is one of the caller's endpoints in the request's region.
func (m *Model) ownEndpoint(r *request) (*endpoint, *Error) {
	id := r.get("EndpointId")
	ep := m.endpoints[id]
	if ep == nil || ep.owner != r.account || ep.region != r.region {
		return nil, endpointNotFound(id)
	}
	return ep, nil
}

func (m *Model) endpointView(ep *endpoint) privatelink.Endpoint {
	return privatelink.Endpoint{
		EndpointId: ep.id, EndpointName: ep.name, EndpointDescription: ep.desc, EndpointType: "Interface",
		EndpointDomain: ep.domain(), EndpointStatus: ep.status, EndpointBusinessStatus: "Normal",
		ConnectionStatus: ep.conn, ServiceId: ep.serviceID, ServiceName: ep.serviceName, VpcId: ep.vpc,
		RegionId: ep.region, Bandwidth: int64(ep.bandwidth), CreateTime: isoTime(ep.created),
		ZoneAffinityEnabled: ep.zoneAffinity, ResourceOwner: ep.owner == ep.serviceOwner, Tags: []privatelink.TagModel{},
	}
}

// getEndpoint is GetVpcEndpointAttribute.
func (m *Model) getEndpoint(r *request) (any, *Error) {
	ep, e := m.ownEndpoint(r)
	if e != nil {
		return nil, e
	}
	v := m.endpointView(ep)
	m.advance(ep)
	return privatelink.GetVpcEndpointAttributeResponse{
		EndpointId: v.EndpointId, EndpointName: v.EndpointName, EndpointDescription: v.EndpointDescription,
		EndpointType: v.EndpointType, EndpointDomain: v.EndpointDomain, EndpointStatus: v.EndpointStatus,
		EndpointBusinessStatus: v.EndpointBusinessStatus, ConnectionStatus: v.ConnectionStatus,
		ServiceId: v.ServiceId, ServiceName: v.ServiceName, VpcId: v.VpcId, RegionId: v.RegionId,
		Bandwidth: int(v.Bandwidth), CreateTime: v.CreateTime, ZoneAffinityEnabled: v.ZoneAffinityEnabled,
		ResourceOwner: v.ResourceOwner, Payer: "Endpoint", ZonePrivateIpAddressCount: 1,
	}, nil
}

// listEndpoints is ListVpcEndpoints: the caller's endpoints in the region,
// oldest first, filtered by EndpointId, EndpointName, ServiceName, VpcId,
// EndpointStatus and ConnectionStatus.
func (m *Model) listEndpoints(r *request) (any, *Error) {
	var shown []*endpoint
	for _, ep := range m.sortedEndpoints() {
		if ep.owner != r.account || ep.region != r.region || !matches(r.get("EndpointId"), ep.id) ||
			!matches(r.get("EndpointName"), ep.name) || !matches(r.get("ServiceName"), ep.serviceName) ||
			!matches(r.get("VpcId"), ep.vpc) || !matches(r.get("EndpointStatus"), ep.status) ||
			!matches(r.get("ConnectionStatus"), ep.conn) {
			continue
		}
		shown = append(shown, ep)
	}
	items, next, size, e := page(m, r, shown)
	if e != nil {
		return nil, e
	}
	out := privatelink.ListVpcEndpointsResponse{Endpoints: []privatelink.Endpoint{}, NextToken: next, MaxResults: size, TotalCount: len(shown)}
	for _, ep := range items {
		out.Endpoints = append(out.Endpoints, m.endpointView(ep))
	}
	m.advance(items...)
	return out, nil
}

// listEndpointZones is ListVpcEndpointZones.
func (m *Model) listEndpointZones(r *request) (any, *Error) {
	ep, e := m.ownEndpoint(r)
	if e != nil {
		return nil, e
	}
	var all []privatelink.Zone
	for _, z := range ep.zones {
		all = append(all, privatelink.Zone{
			ZoneId: z.zone, VSwitchId: z.vswitch, EniId: z.eni, EniIp: z.ip, ZoneDomain: z.domain,
			ZoneStatus: z.status, RegionId: ep.region, ServiceStatus: "Active",
		})
	}
	items, next, size, e := page(m, r, all)
	if e != nil {
		return nil, e
	}
	m.advance(ep)
	return privatelink.ListVpcEndpointZonesResponse{Zones: nonNil(items), NextToken: next, MaxResults: size}, nil
}

// deleteEndpointAction is DeleteVpcEndpoint.
func (m *Model) deleteEndpointAction(r *request) (any, *Error) {
	ep, e := m.ownEndpoint(r)
	if e != nil {
		return nil, e
	}
	dry, e := r.dryRun()
	if e != nil {
		return nil, e
	}
	if e := m.deleteEndpoint(ep, dry); e != nil {
		return nil, e
	}
	return privatelink.DeleteVpcEndpointResponse{}, nil
}

// deleteEndpoint starts deleting an endpoint: Deleting, its connection and
// zones too; it is gone on the next read. One being deleted already is
// EndpointOperationDenied.
func (m *Model) deleteEndpoint(ep *endpoint, dry bool) *Error {
	if ep.status == statusDeleting {
		return badRequest("EndpointOperationDenied", "The specified operation of endpoint is not allowed: %s is being deleted.", ep.id)
	}
	if dry {
		return errDryRun
	}
	ep.status, ep.conn = statusDeleting, connDeleting
	for _, z := range ep.zones {
		z.status = statusDeleting
	}
	ep.modified = m.tick()
	return nil
}

// describeZones is DescribeZones.
func (m *Model) describeZones(r *request) (any, *Error) {
	out := privatelink.DescribeZonesResponse{Zones: privatelink.ZonesInDescribeZones{Zone: []privatelink.Zone{}}}
	for _, z := range m.zonesOf(r.region) {
		out.Zones.Zone = append(out.Zones.Zone, privatelink.Zone{ZoneId: z, LocalName: localName(r.region, z)})
	}
	return out, nil
}

func localName(region, zone string) string {
	suffix := strings.TrimPrefix(strings.TrimPrefix(zone, region), "-")
	return fmt.Sprintf("%s Zone %s", region, strings.ToUpper(suffix))
}

// matches is an optional filter: no filter, or equal.
func matches(filter, value string) bool { return filter == "" || filter == value }

func hasTags(tags map[string]string, want []map[string]string) bool {
	for _, t := range want {
		v, ok := tags[t["Key"]]
		if !ok || (t["Value"] != "" && v != t["Value"]) {
			return false
		}
	}
	return true
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// firstError is e when the dry-run flag could not be read, else dry.
func firstError(e, dry *Error) *Error {
	if e != nil {
		return e
	}
	return dry
}

// nonNil answers [] rather than null for an empty list, as the real API.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
