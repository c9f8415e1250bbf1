package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
	awsprovider "github.com/linkwright/linkwright/internal/cloud/aws"
	"github.com/linkwright/linkwright/internal/cloud/aws/awstest"
	"github.com/linkwright/linkwright/internal/cloud/sim"
)

const (
	bidirectionalAWS  = "../deployments/local/examples/bidirectional-aws.json"
	unidirectionalAzu = "../deployments/local/examples/unidirectional-azure.json"
	// What the bidirectional example names.
	exampleAccount = "123456789012"
	exampleService = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
	exampleLink    = "privatelink/abcd1234efgh5/production/aws"
)

var exampleRef = cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: "abcd1234efgh5", Environment: "production"}

// onSimulatedCloud points the CLI at a simulated cloud of its own, with no
// config file and nothing from the caller's environment, and returns it.
func onSimulatedCloud(t *testing.T) *sim.Cloud {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("LINKWRIGHT_CONFIG", "")
	t.Setenv("LINKWRIGHT_STATE_DIR", dir)
	t.Setenv("LINKWRIGHT_CLOUD", "sim")
	return sim.Open(filepath.Join(dir, "cloud"))
}

func byHand(args ...string) (string, error) {
	var out bytes.Buffer
	err := cmdByHand(context.Background(), args, &out)
	return out.String(), err
}

func isUsage(err error) bool {
	var ue *usageErr
	return errors.As(err, &ue)
}

func TestByHandActsOnThePlatformSide(t *testing.T) {
	c := onSimulatedCloud(t)
	ctx := context.Background()
	require.NoError(t, c.OpenPorts(ctx, exampleRef, []int{3306, 2222}))
	require.NoError(t, c.AllowAccount(ctx, exampleRef, exampleAccount))
	health := func(port int) cloud.Target {
		t.Helper()
		ts, err := c.TargetHealth(ctx, exampleRef, []int{port})
		require.NoError(t, err)
		return ts[0]
	}

	out, err := byHand("break-target", "-f", bidirectionalAWS, "--port", "3306")
	require.NoError(t, err)
	assert.Contains(t, out, "The targets of port 3306 on aws/us-east-1/abcd1234efgh5/production now fail their health checks.")
	assert.Contains(t, out, "Linkwright was not told: "+exampleLink+" finds it at its next health check")
	assert.Contains(t, out, "temporal workflow signal --workflow-id "+exampleLink+" --name check-now")
	assert.False(t, health(3306).Healthy)
	assert.True(t, health(2222).Healthy, "only the port named")

	out, err = byHand("repair-target", "-f", bidirectionalAWS, "--port", "3306")
	require.NoError(t, err)
	assert.Contains(t, out, "healthy again")
	assert.True(t, health(3306).Healthy)
	_, err = byHand("repair-target", "-f", bidirectionalAWS, "--port", "3306")
	assert.ErrorContains(t, err, "are not broken", "repairing what is not broken changes nothing, and says so")

	out, err = byHand("close-port", "-f", bidirectionalAWS, "--port", "2222")
	require.NoError(t, err)
	assert.Contains(t, out, "Closed port 2222 on aws/us-east-1/abcd1234efgh5/production by hand")
	st, err := c.ServiceState(ctx, exampleRef)
	require.NoError(t, err)
	assert.Equal(t, []int{3306}, st.OpenPorts)
	_, err = byHand("close-port", "-f", bidirectionalAWS, "--port", "2222")
	assert.ErrorContains(t, err, "port 2222 is not open")
	assert.False(t, isUsage(err), "a cloud answer, not a usage mistake")

	_, err = byHand("revoke-account", "-f", bidirectionalAWS, "--account", "999999999999")
	assert.ErrorContains(t, err, "account 999999999999 is not allowed")
	out, err = byHand("revoke-account", "-f", bidirectionalAWS)
	require.NoError(t, err)
	assert.Contains(t, out, "Revoked account "+exampleAccount, "the request's customer account by default")
	st, err = c.ServiceState(ctx, exampleRef)
	require.NoError(t, err)
	assert.Empty(t, st.Accounts)
	assert.Equal(t, []int{3306}, st.OpenPorts, "the other port untouched")
}

