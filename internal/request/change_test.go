package request

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	awsSvcA  = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
	awsSvcB  = "com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210"
	azSub1   = "00000000-1111-2222-3333-444444444444"
	azSub2   = "00000000-1111-2222-3333-555555555555"
	azSub3   = "00000000-1111-2222-3333-666666666666"
	azSvcID  = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-1/providers/Microsoft.Network/privateLinkServices/pls-orders"
	azAlias  = "pls-cache.00000000-1111-2222-3333-444444444444.westeurope.azure.privatelinkservice"
	exChange = `{
  "requestedBy": "sam@platform.example",
  "reason": "the customer adds RabbitMQ and moves to a new account",
  "addServices": [{"name": "amqp", "port": 5672}],
  "removePorts": [2222],
  "replaceCustomerAccount": "210000000099",
  "addCustomerServices": [{"service": "com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210", "ports": [6379]}],
  "removeCustomerServices": ["com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"],
  "dryRun": false
}`
)

// awsLink is the link of the README's example request, live.
func awsLink() Link {
	return Link{Cloud: "aws", Region: "us-east-1", Ports: []int{3306, 2222}, Accounts: []string{"123456789012"}, CustomerServices: []string{awsSvcA}}
}

func outboundLink() Link {
	return Link{ConnectionType: Outbound, Cloud: "aws", Region: "us-east-1", CustomerServices: []string{awsSvcA}}
}

// An outbound link has no platform ports or allowed accounts to change;
// its customer services change as on any link, on every cloud.
func TestChangeValidateOutbound(t *testing.T) {
	ch := Change{RequestedBy: "sam@platform.example", Reason: "more", AddServices: []Service{{Name: "amqp", Port: 5672}},
		ReplaceCustomerAccount: "210987654321"}
	es := ch.Validate(outboundLink())
	var fields []string
	for _, e := range es {
		fields = append(fields, e.Field)
		assert.NotEmpty(t, e.Fix)
	}
	assert.ElementsMatch(t, []string{"addServices", "replaceCustomerAccount"}, fields, "%v", es)
	assert.Contains(t, es.Error(), "is not used by an outbound link: nothing reaches the platform")

	rm := Change{RequestedBy: "sam@platform.example", Reason: "retired", RemoveCustomerServices: []string{awsSvcA}}
	es = rm.Validate(outboundLink())
	require.Len(t, es, 1)
	assert.Equal(t, "removeCustomerServices", es[0].Field)
	assert.Contains(t, es[0].Problem, "would leave the outbound link reaching nothing")
	two := outboundLink()
	two.CustomerServices = append(two.CustomerServices, "com.amazonaws.vpce.us-east-1.vpce-svc-0aaaabbbbccccdddd")
	assert.Empty(t, rm.Validate(two), "removing one of two services is a change")
	add := Change{RequestedBy: "sam@platform.example", Reason: "another", AddCustomerServices: []CustomerService{{Service: "com.amazonaws.vpce.us-east-1.vpce-svc-0aaaabbbbccccdddd", Ports: []int{6379}}}}
	assert.Empty(t, add.Validate(outboundLink()))

	aliOut := Link{ConnectionType: Outbound, Cloud: "alibaba", Region: "cn-hangzhou", CustomerServices: []string{aliSvcA}}
	es = Change{RequestedBy: "sam@platform.example", Reason: "more", AddServices: []Service{{Name: "amqp", Port: 5672}},
		ReplaceCustomerAccount: "2234567890123456"}.Validate(aliOut)
	fields = nil
	for _, e := range es {
		fields = append(fields, e.Field)
	}
	assert.ElementsMatch(t, []string{"addServices", "replaceCustomerAccount"}, fields, "%v", es)
	assert.Empty(t, Change{RequestedBy: "sam@platform.example", Reason: "another", AddCustomerServices: []CustomerService{{Service: aliSvcB, Ports: []int{443}}}}.Validate(aliOut))
}

func TestChangeValidateAlibabaFixes(t *testing.T) {
	one := func(c Change, link Link) FieldError {
		t.Helper()
		es := c.Validate(link)
		require.Len(t, es, 1, "%v", es)
		return es[0]
	}
	c := validAlibabaChange()
	c.ReplaceCustomerSubscriptions = []string{"3234567890123456"}
	assert.Equal(t, "remove it; on Alibaba Cloud the link is for one account: set replaceCustomerAccount", one(c, alibabaLink()).Fix)

	c = validAlibabaChange()
	c.AddCustomerServices[0].Service = ""
	assert.Equal(t, "name the customer's endpoint service, e.g. com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1gvcvqgxlnq7hm7u2p", one(c, alibabaLink()).Fix)

	c = validAlibabaChange()
	c.ReplaceCustomerAccount = "12345"
	assert.Contains(t, one(c, alibabaLink()).Fix, "16-digit account UID")
}

func alibabaLink() Link {
	return Link{Cloud: "alibaba", Region: "cn-hangzhou", Ports: []int{3306, 443}, Accounts: []string{aliUID}, CustomerServices: []string{aliSvcA}}
}

// alibabaCrossRegionLink is alibabaLink with its customer in cn-shanghai.
func alibabaCrossRegionLink() Link {
	l := alibabaLink()
	l.CustomerRegion = "cn-shanghai"
	return l
}

func validAlibabaChange() Change {
	return Change{
		RequestedBy: "sam@platform.example", Reason: "the customer adds RabbitMQ and moves to a new account",
		AddServices:            []Service{{Name: "amqp", Port: 5672}},
		ReplaceCustomerAccount: "2234567890123456",
		AddCustomerServices:    []CustomerService{{Service: aliSvcB, Ports: []int{6379}}},
		RemoveCustomerServices: []string{aliSvcA},
	}
}

func azureLink() Link {
	return Link{Cloud: "azure", Region: "westeurope", Ports: []int{5432}, Accounts: []string{azSub1}, CustomerServices: []string{azSvcID}}
}

// validAWSChange is the DESIGN.md example: valid on awsLink.
func validAWSChange() Change {
	return Change{
		RequestedBy: "sam@platform.example", Reason: "the customer adds RabbitMQ and moves to a new account",
		AddServices: []Service{{Name: "amqp", Port: 5672}}, RemovePorts: []int{2222},
		ReplaceCustomerAccount: "210000000099",
		AddCustomerServices:    []CustomerService{{Service: awsSvcB, Ports: []int{6379}}},
		RemoveCustomerServices: []string{awsSvcA},
	}
}

func validAzureChange() Change {
	return Change{
		RequestedBy: "ops@platform.example", Reason: "the customer moves subscriptions and adds a cache",
		AddServices:                  []Service{{Name: "redis", Port: 6379}},
		ReplaceCustomerAccount:       azSub2,
		ReplaceCustomerSubscriptions: []string{azSub3},
		AddCustomerServices:          []CustomerService{{Service: azAlias, Ports: []int{6380}}},
	}
}

