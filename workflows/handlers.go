package workflows

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// decider is a workflow that takes human decisions: it checks a decision
// in the update validator (shape and signed identity, which leave no trace
// when refused) and decides authorisation where it acts on it, so that
// every refused attempt is in the audit trail.
type decider interface {
	checkDecision(ctx workflow.Context, d decision) error
	decide(ctx workflow.Context, d decision, via string) error
	status() Status
}

// setDecisionHandlers registers the status query and approve, reject and
// cancel as updates.
func setDecisionHandlers(ctx workflow.Context, w decider) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) { return w.status(), nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, Approve,
		func(ctx workflow.Context, v Approval) (Status, error) {
			err := w.decide(ctx, fromApproval(v), "update")
			return w.status(), err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, v Approval) error { return w.checkDecision(ctx, fromApproval(v)) }}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, Reject,
		func(ctx workflow.Context, v Rejection) (Status, error) {
			err := w.decide(ctx, fromRejection(v), "update")
			return w.status(), err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, v Rejection) error { return w.checkDecision(ctx, fromRejection(v)) }}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, Cancel,
		func(ctx workflow.Context, v Cancellation) (Status, error) {
			err := w.decide(ctx, fromCancellation(v), "update")
			return w.status(), err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, v Cancellation) error { return w.checkDecision(ctx, fromCancellation(v)) }})
}

// setup registers the enablement's query, updates and signals.
func (e *enablement) setup(ctx workflow.Context) error {
	if err := setDecisionHandlers(ctx, e); err != nil {
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
		e.syncChild(ctx, &e.child, e.showReverse)
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

// signalLoop receives signals for the life of a run. Payloads arrive as
// raw JSON and are decoded by each handler, so that a malformed one is
// recorded and ignored instead of stalling the channel.
type signalLoop struct {
	ctx workflow.Context
	sel workflow.Selector
}

func newSignalLoop(ctx workflow.Context) *signalLoop {
	return &signalLoop{ctx: ctx, sel: workflow.NewSelector(ctx)}
}

func (s *signalLoop) on(name string, handle func(raw json.RawMessage)) {
	s.sel.AddReceive(workflow.GetSignalChannel(s.ctx, name), func(ch workflow.ReceiveChannel, _ bool) {
		var raw json.RawMessage
		ch.Receive(s.ctx, &raw)
		handle(raw)
	})
}

// decisions takes approve, reject and cancel as signals too.
func (s *signalLoop) decisions(c *core, w decider) {
	take := func(invalid error, d decision) {
		if invalid != nil {
			c.audit(s.ctx, normalize(d.Approver), d.what()+" refused (signal)", d.Kind+": the payload is not valid JSON for it: "+invalid.Error())
			return
		}
		if err := w.decide(s.ctx, d, "signal"); err != nil {
			workflow.GetLogger(s.ctx).Info("decision refused", "kind", d.Kind, "approver", d.Approver, "error", err)
		}
	}
	s.on(Approve, func(raw json.RawMessage) {
		var v Approval
		take(strictJSON(raw, &v), fromApproval(v))
	})
	s.on(Reject, func(raw json.RawMessage) {
		var v Rejection
		take(strictJSON(raw, &v), fromRejection(v))
	})
	s.on(Cancel, func(raw json.RawMessage) {
		var v Cancellation
		take(strictJSON(raw, &v), fromCancellation(v))
	})
}

// customer takes the customer's signals: handle runs for each.
func (s *signalLoop) customer(c *core, handle func(name, detail string), verified func(v CustomerVerified)) {
	for _, name := range []string{SignalCustomerEndpointCreated, SignalCustomerAccessGranted, SignalCustomerConnectionAccepted} {
		s.on(name, func(raw json.RawMessage) {
			var v CustomerEvent
			_ = json.Unmarshal(raw, &v) // the payload is optional
			handle(name, v.Detail)
		})
	}
	s.on(SignalCustomerVerified, func(raw json.RawMessage) {
		var v CustomerVerified
		if err := strictJSON(raw, &v); err != nil {
			c.audit(s.ctx, "customer", SignalCustomerVerified+" refused (signal)", `payload must be {"ok": true|false, "detail": "..."}: `+err.Error())
			return
		}
		verified(v)
		handle(SignalCustomerVerified, fmt.Sprintf("ok=%t %s", v.OK, v.Detail))
	})
}

func (s *signalLoop) run() {
	for {
		s.sel.Select(s.ctx)
	}
}

// signals receives every signal for the life of the enablement.
func (e *enablement) signals(ctx workflow.Context) {
	s := newSignalLoop(ctx)
	s.customer(e.core, func(name, detail string) { e.customerSignal(ctx, name, detail) }, func(v CustomerVerified) { e.verified = &v })
	s.decisions(e.core, e)
	// The reverse link says its status changed. The signal carries nothing
	// this run trusts: anyone could send it. It only makes this run read
	// the reverse link's status from the server (syncChild).
	s.on(signalReverseProgress, func(json.RawMessage) {
		if e.child.running {
			e.child.dirty = true
		}
	})
	s.run()
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

// customerSignal records a fact from the customer and checks at once.
func (e *enablement) customerSignal(ctx workflow.Context, name, detail string) {
	e.audit(ctx, "customer", name, detail)
	e.nudge.SendAsync(struct{}{})
	if e.child.running {
		_ = workflow.SignalExternalWorkflow(ctx, e.child.id, e.child.runID, signalReverseNudge, name).Get(ctx, nil)
	}
}
