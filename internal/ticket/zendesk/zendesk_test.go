package zendesk

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/ticket"
)

// fakeZendesk checks each request against the documented API and keeps
// tickets and comments in memory.
type fakeZendesk struct {
	t        *testing.T
	mu       sync.Mutex
	tickets  map[string]*zTicket
	comments map[string][]comment
	creates  int
	throttle int
}

func (f *fakeZendesk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	user, pass, ok := r.BasicAuth()
	if !ok || user != "ops@platform.example/token" || pass != "tok" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if f.throttle > 0 {
		f.throttle--
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	var in one
	if r.Body != nil {
		data, _ := io.ReadAll(r.Body)
		if len(data) > 0 {
			require.Equal(f.t, "application/json", r.Header.Get("Content-Type"))
			require.NoError(f.t, json.Unmarshal(data, &in))
		}
	}
	path := r.URL.Path
	switch {
	case r.Method == http.MethodGet && path == "/api/v2/tickets.json":
		var out []zTicket
		for _, z := range f.tickets {
			if z.ExternalID == r.URL.Query().Get("external_id") {
				out = append(out, *z)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"tickets": out})
	case r.Method == http.MethodPost && path == "/api/v2/tickets.json":
		f.creates++
		z := in.Ticket
		z.ID = int64(100 + f.creates)
		z.Status = "new"
		id := jsonID(z.ID)
		f.comments[id] = append(f.comments[id], *z.Comment)
		z.Comment = nil
		f.tickets[id] = &z
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(one{Ticket: z})
	case strings.HasSuffix(path, "/comments.json") && r.Method == http.MethodGet:
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/api/v2/tickets/"), "/comments.json")
		if f.tickets[id] == nil {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		require.Equal(f.t, "100", r.URL.Query().Get("page[size]"))
		json.NewEncoder(w).Encode(map[string]any{"comments": f.comments[id], "meta": map[string]any{"has_more": false}})
	case strings.HasPrefix(path, "/api/v2/tickets/") && strings.HasSuffix(path, ".json"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/api/v2/tickets/"), ".json")
		z := f.tickets[id]
		if z == nil {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"RecordNotFound"}`))
			return
		}
		if r.Method == http.MethodPut {
			if in.Ticket.Comment != nil {
				f.comments[id] = append(f.comments[id], *in.Ticket.Comment)
			}
			if in.Ticket.Status != "" {
				z.Status = in.Ticket.Status
			}
		}
		json.NewEncoder(w).Encode(one{Ticket: *z})
	default:
		f.t.Errorf("unexpected %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusNotFound)
	}
}

func jsonID(id int64) string { b, _ := json.Marshal(id); return string(b) }

func setup(t *testing.T) (*Tracker, *fakeZendesk) {
	f := &fakeZendesk{t: t, tickets: map[string]*zTicket{}, comments: map[string][]comment{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	tr := New(Options{URL: srv.URL, Email: "ops@platform.example", Token: "tok"})
	tr.api.Backoff = time.Millisecond
	return tr, f
}

func TestOpenIsIdempotent(t *testing.T) {
	tr, f := setup(t)
	ctx := context.Background()
	tk, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp", Body: "requested by sam"})
	require.NoError(t, err)
	assert.Equal(t, "101", tk.Key)
	assert.Equal(t, "PrivateLink support for Acme Corp", tk.Subject)
	assert.True(t, strings.HasSuffix(tk.URL, "/agent/tickets/101"))
	again, err := tr.Open(ctx, ticket.OpenRequest{Company: "acme corp "})
	require.NoError(t, err)
	assert.Equal(t, tk.Key, again.Key, "a retried open finds the first ticket")
	assert.Equal(t, 1, f.creates)
	assert.False(t, f.comments["101"][0].Public, "the request is a private note")
	assert.Equal(t, []string{"privatelink"}, f.tickets["101"].Tags)

	require.NoError(t, tr.SetStatus(ctx, tk.Key, ticket.StatusSolved))
	next, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "102", next.Key, "a solved ticket is not reused")

	named, err := tr.Open(ctx, ticket.OpenRequest{Key: "101"})
	require.NoError(t, err)
	assert.Equal(t, ticket.StatusSolved, named.Status)
	_, err = tr.Open(ctx, ticket.OpenRequest{Key: "999"})
	assert.ErrorIs(t, err, ticket.ErrNotFound)
}

func TestCommentsPublicPrivateAndRetried(t *testing.T) {
	tr, f := setup(t)
	ctx := context.Background()
	tk, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	f.throttle = 1 // the first comment call is throttled and retried
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Public: true, Body: "Your service name is X", IdempotencyKey: "wf/run/7"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Public: true, Body: "Your service name is X", IdempotencyKey: "wf/run/7"}), "an activity retry")
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Body: "approved by ops", IdempotencyKey: "wf/run/8"}))
	cs := f.comments[tk.Key]
	require.Len(t, cs, 3, "the request note, the reply once, the internal note")
	assert.True(t, cs[1].Public)
	assert.Contains(t, cs[1].Body, "Your service name is X\n\n[ref lw-")
	assert.False(t, cs[2].Public, "internal notes are private comments")

	require.NoError(t, tr.SetStatus(ctx, tk.Key, ticket.StatusPending))
	assert.Equal(t, "pending", f.tickets[tk.Key].Status, "waiting on the customer")
	assert.ErrorIs(t, tr.Comment(ctx, ticket.Comment{Ticket: "999", Body: "x"}), ticket.ErrNotFound)
}

func TestBadCredentialsSayWhichCall(t *testing.T) {
	tr, _ := setup(t)
	bad := New(Options{URL: tr.base, Email: "ops@platform.example", Token: "wrong"})
	_, err := bad.Open(context.Background(), ticket.OpenRequest{Company: "Acme"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Zendesk find ticket: GET /api/v2/tickets.json: HTTP 401")
	assert.NotContains(t, err.Error(), "wrong")
}

func TestParseOptions(t *testing.T) {
	t.Setenv("ZENDESK_API_TOKEN", "from-env")
	o, err := ParseOptions([]byte(`{"url": "https://acme.zendesk.com", "email": "ops@platform.example"}`))
	require.NoError(t, err)
	assert.Equal(t, "from-env", o.Token, "the token comes from the environment")
	t.Setenv("ZENDESK_API_TOKEN", "")
	_, err = ParseOptions([]byte(`{"url": "acme"}`))
	assert.ErrorContains(t, err, "zendesk.url must be the account's URL")
	assert.ErrorContains(t, err, "zendesk.email is required")
	assert.ErrorContains(t, err, "set ZENDESK_API_TOKEN")
}
