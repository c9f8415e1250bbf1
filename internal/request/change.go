package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Change is a change request on a live link (update `change`), as
// operators write it (camelCase JSON). Every field but requestedBy and
// reason is optional; at least one change must be asked for.
type Change struct {
	RequestedBy string `json:"requestedBy"`
	Reason      string `json:"reason"`
	// AddServices are platform services (ports) to open to the customer.
	AddServices []Service `json:"addServices,omitempty"`
	// RemovePorts are platform ports to close.
	RemovePorts []int `json:"removePorts,omitempty"`
	// ReplaceCustomerAccount is the customer's new AWS account (Azure
	// subscription, Alibaba Cloud UID). ReplaceCustomerSubscriptions are the new extra Azure
	// subscriptions (Azure only); with ReplaceCustomerAccount they replace
	// every account the link allows.
	ReplaceCustomerAccount       string   `json:"replaceCustomerAccount,omitempty"`
	ReplaceCustomerSubscriptions []string `json:"replaceCustomerSubscriptions,omitempty"`
	// AddCustomerServices are reverse connections to add: the platform
	// reaches each customer endpoint service on its ports.
	AddCustomerServices []CustomerService `json:"addCustomerServices,omitempty"`
	// RemoveCustomerServices are reverse connections to remove, by the
	// customer endpoint service's name.
	RemoveCustomerServices []string `json:"removeCustomerServices,omitempty"`
	// DryRun returns the plan and changes nothing.
	DryRun bool `json:"dryRun,omitempty"`
}

// CustomerService is one customer endpoint service the platform reaches.
type CustomerService struct {
	Service string `json:"service"`
	Ports   []int  `json:"ports"`
}

// Link is what a change or an adoption is checked against: the live
// link's cloud and region, and what it has now.
type Link struct {
	// ConnectionType is the link's; an outbound link takes no platform
	// ports or customer accounts.
	ConnectionType   string   `json:"connectionType,omitempty"`
	Cloud            string   `json:"cloud"`
	Region           string   `json:"region"`
	Ports            []int    `json:"ports"`
	Accounts         []string `json:"accounts"`
	CustomerServices []string `json:"customerServices"`
	// CustomerRegion is the region the customer connects from when it is
	// not Region (Alibaba Cloud cross-region access): an added customer
	// service may be there.
	CustomerRegion string `json:"customerRegion,omitempty"`
}

// Teardown is a teardown request (update `teardown`).
type Teardown struct {
	RequestedBy string `json:"requestedBy"`
	Reason      string `json:"reason"`
}

// Adopt asks Linkwright to manage a link that was built by hand: the
// input of PrivateLinkLive started by an operator. Linkwright reads the
// cloud and shows what it found before an approver confirms (gate adopt).
type Adopt struct {
	Company               string   `json:"company"`
	Ticket                string   `json:"ticket"`
	RequestedBy           string   `json:"requestedBy"`
	ProjectID             string   `json:"projectId"`
	Environment           string   `json:"environment"`
	Cloud                 string   `json:"cloud"`
	Region                string   `json:"region"`
	CustomerAccount       string   `json:"customerAccount"`
	CustomerSubscriptions []string `json:"customerSubscriptions,omitempty"`
	// Services optionally names the open ports ("mysql" for 3306); ports
	// found open and not named are called "port-<n>".
	Services []Service `json:"services,omitempty"`
	// ReverseEndpoints are the platform's endpoints into customer services
	// that belong to the link, with the ports to check through each.
	ReverseEndpoints []ReverseEndpoint `json:"reverseEndpoints,omitempty"`
	// BandwidthMbps and CustomerRegion are a request's (Alibaba Cloud
	// only): the bandwidth the link's customer connections are accepted
	// with, and the region the customer connects from.
	BandwidthMbps  int    `json:"bandwidthMbps,omitempty"`
	CustomerRegion string `json:"customerRegion,omitempty"`
}

