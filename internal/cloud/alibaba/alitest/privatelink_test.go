package alitest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestListServicesFiltersByTagAndOwner(t *testing.T) {
	f := newFixture(t)
	f.m.AddService(ServiceSpec{Owner: platformUID, Region: region, Tags: map[string]string{"linkwright:project": "p2"}})
	f.m.AddService(ServiceSpec{Owner: otherUID, Region: region, Tags: map[string]string{"linkwright:project": "p1"}})
	f.m.AddService(ServiceSpec{Owner: platformUID, Region: "cn-shanghai", Tags: map[string]string{"linkwright:project": "p1"}})

	req := privatelink.CreateListVpcEndpointServicesRequest()
	req.Tag = &[]privatelink.ListVpcEndpointServicesTag{{Key: "linkwright:project", Value: "p1"}, {Key: "linkwright:environment", Value: "prod"}}
	resp, err := f.platform.ListVpcEndpointServices(req)
	require.NoError(t, err)
	require.Len(t, resp.Services, 1, "only the owner's, in the region, with every tag")
	s := resp.Services[0]
	assert.Equal(t, f.svcID, s.ServiceId)
	assert.Equal(t, f.svcName, s.ServiceName)
	assert.Equal(t, "com.aliyuncs.privatelink.cn-hangzhou."+f.svcID, s.ServiceName)
	assert.Equal(t, []string{"cn-hangzhou-h", "cn-hangzhou-i"}, s.Zones)
	assert.Equal(t, "nlb", s.ServiceResourceType)
	assert.Equal(t, 100, s.MinBandwidth)
	assert.Equal(t, 50000, s.MaxBandwidth)
	assert.Contains(t, s.Tags, privatelink.TagModel{Key: "linkwright:environment", Value: "prod"})

	req = privatelink.CreateListVpcEndpointServicesRequest()
	req.Tag = &[]privatelink.ListVpcEndpointServicesTag{{Key: "linkwright:project", Value: "p9"}}
	resp, err = f.platform.ListVpcEndpointServices(req)
	require.NoError(t, err)
	assert.Empty(t, resp.Services)

	get := privatelink.CreateGetVpcEndpointServiceAttributeRequest()
	get.ServiceId = f.svcID
	_, err = f.other.GetVpcEndpointServiceAttribute(get)
	serverError(t, err, 400, "EndpointServiceNotFound")
}

func TestWhitelistDecidesVisibility(t *testing.T) {
	f := newFixture(t)
	byEndUser := func(c *privatelink.Client) []privatelink.Service {
		req := privatelink.CreateListVpcEndpointServicesByEndUserRequest()
		req.ServiceName = f.svcName
		resp, err := c.ListVpcEndpointServicesByEndUser(req)
		require.NoError(t, err)
		return resp.Services
	}
	assert.Empty(t, byEndUser(f.customer), "not whitelisted: hidden")
	_, err := createEndpoint(f.customer, f.svcID, "", "cn-hangzhou-h")
	serverError(t, err, 400, "EndpointServiceNotAuthorized")

	add := privatelink.CreateAddUserToVpcEndpointServiceRequest()
	add.ServiceId, add.UserId = f.svcID, requests.Integer(customerUID)
	_, err = f.platform.AddUserToVpcEndpointService(add)
	require.NoError(t, err)
	_, err = f.platform.AddUserToVpcEndpointService(add)
	require.NoError(t, err, "adding a user twice is success")

	seen := byEndUser(f.customer)
	require.Len(t, seen, 1)
	assert.Equal(t, f.svcID, seen[0].ServiceId)
	assert.Equal(t, []string{"cn-hangzhou-h", "cn-hangzhou-i"}, seen[0].Zones)
	assert.Equal(t, "nlb", seen[0].ServiceResourceType)
	assert.False(t, seen[0].AutoAcceptEnabled)
	assert.Empty(t, byEndUser(f.other), "another account still sees nothing")

	users := privatelink.CreateListVpcEndpointServiceUsersRequest()
	users.ServiceId = f.svcID
	list, err := f.platform.ListVpcEndpointServiceUsers(users)
	require.NoError(t, err)
	assert.Equal(t, []privatelink.User{{UserId: 2234567890123456}}, list.Users, "once, as an integer")
	_, err = f.customer.ListVpcEndpointServiceUsers(users)
	serverError(t, err, 400, "EndpointServiceNotFound")

	remove := privatelink.CreateRemoveUserFromVpcEndpointServiceRequest()
	remove.ServiceId, remove.UserId = f.svcID, requests.Integer(customerUID)
	_, err = f.platform.RemoveUserFromVpcEndpointService(remove)
	require.NoError(t, err)
	_, err = f.platform.RemoveUserFromVpcEndpointService(remove)
	serverError(t, err, 400, "EndpointServiceUserNotFound")
	assert.Empty(t, byEndUser(f.customer))

	// Everyone, through an ARN.
	add = privatelink.CreateAddUserToVpcEndpointServiceRequest()
	add.ServiceId, add.UserARN = f.svcID, "*"
	_, err = f.platform.AddUserToVpcEndpointService(add)
	require.NoError(t, err)
	assert.Len(t, byEndUser(f.other), 1)
	list, err = f.platform.ListVpcEndpointServiceUsers(users)
	require.NoError(t, err)
	assert.Equal(t, []privatelink.UserARN{{UserARN: "*"}}, list.UserARNs)
	assert.Empty(t, list.Users)
}

