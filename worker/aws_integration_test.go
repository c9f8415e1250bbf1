package main

import (
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
	res := driveBidirectional(t, c, req, x, plat.ServiceName, "arn:aws:iam::"+awstest.PlatformAccount+":root")
	assert.True(t, strings.HasSuffix(res.Status.ReverseDNSName, ".vpce.amazonaws.com"), res.Status.ReverseDNSName)

	total, detail := summarize(x.Calls, "GetCallerIdentity")
	t.Logf("EC2 and ELB API calls for one bidirectional enablement (polls included): %d: %s", total, detail)
}
