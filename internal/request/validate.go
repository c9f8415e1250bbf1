package request

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	projectIDRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,62}$`)
	ticketRe      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._#-]{0,63}$`)
	serviceNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	awsAccountRe  = regexp.MustCompile(`^[0-9]{12}$`)
	awsRegionRe   = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$`)
	azureRegionRe = regexp.MustCompile(`^[a-z]+[a-z0-9]*$`)
	guidRe        = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	// com.amazonaws.vpce.<region>.vpce-svc-<8 or 17 hex digits>
	awsServiceRe = regexp.MustCompile(`^com\.amazonaws\.vpce\.([a-z0-9-]+)\.vpce-svc-([0-9a-f]{8}|[0-9a-f]{17})$`)
	// /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/privateLinkServices/<name>
	azureServiceIDRe = regexp.MustCompile(`(?i)^/subscriptions/([0-9a-f-]{36})/resourcegroups/[-\w._()]{1,90}/providers/microsoft\.network/privatelinkservices/[a-z0-9][-\w.]{0,78}[\w]$`)
	// <name>.<guid>.<region>.azure.privatelinkservice
	azureAliasRe = regexp.MustCompile(`(?i)^[a-z0-9][-\w.]{0,79}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.([a-z0-9]+)\.azure\.privatelinkservice$`)
	// Alibaba Cloud region IDs: cn-hangzhou, ap-southeast-1, eu-central-1,
	// cn-shanghai-finance-1, cn-north-2-gov-1: a short area code, then
	// lowercase words and numbers joined by dashes.
	alibabaRegionRe = regexp.MustCompile(`^[a-z]{2,3}-[a-z]+[0-9]*(-[a-z0-9]+){0,3}$`)
	// Alibaba Cloud account UIDs are 16 digits.
	alibabaAccountRe = regexp.MustCompile(`^[0-9]{16}$`)
	// com.aliyuncs.privatelink.<region>.epsrv-<id>
	alibabaServiceRe = regexp.MustCompile(`^com\.aliyuncs\.privatelink\.([a-z0-9-]+)\.epsrv-[a-z0-9]{8,32}$`)
)

const (
	portSSH   = 22
	portHTTPS = 443

	// The bandwidth an Alibaba Cloud connection may be limited to, in
	// Mbps: the widest range, an NLB service's. ALB (100-25000) and CLB
	// (100-10240) services allow less; the provider checks the service's
	// own range when it accepts a connection.
	minBandwidthMbps = 100
	maxBandwidthMbps = 50000

	alibabaRegionExamples = "cn-hangzhou, cn-shanghai, ap-southeast-1 or eu-central-1"
	alibabaServiceExample = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1gvcvqgxlnq7hm7u2p"
)

// Validate checks every rule that needs nothing but the request itself and
// returns all problems at once. The request should be normalised first
// (Decode does it).
func (r Request) Validate() Errors {
	var es Errors
	cloudOK := r.validateLink(&es, "enablement")
	if r.ConnectionType == Outbound {
		if len(r.Services) > 0 {
			es.add("services", servicesString(r.Services), "are not used by an outbound link: nothing reaches the platform, so no platform port is opened",
				`remove services, or set connectionType to "unidirectional" or "bidirectional" if the customer must reach the platform too`)
		}
	} else {
		r.validatePorts(&es, "services", r.Ports())
		r.validateServiceNames(&es)
	}
	switch r.ConnectionType {
	case Unidirectional:
		if r.CustomerEndpointService != "" {
			es.add("customerEndpointService", r.CustomerEndpointService, "is only used by bidirectional and outbound links", `remove it, or set connectionType to "bidirectional" or "outbound"`)
		}
		if len(r.CustomerServicePorts) > 0 {
			es.add("customerServicePorts", intsString(r.CustomerServicePorts), "is only used by bidirectional and outbound links", `remove it, or set connectionType to "bidirectional" or "outbound"`)
		}
	case Bidirectional, Outbound:
		if cloudOK {
			r.validateCustomerService(&es)
		}
		if len(r.CustomerServicePorts) == 0 {
			es.add("customerServicePorts", "", "is required for "+article(r.ConnectionType)+" link", "list the ports the platform must reach on the customer's service, e.g. [5432]")
		} else {
			r.validatePorts(&es, "customerServicePorts", r.CustomerServicePorts)
		}
	case "":
		es.add("connectionType", "", "is required", `set "unidirectional" (customer reaches the platform), "bidirectional" (both ways) or "outbound" (the platform reaches the customer's service)`)
	default:
		es.add("connectionType", r.ConnectionType, "is not a connection type", `use "unidirectional", "bidirectional" or "outbound"`)
	}
	if cloudOK {
		r.validateCrossRegion(&es)
		r.validateBandwidth(&es)
	}
	return es
}