func allow(t *testing.T, f *fixture, serviceID, uid string) {
	t.Helper()
	add := privatelink.CreateAddUserToVpcEndpointServiceRequest()
	add.ServiceId, add.UserId = serviceID, requests.Integer(uid)
	_, err := f.platform.AddUserToVpcEndpointService(add)
	require.NoError(t, err)
}

func TestConnectionLifecycle(t *testing.T) {
	f := newFixture(t)
	allow(t, f, f.svcID, customerUID)
	created, err := createEndpoint(f.customer, f.svcID, "", "cn-hangzhou-h", "cn-hangzhou-i")
	require.NoError(t, err)
	ep := created.EndpointId
	assert.Equal(t, "Creating", created.EndpointStatus)
	assert.Equal(t, "Pending", created.ConnectionStatus)
	assert.Equal(t, ep+"."+f.svcID+".cn-hangzhou.privatelink.aliyuncs.com", created.EndpointDomain)

	conns := connections(t, f.platform, f.svcID, nil)
	require.Len(t, conns, 1)
	c := conns[0]
	assert.Equal(t, ep, c.EndpointId)
	assert.Equal(t, int64(2234567890123456), c.EndpointOwnerId)
	assert.Equal(t, "Pending", c.ConnectionStatus)
	assert.Equal(t, 3072, c.Bandwidth)
	assert.NotEmpty(t, c.ModifiedTime)
	require.Len(t, c.Zones, 2)
	assert.Equal(t, "cn-hangzhou-h", c.Zones[0].ZoneId)
	assert.Equal(t, "Wait", c.Zones[0].ZoneStatus)
	assert.Equal(t, "vsw-cn-hangzhou-h", c.Zones[0].VSwitchId)
	assert.NotEmpty(t, c.Zones[0].EniId)
	assert.Equal(t, f.lbID, c.Zones[0].ResourceId)

	_, err = f.customer.ListVpcEndpointConnections(func() *privatelink.ListVpcEndpointConnectionsRequest {
		r := privatelink.CreateListVpcEndpointConnectionsRequest()
		r.ServiceId = f.svcID
		return r
	}())
	serverError(t, err, 400, "EndpointServiceNotFound")

	require.NoError(t, enable(f.platform, f.svcID, ep, 0))
	serverError(t, enable(f.platform, f.svcID, ep, 0), 400, "EndpointConnectionOperationDenied")
	assert.Equal(t, "Connecting", connectionStatus(t, f.platform, f.svcID, ep), "the next read shows the transient state")
	assert.Equal(t, "Connected", connectionStatus(t, f.platform, f.svcID, ep), "the one after it the end state")
	serverError(t, enable(f.platform, f.svcID, ep, 0), 400, "EndpointConnectionOperationDenied")

	get := privatelink.CreateGetVpcEndpointAttributeRequest()
	get.EndpointId = ep
	attr, err := f.customer.GetVpcEndpointAttribute(get)
	require.NoError(t, err)
	assert.Equal(t, "Active", attr.EndpointStatus)
	assert.Equal(t, "Connected", attr.ConnectionStatus)
	_, err = f.other.GetVpcEndpointAttribute(get)
	serverError(t, err, 400, "EndpointNotFound")

	zones := privatelink.CreateListVpcEndpointZonesRequest()
	zones.EndpointId = ep
	zl, err := f.customer.ListVpcEndpointZones(zones)
	require.NoError(t, err)
	require.Len(t, zl.Zones, 2)
	assert.Equal(t, "Connected", zl.Zones[1].ZoneStatus)
	assert.Regexp(t, `^10\.\d+\.\d+\.\d+$`, zl.Zones[1].EniIp)
	assert.Equal(t, ep+"-cn-hangzhou."+f.svcID+".cn-hangzhou-i.privatelink.aliyuncs.com", zl.Zones[1].ZoneDomain)

	require.NoError(t, disable(f.platform, f.svcID, ep))
	serverError(t, disable(f.platform, f.svcID, ep), 400, "EndpointConnectionOperationDenied")
	assert.Equal(t, "Disconnecting", connectionStatus(t, f.platform, f.svcID, ep))
	assert.Equal(t, "Disconnected", connectionStatus(t, f.platform, f.svcID, ep))
	serverError(t, disable(f.platform, f.svcID, ep), 400, "EndpointConnectionOperationDenied")

	require.NoError(t, enable(f.platform, f.svcID, ep, 0), "a disconnected connection may be accepted again")
	assert.Equal(t, "Connecting", connectionStatus(t, f.platform, f.svcID, ep))
	serverError(t, enable(f.platform, f.svcID, "ep-nosuchendpoint", 0), 400, "EndpointConnectionNotFound")
}

