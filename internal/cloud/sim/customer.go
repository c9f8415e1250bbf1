package sim

import (
	"slices"
	"sort"
	"strings"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Customer is the customer's side of the simulated cloud: what a customer
// does in their own account during an enablement.
type Customer struct {
	c       *Cloud
	Cloud   string // "aws", "azure" or "alibaba"
	Account string // AWS account ID, Azure subscription ID or Alibaba Cloud UID
	// Region is where the customer's endpoints go; empty is the region of
	// the service they connect to. Only Alibaba Cloud services take
	// consumers from other regions (those they list): see InRegion.
	Region string
}

// Customer acts as the given customer account.
func (c *Cloud) Customer(cloudName, account string) Customer {
	return Customer{c: c, Cloud: cloudName, Account: normalizeAccount(cloudName, account)}
}

// InRegion acts as the same customer from region: the endpoints it
// creates are in that region, which the service connected to must take
// consumers from (Alibaba Cloud cross-region access). Empty is the
// service's own region.
func (cu Customer) InRegion(region string) Customer {
	cu.Region = key(region)
	return cu
}

func normalizeAccount(cloudName, a string) string {
	if cloudName == "azure" {
		return key(a)
	}
	return a
}

// CreateEndpoint asks to connect to a (platform) service. It fails unless
// the service has allowed this account, and, when the customer acts from
// another region than the service's (InRegion), unless the service takes
// consumers from there. A service that accepts connections without a
// decision (Alibaba AutoAcceptEnabled: the environment's AutoAccept) has
// the connection accepted at once: it settles to available as any other.
func (cu Customer) CreateEndpoint(serviceName string) (cloud.Endpoint, error) {
	var out cloud.Endpoint
	err := cu.c.update(func(t *tx) error {
		svc, err := t.service(serviceName)
		if err != nil {
			return err
		}
		if svc == nil || svc.Cloud != cu.Cloud {
			return cloud.Errorf(cloud.NotFound, "CreateEndpoint", "no %s service %s", cu.Cloud, serviceName)
		}
		if !slices.Contains(svc.Allowed, customerPrincipal(cu.Cloud, cu.Account)) {
			return cloud.Errorf(cloud.AccessDenied, "CreateEndpoint", "account %s is not allowed on service %s", cu.Account, serviceName)
		}
		env, err := t.envOfService(svc.Name)
		if err != nil {
			return err
		}
		home, regions := "", svc.Regions
		if env != nil {
			home, regions = env.Region, env.Regions
		} else if r, _, ok := alibabaService(svc.Name); ok {
			home = r
		}
		region := home
		if cu.Region != "" {
			if err := reachableFrom("CreateEndpoint", cu.Cloud, svc.Name, home, regions, cu.Region); err != nil {
				return err
			}
			region = cu.Region
		}
		ep, err := t.newEndpoint(cu.Cloud, region, cu.Account, svc, cu.c.Now(), func(ep *endpoint) {
			if env != nil && env.AutoAccept {
				ep.State, ep.Accepted = cloud.StateProvisioning, ep.Created
			}
		})
		if err != nil {
			return err
		}
		out = ep.public()
		return nil
	})
	return out, err
}

// DeleteEndpoint deletes one of the customer's endpoints. It is listed,
// as deleted, for the cloud's KeepDeleted (deleting it again meanwhile
// is success); then it is removed, and not found.
func (cu Customer) DeleteEndpoint(id string) error {
	return cu.c.update(func(t *tx) error {
		ep, err := t.endpoint(id)
		if err != nil {
			return err
		}
		if ep == nil || ep.Owner != cu.Account || ep.Platform {
			return cloud.Errorf(cloud.NotFound, "DeleteEndpoint", "account %s has no endpoint %s", cu.Account, id)
		}
		return t.markDeleted(ep)
	})
}

// Grant creates the customer's own endpoint service if it does not exist
// (answering on ports) and allows a principal, such as the platform's, on it.
// An Alibaba Cloud service is named com.aliyuncs.privatelink.<region>.epsrv-<id>,
// is an NLB's and is offered in its region's first three zones.
func (cu Customer) Grant(serviceName, principal string, ports []int) error {
	if cu.Cloud == cloudAlibaba {
		if err := alibabaServiceNameCheck("Grant", serviceName); err != nil {
			return err
		}
	}
	return cu.c.update(func(t *tx) error {
		svc, err := t.service(serviceName)
		if err != nil {
			return err
		}
		if svc == nil {
			svc = &service{Name: serviceName, ID: serviceName, Cloud: cu.Cloud, Owner: cu.Account}
			if _, id, ok := alibabaService(serviceName); ok && cu.Cloud == cloudAlibaba {
				svc.ID, svc.ResourceType = id, defaultResourceType
			}
		}
		if svc.Owner != cu.Account {
			return cloud.Errorf(cloud.AccessDenied, "Grant", "service %s belongs to %s, not %s", serviceName, svc.Owner, cu.Account)
		}
		if !slices.Contains(svc.Allowed, principal) {
			svc.Allowed = append(svc.Allowed, principal)
		}
		for _, p := range ports {
			if !slices.Contains(svc.Ports, p) {
				svc.Ports = append(svc.Ports, p)
			}
		}
		sort.Ints(svc.Ports)
		return t.putService(svc)
	})
}

// SetServiceZones sets the availability zones the customer's endpoint
// service is offered in (the zones of its load balancer's subnets), named
// as the customer's own account names them, us-east-1a: a customer picks
// subnets by those names. The platform sees zone IDs (see ZoneNames). A
// service Grant creates is offered in every zone of its region; only its
// owner changes that. On Alibaba Cloud zones are named by their IDs
// (cn-hangzhou-h), the same in every account.
func (cu Customer) SetServiceZones(serviceName string, zoneNames []string) error {
	if cu.Cloud == cloudAlibaba {
		return cu.setAlibabaZones(serviceName, zoneNames)
	}
	if cu.Cloud != "aws" {
		return cloud.Errorf(cloud.Invalid, "SetServiceZones", "%s services are regional: they have no availability zones to set", cu.Cloud)
	}
	if len(zoneNames) == 0 {
		return cloud.Errorf(cloud.Invalid, "SetServiceZones", "name at least one availability zone for service %s: its load balancer needs a subnet in one", serviceName)
	}
	return cu.c.update(func(t *tx) error {
		svc, err := t.service(serviceName)
		if err != nil {
			return err
		}
		if svc == nil || svc.Cloud != cu.Cloud {
			return cloud.Errorf(cloud.NotFound, "SetServiceZones", "account %s has no service %s: Grant creates it", cu.Account, serviceName)
		}
		if svc.Owner != cu.Account {
			return cloud.Errorf(cloud.AccessDenied, "SetServiceZones", "service %s belongs to %s, not %s: only its owner sets its zones", serviceName, svc.Owner, cu.Account)
		}
		region := serviceRegion(svc.Name)
		if region == "" { // a name without a region: the zone names say it
			region = strings.TrimRight(key(zoneNames[0]), "abcdefghijklmnopqrstuvwxyz")
		}
		names := accountZones(cu.Account, region)
		if names == nil {
			return cloud.Errorf(cloud.Invalid, "SetServiceZones", "%q is not the name of an availability zone of an AWS region: name zones as the account does, such as us-east-1a", zoneNames[0])
		}
		var ids []string
		for _, n := range zoneNames {
			id, ok := names[key(n)]
			if !ok {
				return cloud.Errorf(cloud.Invalid, "SetServiceZones", "account %s has no availability zone %q in %s, where service %s is: name its zones as the account does (%s)", cu.Account, n, region, serviceName, zoneNameList(names))
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		svc.Zones = ids
		return t.putService(svc)
	})
}

// DeleteService deletes the customer's own endpoint service. As AWS asks
// of its owner, every endpoint into it that is still open is rejected
// first (on Azure it is disconnected, as when a Private Link service
// goes; on Alibaba Cloud its owner disconnects every connection first):
// the platform's endpoints into it stay, closed, and the platform can no
// longer see the service.
func (cu Customer) DeleteService(serviceName string) error {
	return cu.c.update(func(t *tx) error {
		svc, err := cu.ownService(t, serviceName)
		if err != nil {
			return err
		}
		if svc.Platform {
			return cloud.Errorf(cloud.AccessDenied, "DeleteService", "service %s is a platform environment's: a customer deletes only their own", serviceName)
		}
		closed := cloud.StateRejected
		if cu.Cloud == "azure" || cu.Cloud == cloudAlibaba {
			closed = cloud.StateDisconnected
		}
		eps, err := t.endpointsOf(svc.Name)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			if !ep.State.Terminal() {
				ep.State = closed
				if err := t.putEndpoint(ep); err != nil {
					return err
				}
			}
		}
		return t.deleteService(svc.Name)
	})
}

// Revoke removes a principal from the customer's service.
func (cu Customer) Revoke(serviceName, principal string) error {
	return cu.c.update(func(t *tx) error {
		svc, err := cu.ownService(t, serviceName)
		if err != nil {
			return err
		}
		svc.Allowed = slices.DeleteFunc(svc.Allowed, func(a string) bool { return a == principal })
		return t.putService(svc)
	})
}

func (cu Customer) ownService(t *tx, name string) (*service, error) {
	svc, err := t.service(name)
	if err != nil {
		return nil, err
	}
	if svc == nil || svc.Owner != cu.Account {
		return nil, cloud.Errorf(cloud.NotFound, "Service", "account %s has no service %s", cu.Account, name)
	}
	return svc, nil
}

// PendingOnService lists endpoints waiting for the customer's acceptance
// on one of their services.
func (cu Customer) PendingOnService(serviceName string) ([]cloud.Endpoint, error) {
	var out []cloud.Endpoint
	err := cu.c.view(func(t *tx) error {
		if _, err := cu.ownService(t, serviceName); err != nil {
			return err
		}
		eps, err := t.endpointsOf(serviceName)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			if ep.State == cloud.StatePendingAcceptance {
				out = append(out, ep.public())
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// decideOnOwnService accepts or rejects an endpoint into the customer's service.
func (cu Customer) decideOnOwnService(id string, accept bool) error {
	return cu.c.update(func(t *tx) error {
		ep, err := t.endpoint(id)
		if err != nil {
			return err
		}
		if ep == nil {
			return cloud.Errorf(cloud.NotFound, "Endpoint", "no endpoint %s", id)
		}
		if _, err := cu.ownService(t, ep.Service); err != nil {
			return cloud.Errorf(cloud.AccessDenied, "Endpoint", "endpoint %s connects to %s, which account %s does not own", id, ep.Service, cu.Account)
		}
		switch {
		case accept && ep.State == cloud.StatePendingAcceptance:
			ep.State, ep.Accepted = cloud.StateProvisioning, cu.c.Now()
		case accept && (ep.State == cloud.StateProvisioning || ep.State == cloud.StateAvailable):
			return nil
		case accept:
			return cloud.Errorf(cloud.Conflict, "AcceptEndpoint", "endpoint %s is %s", id, ep.State)
		case !ep.State.Terminal():
			ep.State = cloud.StateRejected
		default:
			return nil
		}
		return t.putEndpoint(ep)
	})
}

// AcceptEndpoint accepts the platform's endpoint into the customer's service.
func (cu Customer) AcceptEndpoint(id string) error { return cu.decideOnOwnService(id, true) }

// RejectEndpoint rejects an endpoint into the customer's service.
func (cu Customer) RejectEndpoint(id string) error { return cu.decideOnOwnService(id, false) }

// BreakPort makes an endpoint into the customer's service refuse one port,
// as a stopped backend or a closed security group would; RepairPort undoes it.
func (cu Customer) BreakPort(id string, port int) error { return cu.setBroken(id, port, true) }

// RepairPort undoes BreakPort.
func (cu Customer) RepairPort(id string, port int) error { return cu.setBroken(id, port, false) }

func (cu Customer) setBroken(id string, port int, broken bool) error {
	return cu.c.update(func(t *tx) error {
		ep, err := t.endpoint(id)
		if err != nil {
			return err
		}
		if ep == nil {
			return cloud.Errorf(cloud.NotFound, "Endpoint", "no endpoint %s", id)
		}
		if _, err := cu.ownService(t, ep.Service); err != nil {
			return err
		}
		ep.Broken = slices.DeleteFunc(ep.Broken, func(p int) bool { return p == port })
		if broken {
			ep.Broken = append(ep.Broken, port)
		}
		return t.putEndpoint(ep)
	})
}

// CustomerEndpoint is an endpoint as the customer sees it.
type CustomerEndpoint struct {
	cloud.Endpoint
	// Platform is true for the platform's endpoints into the customer's
	// services, false for the customer's own endpoints.
	Platform bool
	// Region is the region the endpoint is in (another than its service's
	// when it connects across regions).
	Region string
	// Bandwidth is the Mbps an Alibaba Cloud connection was accepted with;
	// 0 is the service's default.
	Bandwidth int
}

// Endpoints lists every endpoint the customer owns or that connects to one
// of their services.
func (cu Customer) Endpoints() ([]CustomerEndpoint, error) {
	var out []CustomerEndpoint
	err := cu.c.view(func(t *tx) error {
		// The customer's own endpoints, and the platform's into the
		// customer's services.
		eps, err := t.endpoints(`SELECT data FROM endpoints WHERE owner = ? AND platform = 0
			UNION ALL
			SELECT e.data FROM services s JOIN endpoints e ON e.service_key = s.key WHERE s.owner = ? AND e.platform = 1`,
			cu.Account, cu.Account)
		if err != nil {
			return err
		}
		for _, ep := range eps {
			out = append(out, CustomerEndpoint{Endpoint: ep.public(), Platform: ep.Platform, Region: ep.Region, Bandwidth: ep.Bandwidth})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// setAlibabaZones is SetServiceZones on Alibaba Cloud: zone IDs of the
// service's region, in any case.
func (cu Customer) setAlibabaZones(serviceName string, zones []string) error {
	const op = "SetServiceZones"
	if len(zones) == 0 {
		return cloud.Errorf(cloud.Invalid, op, "name at least one zone for service %s: its load balancer needs a vSwitch in one", serviceName)
	}
	return cu.c.update(func(t *tx) error {
		svc, err := cu.ownAlibabaService(t, op, serviceName)
		if err != nil {
			return err
		}
		region, _, _ := alibabaService(svc.Name)
		valid := alibabaZoneIDs[region]
		var ids []string
		for _, z := range zones {
			id := key(z)
			if !slices.Contains(valid, id) {
				return cloud.Errorf(cloud.Invalid, op, "%q is not a zone of %s, where service %s is: name zone IDs, the same in every account (%s)", z, region, serviceName, orNone(strings.Join(AlibabaZones(region), ", ")))
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		svc.Zones = ids
		return t.putService(svc)
	})
}

// SetSupportedRegions sets the other regions the customer's Alibaba Cloud
// service takes consumers from (cross-region access): the platform, in
// another region than the service's, may create its endpoint into the
// service only when its region is listed. None takes consumers from the
// service's own region only, as Grant creates it; only its owner changes
// that.
func (cu Customer) SetSupportedRegions(serviceName string, regions []string) error {
	const op = "SetSupportedRegions"
	if cu.Cloud != cloudAlibaba {
		return cloud.Errorf(cloud.Invalid, op, "%s services in the simulated cloud take consumers from their own region only: supported regions are Alibaba Cloud's", cu.Cloud)
	}
	list, err := checkRegions(op, regions)
	if err != nil {
		return err
	}
	return cu.c.update(func(t *tx) error {
		svc, err := cu.ownAlibabaService(t, op, serviceName)
		if err != nil {
			return err
		}
		region, _, _ := alibabaService(svc.Name)
		svc.Regions = slices.DeleteFunc(list, func(r string) bool { return r == region })
		return t.putService(svc)
	})
}

// ownAlibabaService finds the customer's own Alibaba service for a change
// only its owner makes.
func (cu Customer) ownAlibabaService(t *tx, op, name string) (*service, error) {
	svc, err := t.service(name)
	if err != nil {
		return nil, err
	}
	if svc == nil || svc.Cloud != cu.Cloud {
		return nil, cloud.Errorf(cloud.NotFound, op, "account %s has no service %s: Grant creates it", cu.Account, name)
	}
	if svc.Owner != cu.Account {
		return nil, cloud.Errorf(cloud.AccessDenied, op, "service %s belongs to %s, not %s: only its owner changes it", name, svc.Owner, cu.Account)
	}
	if svc.Platform {
		return nil, cloud.Errorf(cloud.AccessDenied, op, "service %s is a platform environment's: a customer changes only their own", name)
	}
	return svc, nil
}

// ServiceInfo is a customer's own endpoint service as its owner sees it.
type ServiceInfo struct {
	Name    string
	Allowed []string
	Ports   []int
	// Zones are the zone IDs the service is offered in, sorted.
	Zones []string
	// Regions are the other regions it takes consumers from (Alibaba).
	Regions []string
}

// Service reads one of the customer's own endpoint services.
func (cu Customer) Service(serviceName string) (ServiceInfo, error) {
	var out ServiceInfo
	err := cu.c.view(func(t *tx) error {
		svc, err := cu.ownService(t, serviceName)
		if err != nil {
			return err
		}
		out = ServiceInfo{Name: svc.Name, Allowed: slices.Clone(svc.Allowed), Ports: slices.Clone(svc.Ports),
			Zones: svc.zoneIDs(cu.Region), Regions: slices.Clone(svc.Regions)}
		return nil
	})
	return out, err
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
