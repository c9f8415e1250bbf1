package workflows

import (
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

// ReverseResult is how the reverse link ended.
type ReverseResult struct {
	Outcome      string         `json:"outcome"`
	By           string         `json:"by,omitempty"`
	Why          string         `json:"why,omitempty"`
	EndpointID   string         `json:"endpointId,omitempty"`
	DNSName      string         `json:"dnsName,omitempty"`
	Verification []probe.Result `json:"verification,omitempty"`
}

// reverseProgress is what the child reports to its parent at each phase.
type reverseProgress struct {
	Phase        Phase          `json:"phase"`
	WaitingOn    WaitingOn      `json:"waitingOn"`
	Next         string         `json:"next"`
	Gate         string         `json:"gate,omitempty"`
	Escalated    bool           `json:"escalated"`
	EndpointID   string         `json:"endpointId,omitempty"`
	DNSName      string         `json:"dnsName,omitempty"`
	Verification []probe.Result `json:"verification,omitempty"`
	Audit        []AuditEntry   `json:"audit,omitempty"`
}

// PrivateLinkReverseLink is the bidirectional leg: the platform reaches the
// customer's endpoint service. It runs as a child of the enablement, which
// authorises decisions and forwards them here.
func PrivateLinkReverseLink(ctx workflow.Context, in ReverseInput) (ReverseResult, error) {
	r := &reverse{core: newCore(ctx), in: in}
	r.policy, r.started, r.requester, r.home = in.Policy, in.Started, in.Request.RequestedBy, in.ParentID
	r.ref = cloud.EnvRef{Cloud: in.Env.Cloud, Region: in.Env.Region, Project: in.Env.Project, Environment: in.Env.Environment}
	r.st.Ticket, r.st.Escalated, r.st.ServiceName = in.Ticket, in.Escalated, in.Request.CustomerEndpointService
	r.st.Company, r.st.Project, r.st.Environment, r.st.Cloud = in.Request.Company, in.Request.ProjectID, in.Request.Environment, in.Request.Cloud
	r.st.Deadline = addBusinessDays(in.Started, in.Policy.TargetBusinessDays)
	r.onPhase = r.report
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return r.st, nil }); err != nil {
		return ReverseResult{}, err
	}
	workflow.Go(ctx, r.signals)
	return r.finish(ctx, r.runbook(ctx))
}

type reverse struct {
	core
	in       ReverseInput
	ref      cloud.EnvRef
	reported int // audit entries already sent to the parent
}

