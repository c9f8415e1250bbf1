package workflows

import (
	"context"
	"time"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/request"
)

const (
	alibabaCustomer        = "1234567890123456"
	alibabaCustomerService = "com.aliyuncs.privatelink.cn-hangzhou.epsrv-bp1customer00000000a"
)

// alibabaRequest is a bidirectional link on the simulated Alibaba Cloud's
// production environment (manual acceptance, cross-region consumers from
// cn-shanghai).
func alibabaRequest(port int) request.Request {
	return request.Request{
		Company: "Acme Corp", RequestedBy: sam, ProjectID: "alibaba12345a", Environment: "production",
		Cloud: "alibaba", Region: "cn-hangzhou", CustomerAccount: alibabaCustomer, ConnectionType: "bidirectional",
		Services:                []request.Service{{Name: "mysql", Port: 3306}, {Name: "https", Port: 443}},
		CustomerEndpointService: alibabaCustomerService, CustomerServicePorts: []int{port}, BandwidthMbps: 200,
	}
}

func (s *EnablementSuite) alibaba(env string) sim.Customer {
	s.ref = cloud.EnvRef{Cloud: "alibaba", Region: "cn-hangzhou", Project: "alibaba12345a", Environment: env}
	return s.cloud.Customer("alibaba", alibabaCustomer)
}

// A bidirectional link on Alibaba Cloud: the customer's connection is
// accepted with the request's bandwidth, the ticket speaks of Alibaba
// Cloud and the zones, and the platform's endpoint goes into the
// customer's service once they whitelist the platform's UID.
func (s *EnablementSuite) TestAlibabaBidirectionalWithBandwidth() {
	const port = 25433
	cust := s.alibaba("production")
	s.at(time.Hour, func() {
		_, err := cust.CreateEndpoint(s.platformService())
		s.Require().NoError(err)
		s.signal(SignalCustomerEndpointCreated, nil)
	})
	s.at(2*time.Hour, func() { s.approve(GateAcceptConnection, alice) })
	s.at(3*time.Hour, func() {
		s.Require().NoError(cust.Grant(alibabaCustomerService, sim.PlatformAlibabaAccount, []int{port}))
		s.signal(SignalCustomerAccessGranted, nil)
	})
	s.at(4*time.Hour, func() { s.approve(GateCreateReverseEndpoint, bob) })
	s.at(5*time.Hour, func() {
		pending, err := cust.PendingOnService(alibabaCustomerService)
		s.Require().NoError(err)
		s.Require().Len(pending, 1)
		s.Require().NoError(cust.AcceptEndpoint(pending[0].ID))
		s.signal(SignalCustomerConnectionAccepted, nil)
	})
	s.at(6*time.Hour, s.customerConfirms)
	s.start(alibabaRequest(port))

	s.NoError(s.runError())
	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	s.Contains(s.calls.list(), "accept ["+r.Status.CustomerEndpoints[0]+"] at 200 Mbps")
	eps, err := cust.Endpoints()
	s.Require().NoError(err)
	var bw []int
	for _, ep := range eps {
		if !ep.Platform {
			bw = append(bw, ep.Bandwidth)
		}
	}
	s.Equal([]int{200}, bw, "the customer's connection carries the request's bandwidth")
	text := s.ticketText()
	s.Contains(text, "Your Alibaba Cloud account "+alibabaCustomer+" may now connect. Create an endpoint in cn-hangzhou, in two or more zones")
	s.Contains(text, "Offer the endpoint service in these zones, where the platform runs: cn-hangzhou-h, cn-hangzhou-i")
	s.Contains(text, sim.PlatformAlibabaAccount)
	s.NotContains(text, "aws ec2", "no AWS instructions on Alibaba")
}

// A platform service that accepts connections automatically: nobody is
// asked at gate accept-connection, and the audit says the service accepted.
func (s *EnablementSuite) TestAlibabaAutomaticAcceptanceIsRecordedAtTheGate() {
	cust := s.alibaba("staging")
	var gates []string
	s.at(time.Hour, func() {
		_, err := cust.CreateEndpoint(s.platformService())
		s.Require().NoError(err)
		s.signal(SignalCustomerEndpointCreated, nil)
	})
	s.at(90*time.Minute, func() { gates = append(gates, s.status().Gate) })
	s.at(3*time.Hour, s.customerConfirms)
	req := alibabaRequest(0)
	req.Environment, req.ConnectionType, req.CustomerEndpointService, req.CustomerServicePorts = "staging", "unidirectional", "", nil
	s.start(req)

	s.NoError(s.runError())
	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	s.Equal([]string{""}, gates, "no gate opened")
	s.Contains(auditActions(r.Status), "cloud: gate accept-connection: accepted automatically by the platform service")
	s.NotContains(auditActions(r.Status), "linkwright: opened gate")
	s.NotContains(s.calls.list(), "accept ["+r.Status.CustomerEndpoints[0]+"] at 200 Mbps", "nothing for the platform to accept")
	conns, err := s.cloud.Connections(context.Background(), s.ref, alibabaCustomer)
	s.Require().NoError(err)
	s.Require().Len(conns, 1)
	s.Equal(cloud.StateAvailable, conns[0].State)
}

// customerRegion must be one the platform's service takes consumers from:
// checked against the service before anything changes.
func (s *EnablementSuite) TestAlibabaCustomerRegionTheServiceDoesNotSupportIsRefused() {
	s.alibaba("staging")
	req := alibabaRequest(0)
	req.Environment, req.ConnectionType, req.CustomerEndpointService, req.CustomerServicePorts = "staging", "unidirectional", "", nil
	req.CustomerRegion = "cn-shanghai"
	s.start(req)

	s.ErrorContains(s.runError(), `customerRegion "cn-shanghai" is not a region the platform's endpoint service accepts connections from`)
	for _, c := range s.calls.list() {
		s.Fail("no change before the request is valid", c)
	}
}
