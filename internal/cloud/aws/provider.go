// Package aws implements cloud.Provider for AWS PrivateLink with
// aws-sdk-go-v2: the platform's endpoint service (found by tags), its
// Network Load Balancer's listeners and security group, the customers'
// endpoint connections, and interface endpoints into customers' services.
//
// Facts this code gets right: EC2 answers endpoint states in lowerCamel
// while the SDK's constants are PascalCase (compared without case);
// Accept/Reject report per-endpoint failures in Unsuccessful with a nil
// error; only CreateVpcEndpoint takes a ClientToken, so everything else
// reads state first; throttling and 5xx are retryable.
package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/strictjson"
)

// The calls this provider makes, and nothing more: each method here is an
// IAM action in deployments/aws/iam-policy.json (a test keeps them equal).
type ec2API interface {
	DescribeVpcEndpointServiceConfigurations(context.Context, *ec2.DescribeVpcEndpointServiceConfigurationsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointServiceConfigurationsOutput, error)
	DescribeVpcEndpointServicePermissions(context.Context, *ec2.DescribeVpcEndpointServicePermissionsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointServicePermissionsOutput, error)
	ModifyVpcEndpointServicePermissions(context.Context, *ec2.ModifyVpcEndpointServicePermissionsInput, ...func(*ec2.Options)) (*ec2.ModifyVpcEndpointServicePermissionsOutput, error)
	DescribeVpcEndpointConnections(context.Context, *ec2.DescribeVpcEndpointConnectionsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointConnectionsOutput, error)
	AcceptVpcEndpointConnections(context.Context, *ec2.AcceptVpcEndpointConnectionsInput, ...func(*ec2.Options)) (*ec2.AcceptVpcEndpointConnectionsOutput, error)
	RejectVpcEndpointConnections(context.Context, *ec2.RejectVpcEndpointConnectionsInput, ...func(*ec2.Options)) (*ec2.RejectVpcEndpointConnectionsOutput, error)
	DescribeVpcEndpointServices(context.Context, *ec2.DescribeVpcEndpointServicesInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointServicesOutput, error)
	CreateVpcEndpoint(context.Context, *ec2.CreateVpcEndpointInput, ...func(*ec2.Options)) (*ec2.CreateVpcEndpointOutput, error)
	DescribeVpcEndpoints(context.Context, *ec2.DescribeVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcEndpointsOutput, error)
	DeleteVpcEndpoints(context.Context, *ec2.DeleteVpcEndpointsInput, ...func(*ec2.Options)) (*ec2.DeleteVpcEndpointsOutput, error)
	DescribeVpcs(context.Context, *ec2.DescribeVpcsInput, ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error)
	DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
	DescribeAvailabilityZones(context.Context, *ec2.DescribeAvailabilityZonesInput, ...func(*ec2.Options)) (*ec2.DescribeAvailabilityZonesOutput, error)
	AuthorizeSecurityGroupIngress(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupIngress(context.Context, *ec2.RevokeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
}

type elbAPI interface {
	DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
	DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DescribeTargetGroups(context.Context, *elbv2.DescribeTargetGroupsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	DescribeTargetHealth(context.Context, *elbv2.DescribeTargetHealthInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
	CreateTargetGroup(context.Context, *elbv2.CreateTargetGroupInput, ...func(*elbv2.Options)) (*elbv2.CreateTargetGroupOutput, error)
	RegisterTargets(context.Context, *elbv2.RegisterTargetsInput, ...func(*elbv2.Options)) (*elbv2.RegisterTargetsOutput, error)
	CreateListener(context.Context, *elbv2.CreateListenerInput, ...func(*elbv2.Options)) (*elbv2.CreateListenerOutput, error)
	DeleteListener(context.Context, *elbv2.DeleteListenerInput, ...func(*elbv2.Options)) (*elbv2.DeleteListenerOutput, error)
	DeleteTargetGroup(context.Context, *elbv2.DeleteTargetGroupInput, ...func(*elbv2.Options)) (*elbv2.DeleteTargetGroupOutput, error)
}

type stsAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Tags the platform sets on its resources for Linkwright to find them.
const (
	TagProject     = "linkwright:project"
	TagEnvironment = "linkwright:environment"
	TagPlan        = "linkwright:plan"
)

// Options configure the provider.
type Options struct {
	// Endpoint overrides the AWS endpoints (an emulator such as moto).
	Endpoint string `json:"endpoint"`
	// Profile is a shared-config profile; empty uses the default chain
	// (environment, shared config, web identity/IRSA, instance role).
	Profile string `json:"profile"`
	// AssumeRoleARN, if set, is assumed for every call.
	AssumeRoleARN string `json:"assumeRoleArn"`
	// Principal is the platform principal customers allow; empty means the
	// caller's account root, from STS.
	Principal string `json:"principal"`
	// Where reverse endpoints into customers' services are created.
	VPCID            string   `json:"vpcId"`
	SubnetIDs        []string `json:"subnetIds"`
	SecurityGroupIDs []string `json:"securityGroupIds"`
	// MaxAttempts is the SDK's own retry budget per call (3); activity
	// retries take over beyond it.
	MaxAttempts int `json:"maxAttempts"`
}

// ParseOptions reads the worker config's "aws" section strictly, then
// LINKWRIGHT_AWS_ENDPOINT (for emulators), and checks it.
func ParseOptions(raw json.RawMessage) (Options, error) {
	var o Options
	if err := strictjson.DecodeSection("aws", raw, &o); err != nil {
		return o, fmt.Errorf("%w (fields: endpoint, profile, assumeRoleArn, principal, vpcId, subnetIds, securityGroupIds, maxAttempts)", err)
	}
	strictjson.FromEnv(&o.Endpoint, "LINKWRIGHT_AWS_ENDPOINT")
	var p strictjson.Problems
	p.Add(o.VPCID == "", "aws.vpcId is required: the platform VPC where endpoints into customers' services go")
	p.Add(len(o.SubnetIDs) == 0, "aws.subnetIds is required: one subnet per availability zone of that VPC")
	p.Add(o.Principal != "" && !strings.HasPrefix(o.Principal, "arn:aws:iam::"), "aws.principal must be an IAM ARN such as arn:aws:iam::210987654321:root")
	return o, p.Err()
}

// Provider is cloud.Provider on AWS.
type Provider struct {
	opts    Options
	base    aws.Config
	retryer func() aws.Retryer

	mu      sync.Mutex
	regions map[string]*clients
}

type clients struct {
	ec2 ec2API
	elb elbAPI
	sts stsAPI
}

var _ cloud.Provider = (*Provider)(nil)

// New loads credentials (default chain, optional profile and role) and
// returns a provider. Clients are made per region on first use.
func New(ctx context.Context, opts Options) (*Provider, error) {
	var lo []func(*awsconfig.LoadOptions) error
	if opts.Profile != "" {
		lo = append(lo, awsconfig.WithSharedConfigProfile(opts.Profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("aws credentials: %w", err)
	}
	if opts.AssumeRoleARN != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg, func(o *sts.Options) {
			if opts.Endpoint != "" {
				o.BaseEndpoint = aws.String(opts.Endpoint)
			}
		}), opts.AssumeRoleARN))
	}
	return newProvider(cfg, opts), nil
}

func newProvider(cfg aws.Config, opts Options) *Provider {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	p := &Provider{opts: opts, base: cfg, regions: map[string]*clients{}}
	p.retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = opts.MaxAttempts })
	}
	return p
}

func (p *Provider) in(region string) *clients {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c := p.regions[region]; c != nil {
		return c
	}
	cfg := p.base.Copy()
	cfg.Region = region
	cfg.Retryer = p.retryer
	endpoint := func() *string {
		if p.opts.Endpoint == "" {
			return nil
		}
		return aws.String(p.opts.Endpoint)
	}
	c := &clients{
		ec2: ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = endpoint() }),
		elb: elbv2.NewFromConfig(cfg, func(o *elbv2.Options) { o.BaseEndpoint = endpoint() }),
		sts: sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = endpoint() }),
	}
	p.regions[region] = c
	return c
}

// clientToken turns a workflow-derived token into an EC2 ClientToken (at
// most 64 ASCII characters), the same for the same token.
func clientToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "linkwright-" + hex.EncodeToString(sum[:])[:40]
}
