// Package request is the enablement request: its JSON shape, strict decoding,
// normalisation and every rule a request must pass before any cloud call.
//
// Validation is split in two: Validate checks the request on its own;
// CheckPlatform checks it against the platform environment it names (plan,
// cloud, region), which needs one read-only cloud lookup. Both return every
// problem at once.
package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
)

// Clouds, environments and connection types a request may name.
const (
	CloudAWS     = "aws"
	CloudAzure   = "azure"
	CloudAlibaba = "alibaba"

	EnvProduction = "production"
	EnvStaging    = "staging"

	Unidirectional = "unidirectional"
	Bidirectional  = "bidirectional"
	// Outbound is the platform as consumer of the customer's service:
	// the platform reaches the customer, nothing reaches the platform.
	Outbound = "outbound"
)

// Request is an enablement request as operators write it (camelCase JSON).
type Request struct {
	Company                 string    `json:"company"`
	Ticket                  string    `json:"ticket"`
	RequestedBy             string    `json:"requestedBy"`
	ProjectID               string    `json:"projectId"`
	Environment             string    `json:"environment"`
	Cloud                   string    `json:"cloud"`
	Region                  string    `json:"region"`
	CustomerAccount         string    `json:"customerAccount"`
	CustomerSubscriptions   []string  `json:"customerSubscriptions,omitempty"`
	ConnectionType          string    `json:"connectionType"`
	Services                []Service `json:"services"`
	CustomerEndpointService string    `json:"customerEndpointService,omitempty"`
	CustomerServicePorts    []int     `json:"customerServicePorts,omitempty"`
	// BandwidthMbps limits each accepted customer connection (Alibaba
	// Cloud only: EnableVpcEndpointConnection's Bandwidth); 0 is the
	// service's default.
	BandwidthMbps int `json:"bandwidthMbps,omitempty"`
	// CustomerRegion is the region the customer's account connects from
	// when it is not Region (Alibaba Cloud cross-region access only).
	CustomerRegion string `json:"customerRegion,omitempty"`
}

// Service is one platform service the customer reaches over the link.
type Service struct {
	Name string `json:"name"`
	Port int    `json:"port"`
}

// WorkflowID is the one enablement allowed per project, environment and cloud.
func (r Request) WorkflowID() string {
	return WorkflowID(r.ProjectID, r.Environment, r.Cloud)
}

// WorkflowID builds the enablement workflow ID from its parts.
func WorkflowID(projectID, environment, cloud string) string {
	return "privatelink/" + projectID + "/" + environment + "/" + cloud
}

// Bidirectional reports whether the platform must also reach the customer.
func (r Request) Bidirectional() bool { return r.ConnectionType == Bidirectional }

// Outbound reports whether the link only reaches the customer's service.
func (r Request) Outbound() bool { return r.ConnectionType == Outbound }

// Reaches reports whether the platform reaches a customer service
// (bidirectional and outbound links).
func (r Request) Reaches() bool { return r.Bidirectional() || r.Outbound() }

// Ports lists the platform service ports in request order.
func (r Request) Ports() []int {
	ports := make([]int, 0, len(r.Services))
	for _, s := range r.Services {
		ports = append(ports, s.Port)
	}
	return ports
}

// CustomerAccounts is every customer account or subscription to allow:
// the AWS account, the Azure subscriptions or the Alibaba Cloud UID.
func (r Request) CustomerAccounts() []string {
	out := []string{r.CustomerAccount}
	for _, s := range r.CustomerSubscriptions {
		if s != r.CustomerAccount {
			out = append(out, s)
		}
	}
	return out
}

// Decode reads a request strictly: unknown fields, wrong types, trailing
// data and an empty body are errors. The result is normalised but not
// validated; call Validate next.
func Decode(data []byte) (Request, error) {
	var r Request
	if len(bytes.TrimSpace(data)) == 0 {
		return r, Errors{{Field: "request", Problem: "is empty", Fix: "pass the request JSON (see the README's request schema)"}}
	}
	// Unknown fields are found by checkFieldNames, which names their paths
	// and is case-sensitive, unlike encoding/json.
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		// encoding/json stops at the first wrong type: report it with any
		// misspelt field names, which are often its cause.
		return Request{}, append(Errors{decodeError(err)}, checkFieldNames(data)...)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Request{}, Errors{{Field: "request", Problem: "has data after the JSON object", Fix: "send exactly one JSON object"}}
	}
	if es := checkFieldNames(data); len(es) > 0 {
		return Request{}, es
	}
	return r.Normalize(), nil
}

