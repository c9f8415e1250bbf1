package aws

import (
	"context"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Zones implements cloud.Provider. The platform's zones are those of the
// configured endpoint subnets (aws.subnetIds), from DescribeSubnets; the
// service's are those DescribeVpcEndpointServices lists for it. EC2 names
// zones per account (one account's us-east-1a is another's us-east-1c), so
// every zone is answered by its ID: the names an answer gives, which are
// in the platform account's own naming, are mapped to IDs with one
// DescribeAvailabilityZones of the same account, never compared as names.
// Answers that carry the IDs already (a subnet's AvailabilityZoneId, a
// service's AvailabilityZoneIds) need no mapping, and then no such call.
// Every call is a Describe: nothing changes.
func (p *Provider) Zones(ctx context.Context, ref cloud.EnvRef, service string) (cloud.Zones, error) {
	if err := p.placement("DescribeSubnets"); err != nil {
		return cloud.Zones{}, err
	}
	platform, err := p.subnetZones(ctx, ref.Region)
	if err != nil {
		return cloud.Zones{}, err
	}
	var svc zoneRefs
	if service != "" {
		d, visible, err := p.serviceDetail(ctx, ref.Region, service)
		if err != nil {
			return cloud.Zones{}, err
		}
		if !visible {
			return cloud.Zones{}, cloud.Errorf(cloud.NotFound, "DescribeVpcEndpointServices",
				"customer service %s is not visible to the platform in %s: it does not exist there, or its owner has not allowed the platform's principal on it yet", service, ref.Region)
		}
		svc = serviceZones(d)
	}
	var known map[string]string
	if names := slices.Concat(platform.names, svc.names); len(names) > 0 {
		if known, err = p.zoneIDsByName(ctx, ref.Region, names); err != nil {
			return cloud.Zones{}, err
		}
	}
	var out cloud.Zones
	var unknown []string
	out.Platform, unknown = resolveZones(platform, known)
	if len(unknown) > 0 {
		return cloud.Zones{}, unknownZones(ref.Region, "the subnets of aws.subnetIds", unknown)
	}
	if service != "" {
		if out.Service, unknown = resolveZones(svc, known); len(unknown) > 0 {
			return cloud.Zones{}, unknownZones(ref.Region, "service "+service, unknown)
		}
	}
	return out, nil
}

// zoneRefs are zones as an answer gives them: by ID where it has one, by
// name (in the caller's account's naming) where not.
type zoneRefs struct{ ids, names []string }

// subnetZones reads the zones of the configured endpoint subnets. A subnet
// that does not exist in the region, or is outside aws.vpcId, is a
// mistake in the worker's config (Invalid), not a NotFound: NotFound from
// Zones means the customer's service.
func (p *Provider) subnetZones(ctx context.Context, region string) (zoneRefs, error) {
	const op = "DescribeSubnets"
	ids := slices.Compact(slices.Sorted(slices.Values(p.opts.SubnetIDs)))
	out, err := p.in(region).ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: ids})
	if err != nil {
		err = classify(svcEC2, op, err)
		if cloud.IsNotFound(err) {
			return zoneRefs{}, &cloud.Error{Kind: cloud.Invalid, Op: op,
				Msg: "aws.subnetIds in the worker's config names a subnet that does not exist in " + region + ": list the platform's endpoint subnets of aws.vpcId there", Err: err}
		}
		return zoneRefs{}, err
	}
	var z zoneRefs
	for _, id := range ids {
		i := slices.IndexFunc(out.Subnets, func(s ec2types.Subnet) bool { return aws.ToString(s.SubnetId) == id })
		if i < 0 {
			return zoneRefs{}, cloud.Errorf(cloud.Invalid, op, "subnet %s of aws.subnetIds does not exist in %s: list the platform's endpoint subnets of aws.vpcId there", id, region)
		}
		s := out.Subnets[i]
		if vpc := aws.ToString(s.VpcId); vpc != p.opts.VPCID {
			return zoneRefs{}, cloud.Errorf(cloud.Invalid, op, "subnet %s of aws.subnetIds is in %s, not in aws.vpcId %s: endpoints go in subnets of their VPC; fix the worker's config", id, vpc, p.opts.VPCID)
		}
		if zid := aws.ToString(s.AvailabilityZoneId); zid != "" {
			z.ids = append(z.ids, zid)
		} else {
			z.names = append(z.names, aws.ToString(s.AvailabilityZone))
		}
	}
	return z, nil
}

// serviceZones are the zones a service is offered in: by ID where EC2
// answers them for every zone, else by name.
func serviceZones(d ec2types.ServiceDetail) zoneRefs {
	if len(d.AvailabilityZoneIds) > 0 && len(d.AvailabilityZoneIds) >= len(d.AvailabilityZones) {
		return zoneRefs{ids: d.AvailabilityZoneIds}
	}
	return zoneRefs{names: d.AvailabilityZones}
}

// zoneIDsByName maps zone names, in the platform account's naming, to zone
// IDs: the region's zones of that name, opted in or not.
func (p *Provider) zoneIDsByName(ctx context.Context, region string, names []string) (map[string]string, error) {
	out, err := p.in(region).ec2.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{
		AllAvailabilityZones: aws.Bool(true),
		Filters:              []ec2types.Filter{{Name: aws.String("zone-name"), Values: slices.Compact(slices.Sorted(slices.Values(names)))}},
	})
	if err != nil {
		return nil, classify(svcEC2, "DescribeAvailabilityZones", err)
	}
	return zoneIDs(out.AvailabilityZones), nil
}

// zoneIDs is the zone ID of each zone name in a DescribeAvailabilityZones
// answer. The answer is the caller's: its names are the caller's naming.
func zoneIDs(azs []ec2types.AvailabilityZone) map[string]string {
	m := make(map[string]string, len(azs))
	for _, az := range azs {
		if name, id := aws.ToString(az.ZoneName), aws.ToString(az.ZoneId); name != "" && id != "" {
			m[name] = id
		}
	}
	return m
}

// resolveZones turns zones to IDs, sorted and once each; unknown are the
// names known has no ID for.
func resolveZones(z zoneRefs, known map[string]string) (ids, unknown []string) {
	ids = slices.Clone(z.ids)
	for _, name := range z.names {
		if id, ok := known[name]; ok {
			ids = append(ids, id)
		} else {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), unknown
}

// unknownZones is EC2 naming zones its own DescribeAvailabilityZones does
// not know: not a mistake of the caller's, possibly a passing one.
func unknownZones(region, of string, names []string) error {
	return cloud.Errorf(cloud.Retryable, "DescribeAvailabilityZones",
		"EC2 places %s in zones %s, which DescribeAvailabilityZones does not list in %s: their zone IDs are unknown, so the zones cannot be compared", of, strings.Join(names, ", "), region)
}
