package workflows

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// setup registers the status query, the decision updates and the signals.
// Updates check the payload's shape and signed identity in their validator
// (a malformed or unsigned update is rejected and leaves no trace) and
// decide authorisation in the handler, so that every refused attempt is in
// the audit trail.
func (e *enablement) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return e.status(), nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, Approve,
		func(ctx workflow.Context, v Approval) (Status, error) {
			err := e.decide(ctx, fromApproval(v), "update")
			return e.status(), err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, v Approval) error { return e.checkDecision(ctx, fromApproval(v)) }}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, Reject,
		func(ctx workflow.Context, v Rejection) (Status, error) {
			err := e.decide(ctx, fromRejection(v), "update")
			return e.status(), err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, v Rejection) error { return e.checkDecision(ctx, fromRejection(v)) }}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, Cancel,
		func(ctx workflow.Context, v Cancellation) (Status, error) {
			err := e.decide(ctx, fromCancellation(v), "update")
			return e.status(), err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, v Cancellation) error { return e.checkDecision(ctx, fromCancellation(v)) }}); err != nil {
		return err
	}
	workflow.Go(ctx, e.signals)
	return nil
}

// decide applies a decision if its approver may make it now; either way
// the attempt goes into the audit trail. A decision at the reverse link's
// gate is checked here against the reverse link's own state, read from the
// server, then forwarded to it, and the reverse link checks it again.
func (e *enablement) decide(ctx workflow.Context, d decision, via string) error {
	forward := d.Kind != Cancel && e.child.running && d.Gate == GateCreateReverseEndpoint
	if forward {
		e.refreshPolicy(ctx)
		e.syncChild(ctx)
	}
	if err := e.admit(ctx, &d, via); err != nil {
		return err
	}
	switch {
	case d.Kind == Cancel:
		e.cancelled = &ended{Outcome: OutcomeCancelled, By: d.Approver, Why: d.Text}
		e.stop()
	case forward:
		e.st.Gate = "" // until the reverse link says where it stands
		return workflow.SignalExternalWorkflow(ctx, e.child.id, e.child.runID, signalReverseDecision, d).Get(ctx, nil)
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
		e.signalDecision(ctx, strictJSON(raw, &v), fromApproval(v))
	})
	on(Reject, func(raw json.RawMessage) {
		var v Rejection
		e.signalDecision(ctx, strictJSON(raw, &v), fromRejection(v))
	})
	on(Cancel, func(raw json.RawMessage) {
		var v Cancellation
		e.signalDecision(ctx, strictJSON(raw, &v), fromCancellation(v))
	})
	// The reverse link says its status changed. The signal carries nothing
	// this run trusts: anyone could send it. It only makes this run read
	// the reverse link's status from the server (syncChild).
	on(signalReverseProgress, func(json.RawMessage) {
		if e.child.running {
			e.child.dirty = true
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
		e.audit(ctx, normalize(d.Approver), d.what()+" refused (signal)", d.Kind+": the payload is not valid JSON for it: "+invalid.Error())
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
	if e.child.running {
		_ = workflow.SignalExternalWorkflow(ctx, e.child.id, e.child.runID, signalReverseNudge, name).Get(ctx, nil)
	}
}