// ReverseEndpoint names a platform endpoint of an adopted link.
type ReverseEndpoint struct {
	EndpointID string `json:"endpointId"`
	Ports      []int  `json:"ports"`
}

// WorkflowID is the adopted link's workflow ID.
func (a Adopt) WorkflowID() string { return WorkflowID(a.ProjectID, a.Environment, a.Cloud) }

// Request kinds, as errors name them.
var (
	changeSchema   = schema{name: "change", noun: "a change request", example: "addServices"}
	teardownSchema = schema{name: "teardown", noun: "a teardown request", example: "requestedBy"}
	adoptSchema    = schema{name: "adopt", noun: "an adopt request", example: "projectId"}
)

// DecodeChange reads a change request strictly, as Decode reads a request:
// unknown or misspelt fields (at any depth, case-sensitively), wrong types,
// trailing data and an empty body are errors, all reported at once. The
// result is normalised as far as it can be without the link's cloud;
// Validate checks it normalised for its link (see Normalize).
func DecodeChange(data []byte) (Change, error) {
	var c Change
	if es := decodeStrict(data, &c, changeSchema); len(es) > 0 {
		return Change{}, es.Of("change")
	}
	return c.Normalize(""), nil
}

// Normalize trims spaces and folds case where case carries no meaning, as
// Request.Normalize does: requestedBy and service names lower-cased, the
// accounts normalised for cloud (AWS dashes removed, Azure lower-cased,
// Alibaba UIDs trimmed), AWS and Alibaba customer service names
// lower-cased. With an empty cloud it does what
// needs no cloud. Normalising twice changes nothing.
func (c Change) Normalize(cloud string) Change {
	cloud = strings.ToLower(strings.TrimSpace(cloud))
	c.RequestedBy = strings.ToLower(strings.TrimSpace(c.RequestedBy))
	c.Reason = strings.TrimSpace(c.Reason)
	c.AddServices = normalizeServices(c.AddServices)
	if c.RemovePorts != nil {
		c.RemovePorts = append([]int{}, c.RemovePorts...)
	}
	c.ReplaceCustomerAccount = normalizeAccount(cloud, c.ReplaceCustomerAccount)
	if c.ReplaceCustomerSubscriptions != nil {
		subs := make([]string, len(c.ReplaceCustomerSubscriptions))
		for i, s := range c.ReplaceCustomerSubscriptions {
			subs[i] = normalizeAccount(cloud, s)
		}
		c.ReplaceCustomerSubscriptions = subs
	}
	if c.AddCustomerServices != nil {
		add := make([]CustomerService, len(c.AddCustomerServices))
		for i, s := range c.AddCustomerServices {
			add[i] = CustomerService{Service: normalizeCustomerService(cloud, s.Service), Ports: s.Ports}
			if s.Ports != nil {
				add[i].Ports = append([]int{}, s.Ports...)
			}
		}
		c.AddCustomerServices = add
	}
	if c.RemoveCustomerServices != nil {
		rm := make([]string, len(c.RemoveCustomerServices))
		for i, s := range c.RemoveCustomerServices {
			rm[i] = normalizeCustomerService(cloud, s)
		}
		c.RemoveCustomerServices = rm
	}
	return c
}

