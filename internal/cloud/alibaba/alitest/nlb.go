package alitest

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/nlb"
)

// loadBalancer is an NLB (or the ALB or CLB behind a service: the model
// serves listeners for any of them through the NLB actions).
type loadBalancer struct{ id, owner, region string }

type serverGroup struct{ id, owner, region, lbID string }

type listener struct {
	seq                  int
	id, lbID, sgID       string
	owner, region, proto string
	port                 int
	token                string
}

type lbPort struct {
	lb   string
	port int
}

// SetUnhealthy makes the servers behind a load balancer's port unhealthy,
// reason being the ReasonCode GetListenerHealthStatus answers
// ("CONNECT_TIMEOUT", ...). It holds for listeners created later too.
func (m *Model) SetUnhealthy(loadBalancerID string, port int, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if reason == "" {
		reason = "CONNECT_TIMEOUT"
	}
	m.unhealthy[lbPort{loadBalancerID, port}] = reason
}

// SetHealthy undoes SetUnhealthy.
func (m *Model) SetHealthy(loadBalancerID string, port int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.unhealthy, lbPort{loadBalancerID, port})
}

// Listeners lists the ports with a listener on a load balancer, sorted, as
// "PROTOCOL:port".
func (m *Model) Listeners(loadBalancerID string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, l := range m.listeners {
		if l.lbID == loadBalancerID {
			out = append(out, l.proto+":"+strconv.Itoa(l.port))
		}
	}
	slices.Sort(out)
	return out
}

// ownListener is one of the caller's listeners in the region; NLB answers
// ResourceNotFound.listener for another account's.
func (m *Model) ownListener(r *request) (*listener, *Error) {
	id := r.get("ListenerId")
	l := m.listeners[id]
	if l == nil || l.owner != r.account || l.region != r.region {
		return nil, notFound("ResourceNotFound.listener", "The specified resource %s is not found.", id)
	}
	return l, nil
}

func (m *Model) sortedListeners() []*listener {
	out := slices.Collect(maps.Values(m.listeners))
	slices.SortFunc(out, func(a, b *listener) int { return a.seq - b.seq })
	return out
}

func listenerView(l *listener) nlb.ListenerInfo {
	return nlb.ListenerInfo{
		ListenerId: l.id, LoadBalancerId: l.lbID, ServerGroupId: l.sgID, ListenerProtocol: l.proto,
		ListenerPort: l.port, ListenerStatus: "Running", RegionId: l.region, IdleTimeout: 900,
		ListenerDescription: fmt.Sprintf("%s_%d", strings.ToLower(l.proto), l.port),
		CertificateIds:      []string{}, CaCertificateIds: []string{}, Tags: []nlb.TagModels{},
	}
}

// listListeners is ListListeners: the caller's listeners in the region,
// filtered by LoadBalancerIds.N, ListenerIds.N and ListenerProtocol.
func (m *Model) listListeners(r *request) (any, *Error) {
	lbs, ids := r.list("LoadBalancerIds"), r.list("ListenerIds")
	var all []nlb.ListenerInfo
	for _, l := range m.sortedListeners() {
		if l.owner != r.account || l.region != r.region || (len(lbs) > 0 && !slices.Contains(lbs, l.lbID)) ||
			(len(ids) > 0 && !slices.Contains(ids, l.id)) || !matches(r.get("ListenerProtocol"), l.proto) {
			continue
		}
		all = append(all, listenerView(l))
	}
	items, next, size, e := page(m, r, all)
	if e != nil {
		return nil, e
	}
	return nlb.ListListenersResponse{Listeners: nonNil(items), NextToken: next, MaxResults: size, TotalCount: len(all), Success: true, HttpStatusCode: 200}, nil
}

// transport is the transport a listener protocol occupies its port with:
// TCP and TCPSSL share one.
func transport(proto string) string {
	if proto == "UDP" {
		return "UDP"
	}
	return "TCP"
}

