// Package approval verifies the signed identity an approval may carry: an
// OIDC ID token (a JWT) from an issuer the policy trusts, whose verified
// e-mail is then the approver. Verify runs inside workflow code (update
// validators and handlers), so it is deterministic: it does no I/O, reads
// no clock (the caller passes workflow.Now), and gives the same answer and
// the same error text for the same input, because its errors go into an
// audit trail that is replayed from history.
//
// The webhook receiver also mints such tokens (Signer) for the approvals it
// relays from ticket systems, as issuer WebhookIssuer.
package approval

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/linkwright/linkwright/internal/approval/keys"
	"github.com/linkwright/linkwright/internal/config"
)

// The issuer and audience of the tokens the webhook receiver mints.
const (
	WebhookIssuer   = keys.WebhookIssuer
	WebhookAudience = keys.WebhookAudience
)

// Identity is who a verified ID token says the approver is.
type Identity struct {
	// Email is the token's e-mail, trimmed and lower-case: the approver.
	Email    string    `json:"email"`
	Issuer   string    `json:"issuer"`
	Subject  string    `json:"subject"`
	IssuedAt time.Time `json:"issuedAt"`
	Expires  time.Time `json:"expires"`
}

// idClaims are the claims Verify reads.
type idClaims struct {
	jwt.Claims
	Email string `json:"email"`
	// EmailVerified is a boolean, or the string "true"/"false" some issuers
	// send; absent means the issuer does not say.
	EmailVerified json.RawMessage `json:"email_verified"`
}

// Verify checks an ID token against the policy's trusted issuers at time
// now and returns the identity it proves. The token's iss picks the issuer
// (exactly); its signature must verify with that issuer's keys (the key
// named by kid, or each key in order); its aud must hold the issuer's
// audience; exp and iat are required, nbf is honoured, all with cfg.Leeway;
// iat may be at most cfg.MaxAge old; the email claim is required and
// email_verified, when present, must be true.
func Verify(cfg config.SignedApprovals, token string, now time.Time) (Identity, error) {
	cfg = cfg.WithDefaults()
	token = strings.TrimSpace(token)
	if token == "" {
		return Identity{}, errors.New("no ID token: sign in with a trusted issuer and pass its ID token as idToken")
	}
	tok, err := jwt.ParseSigned(token, keys.Algorithms)
	if err != nil {
		if alg, ok := errors.AsType[*jose.ErrUnexpectedSignatureAlgorithm](err); ok {
			return Identity{}, fmt.Errorf("the ID token is signed with %s, which is not accepted: use an issuer that signs with %s", show(string(alg.Got)), keys.AlgorithmNames())
		}
		return Identity{}, errors.New("the ID token is not a signed JWT (header.payload.signature): pass the OIDC id_token itself, not an access token")
	}
	var claims idClaims
	if err := tok.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return Identity{}, errors.New("the ID token's claims are not OIDC claims (iss, aud, exp and iat of the standard types): get an ID token from the issuer")
	}
	iss, ok := trusted(cfg.Issuers, claims.Issuer)
	if !ok {
		return Identity{}, untrusted(cfg.Issuers, claims.Issuer)
	}
	if err := verifySignature(tok, iss); err != nil {
		return Identity{}, err
	}
	if !slices.Contains(claims.Audience, iss.Audience) {
		return Identity{}, fmt.Errorf("the ID token is for audience %s, not %s: get a token issued for the client ID %s", show(strings.Join(claims.Audience, ", ")), iss.Audience, iss.Audience)
	}
	if err := checkTimes(claims.Claims, cfg, now); err != nil {
		return Identity{}, err
	}
	email, err := verifiedEmail(claims)
	if err != nil {
		return Identity{}, err
	}
	return Identity{
		Email:    email,
		Issuer:   claims.Issuer,
		Subject:  claims.Subject,
		IssuedAt: claims.IssuedAt.Time().UTC(),
		Expires:  claims.Expiry.Time().UTC(),
	}, nil
}

func trusted(issuers []config.TrustedIssuer, iss string) (config.TrustedIssuer, bool) {
	for _, t := range issuers {
		if t.Issuer == iss {
			return t, true
		}
	}
	return config.TrustedIssuer{}, false
}

