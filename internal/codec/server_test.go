package codec_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/linkwright/linkwright/internal/codec"
)

const uiOrigin = "http://localhost:8233"

// logBuffer is a log the server writes to from its handler goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func codecServer(t *testing.T, c *codec.Codec, token string) (*httptest.Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	srv := httptest.NewServer(codec.NewServer(c, codec.ServerOptions{
		AllowOrigins: codec.DevUIOrigins, AuthToken: token, Log: slog.New(slog.NewTextHandler(logs, nil)),
	}))
	t.Cleanup(srv.Close)
	return srv, logs
}

func remote(endpoint, token string) converter.PayloadCodec {
	return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: endpoint,
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("X-Namespace", "default")
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			return nil
		},
	})
}

func TestServerRoundTrip(t *testing.T) {
	c := newCodec(t, "", key("k1", 1))
	srv, logs := codecServer(t, c, "")
	in := toPayload(t, plain)
	for _, endpoint := range []string{srv.URL, srv.URL + "/default"} { // the CLI's --codec-endpoint .../{namespace}
		r := remote(endpoint, "")
		enc, err := r.Encode([]*commonpb.Payload{in})
		require.NoError(t, err, endpoint)
		require.Equal(t, codec.EncodingEncrypted, string(enc[0].Metadata[codec.MetadataEncoding]))
		// The remote codec's output decodes locally, and the local codec's remotely.
		dec, err := c.Decode(enc)
		require.NoError(t, err)
		assert.True(t, proto.Equal(in, dec[0]))
		dec, err = r.Decode([]*commonpb.Payload{encode(t, c, in)})
		require.NoError(t, err)
		assert.True(t, proto.Equal(in, dec[0]))
	}
	assert.Contains(t, logs.String(), "path=/default/decode")
	assert.NotContains(t, logs.String(), "Acme", "the log holds no payload")

	// A payload whose key is gone: the server answers the clear error.
	other := newCodec(t, "", key("k-gone", 9))
	_, err := remote(srv.URL, "").Decode([]*commonpb.Payload{encode(t, other, in)})
	assert.ErrorContains(t, err, `encrypted with key "k-gone"`)
	assert.Contains(t, logs.String(), `status=400`)
	assert.Contains(t, logs.String(), `encrypted with key \"k-gone\"`, "the log says why")

	resp, err := http.Get(srv.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Get(srv.URL + "/decode")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, err = http.Post(srv.URL+"/other", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func preflight(t *testing.T, url, origin string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodOptions, url+"/decode", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp
}

func TestServerCORS(t *testing.T) {
	c := newCodec(t, "", key("k1", 1))
	// A token is set: the preflight, which carries no credentials, must
	// pass all the same.
	srv, _ := codecServer(t, c, "s3cret")

	for _, origin := range []string{uiOrigin, "http://127.0.0.1:8233", "http://LOCALHOST:8233/"} {
		resp := preflight(t, srv.URL, origin)
		assert.Equal(t, http.StatusNoContent, resp.StatusCode, origin)
		assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"), "the request's origin, never *")
		assert.Equal(t, "POST, GET, OPTIONS", resp.Header.Get("Access-Control-Allow-Methods"))
		assert.Equal(t, "Content-Type, X-Namespace, Authorization", resp.Header.Get("Access-Control-Allow-Headers"))
		assert.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))
		assert.Contains(t, resp.Header.Values("Vary"), "Origin")
	}

	resp := preflight(t, srv.URL, "https://evil.example")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"))
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Methods"))

	// The actual request from the UI carries the origin header too.
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/decode", strings.NewReader(`{"payloads":[]}`))
	require.NoError(t, err)
	req.Header.Set("Origin", uiOrigin)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, uiOrigin, resp.Header.Get("Access-Control-Allow-Origin"))
}

func TestServerAuth(t *testing.T) {
	c := newCodec(t, "", key("k1", 1))
	srv, logs := codecServer(t, c, "s3cret")
	in := []*commonpb.Payload{toPayload(t, plain)}

	for name, token := range map[string]string{"no token": "", "wrong token": "s3cres", "longer token": "s3cret2"} {
		t.Run(name, func(t *testing.T) {
			_, err := remote(srv.URL, token).Encode(in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "Unauthorized")
		})
	}
	for _, h := range []string{"s3cret", "Basic s3cret", "Bearers3cret"} {
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/decode", strings.NewReader(`{"payloads":[]}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", h)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, h)
		assert.Contains(t, string(body), "Authorization: Bearer")
	}

	enc, err := remote(srv.URL, "s3cret").Encode(in)
	require.NoError(t, err)
	dec, err := remote(srv.URL+"/default", "s3cret").Decode(enc)
	require.NoError(t, err)
	assert.True(t, proto.Equal(in[0], dec[0]))
	assert.Contains(t, logs.String(), "status=401")
	assert.Contains(t, logs.String(), "status=200")
	assert.NotContains(t, logs.String(), "s3cret", "the log holds no token")

	// /healthz needs none.
	resp, err := http.Get(srv.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestParseOrigins(t *testing.T) {
	got, err := codec.ParseOrigins("http://localhost:8233, http://127.0.0.1:8233/", "https://ui.example.com", "http://localhost:8233")
	require.NoError(t, err)
	assert.Equal(t, []string{"http://localhost:8233", "http://127.0.0.1:8233", "https://ui.example.com"}, got)
	for _, bad := range []string{"*", "localhost:8233", "http://localhost:8233/ui", "ftp://x", "http://"} {
		_, err := codec.ParseOrigins(bad)
		assert.ErrorContains(t, err, "want scheme://host[:port]", bad)
	}
}

func TestReadAuthToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := dir + "/" + name
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}
	tok, err := codec.ReadAuthToken(write("ok", "s3cret\n"))
	require.NoError(t, err)
	assert.Equal(t, "s3cret", tok)
	_, err = codec.ReadAuthToken(write("empty", " \n"))
	assert.ErrorContains(t, err, "is empty")
	_, err = codec.ReadAuthToken(write("two", "a b\n"))
	assert.ErrorContains(t, err, "one word")
	_, err = codec.ReadAuthToken(dir + "/none")
	assert.ErrorContains(t, err, "auth token file")
}
