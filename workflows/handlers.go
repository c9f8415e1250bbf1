package workflows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// setup registers the status query, the decision updates and the signals.
// Updates validate the payload's shape in their validator (a malformed
// update is rejected and leaves no trace) and decide authorisation in the
// handler, so that every refused attempt is in the audit trail.
func (e *enablement) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return e.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, Approve,
		func(ctx workflow.Context, v Approval) (Status, error) {
			return e.st, e.decide(ctx, decision{Kind: Approve, Gate: v.Gate, Approver: v.Approver, Text: v.Comment}, "update")
		},
		workflow.UpdateHandlerOptions{Validator: func(v Approval) error { return checkApproval(v) }}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, Reject,
		func(ctx workflow.Context, v Rejection) (Status, error) {
			return e.st, e.decide(ctx, decision{Kind: Reject, Gate: v.Gate, Approver: v.Approver, Text: v.Reason}, "update")
		},
		workflow.UpdateHandlerOptions{Validator: func(v Rejection) error { return checkRejection(v) }}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, Cancel,
		func(ctx workflow.Context, v Cancellation) (Status, error) {
			return e.st, e.decide(ctx, decision{Kind: Cancel, Approver: v.Approver, Text: v.Reason}, "update")
		},
		workflow.UpdateHandlerOptions{Validator: func(v Cancellation) error { return checkCancellation(v) }}); err != nil {
		return err
	}
	workflow.Go(ctx, e.signals)
	return nil
}

func checkApproval(v Approval) error {
	return shape(Approve, v.Gate, v.Approver, "-", true)
}

func checkRejection(v Rejection) error {
	return shape(Reject, v.Gate, v.Approver, v.Reason, true)
}

func checkCancellation(v Cancellation) error {
	return shape(Cancel, "", v.Approver, v.Reason, false)
}

func shape(kind, gate, approver, reason string, needGate bool) error {
	var missing []string
	if needGate && !slices.Contains(Gates, gate) {
		missing = append(missing, fmt.Sprintf(`"gate" must be one of %s (got %q)`, strings.Join(Gates, ", "), gate))
	}
	if strings.TrimSpace(approver) == "" {
		missing = append(missing, `"approver" is required: your email, as listed in the worker's approvers`)
	}
	if strings.TrimSpace(reason) == "" {
		missing = append(missing, `"reason" is required: it is posted on the ticket`)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: %s", kind, strings.Join(missing, "; "))
	}
	return nil
}

// decide applies a decision if its approver may make it now; either way
// the attempt goes into the audit trail.
func (e *enablement) decide(ctx workflow.Context, d decision, via string) error {
	d.Approver = strings.ToLower(strings.TrimSpace(d.Approver))
	what := d.Kind
	if d.Gate != "" {
		what += " " + d.Gate
	}
	if err := e.authorize(d.Kind, d.Gate, d.Approver); err != nil {
		e.audit(ctx, d.Approver, what+" refused ("+via+")", err.Error())
		return err
	}
	e.audit(ctx, d.Approver, what+" ("+via+")", d.Text)
	switch {
	case d.Kind == Cancel:
		e.cancelled = &ended{Outcome: OutcomeCancelled, By: d.Approver, Why: d.Text}
		e.stop()
	case e.childRunning && d.Gate == e.childGate:
		e.childGate, e.st.Gate = "", ""
		return workflow.SignalExternalWorkflow(ctx, e.reverseID(), "", signalReverseDecision, d).Get(ctx, nil)
	default:
		e.decision = &d
	}
	return nil
}