// Validate checks the change, normalised for the link's cloud, against the
// link as it is now, and returns every problem at once. Send
// c.Normalize(link.Cloud), which is what it checked.
//
// Rules: requestedBy and reason are required and at least one change is
// asked for. Added services are named and numbered as a request's, and
// not open already; removed ports are open, and one port at least stays
// open (to close them all, tear the link down). A new account is valid for
// the cloud and not one the link allows; new subscriptions are for Azure,
// with a new account. Added customer services are well formed for the
// cloud (AWS: in the link's region; Alibaba: in the link's region or its
// customer region), have valid ports and are not reverse
// connections of the link yet; removed ones are. Nothing is both added and
// removed, and nothing is listed twice.
func (c Change) Validate(link Link) Errors {
	var es Errors
	cloud := strings.ToLower(strings.TrimSpace(link.Cloud))
	region := strings.ToLower(strings.TrimSpace(link.Region))
	c = c.Normalize(cloud)
	checkRequester(&es, c.RequestedBy, "change")
	if c.Reason == "" {
		es.add("reason", "", "is required", `say in a sentence why, for the ticket and the audit trail, e.g. "the customer adds RabbitMQ"`)
	}
	if !c.asksForChange() {
		es.add("change", "", "asks for no change", "set at least one of addServices, removePorts, replaceCustomerAccount, addCustomerServices or removeCustomerServices")
	}
	if link.ConnectionType == Outbound {
		c.validateOutbound(&es, link)
	}
	c.validatePorts(&es, cloud, link)
	c.validateAccounts(&es, cloud, link)
	c.validateCustomerServices(&es, cloud, region, strings.ToLower(strings.TrimSpace(link.CustomerRegion)), link)
	return es
}

// validateOutbound refuses what an outbound link cannot carry: nothing
// reaches the platform, so it has no platform ports and no allowed
// customer accounts to change.
func (c Change) validateOutbound(es *Errors, link Link) {
	const why = "is not used by an outbound link: nothing reaches the platform"
	left := map[string]bool{}
	for _, s := range link.CustomerServices {
		left[strings.ToLower(s)] = true
	}
	for _, s := range c.RemoveCustomerServices {
		delete(left, strings.ToLower(s))
	}
	if len(c.RemoveCustomerServices) > 0 && len(left) == 0 && len(c.AddCustomerServices) == 0 {
		es.add("removeCustomerServices", strings.Join(c.RemoveCustomerServices, ", "), "would leave the outbound link reaching nothing",
			"to remove the link, tear it down (linkwright teardown); to move it, add the new service in the same change")
	}
	if len(c.AddServices) > 0 {
		es.add("addServices", servicesString(c.AddServices), why, "remove it; to let the customer reach the platform, tear this link down and request a bidirectional one")
	}
	if c.ReplaceCustomerAccount != "" {
		es.add("replaceCustomerAccount", c.ReplaceCustomerAccount, why, "remove it; the customer allows the platform on their own service")
	}
	if len(c.ReplaceCustomerSubscriptions) > 0 {
		es.add("replaceCustomerSubscriptions", strings.Join(c.ReplaceCustomerSubscriptions, ", "), why, "remove it; the customer allows the platform on their own service")
	}
}

func (c Change) asksForChange() bool {
	return len(c.AddServices) > 0 || len(c.RemovePorts) > 0 || c.ReplaceCustomerAccount != "" ||
		len(c.ReplaceCustomerSubscriptions) > 0 || len(c.AddCustomerServices) > 0 || len(c.RemoveCustomerServices) > 0
}

func (c Change) validatePorts(es *Errors, cloud string, link Link) {
	open := map[int]bool{}
	for _, p := range link.Ports {
		open[p] = true
	}
	removed := map[int]bool{}
	for _, p := range c.RemovePorts {
		removed[p] = true
	}
	checkServiceNames(es, c.AddServices, func(i int) string { return fmt.Sprintf("addServices[%d].name", i) })
	added := map[int]bool{}
	for i, s := range c.AddServices {
		f := fmt.Sprintf("addServices[%d].port", i)
		v := strconv.Itoa(s.Port)
		switch prob, fix := portProblem(cloud, s.Port); {
		case prob != "":
			es.add(f, v, prob, fix)
		case added[s.Port]:
			es.add(f, v, "is listed twice", "list each port once")
		case removed[s.Port]:
			// Reported once, at removePorts.
		case open[s.Port]:
			es.add(f, v, "is already open on the link", "remove it from addServices; the link carries port "+v+" already")
		}
		added[s.Port] = true
	}
	seen := map[int]bool{}
	for i, p := range c.RemovePorts {
		f := fmt.Sprintf("removePorts[%d]", i)
		v := strconv.Itoa(p)
		switch {
		case seen[p]:
			es.add(f, v, "is listed twice", "list each port once")
		case added[p]:
			es.add(f, v, "is also in addServices", "a change opens a port or closes it, not both: remove it from addServices or from removePorts")
		case !open[p]:
			es.add(f, v, "is not open on the link", "list only ports the link has open: "+orExample(joinInts(link.Ports), "it has none"))
		}
		seen[p] = true
	}
	if len(c.RemovePorts) > 0 && len(link.Ports) > 0 {
		remaining := 0
		for p := range open {
			if !removed[p] {
				remaining++
			}
		}
		for _, s := range c.AddServices {
			if prob, _ := portProblem(cloud, s.Port); prob == "" && !open[s.Port] && !removed[s.Port] {
				remaining++
			}
		}
		if remaining == 0 {
			es.add("removePorts", intsString(c.RemovePorts), "would close every port of the link", "keep at least one port open; to close them all, tear the link down instead (linkwright teardown)")
		}
	}
}

