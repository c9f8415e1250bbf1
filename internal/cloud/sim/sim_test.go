package sim

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
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
func (cs customers) DeleteEndpoint(account, id string) error {
	return cs.c.Customer(cs.cloud, account).DeleteEndpoint(id)
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
		CustomerService:      "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
		OtherCustomerService: "com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210",
		Ports:                []int{3306, 2222},
	})
}

func TestConformanceAzure(t *testing.T) {
	c := newCloud(t)
	cloudtest.Run(t, cloudtest.Harness{
		Provider: c, Customer: customers{c, "azure"},
		Env:     cloud.EnvRef{Cloud: "azure", Region: "westeurope", Project: "azure1234abcd", Environment: "production"},
		Account: "00000000-1111-2222-3333-444444444444", Other: "00000000-1111-2222-3333-000000000000",
		CustomerService:      "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.Network/privateLinkServices/pls-orders",
		OtherCustomerService: "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.Network/privateLinkServices/pls-billing",
		Ports:                []int{5432, 8080},
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
	ls := c.Listeners()
	defer ls.Close()
	require.Eventually(t, func() bool { // settled
		return ls.Reconcile() == nil && len(ls.Addrs()) == 1
	}, 5*time.Second, 10*time.Millisecond)
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

// A resolver that cannot read its state has not answered: that is a
// temporary DNS failure to retry, never "no such host", which would tell
// the customer their endpoint does not resolve.
func TestResolverFailureIsTemporaryNotNotFound(t *testing.T) {
	dir := t.TempDir()
	c := Open(dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cloud.json"), []byte("not json"), 0o644))
	host := "vpce-0123.us-east-1." + Zone
	_, err := c.Resolver().LookupHost(context.Background(), host)
	var dnsErr *net.DNSError
	require.ErrorAs(t, err, &dnsErr)
	assert.True(t, dnsErr.IsTemporary, "could not answer now: %v", err)
	assert.False(t, dnsErr.IsNotFound, "not a real answer: %v", err)
	assert.Equal(t, host, dnsErr.Name)
	assert.Nil(t, dnsErr.Unwrap(), "wraps nothing")
	assert.NotContains(t, dnsErr.Error(), dir, "a long internal cause stays out")
	assert.Contains(t, dnsErr.Error(), "could not answer")

	short := unanswered(host, errors.New("disk full"))
	assert.Contains(t, short.Error(), "disk full", "a short cause is kept")

	// A database that is not one fails the same way.
	dir = t.TempDir()
	c = Open(dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, dbFile), []byte("not a database, at length: "+strings.Repeat("x", 4096)), 0o644))
	_, err = c.Resolver().LookupHost(context.Background(), host)
	require.ErrorAs(t, err, &dnsErr)
	assert.True(t, dnsErr.IsTemporary, "could not answer now: %v", err)
	assert.False(t, dnsErr.IsNotFound, "not a real answer: %v", err)
	_, err = c.Environment(context.Background(), prodAWS)
	assert.ErrorContains(t, err, "is unreadable (delete it to start afresh)")
}

func TestServiceStateReadsPortsAndAccounts(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	st, err := c.ServiceState(ctx, prodAWS)
	require.NoError(t, err)
	assert.Equal(t, cloud.ServiceState{OpenPorts: []int{}, Accounts: []string{}}, st, "nothing open or allowed: empty, not nil")

	require.NoError(t, c.OpenPorts(ctx, prodAWS, []int{3306, 2222}))
	require.NoError(t, c.AllowAccount(ctx, prodAWS, "999999999999"))
	require.NoError(t, c.AllowAccount(ctx, prodAWS, "123456789012"))
	// Principals that name no one account (set behind the provider's back).
	require.NoError(t, c.update(func(t *tx) error {
		_, svc, err := t.platformService(prodAWS)
		if err != nil {
			return err
		}
		svc.Allowed = append(svc.Allowed, "*", "arn:aws:iam::123456789012:role/ops")
		return t.putService(svc)
	}))
	st, err = c.ServiceState(ctx, prodAWS)
	require.NoError(t, err)
	assert.Equal(t, []int{2222, 3306}, st.OpenPorts)
	assert.Equal(t, []string{"123456789012", "999999999999"}, st.Accounts)

	az := cloud.EnvRef{Cloud: "azure", Project: "azure1234abcd", Environment: "production"}
	require.NoError(t, c.AllowAccount(ctx, az, "00000000-1111-2222-3333-ABCDEFABCDEF"))
	st, err = c.ServiceState(ctx, az)
	require.NoError(t, err)
	assert.Equal(t, []string{"00000000-1111-2222-3333-abcdefabcdef"}, st.Accounts, "subscriptions in lower case")

	_, err = c.ServiceState(ctx, cloud.EnvRef{Cloud: "aws", Project: "nosuchproject1", Environment: "production"})
	assert.True(t, cloud.IsNotFound(err), "got %v", err)
}

func TestPlatformEndpointsAreThePlatformsIntoOneService(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { now = now.Add(time.Minute); return now }
	env := mustEnv(t, c)
	const svc = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
	cu := c.Customer("aws", "123456789012")
	require.NoError(t, cu.Grant(svc, env.Principal, []int{15432}))
	first, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: svc, Token: "run-1"})
	require.NoError(t, err)
	require.NoError(t, cu.RejectEndpoint(first.ID))
	second, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: svc, Token: "run-2"})
	require.NoError(t, err)
	gone, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: svc, Token: "run-3"})
	require.NoError(t, err)
	require.NoError(t, c.DeleteEndpoint(ctx, prodAWS, gone.ID))
	// The customer's own endpoint into the platform is not the platform's.
	require.NoError(t, c.AllowAccount(ctx, prodAWS, "123456789012"))
	_, err = cu.CreateEndpoint(env.ServiceName)
	require.NoError(t, err)

	eps, err := c.PlatformEndpoints(ctx, prodAWS, strings.ToUpper(svc))
	require.NoError(t, err)
	require.Len(t, eps, 2, "rejected included, deleted left out: %+v", eps)
	assert.Equal(t, second.ID, eps[0].ID, "newest first")
	assert.Equal(t, first.ID, eps[1].ID)
	assert.Equal(t, cloud.StateRejected, eps[1].State)
	assert.True(t, eps[0].Created.After(eps[1].Created))
	assert.Equal(t, second.Created, eps[0].Created)

	eps, err = c.PlatformEndpoints(ctx, prodAWS, env.ServiceName)
	require.NoError(t, err)
	assert.Empty(t, eps, "customers' endpoints into the platform service are not the platform's")
	eps, err = c.PlatformEndpoints(ctx, cloud.EnvRef{Cloud: "azure", Project: "azure1234abcd", Environment: "production"}, svc)
	require.NoError(t, err)
	assert.Empty(t, eps, "another cloud's endpoints are not listed")
}