func TestAutoAcceptConnects(t *testing.T) {
	f := newFixture(t)
	id, _ := f.m.AddService(ServiceSpec{Owner: platformUID, Region: region, AutoAccept: true})
	allow(t, f, id, customerUID)
	created, err := createEndpoint(f.customer, id, "", "cn-hangzhou-b")
	require.NoError(t, err)
	assert.Equal(t, "Connecting", created.ConnectionStatus)
	assert.Equal(t, "Connecting", connectionStatus(t, f.platform, id, created.EndpointId))
	assert.Equal(t, "Connected", connectionStatus(t, f.platform, id, created.EndpointId))
}

func TestConnectionsArePaginated(t *testing.T) {
	f := newFixture(t)
	f.m.PageSize = 1
	allow(t, f, f.svcID, customerUID)
	var ids []string
	for range 3 {
		created, err := createEndpoint(f.customer, f.svcID, "", "cn-hangzhou-h")
		require.NoError(t, err)
		ids = append(ids, created.EndpointId)
	}
	req := privatelink.CreateListVpcEndpointConnectionsRequest()
	req.ServiceId = f.svcID
	first, err := f.platform.ListVpcEndpointConnections(req)
	require.NoError(t, err)
	require.Len(t, first.Connections, 1)
	assert.NotEmpty(t, first.NextToken)
	assert.Equal(t, "3", first.TotalCount)

	var walked []string
	for _, c := range connections(t, f.platform, f.svcID, nil) {
		walked = append(walked, c.EndpointId)
	}
	assert.Equal(t, ids, walked, "every connection once, oldest first")

	users := privatelink.CreateListVpcEndpointServiceUsersRequest()
	users.ServiceId, users.NextToken = f.svcID, first.NextToken
	_, err = f.platform.ListVpcEndpointServiceUsers(users)
	serverError(t, err, 400, "IllegalParam.NextToken")

	f.m.PageSize = 0
	req.MaxResults = requests.NewInteger(2)
	two, err := f.platform.ListVpcEndpointConnections(req)
	require.NoError(t, err)
	assert.Len(t, two.Connections, 2, "MaxResults under the page size")
	req.MaxResults = requests.NewInteger(0)
	_, err = f.platform.ListVpcEndpointConnections(req)
	serverError(t, err, 400, "IllegalParam.MaxResults")
}