func (c Change) validateAccounts(es *Errors, cloud string, link Link) {
	if v := c.ReplaceCustomerAccount; v != "" {
		n := len(*es)
		checkAccount(es, cloud, "replaceCustomerAccount", v)
		if len(*es) == n {
			for _, a := range link.Accounts {
				if normalizeAccount(cloud, a) == v {
					es.add("replaceCustomerAccount", v, "is already allowed on the link", "name the customer's new account; the link allows "+strings.Join(link.Accounts, ", ")+" now")
					break
				}
			}
		}
	}
	if subs := c.ReplaceCustomerSubscriptions; len(subs) > 0 {
		switch {
		case cloud != CloudAzure:
			es.add("replaceCustomerSubscriptions", strings.Join(subs, ","), "is only for Azure", "remove it; on "+cloudName(cloud)+" the link is for one account: set replaceCustomerAccount")
		case c.ReplaceCustomerAccount == "":
			es.add("replaceCustomerSubscriptions", strings.Join(subs, ","), "needs replaceCustomerAccount", "set replaceCustomerAccount to the customer's new main subscription; together they replace every subscription the link allows")
		default:
			checkSubscriptions(es, "replaceCustomerSubscriptions", subs)
		}
	}
}

func (c Change) validateCustomerServices(es *Errors, cloud, region, customerRegion string, link Link) {
	have := map[string]bool{}
	for _, s := range link.CustomerServices {
		have[serviceKey(cloud, s)] = true
	}
	removed := map[string]bool{}
	for _, s := range c.RemoveCustomerServices {
		removed[serviceKey(cloud, s)] = true
	}
	added := map[string]bool{}
	for i, s := range c.AddCustomerServices {
		f := fmt.Sprintf("addCustomerServices[%d]", i)
		key := serviceKey(cloud, s.Service)
		if s.Service == "" {
			fix := "name the customer's endpoint service, e.g. " + customerServiceExample(cloud, region)
			if cloud == CloudAzure {
				fix = "name the customer's Private Link service by resource ID or alias"
			}
			es.add(f+".service", "", "is required", fix)
		} else {
			n := len(*es)
			checkCustomerService(es, cloud, region, customerRegion, f+".service", s.Service)
			if len(*es) == n {
				switch {
				case added[key]:
					es.add(f+".service", s.Service, "is listed twice", "list each customer service once, with all its ports")
				case removed[key]:
					// Reported once, at removeCustomerServices.
				case have[key]:
					es.add(f+".service", s.Service, "is already a reverse connection of the link", "remove it from addCustomerServices; the platform reaches it already")
				}
			}
			added[key] = true
		}
		if len(s.Ports) == 0 {
			es.add(f+".ports", "", "is required", "list the ports the platform must reach on the customer's service, e.g. [5432]")
		} else {
			checkPorts(es, cloud, s.Ports, func(j int) string { return fmt.Sprintf("%s.ports[%d]", f, j) })
		}
	}
	seen := map[string]bool{}
	for i, s := range c.RemoveCustomerServices {
		f := fmt.Sprintf("removeCustomerServices[%d]", i)
		key := serviceKey(cloud, s)
		switch {
		case s == "":
			es.add(f, "", "is empty", "name the customer endpoint service of the reverse connection to remove")
		case seen[key]:
			es.add(f, s, "is listed twice", "list each customer service once")
		case added[key]:
			es.add(f, s, "is also in addCustomerServices", "a change adds a reverse connection or removes it, not both: remove it from one of the lists")
		case !have[key]:
			es.add(f, s, "is not a reverse connection of the link", "name one of the link's customer services: "+orExample(strings.Join(link.CustomerServices, ", "), "it has none"))
		}
		seen[key] = true
	}
}

