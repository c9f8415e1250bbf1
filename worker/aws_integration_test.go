package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/cloud"
	awsprovider "github.com/linkwright/linkwright/internal/cloud/aws"
	"github.com/linkwright/linkwright/internal/cloud/aws/awstest"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/request"
	"github.com/linkwright/linkwright/workflows"
)

// A bidirectional enablement for an AWS request, through the real
// workflows and worker on a real dev server, against moto.
func TestIntegrationAWSBidirectionalAgainstMoto(t *testing.T) {
	c := devtest.Client(t)
	x := awstest.NewExtension(t, awstest.StartMoto(t))
	ref := cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: "awsmoto00001", Environment: "production"}
	plat := x.BuildPlatform(t, ref, "pro")

	// The customer's service, as the platform reaches it through the endpoint.
	port := customerService(t)

	t.Setenv("AWS_ACCESS_KEY_ID", "moto")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "moto")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	cfg := testConfig(t)
	cfg.Cloud = "aws"
	var err error
	cfg.AWS, err = json.Marshal(awsprovider.Options{Endpoint: x.URL(), VPCID: plat.VPCID, SubnetIDs: plat.SubnetIDs, SecurityGroupIDs: []string{plat.SecurityGroupID}})
	require.NoError(t, err)
	startWorker(t, c, cfg, app.WithProber(&probe.Prober{Resolver: suffixResolver(".vpce.amazonaws.com"), Timeout: 2e9}))

	const custService = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
	req := request.Request{
		Company: "Acme Corp", RequestedBy: "sam@platform.example", ProjectID: ref.Project, Environment: ref.Environment,
		Cloud: "aws", Region: "us-east-1", CustomerAccount: "111122223333", ConnectionType: "bidirectional",
		Services:                []request.Service{{Name: "mysql", Port: 3306}, {Name: "sftp", Port: 2222}},
		CustomerEndpointService: custService, CustomerServicePorts: []int{port},
	}
	id := req.WorkflowID()
	run := start(t, c, req)

	st := waitFor(t, c, id, "the customer's turn", phase(workflows.PhaseAwaitingConnection))
	assert.Equal(t, plat.ServiceName, st.ServiceName)
	_, err = x.CreateEndpoint(req.CustomerAccount, plat.ServiceName)
	require.NoError(t, err, "the customer was allowed on the platform's service")
	signal(t, c, id, workflows.SignalCustomerEndpointCreated, nil)

	waitFor(t, c, id, "gate accept-connection", gate(workflows.GateAcceptConnection))
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateAcceptConnection, Approver: alice})
	require.NoError(t, err)

	st = waitFor(t, c, id, "the customer's grant", phase(workflows.PhaseAwaitingGrant))
	require.NoError(t, x.Grant(req.CustomerAccount, custService, "arn:aws:iam::"+awstest.PlatformAccount+":root", nil))
	signal(t, c, id, workflows.SignalCustomerAccessGranted, nil)

	waitFor(t, c, id, "gate create-reverse-endpoint", gate(workflows.GateCreateReverseEndpoint))
	_, err = update(c, id, workflows.Approve, workflows.Approval{Gate: workflows.GateCreateReverseEndpoint, Approver: bob})
	require.NoError(t, err)

	st = waitFor(t, c, id, "the customer's acceptance", phase(workflows.PhaseAwaitingEndpoint))
	require.Equal(t, []string{st.ReverseEndpointID}, x.PendingOnService(custService))
	require.NoError(t, x.AcceptEndpoint(req.CustomerAccount, st.ReverseEndpointID))
	signal(t, c, id, workflows.SignalCustomerConnectionAccepted, nil)

	waitFor(t, c, id, "the customer's confirmation", phase(workflows.PhaseAwaitingConfirmation))
	signal(t, c, id, workflows.SignalCustomerVerified, workflows.CustomerVerified{OK: true})
	var res workflows.Result
	require.NoError(t, run.Get(context.Background(), &res))
	assert.Equal(t, workflows.OutcomeCompleted, res.Outcome)
	require.Len(t, res.Status.Verification, 1)
	assert.True(t, res.Status.Verification[0].OK(), res.Status.Verification[0].Diagnosis)
	assert.True(t, strings.HasSuffix(res.Status.ReverseDNSName, ".vpce.amazonaws.com"), res.Status.ReverseDNSName)

	total, detail := summarize(x.Calls, "GetCallerIdentity")
	t.Logf("EC2 and ELB API calls for one bidirectional enablement (polls included): %d: %s", total, detail)
}