func TestOwnerFilterAndItsBug(t *testing.T) {
	f := newFixture(t)
	allow(t, f, f.svcID, customerUID)
	allow(t, f, f.svcID, otherUID)
	mine, err := createEndpoint(f.customer, f.svcID, "", "cn-hangzhou-h")
	require.NoError(t, err)
	_, err = createEndpoint(f.other, f.svcID, "", "cn-hangzhou-h")
	require.NoError(t, err)
	byOwner := func(r *privatelink.ListVpcEndpointConnectionsRequest) {
		r.EndpointOwnerId = requests.Integer(customerUID)
	}

	conns := connections(t, f.platform, f.svcID, byOwner)
	require.Len(t, conns, 1)
	assert.Equal(t, mine.EndpointId, conns[0].EndpointId)

	f.m.IgnoreOwnerFilter = true
	conns = connections(t, f.platform, f.svcID, byOwner)
	require.Len(t, conns, 2, "the filter is ignored")
	owners := []int64{conns[0].EndpointOwnerId, conns[1].EndpointOwnerId}
	assert.ElementsMatch(t, []int64{2234567890123456, 3234567890123456}, owners, "the answer still names each owner")
}

func TestBandwidthRangesPerResourceType(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		typ       string
		ok, wrong []int
	}{
		{"nlb", []int{100, 50000}, []int{99, 50001}},
		{"alb", []int{100, 25000}, []int{99, 25001}},
		{"slb", []int{100, 10240}, []int{99, 10241}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			id, _ := f.m.AddService(ServiceSpec{Owner: platformUID, Region: region, ResourceType: tc.typ})
			allow(t, f, id, customerUID)
			for _, bw := range tc.wrong {
				created, err := createEndpoint(f.customer, id, "", "cn-hangzhou-b")
				require.NoError(t, err)
				se := serverError(t, enable(f.platform, id, created.EndpointId, bw), 400, "IllegalParam.Bandwidth")
				assert.Contains(t, se.Message(), strconv.Itoa(bw))
				assert.Equal(t, "Pending", connectionStatus(t, f.platform, id, created.EndpointId), "a refused call changes nothing")
			}
			for _, bw := range tc.ok {
				created, err := createEndpoint(f.customer, id, "", "cn-hangzhou-b")
				require.NoError(t, err)
				require.NoError(t, enable(f.platform, id, created.EndpointId, bw), "%d Mbit/s", bw)
				conns := connections(t, f.platform, id, func(r *privatelink.ListVpcEndpointConnectionsRequest) { r.EndpointId = created.EndpointId })
				assert.Equal(t, bw, conns[0].Bandwidth)
			}
		})
	}
}

func TestClientTokenMakesCreateIdempotent(t *testing.T) {
	f := newFixture(t)
	allow(t, f, f.svcID, customerUID)
	first, err := createEndpoint(f.customer, f.svcID, "token-1", "cn-hangzhou-h")
	require.NoError(t, err)
	again, err := createEndpoint(f.customer, f.svcID, "token-1", "cn-hangzhou-h")
	require.NoError(t, err)
	assert.Equal(t, first.EndpointId, again.EndpointId)
	other, err := createEndpoint(f.customer, f.svcID, "token-2", "cn-hangzhou-h")
	require.NoError(t, err)
	assert.NotEqual(t, first.EndpointId, other.EndpointId)
	assert.Len(t, connections(t, f.platform, f.svcID, nil), 2)

	del := privatelink.CreateDeleteVpcEndpointRequest()
	del.EndpointId = first.EndpointId
	_, err = f.customer.DeleteVpcEndpoint(del)
	require.NoError(t, err)
	replay, err := createEndpoint(f.customer, f.svcID, "token-1", "cn-hangzhou-h")
	require.NoError(t, err)
	assert.Equal(t, first.EndpointId, replay.EndpointId, "the earlier result, even once deleted")

	id2, _ := f.m.AddService(ServiceSpec{Owner: platformUID, Region: region})
	allow(t, f, id2, customerUID)
	_, err = createEndpoint(f.customer, id2, "token-2", "cn-hangzhou-b")
	serverError(t, err, 400, "IdempotentParameterMismatch")
}

