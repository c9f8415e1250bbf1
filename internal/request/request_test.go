package request

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func validAWS() Request {
	return Request{
		Company: "Acme Corp", RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5",
		Environment: "production", Cloud: "aws", Region: "us-east-1", CustomerAccount: "123456789012",
		ConnectionType:          "bidirectional",
		Services:                []Service{{Name: "mysql", Port: 3306}, {Name: "sftp", Port: 2222}},
		CustomerEndpointService: "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0",
		CustomerServicePorts:    []int{5432},
	}
}

func validAzure() Request {
	return Request{
		Company: "Contoso", RequestedBy: "ops@platform.example", ProjectID: "azure1234abcd",
		Environment: "staging", Cloud: "azure", Region: "westeurope",
		CustomerAccount: "00000000-1111-2222-3333-444444444444", ConnectionType: "bidirectional",
		Services:                []Service{{Name: "pg", Port: 5432}},
		CustomerEndpointService: "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-1/providers/Microsoft.Network/privateLinkServices/pls-orders",
		CustomerServicePorts:    []int{8080},
	}
}

func TestDecodeExample(t *testing.T) {
	data, err := os.ReadFile("testdata/bidirectional-aws.json")
	require.NoError(t, err)
	r, err := Decode(data)
	require.NoError(t, err)
	assert.Empty(t, r.Validate())
	assert.Equal(t, "privatelink/abcd1234efgh5/production/aws", r.WorkflowID())
	assert.Equal(t, []int{3306, 2222}, r.Ports())
	assert.True(t, r.Bidirectional())
}

func TestDecodeStrict(t *testing.T) {
	cases := []struct {
		name, json, field, problem string
	}{
		{"empty", "  ", "request", "is empty"},
		{"unknown field", `{"company":"A","projectID":"x"}`, "projectID", "is not a request field"},
		{"wrong type", `{"services":[{"name":"a","port":"3306"}]}`, "services.port", "is a JSON string but must be a whole number"},
		{"string for list", `{"customerServicePorts":"5432"}`, "customerServicePorts", "is a JSON string but must be a list"},
		{"syntax", `{"company":`, "request", "not valid JSON"},
		{"bad syntax", `{"company" "A"}`, "request", "not valid JSON"},
		{"unknown service field", `{"services":[{"name":"a","port":1,"Proto":"tcp"}]}`, "services[0].Proto", "is not a request field"},
		{"trailing", `{"company":"A"} {}`, "request", "data after"},
		{"not an object", `[1,2]`, "request", "is a JSON array but must be an object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.json))
			var es Errors
			require.ErrorAs(t, err, &es)
			require.Len(t, es, 1)
			assert.Equal(t, c.field, es[0].Field)
			assert.Contains(t, es[0].Problem, c.problem)
			assert.NotEmpty(t, es[0].Fix)
		})
	}
}

func TestDecodeReportsMisspeltFieldWithTypeError(t *testing.T) {
	_, err := Decode([]byte(`{"Ticket": 3, "projectID": "x"}`))
	var es Errors
	require.ErrorAs(t, err, &es)
	require.Len(t, es, 3, "%v", es)
	assert.Equal(t, "ticket", es[0].Field)
	assert.Equal(t, "Ticket", es[1].Field)
	assert.Equal(t, "projectID", es[2].Field)
}

func TestNormalize(t *testing.T) {
	r := Request{Cloud: " AWS ", Environment: "Production", Region: "US-EAST-1", CustomerAccount: "1234-5678-9012",
		ConnectionType: "Unidirectional", RequestedBy: " Sam@Platform.Example ", Services: []Service{{Name: " MySQL ", Port: 3306}},
		CustomerEndpointService: " COM.AMAZONAWS.VPCE.US-EAST-1.VPCE-SVC-0123456789ABCDEF0 "}.Normalize()
	assert.Equal(t, "aws", r.Cloud)
	assert.Equal(t, "production", r.Environment)
	assert.Equal(t, "us-east-1", r.Region)
	assert.Equal(t, "123456789012", r.CustomerAccount)
	assert.Equal(t, "unidirectional", r.ConnectionType)
	assert.Equal(t, "sam@platform.example", r.RequestedBy)
	assert.Equal(t, "mysql", r.Services[0].Name)
	assert.Equal(t, "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0", r.CustomerEndpointService)
	az := Request{Cloud: "azure", CustomerAccount: "ABCDEF00-1111-2222-3333-444444444444"}.Normalize()
	assert.Equal(t, "abcdef00-1111-2222-3333-444444444444", az.CustomerAccount)
}

