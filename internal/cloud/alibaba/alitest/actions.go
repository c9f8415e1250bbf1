package alitest

import "strings"

// action is one API action the model serves.
type action struct {
	version string
	// required are the parameters the API reference marks required (the
	// gateway answers Missing<Name> without them). Parameters required
	// only in combination (ServiceId or ServiceName, UserId or UserARN)
	// are checked by the handlers.
	required []string
	handle   func(*Model, *request) (any, *Error)
}

// actions are the actions served, by name.
var actions = map[string]action{
	// PrivateLink: the service owner's side.
	"ListVpcEndpointServices":              {PrivateLinkVersion, nil, (*Model).listServices},
	"GetVpcEndpointServiceAttribute":       {PrivateLinkVersion, []string{"ServiceId"}, (*Model).getServiceAttribute},
	"ListVpcEndpointServiceUsers":          {PrivateLinkVersion, []string{"ServiceId"}, (*Model).listServiceUsers},
	"AddUserToVpcEndpointService":          {PrivateLinkVersion, []string{"ServiceId"}, (*Model).addUser},
	"RemoveUserFromVpcEndpointService":     {PrivateLinkVersion, []string{"ServiceId"}, (*Model).removeUser},
	"ListVpcEndpointServiceResources":      {PrivateLinkVersion, []string{"ServiceId"}, (*Model).listServiceResources},
	"DetachResourceFromVpcEndpointService": {PrivateLinkVersion, []string{"ServiceId", "ResourceId"}, (*Model).detachResource},
	"DeleteVpcEndpointService":             {PrivateLinkVersion, []string{"ServiceId"}, (*Model).deleteServiceAction},
	"ListVpcEndpointConnections":           {PrivateLinkVersion, []string{"ServiceId"}, (*Model).listConnections},
	"EnableVpcEndpointConnection":          {PrivateLinkVersion, []string{"ServiceId", "EndpointId"}, (*Model).enableConnection},
	"DisableVpcEndpointConnection":         {PrivateLinkVersion, []string{"ServiceId", "EndpointId"}, (*Model).disableConnection},
	"EnableVpcEndpointZoneConnection":      {PrivateLinkVersion, []string{"ServiceId", "EndpointId", "ZoneId"}, (*Model).enableZoneConnection},
	"DisableVpcEndpointZoneConnection":     {PrivateLinkVersion, []string{"ServiceId", "EndpointId", "ZoneId"}, (*Model).disableZoneConnection},
	// PrivateLink: the consumer's side.
	"ListVpcEndpointServicesByEndUser": {PrivateLinkVersion, nil, (*Model).listServicesByEndUser},
	"CreateVpcEndpoint":                {PrivateLinkVersion, []string{"VpcId"}, (*Model).createEndpointAction},
	"GetVpcEndpointAttribute":          {PrivateLinkVersion, []string{"EndpointId"}, (*Model).getEndpoint},
	"ListVpcEndpoints":                 {PrivateLinkVersion, nil, (*Model).listEndpoints},
	"ListVpcEndpointZones":             {PrivateLinkVersion, []string{"EndpointId"}, (*Model).listEndpointZones},
	"DeleteVpcEndpoint":                {PrivateLinkVersion, []string{"EndpointId"}, (*Model).deleteEndpointAction},
	"DescribeZones":                    {PrivateLinkVersion, nil, (*Model).describeZones},
	// NLB: listeners of the load balancer behind a service.
	"ListListeners":           {NLBVersion, nil, (*Model).listListeners},
	"ListServerGroups":        {NLBVersion, nil, (*Model).listServerGroups},
	"CreateListener":          {NLBVersion, []string{"LoadBalancerId", "ListenerProtocol", "ListenerPort", "ServerGroupId"}, (*Model).createListener},
	"DeleteListener":          {NLBVersion, []string{"ListenerId"}, (*Model).deleteListener},
	"GetListenerHealthStatus": {NLBVersion, []string{"ListenerId"}, (*Model).getListenerHealth},
}

// Required returns the parameters the model requires of an action, for
// tests that check a provider sends them all.
func Required(actionName string) []string {
	return append([]string(nil), actions[actionName].required...)
}

// dispatch routes an authenticated request on its Version and Action,
// checks its required parameters and injected faults, and serves it.
func (m *Model) dispatch(r *request) (any, *Error) {
	if r.version != PrivateLinkVersion && r.version != NLBVersion {
		return nil, badRequest("InvalidVersion", "Specified parameter Version is not valid: %s.", r.version)
	}
	a, ok := actions[r.action]
	if !ok {
		return nil, notFound("InvalidAction.NotFound", "Specified api is not found, please check your url and method: %s.", r.action)
	}
	if a.version != r.version {
		return nil, badRequest("InvalidVersion", "Specified parameter Version is not valid: %s is an action of version %s, not %s.", r.action, a.version, r.version)
	}
	if f := m.takeFault(r.action); f != nil {
		return nil, f
	}
	if !strings.EqualFold(r.get("Format"), "JSON") {
		return nil, badRequest("InvalidParameter.Format", "The model answers JSON only, not %s.", r.get("Format"))
	}
	for _, name := range a.required {
		if r.get(name) == "" {
			return nil, missing(name)
		}
	}
	return a.handle(m, r)
}
