package workflows

import (
	"context"
	"slices"
	"strings"
	"time"

	sdkpb "go.temporal.io/api/sdk/v1"

	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/cloud/sim"
	"github.com/linkwright/linkwright/internal/request"
)

// Outbound links: the platform as consumer of the customer's service.

func outRequest(port int) request.Request {
	r := uniRequest()
	r.ConnectionType = request.Outbound
	r.Services = nil
	r.CustomerEndpointService = customerService
	r.CustomerServicePorts = []int{port}
	return r
}

// platformZones are the zone IDs of the test's platform deployment.
func (s *EnablementSuite) platformZones() []string {
	z, err := s.cloud.Zones(context.Background(), s.ref, "")
	s.Require().NoError(err)
	s.Require().NotEmpty(z.Platform)
	return z.Platform
}

// customerZoneNames are the customer's own names for the zone IDs.
func (s *EnablementSuite) customerZoneNames(ids []string) []string {
	var names []string
	for name, id := range s.customer().ZoneNames("us-east-1") {
		if slices.Contains(ids, id) {
			names = append(names, name)
		}
	}
	s.Require().Len(names, len(ids))
	slices.Sort(names)
	return names
}

func (s *EnablementSuite) TestOutboundHappyPath() {
	const port = 28883
	var asked, gated Status
	s.at(time.Hour, func() {
		asked = s.status()
		s.customerGrants(port)
	})
	s.at(2*time.Hour, func() {
		gated = s.status()
		s.approve(GateCreateReverseEndpoint, bob)
	})
	var reverseID string
	s.at(3*time.Hour, func() { reverseID = s.customerAcceptsReverse() })
	s.start(outRequest(port))

	s.Require().NoError(s.runError())
	s.Require().True(s.handedOff(), "verified, the outbound link goes live without waiting for a confirmation")
	s.Equal(PhaseAwaitingGrant, asked.Phase)
	s.Equal(GateCreateReverseEndpoint, gated.Gate)

	// Nothing reaches the platform: no port opened, no account allowed.
	inv, err := s.cloud.Inventory(context.Background(), s.ref, []string{customerService})
	s.Require().NoError(err)
	s.Empty(inv.OpenPorts)
	s.Empty(inv.Accounts)
	s.Require().Len(inv.Endpoints, 1)
	s.Equal(reverseID, inv.Endpoints[0].ID)

	spec := s.handoff.Spec
	s.Equal(request.Outbound, spec.ConnectionType)
	s.Empty(spec.Services)
	s.Empty(spec.Accounts)
	s.Equal([]string{customerAccount}, spec.Customer)
	s.Require().Len(spec.Reverse, 1)
	s.Equal(reverseID, spec.Reverse[0].EndpointID)

	st := s.status()
	s.Require().Len(st.Verification, 1)
	s.True(st.Verification[0].OK(), st.Verification[0].Diagnosis)
	actions := auditActions(st)
	s.Contains(actions, "linkwright: checked the zones")
	s.NotContains(actions, "linkwright: opened ports")
	text := s.ticketText()
	s.assertPublicRepliesClean()
	s.Contains(text, "arn:aws:iam::"+sim.PlatformAWSAccount+":root")
	s.Contains(text, strings.Join(s.platformZones(), ", "), "the ticket posts the platform's zone IDs")
	s.Contains(text, "Network Load Balancer")
	s.NotContains(text, "connect to our endpoint service", "the customer is not asked to connect to the platform")
}

func (s *EnablementSuite) TestOutboundZoneMismatchWaitsForTheFix() {
	const port = 28883
	zones := s.platformZones()
	var mismatch, fixed Status
	var reply string
	s.at(time.Hour, func() {
		s.customerGrants(port)
		// The customer's load balancer misses the platform's last zone.
		s.Require().NoError(s.customer().SetServiceZones(customerService, s.customerZoneNames(zones[:len(zones)-1])))
		s.signal(SignalCustomerAccessGranted, nil)
	})
	s.at(2*time.Hour, func() {
		mismatch = s.status()
		reply = s.ticketText()
		// A nudge before the fix changes nothing.
		s.signal(SignalCustomerAccessGranted, nil)
	})
	s.at(3*time.Hour, func() {
		s.Equal(PhaseAwaitingFix, s.status().Phase, "still waiting after a nudge with nothing fixed")
		s.Require().NoError(s.customer().SetServiceZones(customerService, s.customerZoneNames(zones)))
		s.signal(SignalCustomerAccessGranted, nil)
	})
	s.at(4*time.Hour, func() {
		fixed = s.status()
		s.approve(GateCreateReverseEndpoint, bob)
	})
	s.at(5*time.Hour, func() { s.customerAcceptsReverse() })
	s.start(outRequest(port))

	s.Require().NoError(s.runError())
	s.Require().True(s.handedOff())
	s.Equal(PhaseAwaitingFix, mismatch.Phase, mismatch.Next)
	s.Equal(WaitingOnCustomer, mismatch.WaitingOn)
	missing := zones[len(zones)-1]
	s.Contains(mismatch.Next, missing)
	s.Contains(reply, "[public=true] Your endpoint service "+customerService+" is not offered in availability zone "+missing+",")
	s.Contains(reply, "[public=false] Zone check: the platform deployment runs in "+strings.Join(zones, ", "))
	s.Equal(GateCreateReverseEndpoint, fixed.Gate, "fixed, the run goes on to the gate")
	actions := auditActions(s.status())
	s.Contains(actions, "linkwright: found zones missing")
	s.Contains(actions, "customer: covered the zones")
	s.assertPublicRepliesClean()
}