func validOutbound() Request {
	r := validAWS()
	r.ConnectionType, r.Services = Outbound, nil
	return r
}

func validAzureOutbound() Request {
	r := validAzure()
	r.ConnectionType, r.Services = Outbound, nil
	return r
}

// An outbound request's rules are reported with the others, all at once.
func TestValidateOutboundReportsEverything(t *testing.T) {
	r := validOutbound()
	r.Services = []Service{{Name: "web", Port: 443}}
	r.CustomerServicePorts = nil
	r.Environment = "integration"
	es := r.Validate()
	fields := make([]string, len(es))
	for i, e := range es {
		fields[i] = e.Field
	}
	assert.ElementsMatch(t, []string{"environment", "services", "customerServicePorts"}, fields, "%v", es)
	assert.True(t, validOutbound().Outbound())
	assert.True(t, validOutbound().Reaches())
	assert.False(t, validOutbound().Bidirectional())
}

func TestValidateRules(t *testing.T) {
	cases := []struct {
		name    string
		base    func() Request
		mutate  func(*Request)
		field   string
		problem string
	}{
		{"company missing", validAWS, func(r *Request) { r.Company = "" }, "company", "is required"},
		{"company too long", validAWS, func(r *Request) { r.Company = strings.Repeat("x", 101) }, "company", "longer than 100"},
		{"ticket bad", validAWS, func(r *Request) { r.Ticket = "PL 42" }, "ticket", "not a ticket key"},
		{"requester missing", validAWS, func(r *Request) { r.RequestedBy = "" }, "requestedBy", "is required"},
		{"requester spaces", validAWS, func(r *Request) { r.RequestedBy = "sam smith" }, "requestedBy", "contains spaces"},
		{"project missing", validAWS, func(r *Request) { r.ProjectID = "" }, "projectId", "is required"},
		{"project bad", validAWS, func(r *Request) { r.ProjectID = "ABC_def" }, "projectId", "not a project ID"},
		{"environment missing", validAWS, func(r *Request) { r.Environment = "" }, "environment", "is required"},
		{"environment integration", validAWS, func(r *Request) { r.Environment = "integration" }, "environment", "cannot use PrivateLink"},
		{"cloud missing", validAWS, func(r *Request) { r.Cloud = "" }, "cloud", "is required"},
		{"cloud gcp", validAWS, func(r *Request) { r.Cloud = "gcp" }, "cloud", "not a supported cloud"},
		{"cloud alibaba", validAWS, func(r *Request) { r.Cloud = "alibaba" }, "cloud", "not supported yet"},
		{"region missing", validAWS, func(r *Request) { r.Region = "" }, "region", "is required"},
		{"aws region bad", validAWS, func(r *Request) { r.Region = "westeurope" }, "region", "not an AWS region"},
		{"azure region bad", validAzure, func(r *Request) { r.Region = "west europe" }, "region", "not an Azure region"},
		{"aws account missing", validAWS, func(r *Request) { r.CustomerAccount = "" }, "customerAccount", "is required"},
		{"aws account short", validAWS, func(r *Request) { r.CustomerAccount = "12345678901" }, "customerAccount", "not an AWS account ID"},
		{"aws subscriptions", validAWS, func(r *Request) { r.CustomerSubscriptions = []string{"x"} }, "customerSubscriptions", "only for Azure"},
		{"azure account bad", validAzure, func(r *Request) { r.CustomerAccount = "123456789012" }, "customerAccount", "not an Azure subscription ID"},
		{"azure extra sub bad", validAzure, func(r *Request) { r.CustomerSubscriptions = []string{"nope"} }, "customerSubscriptions[0]", "not an Azure subscription ID"},
		{"azure extra sub twice", validAzure, func(r *Request) {
			r.CustomerSubscriptions = []string{"00000000-1111-2222-3333-555555555555", "00000000-1111-2222-3333-555555555555"}
		}, "customerSubscriptions[1]", "listed twice"},
		{"no services", validAWS, func(r *Request) { r.Services = nil }, "services", "is required"},
		{"port zero", validAWS, func(r *Request) { r.Services[0].Port = 0 }, "services[0].port", "not a TCP port"},
		{"port too big", validAWS, func(r *Request) { r.Services[1].Port = 70000 }, "services[1].port", "not a TCP port"},
		{"ssh", validAWS, func(r *Request) { r.Services[0].Port = 22 }, "services[0].port", "SSH"},
		{"duplicate port", validAWS, func(r *Request) { r.Services[1].Port = 3306 }, "services[1].port", "listed twice"},
		{"https on azure", validAzure, func(r *Request) { r.Services[0].Port = 443 }, "services[0].port", "HTTPS"},
		{"https on azure reverse", validAzure, func(r *Request) { r.CustomerServicePorts = []int{443} }, "customerServicePorts[0]", "HTTPS"},
		{"service name missing", validAWS, func(r *Request) { r.Services[0].Name = "" }, "services[0].name", "is required"},
		{"service name bad", validAWS, func(r *Request) { r.Services[0].Name = "my_sql" }, "services[0].name", "not a service name"},
		{"service name twice", validAWS, func(r *Request) { r.Services[1].Name = "mysql" }, "services[1].name", "listed twice"},
		{"connection type missing", validAWS, func(r *Request) { r.ConnectionType = "" }, "connectionType", "is required"},
		{"connection type bad", validAWS, func(r *Request) { r.ConnectionType = "both" }, "connectionType", "not a connection type"},
		{"bidi no service", validAWS, func(r *Request) { r.CustomerEndpointService = "" }, "customerEndpointService", "required for a bidirectional"},
		{"bidi bad aws service", validAWS, func(r *Request) { r.CustomerEndpointService = "vpce-svc-0123456789abcdef0" }, "customerEndpointService", "not an AWS endpoint service name"},
		{"bidi aws service other region", validAWS, func(r *Request) {
			r.CustomerEndpointService = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
		}, "customerEndpointService", "is in region eu-west-1"},
		{"bidi bad azure service", validAzure, func(r *Request) { r.CustomerEndpointService = "pls-orders" }, "customerEndpointService", "not an Azure Private Link service"},
		{"bidi azure alias other region", validAzure, func(r *Request) {
			r.CustomerEndpointService = "pls-orders.00000000-1111-2222-3333-444444444444.eastus.azure.privatelinkservice"
		}, "customerEndpointService", "is in region eastus"},
		{"bidi no ports", validAWS, func(r *Request) { r.CustomerServicePorts = nil }, "customerServicePorts", "required for a bidirectional"},
		{"bidi ssh", validAWS, func(r *Request) { r.CustomerServicePorts = []int{22} }, "customerServicePorts[0]", "SSH"},
		{"uni with service", validAWS, func(r *Request) { r.ConnectionType = "unidirectional"; r.CustomerServicePorts = nil },
			"customerEndpointService", "only used by bidirectional and outbound"},
		{"uni with ports", validAWS, func(r *Request) { r.ConnectionType = "unidirectional"; r.CustomerEndpointService = "" },
			"customerServicePorts", "only used by bidirectional and outbound"},
		{"outbound with services", validOutbound, func(r *Request) { r.Services = []Service{{Name: "mysql", Port: 3306}} },
			"services", "not used by an outbound link: nothing reaches the platform"},
		{"outbound no service", validOutbound, func(r *Request) { r.CustomerEndpointService = "" }, "customerEndpointService", "required for an outbound link"},
		{"outbound no ports", validOutbound, func(r *Request) { r.CustomerServicePorts = nil }, "customerServicePorts", "required for an outbound link"},
		{"outbound ssh", validOutbound, func(r *Request) { r.CustomerServicePorts = []int{22} }, "customerServicePorts[0]", "SSH"},
		{"outbound service elsewhere", validOutbound, func(r *Request) {
			r.CustomerEndpointService = "com.amazonaws.vpce.eu-west-1.vpce-svc-0123456789abcdef0"
		}, "customerEndpointService", "is in region eu-west-1"},
		{"outbound no account", validOutbound, func(r *Request) { r.CustomerAccount = "" }, "customerAccount", "is required"},
		{"outbound https on azure", validAzureOutbound, func(r *Request) { r.CustomerServicePorts = []int{443} }, "customerServicePorts[0]", "HTTPS"},
		{"type unknown", validAWS, func(r *Request) { r.ConnectionType = "inbound" }, "connectionType", "not a connection type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.base()
			require.Empty(t, r.Validate(), "the base request must be valid")
			c.mutate(&r)
			es := r.Validate()
			require.Len(t, es, 1, "%v", es)
			assert.Equal(t, c.field, es[0].Field)
			assert.Contains(t, es[0].Problem, c.problem)
			assert.NotEmpty(t, es[0].Fix, "every error says how to fix it")
			assert.Contains(t, es.Error(), c.field)
		})
	}
}

