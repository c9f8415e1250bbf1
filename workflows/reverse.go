package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/linkwright/linkwright/activities"
	"github.com/linkwright/linkwright/internal/cloud"
	"github.com/linkwright/linkwright/internal/config"
	"github.com/linkwright/linkwright/internal/probe"
	"github.com/linkwright/linkwright/internal/request"
)

// ReverseInput starts the reverse link.
type ReverseInput struct {
	ParentID  string            `json:"parentId"`
	Request   request.Request   `json:"request"`
	Env       cloud.Environment `json:"env"`
	Ticket    string            `json:"ticket"`
	Policy    config.Policy     `json:"policy"`
	Started   time.Time         `json:"started"`
	Escalated bool              `json:"escalated"`
}

// ReverseResult is how the reverse link ended. It carries the reverse
// link's whole audit trail: the enablement learns everything from it, with
// nothing lost to the timing of messages.
type ReverseResult struct {
	Outcome      string         `json:"outcome"`
	By           string         `json:"by,omitempty"`
	Why          string         `json:"why,omitempty"`
	EndpointID   string         `json:"endpointId,omitempty"`
	DNSName      string         `json:"dnsName,omitempty"`
	Verification []probe.Result `json:"verification,omitempty"`
	// Created is true when this run created the endpoint (false when it
	// adopted one an earlier run or a person made): only then may the
	// enablement's undo delete it.
	Created   bool         `json:"created"`
	Escalated bool         `json:"escalated"`
	Audit     []AuditEntry `json:"audit"`
}

// PrivateLinkReverseLink is the bidirectional leg: the platform reaches the
// customer's endpoint service. It runs only as the child of the enablement
// it names. Decisions come forwarded from the enablement and are checked
// here again; progress goes to the enablement through this run's memo and
// its result, never through a message the enablement must trust.
func PrivateLinkReverseLink(ctx workflow.Context, in ReverseInput) (ReverseResult, error) {
	info := workflow.GetInfo(ctx)
	if parent := info.ParentWorkflowExecution; parent == nil || parent.ID != in.ParentID || !isReverseID(in.ParentID, info.WorkflowExecution.ID) {
		return ReverseResult{}, temporal.NewNonRetryableApplicationError(
			"PrivateLinkReverseLink runs only as the child of the enablement it names ("+in.ParentID+"/reverse): start "+EnablementWorkflow+" instead",
			"NotAChild", nil)
	}
	r := &reverse{core: newCore(ctx), in: in, reporter: &reporter{parent: *info.ParentWorkflowExecution}}
	r.policy, r.started, r.requester, r.home = in.Policy, in.Started, in.Request.RequestedBy, in.ParentID
	r.ref = cloud.EnvRef{Cloud: in.Env.Cloud, Region: in.Env.Region, Project: in.Env.Project, Environment: in.Env.Environment, ServiceHint: in.Env.ServiceID}
	r.st.Ticket, r.st.Escalated, r.st.ServiceName = in.Ticket, in.Escalated, in.Request.CustomerEndpointService
	r.st.Company, r.st.Project, r.st.Environment, r.st.Cloud = in.Request.Company, in.Request.ProjectID, in.Request.Environment, in.Request.Cloud
	r.st.Deadline = addBusinessDays(in.Started, in.Policy.TargetBusinessDays)
	r.onPhase = func(ctx workflow.Context) { r.reporter.report(ctx, r.core) }
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return r.st, nil }); err != nil {
		return ReverseResult{}, err
	}
	workflow.Go(ctx, r.signals)
	return r.finish(ctx, r.runbook(ctx))
}

// isReverseID reports whether id is a reverse link of the enablement.
func isReverseID(parent, id string) bool {
	return id == parent+"/reverse" || strings.HasPrefix(id, parent+"/reverse/")
}

type reverse struct {
	*core
	in  ReverseInput
	ref cloud.EnvRef
	// reporter reports to the parent; nil when the steps run inside
	// another workflow (a change adding a reverse connection).
	reporter *reporter
	// created is true once this run created the endpoint it waits on.
	created bool
	// zoneCheck is false for runs started before the zone check (their
	// histories replay without it); zones are the platform's, once read.
	zoneCheck bool
	zones     cloud.Zones
}