// validateCrossRegion checks customerRegion: Alibaba Cloud only, an
// Alibaba region and not the platform's own.
func (r Request) validateCrossRegion(es *Errors) {
	const field = "customerRegion"
	v := r.CustomerRegion
	switch {
	case v == "":
	case r.Cloud != CloudAlibaba:
		es.add(field, v, "is only for Alibaba Cloud", "remove it; on "+cloudName(r.Cloud)+" the customer connects from the platform's region")
	case !alibabaRegionRe.MatchString(v):
		es.add(field, v, "is not an Alibaba Cloud region", "use the region ID the customer connects from, such as "+alibabaRegionExamples+", or remove it if the customer is in the platform's region")
	case v == r.Region:
		es.add(field, v, "is the platform's region too", "remove it: the customer is in the platform's region")
	}
}

// validateBandwidth checks bandwidthMbps: Alibaba Cloud only, for links
// the customer connects over, within what an Alibaba endpoint service
// allows.
func (r Request) validateBandwidth(es *Errors) {
	const field = "bandwidthMbps"
	v := r.BandwidthMbps
	switch {
	case v == 0:
	case r.Cloud != CloudAlibaba:
		es.add(field, strconv.Itoa(v), "is only for Alibaba Cloud", "remove it; "+cloudName(r.Cloud)+" does not limit a connection's bandwidth")
	case r.ConnectionType == Outbound:
		es.add(field, strconv.Itoa(v), "is not used by an outbound link: nothing of the customer's connects to the platform", "remove it; it limits the customer's connections to the platform's service")
	case v < minBandwidthMbps || v > maxBandwidthMbps:
		es.add(field, strconv.Itoa(v), fmt.Sprintf("is not a bandwidth Alibaba Cloud PrivateLink allows (%d to %d Mbps)", minBandwidthMbps, maxBandwidthMbps),
			fmt.Sprintf("use %d to %d Mbps (an NLB service's range; an ALB service allows 100-25000 and a CLB service 100-10240, checked when the connection is accepted), or remove it for the service's default", minBandwidthMbps, maxBandwidthMbps))
	}
}

// validateLink checks what names a link and its customer: company, ticket,
// requestedBy, projectId, environment, cloud, region and the customer's
// accounts (what an enablement and an adoption share). It reports whether
// the cloud is one the cloud-specific rules know. what names the request
// in the requester's fix ("enablement", "adoption").
func (r Request) validateLink(es *Errors, what string) bool {
	if r.Company == "" {
		es.add("company", "", "is required", `set the customer's company name, e.g. "Acme Corp"; it titles the ticket`)
	} else if len(r.Company) > 100 {
		es.add("company", r.Company[:20]+"...", "is longer than 100 characters", "shorten it")
	}
	if r.Ticket != "" && !ticketRe.MatchString(r.Ticket) {
		es.add("ticket", r.Ticket, "is not a ticket key", `use the tracker's key (e.g. "PL-0042" or "12345") or leave it empty to open one`)
	}
	checkRequester(es, r.RequestedBy, what)
	switch {
	case r.ProjectID == "":
		es.add("projectId", "", "is required", "set the platform project ID, e.g. abcd1234efgh5")
	case !projectIDRe.MatchString(r.ProjectID):
		es.add("projectId", r.ProjectID, "is not a project ID", "use 3-63 lowercase letters, digits or dashes, as the platform shows it")
	}
	switch r.Environment {
	case EnvProduction, EnvStaging:
	case "":
		es.add("environment", "", "is required", `set "production" or "staging"`)
	default:
		es.add("environment", r.Environment, "cannot use PrivateLink", `only "production" and "staging" environments can; choose one of them`)
	}
	cloudOK := r.validateCloud(es)
	if cloudOK {
		r.validateRegion(es)
		r.validateAccounts(es)
	}
	return cloudOK
}

// checkRequester checks requestedBy: required, an email or username
// without spaces. what names the request the requester cannot approve.
func checkRequester(es *Errors, v, what string) {
	switch {
	case v == "":
		es.add("requestedBy", "", "is required", "set the requester's email; the requester cannot approve their own "+what)
	case strings.ContainsAny(v, " \t\n"):
		es.add("requestedBy", v, "contains spaces", "use the requester's email or username")
	}
}

