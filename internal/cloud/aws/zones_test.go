package aws

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/aws/awstest"
)

const ec2NS = ` xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>`

// subnetItem is a subnet of DescribeSubnets; zoneID "" leaves the ID out.
func subnetItem(id, vpc, zoneName, zoneID string) string {
	s := `<item><subnetId>` + id + `</subnetId><vpcId>` + vpc + `</vpcId><availabilityZone>` + zoneName + `</availabilityZone>`
	if zoneID != "" {
		s += `<availabilityZoneId>` + zoneID + `</availabilityZoneId>`
	}
	return s + `</item>`
}

func subnets(items ...string) answer {
	return ok(`<DescribeSubnetsResponse` + ec2NS + `<subnetSet>` + strings.Join(items, "") + `</subnetSet></DescribeSubnetsResponse>`)
}

// serviceZonesAnswer is a customer service offered in zones given by name
// and, if any, by ID.
func serviceZonesAnswer(name string, zoneNames, zoneIDs []string) answer {
	set := func(tag string, vs []string) string {
		if len(vs) == 0 {
			return ""
		}
		return `<` + tag + `><item>` + strings.Join(vs, `</item><item>`) + `</item></` + tag + `>`
	}
	return ok(`<DescribeVpcEndpointServicesResponse` + ec2NS + `<serviceDetailSet><item><serviceName>` + name + `</serviceName>` +
		set("availabilityZoneSet", zoneNames) + set("availabilityZoneIdSet", zoneIDs) + `<owner>111122223333</owner></item></serviceDetailSet></DescribeVpcEndpointServicesResponse>`)
}

// platformZones is the platform account's naming of us-east-1 in these
// fake answers: as moto names it.
func platformZones() answer {
	var items strings.Builder
	for _, z := range [][2]string{{"us-east-1a", "use1-az6"}, {"us-east-1b", "use1-az1"}, {"us-east-1c", "use1-az2"}, {"us-east-1d", "use1-az4"}} {
		items.WriteString(`<item><zoneName>` + z[0] + `</zoneName><zoneId>` + z[1] + `</zoneId><regionName>us-east-1</regionName><zoneState>available</zoneState></item>`)
	}
	return ok(`<DescribeAvailabilityZonesResponse` + ec2NS + `<availabilityZoneInfo>` + items.String() + `</availabilityZoneInfo></DescribeAvailabilityZonesResponse>`)
}

const custSvc = "com.amazonaws.vpce.us-east-1.vpce-svc-0cust"

var zoneOpts = Options{VPCID: "vpc-0plat", SubnetIDs: []string{"subnet-2", "subnet-1", "subnet-2"}}

func TestZonesMapsTheServicesZoneNamesToIDs(t *testing.T) {
	f := &fakeEC2{scripts: map[string][]answer{
		"DescribeSubnets": {subnets(subnetItem("subnet-1", "vpc-0plat", "us-east-1a", "use1-az6"), subnetItem("subnet-2", "vpc-0plat", "us-east-1b", "use1-az1"))},
		// In the platform's naming, us-east-1b and us-east-1c: use1-az1 and use1-az2.
		"DescribeVpcEndpointServices": {serviceZonesAnswer(custSvc, []string{"us-east-1c", "us-east-1b", "us-east-1b"}, nil)},
		"DescribeAvailabilityZones":   {platformZones()},
	}}
	p := newTestProvider(t, f, zoneOpts)
	z, err := p.Zones(context.Background(), ref, custSvc)
	require.NoError(t, err)
	assert.Equal(t, cloud.Zones{Platform: []string{"use1-az1", "use1-az6"}, Service: []string{"use1-az1", "use1-az2"}}, z, "zone IDs, sorted, once each")
	assert.Equal(t, []string{"use1-az6"}, z.Missing())

	subnetCall := f.last("DescribeSubnets")
	assert.Equal(t, "subnet-1", subnetCall.Get("SubnetId.1"), "each configured subnet once")
	assert.Equal(t, "subnet-2", subnetCall.Get("SubnetId.2"))
	assert.Empty(t, subnetCall.Get("SubnetId.3"))
	assert.Equal(t, custSvc, f.last("DescribeVpcEndpointServices").Get("ServiceName.1"))
	azCall := f.last("DescribeAvailabilityZones")
	assert.Equal(t, "zone-name", azCall.Get("Filter.1.Name"))
	assert.Equal(t, "us-east-1b", azCall.Get("Filter.1.Value.1"), "the names to map, once each")
	assert.Equal(t, "us-east-1c", azCall.Get("Filter.1.Value.2"))
	assert.Empty(t, azCall.Get("Filter.1.Value.3"))
	assert.Equal(t, "true", azCall.Get("AllAvailabilityZones"), "zones not opted in map too")
	assert.Len(t, f.calls, 3)
}

