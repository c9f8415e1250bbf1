package codec_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/linkwright/linkwright/internal/codec"
)

type secretRequest struct {
	Company         string `json:"company"`
	CustomerAccount string `json:"customerAccount"`
	Ports           []int  `json:"ports"`
}

var plain = secretRequest{Company: "Acme Corp", CustomerAccount: "123456789012", Ports: []int{3306, 15432}}

func key(id string, fill byte) codec.Key {
	return codec.Key{ID: id, Secret: bytes.Repeat([]byte{fill}, codec.KeySize)}
}

func line(k codec.Key) string { return k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret) }

func newCodec(t *testing.T, active string, keys ...codec.Key) *codec.Codec {
	t.Helper()
	c, err := codec.New(keys, active)
	require.NoError(t, err)
	return c
}

func toPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	require.NoError(t, err)
	return p
}

func encode(t *testing.T, c *codec.Codec, p *commonpb.Payload) *commonpb.Payload {
	t.Helper()
	out, err := c.Encode([]*commonpb.Payload{p})
	require.NoError(t, err)
	require.Len(t, out, 1)
	return out[0]
}

func TestRoundTripThroughTheDataConverter(t *testing.T) {
	c := newCodec(t, "", key("k1", 1))
	dc := c.DataConverter()
	p, err := dc.ToPayload(plain)
	require.NoError(t, err)
	assert.Equal(t, codec.EncodingEncrypted, string(p.Metadata[codec.MetadataEncoding]))
	var got secretRequest
	require.NoError(t, dc.FromPayload(p, &got))
	assert.Equal(t, plain, got)

	// The default converter, without the codec, cannot read it.
	assert.Error(t, converter.GetDefaultDataConverter().FromPayload(p, &got))
}

func TestEncodeKeepsTheWholePayload(t *testing.T) {
	c := newCodec(t, "", key("k1", 1))
	in := toPayload(t, plain)
	in.Metadata["extra"] = []byte("kept")
	out, err := c.Decode([]*commonpb.Payload{encode(t, c, in)})
	require.NoError(t, err)
	assert.True(t, proto.Equal(in, out[0]), "decoded %v, want %v", out[0], in)
}

func TestKeyIDInMetadata(t *testing.T) {
	c := newCodec(t, "k2", key("k1", 1), key("k2", 2))
	assert.Equal(t, "k2", c.ActiveKeyID())
	enc := encode(t, c, toPayload(t, plain))
	assert.Equal(t, "k2", string(enc.Metadata[codec.MetadataKeyID]))
	assert.Equal(t, codec.EncodingEncrypted, string(enc.Metadata[codec.MetadataEncoding]))
	assert.Len(t, enc.Metadata, 2, "nothing else of the input shows in the metadata")
}

func TestActiveKeyDefaultsToTheFirst(t *testing.T) {
	c := newCodec(t, "", key("first", 1), key("second", 2))
	assert.Equal(t, "first", c.ActiveKeyID())
	assert.Equal(t, []string{"first", "second"}, c.KeyIDs())
}

func TestNonceDiffersEachTime(t *testing.T) {
	c := newCodec(t, "", key("k1", 1))
	in := toPayload(t, plain)
	a, b := encode(t, c, in), encode(t, c, in)
	assert.NotEqual(t, a.Data[:12], b.Data[:12], "nonces")
	assert.NotEqual(t, a.Data, b.Data, "ciphertexts")
}

func TestCiphertextHoldsNoPlaintext(t *testing.T) {
	c := newCodec(t, "", key("k1", 1))
	in := toPayload(t, plain)
	require.Contains(t, string(in.Data), "Acme Corp", "the test's own premise")
	enc := encode(t, c, in)
	raw, err := proto.Marshal(enc)
	require.NoError(t, err)
	for _, s := range []string{"Acme Corp", "123456789012", "3306", "15432", "json/plain", "company"} {
		assert.NotContains(t, string(raw), s)
	}
}

func TestRetiredKeyStillDecodes(t *testing.T) {
	old := newCodec(t, "", key("k-old", 1))
	enc := encode(t, old, toPayload(t, plain))

	rotated := newCodec(t, "k-new", key("k-new", 2), key("k-old", 1))
	var got secretRequest
	require.NoError(t, rotated.DataConverter().FromPayload(enc, &got))
	assert.Equal(t, plain, got)
	assert.Equal(t, "k-new", string(encode(t, rotated, toPayload(t, plain)).Metadata[codec.MetadataKeyID]), "new payloads use the new key")
}

