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
	if r.Company == "" {
		es.add("company", "", "is required", `set the customer's company name, e.g. "Acme Corp"; it titles the ticket`)
	} else if len(r.Company) > 100 {
		es.add("company", r.Company[:20]+"...", "is longer than 100 characters", "shorten it")
	}
	if r.Ticket != "" && !ticketRe.MatchString(r.Ticket) {
		es.add("ticket", r.Ticket, "is not a ticket key", `use the tracker's key (e.g. "PL-0042" or "12345") or leave it empty to open one`)
	}
	switch {
	case r.RequestedBy == "":
		es.add("requestedBy", "", "is required", "set the requester's email; the requester cannot approve their own enablement")
	case strings.ContainsAny(r.RequestedBy, " \t\n"):
		es.add("requestedBy", r.RequestedBy, "contains spaces", "use the requester's email or username")
	}
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
	cloudOK := r.validateCloud(&es)
	if cloudOK {
		r.validateRegion(&es)
		r.validateAccounts(&es)
	}
	r.validatePorts(&es, "services", r.Ports())
	r.validateServiceNames(&es)
	switch r.ConnectionType {
	case Unidirectional:
		if r.CustomerEndpointService != "" {
			es.add("customerEndpointService", r.CustomerEndpointService, "is only used by bidirectional links", `remove it, or set connectionType to "bidirectional"`)
		}
		if len(r.CustomerServicePorts) > 0 {
			es.add("customerServicePorts", intsString(r.CustomerServicePorts), "is only used by bidirectional links", `remove it, or set connectionType to "bidirectional"`)
		}
	case Bidirectional:
		if cloudOK {
			r.validateCustomerService(&es)
		}
		if len(r.CustomerServicePorts) == 0 {
			es.add("customerServicePorts", "", "is required for a bidirectional link", "list the ports the platform must reach on the customer's service, e.g. [5432]")
		} else {
			r.validatePorts(&es, "customerServicePorts", r.CustomerServicePorts)
		}
	case "":
		es.add("connectionType", "", "is required", `set "unidirectional" (customer reaches the platform) or "bidirectional" (both ways)`)
	default:
		es.add("connectionType", r.ConnectionType, "is not a connection type", `use "unidirectional" or "bidirectional"`)
	}
	return es
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
	switch r.Cloud {
	case CloudAWS:
		switch {
		case r.CustomerAccount == "":
			es.add("customerAccount", "", "is required", "set the customer's 12-digit AWS account ID")
		case !awsAccountRe.MatchString(r.CustomerAccount):
			es.add("customerAccount", r.CustomerAccount, "is not an AWS account ID", "use the customer's 12-digit account ID, e.g. 123456789012")
		}
		if len(r.CustomerSubscriptions) > 0 {
			es.add("customerSubscriptions", strings.Join(r.CustomerSubscriptions, ","), "is only for Azure", "remove it; on AWS the link is for one account")
		}
	case CloudAzure:
		switch {
		case r.CustomerAccount == "":
			es.add("customerAccount", "", "is required", "set the customer's Azure subscription ID (a GUID)")
		case !guidRe.MatchString(r.CustomerAccount):
			es.add("customerAccount", r.CustomerAccount, "is not an Azure subscription ID", "use the subscription GUID, e.g. 00000000-1111-2222-3333-444444444444")
		}
		seen := map[string]bool{}
		for i, s := range r.CustomerSubscriptions {
			field := fmt.Sprintf("customerSubscriptions[%d]", i)
			switch {
			case !guidRe.MatchString(s):
				es.add(field, s, "is not an Azure subscription ID", "use the subscription GUID")
			case seen[s]:
				es.add(field, s, "is listed twice", "list each subscription once")
			}
			seen[s] = true
		}
	}
}

func (r Request) validatePorts(es *Errors, field string, ports []int) {
	if field == "services" && len(ports) == 0 {
		es.add("services", "", "is required", `list at least one service, e.g. [{"name": "mysql", "port": 3306}]`)
		return
	}
	seen := map[int]bool{}
	for i, p := range ports {
		f := fmt.Sprintf("%s[%d]", field, i)
		if field == "services" {
			f += ".port"
		}
		v := strconv.Itoa(p)
		switch {
		case p < 1 || p > 65535:
			es.add(f, v, "is not a TCP port", "use a port from 1 to 65535")
		case p == portSSH:
			es.add(f, v, "is SSH, which is never offered over PrivateLink", "remove it; use the platform's SSH gateway instead")
		case p == portHTTPS && r.Cloud == CloudAzure:
			es.add(f, v, "is HTTPS, which Azure Private Link cannot carry here (the CDN's origin cloaking owns 443)", "remove it; customers reach HTTPS through the public CDN")
		case seen[p]:
			es.add(f, v, "is listed twice", "list each port once")
		}
		seen[p] = true
	}
}

func (r Request) validateServiceNames(es *Errors) {
	seen := map[string]bool{}
	for i, s := range r.Services {
		f := fmt.Sprintf("services[%d].name", i)
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
		es.add(field, "", "is required for a bidirectional link", fix)
		return
	}
	switch r.Cloud {
	case CloudAWS:
		m := awsServiceRe.FindStringSubmatch(v)
		if m == nil {
			es.add(field, v, "is not an AWS endpoint service name", "use the name the customer's VPC console shows: com.amazonaws.vpce.<region>.vpce-svc-<id>")
		} else if awsRegionRe.MatchString(r.Region) && m[1] != r.Region {
			es.add(field, v, "is in region "+m[1]+", not "+r.Region, "the customer's endpoint service must be in the platform's region; ask for a service in "+r.Region)
		}
	case CloudAzure:
		if azureServiceIDRe.MatchString(v) {
			return
		}
		m := azureAliasRe.FindStringSubmatch(v)
		if m == nil {
			es.add(field, v, "is not an Azure Private Link service", "use its resource ID (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/privateLinkServices/<name>) or its alias (<name>.<guid>.<region>.azure.privatelinkservice)")
		} else if azureRegionRe.MatchString(r.Region) && !strings.EqualFold(m[1], r.Region) {
			es.add(field, v, "is in region "+strings.ToLower(m[1])+", not "+r.Region, "the customer's service must be in the platform's region")
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