func TestZonesOutsideTheServiceAreRefused(t *testing.T) {
	f := newFixture(t)
	allow(t, f, f.svcID, customerUID)
	_, err := createEndpoint(f.customer, f.svcID, "", "cn-hangzhou-h", "cn-hangzhou-k")
	se := serverError(t, err, 400, "EndpointServiceNotSupportedZone")
	assert.Contains(t, se.Message(), "cn-hangzhou-k")
	_, err = createEndpoint(f.customer, f.svcID, "")
	serverError(t, err, 400, "MissingParam.Zone")
	_, err = createEndpoint(f.customer, f.svcID, "", "cn-hangzhou-h", "cn-hangzhou-h")
	serverError(t, err, 400, "EndpointZoneDuplicated")

	req := privatelink.CreateCreateVpcEndpointRequest()
	req.ServiceId, req.VpcId = f.svcID, "vpc-1"
	req.Zone = &[]privatelink.CreateVpcEndpointZone{{ZoneId: "cn-hangzhou-h", VSwitchId: "vsw-1"}}
	_, err = f.customer.CreateVpcEndpoint(req)
	serverError(t, err, 400, "EndpointMustContainSecurityGroup")
	assert.Empty(t, connections(t, f.platform, f.svcID, nil), "nothing was created")
}

func TestCrossRegionNeedsASupportedRegion(t *testing.T) {
	f := newFixture(t)
	allow(t, f, f.svcID, customerUID)
	shanghai := f.client(t, "AKIDcustomer", "customer-secret")
	create := func() (string, error) {
		resp, err := f.common(shanghai, "CreateVpcEndpoint", map[string]string{
			"RegionId": "cn-shanghai", "ServiceId": f.svcID, "ServiceRegionId": region, "VpcId": "vpc-sh",
			"SecurityGroupId.1": "sg-sh", "Zone.1.ZoneId": "cn-shanghai-b", "Zone.1.VSwitchId": "vsw-sh",
			"CrossRegionBandwidth": "1024", "ZoneAffinityEnabled": "true",
		})
		if err != nil {
			return "", err
		}
		var out privatelink.CreateVpcEndpointResponse
		require.NoError(t, json.Unmarshal(resp.GetHttpContentBytes(), &out))
		return out.EndpointId, nil
	}
	_, err := create()
	se := serverError(t, err, 400, "IllegalParam.ServiceRegionId")
	assert.Contains(t, se.Message(), "cn-shanghai")

	_, err = f.common(shanghai, "CreateVpcEndpoint", map[string]string{
		"RegionId": "cn-shanghai", "ServiceId": f.svcID, "VpcId": "vpc-sh",
		"SecurityGroupId.1": "sg-sh", "Zone.1.ZoneId": "cn-shanghai-b", "Zone.1.VSwitchId": "vsw-sh",
	})
	serverError(t, err, 400, "EndpointServiceNotFound") // no ServiceRegionId: looked up in cn-shanghai

	require.NoError(t, f.m.SetSupportedRegions(f.svcName, []string{"cn-shanghai"}))
	attr, err := f.common(f.platform, "GetVpcEndpointServiceAttribute", map[string]string{"ServiceId": f.svcID})
	require.NoError(t, err)
	var got ServiceAttribute
	require.NoError(t, json.Unmarshal(attr.GetHttpContentBytes(), &got))
	assert.Equal(t, []SupportedRegion{{SupportedRegionId: "cn-shanghai", ServiceRegionId: region, RegionServiceStatus: "Active", RegionBusinessStatus: "Normal"}}, got.SupportedRegionSet)
	assert.Equal(t, f.svcID, got.ServiceId)

	id, err := create()
	require.NoError(t, err)
	conns := connections(t, f.platform, f.svcID, nil)
	require.Len(t, conns, 1, "the connection is the service's, in the service's region")
	assert.Equal(t, id, conns[0].EndpointId)
	assert.Equal(t, "cn-shanghai-b", conns[0].Zones[0].ZoneId)

	sh, err := NewPrivateLinkClient(f.host, "cn-shanghai", "AKIDcustomer", "customer-secret")
	require.NoError(t, err)
	get := privatelink.CreateGetVpcEndpointAttributeRequest()
	get.EndpointId = id
	ep, err := sh.GetVpcEndpointAttribute(get)
	require.NoError(t, err)
	assert.True(t, ep.ZoneAffinityEnabled)
	assert.Equal(t, "cn-shanghai", ep.RegionId)
	get = privatelink.CreateGetVpcEndpointAttributeRequest() // a request remembers the RegionId it was sent with
	get.EndpointId = id
	_, err = f.customer.GetVpcEndpointAttribute(get)
	serverError(t, err, 400, "EndpointNotFound") // not in cn-hangzhou
}