func TestAcceptingADeletedConnectionSaysTheCustomerDeletedIt(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	require.NoError(t, c.AllowAccount(ctx, prodAWS, "123456789012"))
	cu := c.Customer("aws", "123456789012")
	ep, err := cu.CreateEndpoint(mustEnv(t, c).ServiceName)
	require.NoError(t, err)
	require.NoError(t, cu.DeleteEndpoint(ep.ID))
	err = c.AcceptConnections(ctx, prodAWS, []string{ep.ID})
	assert.Equal(t, cloud.NotFound, cloud.KindOf(err), "gone, not in a state to fix: %v", err)
	assert.ErrorContains(t, err, "the customer deleted their endpoint before it was accepted")

	err = c.AcceptConnections(ctx, cloud.EnvRef{Cloud: "aws", Project: "nosuchproject1", Environment: "production"}, []string{ep.ID})
	assert.ErrorContains(t, err, "has no production environment", "a missing environment is not a deleted connection")
}

// Inventory reads one environment: not another environment's connections,
// not another cloud's endpoints, not what was deleted.
func TestInventoryIsOneEnvironments(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	c.Now = func() time.Time { now = now.Add(time.Minute); return now }
	env := mustEnv(t, c)
	staging := cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: "abcd1234efgh5", Environment: "staging"}
	stagingEnv, err := c.Environment(ctx, staging)
	require.NoError(t, err)
	const svc = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"

	require.NoError(t, c.OpenPorts(ctx, prodAWS, []int{3306}))
	for _, a := range []string{"123456789012", "999999999999"} {
		require.NoError(t, c.AllowAccount(ctx, prodAWS, a))
		require.NoError(t, c.AllowAccount(ctx, staging, a))
	}
	first, err := c.Customer("aws", "999999999999").CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	second, err := c.Customer("aws", "123456789012").CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	gone, err := c.Customer("aws", "123456789012").CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	require.NoError(t, c.Customer("aws", "123456789012").DeleteEndpoint(gone.ID))
	_, err = c.Customer("aws", "123456789012").CreateEndpoint(stagingEnv.ServiceName)
	require.NoError(t, err)

	cu := c.Customer("aws", "123456789012")
	require.NoError(t, cu.Grant(svc, env.Principal, []int{15432}))
	ep, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: svc, Token: "t1"})
	require.NoError(t, err)
	deleted, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: svc, Token: "t2"})
	require.NoError(t, err)
	require.NoError(t, c.DeleteEndpoint(ctx, prodAWS, deleted.ID))

	inv, err := c.Inventory(ctx, prodAWS, []string{strings.ToUpper(svc)})
	require.NoError(t, err)
	assert.Equal(t, []int{3306}, inv.OpenPorts)
	assert.Equal(t, []string{"123456789012", "999999999999"}, inv.Accounts)
	require.Len(t, inv.Connections, 2, "not the deleted one, not staging's: %+v", inv.Connections)
	assert.Equal(t, cloud.Connection{ID: first.ID, Account: "999999999999", State: cloud.StatePendingAcceptance, Created: first.Created}, inv.Connections[0], "oldest first")
	assert.Equal(t, second.ID, inv.Connections[1].ID)
	require.Len(t, inv.Endpoints, 1, "not the deleted one: %+v", inv.Endpoints)
	assert.Equal(t, ep.ID, inv.Endpoints[0].ID, "services named in any case")

	az, err := c.Inventory(ctx, cloud.EnvRef{Cloud: "azure", Project: "azure1234abcd", Environment: "production"}, []string{svc})
	require.NoError(t, err)
	assert.Equal(t, cloud.Inventory{ServiceState: cloud.ServiceState{OpenPorts: []int{}, Accounts: []string{}},
		Connections: []cloud.Connection{}, Endpoints: []cloud.Endpoint{}}, az, "nothing of AWS's; empty lists, not nil")

	_, err = c.Inventory(ctx, cloud.EnvRef{Cloud: "aws", Project: "nosuchproject1", Environment: "production"}, nil)
	assert.True(t, cloud.IsNotFound(err), "got %v", err)
}