// serviceKey compares customer services: AWS and Alibaba names are
// lower-case, Azure resource IDs and aliases are compared ignoring case,
// as Azure does.
func serviceKey(cloud, s string) string {
	return strings.ToLower(normalizeCustomerService(cloud, s))
}

// Summary says in one line what the change does, e.g. "add port 5672
// (amqp); remove port 2222; replace the customer account with
// 210000000099".
func (c Change) Summary() string {
	var parts []string
	if len(c.AddServices) > 0 {
		ps := make([]string, len(c.AddServices))
		for i, s := range c.AddServices {
			ps[i] = strconv.Itoa(s.Port)
			if s.Name != "" {
				ps[i] += " (" + s.Name + ")"
			}
		}
		parts = append(parts, "add "+plural("port", len(ps))+" "+strings.Join(ps, ", "))
	}
	if len(c.RemovePorts) > 0 {
		parts = append(parts, "remove "+plural("port", len(c.RemovePorts))+" "+joinInts(c.RemovePorts))
	}
	switch {
	case c.ReplaceCustomerAccount != "" && len(c.ReplaceCustomerSubscriptions) > 0:
		parts = append(parts, "replace the customer accounts with "+strings.Join(append([]string{c.ReplaceCustomerAccount}, c.ReplaceCustomerSubscriptions...), ", "))
	case c.ReplaceCustomerAccount != "":
		parts = append(parts, "replace the customer account with "+c.ReplaceCustomerAccount)
	case len(c.ReplaceCustomerSubscriptions) > 0:
		parts = append(parts, "replace the customer subscriptions with "+strings.Join(c.ReplaceCustomerSubscriptions, ", "))
	}
	for _, s := range c.AddCustomerServices {
		parts = append(parts, "add reverse connection to "+s.Service+" on "+plural("port", len(s.Ports))+" "+joinInts(s.Ports))
	}
	for _, s := range c.RemoveCustomerServices {
		parts = append(parts, "remove reverse connection to "+s)
	}
	if len(parts) == 0 {
		parts = []string{"no change"}
	}
	out := strings.Join(parts, "; ")
	if c.DryRun {
		out = "plan only: " + out
	}
	return out
}

