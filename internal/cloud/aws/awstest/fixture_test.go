package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A create the SDK retries after its answer was lost finds the group its
// first try made: the fixture takes that group, in that VPC only.
func TestSecurityGroupSurvivesARetriedCreate(t *testing.T) {
	url := StartMoto(t)
	ctx := context.Background()
	e := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider("moto", "moto", "")})
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.30.0.0/16")})
	require.NoError(t, err)
	first, err := securityGroup(ctx, e, vpc.Vpc.VpcId, "nlb-retried")
	require.NoError(t, err)
	again, err := securityGroup(ctx, e, vpc.Vpc.VpcId, "nlb-retried")
	require.NoError(t, err, "the duplicate is the group asked for")
	assert.Equal(t, first, again)

	other, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.31.0.0/16")})
	require.NoError(t, err)
	elsewhere, err := securityGroup(ctx, e, other.Vpc.VpcId, "nlb-retried")
	require.NoError(t, err)
	assert.NotEqual(t, first, elsewhere, "a group of the same name in another VPC is its own")
}