// What a person does by hand on the platform's side: it shows as drift
// and failing health, and a change that changes nothing says so.
func TestByHandOnThePlatform(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	require.NoError(t, c.OpenPorts(ctx, prodAWS, []int{3306, 2222}))
	require.NoError(t, c.AllowAccount(ctx, prodAWS, "123456789012"))
	op := c.ByHand(prodAWS)

	require.NoError(t, op.BreakTarget(3306))
	targets, err := c.TargetHealth(ctx, prodAWS, []int{3306, 2222})
	require.NoError(t, err)
	assert.False(t, targets[0].Healthy)
	assert.Equal(t, "targets fail their health checks", targets[0].Reason)
	assert.True(t, targets[1].Healthy, "the other port is untouched")
	err = op.BreakTarget(3306)
	assert.Equal(t, cloud.Conflict, cloud.KindOf(err), "broken already: %v", err)
	err = op.BreakTarget(5432)
	assert.Equal(t, cloud.NotFound, cloud.KindOf(err), "not open: %v", err)
	assert.ErrorContains(t, err, "port 5432 is not open")

	require.NoError(t, op.RepairTarget(3306))
	targets, err = c.TargetHealth(ctx, prodAWS, []int{3306})
	require.NoError(t, err)
	assert.True(t, targets[0].Healthy, "healthy again: %s", targets[0].Reason)
	err = op.RepairTarget(3306)
	assert.ErrorContains(t, err, "are not broken (none is)")

	require.NoError(t, op.ClosePort(2222))
	st, err := c.ServiceState(ctx, prodAWS)
	require.NoError(t, err)
	assert.Equal(t, []int{3306}, st.OpenPorts, "drift: the port is gone")
	err = op.ClosePort(2222)
	assert.Equal(t, cloud.NotFound, cloud.KindOf(err))
	assert.ErrorContains(t, err, "port 2222 is not open on aws/us-east-1/abcd1234efgh5/production (open: [3306])")

	conn, err := c.Customer("aws", "123456789012").CreateEndpoint(mustEnv(t, c).ServiceName)
	require.NoError(t, err)
	require.NoError(t, op.RevokeAccount("123456789012"))
	st, err = c.ServiceState(ctx, prodAWS)
	require.NoError(t, err)
	assert.Empty(t, st.Accounts, "drift: the account is no longer allowed")
	conns, err := c.Connections(ctx, prodAWS, "123456789012")
	require.NoError(t, err)
	require.Len(t, conns, 1)
	assert.Equal(t, conn.ID, conns[0].ID, "the account's connection stays, as on the clouds")
	assert.Equal(t, cloud.NotFound, cloud.KindOf(op.RevokeAccount("123456789012")), "revoked already")

	az := cloud.EnvRef{Cloud: "azure", Project: "azure1234abcd", Environment: "production"}
	require.NoError(t, c.AllowAccount(ctx, az, "00000000-1111-2222-3333-abcdefabcdef"))
	require.NoError(t, c.ByHand(az).RevokeAccount("00000000-1111-2222-3333-ABCDEFABCDEF"), "subscriptions in any case")
	st, err = c.ServiceState(ctx, az)
	require.NoError(t, err)
	assert.Empty(t, st.Accounts)

	missing := c.ByHand(cloud.EnvRef{Cloud: "aws", Project: "nosuchproject1", Environment: "production"})
	assert.True(t, cloud.IsNotFound(missing.ClosePort(3306)))
	assert.True(t, cloud.IsNotFound(missing.BreakTarget(3306)))
	assert.True(t, cloud.IsNotFound(missing.RevokeAccount("123456789012")))

	// Another process sees what was done by hand: it is on disk.
	require.NoError(t, op.BreakTarget(3306))
	targets, err = Open(c.dir).TargetHealth(ctx, prodAWS, []int{3306})
	require.NoError(t, err)
	assert.False(t, targets[0].Healthy)
}

func TestZoneIDPrefixIsAWSs(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "use1", "eu-west-1": "euw1", "ap-southeast-2": "apse2",
		"ca-central-1": "cac1", "us-gov-west-1": "usgw1", "ap-northeast-1": "apne1",
	} {
		got, ok := zoneIDPrefix(region)
		assert.True(t, ok, region)
		assert.Equal(t, want, got, region)
	}
	for _, notAWS := range []string{"westeurope", "", "us-east", "-east-1", "us--1"} {
		_, ok := zoneIDPrefix(notAWS)
		assert.False(t, ok, "%q is no AWS region", notAWS)
	}
	assert.Equal(t, []string{"use1-az1", "use1-az2", "use1-az3", "use1-az4", "use1-az5", "use1-az6"}, regionZoneIDs("us-east-1"))
	assert.Equal(t, []string{"euw1-az1", "euw1-az2", "euw1-az3"}, regionZoneIDs("eu-west-1"))
}

// Each account names a region's zones in its own order, as on AWS: the
// platform's and the customers' of the repository's tests and examples
// differ, so that comparing names instead of IDs is wrong.
func TestZoneNamesDifferBetweenAccounts(t *testing.T) {
	c := newCloud(t)
	customers := []string{"123456789012", "111122223333", "210000000099", "999999999999", "444455556666", "000000000000"}
	for _, region := range []string{"us-east-1", "eu-west-1"} {
		platform := c.ZoneNames("aws", PlatformAWSAccount, region)
		ids := regionZoneIDs(region)
		require.Len(t, platform, len(ids))
		assert.ElementsMatch(t, ids, slices.Collect(maps.Values(platform)), "every zone of the region, once")
		for _, a := range customers {
			theirs := c.ZoneNames("aws", a, region)
			assert.ElementsMatch(t, ids, slices.Collect(maps.Values(theirs)), "%s: the same zone IDs", a)
			assert.NotEqual(t, platform, theirs, "%s names the zones of %s otherwise than the platform", a, region)
			assert.Equal(t, theirs, c.ZoneNames("aws", a, region), "%s: the same names every time", a)
		}
	}
	assert.Equal(t, map[string]string{
		"us-east-1a": "use1-az1", "us-east-1b": "use1-az2", "us-east-1c": "use1-az4",
		"us-east-1d": "use1-az5", "us-east-1e": "use1-az6", "us-east-1f": "use1-az3",
	}, c.ZoneNames("aws", PlatformAWSAccount, "us-east-1"))
	// The walkthrough's customer calls the platform's zones e, a and b.
	assert.Equal(t, map[string]string{
		"us-east-1a": "use1-az2", "us-east-1b": "use1-az4", "us-east-1c": "use1-az5",
		"us-east-1d": "use1-az6", "us-east-1e": "use1-az1", "us-east-1f": "use1-az3",
	}, c.Customer("aws", "123456789012").ZoneNames("us-east-1"))

	assert.Nil(t, c.ZoneNames("azure", "00000000-1111-2222-3333-444444444444", "westeurope"), "Azure Private Link is regional")
	assert.Nil(t, c.ZoneNames("aws", "123456789012", "westeurope"), "not an AWS region")
}

