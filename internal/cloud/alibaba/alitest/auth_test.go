package alitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignedCallsOfTheSDKAreAccepted(t *testing.T) {
	f := newFixture(t)
	req := privatelink.CreateListVpcEndpointServicesRequest()
	resp, err := f.platform.ListVpcEndpointServices(req)
	require.NoError(t, err)
	require.Len(t, resp.Services, 1)
	assert.Equal(t, f.svcID, resp.Services[0].ServiceId)
	assert.NotEmpty(t, resp.RequestId)

	// Values that percent-encoding treats specially go through the
	// signature intact, query and form alike.
	tricky := "a b*c~d/e+f&g=h%é"
	allow(t, f, f.svcID, customerUID)
	ep, err := createEndpointDescribed(f.customer, f.svcID, tricky)
	require.NoError(t, err)
	get := privatelink.CreateGetVpcEndpointAttributeRequest()
	get.EndpointId = ep
	got, err := f.customer.GetVpcEndpointAttribute(get)
	require.NoError(t, err)
	assert.Equal(t, tricky, got.EndpointDescription)

	listeners, err := f.platformNLB.ListListeners(nlbListRequest(f.lbID))
	require.NoError(t, err, "NLB sends some parameters in the form body")
	assert.Empty(t, listeners.Listeners)
}

func createEndpointDescribed(c *privatelink.Client, serviceID, desc string) (string, error) {
	req := privatelink.CreateCreateVpcEndpointRequest()
	req.ServiceId, req.VpcId, req.EndpointDescription = serviceID, "vpc-1", desc
	req.SecurityGroupId = &[]string{"sg-1"}
	req.Zone = &[]privatelink.CreateVpcEndpointZone{{ZoneId: "cn-hangzhou-h", VSwitchId: "vsw-1"}}
	resp, err := c.CreateVpcEndpoint(req)
	if err != nil {
		return "", err
	}
	return resp.EndpointId, nil
}

func TestAWrongSecretIsSignatureDoesNotMatch(t *testing.T) {
	f := newFixture(t)
	bad := f.client(t, "AKIDplatform", "not-the-secret")
	_, err := bad.ListVpcEndpointServices(privatelink.CreateListVpcEndpointServicesRequest())
	se := serverError(t, err, 400, "SignatureDoesNotMatch")
	assert.Contains(t, se.Message(), "server string to sign is:POST&%2F&")
	assert.Contains(t, se.Recommend(), "InvalidAccessKeySecret", "the SDK recognises the string to sign as its own")
	assert.Empty(t, f.m.Calls(), "an unauthenticated call is not counted")
}

func TestAnUnknownAccessKeyIsNotFound(t *testing.T) {
	f := newFixture(t)
	stranger := f.client(t, "AKIDnobody", "whatever")
	_, err := stranger.ListVpcEndpointServices(privatelink.CreateListVpcEndpointServicesRequest())
	serverError(t, err, 404, "InvalidAccessKeyId.NotFound")
}

// signedParams are the parameters of a correctly signed raw request.
func signedParams(action string, extra map[string]string) map[string]string {
	p := map[string]string{
		"Action": action, "Version": PrivateLinkVersion, "RegionId": region, "Format": "JSON",
		"AccessKeyId": "AKIDplatform", "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
		"SignatureNonce": "nonce-" + time.Now().Format(time.RFC3339Nano), "Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05Z"),
	}
	for k, v := range extra {
		p[k] = v
	}
	p["Signature"] = Sign(StringToSign("POST", p), "platform-secret")
	return p
}

// post sends raw parameters in the query and returns the status and the
// error code of the answer.
func post(t *testing.T, host string, p map[string]string) (int, string) {
	t.Helper()
	q := url.Values{}
	for k, v := range p {
		q.Set(k, v)
	}
	resp, err := http.Post("http://"+host+"/?"+q.Encode(), "application/x-www-form-urlencoded", strings.NewReader(""))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var answer struct{ Code, Message string }
	require.NoError(t, json.Unmarshal(body, &answer), string(body))
	return resp.StatusCode, answer.Code
}

