package aws

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/aws/awstest"
	"github.com/linkwright/linkwright/internal/cloud/cloudtest"
)

// The conformance suite every provider passes, against moto and the
// extension.
func TestConformanceAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	x, plat, p := motoStack(t)
	cloudtest.Run(t, cloudtest.Harness{
		Provider: p, Customer: x, Env: ref,
		Account: "111122223333", Other: "444455556666",
		CustomerService:      "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
		OtherCustomerService: "com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210",
		Ports:                []int{3306, 2222},
	})

	t.Run("the platform principal is the caller's account root", func(t *testing.T) {
		env, err := p.Environment(context.Background(), ref)
		require.NoError(t, err)
		assert.Equal(t, "arn:aws:iam::"+awstest.PlatformAccount+":root", env.Principal)
		assert.Equal(t, plat.ServiceName, env.ServiceName)
	})
	t.Run("ports opened are listeners, target groups and rules", func(t *testing.T) {
		require.NoError(t, p.OpenPorts(context.Background(), ref, []int{5432}))
		l, err := p.loadBalancer(context.Background(), ref)
		require.NoError(t, err)
		assert.Contains(t, l.listeners, int32(5432))
		assert.NotContains(t, l.listeners, int32(2222), "closed by the suite's teardown")
		assert.NotContains(t, l.listeners, int32(3306), "closed by the suite's teardown")
	})
}

// motoStack starts moto and the extension, builds the platform of ref in
// it and returns a provider on it.
func motoStack(t *testing.T) (*awstest.Extension, awstest.Platform, *Provider) {
	t.Helper()
	x := awstest.NewExtension(t, awstest.StartMoto(t))
	plat := x.BuildPlatform(t, ref, "pro")
	p := newProvider(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("moto", "moto", "")},
		Options{Endpoint: x.URL(), VPCID: plat.VPCID, SubnetIDs: plat.SubnetIDs, SecurityGroupIDs: []string{plat.SecurityGroupID}})
	return x, plat, p
}

// Between AcceptConnections' read and its call, someone else can accept
// the connection or the customer can delete it; EC2 then refuses the
// call for the endpoint's state. Through the real provider, against moto
// and the extension that loses the race on purpose.
func TestAcceptRaceAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	x, plat, p := motoStack(t)
	ctx := context.Background()
	const customer = "111122223333"
	require.NoError(t, p.AllowAccount(ctx, ref, customer))
	connect := func(t *testing.T) string {
		id, err := x.CreateEndpoint(customer, plat.ServiceName)
		require.NoError(t, err)
		return id
	}

	for _, asError := range []bool{false, true} {
		how := map[bool]string{false: "in Unsuccessful", true: "as the call's error"}[asError]
		t.Run("accepted by someone else meanwhile is success, refused "+how, func(t *testing.T) {
			id := connect(t)
			x.RaceNextAccept("available", asError)
			require.NoError(t, p.AcceptConnections(ctx, ref, []string{id}))
			assert.Equal(t, cloud.StateAvailable, connState(p, customer, id))
		})
		t.Run("deleted by the customer meanwhile is NotFound, refused "+how, func(t *testing.T) {
			id := connect(t)
			x.RaceNextAccept("deleted", asError)
			err := p.AcceptConnections(ctx, ref, []string{id})
			assert.Equal(t, cloud.NotFound, cloud.KindOf(err), "got %v", err)
			assert.ErrorContains(t, err, "connection "+id+" is gone: the customer deleted their endpoint before it was accepted")
		})
	}

	t.Run("deleted by the customer before the accept is NotFound", func(t *testing.T) {
		id := connect(t)
		require.NoError(t, x.DeleteEndpoint(customer, id))
		before := x.CallCount("AcceptVpcEndpointConnections")
		err := p.AcceptConnections(ctx, ref, []string{id})
		assert.Equal(t, cloud.NotFound, cloud.KindOf(err), "got %v", err)
		assert.ErrorContains(t, err, "the customer deleted their endpoint before it was accepted")
		assert.Equal(t, before, x.CallCount("AcceptVpcEndpointConnections"), "nothing to accept: no call")
		assert.Equal(t, cloud.StateDeleted, connState(p, customer, id), "listed as deleted, no longer pending")
	})

	t.Run("accepting after it settled makes no call", func(t *testing.T) {
		id := connect(t)
		require.NoError(t, p.AcceptConnections(ctx, ref, []string{id}))
		require.Eventually(t, func() bool { return connState(p, customer, id) == cloud.StateAvailable }, 5*time.Second, 20*time.Millisecond)
		before := x.CallCount("AcceptVpcEndpointConnections")
		require.NoError(t, p.AcceptConnections(ctx, ref, []string{id}))
		assert.Equal(t, before, x.CallCount("AcceptVpcEndpointConnections"))
	})
}

