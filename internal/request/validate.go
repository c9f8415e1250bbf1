package request

import (
	"fmt"
	"regexp"
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
)

const (
	portSSH   = 22
	portHTTPS = 443
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
	return es
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
	case CloudAWS, CloudAzure:
		return true
	case "":
		es.add("cloud", "", "is required", `set "aws" or "azure", the cloud of the platform environment`)
	case "alibaba", "alicloud", "aliyun":
		es.add("cloud", r.Cloud, "is not supported yet", `Alibaba Cloud PrivateLink is planned; use "aws" or "azure"`)
	default:
		es.add("cloud", r.Cloud, "is not a supported cloud", `use "aws" or "azure"`)
	}
	return false
}

func (r Request) validateRegion(es *Errors) {
	switch {
	case r.Region == "":
		es.add("region", "", "is required", "set the cloud region of the platform environment, e.g. us-east-1 or westeurope")
	case r.Cloud == CloudAWS && !awsRegionRe.MatchString(r.Region):
		es.add("region", r.Region, "is not an AWS region", "use a region code such as us-east-1 or eu-west-1")
	case r.Cloud == CloudAzure && !azureRegionRe.MatchString(r.Region):
		es.add("region", r.Region, "is not an Azure region", "use a region name such as westeurope or eastus2, without spaces")
	}
}

func (r Request) validateAccounts(es *Errors) {
	checkAccount(es, r.Cloud, "customerAccount", r.CustomerAccount)
	switch r.Cloud {
	case CloudAWS:
		if len(r.CustomerSubscriptions) > 0 {
			es.add("customerSubscriptions", strings.Join(r.CustomerSubscriptions, ","), "is only for Azure", "remove it; on AWS the link is for one account")
		}
	case CloudAzure:
		checkSubscriptions(es, "customerSubscriptions", r.CustomerSubscriptions)
	}
}

// checkAccount checks one customer account of cloud, normalised: a
// 12-digit AWS account ID, or an Azure subscription ID (a GUID).
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
// never HTTPS on Azure, each once. field names the i-th port.
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
		fix := "set the customer's endpoint service name, e.g. com.amazonaws.vpce." + orExample(r.Region, "us-east-1") + ".vpce-svc-0123456789abcdef0"
		if r.Cloud == CloudAzure {
			fix = "set the customer's Private Link service resource ID or alias"
		}
		es.add(field, "", "is required for "+article(r.ConnectionType)+" link", fix)
		return
	}
	checkCustomerService(es, r.Cloud, r.Region, field, v)
}

// checkCustomerService checks a customer endpoint service named for a link
// on cloud in region, normalised and not empty: an AWS endpoint service
// name in the region, or an Azure Private Link service resource ID or alias
// (an alias in the region).
func checkCustomerService(es *Errors, cloud, region, field, v string) {
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
	}
}

// Platform is what the cloud says about the environment a request names.
type Platform struct {
	Cloud  string
	Region string
	Plan   string
}

// PlanPro is the only plan that may use PrivateLink.
const PlanPro = "pro"

// CheckPlatform checks the request against its platform environment: Pro
// plan only, and the customer on the same cloud and in the same region.
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
