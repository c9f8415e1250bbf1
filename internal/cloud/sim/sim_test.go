package sim

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/cloudtest"
)

type customers struct {
	c     *Cloud
	cloud string
}

func (cs customers) CreateEndpoint(account, service string) (string, error) {
	ep, err := cs.c.Customer(cs.cloud, account).CreateEndpoint(service)
	return ep.ID, err
}
func (cs customers) Grant(account, service, principal string, ports []int) error {
	return cs.c.Customer(cs.cloud, account).Grant(service, principal, ports)
}
func (cs customers) AcceptEndpoint(account, id string) error {
	return cs.c.Customer(cs.cloud, account).AcceptEndpoint(id)
}
func (cs customers) RejectEndpoint(account, id string) error {
	return cs.c.Customer(cs.cloud, account).RejectEndpoint(id)
}

func newCloud(t *testing.T) *Cloud {
	c := Open(t.TempDir())
	c.Settle = 100 * time.Millisecond
	return c
}

func TestConformanceAWS(t *testing.T) {
	c := newCloud(t)
	cloudtest.Run(t, cloudtest.Harness{
		Provider: c, Customer: customers{c, "aws"},
		Env:     cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: "abcd1234efgh5", Environment: "production"},
		Account: "123456789012", Other: "000000000000",
		CustomerService: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
		Ports:           []int{3306, 2222},
	})
}

func TestConformanceAzure(t *testing.T) {
	c := newCloud(t)
	cloudtest.Run(t, cloudtest.Harness{
		Provider: c, Customer: customers{c, "azure"},
		Env:     cloud.EnvRef{Cloud: "azure", Region: "westeurope", Project: "azure1234abcd", Environment: "production"},
		Account: "00000000-1111-2222-3333-444444444444", Other: "00000000-1111-2222-3333-000000000000",
		CustomerService: "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.Network/privateLinkServices/pls-orders",
		Ports:           []int{5432, 8080},
	})
}

var prodAWS = cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: "abcd1234efgh5", Environment: "production"}

func TestStateSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	require.NoError(t, Open(dir).AllowAccount(ctx, prodAWS, "123456789012"))
	ep, err := Open(dir).Customer("aws", "123456789012").CreateEndpoint(mustEnv(t, Open(dir)).ServiceName)
	require.NoError(t, err)
	conns, err := Open(dir).Connections(ctx, prodAWS, "123456789012")
	require.NoError(t, err)
	require.Len(t, conns, 1)
	assert.Equal(t, ep.ID, conns[0].ID)
}

func TestConcurrentWritersLoseNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var wg sync.WaitGroup
	accounts := []string{"100000000001", "100000000002", "100000000003", "100000000004", "100000000005", "100000000006"}
	for _, a := range accounts {
		wg.Go(func() { assert.NoError(t, Open(dir).AllowAccount(ctx, prodAWS, a)) })
	}
	wg.Wait()
	svc := mustEnv(t, Open(dir)).ServiceName
	for _, a := range accounts {
		_, err := Open(dir).Customer("aws", a).CreateEndpoint(svc)
		assert.NoError(t, err, "account %s was allowed by a concurrent writer", a)
	}
}

func mustEnv(t *testing.T, c *Cloud) cloud.Environment {
	env, err := c.Environment(context.Background(), prodAWS)
	require.NoError(t, err)
	return env
}

func TestSeededInventory(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	env := mustEnv(t, c)
	assert.Equal(t, "pro", env.Plan)
	assert.Regexp(t, `^com\.amazonaws\.vpce\.us-east-1\.vpce-svc-[0-9a-f]{17}$`, env.ServiceName)
	assert.Equal(t, "arn:aws:iam::"+PlatformAWSAccount+":root", env.Principal)
	starter, err := c.Environment(ctx, cloud.EnvRef{Cloud: "aws", Project: "start3r0000ab", Environment: "production"})
	require.NoError(t, err)
	assert.Equal(t, "starter", starter.Plan)
	eu, err := c.Environment(ctx, cloud.EnvRef{Cloud: "aws", Project: "eu7k2m9p4q1xz", Environment: "production"})
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", eu.Region)
	az, err := c.Environment(ctx, cloud.EnvRef{Cloud: "azure", Project: "azure1234abcd", Environment: "staging"})
	require.NoError(t, err)
	assert.Contains(t, az.ServiceName, ".westeurope.azure.privatelinkservice")
	err = c.OpenPorts(ctx, az.EnvRef, []int{443})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "the sim refuses 443 on Azure as a guard")
}

// The reverse endpoint is a real socket: resolvable in the sim's zone,
// reachable when available, refused when the customer breaks the port.
func TestReverseEndpointIsARealSocket(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	env := mustEnv(t, c)
	const svc = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
	cu := c.Customer("aws", "123456789012")
	require.NoError(t, cu.Grant(svc, env.Principal, []int{15432}))
	ep, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: svc, Token: "t1"})
	require.NoError(t, err)
	pending, err := cu.PendingOnService(svc)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.NoError(t, cu.AcceptEndpoint(ep.ID))
	time.Sleep(150 * time.Millisecond) // Settle

	ls := c.Listeners()
	defer ls.Close()
	require.NoError(t, ls.Reconcile())
	addrs, err := c.Resolver().LookupHost(ctx, ep.DNSName)
	require.NoError(t, err)
	require.Equal(t, ep.IPs, addrs)
	addr := net.JoinHostPort(addrs[0], "15432")
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	assert.True(t, strings.HasPrefix(line, "linkwright simulated"), "banner %q", line)

	require.NoError(t, cu.BreakPort(ep.ID, 15432))
	require.NoError(t, ls.Reconcile())
	_, err = net.DialTimeout("tcp", addr, time.Second)
	assert.Error(t, err, "a broken port refuses")

	require.NoError(t, cu.RepairPort(ep.ID, 15432))
	require.NoError(t, ls.Reconcile())
	conn, err = net.DialTimeout("tcp", addr, time.Second)
	require.NoError(t, err)
	conn.Close()

	_, err = c.Resolver().LookupHost(ctx, "vpce-nothing.us-east-1."+Zone)
	var dnsErr *net.DNSError
	require.ErrorAs(t, err, &dnsErr)
	assert.True(t, dnsErr.IsNotFound)
}