func fields(es Errors) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Field
	}
	return out
}

func TestDecodeChangeExample(t *testing.T) {
	c, err := DecodeChange([]byte(exChange))
	require.NoError(t, err)
	assert.Equal(t, validAWSChange(), c)
	assert.Empty(t, c.Validate(awsLink()))
	assert.Equal(t, "add port 5672 (amqp); remove port 2222; replace the customer account with 210000000099; "+
		"add reverse connection to "+awsSvcB+" on port 6379; remove reverse connection to "+awsSvcA, c.Summary())
}

func TestDecodeChangeStrict(t *testing.T) {
	cases := []struct {
		name, json, field, problem, fix string
	}{
		{"empty", " \n", "change", "is empty", "a change request as JSON"},
		{"unknown field", `{"requestedBy":"a","ports":[1]}`, "ports", "is not a change request field", "case-sensitive"},
		{"wrong case", `{"RequestedBy":"a"}`, "RequestedBy", "is not a change request field", `did you mean "requestedBy"?`},
		{"misspelt", `{"removePort":[2222]}`, "removePort", "is not a change request field", `did you mean "removePorts"?`},
		{"misspelt dry run", `{"dry_run":true}`, "dry_run", "is not a change request field", `did you mean "dryRun"?`},
		{"nested service field", `{"addServices":[{"name":"amqp","port":5672,"Proto":"tcp"}]}`, "addServices[0].Proto", "is not a change request field", "case-sensitive"},
		{"nested wrong case", `{"addServices":[{"name":"a","port":1},{"Name":"amqp","port":5672}]}`, "addServices[1].Name", "is not a change request field", `did you mean "name"?`},
		{"customer service field", `{"addCustomerServices":[{"service":"x","port":[1]}]}`, "addCustomerServices[0].port", "is not a change request field", `did you mean "ports"?`},
		{"wrong type", `{"removePorts":["2222"]}`, "removePorts", "is a JSON string but must be a whole number", "README"},
		{"nested wrong type", `{"addServices":[{"name":"a","port":"1"}]}`, "addServices.port", "is a JSON string but must be a whole number", "README"},
		{"string for list", `{"removeCustomerServices":"x"}`, "removeCustomerServices", "is a JSON string but must be a list", "README"},
		{"bool", `{"dryRun":"yes"}`, "dryRun", "must be true or false", "README"},
		{"syntax", `{"reason":`, "change", "not valid JSON", "close every"},
		{"trailing", `{"reason":"x"} {}`, "change", "data after", "exactly one"},
		{"not an object", `["x"]`, "change", "is a JSON array but must be an object", "README"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeChange([]byte(c.json))
			var es Errors
			require.ErrorAs(t, err, &es)
			require.Len(t, es, 1, "%v", es)
			assert.Equal(t, c.field, es[0].Field)
			assert.Contains(t, es[0].Problem, c.problem)
			assert.Contains(t, es[0].Fix, c.fix)
		})
	}
}

func TestDecodeChangeReportsEveryUnknownFieldWithTypeError(t *testing.T) {
	_, err := DecodeChange([]byte(`{"removePorts": "2222", "Reason": "x", "addServices": [{"nam": "a", "port": 1}]}`))
	var es Errors
	require.ErrorAs(t, err, &es)
	assert.Equal(t, []string{"removePorts", "Reason", "addServices[0].nam"}, fields(es))
}

func TestDecodeChangeNormalizes(t *testing.T) {
	c, err := DecodeChange([]byte(`{"requestedBy": " Sam@Platform.Example ", "reason": " why ",
		"addServices": [{"name": " AMQP ", "port": 5672}], "replaceCustomerAccount": " 2100-0000-0099 "}`))
	require.NoError(t, err)
	assert.Equal(t, Change{RequestedBy: "sam@platform.example", Reason: "why", AddServices: []Service{{Name: "amqp", Port: 5672}},
		ReplaceCustomerAccount: "2100-0000-0099"}, c, "what needs no cloud is normalised; the account waits for the link's cloud")
}

func TestChangeNormalize(t *testing.T) {
	raw := Change{
		RequestedBy: " Sam@Platform.Example ", Reason: "  why ",
		AddServices:            []Service{{Name: " AMQP ", Port: 5672}},
		ReplaceCustomerAccount: " 2100-0000-0099 ",
		AddCustomerServices:    []CustomerService{{Service: " " + strings.ToUpper(awsSvcB) + " ", Ports: []int{6379}}},
		RemoveCustomerServices: []string{strings.ToUpper(awsSvcA)},
	}
	c := raw.Normalize("AWS")
	assert.Equal(t, "sam@platform.example", c.RequestedBy)
	assert.Equal(t, "why", c.Reason)
	assert.Equal(t, "amqp", c.AddServices[0].Name)
	assert.Equal(t, "210000000099", c.ReplaceCustomerAccount)
	assert.Equal(t, awsSvcB, c.AddCustomerServices[0].Service)
	assert.Equal(t, awsSvcA, c.RemoveCustomerServices[0])
	assert.Equal(t, c, c.Normalize("aws"), "normalising twice changes nothing")
	assert.Equal(t, " AMQP ", raw.AddServices[0].Name, "the original is left alone")

	// Without a cloud, only what needs none; Validate normalises for the link.
	d := raw.Normalize("")
	assert.Equal(t, "2100-0000-0099", d.ReplaceCustomerAccount)
	assert.Empty(t, d.Validate(awsLink()), "dashed account and upper-case service names are valid on AWS")

	az := Change{ReplaceCustomerAccount: strings.ToUpper(azSub2), ReplaceCustomerSubscriptions: []string{" " + strings.ToUpper(azSub3)},
		RemoveCustomerServices: []string{" " + azSvcID + " "}}.Normalize("azure")
	assert.Equal(t, azSub2, az.ReplaceCustomerAccount)
	assert.Equal(t, []string{azSub3}, az.ReplaceCustomerSubscriptions)
	assert.Equal(t, azSvcID, az.RemoveCustomerServices[0], "Azure resource IDs keep their case")

	ali := Change{ReplaceCustomerAccount: " 2234567890123456 ", AddCustomerServices: []CustomerService{{Service: " " + strings.ToUpper(aliSvcB), Ports: []int{6379}}},
		RemoveCustomerServices: []string{strings.ToUpper(aliSvcA) + " "}}.Normalize(" Alibaba ")
	assert.Equal(t, "2234567890123456", ali.ReplaceCustomerAccount, "a UID is trimmed")
	assert.Equal(t, aliSvcB, ali.AddCustomerServices[0].Service, "Alibaba service names are lower-case")
	assert.Equal(t, aliSvcA, ali.RemoveCustomerServices[0])
	assert.Equal(t, ali, ali.Normalize("alibaba"), "normalising twice changes nothing")
}