func TestZonesUsesTheIDsAnAnswerGives(t *testing.T) {
	f := &fakeEC2{scripts: map[string][]answer{
		"DescribeSubnets":             {subnets(subnetItem("subnet-1", "vpc-0plat", "us-east-1a", "use1-az6"), subnetItem("subnet-2", "vpc-0plat", "us-east-1b", "use1-az1"))},
		"DescribeVpcEndpointServices": {serviceZonesAnswer(custSvc, []string{"us-east-1a", "us-east-1b"}, []string{"use1-az6", "use1-az1"})},
	}}
	p := newTestProvider(t, f, zoneOpts)
	z, err := p.Zones(context.Background(), ref, custSvc)
	require.NoError(t, err)
	assert.Equal(t, []string{"use1-az1", "use1-az6"}, z.Service)
	assert.Empty(t, z.Missing())
	assert.Zero(t, f.count("DescribeAvailabilityZones"), "nothing to map")

	// Without a service, only the subnets are read.
	f = &fakeEC2{scripts: map[string][]answer{"DescribeSubnets": {subnets(subnetItem("subnet-1", "vpc-0plat", "us-east-1a", "use1-az6"), subnetItem("subnet-2", "vpc-0plat", "us-east-1b", "use1-az1"))}}}
	p = newTestProvider(t, f, zoneOpts)
	z, err = p.Zones(context.Background(), ref, "")
	require.NoError(t, err)
	assert.Equal(t, cloud.Zones{Platform: []string{"use1-az1", "use1-az6"}}, z)
	assert.Len(t, f.calls, 1)
}

// A subnet answered without its zone ID (an older emulator) is mapped by
// name in the same call as the service's zones.
func TestZonesMapsSubnetsWithoutZoneIDs(t *testing.T) {
	f := &fakeEC2{scripts: map[string][]answer{
		"DescribeSubnets":             {subnets(subnetItem("subnet-1", "vpc-0plat", "us-east-1a", ""), subnetItem("subnet-2", "vpc-0plat", "us-east-1b", "use1-az1"))},
		"DescribeVpcEndpointServices": {serviceZonesAnswer(custSvc, []string{"us-east-1d"}, nil)},
		"DescribeAvailabilityZones":   {platformZones()},
	}}
	p := newTestProvider(t, f, zoneOpts)
	z, err := p.Zones(context.Background(), ref, custSvc)
	require.NoError(t, err)
	assert.Equal(t, cloud.Zones{Platform: []string{"use1-az1", "use1-az6"}, Service: []string{"use1-az4"}}, z)
	assert.Equal(t, 1, f.count("DescribeAvailabilityZones"))
	assert.Equal(t, "us-east-1a", f.last("DescribeAvailabilityZones").Get("Filter.1.Value.1"))
	assert.Equal(t, "us-east-1d", f.last("DescribeAvailabilityZones").Get("Filter.1.Value.2"))
}

