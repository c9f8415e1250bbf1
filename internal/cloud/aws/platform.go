package aws

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/linkwright/linkwright/internal/cloud"
)

// TagBackend on the endpoint service names the target group (name or ARN)
// whose targets serve every port Linkwright opens.
const TagBackend = "linkwright:backend-target-group"

var accountRe = regexp.MustCompile(`^[0-9]{12}$`)

func tagValue(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// service finds the platform's endpoint service configuration by its tags.
// The tags are checked on the answer too: some emulators ignore filters.
func (p *Provider) service(ctx context.Context, ref cloud.EnvRef) (ec2types.ServiceConfiguration, error) {
	const op = "DescribeVpcEndpointServiceConfigurations"
	pages := ec2.NewDescribeVpcEndpointServiceConfigurationsPaginator(p.in(ref.Region).ec2, &ec2.DescribeVpcEndpointServiceConfigurationsInput{
		Filters: []ec2types.Filter{
			{Name: aws.String("tag:" + TagProject), Values: []string{ref.Project}},
			{Name: aws.String("tag:" + TagEnvironment), Values: []string{ref.Environment}},
		},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return ec2types.ServiceConfiguration{}, classify(svcEC2, op, err)
		}
		for _, s := range page.ServiceConfigurations {
			if tagValue(s.Tags, TagProject) == ref.Project && tagValue(s.Tags, TagEnvironment) == ref.Environment {
				return s, nil
			}
		}
	}
	return ec2types.ServiceConfiguration{}, cloud.Errorf(cloud.NotFound, "Environment",
		"no endpoint service in %s is tagged %s=%s and %s=%s", ref.Region, TagProject, ref.Project, TagEnvironment, ref.Environment)
}

// serviceID is the ID of the environment's endpoint service: the run's
// hint when it has one, found by tags otherwise.
func (p *Provider) serviceID(ctx context.Context, ref cloud.EnvRef) (string, error) {
	if ref.ServiceHint != "" {
		return ref.ServiceHint, nil
	}
	svc, err := p.service(ctx, ref)
	return aws.ToString(svc.ServiceId), err
}

// Environment implements cloud.Provider.
func (p *Provider) Environment(ctx context.Context, ref cloud.EnvRef) (cloud.Environment, error) {
	svc, err := p.service(ctx, ref)
	if err != nil {
		return cloud.Environment{}, err
	}
	principal, err := p.principal(ctx, ref.Region)
	if err != nil {
		return cloud.Environment{}, err
	}
	ref.Cloud = "aws"
	return cloud.Environment{
		EnvRef: ref, Plan: strings.ToLower(tagValue(svc.Tags, TagPlan)),
		ServiceName: aws.ToString(svc.ServiceName), ServiceID: aws.ToString(svc.ServiceId), Principal: principal,
	}, nil
}

func (p *Provider) principal(ctx context.Context, region string) (string, error) {
	if p.opts.Principal != "" {
		return p.opts.Principal, nil
	}
	out, err := p.in(region).sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", classify(svcSTS, "GetCallerIdentity", err)
	}
	return "arn:aws:iam::" + aws.ToString(out.Account) + ":root", nil
}

func accountPrincipal(op, account string) (string, error) {
	if !accountRe.MatchString(account) {
		return "", cloud.Errorf(cloud.Invalid, op, "%q is not an AWS account ID; refusing to change permissions (never *)", account)
	}
	return "arn:aws:iam::" + account + ":root", nil
}

// permissions reads the principals allowed on the endpoint service, every
// page of them: a principal missed would be added twice, or left out of
// what undo must keep.
func (p *Provider) permissions(ctx context.Context, region, serviceID string) ([]string, error) {
	pages := ec2.NewDescribeVpcEndpointServicePermissionsPaginator(p.in(region).ec2, &ec2.DescribeVpcEndpointServicePermissionsInput{ServiceId: aws.String(serviceID)})
	var principals []string
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, classify(svcEC2, "DescribeVpcEndpointServicePermissions", err)
		}
		for _, a := range page.AllowedPrincipals {
			principals = append(principals, aws.ToString(a.Principal))
		}
	}
	return principals, nil
}

// ServiceState implements cloud.Provider: the ports with a listener on the
// service's NLB, and the accounts whose root is an allowed principal.
// Other principals (roles, users, "*") name no one customer account and
// are left out.
func (p *Provider) ServiceState(ctx context.Context, ref cloud.EnvRef) (cloud.ServiceState, error) {
	svc, err := p.service(ctx, ref)
	if err != nil {
		return cloud.ServiceState{}, err
	}
	return p.serviceState(ctx, ref.Region, svc)
}