func TestChangeValidateRules(t *testing.T) {
	cases := []struct {
		name    string
		base    func() Change
		link    func() Link
		mutate  func(*Change)
		field   string
		problem string
	}{
		{"requester missing", validAWSChange, awsLink, func(c *Change) { c.RequestedBy = " " }, "requestedBy", "is required"},
		{"requester spaces", validAWSChange, awsLink, func(c *Change) { c.RequestedBy = "sam smith" }, "requestedBy", "contains spaces"},
		{"reason missing", validAWSChange, awsLink, func(c *Change) { c.Reason = "" }, "reason", "is required"},
		{"nothing asked", validAWSChange, awsLink, func(c *Change) { *c = Change{RequestedBy: c.RequestedBy, Reason: c.Reason, DryRun: true} }, "change", "asks for no change"},

		// addServices
		{"service name missing", validAWSChange, awsLink, func(c *Change) { c.AddServices[0].Name = "" }, "addServices[0].name", "is required"},
		{"service name bad", validAWSChange, awsLink, func(c *Change) { c.AddServices[0].Name = "rabbit_mq" }, "addServices[0].name", "not a service name"},
		{"service name twice", validAWSChange, awsLink, func(c *Change) { c.AddServices = append(c.AddServices, Service{Name: "amqp", Port: 5673}) }, "addServices[1].name", "listed twice"},
		{"port zero", validAWSChange, awsLink, func(c *Change) { c.AddServices[0].Port = 0 }, "addServices[0].port", "not a TCP port"},
		{"port too big", validAWSChange, awsLink, func(c *Change) { c.AddServices[0].Port = 65536 }, "addServices[0].port", "not a TCP port"},
		{"ssh", validAWSChange, awsLink, func(c *Change) { c.AddServices[0].Port = 22 }, "addServices[0].port", "SSH"},
		{"https on azure", validAzureChange, azureLink, func(c *Change) { c.AddServices[0].Port = 443 }, "addServices[0].port", "HTTPS"},
		{"port twice", validAWSChange, awsLink, func(c *Change) { c.AddServices = append(c.AddServices, Service{Name: "amqps", Port: 5672}) }, "addServices[1].port", "listed twice"},
		{"port already open", validAWSChange, awsLink, func(c *Change) { c.AddServices[0].Port = 3306 }, "addServices[0].port", "already open"},

		// removePorts
		{"remove port not open", validAWSChange, awsLink, func(c *Change) { c.RemovePorts = []int{5432} }, "removePorts[0]", "not open on the link"},
		{"remove port twice", validAWSChange, awsLink, func(c *Change) { c.RemovePorts = []int{2222, 2222} }, "removePorts[1]", "listed twice"},
		{"remove every port", validAWSChange, awsLink, func(c *Change) { c.AddServices = nil; c.RemovePorts = []int{3306, 2222} }, "removePorts", "would close every port"},
		{"port added and removed", validAWSChange, awsLink, func(c *Change) { c.RemovePorts = []int{2222, 5672} }, "removePorts[1]", "also in addServices"},
		{"open port added and removed", validAWSChange, awsLink, func(c *Change) { c.AddServices[0].Port = 2222 }, "removePorts[0]", "also in addServices"},

		// accounts
		{"aws account bad", validAWSChange, awsLink, func(c *Change) { c.ReplaceCustomerAccount = "21000000009" }, "replaceCustomerAccount", "not an AWS account ID"},
		{"aws account unchanged", validAWSChange, awsLink, func(c *Change) { c.ReplaceCustomerAccount = "1234-5678-9012" }, "replaceCustomerAccount", "already allowed"},
		{"aws subscriptions", validAWSChange, awsLink, func(c *Change) { c.ReplaceCustomerSubscriptions = []string{azSub3} }, "replaceCustomerSubscriptions", "only for Azure"},
		{"azure account bad", validAzureChange, azureLink, func(c *Change) { c.ReplaceCustomerAccount = "210000000099" }, "replaceCustomerAccount", "not an Azure subscription ID"},
		{"azure account unchanged", validAzureChange, azureLink, func(c *Change) { c.ReplaceCustomerAccount = strings.ToUpper(azSub1) }, "replaceCustomerAccount", "already allowed"},
		{"azure extra account unchanged", validAzureChange, func() Link { l := azureLink(); l.Accounts = append(l.Accounts, azSub3); return l },
			func(c *Change) { c.ReplaceCustomerAccount = azSub3 }, "replaceCustomerAccount", "already allowed"},
		{"subscriptions without account", validAzureChange, azureLink, func(c *Change) { c.ReplaceCustomerAccount = "" }, "replaceCustomerSubscriptions", "needs replaceCustomerAccount"},
		{"subscription bad", validAzureChange, azureLink, func(c *Change) { c.ReplaceCustomerSubscriptions = []string{"nope"} }, "replaceCustomerSubscriptions[0]", "not an Azure subscription ID"},
		{"subscription twice", validAzureChange, azureLink, func(c *Change) { c.ReplaceCustomerSubscriptions = []string{azSub3, azSub3} }, "replaceCustomerSubscriptions[1]", "listed twice"},

		// addCustomerServices
		{"customer service missing", validAWSChange, awsLink, func(c *Change) { c.AddCustomerServices[0].Service = "" }, "addCustomerServices[0].service", "is required"},
		{"customer service bad aws", validAWSChange, awsLink, func(c *Change) { c.AddCustomerServices[0].Service = "vpce-svc-0fedcba9876543210" }, "addCustomerServices[0].service", "not an AWS endpoint service name"},
		{"customer service other region", validAWSChange, awsLink, func(c *Change) {
			c.AddCustomerServices[0].Service = "com.amazonaws.vpce.eu-west-1.vpce-svc-0fedcba9876543210"
		}, "addCustomerServices[0].service", "is in region eu-west-1"},
		{"customer service bad azure", validAzureChange, azureLink, func(c *Change) { c.AddCustomerServices[0].Service = "pls-cache" }, "addCustomerServices[0].service", "not an Azure Private Link service"},
		{"customer alias other region", validAzureChange, azureLink, func(c *Change) {
			c.AddCustomerServices[0].Service = strings.Replace(azAlias, "westeurope", "eastus", 1)
		}, "addCustomerServices[0].service", "is in region eastus"},
		{"customer service on the link", validAWSChange, awsLink, func(c *Change) {
			c.RemoveCustomerServices = nil
			c.AddCustomerServices[0].Service = strings.ToUpper(awsSvcA)
		}, "addCustomerServices[0].service", "already a reverse connection"},
		{"azure customer service on the link", validAzureChange, azureLink, func(c *Change) {
			c.AddCustomerServices[0].Service = strings.ToLower(azSvcID)
		}, "addCustomerServices[0].service", "already a reverse connection"},
		{"customer service twice", validAWSChange, awsLink, func(c *Change) {
			c.AddCustomerServices = append(c.AddCustomerServices, CustomerService{Service: awsSvcB, Ports: []int{6380}})
		}, "addCustomerServices[1].service", "listed twice"},
		{"customer ports missing", validAWSChange, awsLink, func(c *Change) { c.AddCustomerServices[0].Ports = nil }, "addCustomerServices[0].ports", "is required"},
		{"customer port ssh", validAWSChange, awsLink, func(c *Change) { c.AddCustomerServices[0].Ports = []int{6379, 22} }, "addCustomerServices[0].ports[1]", "SSH"},
		{"customer port bad", validAWSChange, awsLink, func(c *Change) { c.AddCustomerServices[0].Ports = []int{-1} }, "addCustomerServices[0].ports[0]", "not a TCP port"},
		{"customer port twice", validAWSChange, awsLink, func(c *Change) { c.AddCustomerServices[0].Ports = []int{6379, 6379} }, "addCustomerServices[0].ports[1]", "listed twice"},
		{"customer port https azure", validAzureChange, azureLink, func(c *Change) { c.AddCustomerServices[0].Ports = []int{443} }, "addCustomerServices[0].ports[0]", "HTTPS"},

		// removeCustomerServices
		{"remove unknown customer service", validAWSChange, awsLink, func(c *Change) { c.RemoveCustomerServices = []string{awsSvcB[:len(awsSvcB)-1] + "1"} }, "removeCustomerServices[0]", "not a reverse connection"},
		{"remove empty customer service", validAWSChange, awsLink, func(c *Change) { c.RemoveCustomerServices = []string{""} }, "removeCustomerServices[0]", "is empty"},
		{"remove customer service twice", validAWSChange, awsLink, func(c *Change) { c.RemoveCustomerServices = []string{awsSvcA, awsSvcA} }, "removeCustomerServices[1]", "listed twice"},
		{"customer service added and removed", validAWSChange, awsLink, func(c *Change) { c.RemoveCustomerServices = []string{awsSvcA, awsSvcB} }, "removeCustomerServices[1]", "also in addCustomerServices"},
		{"linked customer service added and removed", validAWSChange, awsLink, func(c *Change) { c.AddCustomerServices[0].Service = awsSvcA }, "removeCustomerServices[0]", "also in addCustomerServices"},

		// Alibaba Cloud
		{"alibaba ssh", validAlibabaChange, alibabaLink, func(c *Change) { c.AddServices[0].Port = 22 }, "addServices[0].port", "SSH"},
		{"alibaba port already open", validAlibabaChange, alibabaLink, func(c *Change) { c.AddServices[0].Port = 443 }, "addServices[0].port", "already open"},
		{"alibaba account aws", validAlibabaChange, alibabaLink, func(c *Change) { c.ReplaceCustomerAccount = "210000000099" }, "replaceCustomerAccount", "is not an Alibaba Cloud account ID"},
		{"alibaba account azure", validAlibabaChange, alibabaLink, func(c *Change) { c.ReplaceCustomerAccount = azSub2 }, "replaceCustomerAccount", "is not an Alibaba Cloud account ID"},
		{"alibaba account unchanged", validAlibabaChange, alibabaLink, func(c *Change) { c.ReplaceCustomerAccount = " " + aliUID + " " }, "replaceCustomerAccount", "already allowed"},
		{"alibaba subscriptions", validAlibabaChange, alibabaLink, func(c *Change) { c.ReplaceCustomerSubscriptions = []string{"3234567890123456"} }, "replaceCustomerSubscriptions", "is only for Azure"},
		{"alibaba customer service missing", validAlibabaChange, alibabaLink, func(c *Change) { c.AddCustomerServices[0].Service = "" }, "addCustomerServices[0].service", "is required"},
		{"alibaba customer service aws", validAlibabaChange, alibabaLink, func(c *Change) { c.AddCustomerServices[0].Service = awsSvcB }, "addCustomerServices[0].service", "is not an Alibaba Cloud endpoint service name"},
		{"alibaba customer service short id", validAlibabaChange, alibabaLink, func(c *Change) {
			c.AddCustomerServices[0].Service = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-abc"
		}, "addCustomerServices[0].service", "is not an Alibaba Cloud endpoint service name"},
		{"alibaba customer service other region", validAlibabaChange, alibabaLink, func(c *Change) { c.AddCustomerServices[0].Service = aliSvcShanghai },
			"addCustomerServices[0].service", "is in region cn-shanghai, not cn-hangzhou"},
		{"alibaba cross-region customer service in a third region", validAlibabaChange, alibabaCrossRegionLink, func(c *Change) {
			c.AddCustomerServices[0].Service = "com.aliyuncs.privatelink.cn-beijing.epsrv-2zecustomer00000000a"
		}, "addCustomerServices[0].service", "neither the platform's region cn-hangzhou nor the customer's region cn-shanghai"},
		{"alibaba customer service on the link", validAlibabaChange, alibabaLink, func(c *Change) {
			c.RemoveCustomerServices = nil
			c.AddCustomerServices[0].Service = strings.ToUpper(aliSvcA)
		}, "addCustomerServices[0].service", "already a reverse connection"},
		{"alibaba customer port ssh", validAlibabaChange, alibabaLink, func(c *Change) { c.AddCustomerServices[0].Ports = []int{22} }, "addCustomerServices[0].ports[0]", "SSH"},
		{"alibaba remove unknown customer service", validAlibabaChange, alibabaLink, func(c *Change) { c.RemoveCustomerServices = []string{aliSvcShanghai} },
			"removeCustomerServices[0]", "not a reverse connection"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ch, link := c.base(), c.link()
			require.Empty(t, ch.Validate(link), "the base change must be valid on its link")
			c.mutate(&ch)
			es := ch.Validate(link)
			require.Len(t, es, 1, "%v", es)
			assert.Equal(t, c.field, es[0].Field)
			assert.Contains(t, es[0].Problem, c.problem)
			assert.NotEmpty(t, es[0].Fix, "every error says how to fix it")
			assert.Contains(t, es.Error(), c.field)
		})
	}
}