// joinInts lists numbers for people: "3306, 2222".
func joinInts(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

func plural(noun string, n int) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// DecodeTeardown reads a teardown request strictly, as Decode reads a
// request, and normalises it.
func DecodeTeardown(data []byte) (Teardown, error) {
	var t Teardown
	if es := decodeStrict(data, &t, teardownSchema); len(es) > 0 {
		return Teardown{}, es.Of("teardown")
	}
	return t.Normalize(), nil
}

// Normalize trims spaces and lower-cases requestedBy.
func (t Teardown) Normalize() Teardown {
	t.RequestedBy = strings.ToLower(strings.TrimSpace(t.RequestedBy))
	t.Reason = strings.TrimSpace(t.Reason)
	return t
}

// Validate checks the teardown request (normalised): requestedBy and
// reason are required.
func (t Teardown) Validate() Errors {
	var es Errors
	checkRequester(&es, t.RequestedBy, "teardown")
	if t.Reason == "" {
		es.add("reason", "", "is required", `say in a sentence why the link goes, for the ticket and the audit trail, e.g. "the customer leaves the platform"`)
	}
	return es
}

// DecodeAdopt reads an adopt request strictly, as Decode reads a request,
// and normalises it.
func DecodeAdopt(data []byte) (Adopt, error) {
	var a Adopt
	if es := decodeStrict(data, &a, adoptSchema); len(es) > 0 {
		return Adopt{}, es.Of("adopt request")
	}
	return a.Normalize(), nil
}

// Normalize normalises the adopt request as Request.Normalize does a
// request.
func (a Adopt) Normalize() Adopt {
	r := a.request().Normalize()
	a.Company, a.Ticket, a.RequestedBy, a.ProjectID = r.Company, r.Ticket, r.RequestedBy, r.ProjectID
	a.Environment, a.Cloud, a.Region = r.Environment, r.Cloud, r.Region
	a.CustomerAccount, a.CustomerSubscriptions = r.CustomerAccount, r.CustomerSubscriptions
	a.CustomerRegion = r.CustomerRegion
	a.Services = normalizeServices(a.Services)
	if a.ReverseEndpoints != nil {
		eps := make([]ReverseEndpoint, len(a.ReverseEndpoints))
		for i, e := range a.ReverseEndpoints {
			eps[i] = ReverseEndpoint{EndpointID: strings.TrimSpace(e.EndpointID), Ports: e.Ports}
			if e.Ports != nil {
				eps[i].Ports = append([]int{}, e.Ports...)
			}
		}
		a.ReverseEndpoints = eps
	}
	return a
}

// CustomerAccounts is every customer account or subscription the link
// allows, as Request.CustomerAccounts.
func (a Adopt) CustomerAccounts() []string { return a.request().CustomerAccounts() }

func (a Adopt) request() Request {
	return Request{
		Company: a.Company, Ticket: a.Ticket, RequestedBy: a.RequestedBy, ProjectID: a.ProjectID,
		Environment: a.Environment, Cloud: a.Cloud, Region: a.Region,
		CustomerAccount: a.CustomerAccount, CustomerSubscriptions: a.CustomerSubscriptions,
		BandwidthMbps: a.BandwidthMbps, CustomerRegion: a.CustomerRegion,
	}
}

// Validate checks the adopt request (normalised; DecodeAdopt does it) and
// returns every problem at once: company, ticket, requestedBy, projectId,
// environment, cloud, region and the customer's accounts follow a
// request's rules; services, if listed, are named and numbered as a
// request's; each reverse endpoint has an ID and valid ports;
// bandwidthMbps and customerRegion follow a request's rules.
func (a Adopt) Validate() Errors {
	var es Errors
	r := a.request()
	cloudOK := r.validateLink(&es, "adoption")
	if len(a.Services) > 0 {
		ports := make([]int, len(a.Services))
		for i, s := range a.Services {
			ports[i] = s.Port
		}
		checkPorts(&es, a.Cloud, ports, func(i int) string { return fmt.Sprintf("services[%d].port", i) })
		checkServiceNames(&es, a.Services, func(i int) string { return fmt.Sprintf("services[%d].name", i) })
	}
	seen := map[string]bool{}
	for i, e := range a.ReverseEndpoints {
		f := fmt.Sprintf("reverseEndpoints[%d]", i)
		switch {
		case e.EndpointID == "":
			es.add(f+".endpointId", "", "is required", "set the ID of the platform's endpoint into the customer's service (AWS vpce-..., Azure the private endpoint's resource ID, Alibaba Cloud ep-...)")
		case strings.ContainsAny(e.EndpointID, " \t\n"):
			es.add(f+".endpointId", e.EndpointID, "contains spaces", "copy the endpoint ID as the cloud console shows it")
		case seen[strings.ToLower(e.EndpointID)]:
			es.add(f+".endpointId", e.EndpointID, "is listed twice", "list each endpoint once, with all its ports")
		}
		seen[strings.ToLower(e.EndpointID)] = true
		if len(e.Ports) == 0 {
			es.add(f+".ports", "", "is required", "list the ports to check through the endpoint, e.g. [5432]")
		} else {
			checkPorts(&es, a.Cloud, e.Ports, func(j int) string { return fmt.Sprintf("%s.ports[%d]", f, j) })
		}
	}
	if cloudOK {
		r.validateCrossRegion(&es)
		r.validateBandwidth(&es)
	}
	return es
}

func normalizeServices(svcs []Service) []Service {
	if svcs == nil {
		return nil
	}
	out := make([]Service, len(svcs))
	for i, s := range svcs {
		out[i] = Service{Name: strings.ToLower(strings.TrimSpace(s.Name)), Port: s.Port}
	}
	return out
}

// normalizeCustomerService trims a customer endpoint service and
// lower-cases the names that are lower-case by definition (AWS and
// Alibaba Cloud service names); Azure resource IDs keep their case.
func normalizeCustomerService(cloud, s string) string {
	s = strings.TrimSpace(s)
	if cloud == CloudAWS || cloud == CloudAlibaba {
		s = strings.ToLower(s)
	}
	return s
}

// schema names a kind of request in decoding errors (name for the whole
// body, noun in prose), with a field to show as an example of camelCase.
type schema struct{ name, noun, example string }

// decodeStrict decodes one JSON object into v (a pointer to a struct) as
// Decode decodes a request: every unknown or misspelt field, at any depth
// and case-sensitively, is reported by its path, with a wrong type when
// there is one.
func decodeStrict(data []byte, v any, s schema) Errors {
	if len(bytes.TrimSpace(data)) == 0 {
		return Errors{{Field: s.name, Problem: "is empty", Fix: "pass " + s.noun + " as JSON (see the README)"}}
	}
	t := reflect.TypeOf(v).Elem()
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		e := decodeError(err)
		if e.Field == "request" {
			e.Field = s.name
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			if typeErr.Type.Kind() == reflect.Bool {
				e.Problem = "is a JSON " + typeErr.Value + " but must be true or false"
			}
			e.Fix = "write it as in the README's example of " + s.noun
		}
		return append(Errors{e}, unknownFields(data, t, s)...)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Errors{{Field: s.name, Problem: "has data after the JSON object", Fix: "send exactly one JSON object"}}
	}
	return unknownFields(data, t, s)
}