func TestValidateAcceptsGoodVariants(t *testing.T) {
	good := []func(*Request){
		func(r *Request) { r.Services[0].Port = 443 }, // AWS allows 443
		func(r *Request) {
			r.ConnectionType = "unidirectional"
			r.CustomerEndpointService = ""
			r.CustomerServicePorts = nil
		},
		func(r *Request) { r.CustomerEndpointService = "com.amazonaws.vpce.us-east-1.vpce-svc-01234567" },
		func(r *Request) { r.Environment = "staging"; r.Ticket = "PL-0042" },
	}
	for i, g := range good {
		r := validAWS()
		g(&r)
		assert.Empty(t, r.Validate(), "variant %d", i)
	}
	az := validAzure()
	az.CustomerEndpointService = "pls-orders.00000000-1111-2222-3333-444444444444.westeurope.azure.privatelinkservice"
	az.CustomerSubscriptions = []string{"00000000-1111-2222-3333-555555555555"}
	assert.Empty(t, az.Validate())
	assert.Equal(t, []string{az.CustomerAccount, "00000000-1111-2222-3333-555555555555"}, az.CustomerAccounts())
}

func TestValidateReportsEverythingAtOnce(t *testing.T) {
	r, err := Decode([]byte(`{"company":"","projectId":"","environment":"integration","cloud":"azure","region":"westeurope",
		"customerAccount":"123","connectionType":"bidirectional","services":[{"name":"ssh","port":22},{"name":"web","port":443}]}`))
	require.NoError(t, err)
	es := r.Validate()
	fields := map[string]bool{}
	for _, e := range es {
		fields[e.Field] = true
	}
	for _, f := range []string{"company", "requestedBy", "projectId", "environment", "customerAccount",
		"services[0].port", "services[1].port", "customerEndpointService", "customerServicePorts"} {
		assert.True(t, fields[f], "missing error for %s in %v", f, es)
	}
	assert.Contains(t, es.Error(), "9 problems")
}