func TestDeleteEndpointGoesAway(t *testing.T) {
	f := newFixture(t)
	allow(t, f, f.svcID, customerUID)
	created, err := createEndpoint(f.customer, f.svcID, "", "cn-hangzhou-h")
	require.NoError(t, err)
	ep := created.EndpointId
	del := privatelink.CreateDeleteVpcEndpointRequest()
	del.EndpointId = ep
	_, err = f.other.DeleteVpcEndpoint(del)
	serverError(t, err, 400, "EndpointNotFound")
	_, err = f.customer.DeleteVpcEndpoint(del)
	require.NoError(t, err)
	_, err = f.customer.DeleteVpcEndpoint(del)
	serverError(t, err, 400, "EndpointOperationDenied")

	assert.Equal(t, "Deleting", connectionStatus(t, f.platform, f.svcID, ep))
	assert.Empty(t, connections(t, f.platform, f.svcID, nil), "gone on the next read")
	get := privatelink.CreateGetVpcEndpointAttributeRequest()
	get.EndpointId = ep
	_, err = f.customer.GetVpcEndpointAttribute(get)
	serverError(t, err, 400, "EndpointNotFound")
	_, err = f.customer.DeleteVpcEndpoint(del)
	serverError(t, err, 400, "EndpointNotFound")
	list, err := f.customer.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())
	require.NoError(t, err)
	assert.Empty(t, list.Endpoints)
}

func TestListEndpointsFilters(t *testing.T) {
	f := newFixture(t)
	allow(t, f, f.svcID, customerUID)
	a, err := createEndpoint(f.customer, f.svcID, "", "cn-hangzhou-h")
	require.NoError(t, err)
	id2, name2 := f.m.AddService(ServiceSpec{Owner: platformUID, Region: region})
	allow(t, f, id2, customerUID)
	b, err := createEndpoint(f.customer, id2, "", "cn-hangzhou-b")
	require.NoError(t, err)

	req := privatelink.CreateListVpcEndpointsRequest()
	req.ServiceName = name2
	resp, err := f.customer.ListVpcEndpoints(req)
	require.NoError(t, err)
	require.Len(t, resp.Endpoints, 1)
	assert.Equal(t, b.EndpointId, resp.Endpoints[0].EndpointId)
	assert.Equal(t, "Creating", resp.Endpoints[0].EndpointStatus)

	req = privatelink.CreateListVpcEndpointsRequest()
	req.EndpointStatus = "Active"
	resp, err = f.customer.ListVpcEndpoints(req)
	require.NoError(t, err)
	require.Len(t, resp.Endpoints, 1, "only the endpoint read before is Active")
	assert.Equal(t, b.EndpointId, resp.Endpoints[0].EndpointId)
	assert.NotEqual(t, a.EndpointId, b.EndpointId)

	all, err := f.customer.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())
	require.NoError(t, err)
	require.Len(t, all.Endpoints, 2)
	assert.Less(t, all.Endpoints[0].CreateTime, all.Endpoints[1].CreateTime, "oldest first, creation times apart")
	none, err := f.other.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())
	require.NoError(t, err)
	assert.Empty(t, none.Endpoints, "another account's are not listed")
}