func TestChangeValidateFixesNameWhatToDo(t *testing.T) {
	one := func(c Change, link Link) FieldError {
		t.Helper()
		es := c.Validate(link)
		require.Len(t, es, 1, "%v", es)
		return es[0]
	}
	c := validAWSChange()
	c.AddServices, c.RemovePorts = nil, []int{3306, 2222}
	assert.Contains(t, one(c, awsLink()).Fix, "tear the link down instead")

	c = validAWSChange()
	c.RemovePorts = []int{5432}
	assert.Contains(t, one(c, awsLink()).Fix, "3306, 2222", "it lists the ports the link has")

	c = validAWSChange()
	c.RemoveCustomerServices = []string{awsSvcA + "0"}
	assert.Contains(t, one(c, awsLink()).Fix, awsSvcA, "it lists the link's customer services")

	c = validAWSChange()
	c.ReplaceCustomerAccount = "123456789012"
	e := one(c, awsLink())
	assert.Equal(t, "123456789012", e.Value)
	assert.Contains(t, e.Fix, "new account")
}

func TestChangeValidateAcceptsGoodVariants(t *testing.T) {
	good := []struct {
		name   string
		base   func() Change
		link   func() Link
		mutate func(*Change)
	}{
		{"https on aws", validAWSChange, awsLink, func(c *Change) { c.AddServices[0].Port = 443 }},
		{"only a port", validAWSChange, awsLink, func(c *Change) { *c = Change{RequestedBy: c.RequestedBy, Reason: c.Reason, AddServices: c.AddServices} }},
		{"only a removal", validAWSChange, awsLink, func(c *Change) { *c = Change{RequestedBy: c.RequestedBy, Reason: c.Reason, RemovePorts: []int{3306}} }},
		{"replace every port", validAWSChange, awsLink, func(c *Change) { c.RemovePorts = []int{3306, 2222} }},
		{"only the account", validAWSChange, awsLink, func(c *Change) {
			*c = Change{RequestedBy: c.RequestedBy, Reason: c.Reason, ReplaceCustomerAccount: "2100-0000-0099", DryRun: true}
		}},
		{"only a reverse removal", validAWSChange, awsLink, func(c *Change) {
			*c = Change{RequestedBy: c.RequestedBy, Reason: c.Reason, RemoveCustomerServices: []string{strings.ToUpper(awsSvcA)}}
		}},
		{"short aws service id", validAWSChange, awsLink, func(c *Change) { c.AddCustomerServices[0].Service = "com.amazonaws.vpce.us-east-1.vpce-svc-01234567" }},
		{"azure resource id", validAzureChange, azureLink, func(c *Change) {
			c.AddCustomerServices[0].Service = strings.Replace(azSvcID, "pls-orders", "pls-cache", 1)
		}},
		{"azure remove by id in other case", validAzureChange, azureLink, func(c *Change) { c.RemoveCustomerServices = []string{strings.ToLower(azSvcID)} }},
		{"azure account alone", validAzureChange, azureLink, func(c *Change) { c.ReplaceCustomerSubscriptions = nil }},
		{"azure keeps an old subscription", validAzureChange, azureLink, func(c *Change) { c.ReplaceCustomerSubscriptions = []string{azSub1} }},
		{"alibaba", validAlibabaChange, alibabaLink, func(*Change) {}},
		{"https on alibaba", validAlibabaChange, alibabaLink, func(c *Change) { c.AddServices[0].Port = 8443; c.RemovePorts = []int{443} }},
		{"https added on alibaba", validAlibabaChange, func() Link { l := alibabaLink(); l.Ports = []int{3306}; return l },
			func(c *Change) { c.AddServices[0].Port = 443 }},
		{"https on an alibaba customer service", validAlibabaChange, alibabaLink, func(c *Change) { c.AddCustomerServices[0].Ports = []int{443} }},
		{"alibaba account with spaces", validAlibabaChange, alibabaLink, func(c *Change) { c.ReplaceCustomerAccount = " 2234567890123456 " }},
		{"alibaba remove in upper case", validAlibabaChange, alibabaLink, func(c *Change) { c.RemoveCustomerServices = []string{strings.ToUpper(aliSvcA)} }},
		{"alibaba cross-region customer service", validAlibabaChange, alibabaCrossRegionLink, func(c *Change) { c.AddCustomerServices[0].Service = aliSvcShanghai }},
		{"alibaba cross-region link, service in the platform's region", validAlibabaChange, alibabaCrossRegionLink, func(*Change) {}},
	}
	for _, g := range good {
		t.Run(g.name, func(t *testing.T) {
			c := g.base()
			g.mutate(&c)
			assert.Empty(t, c.Validate(g.link()))
		})
	}
}

