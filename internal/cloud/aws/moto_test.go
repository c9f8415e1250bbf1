package aws

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud/aws/awstest"
	"github.com/linkwright/linkwright/internal/cloud/cloudtest"
)

// The conformance suite every provider passes, against moto and the
// extension.
func TestConformanceAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	x := awstest.NewExtension(t, awstest.StartMoto(t))
	plat := x.BuildPlatform(t, ref, "pro")
	p := newProvider(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("moto", "moto", "")},
		Options{Endpoint: x.URL(), VPCID: plat.VPCID, SubnetIDs: plat.SubnetIDs, SecurityGroupIDs: []string{plat.SecurityGroupID}})
	cloudtest.Run(t, cloudtest.Harness{
		Provider: p, Customer: x, Env: ref,
		Account: "111122223333", Other: "444455556666",
		CustomerService: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
		Ports:           []int{3306, 2222},
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
		assert.Contains(t, l.listeners, int32(2222))
		assert.NotContains(t, l.listeners, int32(3306), "closed by the suite")
	})
}
