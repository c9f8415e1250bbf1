package codec

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"
)

// DevUIOrigins are the origins of the dev server's Web UI on its default
// port: the browser sends whichever host the operator typed.
var DevUIOrigins = []string{"http://localhost:8233", "http://127.0.0.1:8233"}

// The CORS answer the Temporal Web UI needs: it posts JSON with the
// namespace in X-Namespace and, when it passes the user's access token,
// an Authorization header; with "include cross-origin credentials" on, it
// sends cookies too.
const (
	corsAllowMethods = "POST, GET, OPTIONS"
	corsAllowHeaders = "Content-Type, X-Namespace, Authorization"
	corsMaxAge       = "600"
)

// maxBody bounds a request: a page of history's payloads, each at most the
// service's 2 MB blob limit.
const maxBody = 64 << 20

// ServerOptions configure NewServer.
type ServerOptions struct {
	// AllowOrigins are the origins (scheme://host[:port], the Web UI's)
	// whose cross-origin requests are answered; others get no CORS headers.
	AllowOrigins []string
	// AuthToken, when set, is the bearer token encode and decode require.
	AuthToken string
	// Log receives one line per request, never a payload; nil: slog.Default().
	Log *slog.Logger
}

// NewServer is the codec server's handler: POST /encode and /decode (also
// under a namespace, /{namespace}/decode, as the CLI's --codec-endpoint
// templating sends), GET /healthz, and CORS for the Web UI.
func NewServer(c *Codec, opts ServerOptions) http.Handler {
	s := &server{
		codec:   converter.NewPayloadCodecHTTPHandler(c),
		origins: map[string]bool{},
		log:     opts.Log,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	for _, o := range opts.AllowOrigins {
		s.origins[normalizeOrigin(o)] = true
	}
	if opts.AuthToken != "" {
		sum := sha256.Sum256([]byte(opts.AuthToken))
		s.tokenSum = sum[:]
	}
	return s
}

type server struct {
	codec    http.Handler
	origins  map[string]bool
	tokenSum []byte // sha256 of the token; nil: none required
	log      *slog.Logger
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	s.serve(rec, r)
	attrs := []any{"method", r.Method, "path", r.URL.Path, "namespace", r.Header.Get("X-Namespace"), "origin", r.Header.Get("Origin"),
		"remote", r.RemoteAddr, "status", rec.status, "bytes_in", r.ContentLength, "bytes_out", rec.bytes, "duration", time.Since(start).Round(time.Microsecond)}
	if rec.errText != "" {
		attrs = append(attrs, "error", rec.errText)
	}
	s.log.Info("codec request", attrs...)
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && s.origins[normalizeOrigin(origin)]
	if origin != "" {
		w.Header().Add("Vary", "Origin")
	}
	if allowed {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method == http.MethodOptions {
		// A preflight: never authenticated (browsers send no credentials).
		if !allowed {
			http.Error(w, "origin not allowed: start the codec server with -allow-origin "+clip(origin), http.StatusForbidden)
			return
		}
		w.Header().Set("Access-Control-Allow-Methods", corsAllowMethods)
		w.Header().Set("Access-Control-Allow-Headers", corsAllowHeaders)
		w.Header().Set("Access-Control-Max-Age", corsMaxAge)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	path := r.URL.Path
	switch {
	case path == "/healthz":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	case strings.HasSuffix(path, "/encode") || strings.HasSuffix(path, "/decode"):
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST, OPTIONS")
			http.Error(w, "method not allowed: POST payloads", http.StatusMethodNotAllowed)
			return
		}
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="linkwright-codec"`)
			http.Error(w, "unauthorized: send Authorization: Bearer <the codec server's token>", http.StatusUnauthorized)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		s.codec.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *server) authorized(r *http.Request) bool {
	if s.tokenSum == nil {
		return true
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	return subtle.ConstantTimeCompare(sum[:], s.tokenSum) == 1
}

// normalizeOrigin lower-cases an origin and drops a trailing slash.
func normalizeOrigin(o string) string {
	return strings.ToLower(strings.TrimRight(strings.TrimSpace(o), "/"))
}

// ParseOrigins splits comma-separated origins and checks each is
// scheme://host[:port] (no path, no wildcard).
func ParseOrigins(values ...string) ([]string, error) {
	var out []string
	for _, v := range values {
		for _, o := range strings.Split(v, ",") {
			o = strings.TrimRight(strings.TrimSpace(o), "/")
			if o == "" {
				continue
			}
			u, err := url.Parse(o)
			if o == "*" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
				return nil, fmt.Errorf("origin %q: want scheme://host[:port], such as http://localhost:8233 (no path, no wildcard)", o)
			}
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// ReadAuthToken reads the bearer token from a file (surrounding space,
// such as a final newline, is dropped).
func ReadAuthToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("auth token file: %w", err)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", fmt.Errorf("auth token file %s is empty: put the token in it, or do not set one", path)
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("auth token file %s: the token must be one word, without spaces or line breaks", path)
	}
	return tok, nil
}

type statusRecorder struct {
	http.ResponseWriter
	status  int
	bytes   int
	errText string // the codec's own error, for the log (never a payload)
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	// Only the codec's own messages: they name key IDs, never content
	// (a message about malformed JSON might quote the request).
	if r.status >= 400 && r.errText == "" && (bytes.HasPrefix(b, []byte("cannot decrypt")) || bytes.HasPrefix(b, []byte("decrypted payload"))) {
		r.errText = strings.TrimSpace(string(b))
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}