func TestRemovedKeyFailsClearly(t *testing.T) {
	old := newCodec(t, "", key("k-old", 1))
	enc := encode(t, old, toPayload(t, plain))
	rotated := newCodec(t, "", key("k-new", 2))
	_, err := rotated.Decode([]*commonpb.Payload{enc})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"k-old"`)
	assert.Contains(t, err.Error(), "add the retired key's line back to the key file")
	assert.Contains(t, err.Error(), codec.EnvKeysFile)
}

func TestTamperedCiphertextFails(t *testing.T) {
	c := newCodec(t, "", key("k1", 1))
	enc := encode(t, c, toPayload(t, plain))
	for _, at := range []int{0, 12, len(enc.Data) - 1} { // nonce, body, tag
		bad := proto.Clone(enc).(*commonpb.Payload)
		bad.Data[at] ^= 0x01
		_, err := c.Decode([]*commonpb.Payload{bad})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "does not authenticate")
	}
	short := proto.Clone(enc).(*commonpb.Payload)
	short.Data = short.Data[:10]
	_, err := c.Decode([]*commonpb.Payload{short})
	assert.ErrorContains(t, err, "too short")
}

func TestRelabelledKeyIDFails(t *testing.T) {
	// Both keys the same bytes: only the key ID, bound in as additional
	// data, tells the label was changed.
	c := newCodec(t, "", key("k1", 7), key("k2", 7))
	enc := encode(t, c, toPayload(t, plain))
	enc.Metadata[codec.MetadataKeyID] = []byte("k2")
	_, err := c.Decode([]*commonpb.Payload{enc})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not authenticate")

	delete(enc.Metadata, codec.MetadataKeyID)
	_, err = c.Decode([]*commonpb.Payload{enc})
	assert.ErrorContains(t, err, "has no "+codec.MetadataKeyID)
}

func TestPlaintextPassesThrough(t *testing.T) {
	c := newCodec(t, "", key("k1", 1))
	in := toPayload(t, plain)
	out, err := c.Decode([]*commonpb.Payload{in, nil})
	require.NoError(t, err)
	assert.Same(t, in, out[0])
	assert.Nil(t, out[1])
}

func TestGenerateKey(t *testing.T) {
	a, b := codec.GenerateKey(), codec.GenerateKey()
	assert.NotEqual(t, a, b)
	assert.Regexp(t, regexp.MustCompile(`^k-\d{8}-[0-9a-f]{4}:[A-Za-z0-9+/]{43}=$`), a)
	keys, err := codec.ParseKeys(a+"\n"+b, "test", "line")
	require.NoError(t, err)
	require.Len(t, keys, 2)
	_, err = codec.New(keys, "")
	require.NoError(t, err)
}

func TestParseKeys(t *testing.T) {
	k1, k2 := line(key("k1", 1)), line(key("k2", 2))
	keys, err := codec.ParseKeys("# keys\n\n"+k1+"\r\n  "+k2+"  \n", "F", "line")
	require.NoError(t, err)
	require.Len(t, keys, 2)
	assert.Equal(t, "k1", keys[0].ID)
	assert.Equal(t, bytes.Repeat([]byte{2}, 32), keys[1].Secret)

	keys, err = codec.ParseKeys(k1+","+k2, "V", "entry")
	require.NoError(t, err)
	assert.Len(t, keys, 2)

	short := "k3:" + base64.StdEncoding.EncodeToString(make([]byte, 16))
	secret := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	for name, tc := range map[string]struct{ text, want string }{
		"wrong length":   {k1 + "\n" + short, `F line 2: key "k3" must be 32 bytes, base64 (it is 16 bytes)`},
		"not base64":     {"k3:!!!notbase64!!!", `F line 1: key "k3" is not base64: it must be 32 bytes, base64`},
		"duplicate ID":   {k1 + "\n# c\n" + k1, `F line 3: key ID "k1" is already used by line 1`},
		"no colon":       {secret, `F line 1: want "<key id>:<base64 of 32 bytes>"`},
		"empty key":      {"k1:", `F line 1: want "<key id>:<base64 of 32 bytes>"`},
		"bad ID":         {"k 1:" + secret, `F line 1: key ID "k 1" is not valid: use 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'`},
		"ID too long":    {strings.Repeat("a", 65) + ":" + secret, `is not valid`},
		"empty ID":       {":" + secret, `key ID "" is not valid`},
		"slash in ID":    {"a/b:" + secret, `key ID "a/b" is not valid`},
		"wrong length 2": {"k1:" + base64.StdEncoding.EncodeToString(make([]byte, 33)), `(it is 33 bytes)`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := codec.ParseKeys(tc.text, "F", "line")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), secret, "no key material in errors")
		})
	}
	_, err = codec.ParseKeys(k1+",,"+short, "V", "entry")
	assert.ErrorContains(t, err, "V entry 3: ")
	assert.Regexp(t, "^[A-Za-z0-9._-]{64}$", strings.Repeat("a", 64)) // the longest valid ID
	_, err = codec.ParseKeys(strings.Repeat("a", 64)+":"+secret, "F", "line")
	assert.NoError(t, err)
}