func (s *EnablementSuite) TestOutboundCustomerRejectsTheEndpoint() {
	const port = 28883
	var first string
	var reopened Status
	s.at(time.Hour, func() { s.customerGrants(port) })
	s.at(2*time.Hour, func() { s.approve(GateCreateReverseEndpoint, bob) })
	s.at(3*time.Hour, func() {
		pending, err := s.customer().PendingOnService(customerService)
		s.Require().NoError(err)
		s.Require().Len(pending, 1)
		first = pending[0].ID
		s.Require().NoError(s.customer().RejectEndpoint(first))
		s.signal(SignalCustomerConnectionAccepted, nil)
	})
	s.at(4*time.Hour, func() {
		reopened = s.status()
		s.approve(GateCreateReverseEndpoint, alice)
	})
	var second string
	s.at(5*time.Hour, func() { second = s.customerAcceptsReverse() })
	s.start(outRequest(port))

	s.Require().NoError(s.runError())
	s.Require().True(s.handedOff())
	s.Equal(GateCreateReverseEndpoint, reopened.Gate, "a rejected endpoint is removed and the gate opens again")
	s.NotEqual(first, second)
	s.Equal(second, s.handoff.Spec.Reverse[0].EndpointID)
	s.Contains(s.ticketText(), "Endpoint "+first+" to your service was rejected, so we removed it.")
}

// currentDetails are what the Web UI shows as the run's current details.
func (s *EnablementSuite) currentDetails() string {
	v, err := s.env.QueryWorkflow("__temporal_workflow_metadata")
	s.Require().NoError(err)
	var md sdkpb.WorkflowMetadata
	s.Require().NoError(v.Get(&md))
	return md.GetCurrentDetails()
}

// outboundLive runs an outbound enablement to the live link's input.
func (s *EnablementSuite) outboundLive(port int) LiveInput {
	s.at(time.Hour, func() { s.customerGrants(port) })
	s.at(2*time.Hour, func() { s.approve(GateCreateReverseEndpoint, bob) })
	s.at(3*time.Hour, func() { s.customerAcceptsReverse() })
	s.start(outRequest(port))
	s.Require().NoError(s.runError())
	s.Require().True(s.handedOff())
	in := *s.handoff
	s.newEnv()
	return in
}

func (s *EnablementSuite) TestOutboundLiveFailsWhenTheCustomerDeletesTheirService() {
	in := s.outboundLive(28883)
	var running, failed Status
	s.at(10*time.Minute, func() {
		running = s.status()
		s.Require().NoError(s.customer().DeleteService(customerService))
		s.signal(SignalCheckNow, nil)
	})
	s.at(20*time.Minute, func() { failed = s.status() })
	s.stopAt(30 * time.Minute)
	s.startLive(in)

	s.Equal(PhaseLive, running.Phase)
	s.Equal(LinkRunning, running.LinkStatus)
	s.Empty(running.LinkStatusReason)
	s.Equal(PhaseDegraded, failed.Phase)
	s.Equal(LinkFailed, failed.LinkStatus)
	s.Contains(failed.LinkStatusReason, in.Spec.Reverse[0].EndpointID)
	s.Contains(s.currentDetails(), "Status: **failed**")
}

func (s *EnablementSuite) TestOutboundTeardownDeletesThePlatformEndpointFirst() {
	in := s.outboundLive(28883)
	var planned *ChangeResult
	var final Result
	s.at(10*time.Minute, func() {
		s.calls.reset()
		planned, _ = s.teardownUpdate(request.Teardown{RequestedBy: sam, Reason: "the broker is retired"})
	})
	s.at(20*time.Minute, func() { s.approve(GateTeardown, alice) })
	s.startLive(in)
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowResult(&final))
	s.Equal(OutcomeTornDown, final.Outcome)
	s.Require().NotNil(planned)
	s.Equal([]string{"delete endpoint " + in.Spec.Reverse[0].EndpointID}, s.calls.list(),
		"only the platform's endpoint is removed: nothing else of an outbound link is the platform's")
	inv, err := s.cloud.Inventory(context.Background(), s.ref, []string{customerService})
	s.Require().NoError(err)
	for _, ep := range inv.Endpoints {
		s.True(ep.State.Terminal() || ep.State == cloud.StateDeleted, "endpoint %s is %s", ep.ID, ep.State)
	}
	text := s.ticketText()
	deleted := strings.Index(text, "We removed the platform's endpoints into your service")
	s.Greater(deleted, 0, "the customer is told once the platform's side is gone")
	s.Less(deleted, strings.Index(text, "has been removed"))
}

func (s *EnablementSuite) TestOutboundChangeRefusesPlatformPorts() {
	in := s.outboundLive(28883)
	var out *updateOutcome
	s.at(10*time.Minute, func() {
		_, out = s.changeUpdate(request.Change{RequestedBy: sam, Reason: "x", AddServices: []request.Service{{Name: "mysql", Port: 3306}}})
	})
	s.stopAt(20 * time.Minute)
	s.startLive(in)
	s.Require().NotNil(out)
	err := out.rejected
	if err == nil {
		err = out.failed
	}
	s.Require().Error(err)
	s.Contains(err.Error(), "addServices \"mysql:3306\" is not used by an outbound link")
}
