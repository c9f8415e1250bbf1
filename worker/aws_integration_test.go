package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/linkwright/linkwright/internal/app"
	"github.com/linkwright/linkwright/internal/cloud"
	awsprovider "github.com/linkwright/linkwright/internal/cloud/aws"
	"github.com/linkwright/linkwright/internal/cloud/aws/awstest"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/devtest"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/request"
)

// awsStack is a worker on the AWS provider against moto and its extension,
// with a platform environment built in it and a customer service on
// loopback that the platform reaches through its endpoint.
type awsStack struct {
	x        *awstest.Extension
	ref      cloud.EnvRef
	plat     awstest.Platform
	opts     awsprovider.Options
	custPort int
}

// custServiceAWS is the customer's endpoint service in the AWS tests.
const custServiceAWS = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"

// startAWSWorker starts moto, builds the platform environment of project
// in it and starts the real worker on the AWS provider pointed at it.
func startAWSWorker(t *testing.T, c client.Client, project string, tune ...func(*config.Config)) awsStack {
	t.Helper()
	x := awstest.NewExtension(t, awstest.StartMoto(t))
	s := awsStack{x: x, ref: cloud.EnvRef{Cloud: "aws", Region: "us-east-1", Project: project, Environment: "production"}}
	s.plat = x.BuildPlatform(t, s.ref, "pro")

	// The customer's service, as the platform reaches it through the endpoint.
	s.custPort = customerService(t)

	t.Setenv("AWS_ACCESS_KEY_ID", "moto")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "moto")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	cfg := testConfig(t)
	cfg.Cloud = "aws"
	for _, f := range tune {
		f(&cfg)
	}
	s.opts = awsprovider.Options{Endpoint: x.URL(), VPCID: s.plat.VPCID, SubnetIDs: s.plat.SubnetIDs, SecurityGroupIDs: []string{s.plat.SecurityGroupID}}
	var err error
	cfg.AWS, err = json.Marshal(s.opts)
	require.NoError(t, err)
	startWorker(t, c, cfg, app.WithProber(&probe.Prober{Resolver: suffixResolver(".vpce.amazonaws.com"), Timeout: 2e9}))
	return s
}

func (s awsStack) request() request.Request {
	return request.Request{
		Company: "Acme Corp", RequestedBy: "sam@platform.example", ProjectID: s.ref.Project, Environment: s.ref.Environment,
		Cloud: "aws", Region: "us-east-1", CustomerAccount: "111122223333", ConnectionType: "bidirectional",
		Services:                []request.Service{{Name: "mysql", Port: 3306}, {Name: "sftp", Port: 2222}},
		CustomerEndpointService: custServiceAWS, CustomerServicePorts: []int{s.custPort},
	}
}

// A bidirectional enablement for an AWS request, through the real
// workflows and worker on a real dev server, against moto.
func TestIntegrationAWSBidirectionalAgainstMoto(t *testing.T) {
	c := devtest.Client(t)
	s := startAWSWorker(t, c, "awsmoto00001")
	req := s.request()
	res := driveBidirectional(t, c, req, s.x, s.plat.ServiceName, "arn:aws:iam::"+awstest.PlatformAccount+":root")
	assert.True(t, strings.HasSuffix(res.Status.ReverseDNSName, ".vpce.amazonaws.com"), res.Status.ReverseDNSName)

	// The live link checks itself at once: the enablement's calls are the
	// total less that first check, which costs what any check costs.
	total, check := checkCost(t, c, req.WorkflowID(), s.x.CallCounts)
	n, detail := summarize(minus(total, check), "GetCallerIdentity")
	t.Logf("EC2 and ELB API calls for one bidirectional enablement (polls included): %d: %s", n, detail)
}