func TestNewChecksKeys(t *testing.T) {
	_, err := codec.New(nil, "")
	assert.ErrorContains(t, err, "no keys")
	_, err = codec.New([]codec.Key{key("k1", 1), key("k1", 2)}, "")
	assert.ErrorContains(t, err, `key ID "k1" appears twice`)
	_, err = codec.New([]codec.Key{{ID: "k1", Secret: make([]byte, 16)}}, "")
	assert.ErrorContains(t, err, "must be 32 bytes, base64")
	_, err = codec.New([]codec.Key{key("k1", 1)}, "k9")
	assert.ErrorContains(t, err, `the active key "k9" is not among the keys (k1)`)
}

func clearEnv(t *testing.T) {
	for _, v := range []string{codec.EnvKeysFile, codec.EnvKeys, codec.EnvActiveKey} {
		t.Setenv(v, "")
	}
}

func TestFromEnv(t *testing.T) {
	k1, k2 := line(key("k1", 1)), line(key("k2", 2))
	dir := t.TempDir()
	file := filepath.Join(dir, "keys")
	require.NoError(t, os.WriteFile(file, []byte("# rotated 2026-11-21\n"+k1+"\n"+k2+"\n"), 0o600))

	t.Run("off", func(t *testing.T) {
		clearEnv(t)
		c, err := codec.FromEnv()
		assert.NoError(t, err)
		assert.Nil(t, c)
	})
	t.Run("file", func(t *testing.T) {
		clearEnv(t)
		t.Setenv(codec.EnvKeysFile, file)
		c, err := codec.FromEnv()
		require.NoError(t, err)
		assert.Equal(t, "k1", c.ActiveKeyID())
		t.Setenv(codec.EnvActiveKey, "k2")
		c, err = codec.FromEnv()
		require.NoError(t, err)
		assert.Equal(t, "k2", c.ActiveKeyID())
	})
	t.Run("inline", func(t *testing.T) {
		clearEnv(t)
		t.Setenv(codec.EnvKeys, k1+","+k2)
		c, err := codec.FromEnv()
		require.NoError(t, err)
		assert.Equal(t, []string{"k1", "k2"}, c.KeyIDs())
	})
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"active not among keys": {map[string]string{codec.EnvKeysFile: file, codec.EnvActiveKey: "k9"},
			`LINKWRIGHT_CODEC_ACTIVE_KEY="k9" is not among the keys of LINKWRIGHT_CODEC_KEYS_FILE ` + file + ` (k1, k2)`},
		"active without keys": {map[string]string{codec.EnvActiveKey: "k1"}, "LINKWRIGHT_CODEC_ACTIVE_KEY is set to \"k1\" but there are no keys"},
		"both set":            {map[string]string{codec.EnvKeysFile: file, codec.EnvKeys: k1}, "both LINKWRIGHT_CODEC_KEYS_FILE and LINKWRIGHT_CODEC_KEYS are set"},
		"missing file":        {map[string]string{codec.EnvKeysFile: filepath.Join(dir, "nope")}, "LINKWRIGHT_CODEC_KEYS_FILE: cannot read the key file"},
		"no keys in file":     {map[string]string{codec.EnvKeysFile: writeFile(t, "# nothing yet\n")}, "holds no keys"},
		"bad line in file":    {map[string]string{codec.EnvKeysFile: writeFile(t, k1+"\nk2:AAAA\n")}, "line 2: key \"k2\" must be 32 bytes, base64"},
		"bad inline entry":    {map[string]string{codec.EnvKeys: k1 + ",k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32))}, "LINKWRIGHT_CODEC_KEYS entry 2: key ID \"k1\" is already used by entry 1"},
	} {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := codec.FromEnv()
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func writeFile(t *testing.T, text string) string {
	p := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}
