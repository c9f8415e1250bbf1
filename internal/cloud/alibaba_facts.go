package cloud

import (
	"regexp"
	"strings"
)

// Facts of Alibaba Cloud PrivateLink that the provider and the simulated
// cloud both rely on, kept in one place.

// alibabaBandwidth is the Bandwidth, in Mbps, EnableVpcEndpointConnection
// takes, by the service's resource type (CLB is "slb" in the API).
var alibabaBandwidth = map[string][2]int{
	"nlb": {100, 50000},
	"alb": {100, 25000},
	"slb": {100, 10240},
}

// AlibabaBandwidthRange is the bandwidth a connection to a service of the
// resource type may be given, in Mbps, and the type it is for: an unknown
// or empty type counts as "nlb", the widest.
func AlibabaBandwidthRange(resourceType string) (lo, hi int, kind string) {
	kind = strings.ToLower(resourceType)
	r, ok := alibabaBandwidth[kind]
	if !ok {
		kind = "nlb"
		r = alibabaBandwidth[kind]
	}
	return r[0], r[1], kind
}

var alibabaServiceName = regexp.MustCompile(`^com\.aliyuncs\.privatelink\.([a-z0-9-]+)\.(epsrv-[a-z0-9]+)$`)

// AlibabaServiceName splits an Alibaba endpoint service name,
// com.aliyuncs.privatelink.<region>.epsrv-<id>, into its region and
// service ID; ok is false for a name that is not one.
func AlibabaServiceName(name string) (region, id string, ok bool) {
	m := alibabaServiceName.FindStringSubmatch(name)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}
