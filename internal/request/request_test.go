package request

import (
	"encoding/json"
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

const (
	aliUID  = "1234567890123456"
	aliSvcA = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1customer00000000a"
	aliSvcB = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1customer00000000b"
	// aliSvcShanghai is a customer service in the customer's own region
	// (cross-region access).
	aliSvcShanghai = "com.aliyuncs.privatelink.cn-shanghai.epsrv-uf6customer00000000a"
)

// validAlibaba is testdata/bidirectional-alibaba.json.
func validAlibaba() Request {
	return Request{
		Company: "Acme Corp", RequestedBy: "sam@platform.example", ProjectID: "alibaba12345a",
		Environment: "production", Cloud: "alibaba", Region: "cn-hangzhou", CustomerAccount: aliUID,
		ConnectionType:          "bidirectional",
		Services:                []Service{{Name: "mysql", Port: 3306}, {Name: "https", Port: 443}},
		CustomerEndpointService: aliSvcA,
		CustomerServicePorts:    []int{5432},
		BandwidthMbps:           200,
	}
}

// validAlibabaCrossRegion is a customer in cn-shanghai with its service
// there, linked to a platform in cn-hangzhou.
func validAlibabaCrossRegion() Request {
	r := validAlibaba()
	r.CustomerRegion, r.CustomerEndpointService = "cn-shanghai", aliSvcShanghai
	return r
}

func validAlibabaOutbound() Request {
	r := validAlibaba()
	r.ConnectionType, r.Services, r.BandwidthMbps = Outbound, nil, 0
	return r
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

func TestDecodeAlibabaExample(t *testing.T) {
	data, err := os.ReadFile("testdata/bidirectional-alibaba.json")
	require.NoError(t, err)
	r, err := Decode(data)
	require.NoError(t, err)
	assert.Equal(t, validAlibaba(), r)
	assert.Empty(t, r.Validate())
	assert.Equal(t, "privatelink/alibaba12345a/production/alibaba", r.WorkflowID())
	assert.Equal(t, []int{3306, 443}, r.Ports(), "Alibaba Cloud carries 443")
	assert.Equal(t, []string{aliUID}, r.CustomerAccounts())
	assert.Empty(t, r.CheckPlatform(Platform{Cloud: "alibaba", Region: "cn-hangzhou", Plan: "pro"}))
}

// The new fields survive a JSON round trip, are left out when unset, and
// are decoded as strictly as every other field.
func TestAlibabaFieldsJSON(t *testing.T) {
	r := validAlibabaCrossRegion()
	data, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"customerServicePorts":[5432],"bandwidthMbps":200,"customerRegion":"cn-shanghai"}`, "after customerServicePorts, camelCase")
	back, err := Decode(data)
	require.NoError(t, err)
	assert.Equal(t, r, back)
	assert.Empty(t, back.Validate())

	aws, err := json.Marshal(validAWS())
	require.NoError(t, err)
	assert.NotContains(t, string(aws), "bandwidthMbps")
	assert.NotContains(t, string(aws), "customerRegion")

	cases := []struct {
		name, json, field, problem string
	}{
		{"bandwidth wrong case", `{"cloud":"alibaba","bandwidthMBps":200}`, "bandwidthMBps", "is not a request field"},
		{"bandwidth pascal case", `{"cloud":"alibaba","BandwidthMbps":200}`, "BandwidthMbps", "is not a request field"},
		{"bandwidth snake case", `{"cloud":"alibaba","bandwidth_mbps":200}`, "bandwidth_mbps", "is not a request field"},
		{"bandwidth as string", `{"cloud":"alibaba","bandwidthMbps":"200"}`, "bandwidthMbps", "is a JSON string but must be a whole number"},
		{"bandwidth fractional", `{"cloud":"alibaba","bandwidthMbps":200.5}`, "bandwidthMbps", "is a JSON number 200.5 but must be a whole number"},
		{"customer region wrong case", `{"cloud":"alibaba","customerregion":"cn-shanghai"}`, "customerregion", "is not a request field"},
		{"customer region as list", `{"cloud":"alibaba","customerRegion":["cn-shanghai"]}`, "customerRegion", "is a JSON array but must be a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.json))
			var es Errors
			require.ErrorAs(t, err, &es)
			require.Len(t, es, 1, "%v", es)
			assert.Equal(t, c.field, es[0].Field)
			assert.Contains(t, es[0].Problem, c.problem)
			assert.NotEmpty(t, es[0].Fix)
		})
	}
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

	ali := Request{Cloud: " Alibaba ", Region: " CN-Hangzhou ", CustomerAccount: " 1234567890123456 ", CustomerRegion: " CN-Shanghai ",
		CustomerEndpointService: " " + strings.ToUpper(aliSvcA) + " "}.Normalize()
	assert.Equal(t, "alibaba", ali.Cloud)
	assert.Equal(t, "cn-hangzhou", ali.Region)
	assert.Equal(t, aliUID, ali.CustomerAccount, "a UID is trimmed")
	assert.Equal(t, "cn-shanghai", ali.CustomerRegion)
	assert.Equal(t, aliSvcA, ali.CustomerEndpointService, "Alibaba service names are lower-case")
	assert.Equal(t, []string{aliUID}, ali.CustomerAccounts())
	assert.Equal(t, ali, ali.Normalize(), "normalising twice changes nothing")
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
		{"cloud alicloud", validAlibaba, func(r *Request) { r.Cloud = "alicloud" }, "cloud", "is not the name Linkwright uses for Alibaba Cloud"},
		{"cloud aliyun", validAlibaba, func(r *Request) { r.Cloud = "aliyun" }, "cloud", "is not the name Linkwright uses for Alibaba Cloud"},
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

		// Alibaba Cloud
		{"alibaba region missing", validAlibaba, func(r *Request) { r.Region = "" }, "region", "is required"},
		{"alibaba region spaces", validAlibaba, func(r *Request) { r.Region = "cn hangzhou" }, "region", "is not an Alibaba Cloud region"},
		{"alibaba region upper case", validAlibaba, func(r *Request) { r.Region = "CN-Hangzhou" }, "region", "is not an Alibaba Cloud region"},
		{"alibaba region azure", validAlibaba, func(r *Request) { r.Region = "westeurope" }, "region", "is not an Alibaba Cloud region"},
		{"alibaba region no area", validAlibaba, func(r *Request) { r.Region = "hangzhou" }, "region", "is not an Alibaba Cloud region"},
		{"alibaba region underscore", validAlibaba, func(r *Request) { r.Region = "cn_hangzhou" }, "region", "is not an Alibaba Cloud region"},
		{"alibaba region trailing dash", validAlibaba, func(r *Request) { r.Region = "cn-hangzhou-" }, "region", "is not an Alibaba Cloud region"},
		{"alibaba account missing", validAlibaba, func(r *Request) { r.CustomerAccount = "" }, "customerAccount", "is required"},
		{"alibaba account aws", validAlibaba, func(r *Request) { r.CustomerAccount = "123456789012" }, "customerAccount", "is not an Alibaba Cloud account ID"},
		{"alibaba account 17 digits", validAlibaba, func(r *Request) { r.CustomerAccount = aliUID + "7" }, "customerAccount", "is not an Alibaba Cloud account ID"},
		{"alibaba account letters", validAlibaba, func(r *Request) { r.CustomerAccount = "12345678901234ab" }, "customerAccount", "is not an Alibaba Cloud account ID"},
		{"alibaba account dashed", validAlibaba, func(r *Request) { r.CustomerAccount = "1234-5678-9012-3456" }, "customerAccount", "is not an Alibaba Cloud account ID"},
		{"alibaba subscriptions", validAlibaba, func(r *Request) { r.CustomerSubscriptions = []string{"2234567890123456"} }, "customerSubscriptions", "is only for Azure"},
		{"alibaba ssh", validAlibaba, func(r *Request) { r.Services[0].Port = 22 }, "services[0].port", "SSH"},
		{"alibaba reverse ssh", validAlibaba, func(r *Request) { r.CustomerServicePorts = []int{22} }, "customerServicePorts[0]", "SSH"},
		{"alibaba bidi no service", validAlibaba, func(r *Request) { r.CustomerEndpointService = "" }, "customerEndpointService", "is required for a bidirectional link"},
		{"alibaba service aws", validAlibaba, func(r *Request) { r.CustomerEndpointService = awsSvcA }, "customerEndpointService", "is not an Alibaba Cloud endpoint service name"},
		{"alibaba service bare id", validAlibaba, func(r *Request) { r.CustomerEndpointService = "epsrv-bp1customer00000000a" }, "customerEndpointService", "is not an Alibaba Cloud endpoint service name"},
		{"alibaba service short id", validAlibaba, func(r *Request) {
			r.CustomerEndpointService = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1abcd"
		}, "customerEndpointService", "is not an Alibaba Cloud endpoint service name"},
		{"alibaba service long id", validAlibaba, func(r *Request) {
			r.CustomerEndpointService = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-" + strings.Repeat("a", 33)
		}, "customerEndpointService", "is not an Alibaba Cloud endpoint service name"},
		{"alibaba service id underscore", validAlibaba, func(r *Request) {
			r.CustomerEndpointService = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1_customer0000000"
		}, "customerEndpointService", "is not an Alibaba Cloud endpoint service name"},
		{"alibaba service bad region", validAlibaba, func(r *Request) {
			r.CustomerEndpointService = "com.aliyuncs.privatelink.hangzhou.epsrv-bp1customer00000000a"
		}, "customerEndpointService", "is not an Alibaba Cloud endpoint service name"},
		{"alibaba service other region", validAlibaba, func(r *Request) {
			r.CustomerEndpointService = "com.aliyuncs.privatelink.cn-beijing.epsrv-2zecustomer00000000a"
		}, "customerEndpointService", "is in region cn-beijing, not cn-hangzhou"},
		{"alibaba cross-region service in a third region", validAlibabaCrossRegion, func(r *Request) {
			r.CustomerEndpointService = "com.aliyuncs.privatelink.cn-beijing.epsrv-2zecustomer00000000a"
		}, "customerEndpointService", "is in region cn-beijing, neither the platform's region cn-hangzhou nor the customer's region cn-shanghai"},
		{"alibaba outbound service in a third region", validAlibabaOutbound, func(r *Request) {
			r.CustomerRegion = "cn-shanghai"
			r.CustomerEndpointService = "com.aliyuncs.privatelink.cn-beijing.epsrv-2zecustomer00000000a"
		}, "customerEndpointService", "neither the platform's region cn-hangzhou nor the customer's region cn-shanghai"},
		{"alibaba outbound no service", validAlibabaOutbound, func(r *Request) { r.CustomerEndpointService = "" }, "customerEndpointService", "is required for an outbound link"},

		// bandwidthMbps
		{"bandwidth on aws", validAWS, func(r *Request) { r.BandwidthMbps = 200 }, "bandwidthMbps", "is only for Alibaba Cloud"},
		{"bandwidth on azure", validAzure, func(r *Request) { r.BandwidthMbps = 200 }, "bandwidthMbps", "is only for Alibaba Cloud"},
		{"bandwidth on outbound", validAlibabaOutbound, func(r *Request) { r.BandwidthMbps = 200 }, "bandwidthMbps", "is not used by an outbound link"},
		{"bandwidth too low", validAlibaba, func(r *Request) { r.BandwidthMbps = 99 }, "bandwidthMbps", "is not a bandwidth Alibaba Cloud PrivateLink allows (100 to 50000 Mbps)"},
		{"bandwidth too high", validAlibaba, func(r *Request) { r.BandwidthMbps = 50001 }, "bandwidthMbps", "is not a bandwidth Alibaba Cloud PrivateLink allows"},
		{"bandwidth negative", validAlibaba, func(r *Request) { r.BandwidthMbps = -100 }, "bandwidthMbps", "is not a bandwidth Alibaba Cloud PrivateLink allows"},

		// customerRegion
		{"customer region on aws", validAWS, func(r *Request) { r.CustomerRegion = "us-west-2" }, "customerRegion", "is only for Alibaba Cloud"},
		{"customer region on azure", validAzure, func(r *Request) { r.CustomerRegion = "northeurope" }, "customerRegion", "is only for Alibaba Cloud"},
		{"customer region bad", validAlibaba, func(r *Request) { r.CustomerRegion = "shanghai" }, "customerRegion", "is not an Alibaba Cloud region"},
		{"customer region spaces", validAlibaba, func(r *Request) { r.CustomerRegion = "cn shanghai" }, "customerRegion", "is not an Alibaba Cloud region"},
		{"customer region is the platform's", validAlibaba, func(r *Request) { r.CustomerRegion = "cn-hangzhou" }, "customerRegion", "is the platform's region too"},
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

func TestValidateAcceptsGoodAlibabaVariants(t *testing.T) {
	good := []struct {
		name   string
		base   func() Request
		mutate func(*Request)
	}{
		{"the fixture", validAlibaba, func(*Request) {}},
		{"443 reached by the customer", validAlibaba, func(r *Request) { r.Services = []Service{{Name: "https", Port: 443}} }},
		{"443 on the customer's service", validAlibaba, func(r *Request) { r.CustomerServicePorts = []int{443} }},
		{"no bandwidth: the service's default", validAlibaba, func(r *Request) { r.BandwidthMbps = 0 }},
		{"lowest bandwidth", validAlibaba, func(r *Request) { r.BandwidthMbps = 100 }},
		{"highest bandwidth (NLB)", validAlibaba, func(r *Request) { r.BandwidthMbps = 50000 }},
		{"unidirectional", validAlibaba, func(r *Request) {
			r.ConnectionType, r.CustomerEndpointService, r.CustomerServicePorts = Unidirectional, "", nil
		}},
		{"unidirectional cross-region", validAlibaba, func(r *Request) {
			r.ConnectionType, r.CustomerEndpointService, r.CustomerServicePorts, r.CustomerRegion = Unidirectional, "", nil, "cn-shanghai"
		}},
		{"cross-region, the customer's service in the customer's region", validAlibabaCrossRegion, func(*Request) {}},
		{"cross-region, the customer's service in the platform's region", validAlibabaCrossRegion, func(r *Request) { r.CustomerEndpointService = aliSvcA }},
		{"outbound", validAlibabaOutbound, func(*Request) {}},
		{"outbound cross-region", validAlibabaOutbound, func(r *Request) { r.CustomerRegion, r.CustomerEndpointService = "cn-shanghai", aliSvcShanghai }},
		{"shortest service id", validAlibaba, func(r *Request) { r.CustomerEndpointService = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1abcde" }},
		{"longest service id", validAlibaba, func(r *Request) {
			r.CustomerEndpointService = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-" + strings.Repeat("a1", 16)
		}},
		{"real service id", validAlibaba, func(r *Request) {
			r.CustomerEndpointService = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1gvcvqgxlnq7hm7u2p"
		}},
		{"staging with a ticket", validAlibaba, func(r *Request) { r.Environment, r.Ticket = "staging", "PL-0042" }},
	}
	for _, g := range good {
		t.Run(g.name, func(t *testing.T) {
			r := g.base()
			g.mutate(&r)
			assert.Empty(t, r.Validate())
		})
	}
	for _, region := range []string{"cn-hangzhou", "cn-shanghai", "cn-hongkong", "cn-beijing", "cn-zhangjiakou", "ap-southeast-1",
		"ap-southeast-5", "ap-northeast-1", "eu-central-1", "eu-west-1", "us-east-1", "us-west-1", "me-east-1", "me-central-1",
		"cn-shanghai-finance-1", "cn-shenzhen-finance-1", "cn-hangzhou-finance", "cn-north-2-gov-1", "cn-wuhan-lr"} {
		r := validAlibaba()
		r.Region = region
		r.CustomerEndpointService = strings.Replace(aliSvcA, "cn-hangzhou", region, 1)
		assert.Empty(t, r.Validate(), region)
	}
}

// An Alibaba request names its problems like an AWS or Azure one: every
// one at once, field by field, with fixes that say what to write.
func TestValidateAlibabaReportsEverythingAtOnce(t *testing.T) {
	r, err := Decode([]byte(`{"company":"Acme Corp","requestedBy":"sam@platform.example","projectId":"alibaba12345a","environment":"production",
		"cloud":"alibaba","region":"cn-hangzhou","customerAccount":"123456789012","customerSubscriptions":["2234567890123456"],
		"connectionType":"bidirectional","services":[{"name":"ssh","port":22},{"name":"https","port":443}],
		"customerEndpointService":"com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0","customerServicePorts":[5432],
		"bandwidthMbps":60000,"customerRegion":"cn-hangzhou"}`))
	require.NoError(t, err)
	es := r.Validate()
	assert.Equal(t, []string{"customerAccount", "customerSubscriptions", "services[0].port", "customerEndpointService", "customerRegion", "bandwidthMbps"}, fields(es), "%v", es)
	for _, e := range es {
		assert.NotEmpty(t, e.Fix)
	}
	byField := map[string]FieldError{}
	for _, e := range es {
		byField[e.Field] = e
	}
	assert.Contains(t, byField["customerAccount"].Fix, "16-digit")
	assert.Contains(t, byField["customerAccount"].Fix, "Account ID")
	assert.Contains(t, byField["customerAccount"].Fix, "Security Settings")
	assert.Contains(t, byField["customerEndpointService"].Fix, "com.aliyuncs.privatelink.<region>.epsrv-<id>")
	assert.Contains(t, byField["customerRegion"].Fix, "remove it: the customer is in the platform's region")
	assert.Contains(t, byField["bandwidthMbps"].Fix, "an ALB service allows 100-25000 and a CLB service 100-10240")
}

// The fixes say what to write, with Alibaba's own examples.
func TestValidateAlibabaFixes(t *testing.T) {
	one := func(r Request) FieldError {
		t.Helper()
		es := r.Validate()
		require.Len(t, es, 1, "%v", es)
		return es[0]
	}
	r := validAlibaba()
	r.Cloud = "aliyun"
	e := one(r)
	assert.Equal(t, `cloud "aliyun" is not the name Linkwright uses for Alibaba Cloud: write "alibaba"; the cloud is part of the link's workflow ID (privatelink/<projectId>/<environment>/alibaba)`, e.String())

	r = validAlibaba()
	r.Cloud = "gcp"
	assert.Equal(t, `use "aws", "azure" or "alibaba"`, one(r).Fix)
	r.Cloud = ""
	assert.Equal(t, `set "aws", "azure" or "alibaba", the cloud of the platform environment`, one(r).Fix)

	r = validAlibaba()
	r.Region = "Hangzhou"
	assert.Equal(t, `region "Hangzhou" is not an Alibaba Cloud region: use a region ID such as cn-hangzhou, cn-shanghai, ap-southeast-1 or eu-central-1, in lower case and without spaces`, one(r).String())

	r = validAlibaba()
	r.CustomerAccount = "123456789012"
	assert.Equal(t, `customerAccount "123456789012" is not an Alibaba Cloud account ID: use the customer's 16-digit account UID, e.g. 1234567890123456; the console shows it as Account ID under the account's Security Settings (or in the profile menu)`, one(r).String())

	r = validAlibaba()
	r.CustomerEndpointService = ""
	r.Region = "cn-shanghai"
	assert.Equal(t, "set the customer's endpoint service name, e.g. com.aliyuncs.privatelink.cn-shanghai.epsrv-bp1gvcvqgxlnq7hm7u2p", one(r).Fix)

	r = validAlibaba()
	r.CustomerEndpointService = "com.aliyuncs.privatelink.cn-beijing.epsrv-2zecustomer00000000a"
	assert.Equal(t, `customerEndpointService "com.aliyuncs.privatelink.cn-beijing.epsrv-2zecustomer00000000a" is in region cn-beijing, not cn-hangzhou: the customer's endpoint service must be in the platform's region, or in customerRegion when the customer connects from another region; ask for a service in cn-hangzhou`, one(r).String())

	r = validAlibabaCrossRegion()
	r.CustomerEndpointService = "com.aliyuncs.privatelink.cn-beijing.epsrv-2zecustomer00000000a"
	assert.Equal(t, "ask for a service in cn-hangzhou or cn-shanghai", one(r).Fix)

	r = validAWS()
	r.BandwidthMbps = 200
	assert.Equal(t, `bandwidthMbps "200" is only for Alibaba Cloud: remove it; AWS does not limit a connection's bandwidth`, one(r).String())

	r = validAlibabaOutbound()
	r.BandwidthMbps = 200
	assert.Equal(t, `bandwidthMbps "200" is not used by an outbound link: nothing of the customer's connects to the platform: remove it; it limits the customer's connections to the platform's service`, one(r).String())

	r = validAlibaba()
	r.BandwidthMbps = 60000
	assert.Equal(t, `bandwidthMbps "60000" is not a bandwidth Alibaba Cloud PrivateLink allows (100 to 50000 Mbps): use 100 to 50000 Mbps (an NLB service's range; an ALB service allows 100-25000 and a CLB service 100-10240, checked when the connection is accepted), or remove it for the service's default`, one(r).String())

	r = validAzure()
	r.CustomerRegion = "northeurope"
	assert.Equal(t, `customerRegion "northeurope" is only for Alibaba Cloud: remove it; on Azure the customer connects from the platform's region`, one(r).String())

	r = validAlibaba()
	r.CustomerRegion = "cn-hangzhou"
	assert.Equal(t, `customerRegion "cn-hangzhou" is the platform's region too: remove it: the customer is in the platform's region`, one(r).String())
}

// validAWS with cloud alibaba is an Alibaba request with AWS values: the
// cloud is fine, and each value that is not Alibaba's is named.
func TestValidateAWSValuesOnAlibaba(t *testing.T) {
	r := validAWS()
	r.Cloud = "alibaba"
	es := r.Validate()
	assert.Equal(t, []string{"customerAccount", "customerEndpointService"}, fields(es), "us-east-1 is an Alibaba region too; %v", es)
	assert.Contains(t, es[0].Problem, "is not an Alibaba Cloud account ID")
	assert.Contains(t, es[1].Problem, "is not an Alibaba Cloud endpoint service name")
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
	assert.Empty(t, r.CheckPlatform(Platform{Cloud: "aws", Region: "us-east-1", Plan: "pro", Regions: []string{"us-west-2"}}),
		"supported regions matter only to a request with customerRegion")
}

func TestCheckPlatformAlibaba(t *testing.T) {
	hz := Platform{Cloud: "alibaba", Region: "cn-hangzhou", Plan: "pro"}
	assert.Empty(t, validAlibaba().CheckPlatform(hz), "no customerRegion: no supported regions needed")
	withRegions := hz
	withRegions.Regions = []string{"cn-beijing", "CN-Shanghai"}
	assert.Empty(t, validAlibaba().CheckPlatform(withRegions))
	assert.Empty(t, validAlibabaCrossRegion().CheckPlatform(withRegions), "cn-shanghai is a supported region")

	es := validAlibabaCrossRegion().CheckPlatform(hz)
	require.Len(t, es, 1, "%v", es)
	assert.Equal(t, `customerRegion "cn-shanghai" is not a region the platform's endpoint service accepts connections from: `+
		`the service accepts connections from these other regions: none; ask the platform team to add cn-shanghai to the service's supported regions, or have the customer connect from cn-hangzhou`, es[0].String())

	only := hz
	only.Regions = []string{"cn-beijing", "cn-shenzhen"}
	es = validAlibabaCrossRegion().CheckPlatform(only)
	require.Len(t, es, 1, "%v", es)
	assert.Equal(t, "customerRegion", es[0].Field)
	assert.Contains(t, es[0].Fix, "these other regions: cn-beijing, cn-shenzhen;")

	// Nothing of the customer's connects to the platform on an outbound
	// link: the platform's supported regions do not matter.
	out := validAlibabaOutbound()
	out.CustomerRegion, out.CustomerEndpointService = "cn-shanghai", aliSvcShanghai
	require.Empty(t, out.Validate())
	assert.Empty(t, out.CheckPlatform(hz))

	// The region rule is unchanged, and reported with the others.
	es = validAlibabaCrossRegion().CheckPlatform(Platform{Cloud: "alibaba", Region: "cn-beijing", Plan: "starter"})
	assert.Equal(t, []string{"projectId", "region", "customerRegion"}, fields(es), "%v", es)
	assert.Contains(t, es[1].Problem, "which runs in cn-beijing")
	assert.Contains(t, es[2].Fix, "connect from cn-beijing")
	es = validAlibaba().CheckPlatform(Platform{Cloud: "aws", Region: "cn-hangzhou", Plan: "pro"})
	require.Len(t, es, 1)
	assert.Equal(t, "cloud", es[0].Field)
}

func FuzzDecodeValidate(f *testing.F) {
	seed, _ := os.ReadFile("testdata/bidirectional-aws.json")
	f.Add(seed)
	f.Add([]byte(`{"cloud":"azure","services":[{"port":-1}],"customerSubscriptions":["x"]}`))
	f.Add([]byte(`{"customerEndpointService":"com.amazonaws.vpce..vpce-svc-"}`))
	f.Add([]byte(`null`))
	ali, _ := os.ReadFile("testdata/bidirectional-alibaba.json")
	f.Add(ali)
	f.Add([]byte(`{"cloud":"alibaba","region":"cn-hangzhou","customerRegion":"cn-hangzhou","bandwidthMbps":-1,"connectionType":"outbound",` +
		`"customerEndpointService":"com.aliyuncs.privatelink.cn-shanghai.epsrv-"}`))
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
		_ = r.CheckPlatform(Platform{Cloud: "alibaba", Region: "cn-hangzhou", Plan: "pro", Regions: []string{"cn-shanghai"}})
		// Normalising twice changes nothing.
		if again := r.Normalize(); again.WorkflowID() != r.WorkflowID() || again.CustomerAccount != r.CustomerAccount ||
			again.CustomerEndpointService != r.CustomerEndpointService || again.CustomerRegion != r.CustomerRegion {
			t.Fatalf("normalize is not idempotent")
		}
	})
}
