package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/linkwright/linkwright/internal/approval"
)

// decision is a human decision, however it arrived (update, signal, or
// forwarded from the enablement to its reverse link). Every workflow that
// acts on one checks it itself: shape, signed identity, approver list,
// four-eyes rule and open gate, and audits the attempt either way.
type decision struct {
	Kind     string `json:"kind"` // approve, reject or cancel
	Gate     string `json:"gate,omitempty"`
	Approver string `json:"approver"`
	Text     string `json:"text,omitempty"` // comment or reason
	// Token is the approver's OIDC ID token, when the decision carries one.
	Token string `json:"token,omitempty"`
}

func fromApproval(v Approval) decision {
	return decision{Kind: Approve, Gate: v.Gate, Approver: v.Approver, Text: v.Comment, Token: v.IDToken}
}

func fromRejection(v Rejection) decision {
	return decision{Kind: Reject, Gate: v.Gate, Approver: v.Approver, Text: v.Reason, Token: v.IDToken}
}

func fromCancellation(v Cancellation) decision {
	return decision{Kind: Cancel, Approver: v.Approver, Text: v.Reason, Token: v.IDToken}
}

// what names the decision in the audit trail: "approve accept-connection".
func (d decision) what() string {
	if d.Gate != "" {
		return d.Kind + " " + d.Gate
	}
	return d.Kind
}

// shape checks what needs no workflow state: every problem at once.
func (d decision) shape() error {
	var missing []string
	if d.Kind != Cancel && !slices.Contains(Gates, d.Gate) {
		missing = append(missing, fmt.Sprintf(`"gate" must be one of %s (got %q)`, strings.Join(Gates, ", "), d.Gate))
	}
	if strings.TrimSpace(d.Approver) == "" && d.Token == "" {
		missing = append(missing, `"approver" is required: your email, as listed in the worker's approvers`)
	}
	if d.Kind != Approve && strings.TrimSpace(d.Text) == "" {
		missing = append(missing, `"reason" is required: it is posted on the ticket`)
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: %s", d.Kind, strings.Join(missing, "; "))
	}
	return nil
}

func normalize(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// identify verifies the decision's signed identity, where the policy asks
// for one or the decision carries a token, and makes the approver the
// token's verified e-mail. It returns the token's issuer ("" when the
// decision is unsigned). It is deterministic: the policy comes from
// history and the time is the workflow's.
func (c *core) identify(now time.Time, d *decision) (string, error) {
	d.Approver = normalize(d.Approver)
	sa := c.policy.SignedApprovals
	if d.Token == "" {
		if sa.Required {
			return "", fmt.Errorf(`signed approvals are required: pass your OIDC ID token as "idToken" (see the README, "Signed approvals")`)
		}
		return "", nil
	}
	id, err := approval.Verify(sa, d.Token, now)
	if err != nil {
		return "", err
	}
	if d.Approver != "" && d.Approver != id.Email {
		return "", fmt.Errorf("approver %s does not match the ID token's verified e-mail %s: leave approver out or make it the same", d.Approver, id.Email)
	}
	d.Approver = id.Email
	return id.Issuer, nil
}

// checkDecision is an update validator: it rejects a malformed or unsigned
// decision before it reaches history. It changes nothing.
func (c *core) checkDecision(ctx workflow.Context, d decision) error {
	if err := d.shape(); err != nil {
		return err
	}
	_, err := c.identify(workflow.Now(ctx), &d)
	return err
}

// admit checks a decision where it is acted on and audits the attempt:
// shape, identity, then authorisation. via says how it arrived.
func (c *core) admit(ctx workflow.Context, d *decision, via string) error {
	issuer := ""
	err := d.shape()
	if err == nil {
		issuer, err = c.identify(workflow.Now(ctx), d)
	}
	if err == nil {
		err = c.authorize(d.Kind, d.Gate, d.Approver)
	}
	if err != nil {
		c.audit(ctx, normalize(d.Approver), d.what()+" refused ("+via+")", err.Error())
		return err
	}
	detail := d.Text
	if issuer != "" {
		detail = strings.TrimSpace(detail + " (signed by " + issuer + ")")
	}
	c.audit(ctx, d.Approver, d.what()+" ("+via+")", detail)
	return nil
}

// authorize decides whether an approver may make a decision now: approvers
// come from the worker's configuration, the requester never approves, and
// a gate must be open.
func (c *core) authorize(kind, gate, approver string) error {
	approver = normalize(approver)
	switch {
	case c.st.Phase.Ended() || c.st.Phase == PhaseUndoing:
		return fmt.Errorf("the enablement has ended (%s): nothing to %s", c.st.Phase, kind)
	case kind == Cancel && approver != "" && approver == normalize(c.requester):
		return nil // requesters may withdraw their own request
	case len(c.policy.Approvers) == 0:
		return fmt.Errorf("no approvers are configured on the worker: add %s to policy.approvers in the worker's config", approver)
	case !slices.Contains(c.policy.Approvers, approver):
		return fmt.Errorf("%s is not an approver: approvers are set in the worker's config (%s)", approver, strings.Join(c.policy.Approvers, ", "))
	case kind == Cancel:
		return nil
	case approver == normalize(c.requester):
		return fmt.Errorf("%s requested this enablement and cannot %s it: ask another approver", approver, kind)
	case gate != c.st.Gate:
		if c.st.Gate == "" {
			return fmt.Errorf("gate %q is not open: no decision is waited for now (phase %s)", gate, c.st.Phase)
		}
		return fmt.Errorf("gate %q is not open: the open gate is %q", gate, c.st.Gate)
	}
	return nil
}