func (r Request) validateCloud(es *Errors) bool {
	switch r.Cloud {
	case CloudAWS, CloudAzure, CloudAlibaba:
		return true
	case "":
		es.add("cloud", "", "is required", `set "aws", "azure" or "alibaba", the cloud of the platform environment`)
	case "alicloud", "aliyun":
		es.add("cloud", r.Cloud, "is not the name Linkwright uses for Alibaba Cloud", `write "alibaba"; the cloud is part of the link's workflow ID (privatelink/<projectId>/<environment>/alibaba)`)
	default:
		es.add("cloud", r.Cloud, "is not a supported cloud", `use "aws", "azure" or "alibaba"`)
	}
	return false
}

// cloudName is the cloud as people write it: AWS, Azure, Alibaba Cloud.
func cloudName(cloud string) string {
	switch cloud {
	case CloudAWS:
		return "AWS"
	case CloudAzure:
		return "Azure"
	case CloudAlibaba:
		return "Alibaba Cloud"
	}
	return orExample(cloud, "this cloud")
}

func (r Request) validateRegion(es *Errors) {
	switch {
	case r.Region == "":
		es.add("region", "", "is required", "set the cloud region of the platform environment, e.g. us-east-1, westeurope or cn-hangzhou")
	case r.Cloud == CloudAWS && !awsRegionRe.MatchString(r.Region):
		es.add("region", r.Region, "is not an AWS region", "use a region code such as us-east-1 or eu-west-1")
	case r.Cloud == CloudAzure && !azureRegionRe.MatchString(r.Region):
		es.add("region", r.Region, "is not an Azure region", "use a region name such as westeurope or eastus2, without spaces")
	case r.Cloud == CloudAlibaba && !alibabaRegionRe.MatchString(r.Region):
		es.add("region", r.Region, "is not an Alibaba Cloud region", "use a region ID such as "+alibabaRegionExamples+", in lower case and without spaces")
	}
}

func (r Request) validateAccounts(es *Errors) {
	checkAccount(es, r.Cloud, "customerAccount", r.CustomerAccount)
	switch r.Cloud {
	case CloudAWS, CloudAlibaba:
		if len(r.CustomerSubscriptions) > 0 {
			es.add("customerSubscriptions", strings.Join(r.CustomerSubscriptions, ","), "is only for Azure", "remove it; on "+cloudName(r.Cloud)+" the link is for one account")
		}
	case CloudAzure:
		checkSubscriptions(es, "customerSubscriptions", r.CustomerSubscriptions)
	}
}

// checkAccount checks one customer account of cloud, normalised: a
// 12-digit AWS account ID, an Azure subscription ID (a GUID) or a 16-digit
// Alibaba Cloud account UID.
func checkAccount(es *Errors, cloud, field, v string) {
	switch cloud {
	case CloudAWS:
		switch {
		case v == "":
			es.add(field, "", "is required", "set the customer's 12-digit AWS account ID")
		case !awsAccountRe.MatchString(v):
			es.add(field, v, "is not an AWS account ID", "use the customer's 12-digit account ID, e.g. 123456789012")
		}
	case CloudAzure:
		switch {
		case v == "":
			es.add(field, "", "is required", "set the customer's Azure subscription ID (a GUID)")
		case !guidRe.MatchString(v):
			es.add(field, v, "is not an Azure subscription ID", "use the subscription GUID, e.g. 00000000-1111-2222-3333-444444444444")
		}
	case CloudAlibaba:
		const where = "the console shows it as Account ID under the account's Security Settings (or in the profile menu)"
		switch {
		case v == "":
			es.add(field, "", "is required", "set the customer's 16-digit Alibaba Cloud account ID (UID); "+where)
		case !alibabaAccountRe.MatchString(v):
			es.add(field, v, "is not an Alibaba Cloud account ID", "use the customer's 16-digit account UID, e.g. 1234567890123456; "+where)
		}
	}
}

// checkSubscriptions checks extra Azure subscriptions, normalised: each a
// GUID, each once.
func checkSubscriptions(es *Errors, field string, subs []string) {
	seen := map[string]bool{}
	for i, s := range subs {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !guidRe.MatchString(s):
			es.add(f, s, "is not an Azure subscription ID", "use the subscription GUID")
		case seen[s]:
			es.add(f, s, "is listed twice", "list each subscription once")
		}
		seen[s] = true
	}
}

