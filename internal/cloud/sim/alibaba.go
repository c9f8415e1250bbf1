package sim

import (
	"regexp"
	"slices"
	"strings"

	"github.com/linkwright/linkwright/internal/cloud"
)

// Alibaba Cloud as the simulated cloud has it, where the runbook cares:
// accounts are 16-digit UIDs and a service's whitelist holds them; zone IDs
// (cn-hangzhou-h) are the same in every account, so there is no naming of
// zones to map; endpoint services are named
// com.aliyuncs.privatelink.<region>.epsrv-<id>, sit in front of a load
// balancer whose type bounds the bandwidth a connection may be given, and
// may take consumers from other regions they list.

const cloudAlibaba = "alibaba"

// alibabaZoneIDs are the zone IDs of the Alibaba Cloud regions the sim
// knows, in order: the region's first zones come first.
var alibabaZoneIDs = map[string][]string{
	"cn-hangzhou":    {"cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"},
	"cn-shanghai":    {"cn-shanghai-e", "cn-shanghai-f", "cn-shanghai-g"},
	"cn-beijing":     {"cn-beijing-g", "cn-beijing-h", "cn-beijing-i"},
	"cn-shenzhen":    {"cn-shenzhen-c", "cn-shenzhen-d", "cn-shenzhen-e"},
	"cn-hongkong":    {"cn-hongkong-b", "cn-hongkong-c", "cn-hongkong-d"},
	"ap-southeast-1": {"ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"},
	"eu-central-1":   {"eu-central-1a", "eu-central-1b", "eu-central-1c"},
}

// alibabaPlatformZoneCount is how many zones an Alibaba platform
// deployment uses (vSwitches in two zones, the high-availability advice);
// alibabaServiceZoneCount is how many a customer's service Grant creates
// is offered in.
const (
	alibabaPlatformZoneCount = 2
	alibabaServiceZoneCount  = 3
)

// defaultResourceType is the load balancer behind an Alibaba service that
// does not say (the seeded ones and those Grant creates are NLBs).
const defaultResourceType = "nlb"

var alibabaUID = regexp.MustCompile(`^[0-9]{16}$`)

// AlibabaRegions lists the Alibaba Cloud regions the simulated cloud has
// zones for, sorted.
func AlibabaRegions() []string {
	out := make([]string, 0, len(alibabaZoneIDs))
	for r := range alibabaZoneIDs {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// AlibabaZones lists the zone IDs of an Alibaba Cloud region, sorted: the
// same in every account. None for a region the sim does not know.
func AlibabaZones(region string) []string {
	return sortedCopy(alibabaZoneIDs[key(region)])
}

// alibabaFirstZones are the first n zones of a region, sorted.
func alibabaFirstZones(region string, n int) []string {
	ids := alibabaZoneIDs[key(region)]
	return sortedCopy(ids[:min(n, len(ids))])
}

// alibabaService splits an Alibaba endpoint service name into its region
// and service ID; ok is false for a name that is not one.
func alibabaService(name string) (region, id string, ok bool) {
	return cloud.AlibabaServiceName(key(name))
}

// alibabaDNSName is an endpoint's name, shaped as Alibaba's
// (ep-….epsrv-….<region>.privatelink.aliyuncs.com) under the sim's zone.
func alibabaDNSName(id string, svc *service, region string) string {
	svcID := svc.ID
	if _, sid, ok := alibabaService(svc.Name); ok {
		svcID = sid
	}
	return id + "." + key(svcID) + "." + key(region) + ".privatelink." + Zone
}

// checkBandwidth says whether mbps suits a service (0 is its default).
func (svc *service) checkBandwidth(op string, mbps int) error {
	if mbps == 0 {
		return nil
	}
	var rt string
	if svc != nil {
		rt = svc.ResourceType
	}
	lo, hi, kind := cloud.AlibabaBandwidthRange(rt)
	if mbps < lo || mbps > hi {
		return cloud.Errorf(cloud.Invalid, op, "bandwidth %d Mbps is outside what a %s endpoint service allows per connection (%d-%d Mbps)", mbps, strings.ToUpper(kind), lo, hi)
	}
	return nil
}

// reachableFrom says whether a consumer in region may connect to a service
// in home that lists regions as the other regions it serves (Alibaba's
// cross-region access; no other simulated cloud has it).
func reachableFrom(op, cloudName, serviceName, home string, regions []string, region string) error {
	if region == "" || home == "" || key(region) == key(home) {
		return nil
	}
	if cloudName != cloudAlibaba {
		return cloud.Errorf(cloud.Invalid, op, "service %s is in %s: a consumer in %s cannot connect to it (only Alibaba Cloud services take consumers from other regions in the simulated cloud)", serviceName, home, region)
	}
	if slices.Contains(regions, key(region)) {
		return nil
	}
	return cloud.Errorf(cloud.Invalid, op, "service %s is in %s and supports consumers from %s only, not from %s: its owner adds %s to the service's supported regions", serviceName, home, strings.Join(append([]string{home}, regions...), ", "), region, region)
}

// checkRegions checks the supported regions an owner sets on a service.
func checkRegions(op string, regions []string) ([]string, error) {
	var out []string
	for _, r := range regions {
		r = key(r)
		if _, ok := alibabaZoneIDs[r]; !ok {
			return nil, cloud.Errorf(cloud.Invalid, op, "%q is not an Alibaba Cloud region the simulated cloud knows (%s)", r, strings.Join(AlibabaRegions(), ", "))
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out, nil
}

// alibabaAccountCheck refuses what is not a UID.
func alibabaAccountCheck(op, account string) error {
	if !alibabaUID.MatchString(account) {
		return cloud.Errorf(cloud.Invalid, op, "%q is not an Alibaba Cloud account UID (16 digits)", account)
	}
	return nil
}

func alibabaServiceNameCheck(op, name string) error {
	if _, _, ok := alibabaService(name); !ok {
		return cloud.Errorf(cloud.Invalid, op, "%q is not an Alibaba Cloud endpoint service name: com.aliyuncs.privatelink.<region>.epsrv-<id>", name)
	}
	return nil
}
