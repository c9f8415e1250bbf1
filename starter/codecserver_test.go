package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/linkwright/linkwright/internal/codec"
	"github.com/linkwright/linkwright/internal/devtest"
)

func keyFile(t *testing.T) string {
	t.Helper()
	code, out, errOut := cli("codec-keygen")
	require.Equal(t, exitOK, code, errOut)
	path := filepath.Join(t.TempDir(), "codec-keys")
	require.NoError(t, os.WriteFile(path, []byte(out), 0o600))
	return path
}

func TestCodecKeygen(t *testing.T) {
	code, out, _ := cli("codec-keygen")
	require.Equal(t, exitOK, code)
	assert.Regexp(t, `^k-\d{8}-[0-9a-f]{4}:\S{44}\n$`, out)
	keys, err := codec.ParseKeys(out, "output", "line")
	require.NoError(t, err)
	require.Len(t, keys, 1)
	code, _, errOut := cli("codec-keygen", "extra")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, `unexpected argument "extra"`)
}

func TestCodecServerCommandErrors(t *testing.T) {
	t.Setenv(codec.EnvKeysFile, "")
	t.Setenv(codec.EnvKeys, "")
	t.Setenv(codec.EnvActiveKey, "")
	code, _, errOut := cli("codec-server")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "no keys: set LINKWRIGHT_CODEC_KEYS_FILE")

	t.Setenv(codec.EnvKeysFile, keyFile(t))
	code, _, errOut = cli("codec-server", "-allow-origin", "*")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "want scheme://host[:port]")

	code, _, errOut = cli("codec-server", "-auth-token-file", filepath.Join(t.TempDir(), "none"))
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, "auth token file")

	t.Setenv(codec.EnvActiveKey, "k-missing")
	code, _, errOut = cli("codec-server")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, `LINKWRIGHT_CODEC_ACTIVE_KEY="k-missing" is not among the keys`)
}

// The command itself: it listens, answers the Web UI's preflight for the
// origins given, requires its token, and stops when its context ends.
func TestCodecServerCommand(t *testing.T) {
	t.Setenv(codec.EnvKeysFile, keyFile(t))
	t.Setenv(codec.EnvKeys, "")
	t.Setenv(codec.EnvActiveKey, "")
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("t0ken\n"), 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"codec-server", "-listen", "127.0.0.1:0", "-allow-origin", "http://ui.example:8080,http://localhost:9233",
			"-allow-origin", "https://temporal.example.com", "-auth-token-file", tokenFile}, pw, io.Discard)
		pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	m := regexp.MustCompile(`^Codec server on (http://127\.0\.0\.1:\d+): `).FindStringSubmatch(line)
	require.NotNil(t, m, line)
	base := m[1]
	assert.Contains(t, line, "allowed origins http://ui.example:8080, http://localhost:9233, https://temporal.example.com")

	for origin, want := range map[string]string{"https://temporal.example.com": "https://temporal.example.com", "http://localhost:8233": ""} {
		req, _ := http.NewRequest(http.MethodOptions, base+"/decode", nil)
		req.Header.Set("Origin", origin)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, want, resp.Header.Get("Access-Control-Allow-Origin"), origin)
	}
	post := func(auth string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/default/encode", strings.NewReader(`{"payloads":[]}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, post(""))
	assert.Equal(t, http.StatusUnauthorized, post("Bearer wrong"))
	assert.Equal(t, http.StatusOK, post("Bearer t0ken"))

	cancel()
	assert.Equal(t, exitOK, <-done)
}

func TestDialRefusesBadKeys(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
	t.Setenv(codec.EnvKeysFile, "")
	t.Setenv(codec.EnvActiveKey, "")
	t.Setenv(codec.EnvKeys, "k1:AAAA")
	code, _, errOut := cli("status", "-w", "privatelink/x/production/aws")
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, errOut, `payload encryption: LINKWRIGHT_CODEC_KEYS entry 1: key "k1" must be 32 bytes, base64`)
}

// `linkwright request` with a key file: what reaches the server is
// ciphertext under the key's ID (no worker needed: the start is the test).
func TestIntegrationRequestEncryptsWithTheKeyFile(t *testing.T) {
	raw := devtest.Client(t) // no codec: what the server stores
	t.Setenv("TEMPORAL_ADDRESS", devtest.Address())
	t.Setenv("LINKWRIGHT_CONFIG", "")
	keys := keyFile(t)
	t.Setenv(codec.EnvKeysFile, keys)
	t.Setenv(codec.EnvKeys, "")
	t.Setenv(codec.EnvActiveKey, "")
	data, err := os.ReadFile("../deployments/local/examples/bidirectional-aws.json")
	require.NoError(t, err)
	data = bytes.ReplaceAll(data, []byte("abcd1234efgh5"), []byte("codec-cli-test"))
	req := filepath.Join(t.TempDir(), "request.json")
	require.NoError(t, os.WriteFile(req, data, 0o644))

	code, out, errOut := cli("request", "-f", req)
	require.Equal(t, exitOK, code, errOut)
	require.Contains(t, out, "Started privatelink/codec-cli-test/production/aws")
	const id = "privatelink/codec-cli-test/production/aws"
	t.Cleanup(func() { _ = raw.TerminateWorkflow(context.Background(), id, "", "end of test") })

	it := raw.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	ev, err := it.Next()
	require.NoError(t, err)
	started := ev.GetWorkflowExecutionStartedEventAttributes()
	require.NotNil(t, started)
	keyLine, err := os.ReadFile(keys)
	require.NoError(t, err)
	activeID, _, _ := strings.Cut(string(keyLine), ":")
	for _, p := range append(started.GetInput().GetPayloads(), ev.GetUserMetadata().GetSummary(), ev.GetUserMetadata().GetDetails()) {
		require.NotNil(t, p)
		assert.Equal(t, codec.EncodingEncrypted, string(p.GetMetadata()["encoding"]))
		assert.Equal(t, activeID, string(p.GetMetadata()[codec.MetadataKeyID]))
		for _, s := range []string{"Acme Corp", "123456789012", "15432"} {
			assert.NotContains(t, string(p.GetData()), s)
		}
	}
	// The same keys read it back.
	c, err := codec.FromEnv()
	require.NoError(t, err)
	var input json.RawMessage
	require.NoError(t, c.DataConverter().FromPayloads(started.GetInput(), &input))
	assert.Contains(t, string(input), "Acme Corp")
}
