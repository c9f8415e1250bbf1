package alitest

import (
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/nlb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func nlbListRequest(lbID string) *nlb.ListListenersRequest {
	req := nlb.CreateListListenersRequest()
	req.LoadBalancerIds = &[]string{lbID}
	return req
}

func nlbCreateRequest(lbID, sgID string, port int) *nlb.CreateListenerRequest {
	req := nlb.CreateCreateListenerRequest()
	req.LoadBalancerId, req.ServerGroupId, req.ListenerProtocol = lbID, sgID, "TCP"
	req.ListenerPort = requests.NewInteger(port)
	return req
}

func TestListenersOfTheServiceLoadBalancer(t *testing.T) {
	f := newFixture(t)
	req := nlbCreateRequest(f.lbID, f.serverGroupID, 443)
	req.ClientToken = "listener-443"
	created, err := f.platformNLB.CreateListener(req)
	require.NoError(t, err)
	require.NotEmpty(t, created.ListenerId)
	assert.NotEmpty(t, created.JobId)
	again, err := f.platformNLB.CreateListener(req)
	require.NoError(t, err)
	assert.Equal(t, created.ListenerId, again.ListenerId, "the same token, the same listener")

	req = nlbCreateRequest(f.lbID, f.serverGroupID, 443)
	_, err = f.platformNLB.CreateListener(req)
	serverError(t, err, 400, "Conflict.Port")
	req.ListenerProtocol = "UDP"
	udp, err := f.platformNLB.CreateListener(req)
	require.NoError(t, err, "UDP on the same port is another listener")
	req = nlbCreateRequest(f.lbID, f.serverGroupID, 8443)
	req.ListenerProtocol = "HTTP"
	_, err = f.platformNLB.CreateListener(req)
	serverError(t, err, 400, "IllegalParam.ListenerProtocol")

	list := nlbListRequest(f.lbID)
	list.ListenerProtocol = "TCP"
	resp, err := f.platformNLB.ListListeners(list)
	require.NoError(t, err)
	require.Len(t, resp.Listeners, 1)
	l := resp.Listeners[0]
	assert.Equal(t, created.ListenerId, l.ListenerId)
	assert.Equal(t, 443, l.ListenerPort)
	assert.Equal(t, "TCP", l.ListenerProtocol)
	assert.Equal(t, "Running", l.ListenerStatus)
	assert.Equal(t, f.serverGroupID, l.ServerGroupId)
	assert.Equal(t, f.lbID, l.LoadBalancerId)
	assert.Equal(t, []string{"TCP:443", "UDP:443"}, f.m.Listeners(f.lbID))

	health := nlb.CreateGetListenerHealthStatusRequest()
	health.ListenerId = created.ListenerId
	h, err := f.platformNLB.GetListenerHealthStatus(health)
	require.NoError(t, err)
	require.Len(t, h.ListenerHealthStatus, 1)
	require.Len(t, h.ListenerHealthStatus[0].ServerGroupInfos, 1)
	info := h.ListenerHealthStatus[0].ServerGroupInfos[0]
	assert.True(t, info.HeathCheckEnabled)
	assert.Equal(t, f.serverGroupID, info.ServerGroupId)
	assert.Empty(t, info.NonNormalServers, "healthy by default")

	f.m.SetUnhealthy(f.lbID, 443, "CONNECT_TIMEOUT")
	h, err = f.platformNLB.GetListenerHealthStatus(health)
	require.NoError(t, err)
	bad := h.ListenerHealthStatus[0].ServerGroupInfos[0].NonNormalServers
	require.Len(t, bad, 1)
	assert.Equal(t, "Unhealthy", bad[0].Status)
	assert.Equal(t, "CONNECT_TIMEOUT", bad[0].Reason.ReasonCode)
	assert.Equal(t, 443, bad[0].Port)
	f.m.SetHealthy(f.lbID, 443)
	h, err = f.platformNLB.GetListenerHealthStatus(health)
	require.NoError(t, err)
	assert.Empty(t, h.ListenerHealthStatus[0].ServerGroupInfos[0].NonNormalServers)

	del := nlb.CreateDeleteListenerRequest()
	del.ListenerId = udp.ListenerId
	_, err = f.platformNLB.DeleteListener(del)
	require.NoError(t, err)
	_, err = f.platformNLB.DeleteListener(del)
	serverError(t, err, 404, "ResourceNotFound.listener")
	assert.Equal(t, []string{"TCP:443"}, f.m.Listeners(f.lbID))
}

func TestServerGroupsAreFound(t *testing.T) {
	f := newFixture(t)
	resp, err := f.platformNLB.ListServerGroups(nlb.CreateListServerGroupsRequest())
	require.NoError(t, err)
	require.Len(t, resp.ServerGroups, 1)
	assert.Equal(t, f.serverGroupID, resp.ServerGroups[0].ServerGroupId)
	assert.Equal(t, []string{f.lbID}, resp.ServerGroups[0].RelatedLoadBalancerIds)
	other, err := NewNLBClient(f.host, region, "AKIDother", "other-secret")
	require.NoError(t, err)
	none, err := other.ListServerGroups(nlb.CreateListServerGroupsRequest())
	require.NoError(t, err)
	assert.Empty(t, none.ServerGroups)
}

func TestOnlyTheOwnerReachesTheLoadBalancer(t *testing.T) {
	f := newFixture(t)
	created, err := f.platformNLB.CreateListener(nlbCreateRequest(f.lbID, f.serverGroupID, 443))
	require.NoError(t, err)
	other, err := NewNLBClient(f.host, region, "AKIDother", "other-secret")
	require.NoError(t, err)

	_, err = other.CreateListener(nlbCreateRequest(f.lbID, f.serverGroupID, 80))
	serverError(t, err, 404, "ResourceNotFound.loadbalancer")
	resp, err := other.ListListeners(nlbListRequest(f.lbID))
	require.NoError(t, err)
	assert.Empty(t, resp.Listeners)
	health := nlb.CreateGetListenerHealthStatusRequest()
	health.ListenerId = created.ListenerId
	_, err = other.GetListenerHealthStatus(health)
	serverError(t, err, 404, "ResourceNotFound.listener")
	_, err = f.platformNLB.CreateListener(nlbCreateRequest(f.lbID, "sgp-nosuchgroup", 80))
	serverError(t, err, 404, "ResourceNotFound.serverGroup")
}