func (r Request) validatePorts(es *Errors, field string, ports []int) {
	if field == "services" && len(ports) == 0 {
		es.add("services", "", "is required", `list at least one service, e.g. [{"name": "mysql", "port": 3306}]`)
		return
	}
	suffix := ""
	if field == "services" {
		suffix = ".port"
	}
	checkPorts(es, r.Cloud, ports, func(i int) string { return fmt.Sprintf("%s[%d]%s", field, i, suffix) })
}

// checkPorts checks ports for a link on cloud: each a TCP port, never SSH,
// never HTTPS on Azure (AWS and Alibaba Cloud carry it), each once. field
// names the i-th port.
func checkPorts(es *Errors, cloud string, ports []int, field func(i int) string) {
	seen := map[int]bool{}
	for i, p := range ports {
		if prob, fix := portProblem(cloud, p); prob != "" {
			es.add(field(i), strconv.Itoa(p), prob, fix)
		} else if seen[p] {
			es.add(field(i), strconv.Itoa(p), "is listed twice", "list each port once")
		}
		seen[p] = true
	}
}

// portProblem says what is wrong with one port on cloud, if anything.
func portProblem(cloud string, p int) (problem, fix string) {
	switch {
	case p < 1 || p > 65535:
		return "is not a TCP port", "use a port from 1 to 65535"
	case p == portSSH:
		return "is SSH, which is never offered over PrivateLink", "remove it; use the platform's SSH gateway instead"
	case p == portHTTPS && cloud == CloudAzure:
		return "is HTTPS, which Azure Private Link cannot carry here (the CDN's origin cloaking owns 443)", "remove it; customers reach HTTPS through the public CDN"
	}
	return "", ""
}

func (r Request) validateServiceNames(es *Errors) {
	checkServiceNames(es, r.Services, func(i int) string { return fmt.Sprintf("services[%d].name", i) })
}

// checkServiceNames checks the names of platform services, normalised:
// each present, well formed and used once. field names the i-th name.
func checkServiceNames(es *Errors, svcs []Service, field func(i int) string) {
	seen := map[string]bool{}
	for i, s := range svcs {
		f := field(i)
		switch {
		case s.Name == "":
			es.add(f, "", "is required", `name the service, e.g. "mysql"`)
		case !serviceNameRe.MatchString(s.Name):
			es.add(f, s.Name, "is not a service name", "use lowercase letters, digits and dashes")
		case seen[s.Name]:
			es.add(f, s.Name, "is listed twice", "give each service its own name")
		}
		seen[s.Name] = true
	}
}

func (r Request) validateCustomerService(es *Errors) {
	const field = "customerEndpointService"
	v := r.CustomerEndpointService
	if v == "" {
		fix := "set the customer's endpoint service name, e.g. " + customerServiceExample(r.Cloud, r.Region)
		if r.Cloud == CloudAzure {
			fix = "set the customer's Private Link service resource ID or alias"
		}
		es.add(field, "", "is required for "+article(r.ConnectionType)+" link", fix)
		return
	}
	checkCustomerService(es, r.Cloud, r.Region, r.CustomerRegion, field, v)
}

// customerServiceExample is an example endpoint service name on cloud (AWS
// or Alibaba Cloud) in region.
func customerServiceExample(cloud, region string) string {
	if cloud == CloudAlibaba {
		if alibabaRegionRe.MatchString(region) {
			return strings.Replace(alibabaServiceExample, "cn-hangzhou", region, 1)
		}
		return alibabaServiceExample
	}
	return "com.amazonaws.vpce." + orExample(region, "us-east-1") + ".vpce-svc-0123456789abcdef0"
}