// serviceState is ServiceState of a service found already.
func (p *Provider) serviceState(ctx context.Context, region string, svc ec2types.ServiceConfiguration) (cloud.ServiceState, error) {
	l, err := p.balancerOf(ctx, region, svc)
	if err != nil {
		return cloud.ServiceState{}, err
	}
	principals, err := p.permissions(ctx, region, aws.ToString(svc.ServiceId))
	if err != nil {
		return cloud.ServiceState{}, err
	}
	var ports []int
	for port := range l.listeners {
		ports = append(ports, int(port))
	}
	var accounts []string
	for _, pr := range principals {
		if a, ok := cloud.AWSAccount(pr); ok {
			accounts = append(accounts, a)
		}
	}
	return cloud.NewServiceState(ports, accounts), nil
}

// AllowAccount implements cloud.Provider: read first, add only if missing.
func (p *Provider) AllowAccount(ctx context.Context, ref cloud.EnvRef, account string) error {
	return p.setPermission(ctx, ref, account, true)
}

// RevokeAccount implements cloud.Provider.
func (p *Provider) RevokeAccount(ctx context.Context, ref cloud.EnvRef, account string) error {
	return p.setPermission(ctx, ref, account, false)
}

func (p *Provider) setPermission(ctx context.Context, ref cloud.EnvRef, account string, allow bool) error {
	const op = "ModifyVpcEndpointServicePermissions"
	principal, err := accountPrincipal(op, account)
	if err != nil {
		return err
	}
	serviceID, err := p.serviceID(ctx, ref)
	if err != nil {
		return err
	}
	principals, err := p.permissions(ctx, ref.Region, serviceID)
	if err != nil {
		return err
	}
	if slices.Contains(principals, principal) == allow {
		return nil
	}
	in := &ec2.ModifyVpcEndpointServicePermissionsInput{ServiceId: aws.String(serviceID)}
	if allow {
		in.AddAllowedPrincipals = []string{principal}
	} else {
		in.RemoveAllowedPrincipals = []string{principal}
	}
	_, err = p.in(ref.Region).ec2.ModifyVpcEndpointServicePermissions(ctx, in)
	return classify(svcEC2, op, err)
}

// lb is what OpenPorts needs to know about the environment's NLB.
type lb struct {
	arn, vpcID, vpcCIDR string
	securityGroups      []string
	listeners           map[int32]elbtypes.Listener
	backend             string // the backend target group's ARN, if tagged
}

func (p *Provider) loadBalancer(ctx context.Context, ref cloud.EnvRef) (lb, error) {
	svc, err := p.service(ctx, ref)
	if err != nil {
		return lb{}, err
	}
	return p.balancerOf(ctx, ref.Region, svc)
}

// balancerOf reads the NLB of an endpoint service and its listeners.
func (p *Provider) balancerOf(ctx context.Context, region string, svc ec2types.ServiceConfiguration) (lb, error) {
	if len(svc.NetworkLoadBalancerArns) == 0 {
		return lb{}, cloud.Errorf(cloud.Invalid, "DescribeLoadBalancers", "endpoint service %s has no Network Load Balancer: attach the platform's NLB to it", aws.ToString(svc.ServiceId))
	}
	c := p.in(region)
	out := lb{arn: svc.NetworkLoadBalancerArns[0], backend: tagValue(svc.Tags, TagBackend), listeners: map[int32]elbtypes.Listener{}}
	lbs, err := c.elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{out.arn}})
	if err != nil {
		return lb{}, classify(svcELB, "DescribeLoadBalancers", err)
	}
	if len(lbs.LoadBalancers) == 0 {
		return lb{}, cloud.Errorf(cloud.NotFound, "DescribeLoadBalancers", "load balancer %s is gone", out.arn)
	}
	out.vpcID, out.securityGroups = aws.ToString(lbs.LoadBalancers[0].VpcId), lbs.LoadBalancers[0].SecurityGroups
	pages := elbv2.NewDescribeListenersPaginator(c.elb, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(out.arn)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return lb{}, classify(svcELB, "DescribeListeners", err)
		}
		for _, l := range page.Listeners {
			out.listeners[aws.ToInt32(l.Port)] = l
		}
	}
	return out, nil
}

func targetGroupName(ref cloud.EnvRef, port int) string {
	return fmt.Sprintf("lw-%s-%d", clientToken(ref.String())[len("linkwright-"):][:12], port)
}