func TestZonesErrors(t *testing.T) {
	twoSubnets := subnets(subnetItem("subnet-1", "vpc-0plat", "us-east-1a", "use1-az6"), subnetItem("subnet-2", "vpc-0plat", "us-east-1b", "use1-az1"))
	for _, tc := range []struct {
		name    string
		opts    Options
		scripts map[string][]answer
		kind    cloud.Kind
		want    string
	}{
		{name: "no subnets configured", opts: Options{VPCID: "vpc-0plat"},
			kind: cloud.Invalid, want: "set aws.vpcId and aws.subnetIds in the worker's config"},
		{name: "a configured subnet that does not exist",
			scripts: map[string][]answer{"DescribeSubnets": {apiError(400, "InvalidSubnetID.NotFound")}},
			kind:    cloud.Invalid, want: "aws.subnetIds in the worker's config names a subnet that does not exist in us-east-1"},
		{name: "a configured subnet left out of the answer",
			scripts: map[string][]answer{"DescribeSubnets": {subnets(subnetItem("subnet-1", "vpc-0plat", "us-east-1a", "use1-az6"))}},
			kind:    cloud.Invalid, want: "subnet subnet-2 of aws.subnetIds does not exist in us-east-1"},
		{name: "a configured subnet in another VPC",
			scripts: map[string][]answer{"DescribeSubnets": {subnets(subnetItem("subnet-1", "vpc-0plat", "us-east-1a", "use1-az6"), subnetItem("subnet-2", "vpc-0else", "us-east-1b", "use1-az1"))}},
			kind:    cloud.Invalid, want: "subnet subnet-2 of aws.subnetIds is in vpc-0else, not in aws.vpcId vpc-0plat"},
		{name: "subnets unreadable", scripts: map[string][]answer{"DescribeSubnets": {apiError(403, "UnauthorizedOperation")}},
			kind: cloud.AccessDenied, want: "may not call ec2:DescribeSubnets"},
		{name: "a service not granted or not there",
			scripts: map[string][]answer{"DescribeSubnets": {twoSubnets}, "DescribeVpcEndpointServices": {apiError(400, "InvalidServiceName")}},
			kind:    cloud.NotFound, want: "customer service " + custSvc + " is not visible to the platform in us-east-1"},
		{name: "a service left out of the answer",
			scripts: map[string][]answer{"DescribeSubnets": {twoSubnets}, "DescribeVpcEndpointServices": {serviceZonesAnswer("com.amazonaws.vpce.us-east-1.vpce-svc-0else", []string{"us-east-1a"}, nil)}},
			kind:    cloud.NotFound, want: "is not visible to the platform"},
		{name: "throttled past the SDK's budget",
			scripts: map[string][]answer{"DescribeSubnets": {twoSubnets}, "DescribeVpcEndpointServices": {apiError(503, "RequestLimitExceeded")}},
			kind:    cloud.Retryable, want: "throttled"},
		{name: "zones unreadable",
			scripts: map[string][]answer{"DescribeSubnets": {twoSubnets}, "DescribeVpcEndpointServices": {serviceZonesAnswer(custSvc, []string{"us-east-1a"}, nil)},
				"DescribeAvailabilityZones": {apiError(403, "UnauthorizedOperation")}},
			kind: cloud.AccessDenied, want: "may not call ec2:DescribeAvailabilityZones: add it to the role's policy"},
		{name: "a zone name the region does not list",
			scripts: map[string][]answer{"DescribeSubnets": {twoSubnets}, "DescribeVpcEndpointServices": {serviceZonesAnswer(custSvc, []string{"us-east-1a", "us-east-1z"}, nil)},
				"DescribeAvailabilityZones": {platformZones()}},
			kind: cloud.Retryable, want: "EC2 places service " + custSvc + " in zones us-east-1z, which DescribeAvailabilityZones does not list in us-east-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := zoneOpts
			if tc.opts.VPCID != "" {
				opts = tc.opts
			}
			f := &fakeEC2{scripts: tc.scripts}
			_, err := newTestProvider(t, f, opts).Zones(context.Background(), ref, custSvc)
			require.Error(t, err)
			assert.Equal(t, tc.kind, cloud.KindOf(err), "got %v", err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestResolveZones(t *testing.T) {
	known := zoneIDs([]ec2types.AvailabilityZone{
		{ZoneName: aws.String("us-east-1a"), ZoneId: aws.String("use1-az6")},
		{ZoneName: aws.String("us-east-1b"), ZoneId: aws.String("use1-az1")},
		{ZoneName: aws.String("us-east-1c")}, // no ID: not mapped
	})
	assert.Equal(t, map[string]string{"us-east-1a": "use1-az6", "us-east-1b": "use1-az1"}, known)

	ids, unknown := resolveZones(zoneRefs{ids: []string{"use1-az6", "use1-az4"}, names: []string{"us-east-1b", "us-east-1a", "us-east-1c"}}, known)
	assert.Equal(t, []string{"use1-az1", "use1-az4", "use1-az6"}, ids, "IDs as given, names mapped, sorted, once each")
	assert.Equal(t, []string{"us-east-1c"}, unknown)

	ids, unknown = resolveZones(zoneRefs{}, nil)
	assert.Empty(t, ids)
	assert.Empty(t, unknown)

	assert.Equal(t, zoneRefs{ids: []string{"use1-az6"}}, serviceZones(ec2types.ServiceDetail{AvailabilityZones: []string{"us-east-1a"}, AvailabilityZoneIds: []string{"use1-az6"}}))
	assert.Equal(t, zoneRefs{names: []string{"us-east-1a", "us-east-1b"}}, serviceZones(ec2types.ServiceDetail{AvailabilityZones: []string{"us-east-1a", "us-east-1b"}, AvailabilityZoneIds: []string{"use1-az6"}}),
		"IDs for some zones only: the names, mapped")
}

// Against moto and the extension, where the customer names zones unlike
// the platform: the zones come back as the right IDs, and Zones only
// reads.
func TestZonesAgainstMoto(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto")
	}
	x, plat, p := motoStack(t)
	ctx := context.Background()
	const customer = "111122223333"
	const covering, partial = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0", "com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210"
	platformPrincipal := "arn:aws:iam::" + awstest.PlatformAccount + ":root"

	// The two namings of us-east-1, as the extension documents them. The
	// platform's subnets are in its us-east-1a and us-east-1b.
	platformNames, err := x.AccountZones(awstest.PlatformAccount, "us-east-1")
	require.NoError(t, err)
	customerNames, err := x.AccountZones(customer, "us-east-1")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"us-east-1a": "use1-az6", "us-east-1b": "use1-az1", "us-east-1c": "use1-az2", "us-east-1d": "use1-az4", "us-east-1e": "use1-az3", "us-east-1f": "use1-az5"},
		platformNames, "moto's naming of us-east-1 changed: update this test and AccountZones' doc")
	for name, id := range platformNames {
		assert.NotEqual(t, id, customerNames[name], "%s must name another zone for the customer", name)
	}
	assert.Equal(t, "use1-az1", customerNames["us-east-1a"])
	assert.Equal(t, "use1-az2", customerNames["us-east-1b"])
	assert.Equal(t, "use1-az6", customerNames["us-east-1f"])

	for _, s := range []string{covering, partial} {
		require.NoError(t, x.Grant(customer, s, platformPrincipal, nil))
	}
	// In the customer's naming; in the platform's, us-east-1b and us-east-1a.
	require.NoError(t, x.SetServiceZones(customer, covering, []string{"us-east-1f", "us-east-1a"}))
	// The same names as the platform's subnets', but other zones: use1-az1 and use1-az2.
	require.NoError(t, x.SetServiceZones(customer, partial, []string{"us-east-1a", "us-east-1b"}))

	t.Run("the platform's zones are its endpoint subnets'", func(t *testing.T) {
		before := x.CallCounts()
		z, err := p.Zones(ctx, ref, "")
		require.NoError(t, err)
		assert.Equal(t, cloud.Zones{Platform: []string{"use1-az1", "use1-az6"}}, z)
		assert.Equal(t, map[string]int{"DescribeSubnets": 1}, callsSince(x, before), "moto answers the subnets' zone IDs: nothing to map")
	})
	t.Run("a service in every platform zone, by the customer's names", func(t *testing.T) {
		before := x.CallCounts()
		z, err := p.Zones(ctx, ref, covering)
		require.NoError(t, err)
		assert.Equal(t, cloud.Zones{Platform: []string{"use1-az1", "use1-az6"}, Service: []string{"use1-az1", "use1-az6"}}, z)
		assert.Empty(t, z.Missing())
		assert.Equal(t, map[string]int{"DescribeSubnets": 1, "DescribeVpcEndpointServices": 1, "DescribeAvailabilityZones": 1}, callsSince(x, before), "reads only")

		// The platform sees the service's zones by its own names.
		out, err := p.in("us-east-1").ec2.DescribeVpcEndpointServices(ctx, &ec2.DescribeVpcEndpointServicesInput{ServiceNames: []string{covering}})
		require.NoError(t, err)
		require.Len(t, out.ServiceDetails, 1)
		assert.Equal(t, []string{"us-east-1a", "us-east-1b"}, out.ServiceDetails[0].AvailabilityZones)
	})
	t.Run("a service missing a platform zone", func(t *testing.T) {
		before := x.CallCounts()
		z, err := p.Zones(ctx, ref, partial)
		require.NoError(t, err)
		assert.Equal(t, []string{"use1-az1", "use1-az2"}, z.Service)
		assert.Equal(t, []string{"use1-az6"}, z.Missing(), "the platform's us-east-1a, though the customer named us-east-1a too")
		for action := range callsSince(x, before) {
			assert.True(t, strings.HasPrefix(action, "Describe"), "Zones changes nothing, yet called %s", action)
		}
	})
	t.Run("a service offered everywhere by default", func(t *testing.T) {
		const everywhere = "com.amazonaws.vpce.us-east-1.vpce-svc-0aaaabbbbccccdddd"
		require.NoError(t, x.Grant(customer, everywhere, platformPrincipal, nil))
		z, err := p.Zones(ctx, ref, everywhere)
		require.NoError(t, err)
		assert.Equal(t, []string{"use1-az1", "use1-az2", "use1-az3", "use1-az4", "use1-az5", "use1-az6"}, z.Service)
	})
	t.Run("a service unknown or not granted is NotFound", func(t *testing.T) {
		_, err := p.Zones(ctx, ref, "com.amazonaws.vpce.us-east-1.vpce-svc-0nosuchservice00")
		assert.True(t, cloud.IsNotFound(err), "got %v", err)
		const other = "com.amazonaws.vpce.us-east-1.vpce-svc-0eeeeffff00001111"
		require.NoError(t, x.Grant(customer, other, "arn:aws:iam::999999999999:root", nil))
		_, err = p.Zones(ctx, ref, other)
		assert.True(t, cloud.IsNotFound(err), "granted to someone else: got %v", err)
		assert.ErrorContains(t, err, "has not allowed the platform's principal on it yet")
	})
	t.Run("an endpoint into a service missing a platform zone is refused, as on AWS", func(t *testing.T) {
		_, err := p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: ref, Service: partial, Token: "zones-partial"})
		assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "got %v", err)
		assert.ErrorContains(t, err, "does not support the availability zone of the subnet: "+plat.SubnetIDs[0])
		_, err = p.CreateEndpoint(ctx, cloud.EndpointSpec{Env: ref, Service: covering, Token: "zones-covering"})
		assert.NoError(t, err)
	})
	t.Run("the customer names zones in their own naming", func(t *testing.T) {
		assert.ErrorContains(t, x.SetServiceZones(customer, covering, []string{"use1-az1"}), `has no zone "use1-az1" in us-east-1`)
		assert.ErrorContains(t, x.SetServiceZones(customer, covering, nil), "name one zone at least")
		assert.ErrorContains(t, x.SetServiceZones("444455556666", covering, []string{"us-east-1a"}), "has no endpoint service")
	})
	t.Run("a subnet configured that does not exist is Invalid", func(t *testing.T) {
		bad := newProvider(p.base, Options{Endpoint: x.URL(), VPCID: plat.VPCID, SubnetIDs: []string{plat.SubnetIDs[0], "subnet-0123456789abcdef0"}})
		_, err := bad.Zones(ctx, ref, "")
		assert.Equal(t, cloud.Invalid, cloud.KindOf(err), "got %v", err)
		assert.ErrorContains(t, err, "aws.subnetIds")
	})
}
