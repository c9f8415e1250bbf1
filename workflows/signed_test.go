package workflows

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/linkwright/linkwright/internal/config"
)

const idp = "https://idp.platform.example"

// idpKey is a test identity provider's signing key.
type idpKey struct {
	key *ecdsa.PrivateKey
	kid string
}

func newIDPKey(kid string) idpKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return idpKey{key: k, kid: kid}
}

func (k idpKey) jwks() json.RawMessage {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.key.PublicKey, KeyID: k.kid, Algorithm: string(jose.ES256), Use: "sig"}}}
	data, err := json.Marshal(set)
	if err != nil {
		panic(err)
	}
	return data
}

// token signs an ID token for email, issued at iat and valid for ttl.
func (k idpKey) token(issuer, email string, iat time.Time, ttl time.Duration) string {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid))
	if err != nil {
		panic(err)
	}
	claims := map[string]any{
		"iss": issuer, "aud": "linkwright", "sub": email, "email": email, "email_verified": true,
		"iat": jwt.NewNumericDate(iat), "exp": jwt.NewNumericDate(iat.Add(ttl)),
	}
	raw, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		panic(err)
	}
	return raw
}

func (s *EnablementSuite) requireSignedApprovals(k idpKey) {
	s.policy.Approvers = []string{alice, bob, sam}
	s.policy.SignedApprovals = config.SignedApprovals{Required: true, Issuers: []config.TrustedIssuer{{Issuer: idp, Audience: "linkwright", JWKS: k.jwks()}}}
}

// With signed approvals on, the approver is the verified e-mail of an ID
// token from a trusted issuer: expired tokens, other issuers, forged
// signatures and unsigned approvals are refused by the update validator,
// and a valid token of the requester is refused by the four-eyes rule.
func (s *EnablementSuite) TestSignedApprovals() {
	k := newIDPKey("k1")
	forger := newIDPKey("k1") // same kid, another key
	s.requireSignedApprovals(k)
	s.at(time.Hour, s.customerConnects)
	outcomes := map[string]*updateOutcome{}
	s.at(2*time.Hour, func() {
		now := s.env.Now()
		try := func(name string, a Approval) { outcomes[name] = s.update(Approve, a) }
		try("unsigned", Approval{Gate: GateAcceptConnection, Approver: alice})
		try("expired", Approval{Gate: GateAcceptConnection, IDToken: k.token(idp, alice, now.Add(-2*time.Hour), time.Hour)})
		try("wrong issuer", Approval{Gate: GateAcceptConnection, IDToken: k.token("https://evil.example", alice, now, time.Hour)})
		try("forged", Approval{Gate: GateAcceptConnection, IDToken: forger.token(idp, alice, now, time.Hour)})
		try("someone else's", Approval{Gate: GateAcceptConnection, Approver: bob, IDToken: k.token(idp, alice, now, time.Hour)})
		try("requester", Approval{Gate: GateAcceptConnection, IDToken: k.token(idp, sam, now, time.Hour)})
	})
	var during Status
	s.at(3*time.Hour, func() {
		during = s.status()
		outcomes["valid"] = s.update(Approve, Approval{Gate: GateAcceptConnection, IDToken: k.token(idp, "Alice@Platform.Example", s.env.Now(), time.Hour)})
	})
	s.at(4*time.Hour, s.customerConfirms)
	s.start(uniRequest())

	s.Equal(OutcomeCompleted, s.result().Outcome)
	s.ErrorContains(outcomes["unsigned"].rejected, "signed approvals are required")
	s.ErrorContains(outcomes["expired"].rejected, "expired")
	s.ErrorContains(outcomes["wrong issuer"].rejected, "https://evil.example is not trusted")
	s.ErrorContains(outcomes["forged"].rejected, "signature")
	s.ErrorContains(outcomes["someone else's"].rejected, "does not match the ID token's verified e-mail alice@platform.example")
	s.Nil(outcomes["requester"].rejected, "a valid token passes the validator")
	s.ErrorContains(outcomes["requester"].failed, "requested this enablement and cannot approve it")
	s.Nil(outcomes["valid"].rejected)
	s.NoError(outcomes["valid"].failed)

	s.Equal(PhaseAwaitingApproval, during.Phase, "no refused approval moved the run")
	s.Contains(auditActions(during), "sam@platform.example: approve accept-connection refused (update)")
	final := s.result().Status
	s.Contains(auditActions(final), "alice@platform.example: approve accept-connection (update)")
	for _, a := range final.Audit {
		s.NotContains(a.Detail, "eyJ", "no token in the audit trail")
	}
}

// A signed approval at the reverse link's gate is forwarded with its token
// and verified again there; an unsigned decision signalled straight to the
// reverse link is refused.
func (s *EnablementSuite) TestSignedApprovalIsVerifiedAgainByTheReverseLink() {
	const port = 25447
	k := newIDPKey("k1")
	s.requireSignedApprovals(k)
	id := biRequest(port).WorkflowID()
	signed := func(who string) Approval {
		return Approval{Gate: GateCreateReverseEndpoint, IDToken: k.token(idp, who, s.env.Now(), time.Hour)}
	}
	s.at(time.Hour, s.customerConnects)
	s.at(2*time.Hour, func() {
		s.update(Approve, Approval{Gate: GateAcceptConnection, IDToken: k.token(idp, alice, s.env.Now(), time.Hour)})
	})
	s.at(3*time.Hour, func() { s.customerGrants(port) })
	s.at(4*time.Hour, func() {
		s.Require().NoError(s.env.SignalWorkflowByID(id+"/reverse", signalReverseDecision, decision{Kind: Approve, Gate: GateCreateReverseEndpoint, Approver: bob}))
	})
	var unsigned Status
	var approval *updateOutcome
	s.at(5*time.Hour, func() {
		unsigned = s.status()
		approval = s.update(Approve, signed(bob))
	})
	s.at(6*time.Hour, func() { s.customerAcceptsReverse() })
	s.at(7*time.Hour, s.customerConfirms)
	s.start(biRequest(port))

	s.Equal(GateCreateReverseEndpoint, unsigned.Gate, "the unsigned decision did not pass the gate")
	s.Contains(auditActions(unsigned), "bob@platform.example: approve create-reverse-endpoint refused (reverse link)")
	s.NoError(approval.failed)
	r := s.result()
	s.Equal(OutcomeCompleted, r.Outcome)
	s.Contains(auditActions(r.Status), "bob@platform.example: approve create-reverse-endpoint (reverse link)")
}
