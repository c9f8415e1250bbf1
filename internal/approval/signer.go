package approval

import (
	"crypto"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/linkwright/linkwright/internal/approval/keys"
	"github.com/linkwright/linkwright/internal/config"
)

// DefaultTTL is how long a minted token is valid when Mint is given no ttl:
// long enough for the update to reach the workflow, short against replay.
const DefaultTTL = 5 * time.Minute

// Signer mints the ID tokens the webhook receiver puts on the approvals it
// relays: the ticket system authenticated the agent, and the token carries
// that identity into the workflow, which verifies it as issuer
// WebhookIssuer (the public key config derives from
// webhooks.approvalKeyFile).
type Signer struct {
	kid    string
	signer jose.Signer
}

// NewSigner reads the private key in keyFile (webhooks.approvalKeyFile).
func NewSigner(keyFile string) (*Signer, error) {
	key, err := keys.ReadPrivate(keyFile)
	if err != nil {
		return nil, fmt.Errorf("webhooks.approvalKeyFile: %w", err)
	}
	return newSigner(key)
}

// NewSignerFromKey signs with a private key already loaded
// (*rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey).
func NewSignerFromKey(key crypto.PrivateKey) (*Signer, error) {
	jwk, err := keys.FromPrivate(key)
	if err != nil {
		return nil, err
	}
	return newSigner(jwk)
}

func newSigner(key jose.JSONWebKey) (*Signer, error) {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("cannot sign with the approval key: %w", err)
	}
	return &Signer{kid: key.KeyID, signer: s}, nil
}

// KeyID is the kid of the tokens this signer mints, which names its key in
// the derived issuer's key set.
func (s *Signer) KeyID() string { return s.kid }

// Mint makes an ID token for email, issued at now and valid for ttl
// (DefaultTTL when ttl is zero or less).
func (s *Signer) Mint(email string, now time.Time, ttl time.Duration) (string, error) {
	addr, ok := config.Email(email)
	if !ok {
		return "", fmt.Errorf("cannot sign an approval for %q: the approver must be an e-mail address", email)
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	claims := idClaims{
		Claims: jwt.Claims{
			Issuer:   WebhookIssuer,
			Audience: jwt.Audience{WebhookAudience},
			Subject:  addr,
			IssuedAt: jwt.NewNumericDate(now),
			Expiry:   jwt.NewNumericDate(now.Add(ttl)),
		},
		Email:         addr,
		EmailVerified: []byte("true"),
	}
	token, err := jwt.Signed(s.signer).Claims(claims).Serialize()
	if err != nil {
		return "", errors.New("cannot sign the approval token: " + err.Error())
	}
	return token, nil
}