// checkFieldNames refuses keys that encoding/json accepted only because it
// matches names case-insensitively ("projectID" for "projectId").
func checkFieldNames(data []byte) Errors {
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil {
		return nil // not an object: the typed decode already said so
	}
	var es Errors
	for k := range top {
		if !requestFields[k] {
			es = append(es, unknownField(k))
		}
	}
	var svcs []map[string]json.RawMessage
	if raw, ok := top["services"]; ok && json.Unmarshal(raw, &svcs) == nil {
		for i, s := range svcs {
			for k := range s {
				if k != "name" && k != "port" {
					es = append(es, unknownField(fmt.Sprintf("services[%d].%s", i, k)))
				}
			}
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Field < es[j].Field })
	return es
}

var requestFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Request]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
}()

func unknownField(name string) FieldError {
	return FieldError{Field: name, Problem: "is not a request field", Fix: "remove it or correct its spelling (fields are camelCase and case-sensitive, e.g. projectId)"}
}

func decodeError(err error) FieldError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "request"
		}
		return FieldError{Field: field, Problem: "is a JSON " + typeErr.Value + " but must be " + jsonKind(typeErr.Type.Kind().String()), Fix: "write it as in the README's request schema"}
	case errors.As(err, &syntaxErr):
		return FieldError{Field: "request", Problem: fmt.Sprintf("is not valid JSON at byte %d: %v", syntaxErr.Offset, err), Fix: "fix the JSON syntax"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return FieldError{Field: "request", Problem: "is not valid JSON: it ends too early", Fix: "close every brace, bracket and string"}
	default:
		return FieldError{Field: "request", Problem: "cannot be read: " + err.Error(), Fix: "send one JSON object as in the README"}
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64":
		return "a whole number"
	case "slice":
		return "a list"
	case "struct":
		return "an object"
	}
	return goKind
}

// Normalize trims spaces and folds case where case carries no meaning.
func (r Request) Normalize() Request {
	r.Company = strings.TrimSpace(r.Company)
	r.Ticket = strings.TrimSpace(r.Ticket)
	r.RequestedBy = strings.ToLower(strings.TrimSpace(r.RequestedBy))
	r.ProjectID = strings.TrimSpace(r.ProjectID)
	r.Environment = strings.ToLower(strings.TrimSpace(r.Environment))
	r.Cloud = strings.ToLower(strings.TrimSpace(r.Cloud))
	r.Region = strings.ToLower(strings.TrimSpace(r.Region))
	r.ConnectionType = strings.ToLower(strings.TrimSpace(r.ConnectionType))
	r.CustomerAccount = normalizeAccount(r.Cloud, r.CustomerAccount)
	if r.CustomerSubscriptions != nil {
		subs := make([]string, len(r.CustomerSubscriptions))
		for i, s := range r.CustomerSubscriptions {
			subs[i] = normalizeAccount(r.Cloud, s)
		}
		r.CustomerSubscriptions = subs
	}
	if r.Services != nil {
		svcs := make([]Service, len(r.Services))
		for i, s := range r.Services {
			svcs[i] = Service{Name: strings.ToLower(strings.TrimSpace(s.Name)), Port: s.Port}
		}
		r.Services = svcs
	}
	r.CustomerEndpointService = normalizeCustomerService(r.Cloud, r.CustomerEndpointService)
	r.CustomerRegion = strings.ToLower(strings.TrimSpace(r.CustomerRegion))
	return r
}

func normalizeAccount(cloud, s string) string {
	s = strings.TrimSpace(s)
	switch cloud {
	case CloudAWS:
		// Consoles show account IDs as 1234-5678-9012.
		return strings.ReplaceAll(s, "-", "")
	case CloudAzure:
		return strings.ToLower(s)
	case CloudAlibaba:
		// UIDs are digits; trimmed is all they need.
		return s
	}
	return s
}
