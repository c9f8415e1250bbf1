package keys

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func publicJWK(t *testing.T, kid string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	b, err := json.Marshal(jose.JSONWebKey{Key: k.Public(), KeyID: kid})
	require.NoError(t, err)
	return string(b)
}

func TestParsePublicKeepsOrderAndSkipsUnknownKeyTypes(t *testing.T) {
	set, err := ParsePublic([]byte(`{"keys": [` + publicJWK(t, "b") + `, {"kty": "OKP", "crv": "X448", "x": "AA"}, ` + publicJWK(t, "a") + `]}`))
	require.NoError(t, err)
	require.Len(t, set.Keys, 2, "a key type this build cannot use is skipped (RFC 7517 section 5)")
	assert.Equal(t, "b", set.Keys[0].KeyID)
	assert.Equal(t, "a", set.Keys[1].KeyID)

	set, err = ParsePublic([]byte(publicJWK(t, "single")))
	require.NoError(t, err, "a single JWK is a set of one")
	assert.Equal(t, "single", set.Keys[0].KeyID)

	_, err = ParsePublic([]byte(`{"keys": [{"kty": "OKP", "crv": "X448", "x": "AA"}]}`))
	assert.EqualError(t, err, `holds no usable public key: give {"keys": [...]} with the issuer's RSA, EC or Ed25519 keys`)
	_, err = ParsePublic([]byte(`{"keys": [`))
	assert.EqualError(t, err, `not a JSON Web Key Set (unexpected end of JSON input): give {"keys": [...]} as the issuer publishes it at its jwks_uri`)
}