func untrusted(issuers []config.TrustedIssuer, iss string) error {
	if len(issuers) == 0 {
		return errors.New("no ID token issuer is trusted: add one to policy.signedApprovals.issuers")
	}
	names := make([]string, len(issuers))
	for i, t := range issuers {
		names[i] = t.Issuer
	}
	if iss == "" {
		return fmt.Errorf("the ID token names no issuer (iss): trusted issuers are %s", strings.Join(names, ", "))
	}
	return fmt.Errorf("the ID token's issuer %s is not trusted: trusted issuers are %s", show(iss), strings.Join(names, ", "))
}

// verifySignature tries the issuer's keys that fit the token, in the
// policy's order, so that the outcome never depends on map order.
func verifySignature(tok *jwt.JSONWebToken, iss config.TrustedIssuer) error {
	set, err := keys.ParsePublic(iss.JWKS)
	if err != nil {
		return fmt.Errorf("the keys of %s in the policy are unusable (%v): fix policy.signedApprovals", iss.Issuer, err)
	}
	hdr := tok.Headers[0]
	named := false
	for _, k := range set.Keys {
		if hdr.KeyID != "" && k.KeyID != hdr.KeyID {
			continue
		}
		named = true
		// A key meant for another use or algorithm (RFC 7517 use, alg)
		// does not verify this token.
		if (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != hdr.Algorithm) {
			continue
		}
		if tok.Claims(k.Key) == nil {
			return nil
		}
	}
	if !named {
		return fmt.Errorf("the ID token's key %s is not among the keys of %s: refresh the issuer's jwks in the policy (keys rotate)", show(hdr.KeyID), iss.Issuer)
	}
	return fmt.Errorf("the ID token's signature does not verify with the keys of %s", iss.Issuer)
}

func checkTimes(c jwt.Claims, cfg config.SignedApprovals, now time.Time) error {
	leeway, maxAge := cfg.Leeway.D(), cfg.MaxAge.D()
	switch {
	case c.Expiry == nil:
		return errors.New("the ID token has no expiry (exp): get an ID token from the issuer")
	case now.After(c.Expiry.Time().Add(leeway)):
		return fmt.Errorf("the ID token expired at %s: get a fresh one", stamp(c.Expiry))
	case c.NotBefore != nil && now.Add(leeway).Before(c.NotBefore.Time()):
		return fmt.Errorf("the ID token is not valid before %s: check the clocks of the issuer and the worker", stamp(c.NotBefore))
	case c.IssuedAt == nil:
		return errors.New("the ID token has no issue time (iat): get an ID token from the issuer")
	case now.Add(leeway).Before(c.IssuedAt.Time()):
		return fmt.Errorf("the ID token was issued in the future, at %s: check the clocks of the issuer and the worker", stamp(c.IssuedAt))
	case now.Sub(c.IssuedAt.Time()) > maxAge+leeway:
		return fmt.Errorf("the ID token was issued at %s, more than %s ago: get a fresh one", stamp(c.IssuedAt), maxAge)
	}
	return nil
}

func verifiedEmail(c idClaims) (string, error) {
	if strings.TrimSpace(c.Email) == "" {
		return "", errors.New("the ID token has no email claim: ask the issuer for the email scope")
	}
	email, ok := config.Email(c.Email)
	if !ok {
		return "", fmt.Errorf("the ID token's email %s is not an e-mail address", show(c.Email))
	}
	switch v := strings.TrimSpace(string(c.EmailVerified)); v {
	case "", "null", "true", `"true"`:
		return email, nil
	case "false", `"false"`:
		return "", fmt.Errorf("the ID token's email %s is not verified by %s: verify it with the issuer", email, c.Issuer)
	default:
		return "", fmt.Errorf("the ID token's email_verified is %s, not true or false", show(v))
	}
}

func stamp(d *jwt.NumericDate) string { return d.Time().UTC().Format(time.RFC3339) }

// show quotes a value taken from a token for an error message: short, and
// quoted when it holds anything but plain printable text, so that a token
// cannot write lines of its own into the audit trail.
func show(s string) string {
	if r := []rune(s); len(r) > 80 {
		s = string(r[:80]) + "..."
	}
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) && r != ' ' }) {
		return strconv.Quote(s)
	}
	return s
}