func TestCheckPlatform(t *testing.T) {
	r := validAWS()
	assert.Empty(t, r.CheckPlatform(Platform{Cloud: "aws", Region: "us-east-1", Plan: "Pro"}))
	es := r.CheckPlatform(Platform{Cloud: "aws", Region: "eu-west-1", Plan: "starter"})
	require.Len(t, es, 2)
	assert.Equal(t, "projectId", es[0].Field)
	assert.Contains(t, es[0].Problem, "starter plan")
	assert.Equal(t, "region", es[1].Field)
	assert.Contains(t, es[1].Problem, "eu-west-1")
	es = r.CheckPlatform(Platform{Cloud: "azure", Region: "us-east-1", Plan: "pro"})
	require.Len(t, es, 1)
	assert.Equal(t, "cloud", es[0].Field)
}

func FuzzDecodeValidate(f *testing.F) {
	seed, _ := os.ReadFile("testdata/bidirectional-aws.json")
	f.Add(seed)
	f.Add([]byte(`{"cloud":"azure","services":[{"port":-1}],"customerSubscriptions":["x"]}`))
	f.Add([]byte(`{"customerEndpointService":"com.amazonaws.vpce..vpce-svc-"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Decode(data)
		if err != nil {
			var es Errors
			if !errorsAs(err, &es) || len(es) == 0 {
				t.Fatalf("decode error is not a non-empty Errors: %v", err)
			}
			return
		}
		es := r.Validate()
		for _, e := range es {
			if e.Field == "" || e.Problem == "" || e.Fix == "" {
				t.Fatalf("incomplete field error %+v", e)
			}
		}
		_ = r.CheckPlatform(Platform{Cloud: "aws", Region: "us-east-1", Plan: "pro"})
		// Normalising twice changes nothing.
		if again := r.Normalize(); again.WorkflowID() != r.WorkflowID() || again.CustomerAccount != r.CustomerAccount {
			t.Fatalf("normalize is not idempotent")
		}
	})
}