func TestSeededDeploymentZones(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	z, err := c.Zones(ctx, prodAWS, "")
	require.NoError(t, err)
	assert.Equal(t, cloud.Zones{Platform: []string{"use1-az1", "use1-az2", "use1-az4"}}, z, "the platform's zones a, b and c")
	eu, err := c.Zones(ctx, cloud.EnvRef{Cloud: "aws", Project: "eu7k2m9p4q1xz", Environment: "production"}, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"euw1-az1", "euw1-az2", "euw1-az3"}, eu.Platform)

	az := cloud.EnvRef{Cloud: "azure", Project: "azure1234abcd", Environment: "production"}
	z, err = c.Zones(ctx, az, "")
	require.NoError(t, err)
	assert.Equal(t, cloud.Zones{Regional: true}, z)
	z, err = c.Zones(ctx, az, "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.Network/privateLinkServices/pls-orders")
	require.NoError(t, err)
	assert.Equal(t, cloud.Zones{Regional: true}, z, "nothing to check on a regional service")

	for _, ref := range []cloud.EnvRef{
		{Cloud: "aws", Project: "nosuchproject1", Environment: "production"},
		{Cloud: "azure", Project: "nosuchproject1", Environment: "production"},
	} {
		_, err = c.Zones(ctx, ref, "")
		assert.True(t, cloud.IsNotFound(err), "got %v", err)
		assert.ErrorContains(t, err, "has no production environment")
	}
}

// The customer picks their service's zones by their own names; the
// platform reads zone IDs and finds which of its zones the service misses.
func TestServiceZonesAsThePlatformSeesThem(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	env := mustEnv(t, c)
	const svc = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
	cu := c.Customer("aws", "123456789012")
	require.NoError(t, cu.Grant(svc, env.Principal, []int{15432}))

	z, err := c.Zones(ctx, prodAWS, strings.ToUpper(svc))
	require.NoError(t, err)
	assert.Equal(t, regionZoneIDs("us-east-1"), z.Service, "Grant offers the service in every zone of its region")
	assert.Empty(t, z.Missing())

	// The platform is in its a, b and c; so is the customer's service, by
	// the customer's names, and yet it misses one of the platform's zones.
	require.NoError(t, cu.SetServiceZones(svc, []string{"us-east-1a", "us-east-1b", "us-east-1c"}))
	z, err = c.Zones(ctx, prodAWS, svc)
	require.NoError(t, err)
	assert.Equal(t, []string{"use1-az1", "use1-az2", "use1-az4"}, z.Platform)
	assert.Equal(t, []string{"use1-az2", "use1-az4", "use1-az5"}, z.Service, "the customer's a, b and c as IDs")
	assert.Equal(t, []string{"use1-az1"}, z.Missing(), "the customer calls it us-east-1e")

	// Two of the platform's three zones, named in any case, one twice.
	names := cu.ZoneNames("us-east-1")
	byID := map[string]string{}
	for n, id := range names {
		byID[id] = n
	}
	require.NoError(t, cu.SetServiceZones(svc, []string{strings.ToUpper(byID["use1-az1"]), byID["use1-az4"], byID["use1-az1"], byID["use1-az6"]}))
	z, err = c.Zones(ctx, prodAWS, svc)
	require.NoError(t, err)
	assert.Equal(t, []string{"use1-az1", "use1-az4", "use1-az6"}, z.Service)
	assert.Equal(t, []string{"use1-az2"}, z.Missing())
	again, err := Open(c.dir).Zones(ctx, prodAWS, svc)
	require.NoError(t, err)
	assert.Equal(t, z, again, "kept on disk")

	// What is refused changes nothing.
	err = cu.SetServiceZones(svc, []string{"us-east-1a", "us-east-1g"})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "got %v", err)
	assert.ErrorContains(t, err, `no availability zone "us-east-1g" in us-east-1`)
	assert.ErrorContains(t, err, "us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f", "the valid names")
	err = cu.SetServiceZones(svc, []string{"eu-west-1a"})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "a zone of another region: %v", err)
	err = cu.SetServiceZones(svc, nil)
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "no zone at all: %v", err)
	assert.ErrorContains(t, err, "name at least one availability zone")
	err = c.Customer("aws", "999999999999").SetServiceZones(svc, []string{"us-east-1a"})
	assert.Equal(t, cloud.AccessDenied, cloud.KindOf(err), "not the owner: %v", err)
	assert.ErrorContains(t, err, "belongs to 123456789012, not 999999999999")
	err = cu.SetServiceZones("com.amazonaws.vpce.us-east-1.vpce-svc-0nosuchservice00", []string{"us-east-1a"})
	assert.True(t, cloud.IsNotFound(err), "got %v", err)
	err = c.Customer("azure", "00000000-1111-2222-3333-444444444444").SetServiceZones(svc, []string{"westeurope-1"})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "Azure services are regional: %v", err)
	z, err = c.Zones(ctx, prodAWS, svc)
	require.NoError(t, err)
	assert.Equal(t, []string{"use1-az1", "use1-az4", "use1-az6"}, z.Service, "unchanged")
}

// A service the platform cannot see has no zones to read.
func TestZonesOfAServiceNotGrantedIsNotFound(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	env := mustEnv(t, c)
	const svc = "com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210"
	_, err := c.Zones(ctx, prodAWS, svc)
	assert.True(t, cloud.IsNotFound(err), "no such service: %v", err)

	cu := c.Customer("aws", "123456789012")
	require.NoError(t, cu.Grant(svc, "arn:aws:iam::999999999999:root", []int{15432}))
	_, err = c.Zones(ctx, prodAWS, svc)
	assert.True(t, cloud.IsNotFound(err), "granted to someone else: %v", err)
	assert.ErrorContains(t, err, "has not allowed the platform principal "+env.Principal)

	require.NoError(t, cu.Grant(svc, env.Principal, nil))
	_, err = c.Zones(ctx, prodAWS, svc)
	require.NoError(t, err)
	require.NoError(t, cu.Revoke(svc, env.Principal))
	_, err = c.Zones(ctx, prodAWS, svc)
	assert.True(t, cloud.IsNotFound(err), "revoked: %v", err)

	// The platform's own service is not a customer's to look into.
	_, err = c.Zones(ctx, prodAWS, env.ServiceName)
	assert.True(t, cloud.IsNotFound(err), "got %v", err)
}

