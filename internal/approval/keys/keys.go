// Package keys reads the keys of signed approvals: the public key sets
// that verify approvers' ID tokens (kept in the policy, so in workflow
// history) and the private key the webhook receiver signs relayed
// approvals with (kept in a file on the worker, never in the policy or the
// repository). It is apart from package approval so that the configuration
// can derive the webhook issuer's public key without importing approval,
// which imports the configuration.
package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4"
)

// The webhook receiver signs the approvals it relays from ticket systems as
// this issuer, for this audience.
const (
	WebhookIssuer   = "linkwright-webhooks"
	WebhookAudience = "linkwright"
)

// Algorithms are the signature algorithms an ID token may use: asymmetric
// only, so that a key in the policy can verify but never sign, and never
// "none".
var Algorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.ES256, jose.ES384, jose.EdDSA,
}

// AlgorithmNames lists Algorithms for error messages.
func AlgorithmNames() string {
	names := make([]string, len(Algorithms))
	for i, a := range Algorithms {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// ParsePublic reads a JSON Web Key Set (RFC 7517), or a single JWK, that
// must hold public keys only. Keys of a type this build cannot use are
// skipped, as RFC 7517 section 5 asks; a set left with no key is an error.
// The result keeps the set's order, which is the order keys are tried in.
func ParsePublic(raw []byte) (jose.JSONWebKeySet, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		why := ""
		if _, ok := errors.AsType[*json.SyntaxError](err); ok {
			why = " (" + err.Error() + ")"
		}
		return jose.JSONWebKeySet{}, fmt.Errorf(`not a JSON Web Key Set%s: give {"keys": [...]} as the issuer publishes it at its jwks_uri`, why)
	}
	if set.Keys == nil && strings.Contains(string(raw), `"kty"`) {
		set.Keys = []json.RawMessage{raw}
	}
	var out jose.JSONWebKeySet
	for i, k := range set.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(k); err != nil {
			if errors.Is(err, jose.ErrUnsupportedKeyType) {
				continue
			}
			return jose.JSONWebKeySet{}, fmt.Errorf("key %d is not a valid JWK: %v", i, err)
		}
		if !key.IsPublic() {
			return jose.JSONWebKeySet{}, fmt.Errorf("key %d%s is a private or symmetric key: put only public keys in the policy", i, kidText(key.KeyID))
		}
		if !key.Valid() {
			return jose.JSONWebKeySet{}, fmt.Errorf("key %d%s is incomplete: copy it again from the issuer's jwks_uri", i, kidText(key.KeyID))
		}
		out.Keys = append(out.Keys, key)
	}
	if len(out.Keys) == 0 {
		return jose.JSONWebKeySet{}, errors.New(`holds no usable public key: give {"keys": [...]} with the issuer's RSA, EC or Ed25519 keys`)
	}
	return out, nil
}

func kidText(kid string) string {
	if kid == "" {
		return ""
	}
	return fmt.Sprintf(" (kid %q)", kid)
}

// ReadPrivate reads the webhook signing key from a file: a JWK with its
// private parts, or PEM (PKCS #8, SEC 1 "EC PRIVATE KEY", PKCS #1 "RSA
// PRIVATE KEY"; RSA, ECDSA P-256/P-384 or Ed25519). The key comes back with
// its algorithm and a key ID (the JWK's own kid, else its RFC 7638
// thumbprint, so every worker holding the same key derives the same kid).
func ReadPrivate(path string) (jose.JSONWebKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return jose.JSONWebKey{}, err
	}
	if strings.HasPrefix(strings.TrimSpace(string(data)), "{") {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(data); err != nil {
			return jose.JSONWebKey{}, fmt.Errorf("%s is not a private JWK (%v): give one JWK with its private parts, or a PEM private key", path, err)
		}
		return signingKey(key, path)
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return jose.JSONWebKey{}, fmt.Errorf("%s holds no private key: give a PEM private key (openssl genpkey -algorithm ed25519) or a JWK with its private parts", path)
		}
		key, err := parsePEM(block)
		if err != nil {
			return jose.JSONWebKey{}, fmt.Errorf("%s: %v", path, err)
		}
		if key != nil {
			return signingKey(jose.JSONWebKey{Key: key}, path)
		}
	}
}

// parsePEM reads one PEM block; nil, nil for blocks that hold no key, such
// as the "EC PARAMETERS" openssl writes before an EC key.
func parsePEM(block *pem.Block) (any, error) {
	switch block.Type {
	case "PRIVATE KEY":
		return x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("the key is encrypted: give it unencrypted (openssl pkcs8 -topk8 -nocrypt) and protect the file instead")
	case "PUBLIC KEY", "CERTIFICATE":
		return nil, errors.New("holds a public key or certificate: the webhook receiver needs the private key to sign")
	case "OPENSSH PRIVATE KEY":
		return nil, errors.New("is an OpenSSH key: convert it to PKCS #8 (ssh-keygen -p -m PKCS8 -f <file>)")
	}
	return nil, nil
}

// FromPrivate makes a signing JWK of a private key (*rsa.PrivateKey,
// *ecdsa.PrivateKey or ed25519.PrivateKey) with its algorithm and key ID.
func FromPrivate(key crypto.PrivateKey) (jose.JSONWebKey, error) {
	return signingKey(jose.JSONWebKey{Key: key}, "the key")
}

func signingKey(key jose.JSONWebKey, name string) (jose.JSONWebKey, error) {
	if key.IsPublic() || key.Public().Key == nil || !key.Valid() {
		return jose.JSONWebKey{}, fmt.Errorf("%s is not an RSA, ECDSA or Ed25519 private key: give the private key the webhook receiver signs with", name)
	}
	alg, err := algorithmFor(key.Key)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("%s: %v", name, err)
	}
	if want := jose.SignatureAlgorithm(key.Algorithm); want != "" && want != alg {
		// An RSA key may name another RSA algorithm; other keys have one.
		if _, isRSA := key.Key.(*rsa.PrivateKey); !isRSA || !slices.Contains([]jose.SignatureAlgorithm{jose.RS384, jose.RS512, jose.PS256}, want) {
			return jose.JSONWebKey{}, fmt.Errorf("%s: alg %q does not fit this key or is not accepted: remove alg from the JWK, or use one of %s", name, key.Algorithm, AlgorithmNames())
		}
		alg = want
	}
	key.Algorithm = string(alg)
	key.Use = "sig"
	if key.KeyID == "" {
		tp, err := key.Thumbprint(crypto.SHA256)
		if err != nil {
			return jose.JSONWebKey{}, fmt.Errorf("%s: %v", name, err)
		}
		key.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	}
	return key, nil
}

// algorithmFor picks the one signature algorithm in Algorithms for a key.
func algorithmFor(key any) (jose.SignatureAlgorithm, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("an RSA key of %d bits is too short: use 2048 bits or more", k.N.BitLen())
		}
		return jose.RS256, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		}
		return "", fmt.Errorf("ECDSA curve %s is not accepted: use P-256 or P-384", k.Curve.Params().Name)
	case ed25519.PrivateKey:
		return jose.EdDSA, nil
	}
	return "", fmt.Errorf("a %T cannot sign ID tokens: use an RSA, ECDSA or Ed25519 key", key)
}

// PublicSet is the JWK Set, as JSON, that verifies what key signs.
func PublicSet(key jose.JSONWebKey) (json.RawMessage, error) {
	return json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.Public()}})
}