// runbook is steps 7 to 11 of DESIGN.md.
func (r *reverse) runbook(ctx workflow.Context) error {
	for _, step := range []func(workflow.Context) error{
		r.askForGrant,    // 7. post the platform principal
		r.awaitGrant,     // 8. wait until the platform can see the customer's service
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
	r.audit(ctx, "linkwright", "asked for access", r.in.Env.Principal+" on "+r.service())
	how := "add it to the allowed principals of your endpoint service"
	if r.in.Request.Cloud == request.CloudAzure {
		how = "add our subscription to the visibility of your Private Link service"
	}
	return r.reply(ctx, fmt.Sprintf("For the platform to reach your service %s, please %s:\n\n    %s\n\nTell us here when it is done.", r.service(), how, r.in.Env.Principal))
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

// 9-10. An approver confirms, the platform creates its endpoint, and the
// customer accepts it. If the customer rejects it, the endpoint is removed
// and the gate opens again: approve to try again, reject to end.
func (r *reverse) createEndpoint(ctx workflow.Context) error {
	for attempt := 1; ; attempt++ {
		if _, err := r.gate(ctx, GateCreateReverseEndpoint, "an approver confirms the platform may create an endpoint into "+r.service()+" (update "+Approve+", gate "+GateCreateReverseEndpoint+")"); err != nil {
			return err
		}
		r.setPhase(ctx, PhaseCreatingEndpoint, WaitingOnCloud, "creating the platform's endpoint into "+r.service())
		spec := cloud.EndpointSpec{Env: r.ref, Service: r.service(), Token: r.id + "/" + strconv.Itoa(attempt),
			Description: clipTo(fmt.Sprintf("Platform endpoint for %s, ticket %s", r.in.Request.Company, r.st.Ticket), 140)}
		var ep cloud.Endpoint
		if err := workflow.ExecuteActivity(act(ctx, "create the reverse endpoint"), a.CreateEndpoint, spec).Get(ctx, &ep); err != nil {
			return err
		}
		del := activities.Endpoint{Env: r.ref, ID: ep.ID}
		r.compensate("delete reverse endpoint "+ep.ID, func(ctx workflow.Context) error {
			return workflow.ExecuteActivity(act(ctx, "undo: delete the reverse endpoint"), a.DeleteEndpoint, del).Get(ctx, nil)
		})
		r.st.ReverseEndpointID, r.st.ReverseDNSName = ep.ID, ep.DNSName
		r.audit(ctx, "linkwright", "created the reverse endpoint", ep.ID)
		if err := r.reply(ctx, fmt.Sprintf("We created endpoint %s to your service %s. Please accept it on your side and tell us here.", ep.ID, r.service())); err != nil {
			return err
		}
		err := r.await(ctx, waitFor{
			phase: PhaseAwaitingEndpoint, on: WaitingOnCustomer,
			next: "the customer accepts endpoint " + ep.ID + " on " + r.service() + " (then signal " + SignalCustomerConnectionAccepted + ")",
			what: "accept the platform's endpoint " + ep.ID,
			poll: func(ctx workflow.Context) workflow.Future {
				return workflow.ExecuteActivity(ctx, a.AwaitEndpointAvailable, del)
			},
			out: &ep,
		})
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == activities.ErrEndpointClosed {
			r.audit(ctx, "customer", "rejected the reverse endpoint", ep.ID)
			r.undo = r.undo[:len(r.undo)-1]
			if err := workflow.ExecuteActivity(act(ctx, "delete the rejected endpoint"), a.DeleteEndpoint, del).Get(ctx, nil); err != nil {
				return err
			}
			r.st.ReverseEndpointID, r.st.ReverseDNSName = "", ""
			if err := r.reply(ctx, fmt.Sprintf("Endpoint %s to your service was rejected, so we removed it. If that was a mistake, tell us here and we will create a new one.", ep.ID)); err != nil {
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

// 11.
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
		msg := "We cannot reach your service yet:\n- " + strings.Join(failing, "\n- ") + "\n\nWe re-check automatically; tell us here when you have fixed it."
		if err := r.reply(ctx, msg); err != nil {
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

func (r *reverse) finish(ctx workflow.Context, err error) (ReverseResult, error) {
	res := ReverseResult{EndpointID: r.st.ReverseEndpointID, DNSName: r.st.ReverseDNSName, Verification: r.st.Verification}
	if err == nil {
		res.Outcome = OutcomeCompleted
		r.setPhase(ctx, PhaseCompleted, WaitingOnNone, "the platform reaches the customer's service")
		return res, nil
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	var end *ended
	isEnd := errors.As(err, &end)
	if !isEnd && !temporal.IsCanceledError(err) && ctx.Err() == nil {
		r.setPhase(dctx, PhaseFailed, WaitingOnOperator, err.Error())
		return res, err
	}
	r.setPhase(dctx, PhaseUndoing, WaitingOnCloud, "undoing the reverse link")
	if failed := r.undoAll(dctx); len(failed) > 0 {
		_ = r.note(dctx, "Undo failed for some steps of the reverse link; do them by hand:\n- "+strings.Join(failed, "\n- "))
	}
	res.EndpointID, res.DNSName = "", ""
	if !isEnd {
		r.report(dctx)
		return res, temporal.NewCanceledError()
	}
	res.Outcome, res.By, res.Why = end.Outcome, end.By, end.Why
	r.report(dctx)
	return res, nil
}

// signals takes decisions (already authorised by the parent) and nudges.
func (r *reverse) signals(ctx workflow.Context) {
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, signalReverseDecision), func(ch workflow.ReceiveChannel, _ bool) {
		var d decision
		ch.Receive(ctx, &d)
		if d.Gate == r.st.Gate {
			r.decision = &d
		}
	})
	sel.AddReceive(workflow.GetSignalChannel(ctx, signalReverseNudge), func(ch workflow.ReceiveChannel, _ bool) {
		ch.Receive(ctx, nil)
		r.nudge.SendAsync(struct{}{})
	})
	for {
		sel.Select(ctx)
	}
}

// report sends the parent this run's progress and new audit entries.
func (r *reverse) report(ctx workflow.Context) {
	p := reverseProgress{Phase: r.st.Phase, WaitingOn: r.st.WaitingOn, Next: r.st.Next, Gate: r.st.Gate, Escalated: r.st.Escalated,
		EndpointID: r.st.ReverseEndpointID, DNSName: r.st.ReverseDNSName, Verification: r.st.Verification,
		Audit: r.st.Audit[r.reported:]}
	r.reported = len(r.st.Audit)
	_ = workflow.SignalExternalWorkflow(ctx, r.in.ParentID, "", signalReverseProgress, p).Get(ctx, nil)
}