// A state saved before zones were modelled loads: the deployment is in
// the platform's zones a, b and c, a customer's service in every zone.
func TestStateWithoutZonesLoads(t *testing.T) {
	dir := t.TempDir()
	const svc = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
	old := `{
  "seq": 0,
  "environments": [
    {"cloud": "aws", "region": "us-east-1", "project": "abcd1234efgh5", "environment": "production", "plan": "pro",
     "serviceName": "com.amazonaws.vpce.us-east-1.vpce-svc-0aaaabbbbccccdddd", "serviceId": "vpce-svc-0aaaabbbbccccdddd",
     "principal": "arn:aws:iam::210987654321:root", "account": "210987654321", "openPorts": []}
  ],
  "services": {
    "com.amazonaws.vpce.us-east-1.vpce-svc-0aaaabbbbccccdddd": {"name": "com.amazonaws.vpce.us-east-1.vpce-svc-0aaaabbbbccccdddd",
      "id": "vpce-svc-0aaaabbbbccccdddd", "cloud": "aws", "owner": "210987654321", "platform": true, "allowed": []},
    "` + svc + `": {"name": "` + svc + `", "id": "` + svc + `", "cloud": "aws", "owner": "123456789012", "platform": false,
      "allowed": ["arn:aws:iam::210987654321:root"], "ports": [15432]}
  },
  "endpoints": {},
  "tokens": {}
}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cloud.json"), []byte(old), 0o644))
	c := Open(dir)
	ctx := context.Background()
	z, err := c.Zones(ctx, prodAWS, svc)
	require.NoError(t, err)
	assert.Equal(t, []string{"use1-az1", "use1-az2", "use1-az4"}, z.Platform)
	assert.Equal(t, regionZoneIDs("us-east-1"), z.Service)

	require.NoError(t, c.Customer("aws", "123456789012").SetServiceZones(svc, []string{"us-east-1a"}))
	z, err = Open(dir).Zones(ctx, prodAWS, svc)
	require.NoError(t, err)
	assert.Equal(t, []string{"use1-az2"}, z.Service)
	assert.Equal(t, []string{"use1-az1", "use1-az2", "use1-az4"}, z.Platform, "still the default deployment")
}

// A customer who deletes their service rejects what connects to it first,
// as AWS asks: the platform's endpoint stays, closed, and the service is
// gone from the platform's view.
func TestCustomerDeletesTheirService(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	env := mustEnv(t, c)
	const svc = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
	cu := c.Customer("aws", "123456789012")
	require.NoError(t, cu.Grant(svc, env.Principal, []int{15432}))
	ep, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAWS, Service: svc, Token: "t1"})
	require.NoError(t, err)
	require.NoError(t, cu.AcceptEndpoint(ep.ID))

	err = c.Customer("aws", "999999999999").DeleteService(svc)
	assert.True(t, cloud.IsNotFound(err), "not the owner's: %v", err)
	err = c.Customer("aws", PlatformAWSAccount).DeleteService(env.ServiceName)
	assert.Equal(t, cloud.AccessDenied, cloud.KindOf(err), "the platform's service: %v", err)

	require.NoError(t, cu.DeleteService(svc))
	got, err := c.DescribeEndpoint(ctx, prodAWS, ep.ID)
	require.NoError(t, err)
	assert.Equal(t, cloud.StateRejected, got.State)
	inv, err := c.Inventory(ctx, prodAWS, []string{svc})
	require.NoError(t, err)
	require.Len(t, inv.Endpoints, 1, "the platform's endpoint stays, closed")
	visible, err := c.ServiceVisible(ctx, prodAWS, svc)
	require.NoError(t, err)
	assert.False(t, visible)
	_, err = c.Zones(ctx, prodAWS, svc)
	assert.True(t, cloud.IsNotFound(err), "got %v", err)
	assert.True(t, cloud.IsNotFound(cu.DeleteService(svc)), "deleted already")

	az := cloud.EnvRef{Cloud: "azure", Project: "azure1234abcd", Environment: "production"}
	azEnv, err := c.Environment(ctx, az)
	require.NoError(t, err)
	const pls = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg/providers/Microsoft.Network/privateLinkServices/pls-orders"
	azc := c.Customer("azure", "00000000-1111-2222-3333-444444444444")
	require.NoError(t, azc.Grant(pls, azEnv.Principal, []int{5432}))
	pe, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: az, Service: pls, Token: "t2"})
	require.NoError(t, err)
	require.NoError(t, azc.DeleteService(pls))
	got, err = c.DescribeEndpoint(ctx, az, pe.ID)
	require.NoError(t, err)
	assert.Equal(t, cloud.StateDisconnected, got.State, "as when a Private Link service goes")
}

const (
	alibabaCustomer = "1234567890123456"
	alibabaOther    = "6543210987654321"
	alibabaService1 = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1orders0000000001"
	alibabaService2 = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1billing000000002"
)

var (
	prodAlibaba    = cloud.EnvRef{Cloud: "alibaba", Region: "cn-hangzhou", Project: "alibaba12345a", Environment: "production"}
	stagingAlibaba = cloud.EnvRef{Cloud: "alibaba", Region: "cn-hangzhou", Project: "alibaba12345a", Environment: "staging"}
)

func TestConformanceAlibaba(t *testing.T) {
	c := newCloud(t)
	cloudtest.Run(t, cloudtest.Harness{
		Provider: c, Customer: customers{c, "alibaba"},
		Env:     prodAlibaba,
		Account: alibabaCustomer, Other: alibabaOther,
		CustomerService:      alibabaService1,
		OtherCustomerService: alibabaService2,
		Ports:                []int{3306, 443},
	})
}

func TestSeededAlibaba(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	prod, err := c.Environment(ctx, prodAlibaba)
	require.NoError(t, err)
	assert.Equal(t, "pro", prod.Plan)
	assert.Regexp(t, `^com\.aliyuncs\.privatelink\.cn-hangzhou\.epsrv-[a-z0-9]{20}$`, prod.ServiceName)
	assert.Equal(t, prod.ServiceName, "com.aliyuncs.privatelink.cn-hangzhou."+prod.ServiceID)
	assert.Equal(t, PlatformAlibabaAccount, prod.Principal, "customers whitelist the platform's UID")
	assert.Regexp(t, `^[0-9]{16}$`, PlatformAlibabaAccount)
	assert.Equal(t, []string{"cn-shanghai"}, prod.Regions, "production takes consumers from cn-shanghai too")
	assert.False(t, prod.AutoAccept)

	staging, err := c.Environment(ctx, stagingAlibaba)
	require.NoError(t, err)
	assert.True(t, staging.AutoAccept, "staging accepts whitelisted UIDs without a decision")
	assert.Empty(t, staging.Regions)
	assert.NotEqual(t, prod.ServiceName, staging.ServiceName)

	z, err := c.Zones(ctx, prodAlibaba, "")
	require.NoError(t, err)
	assert.Equal(t, cloud.Zones{Platform: []string{"cn-hangzhou-h", "cn-hangzhou-i"}}, z, "vSwitches in two zones, as zone IDs")

	err = c.AllowAccount(ctx, prodAlibaba, "123456789012")
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "an AWS account ID is no UID: %v", err)
	assert.ErrorContains(t, err, "16 digits")
	err = c.AllowAccount(ctx, prodAlibaba, "*")
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
	err = c.Customer("alibaba", alibabaCustomer).Grant("com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0", PlatformAlibabaAccount, []int{3306})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "not an Alibaba service name: %v", err)
	assert.ErrorContains(t, err, "com.aliyuncs.privatelink.<region>.epsrv-<id>")
}

// Accepting with a bandwidth is Alibaba's, within the range of the
// service's load balancer type; it is kept on the connection.
func TestAlibabaAcceptWithBandwidth(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	env, err := c.Environment(ctx, prodAlibaba)
	require.NoError(t, err)
	require.NoError(t, c.AllowAccount(ctx, prodAlibaba, alibabaCustomer))
	cu := c.Customer("alibaba", alibabaCustomer)
	ep, err := cu.CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	assert.Regexp(t, `^ep-[a-z0-9]{20}$`, ep.ID)

	for _, bad := range []int{99, 50001, -1} {
		err = c.AcceptConnectionsWithBandwidth(ctx, prodAlibaba, []string{ep.ID}, bad)
		assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "%d: %v", bad, err)
		assert.ErrorContains(t, err, "(100-50000 Mbps)", "names the range")
	}
	conns, err := c.Connections(ctx, prodAlibaba, alibabaCustomer)
	require.NoError(t, err)
	assert.Equal(t, cloud.StatePendingAcceptance, conns[0].State, "a refused bandwidth accepts nothing")

	err = c.AcceptConnectionsWithBandwidth(ctx, prodAWS, []string{ep.ID}, 200)
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
	assert.ErrorContains(t, err, "bandwidth is only for Alibaba Cloud")

	require.NoError(t, c.AcceptConnectionsWithBandwidth(ctx, prodAlibaba, []string{ep.ID}, 2000))
	require.NoError(t, c.AcceptConnectionsWithBandwidth(ctx, prodAlibaba, []string{ep.ID}, 3000), "accepted already: success")
	bandwidth := func(id string) int {
		t.Helper()
		eps, err := Open(c.dir).Customer("alibaba", alibabaCustomer).Endpoints()
		require.NoError(t, err)
		for _, e := range eps {
			if e.ID == id {
				return e.Bandwidth
			}
		}
		t.Fatalf("no endpoint %s", id)
		return 0
	}
	assert.Equal(t, 2000, bandwidth(ep.ID), "kept, on disk; an accepted connection keeps its bandwidth")
	require.Eventually(t, func() bool {
		conns, err := c.Connections(ctx, prodAlibaba, alibabaCustomer)
		return err == nil && conns[0].State == cloud.StateAvailable
	}, 5*time.Second, 20*time.Millisecond)

	plain, err := cu.CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	require.NoError(t, c.AcceptConnectionsWithBandwidth(ctx, prodAlibaba, []string{plain.ID}, 0))
	assert.Equal(t, 0, bandwidth(plain.ID), "0 is the service's default")

	// Rejected on Alibaba is closed, as the workflows see it.
	closed, err := cu.CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	require.NoError(t, c.RejectConnections(ctx, prodAlibaba, []string{closed.ID}, "no"))
	conns, err = c.Connections(ctx, prodAlibaba, alibabaCustomer)
	require.NoError(t, err)
	for _, cn := range conns {
		if cn.ID == closed.ID {
			assert.True(t, cn.State.Terminal(), "%s", cn.State)
		}
	}
	err = c.AcceptConnectionsWithBandwidth(ctx, prodAlibaba, []string{closed.ID}, 200)
	assert.Equal(t, cloud.Conflict, cloud.KindOf(err), "got %v", err)
}

// A service with AutoAcceptEnabled accepts a whitelisted UID's connection
// without a decision.
func TestAlibabaAutoAccept(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	staging, err := c.Environment(ctx, stagingAlibaba)
	require.NoError(t, err)
	cu := c.Customer("alibaba", alibabaCustomer)
	_, err = cu.CreateEndpoint(staging.ServiceName)
	assert.Equal(t, cloud.AccessDenied, cloud.KindOf(err), "not whitelisted: %v", err)

	require.NoError(t, c.AllowAccount(ctx, stagingAlibaba, alibabaCustomer))
	ep, err := cu.CreateEndpoint(staging.ServiceName)
	require.NoError(t, err)
	assert.Equal(t, cloud.StateProvisioning, ep.State, "accepted at once")
	require.Eventually(t, func() bool {
		conns, err := c.Connections(ctx, stagingAlibaba, alibabaCustomer)
		return err == nil && len(conns) == 1 && conns[0].State == cloud.StateAvailable
	}, 5*time.Second, 20*time.Millisecond, "available without AcceptConnections")
	require.NoError(t, c.AcceptConnections(ctx, stagingAlibaba, []string{ep.ID}), "accepting it anyway is harmless")

	prod, err := c.Environment(ctx, prodAlibaba)
	require.NoError(t, err)
	require.NoError(t, c.AllowAccount(ctx, prodAlibaba, alibabaCustomer))
	manual, err := cu.CreateEndpoint(prod.ServiceName)
	require.NoError(t, err)
	assert.Equal(t, cloud.StatePendingAcceptance, manual.State, "production waits for a decision")
}

// Consumers in another region connect to a service that lists it; the
// platform connects across regions to a customer's service that lists
// the platform's region.
func TestAlibabaCrossRegion(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	prod, err := c.Environment(ctx, prodAlibaba)
	require.NoError(t, err)
	require.NoError(t, c.AllowAccount(ctx, prodAlibaba, alibabaCustomer))
	cu := c.Customer("alibaba", alibabaCustomer)

	ep, err := cu.InRegion("cn-shanghai").CreateEndpoint(prod.ServiceName)
	require.NoError(t, err)
	assert.Contains(t, ep.DNSName, ".cn-shanghai.privatelink."+Zone, "the endpoint is in the consumer's region")
	eps, err := cu.Endpoints()
	require.NoError(t, err)
	require.Len(t, eps, 1)
	assert.Equal(t, "cn-shanghai", eps[0].Region)
	_, err = cu.InRegion("CN-HANGZHOU").CreateEndpoint(prod.ServiceName)
	require.NoError(t, err, "the service's own region")

	_, err = cu.InRegion("cn-beijing").CreateEndpoint(prod.ServiceName)
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "got %v", err)
	assert.ErrorContains(t, err, "supports consumers from cn-hangzhou, cn-shanghai only, not from cn-beijing")
	staging, err := c.Environment(ctx, stagingAlibaba)
	require.NoError(t, err)
	require.NoError(t, c.AllowAccount(ctx, stagingAlibaba, alibabaCustomer))
	_, err = cu.InRegion("cn-shanghai").CreateEndpoint(staging.ServiceName)
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "staging takes no other region: %v", err)
	require.NoError(t, c.AllowAccount(ctx, prodAWS, "123456789012"))
	_, err = c.Customer("aws", "123456789012").InRegion("eu-west-1").CreateEndpoint(mustEnv(t, c).ServiceName)
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "no cross-region on the other clouds: %v", err)

	// The platform into a customer's service in cn-shanghai.
	const svc = "com.aliyuncs.privatelink.cn-shanghai.epsrv-bp1shanghai00000001"
	require.NoError(t, cu.Grant(svc, prod.Principal, []int{15432}))
	spec := cloud.EndpointSpec{Env: prodAlibaba, Service: svc, Token: "t1"}
	_, err = c.CreateEndpoint(ctx, spec)
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "got %v", err)
	assert.ErrorContains(t, err, "supports consumers from cn-shanghai only, not from cn-hangzhou")
	_, err = c.Zones(ctx, prodAlibaba, svc)
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "got %v", err)

	err = cu.SetSupportedRegions(svc, []string{"cn-mars"})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
	assert.ErrorContains(t, err, "cn-hangzhou, cn-hongkong")
	err = c.Customer("alibaba", alibabaOther).SetSupportedRegions(svc, []string{"cn-hangzhou"})
	assert.Equal(t, cloud.AccessDenied, cloud.KindOf(err), "not the owner: %v", err)
	err = c.Customer("alibaba", PlatformAlibabaAccount).SetSupportedRegions(prod.ServiceName, []string{"cn-beijing"})
	assert.Equal(t, cloud.AccessDenied, cloud.KindOf(err), "the platform's service: %v", err)
	err = c.Customer("aws", "123456789012").SetSupportedRegions(svc, []string{"cn-hangzhou"})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "Alibaba's: %v", err)
	err = cu.SetSupportedRegions("com.aliyuncs.privatelink.cn-shanghai.epsrv-nosuchservice", []string{"cn-hangzhou"})
	assert.True(t, cloud.IsNotFound(err), "got %v", err)

	require.NoError(t, cu.SetSupportedRegions(svc, []string{"CN-HANGZHOU", "cn-shanghai", "cn-hangzhou"}))
	info, err := cu.Service(svc)
	require.NoError(t, err)
	assert.Equal(t, []string{"cn-hangzhou"}, info.Regions, "the service's own region is not another one")
	assert.Equal(t, []string{"cn-shanghai-e", "cn-shanghai-f", "cn-shanghai-g"}, info.Zones)
	out, err := c.CreateEndpoint(ctx, spec)
	require.NoError(t, err)
	assert.Contains(t, out.DNSName, ".epsrv-bp1shanghai00000001.cn-hangzhou.privatelink."+Zone)
	z, err := c.Zones(ctx, prodAlibaba, svc)
	require.NoError(t, err)
	assert.Equal(t, []string{"cn-hangzhou-h", "cn-hangzhou-i"}, z.Service, "reached across regions from any of the platform's zones")
	assert.Empty(t, z.Missing())
}

// Alibaba zone IDs are every account's names: a customer's service is
// offered in its region's first three zones, and its owner sets them by ID.
func TestAlibabaServiceZones(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cu := c.Customer("alibaba", alibabaCustomer)
	require.NoError(t, cu.Grant(alibabaService1, PlatformAlibabaAccount, []int{15432}))
	z, err := c.Zones(ctx, prodAlibaba, alibabaService1)
	require.NoError(t, err)
	assert.Equal(t, cloud.Zones{Platform: []string{"cn-hangzhou-h", "cn-hangzhou-i"}, Service: []string{"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"}}, z)
	assert.Empty(t, z.Missing())

	require.NoError(t, cu.SetServiceZones(alibabaService1, []string{"cn-hangzhou-j", "CN-HANGZHOU-I", "cn-hangzhou-i"}))
	z, err = Open(c.dir).Zones(ctx, prodAlibaba, alibabaService1)
	require.NoError(t, err)
	assert.Equal(t, []string{"cn-hangzhou-i", "cn-hangzhou-j"}, z.Service, "zone IDs, no mapping")
	assert.Equal(t, []string{"cn-hangzhou-h"}, z.Missing())

	err = cu.SetServiceZones(alibabaService1, []string{"cn-shanghai-e"})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
	assert.ErrorContains(t, err, "cn-hangzhou-h, cn-hangzhou-i, cn-hangzhou-j, cn-hangzhou-k", "the valid IDs")
	err = cu.SetServiceZones(alibabaService1, []string{"cn-hangzhoua"})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "no AWS-style names: %v", err)
	err = cu.SetServiceZones(alibabaService1, nil)
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err))
	err = c.Customer("alibaba", alibabaOther).SetServiceZones(alibabaService1, []string{"cn-hangzhou-h"})
	assert.Equal(t, cloud.AccessDenied, cloud.KindOf(err))
	assert.Nil(t, cu.ZoneNames("cn-hangzhou"), "no account naming of zones on Alibaba")
	assert.Equal(t, []string{"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"}, AlibabaZones("cn-hangzhou"))

	z, err = c.Zones(ctx, prodAlibaba, alibabaService1)
	require.NoError(t, err)
	assert.Equal(t, []string{"cn-hangzhou-i", "cn-hangzhou-j"}, z.Service, "what is refused changes nothing")
}

// The platform's endpoint into an Alibaba service is a real socket under
// the sim's zone, with a name shaped as Alibaba's.
func TestAlibabaReverseEndpointIsARealSocket(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cu := c.Customer("alibaba", alibabaCustomer)
	require.NoError(t, cu.Grant(alibabaService1, PlatformAlibabaAccount, []int{15433}))
	ep, err := c.CreateEndpoint(ctx, cloud.EndpointSpec{Env: prodAlibaba, Service: alibabaService1, Token: "t1"})
	require.NoError(t, err)
	assert.Regexp(t, `^ep-[a-z0-9]{20}\.epsrv-bp1orders0000000001\.cn-hangzhou\.privatelink\.`+regexpQuote(Zone)+`$`, ep.DNSName)
	require.NoError(t, cu.AcceptEndpoint(ep.ID))
	ls := c.Listeners()
	defer ls.Close()
	require.Eventually(t, func() bool { // settled
		return ls.Reconcile() == nil && len(ls.Addrs()) == 1
	}, 5*time.Second, 10*time.Millisecond)
	addrs, err := c.Resolver().LookupHost(ctx, ep.DNSName)
	require.NoError(t, err)
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(addrs[0], "15433"), time.Second)
	require.NoError(t, err)
	conn.Close()

	require.NoError(t, cu.DeleteService(alibabaService1))
	got, err := c.DescribeEndpoint(ctx, prodAlibaba, ep.ID)
	require.NoError(t, err)
	assert.Equal(t, cloud.StateDisconnected, got.State, "its owner disconnects every connection before deleting the service")
	assert.True(t, got.State.Terminal())
}

func regexpQuote(s string) string { return strings.ReplaceAll(s, ".", `\.`) }

// A state saved before Alibaba Cloud was simulated gets its seeded
// environments when opened; what was saved stays as it was.
func TestStateWithoutAlibabaLoads(t *testing.T) {
	dir := t.TempDir()
	// A state of the release before: AWS only (with a customer endpoint),
	// Azure's staging environment alone, in cloud.json.
	st := seed()
	st.Environments = slices.DeleteFunc(st.Environments, func(e *environment) bool {
		return e.Cloud == "alibaba" || (e.Cloud == "azure" && e.Environment.Environment == "production")
	})
	for k, svc := range st.Services {
		if svc.Cloud == "alibaba" {
			delete(st.Services, k)
		}
	}
	prodSvc := st.Services[key(st.Environments[0].ServiceName)]
	prodSvc.Allowed = append(prodSvc.Allowed, "arn:aws:iam::123456789012:root")
	st.Seq = 1
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st.Endpoints["vpce-0123456789abcdef0"] = &endpoint{ID: "vpce-0123456789abcdef0", Cloud: "aws", Region: "us-east-1", Owner: "123456789012",
		Service: prodSvc.Name, State: cloud.StatePendingAcceptance, Created: created, IP: "127.77.0.2", DNSName: "vpce-0123456789abcdef0.us-east-1." + Zone}
	old := writeLegacy(t, dir, st)
	require.NotContains(t, string(old), "alibaba")

	c := Open(dir)
	ctx := context.Background()
	env, err := c.Environment(ctx, prodAlibaba)
	require.NoError(t, err, "the seeded Alibaba environments are there")
	assert.Equal(t, []string{"cn-shanghai"}, env.Regions)
	_, err = c.Environment(ctx, stagingAlibaba)
	require.NoError(t, err)
	_, err = c.Environment(ctx, cloud.EnvRef{Cloud: "azure", Project: "azure1234abcd", Environment: "production"})
	assert.True(t, cloud.IsNotFound(err), "a cloud the state has is left as it is: %v", err)
	migrated, err := os.ReadFile(filepath.Join(dir, "cloud.json.migrated"))
	require.NoError(t, err, "the old state is set aside")
	assert.Equal(t, string(old), string(migrated), "as it was")

	require.NoError(t, c.AllowAccount(ctx, prodAlibaba, alibabaCustomer))
	_, err = c.Customer("alibaba", alibabaCustomer).CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	again, err := Open(dir).Environment(ctx, prodAlibaba)
	require.NoError(t, err)
	assert.Equal(t, env, again, "the same when opened again")
	conns, err := Open(dir).Connections(ctx, prodAWS, "123456789012")
	require.NoError(t, err)
	require.Len(t, conns, 1)
	assert.Equal(t, cloud.Connection{ID: "vpce-0123456789abcdef0", Account: "123456789012", State: cloud.StatePendingAcceptance, Created: created}, conns[0], "what was saved is kept")
	assert.Equal(t, 2, count(t, Open(dir), `SELECT count(*) FROM environments WHERE cloud = 'alibaba'`), "added once")
}

// writeLegacy saves st as releases before the database did, in
// dir/cloud.json, and returns what it wrote.
func writeLegacy(t *testing.T, dir string, st *state) []byte {
	t.Helper()
	data, err := json.MarshalIndent(st, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(legacyPath(dir), data, 0o644))
	return data
}

// count runs a counting query on c's database.
func count(t *testing.T, c *Cloud, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, c.view(func(tx *tx) error { return tx.QueryRow(query, args...).Scan(&n) }))
	return n
}
