package azure

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/network/armnetwork/v9"

	"github.com/linkwright/linkwright/internal/cloud"
)

// pls is a platform Private Link service and where it lives.
type pls struct {
	armnetwork.PrivateLinkService
	group string
}

// service finds the platform's Private Link service by its tags in the
// configured resource groups.
func (p *Provider) service(ctx context.Context, ref cloud.EnvRef) (pls, error) {
	const op = "PrivateLinkServices.List"
	for _, rg := range p.opts.ResourceGroups {
		pager := p.platform().NewPrivateLinkServicesClient().NewListPager(rg, nil)
		for pager.More() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return pls{}, classify(op, "Microsoft.Network/privateLinkServices/read", err)
			}
			for _, s := range page.Value {
				if s != nil && deref(s.Tags[TagProject]) == ref.Project && deref(s.Tags[TagEnvironment]) == ref.Environment {
					return pls{PrivateLinkService: *s, group: rg}, nil
				}
			}
		}
	}
	return pls{}, cloud.Errorf(cloud.NotFound, "Environment", "no Private Link service in %s is tagged %s=%s and %s=%s",
		strings.Join(p.opts.ResourceGroups, ", "), TagProject, ref.Project, TagEnvironment, ref.Environment)
}

// Environment implements cloud.Provider.
func (p *Provider) Environment(ctx context.Context, ref cloud.EnvRef) (cloud.Environment, error) {
	s, err := p.service(ctx, ref)
	if err != nil {
		return cloud.Environment{}, err
	}
	ref.Cloud, ref.Region = "azure", strings.ToLower(deref(s.Location))
	env := cloud.Environment{EnvRef: ref, Plan: strings.ToLower(deref(s.Tags[TagPlan])), ServiceID: deref(s.ID), Principal: p.opts.SubscriptionID}
	if s.Properties != nil {
		env.ServiceName = deref(s.Properties.Alias)
	}
	return env, nil
}

// AllowAccount implements cloud.Provider: the subscription goes on the
// service's Visibility (and AutoApproval where configured), written with
// the ETag read, so a concurrent change makes this attempt fail and retry
// instead of being lost.
func (p *Provider) AllowAccount(ctx context.Context, ref cloud.EnvRef, account string) error {
	return p.setVisibility(ctx, ref, account, true)
}

// RevokeAccount implements cloud.Provider.
func (p *Provider) RevokeAccount(ctx context.Context, ref cloud.EnvRef, account string) error {
	return p.setVisibility(ctx, ref, account, false)
}

func (p *Provider) setVisibility(ctx context.Context, ref cloud.EnvRef, account string, allow bool) error {
	const op = "PrivateLinkServices.CreateOrUpdate"
	account = strings.ToLower(account)
	if !isSubscription(account) {
		return cloud.Errorf(cloud.Invalid, op, "%q is not a subscription ID; refusing to change visibility (never *)", account)
	}
	s, err := p.service(ctx, ref)
	if err != nil {
		return err
	}
	props := s.Properties
	if props == nil {
		props = &armnetwork.PrivateLinkServiceProperties{}
	}
	vis := subscriptions(props.Visibility)
	changed := false
	vis, changed = toggle(vis, account, allow)
	props.Visibility = &armnetwork.PrivateLinkServicePropertiesVisibility{Subscriptions: ptrs(vis)}
	if p.opts.AutoApprove || !allow {
		auto, c := toggle(subscriptions((*armnetwork.PrivateLinkServicePropertiesVisibility)(props.AutoApproval)), account, allow && p.opts.AutoApprove)
		changed = changed || c
		props.AutoApproval = &armnetwork.PrivateLinkServicePropertiesAutoApproval{Subscriptions: ptrs(auto)}
	}
	if !changed {
		return nil
	}
	s.Properties = props
	poller, err := p.platform().NewPrivateLinkServicesClient().BeginCreateOrUpdate(withETag(ctx, s.Etag), s.group, deref(s.Name), s.PrivateLinkService, nil)
	if err == nil {
		_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: pollFreq})
	}
	return classify(op, "Microsoft.Network/privateLinkServices/write", err)
}

// isSubscription reports whether s looks like a subscription ID, which
// "*" (every subscription) does not.
func isSubscription(s string) bool { return len(s) == 36 && strings.Count(s, "-") == 4 }