func TestDeleteServiceInTheDocumentedOrder(t *testing.T) {
	f := newFixture(t)
	allow(t, f, f.svcID, customerUID)
	created, err := createEndpoint(f.customer, f.svcID, "", "cn-hangzhou-h", "cn-hangzhou-i")
	require.NoError(t, err)
	ep := created.EndpointId
	deleteService := func() error {
		req := privatelink.CreateDeleteVpcEndpointServiceRequest()
		req.ServiceId = f.svcID
		_, err := f.platform.DeleteVpcEndpointService(req)
		return err
	}
	serverError(t, deleteService(), 400, "EndpointServiceConnectionDependence") // Pending
	require.NoError(t, enable(f.platform, f.svcID, ep, 0))
	connectionStatus(t, f.platform, f.svcID, ep)
	require.Equal(t, "Connected", connectionStatus(t, f.platform, f.svcID, ep))
	serverError(t, deleteService(), 400, "EndpointServiceConnectionDependence")

	detach := privatelink.CreateDetachResourceFromVpcEndpointServiceRequest()
	detach.ServiceId, detach.ResourceId, detach.ResourceType = f.svcID, f.lbID, "nlb"
	_, err = f.platform.DetachResourceFromVpcEndpointService(detach)
	serverError(t, err, 400, "EndpointServiceConnectionDependence")

	zone := func(z string) error {
		req := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
		req.ServiceId, req.EndpointId, req.ZoneId = f.svcID, ep, z
		_, err := f.platform.DisableVpcEndpointZoneConnection(req)
		return err
	}
	require.NoError(t, zone("cn-hangzhou-h"))
	serverError(t, zone("cn-hangzhou-h"), 400, "IncorrectStatus.VpcEndpointZone")
	serverError(t, zone("cn-hangzhou-b"), 404, "ResourceNotFound.VpcEndpointZone")
	serverError(t, deleteService(), 400, "EndpointServiceConnectionDependence") // cn-hangzhou-i still connected
	require.NoError(t, zone("cn-hangzhou-i"))
	assert.Equal(t, map[string]string{"cn-hangzhou-h": "Disconnected", "cn-hangzhou-i": "Disconnected"}, f.m.ZoneStates(ep))

	serverError(t, deleteService(), 400, "EndpointServiceDependenceViolation") // resources attached
	res := privatelink.CreateListVpcEndpointServiceResourcesRequest()
	res.ServiceId = f.svcID
	resources, err := f.platform.ListVpcEndpointServiceResources(res)
	require.NoError(t, err)
	require.Len(t, resources.Resources, 2)
	assert.Equal(t, f.lbID, resources.Resources[0].ResourceId)
	assert.Equal(t, int64(1), resources.Resources[0].RelatedEndpointCount)

	_, err = f.platform.DetachResourceFromVpcEndpointService(detach)
	require.NoError(t, err)
	_, err = f.platform.DetachResourceFromVpcEndpointService(detach)
	serverError(t, err, 400, "EndpointServiceResourceNotFound")
	require.NoError(t, deleteService())

	get := privatelink.CreateGetVpcEndpointServiceAttributeRequest()
	get.ServiceId = f.svcID
	_, err = f.platform.GetVpcEndpointServiceAttribute(get)
	serverError(t, err, 400, "EndpointServiceNotFound")
	_, conn, ok := f.m.EndpointState(ep)
	require.True(t, ok)
	assert.Equal(t, "ServiceDeleted", conn)
}

func TestZoneConnectionsComeBack(t *testing.T) {
	f := newFixture(t)
	allow(t, f, f.svcID, customerUID)
	created, err := createEndpoint(f.customer, f.svcID, "", "cn-hangzhou-h")
	require.NoError(t, err)
	ep := created.EndpointId
	enableZone := privatelink.CreateEnableVpcEndpointZoneConnectionRequest()
	enableZone.ServiceId, enableZone.EndpointId, enableZone.ZoneId = f.svcID, ep, "cn-hangzhou-h"
	_, err = f.platform.EnableVpcEndpointZoneConnection(enableZone)
	serverError(t, err, 400, "IncorrectStatus.VpcEndpointConnection") // Pending

	require.NoError(t, enable(f.platform, f.svcID, ep, 0))
	connectionStatus(t, f.platform, f.svcID, ep)
	disableZone := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	disableZone.ServiceId, disableZone.EndpointId, disableZone.ZoneId = f.svcID, ep, "cn-hangzhou-h"
	_, err = f.platform.DisableVpcEndpointZoneConnection(disableZone)
	require.NoError(t, err)
	_, err = f.platform.EnableVpcEndpointZoneConnection(enableZone)
	require.NoError(t, err)
	conns := connections(t, f.platform, f.svcID, nil)
	assert.Equal(t, "Connected", conns[0].Zones[0].ZoneStatus)
}