func connState(p *Provider, account, id string) cloud.State {
	conns, err := p.Connections(context.Background(), ref, account)
	if err != nil {
		return cloud.StateUnknown
	}
	for _, c := range conns {
		if c.ID == id {
			return c.State
		}
	}
	return cloud.StateUnknown
}

// Inventory reads everything with one call per kind of thing, whatever
// the number of accounts and services, and writes nothing.
func TestInventoryCostAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	x, plat, p := motoStack(t)
	ctx := context.Background()
	const a, b = "111122223333", "444455556666"
	const svc1, svc2 = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0", "com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210"
	require.NoError(t, p.OpenPorts(ctx, ref, []int{3306}))
	var conns []string
	for _, account := range []string{a, b} {
		require.NoError(t, p.AllowAccount(ctx, ref, account))
		id, err := x.CreateEndpoint(account, plat.ServiceName)
		require.NoError(t, err)
		conns = append(conns, id)
	}
	var eps []string
	for i, s := range []string{svc1, svc2} {
		require.NoError(t, x.Grant(a, s, "arn:aws:iam::"+awstest.PlatformAccount+":root", nil))
		ep, err := p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: ref, Service: s, Token: fmt.Sprint("inventory-", i)})
		require.NoError(t, err)
		eps = append(eps, ep.ID)
	}

	before := x.CallCounts()
	inv, err := p.Inventory(ctx, ref, []string{svc1, svc2})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{
		"DescribeVpcEndpointServiceConfigurations": 1, // the platform service, looked up once
		"DescribeLoadBalancers":                    1,
		"DescribeListeners":                        1,
		"DescribeVpcEndpointServicePermissions":    1,
		"DescribeVpcEndpointConnections":           1, // every account's, in one listing
		"DescribeVpcEndpoints":                     1, // both services, in one listing
	}, callsSince(x, before))
	assert.Equal(t, conns, connectionIDs(inv.Connections), "both accounts' connections, oldest first")
	// Both services' endpoints, newest first. EC2 times creation to the
	// second, so two endpoints made within one second tie (and go by ID).
	assert.ElementsMatch(t, eps, endpointIDs(inv.Endpoints), "both services' endpoints")
	for i := 1; i < len(inv.Endpoints); i++ {
		assert.False(t, inv.Endpoints[i].Created.After(inv.Endpoints[i-1].Created), "newest first: %v", endpointIDs(inv.Endpoints))
	}
	assert.Equal(t, []int{3306}, inv.OpenPorts)
	assert.Equal(t, []string{a, b}, inv.Accounts)

	before = x.CallCounts()
	inv, err = p.Inventory(ctx, ref, nil)
	require.NoError(t, err)
	assert.Zero(t, callsSince(x, before)["DescribeVpcEndpoints"], "no service asked about: no listing of endpoints")
	assert.Empty(t, inv.Endpoints)
	assert.Len(t, inv.Connections, 2)

	// Without the VPC of the platform's endpoints, only asking for them fails.
	bare := newProvider(p.base, Options{Endpoint: x.URL()})
	_, err = bare.Inventory(ctx, ref, nil)
	require.NoError(t, err)
	_, err = bare.Inventory(ctx, ref, []string{svc1})
	assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "got %v", err)
	assert.ErrorContains(t, err, "aws.vpcId")

	missing := ref
	missing.Project = "nosuchproject1"
	_, err = p.Inventory(ctx, missing, nil)
	assert.True(t, cloud.IsNotFound(err), "got %v", err)
}

// callsSince is what was called since before (a CallCounts), by action,
// leaving out actions not called.
func callsSince(x *awstest.Extension, before map[string]int) map[string]int {
	out := map[string]int{}
	for action, n := range x.CallCounts() {
		if d := n - before[action]; d != 0 {
			out[action] = d
		}
	}
	return out
}

func connectionIDs(cs []cloud.Connection) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func endpointIDs(eps []cloud.Endpoint) []string {
	var out []string
	for _, ep := range eps {
		out = append(out, ep.ID)
	}
	return out
}