// ServiceState implements cloud.Provider: the frontend ports of the load
// balancing rules on the service's frontends, and the subscriptions on its
// Visibility. Rules on the balancer's other frontends are not reachable
// through the service; a rule on every port (HA ports, port 0) names no
// port; "*" names no subscription.
func (p *Provider) ServiceState(ctx context.Context, ref cloud.EnvRef) (cloud.ServiceState, error) {
	s, b, err := p.serviceAndBalancer(ctx, ref)
	if err != nil {
		return cloud.ServiceState{}, err
	}
	return serviceState(s, b), nil
}

// serviceState is ServiceState of a service and balancer read already.
func serviceState(s pls, b balancer) cloud.ServiceState {
	var ports []int
	for _, r := range b.lb.Properties.LoadBalancingRules {
		if r == nil || r.Properties == nil || deref(r.Properties.FrontendPort) <= 0 {
			continue
		}
		if fe := r.Properties.FrontendIPConfiguration; fe != nil && !servesFrontend(s, deref(fe.ID)) {
			continue
		}
		ports = append(ports, int(*r.Properties.FrontendPort))
	}
	var accounts []string
	if s.Properties != nil {
		for _, sub := range subscriptions(s.Properties.Visibility) {
			if isSubscription(sub) {
				accounts = append(accounts, sub)
			}
		}
	}
	return cloud.NewServiceState(ports, accounts)
}

// servesFrontend reports whether the service uses the frontend IP
// configuration id (IDs compare without case in Azure).
func servesFrontend(s pls, id string) bool {
	return slices.ContainsFunc(s.Properties.LoadBalancerFrontendIPConfigurations, func(fe *armnetwork.FrontendIPConfiguration) bool {
		return fe != nil && strings.EqualFold(deref(fe.ID), id)
	})
}

func subscriptions(v *armnetwork.PrivateLinkServicePropertiesVisibility) []string {
	var out []string
	if v != nil {
		for _, s := range v.Subscriptions {
			out = append(out, strings.ToLower(deref(s)))
		}
	}
	return out
}

func toggle(list []string, s string, on bool) ([]string, bool) {
	if slices.Contains(list, s) == on {
		return list, false
	}
	if on {
		return append(list, s), true
	}
	return slices.DeleteFunc(list, func(x string) bool { return x == s }), true
}

func ptrs(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}

// balancer is the load balancer behind a Private Link service.
type balancer struct {
	lb       armnetwork.LoadBalancer
	group    string
	frontend string // the frontend IP configuration the service uses
}

// serviceAndBalancer finds the platform's service and its load balancer.
func (p *Provider) serviceAndBalancer(ctx context.Context, ref cloud.EnvRef) (pls, balancer, error) {
	s, err := p.service(ctx, ref)
	if err != nil {
		return s, balancer{}, err
	}
	b, err := p.balancer(ctx, s)
	return s, b, err
}

func (p *Provider) balancer(ctx context.Context, s pls) (balancer, error) {
	const op = "LoadBalancers.Get"
	if s.Properties == nil || len(s.Properties.LoadBalancerFrontendIPConfigurations) == 0 {
		return balancer{}, cloud.Errorf(cloud.Invalid, op, "Private Link service %s has no load balancer frontend", deref(s.Name))
	}
	frontend := deref(s.Properties.LoadBalancerFrontendIPConfigurations[0].ID)
	id, err := arm.ParseResourceID(frontend)
	if err != nil || id.Parent == nil {
		return balancer{}, cloud.Errorf(cloud.Invalid, op, "frontend %q is not a load balancer frontend ID", frontend)
	}
	lb, err := p.platform().NewLoadBalancersClient().Get(ctx, id.Parent.ResourceGroupName, id.Parent.Name, nil)
	if err != nil {
		return balancer{}, classify(op, "Microsoft.Network/loadBalancers/read", err)
	}
	if lb.Properties == nil {
		lb.Properties = &armnetwork.LoadBalancerPropertiesFormat{}
	}
	return balancer{lb: lb.LoadBalancer, group: id.Parent.ResourceGroupName, frontend: frontend}, nil
}

func ruleName(port int) string  { return "lw-" + strconv.Itoa(port) }
func probeName(port int) string { return "lw-probe-" + strconv.Itoa(port) }

func refuse443(op string, ports []int) error {
	if slices.Contains(ports, 443) {
		return cloud.Errorf(cloud.Invalid, op, "port 443 cannot be opened on Azure Private Link here (origin cloaking owns it)")
	}
	return nil
}