// createListener is CreateListener. The same ClientToken from the same
// account answers the listener it created.
func (m *Model) createListener(r *request) (any, *Error) {
	if r.get("ClientToken") != "" {
		if id, ok := m.listenerTokens[r.account+"\x00"+r.get("ClientToken")]; ok && m.listeners[id] != nil {
			return nlb.CreateListenerResponse{ListenerId: id, JobId: m.jobID(), Success: true, HttpStatusCode: 200}, nil
		}
	}
	lb := m.lbs[r.get("LoadBalancerId")]
	if lb == nil || lb.owner != r.account || lb.region != r.region {
		return nil, notFound("ResourceNotFound.loadbalancer", "The specified resource %s is not found.", r.get("LoadBalancerId"))
	}
	proto := r.get("ListenerProtocol")
	if proto != "TCP" && proto != "UDP" && proto != "TCPSSL" {
		return nil, illegal("ListenerProtocol", "%q is not TCP, UDP or TCPSSL", proto)
	}
	port, _, e := r.integer("ListenerPort")
	if e != nil {
		return nil, e
	}
	if port < 1 || port > 65535 {
		return nil, illegal("ListenerPort", "%d is not a port from 1 to 65535 (port ranges are not modelled)", port)
	}
	sg := m.serverGroups[r.get("ServerGroupId")]
	if sg == nil || sg.owner != r.account || sg.region != r.region {
		return nil, notFound("ResourceNotFound.serverGroup", "The specified resource %s is not found.", r.get("ServerGroupId"))
	}
	for _, l := range m.listeners {
		if l.lbID == lb.id && l.port == int(port) && transport(l.proto) == transport(proto) {
			return nil, badRequest("Conflict.Port", "There is already a %s listener %s on port %d of %s.", l.proto, l.id, port, lb.id)
		}
	}
	if dry, e := r.dryRun(); e != nil || dry {
		return nil, firstError(e, errDryRun)
	}
	m.seq++
	l := &listener{seq: m.seq, lbID: lb.id, sgID: sg.id, owner: r.account, region: r.region, proto: proto, port: int(port), token: r.get("ClientToken")}
	l.id = m.newID("lsn")
	m.listeners[l.id] = l
	if l.token != "" {
		m.listenerTokens[r.account+"\x00"+l.token] = l.id
	}
	return nlb.CreateListenerResponse{ListenerId: l.id, JobId: m.jobID(), Success: true, HttpStatusCode: 200}, nil
}

func (m *Model) jobID() string {
	id := strings.TrimPrefix(m.newID("job"), "job-")
	return fmt.Sprintf("%s-%s-%s-%s-%s", id[:8], id[8:12], id[12:16], id[16:20], id[:12])
}

// deleteListener is DeleteListener.
func (m *Model) deleteListener(r *request) (any, *Error) {
	l, e := m.ownListener(r)
	if e != nil {
		return nil, e
	}
	if dry, e := r.dryRun(); e != nil || dry {
		return nil, firstError(e, errDryRun)
	}
	delete(m.listeners, l.id)
	return nlb.DeleteListenerResponse{JobId: m.jobID(), Success: true, HttpStatusCode: 200}, nil
}

// listServerGroups is ListServerGroups: the caller's server groups in the
// region, filtered by ServerGroupIds.N, each related to the load balancer
// of the service it was seeded with.
func (m *Model) listServerGroups(r *request) (any, *Error) {
	ids := r.list("ServerGroupIds")
	owner, _ := strconv.ParseInt(r.account, 10, 64)
	var all []nlb.ServerGroup
	for _, id := range slices.Sorted(maps.Keys(m.serverGroups)) {
		sg := m.serverGroups[id]
		if sg.owner != r.account || sg.region != r.region || (len(ids) > 0 && !slices.Contains(ids, id)) {
			continue
		}
		all = append(all, nlb.ServerGroup{
			ServerGroupId: id, ServerGroupName: "servers-of-" + sg.lbID, ServerGroupType: "Instance", Protocol: "TCP",
			ServerGroupStatus: "Available", RegionId: sg.region, AliUid: owner, ServerCount: 1, AddressIPVersion: "ipv4",
			Scheduler: "Wrr", RelatedLoadBalancerIds: []string{sg.lbID}, Tags: []nlb.Tag{},
		})
	}
	items, next, size, e := page(m, r, all)
	if e != nil {
		return nil, e
	}
	return nlb.ListServerGroupsResponse{ServerGroups: nonNil(items), NextToken: next, MaxResults: size, TotalCount: len(all), Success: true, HttpStatusCode: 200}, nil
}

// getListenerHealth is GetListenerHealthStatus: healthy unless
// SetUnhealthy said otherwise for the listener's load balancer and port,
// when its server is in NonNormalServers with the reason.
func (m *Model) getListenerHealth(r *request) (any, *Error) {
	l, e := m.ownListener(r)
	if e != nil {
		return nil, e
	}
	info := nlb.ServerGroupInfo{HeathCheckEnabled: true, ServerGroupId: l.sgID, NonNormalServers: []nlb.AbnormalServer{}}
	if reason, bad := m.unhealthy[lbPort{l.lbID, l.port}]; bad {
		info.NonNormalServers = append(info.NonNormalServers, nlb.AbnormalServer{
			ServerId: "i-" + strings.TrimPrefix(m.newID("i"), "i-")[:17], ServerIp: fmt.Sprintf("192.168.0.%d", 10+l.port%200),
			Port: l.port, Status: "Unhealthy", Reason: nlb.Reason{ReasonCode: reason},
		})
	}
	return nlb.GetListenerHealthStatusResponse{
		ListenerHealthStatus: []nlb.ListenerHealthStatusItem{{
			ListenerId: l.id, ListenerPort: l.port, ListenerProtocol: l.proto, ServerGroupInfos: []nlb.ServerGroupInfo{info},
		}},
		TotalCount: 1, MaxResults: DefaultPageSize, Success: true, HttpStatusCode: 200,
	}, nil
}