func TestDryRunChangesNothing(t *testing.T) {
	f := newFixture(t)
	add := privatelink.CreateAddUserToVpcEndpointServiceRequest()
	add.ServiceId, add.UserId, add.DryRun = f.svcID, requests.Integer(customerUID), requests.NewBoolean(true)
	_, err := f.platform.AddUserToVpcEndpointService(add)
	serverError(t, err, 400, "DryRunOperation")
	_, err = createEndpoint(f.customer, f.svcID, "", "cn-hangzhou-h")
	serverError(t, err, 400, "EndpointServiceNotAuthorized")
}

func TestThrottlingAndCounting(t *testing.T) {
	f := newFixture(t)
	list := func() error {
		_, err := f.platform.ListVpcEndpointServices(privatelink.CreateListVpcEndpointServicesRequest())
		return err
	}
	f.m.Throttle("ListVpcEndpointServices", 2, "Throttling")
	serverError(t, list(), 400, "Throttling")
	_, err := f.customer.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())
	require.NoError(t, err, "another action is not throttled")
	serverError(t, list(), 400, "Throttling")
	require.NoError(t, list(), "two calls only")

	f.m.Throttle("", 1, "ServiceUnavailable")
	serverError(t, list(), 503, "ServiceUnavailable")
	f.m.Throttle("", 1, "Throttling.User")
	_, err = f.platformNLB.ListListeners(nlbListRequest(f.lbID))
	serverError(t, err, 400, "Throttling.User")
	f.m.Fail("ListVpcEndpoints", 1, 500, "InternalError", "the model fails on purpose")
	_, err = f.customer.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())
	se := serverError(t, err, 500, "InternalError")
	assert.Equal(t, "the model fails on purpose", se.Message())

	assert.Equal(t, map[string]int{"ListVpcEndpointServices": 4, "ListVpcEndpoints": 2, "ListListeners": 1}, f.m.Calls())
	log := f.m.Log()
	require.Len(t, log, 7)
	assert.Equal(t, Call{Action: "ListVpcEndpointServices", Version: PrivateLinkVersion, Account: platformUID, Region: region, Params: map[string]string{}, Code: "Throttling"}, log[0])
	assert.Equal(t, "", log[1].Code)
	assert.Equal(t, customerUID, log[1].Account)
	assert.Equal(t, "ServiceUnavailable", log[4].Code)
	assert.Equal(t, NLBVersion, log[5].Version)
	assert.Equal(t, map[string]string{"LoadBalancerIds.1": f.lbID}, log[5].Params)

	f.m.ResetCalls()
	assert.Empty(t, f.m.Calls())
	assert.Empty(t, f.m.Log())
}

// TestConcurrentCalls serves many clients at once. Each goroutine has its
// own client: the SDK's Client (v1.63.107) sets its http.Client's timeout
// and transport on every request, so sharing one between goroutines is a
// data race in the SDK itself.
func TestConcurrentCalls(t *testing.T) {
	f := newFixture(t)
	allow(t, f, f.svcID, customerUID)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		customer := f.client(t, "AKIDcustomer", "customer-secret")
		platform := f.client(t, "AKIDplatform", "platform-secret")
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := createEndpoint(customer, f.svcID, fmt.Sprintf("token-%d", i%10), "cn-hangzhou-h")
			errs <- err
		}()
		go func() {
			defer wg.Done()
			req := privatelink.CreateListVpcEndpointConnectionsRequest()
			req.ServiceId = f.svcID
			_, err := platform.ListVpcEndpointConnections(req)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Len(t, connections(t, f.platform, f.svcID, nil), 10, "one endpoint per token")
	assert.Equal(t, 20, f.m.Calls()["CreateVpcEndpoint"])
}

func TestDescribeZones(t *testing.T) {
	f := newFixture(t)
	resp, err := f.platform.DescribeZones(privatelink.CreateDescribeZonesRequest())
	require.NoError(t, err)
	var ids []string
	for _, z := range resp.Zones.Zone {
		ids = append(ids, z.ZoneId)
		assert.NotEmpty(t, z.LocalName)
	}
	assert.Equal(t, knownZones[region], ids)
}
