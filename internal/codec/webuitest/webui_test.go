// Package webuitest checks, in a real browser, that the Temporal Web UI
// decodes Linkwright's encrypted payloads through the codec server: a dev
// server of its own with --ui-codec-endpoint, an encrypted workflow input,
// and headless Chromium on the workflow's page.
package webuitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/linkwright/linkwright/internal/codec"
	"github.com/linkwright/linkwright/internal/devtest"
)

// The UI renders slowly on a small machine: the page may take this long
// to show the decoded input.
const uiDeadline = 90 * time.Second

func requireIntegration(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("LINKWRIGHT_REQUIRE_INTEGRATION") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	requireIntegration(t, "browser test: no chromium on PATH; install chromium (make test installs it)")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// codecRequest is a request the codec server answered.
type codecRequest struct {
	method, path, origin, namespace string
	status                          int
}

type requestLog struct {
	mu   sync.Mutex
	reqs []codecRequest
}

func (l *requestLog) add(r codecRequest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r)
}

func (l *requestLog) all() []codecRequest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]codecRequest(nil), l.reqs...)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

type secretInput struct {
	Company string `json:"company"`
	Note    string `json:"note"`
}

func TestIntegrationWebUIDecodesThroughTheCodecServer(t *testing.T) {
	temporal := os.Getenv("LINKWRIGHT_TEMPORAL")
	if temporal == "" || testing.Short() {
		requireIntegration(t, "browser test: needs LINKWRIGHT_TEMPORAL (bin/temporal); run `make test`")
	}
	chromium := findChromium(t)
	start := time.Now()

	// The codec: a fresh key; the server as `linkwright codec-server` runs
	// it, allowing the UI's origin, every request recorded.
	secret := make([]byte, codec.KeySize)
	_, _ = rand.Read(secret)
	cdc, err := codec.New([]codec.Key{{ID: "k-webui", Secret: secret}}, "")
	require.NoError(t, err)
	uiPort := freePort(t)
	uiOrigin := "http://127.0.0.1:" + strconv.Itoa(uiPort)
	var log requestLog
	var codecLog bytes.Buffer
	var codecLogMu sync.Mutex
	handler := codec.NewServer(cdc, codec.ServerOptions{
		AllowOrigins: []string{uiOrigin, "http://localhost:" + strconv.Itoa(uiPort)},
		Log:          slog.New(slog.NewTextHandler(lockedWriter{&codecLogMu, &codecLog}, nil)),
	})
	codecSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		handler.ServeHTTP(sw, r)
		log.add(codecRequest{r.Method, r.URL.Path, r.Header.Get("Origin"), r.Header.Get("X-Namespace"), sw.status})
	}))
	t.Cleanup(codecSrv.Close)

	// A dev server of its own, with its Web UI on a free port and the
	// codec endpoint set; its client encrypts.
	serverLog, err := os.Create(filepath.Join(t.TempDir(), "temporal.log"))
	require.NoError(t, err)
	t.Cleanup(func() { serverLog.Close() })
	srv, err := testsuite.StartDevServer(context.Background(), testsuite.DevServerOptions{
		ExistingPath: temporal, LogLevel: "warn", EnableUI: true, UIPort: strconv.Itoa(uiPort),
		ExtraArgs:     []string{"--ui-codec-endpoint", codecSrv.URL},
		ClientOptions: &client.Options{DataConverter: cdc.DataConverter(), Logger: devtest.Quiet{}},
		Stdout:        serverLog, Stderr: serverLog,
	})
	require.NoError(t, err, "start the dev server")
	t.Cleanup(func() { _ = srv.Stop() })
	c := srv.Client()

	// A workflow with an encrypted input holding a distinctive string. No
	// worker runs: it waits for one, which is all the page needs.
	marker := "Quokka Holdings " + randomHex(4)
	id := "codec-webui-" + randomHex(4)
	run, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: id, TaskQueue: "codec-webui-no-worker"},
		"LinkwrightCodecWebUITest", secretInput{Company: marker, Note: "decoded by the codec server"})
	require.NoError(t, err)
	// What the server holds is ciphertext: without the codec the page
	// could not show the string.
	it := c.GetWorkflowHistory(context.Background(), id, run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	ev, err := it.Next()
	require.NoError(t, err)
	in := ev.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	require.Len(t, in, 1)
	require.Equal(t, codec.EncodingEncrypted, string(in[0].GetMetadata()[codec.MetadataEncoding]))
	require.NotContains(t, string(in[0].GetData()), marker)

	// Headless Chromium (as root here: no sandbox) on the workflow's page.
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.Flag("headless", "new"), chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000), chromedp.UserDataDir(t.TempDir()))...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	require.NoError(t, chromedp.Do(bctx), "start chromium") // no deadline on the browser's first run
	ctx, cancel := context.WithTimeout(bctx, uiDeadline)
	defer cancel()

	page := uiOrigin + "/namespaces/default/workflows/" + id
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(page)), "open %s", page)
	var text string
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(text, marker) {
		select {
		case <-ctx.Done():
			shot := screenshot(t, bctx)
			t.Fatalf("the Web UI did not show the decoded input %q within %s (screenshot %s).\ncodec server requests: %+v\ncodec log:\n%s\npage text:\n%s",
				marker, uiDeadline, shot, log.all(), lockedString(&codecLogMu, &codecLog), text)
		case <-tick.C:
		}
		text, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	}
	shown := time.Since(start)

	// The browser decoded through the codec server, from the UI's origin.
	var decodes int
	for _, r := range log.all() {
		if r.method == http.MethodPost && strings.HasSuffix(r.path, "/decode") && r.origin == uiOrigin && r.status == http.StatusOK {
			decodes++
		}
	}
	assert.Positive(t, decodes, "no POST /decode from origin %s reached the codec server: %+v", uiOrigin, log.all())

	shot := screenshot(t, bctx)
	info, err := os.Stat(shot)
	require.NoError(t, err)
	assert.Positive(t, info.Size(), "screenshot %s is empty", shot)
	t.Logf("the Web UI showed the decoded input %s after start (%d decode requests from %s); screenshot %s", shown.Round(time.Millisecond), decodes, uiOrigin, shot)
}

// screenshot saves the page to the test's directory, and to
// LINKWRIGHT_WEBUI_SCREENSHOT when set; it returns the first path.
func screenshot(t *testing.T, bctx context.Context) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return ""
	}
	path := filepath.Join(t.TempDir(), "webui.png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	if extra := os.Getenv("LINKWRIGHT_WEBUI_SCREENSHOT"); extra != "" {
		if err := os.WriteFile(extra, png, 0o644); err != nil {
			t.Errorf("LINKWRIGHT_WEBUI_SCREENSHOT: %v", err)
		}
	}
	return path
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func lockedString(mu *sync.Mutex, b *bytes.Buffer) string {
	mu.Lock()
	defer mu.Unlock()
	return b.String()
}