func TestByHandRefusesClearly(t *testing.T) {
	onSimulatedCloud(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "by-hand needs an action: close-port, revoke-account, break-target, repair-target"},
		{[]string{"open-port", "-f", bidirectionalAWS}, `unknown by-hand action "open-port"`},
		{[]string{"close-port", "--port", "3306"}, "by-hand close-port needs -f REQUEST.json"},
		{[]string{"break-target", "-f", bidirectionalAWS}, "by-hand break-target needs --port N"},
		{[]string{"close-port", "-f", bidirectionalAWS, "--port", "70000"}, "needs --port N (1-65535)"},
		{[]string{"close-port", "-f", bidirectionalAWS, "--port", "3306", "extra"}, `unexpected argument "extra"`},
	} {
		_, err := byHand(tc.args...)
		require.Error(t, err, "%v", tc.args)
		assert.True(t, isUsage(err), "%v: a usage mistake: %v", tc.args, err)
		assert.ErrorContains(t, err, tc.want)
	}

	t.Setenv("LINKWRIGHT_CLOUD", "azure")
	_, err := byHand("close-port", "-f", unidirectionalAzu, "--port", "5432")
	require.Error(t, err)
	assert.False(t, isUsage(err))
	assert.ErrorContains(t, err, `by-hand actions change the simulated cloud only`)
	assert.ErrorContains(t, err, `this config uses "azure"`)
}

func TestCustomerDeletesTheirEndpointOnTheSimulatedCloud(t *testing.T) {
	c := onSimulatedCloud(t)
	ctx := context.Background()
	require.NoError(t, c.AllowAccount(ctx, exampleRef, exampleAccount))
	env, err := c.Environment(ctx, exampleRef)
	require.NoError(t, err)
	cu := c.Customer("aws", exampleAccount)
	first, err := cu.CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	second, err := cu.CreateEndpoint(env.ServiceName)
	require.NoError(t, err)
	states := func() map[string]cloud.State {
		conns, err := c.Connections(ctx, exampleRef, exampleAccount)
		require.NoError(t, err)
		out := map[string]cloud.State{}
		for _, cn := range conns {
			out[cn.ID] = cn.State
		}
		return out
	}

	code, _, errOut := cli("customer", "delete-endpoint", "-f", bidirectionalAWS, "--id", "vpce-nosuchendpoint")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "customer "+exampleAccount+" has no endpoint vpce-nosuchendpoint to "+env.ServiceName)
	assert.Contains(t, errOut, first.ID, "names the customer's endpoints")

	code, out, errOut := cli("customer", "delete-endpoint", "-f", bidirectionalAWS, "--id", first.ID)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "Customer "+exampleAccount+" deleted endpoint "+first.ID)
	assert.Contains(t, out, "Linkwright was not told")
	assert.Equal(t, map[string]cloud.State{first.ID: cloud.StateDeleted, second.ID: cloud.StatePendingAcceptance}, states(), "only the one named")

	code, out, errOut = cli("customer", "delete-endpoint", "-f", bidirectionalAWS)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "deleted endpoint "+second.ID)
	assert.NotContains(t, out, first.ID, "a deleted endpoint is not deleted again")
	assert.Equal(t, map[string]cloud.State{first.ID: cloud.StateDeleted, second.ID: cloud.StateDeleted}, states())

	code, _, errOut = cli("customer", "delete-endpoint", "-f", bidirectionalAWS)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "has no endpoint to "+env.ServiceName+": nothing to delete")
}