func TestChangeValidateReportsEverythingAtOnce(t *testing.T) {
	c, err := DecodeChange([]byte(`{"requestedBy": "", "reason": "",
		"addServices": [{"name": "SSH", "port": 22}, {"name": "web", "port": 443}, {"name": "db", "port": 3306}],
		"removePorts": [2222, 3306, 9999],
		"replaceCustomerAccount": "1234-5678-9012",
		"replaceCustomerSubscriptions": ["x"],
		"addCustomerServices": [{"service": "vpce-svc-1", "ports": []}],
		"removeCustomerServices": ["com.amazonaws.vpce.us-east-1.vpce-svc-0fedcba9876543210"]}`))
	require.NoError(t, err)
	es := c.Validate(awsLink())
	assert.Equal(t, []string{
		"requestedBy", "reason",
		"addServices[0].port", // SSH
		"removePorts[1]",      // 3306 added and removed
		"removePorts[2]",      // 9999 not open
		"replaceCustomerAccount",
		"replaceCustomerSubscriptions",
		"addCustomerServices[0].service",
		"addCustomerServices[0].ports",
		"removeCustomerServices[0]",
	}, fields(es), "%v", es)
	assert.Contains(t, es.Error(), "10 problems")
	for _, e := range es {
		assert.NotEmpty(t, e.Problem)
		assert.NotEmpty(t, e.Fix)
	}
}

func TestChangeSummary(t *testing.T) {
	cases := []struct {
		c    Change
		want string
	}{
		{Change{}, "no change"},
		{Change{AddServices: []Service{{Name: "amqp", Port: 5672}, {Name: "redis", Port: 6379}}, DryRun: true},
			"plan only: add ports 5672 (amqp), 6379 (redis)"},
		{Change{RemovePorts: []int{2222, 3306}}, "remove ports 2222, 3306"},
		{Change{ReplaceCustomerAccount: azSub2, ReplaceCustomerSubscriptions: []string{azSub3}},
			"replace the customer accounts with " + azSub2 + ", " + azSub3},
		{Change{AddCustomerServices: []CustomerService{{Service: awsSvcB, Ports: []int{6379, 6380}}}, RemoveCustomerServices: []string{awsSvcA}},
			"add reverse connection to " + awsSvcB + " on ports 6379, 6380; remove reverse connection to " + awsSvcA},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.c.Summary())
		assert.NotContains(t, c.c.Summary(), "\n")
	}
}