func TestEverySignatureParameterIsRequired(t *testing.T) {
	f := newFixture(t)
	status, code := post(t, f.host, signedParams("ListVpcEndpointServices", nil))
	require.Equal(t, 200, status, "a hand-signed request passes: %s", code)
	for _, name := range []string{"SignatureNonce", "Timestamp", "Signature", "AccessKeyId", "SignatureMethod", "SignatureVersion", "Format", "Version", "Action", "RegionId"} {
		p := signedParams("ListVpcEndpointServices", nil)
		delete(p, name)
		status, code := post(t, f.host, p)
		assert.Equal(t, 400, status, name)
		assert.Equal(t, "Missing"+name, code, name)
	}
	p := signedParams("ListVpcEndpointServices", map[string]string{"SignatureMethod": "HMAC-SHA256"})
	_, code = post(t, f.host, p)
	assert.Equal(t, "IncompleteSignature", code)
	p = signedParams("ListVpcEndpointServices", map[string]string{"Timestamp": time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05Z")})
	_, code = post(t, f.host, p)
	assert.Equal(t, "InvalidTimeStamp.Expired", code)
}

func TestASignatureNonceIsUsedOnce(t *testing.T) {
	f := newFixture(t)
	p := signedParams("ListVpcEndpointServices", nil)
	status, _ := post(t, f.host, p)
	require.Equal(t, 200, status)
	status, code := post(t, f.host, p)
	assert.Equal(t, 400, status)
	assert.Equal(t, "SignatureNonceUsed", code)
}

func TestATamperedParameterBreaksTheSignature(t *testing.T) {
	f := newFixture(t)
	p := signedParams("ListVpcEndpointConnections", map[string]string{"ServiceId": f.svcID})
	p["ServiceId"] = "epsrv-someoneelse"
	status, code := post(t, f.host, p)
	assert.Equal(t, 400, status)
	assert.Equal(t, "SignatureDoesNotMatch", code)
}

func TestUnknownActionsAndVersions(t *testing.T) {
	f := newFixture(t)
	_, err := f.common(f.platform, "FrobnicateVpcEndpoint", map[string]string{})
	serverError(t, err, 404, "InvalidAction.NotFound")

	req := requests.NewCommonRequest()
	req.Domain, req.Version, req.ApiName = f.host, "2019-01-01", "ListVpcEndpointServices"
	_, err = f.platform.ProcessCommonRequest(req)
	serverError(t, err, 400, "InvalidVersion")

	req = requests.NewCommonRequest()
	req.Domain, req.Version, req.ApiName = f.host, NLBVersion, "ListVpcEndpointServices"
	_, err = f.platform.ProcessCommonRequest(req)
	se := serverError(t, err, 400, "InvalidVersion")
	assert.Contains(t, se.Message(), PrivateLinkVersion, "the message says the action's version")
}

func TestRequiredParametersAreChecked(t *testing.T) {
	f := newFixture(t)
	_, err := f.platform.ListVpcEndpointConnections(privatelink.CreateListVpcEndpointConnectionsRequest())
	serverError(t, err, 400, "MissingServiceId")

	req := privatelink.CreateEnableVpcEndpointConnectionRequest()
	req.ServiceId = f.svcID
	_, err = f.platform.EnableVpcEndpointConnection(req)
	serverError(t, err, 400, "MissingEndpointId")

	zreq := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	zreq.ServiceId, zreq.EndpointId = f.svcID, "ep-x"
	_, err = f.platform.DisableVpcEndpointZoneConnection(zreq)
	serverError(t, err, 400, "MissingZoneId")

	_, err = f.platform.AddUserToVpcEndpointService(func() *privatelink.AddUserToVpcEndpointServiceRequest {
		r := privatelink.CreateAddUserToVpcEndpointServiceRequest()
		r.ServiceId = f.svcID
		return r
	}())
	serverError(t, err, 400, "MissingParam.UserArn")

	creq := privatelink.CreateCreateVpcEndpointRequest()
	creq.ServiceId = f.svcID
	_, err = f.customer.CreateVpcEndpoint(creq)
	serverError(t, err, 400, "MissingVpcId")

	lreq := nlbCreateRequest(f.lbID, f.serverGroupID, 443)
	lreq.ServerGroupId = ""
	_, err = f.platformNLB.CreateListener(lreq)
	serverError(t, err, 400, "MissingServerGroupId")

	assert.Equal(t, []string{"ServiceId", "EndpointId"}, Required("EnableVpcEndpointConnection"))
	calls := f.m.Calls()
	assert.Equal(t, 1, calls["ListVpcEndpointConnections"], "refused calls are counted")
	assert.Equal(t, 1, calls["CreateListener"])
}