// checkCustomerService checks a customer endpoint service named for a link
// on cloud in region, normalised and not empty: an AWS endpoint service
// name in the region, an Azure Private Link service resource ID or alias
// (an alias in the region), or an Alibaba Cloud endpoint service name in
// the region or in customerRegion, the region the customer connects from
// ("" when it is region).
func checkCustomerService(es *Errors, cloud, region, customerRegion, field, v string) {
	switch cloud {
	case CloudAWS:
		m := awsServiceRe.FindStringSubmatch(v)
		if m == nil {
			es.add(field, v, "is not an AWS endpoint service name", "use the name the customer's VPC console shows: com.amazonaws.vpce.<region>.vpce-svc-<id>")
		} else if awsRegionRe.MatchString(region) && m[1] != region {
			es.add(field, v, "is in region "+m[1]+", not "+region, "the customer's endpoint service must be in the platform's region; ask for a service in "+region)
		}
	case CloudAzure:
		if azureServiceIDRe.MatchString(v) {
			return
		}
		m := azureAliasRe.FindStringSubmatch(v)
		if m == nil {
			es.add(field, v, "is not an Azure Private Link service", "use its resource ID (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/privateLinkServices/<name>) or its alias (<name>.<guid>.<region>.azure.privatelinkservice)")
		} else if azureRegionRe.MatchString(region) && !strings.EqualFold(m[1], region) {
			es.add(field, v, "is in region "+strings.ToLower(m[1])+", not "+region, "the customer's service must be in the platform's region")
		}
	case CloudAlibaba:
		m := alibabaServiceRe.FindStringSubmatch(v)
		switch {
		case m == nil || !alibabaRegionRe.MatchString(m[1]):
			es.add(field, v, "is not an Alibaba Cloud endpoint service name",
				"use the name the customer's PrivateLink console shows: com.aliyuncs.privatelink.<region>.epsrv-<id>, e.g. "+alibabaServiceExample)
		case !alibabaRegionRe.MatchString(region) || m[1] == region:
		case customerRegion == "" || customerRegion == region || !alibabaRegionRe.MatchString(customerRegion):
			es.add(field, v, "is in region "+m[1]+", not "+region,
				"the customer's endpoint service must be in the platform's region, or in customerRegion when the customer connects from another region; ask for a service in "+region)
		case m[1] != customerRegion:
			es.add(field, v, "is in region "+m[1]+", neither the platform's region "+region+" nor the customer's region "+customerRegion,
				"ask for a service in "+region+" or "+customerRegion)
		}
	}
}

// Platform is what the cloud says about the environment a request names.
type Platform struct {
	Cloud  string
	Region string
	Plan   string
	// Regions are the other regions the platform's endpoint service
	// accepts connections from (Alibaba Cloud's supported regions for
	// cross-region access); empty when only its own region may connect.
	Regions []string
}

// PlanPro is the only plan that may use PrivateLink.
const PlanPro = "pro"

// CheckPlatform checks the request against its platform environment: Pro
// plan only, the customer on the same cloud and in the same region, and a
// customerRegion (Alibaba Cloud cross-region access) among the regions
// the platform's endpoint service accepts connections from.
func (r Request) CheckPlatform(p Platform) Errors {
	var es Errors
	if !strings.EqualFold(p.Plan, PlanPro) {
		es.add("projectId", r.ProjectID, fmt.Sprintf("is on the %s plan; PrivateLink needs the Pro plan", orExample(p.Plan, "unknown")), "upgrade the project to Pro, then request again")
	}
	if p.Cloud != "" && p.Cloud != r.Cloud {
		es.add("cloud", r.Cloud, "does not match the platform environment, which runs on "+p.Cloud, "set cloud to "+p.Cloud+"; the customer's account must be on the same cloud")
	}
	if p.Region != "" && p.Region != r.Region {
		es.add("region", r.Region, "does not match the platform environment, which runs in "+p.Region, "PrivateLink does not cross regions here: the customer must connect from "+p.Region)
	}
	if c := r.CustomerRegion; c != "" && !r.Outbound() && !slices.ContainsFunc(p.Regions, func(s string) bool { return strings.EqualFold(strings.TrimSpace(s), c) }) {
		es.add("customerRegion", c, "is not a region the platform's endpoint service accepts connections from",
			"the service accepts connections from these other regions: "+orExample(strings.Join(p.Regions, ", "), "none")+
				"; ask the platform team to add "+c+" to the service's supported regions, or have the customer connect from "+orExample(p.Region, r.Region))
	}
	return es
}

func orExample(v, example string) string {
	if v == "" {
		return example
	}
	return v
}

func intsString(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ",")
}

// article is "a bidirectional", "an outbound".
func article(connectionType string) string {
	if connectionType == Outbound {
		return "an outbound"
	}
	return "a " + connectionType
}

func servicesString(svcs []Service) string {
	parts := make([]string, len(svcs))
	for i, s := range svcs {
		parts[i] = s.Name + ":" + strconv.Itoa(s.Port)
	}
	return strings.Join(parts, ", ")
}