func TestTeardown(t *testing.T) {
	td, err := DecodeTeardown([]byte(`{"requestedBy": " Sam@Platform.Example ", "reason": " the customer leaves "}`))
	require.NoError(t, err)
	assert.Equal(t, Teardown{RequestedBy: "sam@platform.example", Reason: "the customer leaves"}, td)
	assert.Empty(t, td.Validate())

	es := Teardown{}.Validate()
	assert.Equal(t, []string{"requestedBy", "reason"}, fields(es))
	es = Teardown{RequestedBy: "sam smith", Reason: "x"}.Validate()
	require.Len(t, es, 1)
	assert.Contains(t, es[0].Problem, "contains spaces")

	for in, field := range map[string]string{
		``:                                 "teardown",
		`{"requestedBy": "a", "why": "x"}`: "why",
		`{"requestedby": "a"}`:             "requestedby",
		`{"reason": 3}`:                    "reason",
		`{"reason": "x"}{"reason": "y"}`:   "teardown",
	} {
		_, err := DecodeTeardown([]byte(in))
		var es Errors
		require.ErrorAs(t, err, &es, "%s", in)
		require.Len(t, es, 1, "%s: %v", in, es)
		assert.Equal(t, field, es[0].Field, "%s", in)
	}
	_, err = DecodeTeardown([]byte(`{"requestedby": "a"}`))
	assert.ErrorContains(t, err, `is not a teardown request field: did you mean "requestedBy"?`)
}

func validAdopt() Adopt {
	return Adopt{
		Company: "Acme Corp", Ticket: "PL-0042", RequestedBy: "sam@platform.example", ProjectID: "abcd1234efgh5",
		Environment: "production", Cloud: "aws", Region: "us-east-1", CustomerAccount: "123456789012",
		Services:         []Service{{Name: "mysql", Port: 3306}},
		ReverseEndpoints: []ReverseEndpoint{{EndpointID: "vpce-0123456789abcdef0", Ports: []int{5432}}},
	}
}

func validAzureAdopt() Adopt {
	return Adopt{
		Company: "Contoso", RequestedBy: "ops@platform.example", ProjectID: "azure1234abcd",
		Environment: "staging", Cloud: "azure", Region: "westeurope", CustomerAccount: azSub1,
		CustomerSubscriptions: []string{azSub2},
	}
}

func validAlibabaAdopt() Adopt {
	return Adopt{
		Company: "Acme Corp", RequestedBy: "sam@platform.example", ProjectID: "alibaba12345a",
		Environment: "production", Cloud: "alibaba", Region: "cn-hangzhou", CustomerAccount: aliUID,
		Services:         []Service{{Name: "mysql", Port: 3306}, {Name: "https", Port: 443}},
		ReverseEndpoints: []ReverseEndpoint{{EndpointID: "ep-bp1platform000000000a", Ports: []int{5432}}},
		BandwidthMbps:    200, CustomerRegion: "cn-shanghai",
	}
}

func TestDecodeAlibabaAdopt(t *testing.T) {
	a, err := DecodeAdopt([]byte(`{"company": "Acme Corp", "requestedBy": "sam@platform.example",
		"projectId": "alibaba12345a", "environment": "production", "cloud": "Alibaba", "region": "cn-hangzhou",
		"customerAccount": " 1234567890123456 ", "services": [{"name": "mysql", "port": 3306}, {"name": "https", "port": 443}],
		"reverseEndpoints": [{"endpointId": "ep-bp1platform000000000a", "ports": [5432]}],
		"bandwidthMbps": 200, "customerRegion": " CN-Shanghai "}`))
	require.NoError(t, err)
	assert.Equal(t, validAlibabaAdopt(), a)
	assert.Empty(t, a.Validate())
	assert.Equal(t, "privatelink/alibaba12345a/production/alibaba", a.WorkflowID())
	assert.Equal(t, []string{aliUID}, a.CustomerAccounts())
	assert.Equal(t, a, a.Normalize(), "normalising twice changes nothing")

	data, err := json.Marshal(a)
	require.NoError(t, err)
	back, err := DecodeAdopt(data)
	require.NoError(t, err)
	assert.Equal(t, a, back, "the adopt request's JSON round-trips")

	for in, field := range map[string]string{
		`{"bandwidthMBps": 200}`:               "bandwidthMBps",
		`{"bandwidthMbps": "200"}`:             "bandwidthMbps",
		`{"customerregion": "cn-shanghai"}`:    "customerregion",
		`{"customerRegion": 3}`:                "customerRegion",
		`{"customerServicePorts": [5432]}`:     "customerServicePorts",
		`{"customerEndpointService": "x"}`:     "customerEndpointService",
		`{"cloud": "alibaba", "region": [""]}`: "region",
	} {
		_, err := DecodeAdopt([]byte(in))
		var es Errors
		require.ErrorAs(t, err, &es, "%s", in)
		require.Len(t, es, 1, "%s: %v", in, es)
		assert.Equal(t, field, es[0].Field, "%s", in)
		assert.NotEmpty(t, es[0].Fix)
	}
}

func TestDecodeAdopt(t *testing.T) {
	a, err := DecodeAdopt([]byte(`{"company": " Acme Corp ", "ticket": "PL-0042", "requestedBy": "Sam@Platform.Example",
		"projectId": "abcd1234efgh5", "environment": "Production", "cloud": "AWS", "region": "US-EAST-1",
		"customerAccount": "1234-5678-9012", "services": [{"name": " MySQL ", "port": 3306}],
		"reverseEndpoints": [{"endpointId": " vpce-0123456789abcdef0 ", "ports": [5432]}]}`))
	require.NoError(t, err)
	assert.Equal(t, validAdopt(), a)
	assert.Empty(t, a.Validate())
	assert.Equal(t, "privatelink/abcd1234efgh5/production/aws", a.WorkflowID())
	assert.Equal(t, a, a.Normalize(), "normalising twice changes nothing")

	for in, field := range map[string]string{
		`{"projectID": "x"}`:                               "projectID",
		`{"connectionType": "unidirectional"}`:             "connectionType",
		`{"reverseEndpoints": [{"endpointID": "vpce-1"}]}`: "reverseEndpoints[0].endpointID",
		`{"services": [{"name": "a", "port": 1, "x": 1}]}`: "services[0].x",
		`{"services": {}}`:                                 "services",
		`   `:                                              "adopt",
	} {
		_, err := DecodeAdopt([]byte(in))
		var es Errors
		require.ErrorAs(t, err, &es, "%s", in)
		require.Len(t, es, 1, "%s: %v", in, es)
		assert.Equal(t, field, es[0].Field, "%s", in)
		assert.NotEmpty(t, es[0].Fix)
	}
}