// OpenPorts implements cloud.Provider: for each port, a TCP rule and probe
// on the service's load balancer (written with its ETag) and, if the
// service is tagged with an NSG, an inbound rule there.
func (p *Provider) OpenPorts(ctx context.Context, ref cloud.EnvRef, ports []int) error {
	const op = "LoadBalancers.CreateOrUpdate"
	if err := refuse443(op, ports); err != nil {
		return err
	}
	s, b, err := p.serviceAndBalancer(ctx, ref)
	if err != nil {
		return err
	}
	lbp := b.lb.Properties
	pool := ""
	for _, bp := range lbp.BackendAddressPools {
		if pool == "" || deref(bp.Name) == deref(s.Tags[TagBackendPool]) {
			pool = deref(bp.ID)
		}
	}
	if pool == "" {
		return cloud.Errorf(cloud.Invalid, op, "load balancer %s has no backend pool to send port traffic to", deref(b.lb.Name))
	}
	changed := false
	for _, port := range ports {
		if slices.ContainsFunc(lbp.LoadBalancingRules, func(r *armnetwork.LoadBalancingRule) bool { return deref(r.Name) == ruleName(port) }) {
			continue
		}
		probeID := deref(b.lb.ID) + "/probes/" + probeName(port)
		lbp.Probes = append(lbp.Probes, &armnetwork.Probe{Name: ptr(probeName(port)), Properties: &armnetwork.ProbePropertiesFormat{
			Protocol: ptr(armnetwork.ProbeProtocolTCP), Port: ptr(int32(port)), IntervalInSeconds: ptr(int32(5)), NumberOfProbes: ptr(int32(2))}})
		lbp.LoadBalancingRules = append(lbp.LoadBalancingRules, &armnetwork.LoadBalancingRule{Name: ptr(ruleName(port)), Properties: &armnetwork.LoadBalancingRulePropertiesFormat{
			Protocol: ptr(armnetwork.TransportProtocolTCP), FrontendPort: ptr(int32(port)), BackendPort: ptr(int32(port)),
			FrontendIPConfiguration: &armnetwork.SubResource{ID: ptr(b.frontend)}, BackendAddressPool: &armnetwork.SubResource{ID: ptr(pool)},
			Probe: &armnetwork.SubResource{ID: ptr(probeID)}}})
		changed = true
	}
	if changed {
		if err := p.writeBalancer(ctx, b); err != nil {
			return err
		}
	}
	return p.securityRules(ctx, s, ports, true)
}

func (p *Provider) writeBalancer(ctx context.Context, b balancer) error {
	const op = "LoadBalancers.CreateOrUpdate"
	poller, err := p.platform().NewLoadBalancersClient().BeginCreateOrUpdate(withETag(ctx, b.lb.Etag), b.group, deref(b.lb.Name), b.lb, nil)
	if err == nil {
		_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: pollFreq})
	}
	return classify(op, "Microsoft.Network/loadBalancers/write", err)
}