// OpenPorts implements cloud.Provider: for each port, a target group with
// the backend's targets, a TCP listener on the NLB and an ingress rule on
// its security groups. What exists already is left as it is.
func (p *Provider) OpenPorts(ctx context.Context, ref cloud.EnvRef, ports []int) error {
	l, err := p.loadBalancer(ctx, ref)
	if err != nil {
		return err
	}
	c := p.in(ref.Region)
	var missing []int
	for _, port := range ports {
		if _, ok := l.listeners[int32(port)]; !ok {
			missing = append(missing, port)
		}
	}
	if len(missing) > 0 {
		if l.backend == "" {
			return cloud.Errorf(cloud.Invalid, "OpenPorts", "tag the endpoint service with %s=<target group of the platform's backend> so Linkwright knows where port traffic goes", TagBackend)
		}
		backend, targets, err := p.backendTargets(ctx, c, l.backend)
		if err != nil {
			return err
		}
		for _, port := range missing {
			if err := p.openPort(ctx, c, ref, l, backend, targets, port); err != nil {
				return err
			}
		}
	}
	return p.ingress(ctx, c, l, ports, true)
}

func (p *Provider) backendTargets(ctx context.Context, c *clients, nameOrARN string) (elbtypes.TargetGroup, []elbtypes.TargetDescription, error) {
	in := &elbv2.DescribeTargetGroupsInput{Names: []string{nameOrARN}}
	if strings.HasPrefix(nameOrARN, "arn:") {
		in = &elbv2.DescribeTargetGroupsInput{TargetGroupArns: []string{nameOrARN}}
	}
	tgs, err := c.elb.DescribeTargetGroups(ctx, in)
	if err != nil {
		return elbtypes.TargetGroup{}, nil, classify(svcELB, "DescribeTargetGroups", err)
	}
	if len(tgs.TargetGroups) == 0 {
		return elbtypes.TargetGroup{}, nil, cloud.Errorf(cloud.NotFound, "OpenPorts", "backend target group %s not found", nameOrARN)
	}
	tg := tgs.TargetGroups[0]
	health, err := c.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
	if err != nil {
		return tg, nil, classify(svcELB, "DescribeTargetHealth", err)
	}
	var targets []elbtypes.TargetDescription
	for _, h := range health.TargetHealthDescriptions {
		if h.Target != nil {
			targets = append(targets, elbtypes.TargetDescription{Id: h.Target.Id, AvailabilityZone: h.Target.AvailabilityZone})
		}
	}
	return tg, targets, nil
}

func (p *Provider) openPort(ctx context.Context, c *clients, ref cloud.EnvRef, l lb, backend elbtypes.TargetGroup, targets []elbtypes.TargetDescription, port int) error {
	// CreateTargetGroup answers with the existing group when one of the
	// same name and settings exists, so a retry finds the first.
	tg, err := c.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(targetGroupName(ref, port)), Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(int32(port)),
		VpcId: aws.String(l.vpcID), TargetType: backend.TargetType,
		Tags: []elbtypes.Tag{{Key: aws.String(TagProject), Value: aws.String(ref.Project)}, {Key: aws.String(TagEnvironment), Value: aws.String(ref.Environment)}},
	})
	if err != nil && strings.Contains(err.Error(), "DuplicateTargetGroupName") {
		// AWS answers an identical create with the existing group; some
		// emulators refuse it instead: find the group made before.
		var found *elbv2.DescribeTargetGroupsOutput
		found, err = c.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{targetGroupName(ref, port)}})
		if err == nil {
			tg = &elbv2.CreateTargetGroupOutput{TargetGroups: found.TargetGroups}
		}
	}
	if err != nil {
		return classify(svcELB, "CreateTargetGroup", err)
	}
	if len(tg.TargetGroups) == 0 {
		return cloud.Errorf(cloud.Retryable, "CreateTargetGroup", "no target group in the answer")
	}
	arn := tg.TargetGroups[0].TargetGroupArn
	if len(targets) > 0 {
		withPort := make([]elbtypes.TargetDescription, len(targets))
		for i, t := range targets {
			withPort[i] = elbtypes.TargetDescription{Id: t.Id, AvailabilityZone: t.AvailabilityZone, Port: aws.Int32(int32(port))}
		}
		if _, err := c.elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: arn, Targets: withPort}); err != nil {
			return classify(svcELB, "RegisterTargets", err)
		}
	}
	_, err = c.elb.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: aws.String(l.arn), Protocol: elbtypes.ProtocolEnumTcp, Port: aws.Int32(int32(port)),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: arn}},
	})
	return classify(svcELB, "CreateListener", err)
}

