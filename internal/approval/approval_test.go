package approval

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/config"
)

const (
	accounts = "https://accounts.example"
	clientID = "linkwright-cli"
)

var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// issuer is a test identity provider: a key pair and the claims it signs.
type issuer struct {
	key jose.JSONWebKey // private, with kid and alg
}

func newIssuer(t *testing.T, kid string) issuer {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return issuer{key: jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}}
}

func (is issuer) jwks(t *testing.T) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{is.key.Public()}})
	require.NoError(t, err)
	return b
}

// sign signs arbitrary claims, so that tests can leave any of them out.
func (is issuer) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(is.key.Algorithm), Key: is.key}, (&jose.SignerOptions{}).WithType("JWT"))
	require.NoError(t, err)
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	require.NoError(t, err)
	return tok
}

// claims are a valid ID token's, issued a minute before now; over
// overrides them, and a nil value removes a claim.
func claims(over map[string]any) map[string]any {
	c := map[string]any{
		"iss":            accounts,
		"aud":            []string{clientID, "other-client"},
		"sub":            "1234567890",
		"email":          " Alice@Platform.Example ",
		"email_verified": true,
		"iat":            now.Add(-time.Minute).Unix(),
		"exp":            now.Add(time.Hour).Unix(),
	}
	for k, v := range over {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

func policy(issuers ...config.TrustedIssuer) config.SignedApprovals {
	return config.SignedApprovals{Required: true, Issuers: issuers}.WithDefaults()
}

// unsigned makes a token by hand, for algorithms go-jose would not sign
// with a public key set: "none" and HMAC.
func unsigned(t *testing.T, header, claims map[string]any, sig string) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(header) + "." + enc(claims) + "." + sig
}

func hs256(t *testing.T, secret []byte, c map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
	require.NoError(t, err)
	tok, err := jwt.Signed(s).Claims(c).Serialize()
	require.NoError(t, err)
	return tok
}

func TestVerify(t *testing.T) {
	good := newIssuer(t, "k1")
	forger := newIssuer(t, "k1") // another key under the same kid
	trusted := config.TrustedIssuer{Issuer: accounts, Audience: clientID, JWKS: good.jwks(t)}
	other := config.TrustedIssuer{Issuer: "https://login.other.example", Audience: clientID, JWKS: newIssuer(t, "o1").jwks(t)}
	cfg := policy(trusted, other)

	for _, tc := range []struct {
		name  string
		token string
		cfg   *config.SignedApprovals // cfg when nil
		want  string                  // the error; empty for a valid token
	}{
		{name: "valid", token: good.sign(t, claims(nil))},
		{name: "valid without email_verified", token: good.sign(t, claims(map[string]any{"email_verified": nil}))},
		{name: "valid with email_verified as a string", token: good.sign(t, claims(map[string]any{"email_verified": "true"}))},
		{name: "valid within the leeway after exp", token: good.sign(t, claims(map[string]any{"exp": now.Add(-30 * time.Second).Unix()}))},
		{name: "no token", token: "  ", want: "no ID token: sign in with a trusted issuer and pass its ID token as idToken"},
		{name: "not a JWT", token: "an-access-token", want: "the ID token is not a signed JWT (header.payload.signature): pass the OIDC id_token itself, not an access token"},
		{name: "expired", token: good.sign(t, claims(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()})),
			want: "the ID token expired at 2026-11-21T09:58:00Z: get a fresh one"},
		{name: "issued too long ago", token: good.sign(t, claims(map[string]any{"iat": now.Add(-20 * time.Minute).Unix()})),
			want: "the ID token was issued at 2026-11-21T09:40:00Z, more than 15m0s ago: get a fresh one"},
		{name: "issued in the future", token: good.sign(t, claims(map[string]any{"iat": now.Add(5 * time.Minute).Unix()})),
			want: "the ID token was issued in the future, at 2026-11-21T10:05:00Z: check the clocks of the issuer and the worker"},
		{name: "not yet valid", token: good.sign(t, claims(map[string]any{"nbf": now.Add(5 * time.Minute).Unix()})),
			want: "the ID token is not valid before 2026-11-21T10:05:00Z: check the clocks of the issuer and the worker"},
		{name: "no exp", token: good.sign(t, claims(map[string]any{"exp": nil})), want: "the ID token has no expiry (exp): get an ID token from the issuer"},
		{name: "no iat", token: good.sign(t, claims(map[string]any{"iat": nil})), want: "the ID token has no issue time (iat): get an ID token from the issuer"},
		{name: "wrong issuer", token: good.sign(t, claims(map[string]any{"iss": "https://evil.example"})),
			want: "the ID token's issuer https://evil.example is not trusted: trusted issuers are https://accounts.example, https://login.other.example"},
		{name: "issuer compared exactly", token: good.sign(t, claims(map[string]any{"iss": accounts + "/"})),
			want: "the ID token's issuer https://accounts.example/ is not trusted: trusted issuers are https://accounts.example, https://login.other.example"},
		{name: "no issuer trusted", token: good.sign(t, claims(nil)), cfg: &config.SignedApprovals{},
			want: "no ID token issuer is trusted: add one to policy.signedApprovals.issuers"},
		{name: "wrong audience", token: good.sign(t, claims(map[string]any{"aud": "someone-else"})),
			want: "the ID token is for audience someone-else, not linkwright-cli: get a token issued for the client ID linkwright-cli"},
		{name: "forged signature, same kid", token: forger.sign(t, claims(nil)),
			want: "the ID token's signature does not verify with the keys of https://accounts.example"},
		{name: "signed by another trusted issuer's key", token: good.sign(t, claims(map[string]any{"iss": other.Issuer})),
			want: "the ID token's key k1 is not among the keys of https://login.other.example: refresh the issuer's jwks in the policy (keys rotate)"},
		{name: "alg none", token: unsigned(t, map[string]any{"alg": "none", "kid": "k1"}, claims(nil), ""),
			want: "the ID token is signed with none, which is not accepted: use an issuer that signs with RS256, RS384, RS512, PS256, ES256, ES384, EdDSA"},
		{name: "HS256 with the public key as secret", token: hs256(t, good.jwks(t), claims(nil)),
			want: "the ID token is signed with HS256, which is not accepted: use an issuer that signs with RS256, RS384, RS512, PS256, ES256, ES384, EdDSA"},
		{name: "no email", token: good.sign(t, claims(map[string]any{"email": nil})), want: "the ID token has no email claim: ask the issuer for the email scope"},
		{name: "email not an address", token: good.sign(t, claims(map[string]any{"email": "Alice <alice@platform.example>"})),
			want: "the ID token's email Alice <alice@platform.example> is not an e-mail address"},
		{name: "email not verified", token: good.sign(t, claims(map[string]any{"email_verified": false})),
			want: "the ID token's email alice@platform.example is not verified by https://accounts.example: verify it with the issuer"},
		{name: "email_verified not a boolean", token: good.sign(t, claims(map[string]any{"email_verified": "yes"})),
			want: `the ID token's email_verified is "yes", not true or false`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cfg
			if tc.cfg != nil {
				c = *tc.cfg
			}
			id, err := Verify(c, tc.token, now)
			if tc.want != "" {
				require.EqualError(t, err, tc.want)
				assert.NotContains(t, err.Error(), tc.token, "never echo the token")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "alice@platform.example", id.Email)
			assert.Equal(t, accounts, id.Issuer)
			assert.Equal(t, "1234567890", id.Subject)
			assert.Equal(t, now.Add(-time.Minute), id.IssuedAt)
		})
	}
}