// unknownFields names every key of data that t does not have, by its path
// (addServices[0].Port), sorted.
func unknownFields(data []byte, t reflect.Type, s schema) Errors {
	var es Errors
	walkFields(data, t, "", s, &es)
	sort.Slice(es, func(i, j int) bool { return es[i].Field < es[j].Field })
	return es
}

func walkFields(data []byte, t reflect.Type, path string, s schema, es *Errors) {
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return // not an object: the typed decode says so
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			fields[name] = t.Field(i).Type
		}
		for k, raw := range obj {
			p := k
			if path != "" {
				p = path + "." + k
			}
			ft, ok := fields[k]
			if !ok {
				fix := "remove it or correct its spelling (fields are camelCase and case-sensitive, e.g. " + s.example + ")"
				if near := nearestField(k, fields); near != "" {
					fix = fmt.Sprintf("did you mean %q? Field names are camelCase and case-sensitive", near)
				}
				es.add(p, "", "is not "+s.noun+" field", fix)
				continue
			}
			walkFields(raw, ft, p, s, es)
		}
	case reflect.Slice:
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return
		}
		for i, item := range items {
			walkFields(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), s, es)
		}
	}
}

// nearestField is the field k most likely misspells: the same ignoring
// case, or at most two edits away; "" if none.
func nearestField(k string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for name := range fields {
		d := editDistance(strings.ToLower(k), strings.ToLower(name))
		if d < bestD || (d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