// ingress adds or removes a TCP rule per port from the VPC's CIDR on the
// NLB's security groups; a rule already there (or already gone) is success.
func (p *Provider) ingress(ctx context.Context, c *clients, l lb, ports []int, add bool) error {
	if len(l.securityGroups) == 0 {
		return nil // an NLB without security groups filters nothing
	}
	vpcs, err := c.ec2.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{l.vpcID}})
	if err != nil {
		return classify(svcEC2, "DescribeVpcs", err)
	}
	if len(vpcs.Vpcs) == 0 {
		return cloud.Errorf(cloud.NotFound, "DescribeVpcs", "VPC %s not found", l.vpcID)
	}
	cidr := aws.ToString(vpcs.Vpcs[0].CidrBlock)
	for _, sg := range l.securityGroups {
		for _, port := range ports {
			perm := []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(int32(port)), ToPort: aws.Int32(int32(port)),
				IpRanges: []ec2types.IpRange{{CidrIp: aws.String(cidr), Description: aws.String("linkwright PrivateLink")}}}}
			if add {
				_, err = c.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(sg), IpPermissions: perm})
				err = ignoreCode(classify(svcEC2, "AuthorizeSecurityGroupIngress", err), "InvalidPermission.Duplicate")
			} else {
				_, err = c.ec2.RevokeSecurityGroupIngress(ctx, &ec2.RevokeSecurityGroupIngressInput{GroupId: aws.String(sg), IpPermissions: perm})
				err = ignoreCode(classify(svcEC2, "RevokeSecurityGroupIngress", err), "InvalidPermission.NotFound")
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// ClosePorts implements cloud.Provider.
func (p *Provider) ClosePorts(ctx context.Context, ref cloud.EnvRef, ports []int) error {
	l, err := p.loadBalancer(ctx, ref)
	if err != nil {
		return err
	}
	c := p.in(ref.Region)
	for _, port := range ports {
		if ln, ok := l.listeners[int32(port)]; ok {
			if _, err := c.elb.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: ln.ListenerArn}); err != nil {
				return ignoreNotFound(classify(svcELB, "DeleteListener", err))
			}
		}
		tgs, err := c.elb.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{Names: []string{targetGroupName(ref, port)}})
		if err = ignoreNotFound(classify(svcELB, "DescribeTargetGroups", err)); err != nil {
			return err
		}
		if tgs != nil {
			for _, tg := range tgs.TargetGroups {
				if _, err := c.elb.DeleteTargetGroup(ctx, &elbv2.DeleteTargetGroupInput{TargetGroupArn: tg.TargetGroupArn}); err != nil {
					return ignoreNotFound(classify(svcELB, "DeleteTargetGroup", err))
				}
			}
		}
	}
	return p.ingress(ctx, c, l, ports, false)
}

// TargetHealth implements cloud.Provider: a port is healthy when its
// listener forwards to a target group with at least one healthy target.
func (p *Provider) TargetHealth(ctx context.Context, ref cloud.EnvRef, ports []int) ([]cloud.Target, error) {
	l, err := p.loadBalancer(ctx, ref)
	if err != nil {
		return nil, err
	}
	c := p.in(ref.Region)
	var out []cloud.Target
	for _, port := range ports {
		t := cloud.Target{Port: port}
		ln, ok := l.listeners[int32(port)]
		switch {
		case !ok:
			t.Reason = "no listener on the load balancer for this port"
		case len(ln.DefaultActions) == 0 || ln.DefaultActions[0].TargetGroupArn == nil:
			t.Reason = "the listener forwards to no target group"
		default:
			h, err := c.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: ln.DefaultActions[0].TargetGroupArn})
			if err != nil {
				return nil, classify(svcELB, "DescribeTargetHealth", err)
			}
			t.Healthy, t.Reason = healthOf(h.TargetHealthDescriptions)
		}
		out = append(out, t)
	}
	return out, nil
}

func healthOf(ds []elbtypes.TargetHealthDescription) (bool, string) {
	if len(ds) == 0 {
		return false, "no targets registered"
	}
	reason := ""
	for _, d := range ds {
		if d.TargetHealth == nil {
			continue
		}
		if strings.EqualFold(string(d.TargetHealth.State), "healthy") {
			return true, ""
		}
		if reason == "" {
			reason = fmt.Sprintf("targets are %s: %s %s", d.TargetHealth.State, d.TargetHealth.Reason, aws.ToString(d.TargetHealth.Description))
		}
	}
	return false, strings.TrimSpace(reason)
}

func ignoreCode(err error, code string) error {
	if err != nil && strings.Contains(err.Error(), code) {
		return nil
	}
	return err
}

func ignoreNotFound(err error) error {
	if cloud.IsNotFound(err) {
		return nil
	}
	return err
}
