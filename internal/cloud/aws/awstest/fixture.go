package awstest

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/linkwright/linkwright/internal/cloud"
)

// BackendTargetGroup is the name of the fixture's backend target group.
func BackendTargetGroup(ref cloud.EnvRef) string { return "b-" + ref.Project + "-" + ref.Environment }

// Platform is one platform environment built in moto.
type Platform struct {
	VPCID           string
	SubnetIDs       []string
	SecurityGroupID string
	ServiceID       string
	ServiceName     string
}

// BuildPlatform creates, in moto, what a platform environment has before
// Linkwright runs: a VPC with subnets, a Network Load Balancer with a
// security group, a backend target group with a healthy target, and the
// endpoint service on the NLB tagged for Linkwright.
func (x *Extension) BuildPlatform(t testing.TB, ref cloud.EnvRef, plan string) Platform {
	t.Helper()
	p, err := x.Build(context.Background(), ref, plan)
	if err != nil {
		t.Fatalf("building the platform in moto: %v", err)
	}
	return p
}

// Build is BuildPlatform outside tests.
func (x *Extension) Build(ctx context.Context, ref cloud.EnvRef, plan string) (Platform, error) {
	creds := credentials.NewStaticCredentialsProvider("moto", "moto", "")
	e := ec2.New(ec2.Options{Region: ref.Region, BaseEndpoint: aws.String(x.moto), Credentials: creds})
	lbs := elbv2.New(elbv2.Options{Region: ref.Region, BaseEndpoint: aws.String(x.moto), Credentials: creds})
	var p Platform
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.20.0.0/16")})
	if err != nil {
		return p, err
	}
	p.VPCID = aws.ToString(vpc.Vpc.VpcId)
	for i, az := range []string{"a", "b"} {
		sn, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("10.20." + string(rune('1'+i)) + ".0/24"), AvailabilityZone: aws.String(ref.Region + az)})
		if err != nil {
			return p, err
		}
		p.SubnetIDs = append(p.SubnetIDs, aws.ToString(sn.Subnet.SubnetId))
	}
	if p.SecurityGroupID, err = securityGroup(ctx, e, vpc.Vpc.VpcId, "nlb-"+ref.Project+"-"+ref.Environment); err != nil {
		return p, err
	}
	nlb, err := lbs.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("p-" + ref.Project + "-" + ref.Environment), Type: elbtypes.LoadBalancerTypeEnumNetwork,
		Subnets: p.SubnetIDs, SecurityGroups: []string{p.SecurityGroupID}})
	if err != nil {
		return p, err
	}
	backend, err := lbs.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(BackendTargetGroup(ref)), Protocol: elbtypes.ProtocolEnumTcp,
		Port: aws.Int32(8000), VpcId: vpc.Vpc.VpcId, TargetType: elbtypes.TargetTypeEnumIp})
	if err != nil {
		return p, err
	}
	_, err = lbs.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: backend.TargetGroups[0].TargetGroupArn,
		Targets: []elbtypes.TargetDescription{{Id: aws.String("10.20.1.10"), Port: aws.Int32(8000)}}})
	if err != nil {
		return p, err
	}
	svc, err := e.CreateVpcEndpointServiceConfiguration(ctx, &ec2.CreateVpcEndpointServiceConfigurationInput{
		NetworkLoadBalancerArns: []string{aws.ToString(nlb.LoadBalancers[0].LoadBalancerArn)}, AcceptanceRequired: aws.Bool(true),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVpcEndpointService, Tags: []ec2types.Tag{
			{Key: aws.String("linkwright:project"), Value: aws.String(ref.Project)},
			{Key: aws.String("linkwright:environment"), Value: aws.String(ref.Environment)},
			{Key: aws.String("linkwright:plan"), Value: aws.String(plan)},
			{Key: aws.String("linkwright:backend-target-group"), Value: aws.String(BackendTargetGroup(ref))},
		}}},
	})
	if err != nil {
		return p, err
	}
	p.ServiceID, p.ServiceName = aws.ToString(svc.ServiceConfiguration.ServiceId), aws.ToString(svc.ServiceConfiguration.ServiceName)
	return p, nil
}

// securityGroup creates the named group in the VPC. The SDK retries a
// create whose answer was lost (a slow moto on a loaded machine), and the
// retry then finds the group its first try made (InvalidGroup.Duplicate):
// that group is the one asked for.
func securityGroup(ctx context.Context, e *ec2.Client, vpcID *string, name string) (string, error) {
	sg, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String("platform NLB"), VpcId: vpcID})
	if err == nil {
		return aws.ToString(sg.GroupId), nil
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidGroup.Duplicate" {
		return "", err
	}
	out, derr := e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("group-name"), Values: []string{name}}, {Name: aws.String("vpc-id"), Values: []string{aws.ToString(vpcID)}}}})
	if derr != nil || len(out.SecurityGroups) != 1 {
		return "", err
	}
	return aws.ToString(out.SecurityGroups[0].GroupId), nil
}