func TestAdoptValidateRules(t *testing.T) {
	cases := []struct {
		name    string
		base    func() Adopt
		mutate  func(*Adopt)
		field   string
		problem string
	}{
		{"company missing", validAdopt, func(a *Adopt) { a.Company = "" }, "company", "is required"},
		{"company too long", validAdopt, func(a *Adopt) { a.Company = strings.Repeat("x", 101) }, "company", "longer than 100"},
		{"ticket bad", validAdopt, func(a *Adopt) { a.Ticket = "PL 42" }, "ticket", "not a ticket key"},
		{"requester missing", validAdopt, func(a *Adopt) { a.RequestedBy = "" }, "requestedBy", "is required"},
		{"requester spaces", validAdopt, func(a *Adopt) { a.RequestedBy = "sam smith" }, "requestedBy", "contains spaces"},
		{"project missing", validAdopt, func(a *Adopt) { a.ProjectID = "" }, "projectId", "is required"},
		{"project bad", validAdopt, func(a *Adopt) { a.ProjectID = "ABC_def" }, "projectId", "not a project ID"},
		{"environment missing", validAdopt, func(a *Adopt) { a.Environment = "" }, "environment", "is required"},
		{"environment integration", validAdopt, func(a *Adopt) { a.Environment = "integration" }, "environment", "cannot use PrivateLink"},
		{"cloud missing", validAdopt, func(a *Adopt) { a.Cloud = "" }, "cloud", "is required"},
		{"cloud gcp", validAdopt, func(a *Adopt) { a.Cloud = "gcp" }, "cloud", "not a supported cloud"},
		{"region missing", validAdopt, func(a *Adopt) { a.Region = "" }, "region", "is required"},
		{"aws region bad", validAdopt, func(a *Adopt) { a.Region = "westeurope" }, "region", "not an AWS region"},
		{"azure region bad", validAzureAdopt, func(a *Adopt) { a.Region = "west europe" }, "region", "not an Azure region"},
		{"aws account missing", validAdopt, func(a *Adopt) { a.CustomerAccount = "" }, "customerAccount", "is required"},
		{"aws account bad", validAdopt, func(a *Adopt) { a.CustomerAccount = "1234" }, "customerAccount", "not an AWS account ID"},
		{"aws subscriptions", validAdopt, func(a *Adopt) { a.CustomerSubscriptions = []string{azSub2} }, "customerSubscriptions", "only for Azure"},
		{"azure account bad", validAzureAdopt, func(a *Adopt) { a.CustomerAccount = "123456789012" }, "customerAccount", "not an Azure subscription ID"},
		{"azure subscription bad", validAzureAdopt, func(a *Adopt) { a.CustomerSubscriptions = []string{"nope"} }, "customerSubscriptions[0]", "not an Azure subscription ID"},
		{"azure subscription twice", validAzureAdopt, func(a *Adopt) { a.CustomerSubscriptions = []string{azSub2, azSub2} }, "customerSubscriptions[1]", "listed twice"},
		{"service port ssh", validAdopt, func(a *Adopt) { a.Services[0].Port = 22 }, "services[0].port", "SSH"},
		{"service port https azure", validAzureAdopt, func(a *Adopt) { a.Services = []Service{{Name: "web", Port: 443}} }, "services[0].port", "HTTPS"},
		{"service port twice", validAdopt, func(a *Adopt) { a.Services = append(a.Services, Service{Name: "db", Port: 3306}) }, "services[1].port", "listed twice"},
		{"service name missing", validAdopt, func(a *Adopt) { a.Services[0].Name = "" }, "services[0].name", "is required"},
		{"service name bad", validAdopt, func(a *Adopt) { a.Services[0].Name = "my sql" }, "services[0].name", "not a service name"},
		{"endpoint id missing", validAdopt, func(a *Adopt) { a.ReverseEndpoints[0].EndpointID = "" }, "reverseEndpoints[0].endpointId", "is required"},
		{"endpoint id spaces", validAdopt, func(a *Adopt) { a.ReverseEndpoints[0].EndpointID = "vpce 1" }, "reverseEndpoints[0].endpointId", "contains spaces"},
		{"endpoint twice", validAdopt, func(a *Adopt) {
			a.ReverseEndpoints = append(a.ReverseEndpoints, ReverseEndpoint{EndpointID: "VPCE-0123456789abcdef0", Ports: []int{6379}})
		}, "reverseEndpoints[1].endpointId", "listed twice"},
		{"endpoint ports missing", validAdopt, func(a *Adopt) { a.ReverseEndpoints[0].Ports = nil }, "reverseEndpoints[0].ports", "is required"},
		{"endpoint port bad", validAdopt, func(a *Adopt) { a.ReverseEndpoints[0].Ports = []int{5432, 70000} }, "reverseEndpoints[0].ports[1]", "not a TCP port"},
		{"endpoint port ssh", validAdopt, func(a *Adopt) { a.ReverseEndpoints[0].Ports = []int{22} }, "reverseEndpoints[0].ports[0]", "SSH"},
		{"bandwidth on aws", validAdopt, func(a *Adopt) { a.BandwidthMbps = 200 }, "bandwidthMbps", "is only for Alibaba Cloud"},
		{"customer region on aws", validAdopt, func(a *Adopt) { a.CustomerRegion = "us-west-2" }, "customerRegion", "is only for Alibaba Cloud"},

		// Alibaba Cloud
		{"alibaba alias", validAlibabaAdopt, func(a *Adopt) { a.Cloud = "alicloud" }, "cloud", "is not the name Linkwright uses for Alibaba Cloud"},
		{"alibaba region bad", validAlibabaAdopt, func(a *Adopt) { a.Region = "hangzhou" }, "region", "is not an Alibaba Cloud region"},
		{"alibaba account missing", validAlibabaAdopt, func(a *Adopt) { a.CustomerAccount = "" }, "customerAccount", "is required"},
		{"alibaba account bad", validAlibabaAdopt, func(a *Adopt) { a.CustomerAccount = "123456789012" }, "customerAccount", "is not an Alibaba Cloud account ID"},
		{"alibaba subscriptions", validAlibabaAdopt, func(a *Adopt) { a.CustomerSubscriptions = []string{"2234567890123456"} }, "customerSubscriptions", "is only for Azure"},
		{"alibaba service port ssh", validAlibabaAdopt, func(a *Adopt) { a.Services[0].Port = 22 }, "services[0].port", "SSH"},
		{"alibaba endpoint port ssh", validAlibabaAdopt, func(a *Adopt) { a.ReverseEndpoints[0].Ports = []int{22} }, "reverseEndpoints[0].ports[0]", "SSH"},
		{"alibaba bandwidth too low", validAlibabaAdopt, func(a *Adopt) { a.BandwidthMbps = 10 }, "bandwidthMbps", "is not a bandwidth Alibaba Cloud PrivateLink allows"},
		{"alibaba customer region bad", validAlibabaAdopt, func(a *Adopt) { a.CustomerRegion = "Shanghai" }, "customerRegion", "is not an Alibaba Cloud region"},
		{"alibaba customer region is the platform's", validAlibabaAdopt, func(a *Adopt) { a.CustomerRegion = "cn-hangzhou" }, "customerRegion", "is the platform's region too"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := c.base()
			require.Empty(t, a.Validate(), "the base adoption must be valid")
			c.mutate(&a)
			es := a.Validate()
			require.Len(t, es, 1, "%v", es)
			assert.Equal(t, c.field, es[0].Field)
			assert.Contains(t, es[0].Problem, c.problem)
			assert.NotEmpty(t, es[0].Fix)
		})
	}
}