func TestVerifyTriesEveryKeyWithoutKid(t *testing.T) {
	old, current := newIssuer(t, ""), newIssuer(t, "")
	set, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{old.key.Public(), current.key.Public()}})
	require.NoError(t, err)
	cfg := policy(config.TrustedIssuer{Issuer: accounts, Audience: clientID, JWKS: set})
	id, err := Verify(cfg, current.sign(t, claims(nil)), now)
	require.NoError(t, err, "the second key verifies a token without kid")
	assert.Equal(t, "alice@platform.example", id.Email)
}

func TestVerifyAcceptsRSAAndEd25519(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	for alg, key := range map[jose.SignatureAlgorithm]any{jose.RS256: rsaKey, jose.PS256: rsaKey, jose.EdDSA: edKey} {
		is := issuer{key: jose.JSONWebKey{Key: key, KeyID: "k-" + string(alg), Algorithm: string(alg)}}
		_, err := Verify(policy(config.TrustedIssuer{Issuer: accounts, Audience: clientID, JWKS: is.jwks(t)}), is.sign(t, claims(nil)), now)
		assert.NoError(t, err, alg)
	}
}

// Verify runs in workflow code and its errors go into the audit trail:
// the same input must give the same answer, word for word.
func TestVerifyIsDeterministic(t *testing.T) {
	good, forger := newIssuer(t, "k1"), newIssuer(t, "k1")
	cfg := policy(
		config.TrustedIssuer{Issuer: "https://b.example", Audience: clientID, JWKS: newIssuer(t, "b").jwks(t)},
		config.TrustedIssuer{Issuer: accounts, Audience: clientID, JWKS: good.jwks(t)},
		config.TrustedIssuer{Issuer: "https://a.example", Audience: clientID, JWKS: newIssuer(t, "a").jwks(t)},
	)
	for _, token := range []string{
		forger.sign(t, claims(nil)),
		good.sign(t, claims(map[string]any{"iss": "https://evil.example"})),
		good.sign(t, claims(map[string]any{"exp": now.Add(-time.Hour).Unix()})),
	} {
		_, first := Verify(cfg, token, now)
		require.Error(t, first)
		for range 20 {
			_, again := Verify(cfg, token, now)
			require.Error(t, again)
			assert.Equal(t, first.Error(), again.Error())
		}
	}
}