// signals receives every signal for the life of the run. Payloads arrive
// as raw JSON and are decoded here, so that a malformed one is recorded
// and ignored instead of stalling the channel.
func (e *enablement) signals(ctx workflow.Context) {
	sel := workflow.NewSelector(ctx)
	on := func(name string, handle func(raw json.RawMessage)) {
		sel.AddReceive(workflow.GetSignalChannel(ctx, name), func(ch workflow.ReceiveChannel, _ bool) {
			var raw json.RawMessage
			ch.Receive(ctx, &raw)
			handle(raw)
		})
	}
	for _, name := range []string{SignalCustomerEndpointCreated, SignalCustomerAccessGranted, SignalCustomerConnectionAccepted} {
		on(name, func(raw json.RawMessage) {
			var v CustomerEvent
			_ = json.Unmarshal(raw, &v) // the payload is optional
			e.customerSignal(ctx, name, v.Detail)
		})
	}
	on(SignalCustomerVerified, func(raw json.RawMessage) {
		var v CustomerVerified
		if err := strictJSON(raw, &v); err != nil {
			e.audit(ctx, "customer", SignalCustomerVerified+" refused (signal)", `payload must be {"ok": true|false, "detail": "..."}: `+err.Error())
			return
		}
		e.verified = &v
		e.customerSignal(ctx, SignalCustomerVerified, fmt.Sprintf("ok=%t %s", v.OK, v.Detail))
	})
	on(Approve, func(raw json.RawMessage) {
		var v Approval
		err := strictJSON(raw, &v)
		if err == nil {
			err = checkApproval(v)
		}
		e.signalDecision(ctx, err, decision{Kind: Approve, Gate: v.Gate, Approver: v.Approver, Text: v.Comment})
	})
	on(Reject, func(raw json.RawMessage) {
		var v Rejection
		err := strictJSON(raw, &v)
		if err == nil {
			err = checkRejection(v)
		}
		e.signalDecision(ctx, err, decision{Kind: Reject, Gate: v.Gate, Approver: v.Approver, Text: v.Reason})
	})
	on(Cancel, func(raw json.RawMessage) {
		var v Cancellation
		err := strictJSON(raw, &v)
		if err == nil {
			err = checkCancellation(v)
		}
		e.signalDecision(ctx, err, decision{Kind: Cancel, Approver: v.Approver, Text: v.Reason})
	})
	on(signalReverseProgress, func(raw json.RawMessage) {
		var p reverseProgress
		if json.Unmarshal(raw, &p) == nil {
			e.applyProgress(ctx, p)
		}
	})
	for {
		sel.Select(ctx)
	}
}

// strictJSON decodes a signal payload, refusing unknown fields.
func strictJSON(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return fmt.Errorf("the payload is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// signalDecision handles a decision sent as a signal: an invalid one is
// recorded and ignored.
func (e *enablement) signalDecision(ctx workflow.Context, invalid error, d decision) {
	if invalid != nil {
		e.audit(ctx, d.Approver, d.Kind+" refused (signal)", invalid.Error())
		return
	}
	if err := e.decide(ctx, d, "signal"); err != nil {
		workflow.GetLogger(ctx).Info("decision refused", "kind", d.Kind, "approver", d.Approver, "error", err)
	}
}

// customerSignal records a fact from the customer and checks at once.
func (e *enablement) customerSignal(ctx workflow.Context, name, detail string) {
	e.audit(ctx, "customer", name, detail)
	e.nudge.SendAsync(struct{}{})
	if e.childRunning {
		_ = workflow.SignalExternalWorkflow(ctx, e.reverseID(), "", signalReverseNudge, name).Get(ctx, nil)
	}
}

// applyProgress mirrors the reverse link's progress in this run's status.
func (e *enablement) applyProgress(ctx workflow.Context, p reverseProgress) {
	if !e.childRunning {
		return
	}
	e.childGate = p.Gate
	e.st.Gate = p.Gate
	e.st.ReverseEndpointID, e.st.ReverseDNSName, e.st.Verification = p.EndpointID, p.DNSName, p.Verification
	e.st.Escalated = e.st.Escalated || p.Escalated
	e.st.Audit = append(e.st.Audit, p.Audit...)
	e.setPhase(ctx, p.Phase, p.WaitingOn, p.Next)
}