func TestAdoptAcceptsGoodVariantsAndReportsEverything(t *testing.T) {
	a := validAdopt()
	a.Services, a.ReverseEndpoints, a.Ticket = nil, nil, ""
	assert.Empty(t, a.Validate(), "services, reverse endpoints and ticket are optional")
	a.Services = []Service{{Name: "web", Port: 443}}
	assert.Empty(t, a.Validate(), "AWS allows 443")
	az := validAzureAdopt()
	assert.Empty(t, az.Validate())
	assert.Equal(t, []string{azSub1, azSub2}, az.CustomerAccounts())
	ali := validAlibabaAdopt()
	ali.BandwidthMbps, ali.CustomerRegion = 0, ""
	assert.Empty(t, ali.Validate(), "bandwidthMbps and customerRegion are optional")
	ali.ReverseEndpoints[0].Ports = []int{443}
	assert.Empty(t, ali.Validate(), "Alibaba Cloud allows 443")

	bad, err := DecodeAdopt([]byte(`{"environment": "integration", "cloud": "azure", "region": "westeurope", "customerAccount": "123",
		"services": [{"name": "ssh", "port": 22}], "reverseEndpoints": [{"endpointId": "", "ports": []}]}`))
	require.NoError(t, err)
	es := bad.Validate()
	assert.Equal(t, []string{"company", "requestedBy", "projectId", "environment", "customerAccount", "services[0].port",
		"reverseEndpoints[0].endpointId", "reverseEndpoints[0].ports"}, fields(es), "%v", es)
	assert.Contains(t, es.Error(), "8 problems")
}

// The adoption's rules are the request's: the same input gets the same
// errors from both for every field they share.
func TestAdoptSharesRequestRules(t *testing.T) {
	for _, mutate := range []func(*Request){
		func(r *Request) { r.Company = "" },
		func(r *Request) { r.Ticket = "a b" },
		func(r *Request) { r.ProjectID = "X" },
		func(r *Request) { r.Environment = "dev" },
		func(r *Request) { r.Cloud = "gcp" },
		func(r *Request) { r.Cloud = "alicloud" },
		func(r *Request) { r.Region = "eu_west" },
		func(r *Request) { r.CustomerAccount = "12" },
		func(r *Request) { r.CustomerSubscriptions = []string{"x"} },
		func(r *Request) { r.BandwidthMbps = 200 },
		func(r *Request) { r.CustomerRegion = "us-west-2" },
	} {
		r := validAWS()
		mutate(&r)
		assertAdoptSharesRequestRules(t, r)
	}
	for _, mutate := range []func(*Request){
		func(r *Request) { r.Cloud = "aliyun" },
		func(r *Request) { r.Region = "cn hangzhou" },
		func(r *Request) { r.CustomerAccount = "123456789012" },
		func(r *Request) { r.CustomerSubscriptions = []string{"2234567890123456"} },
		func(r *Request) { r.BandwidthMbps = 99 },
		func(r *Request) { r.BandwidthMbps = 50001 },
		func(r *Request) { r.CustomerRegion = "shanghai" },
		func(r *Request) { r.CustomerRegion = "cn-hangzhou" },
	} {
		r := validAlibaba()
		mutate(&r)
		assertAdoptSharesRequestRules(t, r)
	}
}

func assertAdoptSharesRequestRules(t *testing.T, r Request) {
	t.Helper()
	a := Adopt{Company: r.Company, Ticket: r.Ticket, RequestedBy: r.RequestedBy, ProjectID: r.ProjectID, Environment: r.Environment,
		Cloud: r.Cloud, Region: r.Region, CustomerAccount: r.CustomerAccount, CustomerSubscriptions: r.CustomerSubscriptions,
		BandwidthMbps: r.BandwidthMbps, CustomerRegion: r.CustomerRegion}
	want := r.Validate()
	require.NotEmpty(t, want)
	assert.Equal(t, want, a.Validate())
}

func FuzzDecodeValidateChange(f *testing.F) {
	f.Add([]byte(exChange), "aws")
	f.Add([]byte(`{"requestedBy":"a","reason":"b","replaceCustomerAccount":"ABCDEF00-1111-2222-3333-444444444444","replaceCustomerSubscriptions":["x","x"]}`), "azure")
	f.Add([]byte(`{"addServices":[{"port":-1}],"removePorts":[0,0],"addCustomerServices":[{"service":"","ports":null}],"removeCustomerServices":[""]}`), "aws")
	f.Add([]byte(`{"addCustomerServices":[{"service":"com.amazonaws.vpce..vpce-svc-","ports":[22]}]}`), "")
	f.Add([]byte(`null`), "gcp")
	f.Add([]byte(`{"requestedBy":"a","reason":"b","replaceCustomerAccount":" 2234567890123456 ","addCustomerServices":[{"service":"COM.ALIYUNCS.PRIVATELINK.CN-SHANGHAI.EPSRV-X","ports":[443]}]}`), "alibaba")
	f.Add([]byte(`{"cloud":"alibaba","region":"cn-hangzhou","customerAccount":"1234567890123456","bandwidthMbps":99,"customerRegion":"cn-hangzhou"}`), "alibaba")
	f.Fuzz(func(t *testing.T, data []byte, cloud string) {
		link := awsLink()
		switch cloud {
		case "aws":
		case "alibaba":
			link = alibabaCrossRegionLink()
		default:
			link = azureLink()
			link.Cloud = cloud
		}
		c, err := DecodeChange(data)
		if err != nil {
			var es Errors
			if !errorsAs(err, &es) || len(es) == 0 {
				t.Fatalf("decode error is not a non-empty Errors: %v", err)
			}
			for _, e := range es {
				if e.Field == "" || e.Problem == "" || e.Fix == "" {
					t.Fatalf("incomplete decode error %+v", e)
				}
			}
			return
		}
		es := c.Validate(link)
		for _, e := range es {
			if e.Field == "" || e.Problem == "" || e.Fix == "" {
				t.Fatalf("incomplete field error %+v", e)
			}
		}
		n := c.Normalize(cloud)
		if again := n.Normalize(cloud); !equalJSON(again, n) {
			t.Fatalf("normalize is not idempotent: %+v then %+v", n, again)
		}
		if !equalJSON(es, n.Validate(link)) {
			t.Fatalf("validate differs on the normalised change")
		}
		_ = c.Summary()

		// The same bytes as an adoption and a teardown.
		if a, err := DecodeAdopt(data); err == nil {
			for _, e := range a.Validate() {
				if e.Field == "" || e.Problem == "" || e.Fix == "" {
					t.Fatalf("incomplete adopt error %+v", e)
				}
			}
			if !equalJSON(a, a.Normalize()) {
				t.Fatalf("adopt normalize is not idempotent")
			}
		}
		if td, err := DecodeTeardown(data); err == nil {
			_ = td.Validate()
		}
	})
}

func equalJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