func TestCustomerRevokesThePlatformOnTheSimulatedCloud(t *testing.T) {
	c := onSimulatedCloud(t)
	ctx := context.Background()
	env, err := c.Environment(ctx, exampleRef)
	require.NoError(t, err)
	require.NoError(t, c.Customer("aws", exampleAccount).Grant(exampleService, env.Principal, []int{15432}))
	visible, err := c.ServiceVisible(ctx, exampleRef, exampleService)
	require.NoError(t, err)
	require.True(t, visible)

	code, out, errOut := cli("customer", "revoke", "-f", bidirectionalAWS)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "Customer "+exampleAccount+" removed "+env.Principal+" from "+exampleService)
	visible, err = c.ServiceVisible(ctx, exampleRef, exampleService)
	require.NoError(t, err)
	assert.False(t, visible, "the platform may no longer connect")

	code, _, errOut = cli("customer", "revoke", "-f", unidirectionalAzu)
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "revoke is for bidirectional links")
}

// Against the moto stack of `make run-aws`, the same actions go to the
// stack's customer API.
func TestCustomerDeletesAndRevokesOnTheMotoStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	x := awstest.NewExtension(t, awstest.StartMoto(t))
	plat := x.BuildPlatform(t, exampleRef, "pro")
	dir := t.TempDir()
	const principal = "arn:aws:iam::" + awstest.PlatformAccount + ":root"
	section, err := json.Marshal(map[string]any{"endpoint": x.URL(), "principal": principal, "vpcId": plat.VPCID, "subnetIds": plat.SubnetIDs})
	require.NoError(t, err)
	cfg := filepath.Join(dir, "linkwright.json")
	require.NoError(t, os.WriteFile(cfg, []byte(`{"stateDir": "`+dir+`/state", "cloud": "aws", "aws": `+string(section)+`}`), 0o644))
	t.Setenv("LINKWRIGHT_CONFIG", cfg)
	t.Setenv("LINKWRIGHT_STATE_DIR", "")
	t.Setenv("LINKWRIGHT_CLOUD", "aws")
	t.Setenv("LINKWRIGHT_AWS_ENDPOINT", "")
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "moto", "AWS_SECRET_ACCESS_KEY": "moto", "AWS_REGION": "us-east-1", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none")} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	p, err := awsprovider.New(ctx, awsprovider.Options{Endpoint: x.URL(), Principal: principal, VPCID: plat.VPCID, SubnetIDs: plat.SubnetIDs})
	require.NoError(t, err)

	require.NoError(t, p.AllowAccount(ctx, exampleRef, exampleAccount))
	id, err := x.CreateEndpoint(exampleAccount, plat.ServiceName)
	require.NoError(t, err)
	code, out, errOut := cli("customer", "delete-endpoint", "-f", bidirectionalAWS)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "deleted endpoint "+id)
	conns, err := p.Connections(ctx, exampleRef, exampleAccount)
	require.NoError(t, err)
	require.Len(t, conns, 1)
	assert.Equal(t, cloud.StateDeleted, conns[0].State, "as EC2 shows a deleted endpoint's connection for a while")
	code, _, errOut = cli("customer", "delete-endpoint", "-f", bidirectionalAWS)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "nothing to delete")

	require.NoError(t, x.Grant(exampleAccount, exampleService, principal, []int{15432}))
	visible, err := p.ServiceVisible(ctx, exampleRef, exampleService)
	require.NoError(t, err)
	require.True(t, visible)
	code, _, errOut = cli("customer", "revoke", "-f", bidirectionalAWS)
	require.Equal(t, exitOK, code, errOut)
	visible, err = p.ServiceVisible(ctx, exampleRef, exampleService)
	require.NoError(t, err)
	assert.False(t, visible, "the platform may no longer see the customer's service")

	_, err = byHand("close-port", "-f", bidirectionalAWS, "--port", "3306")
	assert.ErrorContains(t, err, `by-hand actions change the simulated cloud only`, "not on the moto stack either")
	assert.ErrorContains(t, err, `this config uses "aws"`)
}
