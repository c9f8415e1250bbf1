package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
)

const (
	alibabaAccount = "1234567890123456"
	alibabaService = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1orders0000000001"
)

var alibabaRef = cloud.EnvRef{Cloud: "alibaba", Region: "cn-hangzhou", Project: "alibaba12345a", Environment: "production"}

// alibabaRequest writes a bidirectional Alibaba Cloud request into the
// customer's service named, and returns its path.
func alibabaRequest(t *testing.T, service string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "alibaba.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"company": "Hangzhou Widgets", "requestedBy": "li@platform.example",
		"projectId": "alibaba12345a", "environment": "production", "cloud": "alibaba", "region": "cn-hangzhou",
		"customerAccount": "`+alibabaAccount+`", "connectionType": "bidirectional", "services": [{"name": "mysql", "port": 3306}],
		"customerEndpointService": "`+service+`", "customerServicePorts": [15432]}`), 0o644))
	return path
}

// customerDone runs a customer action that tells the workflow, with no
// Temporal to tell: the cloud action is done, and the command says the
// workflow was not told.
func customerDone(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := cli(append([]string{"customer"}, args...)...)
	require.Equal(t, exitFailed, code, "out: %s\nerr: %s", out, errOut)
	require.Contains(t, errOut, "the cloud action is done, but the workflow was not told", out)
	return out
}

// An Alibaba Cloud customer, named by their UID, acts on the simulated
// cloud: connect (also from another region), grant with zone IDs, zones,
// accept, reject, show, break and repair a port, delete an endpoint,
// revoke.
func TestAlibabaCustomerOnTheSimulatedCloud(t *testing.T) {
	c := onSimulatedCloud(t)
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1") // no workflow to tell
	ctx := context.Background()
	req := alibabaRequest(t, alibabaService)
	env, err := c.Environment(ctx, alibabaRef)
	require.NoError(t, err)
	require.NoError(t, c.AllowAccount(ctx, alibabaRef, alibabaAccount))

	out := customerDone(t, "connect", "-f", req)
	assert.Regexp(t, `Customer `+alibabaAccount+` created endpoint ep-[a-z0-9]{20} to `+strings.ReplaceAll(env.ServiceName, ".", `\.`)+` \(pending-acceptance\)`, out)
	out = customerDone(t, "connect", "-f", req, "--region", "cn-shanghai")
	assert.Contains(t, out, " from cn-shanghai (pending-acceptance)")
	code, _, errOut := cli("customer", "connect", "-f", req, "--region", "cn-beijing")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "supports consumers from cn-hangzhou, cn-shanghai only, not from cn-beijing")
	conns, err := c.Connections(ctx, alibabaRef, alibabaAccount)
	require.NoError(t, err)
	require.Len(t, conns, 2)
	require.NoError(t, c.AcceptConnectionsWithBandwidth(ctx, alibabaRef, []string{conns[0].ID}, 2000))

	customerDone(t, "grant", "-f", req, "--zones", "cn-hangzhou-h,cn-hangzhou-i")
	z, err := c.Zones(ctx, alibabaRef, alibabaService)
	require.NoError(t, err)
	assert.Equal(t, []string{"cn-hangzhou-h", "cn-hangzhou-i"}, z.Service)
	out = customerDone(t, "zones", "-f", req, "--zones", "cn-hangzhou-i,cn-hangzhou-k")
	assert.Contains(t, out, "offers "+alibabaService+" in zones cn-hangzhou-i, cn-hangzhou-k")
	z, err = c.Zones(ctx, alibabaRef, alibabaService)
	require.NoError(t, err)
	assert.Equal(t, []string{"cn-hangzhou-h"}, z.Missing())
	code, _, errOut = cli("customer", "zones", "-f", req, "--zones", "cn-hangzhou-z")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "cn-hangzhou-h, cn-hangzhou-i, cn-hangzhou-j, cn-hangzhou-k")

	ep, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: alibabaRef, Service: alibabaService, Token: "t1"})
	require.NoError(t, err)
	out = customerDone(t, "accept", "-f", req)
	assert.Contains(t, out, "accepted the platform's endpoint "+ep.ID)
	got, err := c.DescribeEndpoint(ctx, alibabaRef, ep.ID)
	require.NoError(t, err)
	assert.Equal(t, cloud.StateProvisioning, got.State)

	code, out, errOut = cli("customer", "show", "-f", req)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, ep.ID+"  the platform's, into your "+alibabaService)
	assert.Regexp(t, `ep-[a-z0-9]{20}  yours, to \S+  \S+  bandwidth 2000 Mbps`, out)
	assert.Contains(t, out, "  in cn-shanghai")
	assert.Contains(t, out, "Your service "+alibabaService+" is offered in zones cn-hangzhou-i, cn-hangzhou-k; it takes consumers from cn-hangzhou.")
	assert.Contains(t, out, "Zones in cn-hangzhou (zone IDs, the same in every account): cn-hangzhou-h, cn-hangzhou-i, cn-hangzhou-j, cn-hangzhou-k")

	time.Sleep(sim.DefaultSettle) // available
	code, out, errOut = cli("customer", "break-port", "-f", req, "--port", "15432")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "Port 15432 of "+ep.ID+" now refuses connections.")
	out = customerDone(t, "repair-port", "-f", req, "--port", "15432")
	assert.Contains(t, out, "answers again")
	out = customerDone(t, "verify", "-f", req)
	assert.Empty(t, out, "verify only tells")

	second, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: alibabaRef, Service: alibabaService, Token: "t2"})
	require.NoError(t, err)
	out = customerDone(t, "reject", "-f", req)
	assert.Contains(t, out, "rejected the platform's endpoint "+second.ID)
	got, err = c.DescribeEndpoint(ctx, alibabaRef, second.ID)
	require.NoError(t, err)
	assert.True(t, got.State.Terminal(), "%s", got.State)

	code, out, errOut = cli("customer", "delete-endpoint", "-f", req, "--id", conns[1].ID)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "deleted endpoint "+conns[1].ID)
	code, out, errOut = cli("customer", "revoke", "-f", req)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "removed "+sim.PlatformAlibabaAccount+" from "+alibabaService)
	visible, err := c.ServiceVisible(ctx, alibabaRef, alibabaService)
	require.NoError(t, err)
	assert.False(t, visible)
}

// The customer's service in another region than the platform's takes the
// platform once the customer adds the platform's region (grant --regions).
func TestAlibabaCustomerGrantsAcrossRegions(t *testing.T) {
	c := onSimulatedCloud(t)
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
	ctx := context.Background()
	const shanghai = "com.aliyuncs.privatelink.cn-shanghai.epsrv-bp1shanghai00000001"
	req := alibabaRequest(t, shanghai)

	customerDone(t, "grant", "-f", req)
	_, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: alibabaRef, Service: shanghai, Token: "t1"})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "got %v", err)

	out := customerDone(t, "grant", "-f", req, "--regions", "cn-hangzhou")
	assert.Contains(t, out, shanghai+" takes consumers from cn-hangzhou too")
	_, err = c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: alibabaRef, Service: shanghai, Token: "t1"})
	require.NoError(t, err)
	code, out, _ := cli("customer", "show", "-f", req)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "is offered in zones cn-shanghai-e, cn-shanghai-f, cn-shanghai-g; it takes consumers from cn-shanghai, cn-hangzhou.")

	code, _, errOut := cli("customer", "grant", "-f", req, "--regions", "cn-mars")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, `"cn-mars" is not an Alibaba Cloud region`)
	code, _, errOut = cli("customer", "accept", "-f", req, "--region", "cn-shanghai")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "--region is for customer connect")
	code, _, errOut = cli("customer", "connect", "-f", req, "--regions", "cn-shanghai")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "--regions is for customer grant")
}

// A request whose customer connects from another region: customer connect
// connects from there unless --region says otherwise.
func TestAlibabaCustomerConnectsFromTheRequestsCustomerRegion(t *testing.T) {
	c := onSimulatedCloud(t)
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1") // no workflow to tell
	require.NoError(t, c.AllowAccount(context.Background(), alibabaRef, alibabaAccount))
	path := filepath.Join(t.TempDir(), "cross.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"company": "Hangzhou Widgets", "requestedBy": "li@platform.example",
		"projectId": "alibaba12345a", "environment": "production", "cloud": "alibaba", "region": "cn-hangzhou",
		"customerAccount": "`+alibabaAccount+`", "customerRegion": "cn-shanghai", "connectionType": "unidirectional",
		"services": [{"name": "mysql", "port": 3306}]}`), 0o644))
	assert.Contains(t, customerDone(t, "connect", "-f", path), " from cn-shanghai (pending-acceptance)")
	assert.NotContains(t, customerDone(t, "connect", "-f", path, "--region", "cn-hangzhou"), " from ")
}