// runbook is steps 7 to 11 of DESIGN.md.
func (r *reverse) runbook(ctx workflow.Context) error {
	r.zoneCheck = workflow.GetVersion(ctx, "zone-check", workflow.DefaultVersion, 1) == 1
	for _, step := range []func(workflow.Context) error{
		r.askForGrant,    // 7. post the platform principal (and its zones)
		r.awaitGrant,     // 8. wait until the platform can see the customer's service
		r.checkZones,     // the service is offered in every zone of the platform's
		r.createEndpoint, // 9-10. create the endpoint; the customer accepts it
		r.verify,         // 11. DNS and TCP from inside the platform network
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (r *reverse) service() string { return r.in.Request.CustomerEndpointService }

// 7.
func (r *reverse) askForGrant(ctx workflow.Context) error {
	if r.zoneCheck {
		if err := workflow.ExecuteActivity(act(ctx, "read the platform's availability zones"), a.Zones, activities.Service{Env: r.ref}).Get(ctx, &r.zones); err != nil {
			return err
		}
	}
	r.audit(ctx, "linkwright", "asked for access", r.in.Env.Principal+" on "+r.service())
	how := "add it to the allowed principals of your endpoint service"
	if r.in.Request.Cloud == request.CloudAzure {
		how = "add our subscription to the visibility of your Private Link service"
	}
	if r.in.Request.Cloud == request.CloudAlibaba {
		how = "add our account ID to the whitelist of your endpoint service, with manual acceptance"
	}
	msg := fmt.Sprintf("For the platform to reach your service %s, please %s:\n\n    %s\n\nTell us here when it is done.", r.service(), how, r.in.Env.Principal)
	zones := r.zones.Platform
	if r.in.Request.Cloud == request.CloudAlibaba && !strings.Contains(r.service(), ".privatelink."+r.in.Env.Region+".") {
		zones = nil // a service in another region: its zones are not the platform's to match
	}
	if len(zones) > 0 && r.in.Request.Cloud == request.CloudAlibaba {
		msg = fmt.Sprintf("For the platform to reach your service %s:\n\n"+
			"1. Offer the endpoint service in these zones, where the platform runs: %s (zone IDs are the same in every Alibaba Cloud account): add a service resource in each.\n"+
			"2. Give its load balancer a listener on each port the platform uses: %s.\n"+
			"3. Add our account ID to the endpoint service's whitelist, with automatic acceptance off:\n\n    %s\n\nTell us here when it is done.",
			r.service(), strings.Join(zones, ", "), ports(r.in.Request.CustomerServicePorts), r.in.Env.Principal)
	} else if len(zones) > 0 {
		msg = fmt.Sprintf("For the platform to reach your service %s:\n\n"+
			"1. Put the internal Network Load Balancer behind it in subnets of each of these availability zones, where the platform runs: %s. "+
			"These are zone IDs, which are the same in every AWS account; zone names (such as %sa) differ between accounts, so look up yours with `aws ec2 describe-availability-zones --region %s` (the ZoneName for each ZoneId).\n"+
			"2. Give it a listener on each port the platform uses: %s.\n"+
			"3. Allow our principal on the endpoint service, with acceptance required:\n\n    %s\n\nTell us here when it is done.",
			r.service(), strings.Join(zones, ", "), r.in.Env.Region, r.in.Env.Region, ports(r.in.Request.CustomerServicePorts), r.in.Env.Principal)
	}
	return r.reply(ctx, msg)
}

// 8.
func (r *reverse) awaitGrant(ctx workflow.Context) error {
	in := activities.Service{Env: r.ref, Service: r.service()}
	err := r.await(ctx, waitFor{
		phase: PhaseAwaitingGrant, on: WaitingOnCustomer,
		next: "the customer allows " + r.in.Env.Principal + " on " + r.service() + " (then signal " + SignalCustomerAccessGranted + ")",
		what: "allow " + r.in.Env.Principal + " on " + r.service(),
		poll: func(ctx workflow.Context) workflow.Future {
			return workflow.ExecuteActivity(ctx, a.AwaitServiceVisible, in)
		},
	})
	if err == nil {
		r.audit(ctx, "customer", "granted access", r.service())
	}
	return err
}

// checkZones makes sure the customer's service is offered in every
// availability zone of the platform deployment (AWS zone IDs; a regional
// cloud has nothing to check). On a mismatch it tells the customer which
// zone IDs are missing and waits for the fix: a nudge checks at once.
func (r *reverse) checkZones(ctx workflow.Context) error {
	if !r.zoneCheck || r.zones.Regional || len(r.zones.Platform) == 0 {
		return nil
	}
	in := activities.Service{Env: r.ref, Service: r.service()}
	var z cloud.Zones
	if err := workflow.ExecuteActivity(act(ctx, "read the zones of "+r.service()), a.Zones, in).Get(ctx, &z); err != nil {
		return err
	}
	missing := z.Missing()
	if len(missing) == 0 {
		r.audit(ctx, "linkwright", "checked the zones", r.service()+" is offered in every zone of the platform's: "+strings.Join(z.Platform, ", "))
		return nil
	}
	r.audit(ctx, "linkwright", "found zones missing", strings.Join(missing, ", ")+" (the service is offered in "+orNone(strings.Join(z.Service, ", "))+")")
	fix := fmt.Sprintf("Please add a subnet in %s to its Network Load Balancer (these are zone IDs; find your zone names with `aws ec2 describe-availability-zones --region %s`), and tell us here when it is done.",
		plural(len(missing), "that zone", "each of those zones"), r.in.Env.Region)
	if r.in.Request.Cloud == request.CloudAlibaba {
		fix = fmt.Sprintf("Please add a service resource in %s to the endpoint service, and tell us here when it is done.", plural(len(missing), "that zone", "each of those zones"))
	}
	if err := r.reply(ctx, fmt.Sprintf("Your endpoint service %s is not offered in %s %s, where the platform runs, so the platform cannot connect to it yet. %s",
		r.service(), plural(len(missing), "availability zone", "availability zones"), strings.Join(missing, ", "), fix)); err != nil {
		return err
	}
	if err := r.note(ctx, fmt.Sprintf("Zone check: the platform deployment runs in %s; %s is offered in %s; missing: %s. Waiting for the customer; a nudge (signal %s) checks again at once.",
		strings.Join(z.Platform, ", "), r.service(), orNone(strings.Join(z.Service, ", ")), strings.Join(missing, ", "), SignalCustomerAccessGranted)); err != nil {
		return err
	}
	err := r.await(ctx, waitFor{
		phase: PhaseAwaitingFix, on: WaitingOnCustomer,
		next: "the customer offers " + r.service() + " in zones " + strings.Join(missing, ", ") + " (then signal " + SignalCustomerAccessGranted + ")",
		what: "offer the service in zones " + strings.Join(missing, ", "),
		poll: func(ctx workflow.Context) workflow.Future {
			return workflow.ExecuteActivity(ctx, a.AwaitZonesCovered, in)
		},
		out: &z,
	})
	if err != nil {
		return err
	}
	r.audit(ctx, "customer", "covered the zones", r.service()+" is offered in "+strings.Join(z.Service, ", "))
	return r.reply(ctx, "Thank you: your service is now offered in every zone the platform runs in.")
}

// plural picks the singular or plural form for n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// 9-10. An approver confirms, the platform creates its endpoint, and the
// customer accepts it. An endpoint into the service that an earlier run (or
// a person) made is adopted instead: no second endpoint, and undo leaves it
// alone. If the customer rejects the endpoint, this run's is removed and the
// gate opens again: approve to try again, reject to end.
func (r *reverse) createEndpoint(ctx workflow.Context) error {
	for attempt := 1; ; attempt++ {
		ep, err := r.adoptOrCreate(ctx, attempt)
		if err != nil {
			return err
		}
		if err := r.reply(ctx, fmt.Sprintf("We created endpoint %s to your service %s. Please accept it on your side and tell us here.", ep.ID, r.service())); err != nil {
			return err
		}
		del := activities.Endpoint{Env: r.ref, ID: ep.ID}
		err = r.await(ctx, waitFor{
			phase: PhaseAwaitingEndpoint, on: WaitingOnCustomer,
			next: "the customer accepts endpoint " + ep.ID + " on " + r.service() + " (then signal " + SignalCustomerConnectionAccepted + ")",
			what: "accept the platform's endpoint " + ep.ID,
			poll: func(ctx workflow.Context) workflow.Future {
				return workflow.ExecuteActivity(ctx, a.AwaitEndpointAvailable, del)
			},
			out: &ep,
		})
		if errorType(err) == activities.ErrEndpointClosed {
			r.audit(ctx, "customer", "rejected the reverse endpoint", ep.ID)
			r.st.ReverseEndpointID, r.st.ReverseDNSName = "", ""
			said := fmt.Sprintf("Endpoint %s to your service was rejected.", ep.ID)
			if r.created {
				r.undo = r.undo[:len(r.undo)-1]
				r.created = false
				if err := workflow.ExecuteActivity(act(ctx, "delete the rejected endpoint"), a.DeleteEndpoint, del).Get(ctx, nil); err != nil {
					return err
				}
				said = fmt.Sprintf("Endpoint %s to your service was rejected, so we removed it.", ep.ID)
			}
			if err := r.reply(ctx, said+" If that was a mistake, tell us here and we will create a new one."); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		r.st.ReverseDNSName = ep.DNSName
		r.audit(ctx, "customer", "accepted the reverse endpoint", ep.ID)
		return nil
	}
}

// adoptOrCreate finds the platform's endpoint into the customer's service
// that an earlier run or a person made, or, after an approver confirms at
// gate create-reverse-endpoint, creates one. The idempotency token is this
// run's ID and the attempt: stable across retries of the activity, and new
// for every run, so that a re-run never gets a deleted endpoint back.
func (r *reverse) adoptOrCreate(ctx workflow.Context, attempt int) (cloud.Endpoint, error) {
	var found []cloud.Endpoint
	if err := workflow.ExecuteActivity(act(ctx, "look for an existing endpoint"), a.PlatformEndpoints, activities.Service{Env: r.ref, Service: r.service()}).Get(ctx, &found); err != nil {
		return cloud.Endpoint{}, err
	}
	if len(found) > 0 {
		ep := found[0]
		r.st.ReverseEndpointID, r.st.ReverseDNSName = ep.ID, ep.DNSName
		r.audit(ctx, "linkwright", "found the reverse endpoint", ep.ID+" ("+string(ep.State)+"), made before this run: adopted; undo leaves it in place")
		return ep, nil
	}
	if _, err := r.gate(ctx, GateCreateReverseEndpoint, "an approver confirms the platform may create an endpoint into "+r.service()+" (update "+Approve+", gate "+GateCreateReverseEndpoint+")"); err != nil {
		return cloud.Endpoint{}, err
	}
	r.setPhase(ctx, PhaseCreatingEndpoint, WaitingOnCloud, "creating the platform's endpoint into "+r.service())
	spec := cloud.EndpointSpec{Env: r.ref, Service: r.service(), Token: workflow.GetInfo(ctx).WorkflowExecution.RunID + "/" + strconv.Itoa(attempt),
		Description: clipTo(fmt.Sprintf("Platform endpoint for %s, ticket %s", r.in.Request.Company, r.st.Ticket), 140)}
	var ep cloud.Endpoint
	if err := workflow.ExecuteActivity(act(ctx, "create the reverse endpoint"), a.CreateEndpoint, spec).Get(ctx, &ep); err != nil {
		return ep, err
	}
	del := activities.Endpoint{Env: r.ref, ID: ep.ID}
	r.created = true
	r.compensate("delete reverse endpoint "+ep.ID, func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(act(ctx, "undo: delete the reverse endpoint"), a.DeleteEndpoint, del).Get(ctx, nil)
	})
	r.st.ReverseEndpointID, r.st.ReverseDNSName = ep.ID, ep.DNSName
	r.audit(ctx, "linkwright", "created the reverse endpoint", ep.ID)
	return ep, nil
}

// 11. The customer is told what fails in words meant for them; the
// diagnosis with addresses and the checks to run by hand goes in an
// internal note.
func (r *reverse) verify(ctx workflow.Context) error {
	r.setPhase(ctx, PhaseVerifyingReverse, WaitingOnNone, "checking DNS and TCP to "+r.st.ReverseDNSName+" from the platform network")
	target := activities.ProbeTarget{Host: r.st.ReverseDNSName, Ports: r.in.Request.CustomerServicePorts}
	var res []probe.Result
	if err := workflow.ExecuteActivity(act(ctx, "probe "+target.Host), a.Probe, target).Get(ctx, &res); err != nil {
		return err
	}
	r.st.Verification = res
	if failing := failures(res); len(failing) > 0 {
		r.audit(ctx, "linkwright", "reverse link failed verification", strings.Join(failing, "; "))
		if err := r.note(ctx, "The reverse link fails verification from the platform network:\n- "+strings.Join(failing, "\n- ")+"\nThe customer was asked to check their side; Linkwright re-checks with backoff, or at once on any customer signal."); err != nil {
			return err
		}
		if err := r.reply(ctx, "We cannot reach your service yet:\n- "+strings.Join(advice(res), "\n- ")+"\n\nWe re-check automatically; tell us here when you have fixed it."); err != nil {
			return err
		}
		err := r.await(ctx, waitFor{
			phase: PhaseAwaitingFix, on: WaitingOnCustomer,
			next: "the customer fixes: " + strings.Join(failing, "; "),
			what: "fix the ports we cannot reach",
			poll: func(ctx workflow.Context) workflow.Future {
				return workflow.ExecuteActivity(ctx, a.AwaitProbeOK, target)
			},
			out: &res,
		})
		if err != nil {
			return err
		}
		r.st.Verification = res
	}
	r.audit(ctx, "linkwright", "verified the reverse link", target.Host+": connected on "+ports(target.Ports))
	return nil
}

// advice is what the customer is told about the ports that fail.
func advice(res []probe.Result) []string {
	var out []string
	for _, r := range res {
		if !r.OK() && r.Advice != "" {
			out = append(out, r.Advice)
		}
	}
	return out
}

func failures(res []probe.Result) []string {
	var out []string
	for _, r := range res {
		if !r.OK() {
			out = append(out, r.Diagnosis)
		}
	}
	return out
}

func clipTo(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// finish ends the reverse link with a result, whatever happened: the
// result carries the audit trail, so the enablement loses nothing. An
// error the run cannot retry is the outcome "failed", not a workflow
// failure, for the same reason.
func (r *reverse) finish(ctx workflow.Context, err error) (ReverseResult, error) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	res := ReverseResult{EndpointID: r.st.ReverseEndpointID, DNSName: r.st.ReverseDNSName, Verification: r.st.Verification, Created: r.created}
	var end *ended
	switch {
	case err == nil:
		res.Outcome = OutcomeCompleted
		r.setPhase(dctx, PhaseCompleted, WaitingOnNone, "the platform reaches the customer's service")
		return r.result(res), nil
	case errors.As(err, &end):
	case temporal.IsCanceledError(err) || ctx.Err() != nil:
		end = &ended{Outcome: OutcomeCancelled, By: "linkwright", Why: "the enablement ended"}
	default:
		r.audit(dctx, "linkwright", "failed", err.Error())
		r.setPhase(dctx, PhaseFailed, WaitingOnOperator, err.Error())
		res.Outcome, res.By, res.Why = OutcomeFailed, "linkwright", err.Error()
		return r.result(res), nil
	}
	r.setPhase(dctx, PhaseUndoing, WaitingOnCloud, "undoing the reverse link")
	if failed := r.undoAll(dctx); len(failed) > 0 {
		_ = r.note(dctx, "Undo failed for some steps of the reverse link; do them by hand:\n- "+strings.Join(failed, "\n- "))
	}
	res.EndpointID, res.DNSName, res.Created = "", "", false
	res.Outcome, res.By, res.Why = end.Outcome, end.By, end.Why
	final := map[string]Phase{OutcomeRejected: PhaseRejected, OutcomeCancelled: PhaseCancelled, OutcomeExpired: PhaseExpired}[end.Outcome]
	r.setPhase(dctx, final, WaitingOnNone, end.Outcome+": "+end.Why)
	return r.result(res), nil
}

func (r *reverse) result(res ReverseResult) ReverseResult {
	res.Audit, res.Escalated = r.st.Audit, r.st.Escalated
	return res
}

// signals takes decisions forwarded by the enablement, checking each again
// (anyone could send this signal: a stranger is refused and audited), and
// nudges, which only make the run check the cloud now.
func (r *reverse) signals(ctx workflow.Context) {
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, signalReverseDecision), func(ch workflow.ReceiveChannel, _ bool) {
		var raw json.RawMessage
		ch.Receive(ctx, &raw)
		var d decision
		if err := strictJSON(raw, &d); err != nil {
			r.audit(ctx, "unknown", "decision refused (reverse link)", "the payload is not a decision: "+err.Error())
		} else if d.Kind != Approve && d.Kind != Reject {
			r.audit(ctx, normalize(d.Approver), d.what()+" refused (reverse link)", "only approve and reject are taken here; send decisions to "+r.home)
		} else if r.admit(ctx, &d, "reverse link") == nil {
			r.decision = &d
		}
		r.onPhase(ctx)
	})
	sel.AddReceive(workflow.GetSignalChannel(ctx, signalReverseNudge), func(ch workflow.ReceiveChannel, _ bool) {
		ch.Receive(ctx, nil)
		r.nudge.SendAsync(struct{}{})
	})
	for {
		sel.Select(ctx)
	}
}
