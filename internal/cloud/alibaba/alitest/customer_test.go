package alitest

import (
	"errors"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func modelError(t *testing.T, err error, code string) {
	t.Helper()
	var e *Error
	require.True(t, errors.As(err, &e), "want %s, got %v", code, err)
	assert.Equal(t, code, e.Code)
}

func TestTheCustomerConnectsToThePlatform(t *testing.T) {
	f := newFixture(t)
	_, err := f.m.CreateEndpoint(customerUID, f.svcName)
	modelError(t, err, "EndpointServiceNotAuthorized")
	allow(t, f, f.svcID, customerUID)
	f.m.ResetCalls()

	id, err := f.m.CreateEndpoint(customerUID, f.svcName)
	require.NoError(t, err)
	assert.Empty(t, f.m.Calls(), "the customer's actions are not counted")
	status, conn, ok := f.m.EndpointState(id)
	require.True(t, ok)
	assert.Equal(t, "Creating", status)
	assert.Equal(t, "Pending", conn)
	assert.Equal(t, []string{id}, f.m.Pending(f.svcName))

	conns := connections(t, f.platform, f.svcID, nil)
	require.Len(t, conns, 1)
	assert.Equal(t, id, conns[0].EndpointId)
	assert.Equal(t, int64(2234567890123456), conns[0].EndpointOwnerId)
	require.Len(t, conns[0].Zones, 2, "the service's first two zones")

	modelError(t, f.m.DeleteEndpoint(otherUID, id), "EndpointNotFound")
	require.NoError(t, f.m.DeleteEndpoint(customerUID, id))
	assert.Equal(t, "Deleting", connectionStatus(t, f.platform, f.svcID, id))
	assert.Empty(t, connections(t, f.platform, f.svcID, nil))
	assert.Empty(t, f.m.Endpoints(f.svcName))
}

const customerService = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-customer0000000000001"

func TestTheCustomerGrantsAndAccepts(t *testing.T) {
	f := newFixture(t)
	byEndUser := func() []privatelink.Service {
		req := privatelink.CreateListVpcEndpointServicesByEndUserRequest()
		req.ServiceName = customerService
		resp, err := f.platform.ListVpcEndpointServicesByEndUser(req)
		require.NoError(t, err)
		return resp.Services
	}
	assert.Empty(t, byEndUser())
	_, err := createEndpoint(f.platform, "epsrv-customer0000000000001", "early", "cn-hangzhou-b")
	serverError(t, err, 400, "EndpointServiceNotFound")

	modelError(t, f.m.Grant(customerUID, "epsrv-bare", platformUID, nil), "IllegalParam.ServiceName")
	require.NoError(t, f.m.Grant(customerUID, customerService, platformUID, []int{5432, 6379}))
	require.NoError(t, f.m.Grant(customerUID, customerService, platformUID, []int{5432, 6379}), "granting twice is harmless")
	modelError(t, f.m.Grant(otherUID, customerService, platformUID, nil), "EndpointServiceNotFound")
	seen := byEndUser()
	require.Len(t, seen, 1)
	assert.Equal(t, "epsrv-customer0000000000001", seen[0].ServiceId)
	assert.Equal(t, []string{"cn-hangzhou-b", "cn-hangzhou-g", "cn-hangzhou-h"}, seen[0].Zones, "CustomerZones: the region's first three")

	created, err := createEndpoint(f.platform, seen[0].ServiceId, "reverse-1", "cn-hangzhou-b", "cn-hangzhou-g")
	require.NoError(t, err)
	ep := created.EndpointId
	assert.Equal(t, "Pending", created.ConnectionStatus)
	modelError(t, f.m.AcceptEndpoint(otherUID, ep), "EndpointConnectionNotFound")
	require.NoError(t, f.m.AcceptEndpoint(customerUID, ep))
	modelError(t, f.m.AcceptEndpoint(customerUID, ep), "EndpointConnectionOperationDenied")

	get := privatelink.CreateGetVpcEndpointAttributeRequest()
	get.EndpointId = ep
	attr, err := f.platform.GetVpcEndpointAttribute(get)
	require.NoError(t, err)
	assert.Equal(t, "Connecting", attr.ConnectionStatus)
	attr, err = f.platform.GetVpcEndpointAttribute(get)
	require.NoError(t, err)
	assert.Equal(t, "Connected", attr.ConnectionStatus)
	assert.Equal(t, "Active", attr.EndpointStatus)
	assert.Equal(t, ep+".epsrv-customer0000000000001.cn-hangzhou.privatelink.aliyuncs.com", attr.EndpointDomain)

	modelError(t, f.m.DeleteService(customerUID, customerService), "EndpointServiceConnectionDependence")
	require.NoError(t, f.m.RejectEndpoint(customerUID, ep))
	attr, err = f.platform.GetVpcEndpointAttribute(get)
	require.NoError(t, err)
	assert.Equal(t, "Disconnecting", attr.ConnectionStatus)
	attr, err = f.platform.GetVpcEndpointAttribute(get)
	require.NoError(t, err)
	assert.Equal(t, "Disconnected", attr.ConnectionStatus)
	require.NoError(t, f.m.DeleteService(customerUID, customerService))
	_, found := f.m.ServiceID(customerService)
	assert.False(t, found)
}

func TestTheCustomerSetsZones(t *testing.T) {
	f := newFixture(t)
	f.m.SetCustomerZones(region, []string{"cn-hangzhou-j"})
	assert.Equal(t, []string{"cn-hangzhou-j"}, f.m.CustomerZones(region))
	require.NoError(t, f.m.Grant(customerUID, customerService, platformUID, nil))
	_, err := createEndpoint(f.platform, "epsrv-customer0000000000001", "", "cn-hangzhou-h")
	serverError(t, err, 400, "EndpointServiceNotSupportedZone")
	modelError(t, f.m.SetServiceZones(otherUID, customerService, []string{"cn-hangzhou-h"}), "EndpointServiceNotFound")
	require.NoError(t, f.m.SetServiceZones(customerUID, customerService, []string{"cn-hangzhou-h", "cn-hangzhou-j"}))
	_, err = createEndpoint(f.platform, "epsrv-customer0000000000001", "", "cn-hangzhou-h")
	require.NoError(t, err)

	require.NoError(t, f.m.Revoke(customerUID, customerService, platformUID))
	_, err = createEndpoint(f.platform, "epsrv-customer0000000000001", "", "cn-hangzhou-h")
	serverError(t, err, 400, "EndpointServiceNotAuthorized")
}
