package sim

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Availability zones of the simulated AWS, as AWS has them: each region
// has a fixed set of zone IDs (use1-az1 …), the same in every account, and
// each account names them (us-east-1a …) in its own order, so that a zone
// name means a zone only within its account. The platform deploys in its
// zones a, b and c; a customer's zones a, b and c are others.

// zoneCounts is how many zones a region has where it is not the default
// three: us-east-1 has six, as on AWS.
var zoneCounts = map[string]int{"us-east-1": 6}

const defaultZoneCount = 3

// platformZoneCount is how many zones a platform deployment uses: its
// subnets are in the platform account's zones a, b and c.
const platformZoneCount = 3

// zoneSalt makes each account's naming of zones its own. It is chosen so
// that the accounts the repository's tests and examples use name the zones
// of us-east-1 and eu-west-1 otherwise than the platform account does, and
// so that customer 123456789012 calls none of the platform's zones a, b and
// c by the platform's name for it: comparing zone names instead of IDs is
// then wrong, as on AWS. TestZoneNamesDifferBetweenAccounts pins it.
const zoneSalt = "linkwright-sim-zones-34/"

// directions are the zone ID abbreviations of the words in region names.
var directions = map[string]string{
	"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
	"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
	"gov": "g",
}

// zoneIDPrefix is the zone ID prefix of an AWS region, spelled as AWS
// spells it: us-east-1 → use1, eu-west-1 → euw1, ap-southeast-2 → apse2.
// It is false for a name that is not an AWS region's.
func zoneIDPrefix(region string) (string, bool) {
	parts := strings.Split(region, "-")
	if len(parts) < 3 {
		return "", false
	}
	if n := parts[len(parts)-1]; n == "" || strings.Trim(n, "0123456789") != "" {
		return "", false
	}
	for _, p := range parts[:len(parts)-1] {
		if p == "" || strings.Trim(p, "abcdefghijklmnopqrstuvwxyz") != "" {
			return "", false
		}
	}
	prefix := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		short, ok := directions[p]
		if !ok {
			short = p[:1]
		}
		prefix += short
	}
	return prefix + parts[len(parts)-1], true
}

// regionZoneIDs are the zone IDs of an AWS region, sorted: use1-az1 …
// use1-az6. None for a name that is not an AWS region's.
func regionZoneIDs(region string) []string {
	prefix, ok := zoneIDPrefix(region)
	if !ok {
		return nil
	}
	n := zoneCounts[region]
	if n == 0 {
		n = defaultZoneCount
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-az%d", prefix, i+1)
	}
	return ids
}

// accountZones maps an AWS account's zone names in a region to zone IDs:
// the account's own order of the region's zones, named region+"a", "b" ….
func accountZones(account, region string) map[string]string {
	ids := regionZoneIDs(region)
	if ids == nil {
		return nil
	}
	rank := func(id string) string {
		sum := sha256.Sum256([]byte(zoneSalt + account + "/" + region + "/" + id))
		return string(sum[:])
	}
	slices.SortFunc(ids, func(a, b string) int { return strings.Compare(rank(a), rank(b)) })
	names := make(map[string]string, len(ids))
	for i, id := range ids {
		names[region+string(rune('a'+i))] = id
	}
	return names
}

// deploymentZones are the zone IDs a platform deployment in region uses,
// sorted: those its account names a, b and c, where its subnets are.
func deploymentZones(account, region string) []string {
	names := accountZones(account, region)
	var ids []string
	for i := range platformZoneCount {
		if id, ok := names[region+string(rune('a'+i))]; ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// ZoneNames maps an account's availability zone names in an AWS region to
// their zone IDs (us-east-1a → use1-az2): what the account's console shows
// next to its subnets. Every account names the zones of a region in its own
// order, so a customer compares zones with the platform by ID, never by
// name. It is nil for Azure, whose Private Link services are regional, for
// Alibaba Cloud, whose accounts all name zones by their IDs (see
// AlibabaZones), and for a name that is not an AWS region's.
func (c *Cloud) ZoneNames(cloudName, account, region string) map[string]string {
	if cloudName != "aws" {
		return nil
	}
	return accountZones(normalizeAccount(cloudName, account), region)
}

// ZoneNames maps the customer's availability zone names in an AWS region
// to zone IDs, as Cloud.ZoneNames does.
func (cu Customer) ZoneNames(region string) map[string]string {
	return cu.c.ZoneNames(cu.Cloud, cu.Account, region)
}

// serviceRegion is the region in an AWS endpoint service name
// (com.amazonaws.vpce.<region>.vpce-svc-…), or "" when the name has none.
func serviceRegion(name string) string {
	rest, ok := strings.CutPrefix(key(name), "com.amazonaws.vpce.")
	if !ok {
		return ""
	}
	region, _, _ := strings.Cut(rest, ".")
	if _, ok := zoneIDPrefix(region); !ok {
		return ""
	}
	return region
}

// zoneIDs are the zone IDs of the platform deployment, sorted; none on
// Azure. A state saved before zones were modelled has none stored: the
// deployment is then where the platform's account names a, b and c (on
// Alibaba Cloud, in the region's first two zones).
func (e *environment) zoneIDs() []string {
	switch {
	case e.Cloud != "aws" && e.Cloud != cloudAlibaba:
		return nil
	case e.Zones != nil:
		return sortedCopy(e.Zones)
	case e.Cloud == cloudAlibaba:
		return alibabaFirstZones(e.Region, alibabaPlatformZoneCount)
	}
	return deploymentZones(e.Account, e.Region)
}

// zoneIDs are the zone IDs a customer's service is offered in, sorted. A
// service whose zones were never set (and any in a state saved before
// zones were modelled) is offered in every zone of its region (on Alibaba
// Cloud, in the region's first three): the region in its name, or else
// fallback.
func (svc *service) zoneIDs(fallback string) []string {
	if svc.Zones != nil {
		return sortedCopy(svc.Zones)
	}
	if svc.Cloud == cloudAlibaba {
		region, _, ok := alibabaService(svc.Name)
		if !ok {
			region = fallback
		}
		return alibabaFirstZones(region, alibabaServiceZoneCount)
	}
	region := serviceRegion(svc.Name)
	if region == "" {
		region = fallback
	}
	return regionZoneIDs(region)
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// zoneNameList lists an account's zone names in a region, sorted, for
// errors that say which names are valid.
func zoneNameList(names map[string]string) string {
	return strings.Join(slices.Sorted(maps.Keys(names)), ", ")
}