// securityRules adds or removes an inbound allow rule per port on the
// service's NSG; rules already there (or gone) are left alone.
func (p *Provider) securityRules(ctx context.Context, s pls, ports []int, add bool) error {
	nsg := deref(s.Tags[TagNSG])
	if nsg == "" {
		return nil
	}
	id, err := arm.ParseResourceID(nsg)
	if err != nil {
		return cloud.Errorf(cloud.Invalid, "SecurityRules", "tag %s=%q is not a network security group's resource ID", TagNSG, nsg)
	}
	rules := p.platform().NewSecurityRulesClient()
	var used []int32
	pager := rules.NewListPager(id.ResourceGroupName, id.Name, nil)
	existing := map[string]bool{}
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return classify("SecurityRules.List", "Microsoft.Network/networkSecurityGroups/securityRules/read", err)
		}
		for _, r := range page.Value {
			existing[deref(r.Name)] = true
			if r.Properties != nil {
				used = append(used, deref(r.Properties.Priority))
			}
		}
	}
	for _, port := range ports {
		name := "lw-allow-" + strconv.Itoa(port)
		switch {
		case add && !existing[name]:
			priority := int32(3000)
			for slices.Contains(used, priority) {
				priority++
			}
			used = append(used, priority)
			poller, err := rules.BeginCreateOrUpdate(ctx, id.ResourceGroupName, id.Name, name, armnetwork.SecurityRule{Properties: &armnetwork.SecurityRulePropertiesFormat{
				Access: ptr(armnetwork.SecurityRuleAccessAllow), Direction: ptr(armnetwork.SecurityRuleDirectionInbound), Priority: ptr(priority),
				Protocol: ptr(armnetwork.SecurityRuleProtocolTCP), SourceAddressPrefix: ptr("VirtualNetwork"), SourcePortRange: ptr("*"),
				DestinationAddressPrefix: ptr("*"), DestinationPortRange: ptr(strconv.Itoa(port)), Description: ptr("linkwright PrivateLink"),
			}}, nil)
			if err == nil {
				_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: pollFreq})
			}
			if err != nil {
				return classify("SecurityRules.CreateOrUpdate", "Microsoft.Network/networkSecurityGroups/securityRules/write", err)
			}
		case !add && existing[name]:
			poller, err := rules.BeginDelete(ctx, id.ResourceGroupName, id.Name, name, nil)
			if err == nil {
				_, err = poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: pollFreq})
			}
			if err := ignoreNotFound(classify("SecurityRules.Delete", "Microsoft.Network/networkSecurityGroups/securityRules/delete", err)); err != nil {
				return err
			}
		}
	}
	return nil
}

// ClosePorts implements cloud.Provider.
func (p *Provider) ClosePorts(ctx context.Context, ref cloud.EnvRef, ports []int) error {
	s, b, err := p.serviceAndBalancer(ctx, ref)
	if err != nil {
		return err
	}
	lbp := b.lb.Properties
	before := len(lbp.LoadBalancingRules) + len(lbp.Probes)
	lbp.LoadBalancingRules = slices.DeleteFunc(lbp.LoadBalancingRules, func(r *armnetwork.LoadBalancingRule) bool {
		return slices.ContainsFunc(ports, func(port int) bool { return deref(r.Name) == ruleName(port) })
	})
	lbp.Probes = slices.DeleteFunc(lbp.Probes, func(pr *armnetwork.Probe) bool {
		return slices.ContainsFunc(ports, func(port int) bool { return deref(pr.Name) == probeName(port) })
	})
	if len(lbp.LoadBalancingRules)+len(lbp.Probes) != before {
		if err := p.writeBalancer(ctx, b); err != nil {
			return err
		}
	}
	return p.securityRules(ctx, s, ports, false)
}

// TargetHealth implements cloud.Provider. armnetwork has no per-target
// health for a rule here: a port counts as healthy when its rule sends to
// a backend pool that has members.
func (p *Provider) TargetHealth(ctx context.Context, ref cloud.EnvRef, ports []int) ([]cloud.Target, error) {
	_, b, err := p.serviceAndBalancer(ctx, ref)
	if err != nil {
		return nil, err
	}
	var out []cloud.Target
	for _, port := range ports {
		t := cloud.Target{Port: port}
		i := slices.IndexFunc(b.lb.Properties.LoadBalancingRules, func(r *armnetwork.LoadBalancingRule) bool {
			return r.Properties != nil && deref(r.Properties.FrontendPort) == int32(port)
		})
		if i < 0 {
			t.Reason = "no load balancing rule for this port"
		} else if rule := b.lb.Properties.LoadBalancingRules[i]; rule.Properties.BackendAddressPool == nil {
			t.Reason = "the rule sends to no backend pool"
		} else {
			t.Healthy, t.Reason = poolHealth(b.lb.Properties.BackendAddressPools, deref(rule.Properties.BackendAddressPool.ID))
		}
		out = append(out, t)
	}
	return out, nil
}

func poolHealth(pools []*armnetwork.BackendAddressPool, id string) (bool, string) {
	for _, bp := range pools {
		if !strings.EqualFold(deref(bp.ID), id) {
			continue
		}
		if bp.Properties != nil && (len(bp.Properties.BackendIPConfigurations) > 0 || len(bp.Properties.LoadBalancerBackendAddresses) > 0) {
			return true, ""
		}
		return false, fmt.Sprintf("backend pool %s has no members", deref(bp.Name))
	}
	return false, "the rule's backend pool is gone"
}

func ptr[T any](v T) *T { return &v }

func ignoreNotFound(err error) error {
	if cloud.IsNotFound(err) {
		return nil
	}
	return err
}