func writeKey(t *testing.T, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "approval.key")
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return path
}

// loadWithKey loads the worker config with webhooks.approvalKeyFile set,
// as the worker does, so that the derived issuer is the one tested.
func loadWithKey(t *testing.T, keyFile string) config.Config {
	t.Helper()
	t.Setenv("LINKWRIGHT_CONFIG", "")
	t.Setenv("LINKWRIGHT_STATE_DIR", t.TempDir())
	t.Setenv("LINKWRIGHT_WEBHOOK_APPROVAL_KEY_FILE", keyFile)
	c, err := config.Load()
	require.NoError(t, err)
	return c
}

func TestMintedWebhookTokenVerifiesWithTheDerivedIssuer(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	ecDER, err := x509.MarshalECPrivateKey(ec)
	require.NoError(t, err)
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	edDER, err := x509.MarshalPKCS8PrivateKey(ed)
	require.NoError(t, err)
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	for name, path := range map[string]string{
		"EC PEM":      writeKey(t, "EC PRIVATE KEY", ecDER),
		"PKCS#8 PEM":  writeKey(t, "PRIVATE KEY", edDER),
		"PKCS#1 PEM":  writeKey(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rs)),
		"private JWK": writeJWK(t, jose.JSONWebKey{Key: ec, KeyID: "webhook-2026"}),
	} {
		t.Run(name, func(t *testing.T) {
			cfg := loadWithKey(t, path)
			s, err := NewSigner(path)
			require.NoError(t, err)
			token, err := s.Mint(" Bob@Platform.Example", now, 0)
			require.NoError(t, err)

			id, err := Verify(cfg.Policy.SignedApprovals, token, now.Add(time.Minute))
			require.NoError(t, err)
			assert.Equal(t, Identity{Email: "bob@platform.example", Issuer: WebhookIssuer, Subject: "bob@platform.example",
				IssuedAt: now, Expires: now.Add(DefaultTTL)}, id)

			_, err = Verify(cfg.Policy.SignedApprovals, token, now.Add(DefaultTTL+2*time.Minute))
			assert.ErrorContains(t, err, "the ID token expired at 2026-11-21T10:05:00Z")

			tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES384, jose.EdDSA, jose.RS256})
			require.NoError(t, err)
			assert.Equal(t, s.KeyID(), tok.Headers[0].KeyID, "the kid names the derived public key")
			assert.NotContains(t, string(cfg.Policy.SignedApprovals.Issuers[0].JWKS), `"d"`, "the policy holds the public key only")
		})
	}
}

func writeJWK(t *testing.T, key jose.JSONWebKey) string {
	t.Helper()
	b, err := key.MarshalJSON()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "approval.jwk")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

func TestSignerFromKeyAndRefusals(t *testing.T) {
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	s, err := NewSignerFromKey(ed)
	require.NoError(t, err)
	_, err = s.Mint("not an e-mail", now, time.Minute)
	assert.EqualError(t, err, `cannot sign an approval for "not an e-mail": the approver must be an e-mail address`)

	p521, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	require.NoError(t, err)
	_, err = NewSignerFromKey(p521)
	assert.ErrorContains(t, err, "ECDSA curve P-521 is not accepted: use P-256 or P-384")

	_, err = NewSigner(filepath.Join(t.TempDir(), "missing.pem"))
	assert.ErrorContains(t, err, "webhooks.approvalKeyFile: open ")

	pub, err := x509.MarshalPKIXPublicKey(ed.Public())
	require.NoError(t, err)
	_, err = NewSigner(writeKey(t, "PUBLIC KEY", pub))
	assert.ErrorContains(t, err, "holds a public key or certificate: the webhook receiver needs the private key to sign")

	path := filepath.Join(t.TempDir(), "empty.pem")
	require.NoError(t, os.WriteFile(path, []byte("not a key\n"), 0o600))
	_, err = NewSigner(path)
	assert.ErrorContains(t, err, "holds no private key")
	assert.False(t, strings.Contains(err.Error(), "not a key"), "the file's content is not echoed")
}
