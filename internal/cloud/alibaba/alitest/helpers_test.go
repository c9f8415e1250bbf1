package alitest

import (
	"errors"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/nlb"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud/cloudtest"
)

// *Model is the customer of the conformance suite as it is.
var _ cloudtest.Customer = (*Model)(nil)

const (
	region      = "cn-hangzhou"
	platformUID = "1234567890123456"
	customerUID = "2234567890123456"
	otherUID    = "3234567890123456"
)

// fixture is a model with three accounts and a platform service.
type fixture struct {
	m                   *Model
	host                string
	platform, customer  *privatelink.Client
	other               *privatelink.Client
	platformNLB         *nlb.Client
	svcID, svcName      string
	lbID, serverGroupID string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	m := New()
	m.AddAccount(platformUID, "AKIDplatform", "platform-secret")
	m.AddAccount(customerUID, "AKIDcustomer", "customer-secret")
	m.AddAccount(otherUID, "AKIDother", "other-secret")
	f := &fixture{m: m, host: m.Start(t), lbID: "nlb-platform0000000001", serverGroupID: "sgp-platform0000000001"}
	f.svcID, f.svcName = m.AddService(ServiceSpec{
		Owner: platformUID, Region: region, Zones: []string{"cn-hangzhou-h", "cn-hangzhou-i"},
		Tags:           map[string]string{"linkwright:project": "p1", "linkwright:environment": "prod"},
		LoadBalancerID: f.lbID, ServerGroupID: f.serverGroupID,
	})
	f.platform = f.client(t, "AKIDplatform", "platform-secret")
	f.customer = f.client(t, "AKIDcustomer", "customer-secret")
	f.other = f.client(t, "AKIDother", "other-secret")
	var err error
	f.platformNLB, err = NewNLBClient(f.host, region, "AKIDplatform", "platform-secret")
	require.NoError(t, err)
	return f
}

func (f *fixture) client(t *testing.T, id, secret string) *privatelink.Client {
	t.Helper()
	c, err := NewPrivateLinkClient(f.host, region, id, secret)
	require.NoError(t, err)
	return c
}

// serverError asserts err is the SDK's ServerError with code and status.
func serverError(t *testing.T, err error, status int, code string) *sdkerrors.ServerError {
	t.Helper()
	var se *sdkerrors.ServerError
	require.True(t, errors.As(err, &se), "want a ServerError %s, got %v", code, err)
	require.Equal(t, code, se.ErrorCode(), se.Message())
	require.Equal(t, status, se.HttpStatus())
	return se
}

// createEndpoint creates an endpoint with the typed SDK.
func createEndpoint(c *privatelink.Client, serviceID, token string, zones ...string) (*privatelink.CreateVpcEndpointResponse, error) {
	req := privatelink.CreateCreateVpcEndpointRequest()
	req.ServiceId = serviceID
	req.VpcId = "vpc-consumer"
	req.EndpointName = "test"
	req.ClientToken = token
	req.SecurityGroupId = &[]string{"sg-consumer"}
	var zs []privatelink.CreateVpcEndpointZone
	for _, z := range zones {
		zs = append(zs, privatelink.CreateVpcEndpointZone{ZoneId: z, VSwitchId: "vsw-" + z})
	}
	req.Zone = &zs
	return c.CreateVpcEndpoint(req)
}

// connections lists every connection to a service, page by page.
func connections(t *testing.T, c *privatelink.Client, serviceID string, set func(*privatelink.ListVpcEndpointConnectionsRequest)) []privatelink.Connection {
	t.Helper()
	var out []privatelink.Connection
	token := ""
	for range 100 {
		req := privatelink.CreateListVpcEndpointConnectionsRequest()
		req.ServiceId = serviceID
		req.NextToken = token
		if set != nil {
			set(req)
		}
		resp, err := c.ListVpcEndpointConnections(req)
		require.NoError(t, err)
		out = append(out, resp.Connections...)
		if token = resp.NextToken; token == "" {
			return out
		}
	}
	t.Fatal("NextToken never ends")
	return nil
}

// connectionStatus reads one connection's status as the service owner.
func connectionStatus(t *testing.T, c *privatelink.Client, serviceID, endpointID string) string {
	t.Helper()
	conns := connections(t, c, serviceID, func(r *privatelink.ListVpcEndpointConnectionsRequest) { r.EndpointId = endpointID })
	require.Len(t, conns, 1)
	return conns[0].ConnectionStatus
}

func enable(c *privatelink.Client, serviceID, endpointID string, bandwidth int) error {
	req := privatelink.CreateEnableVpcEndpointConnectionRequest()
	req.ServiceId, req.EndpointId = serviceID, endpointID
	if bandwidth != 0 {
		req.Bandwidth = requests.NewInteger(bandwidth)
	}
	_, err := c.EnableVpcEndpointConnection(req)
	return err
}

func disable(c *privatelink.Client, serviceID, endpointID string) error {
	req := privatelink.CreateDisableVpcEndpointConnectionRequest()
	req.ServiceId, req.EndpointId = serviceID, endpointID
	_, err := c.DisableVpcEndpointConnection(req)
	return err
}

// common sends a CommonRequest of PrivateLink.
func (f *fixture) common(c *privatelink.Client, action string, params map[string]string) (*responses.CommonResponse, error) {
	req := requests.NewCommonRequest()
	req.Method = requests.POST
	req.Scheme = "http"
	req.Domain = f.host
	req.Version = PrivateLinkVersion
	req.ApiName = action
	for k, v := range params {
		req.QueryParams[k] = v
	}
	return c.ProcessCommonRequest(req)
}
