package zendesk

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/internal/ticket/trackertest"
)

func setup(t *testing.T) (*Tracker, *trackertest.Zendesk) {
	f := trackertest.NewZendesk(t)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	tr := New(Options{URL: srv.URL, Email: f.Email, Token: f.Token})
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
	assert.Equal(t, 1, f.Creates)
	got, _ := f.Get("101")
	assert.False(t, got.Comments[0].Public, "the request is a private note")
	assert.Equal(t, []string{"privatelink"}, got.Labels)

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
	f.Throttle = 1 // the first comment call is throttled and retried
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Public: true, Body: "Your service name is X", IdempotencyKey: "wf/run/7"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Public: true, Body: "Your service name is X", IdempotencyKey: "wf/run/7"}), "an activity retry")
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Body: "approved by ops", IdempotencyKey: "wf/run/8"}))
	got, _ := f.Get(tk.Key)
	cs := got.Comments
	require.Len(t, cs, 3, "the request note, the reply once, the internal note")
	assert.True(t, cs[1].Public)
	assert.Contains(t, cs[1].Body, "Your service name is X\n\n[ref lw-")
	assert.False(t, cs[2].Public, "internal notes are private comments")

	require.NoError(t, tr.SetStatus(ctx, tk.Key, ticket.StatusPending))
	got, _ = f.Get(tk.Key)
	assert.Equal(t, "pending", got.Status, "waiting on the customer")
	assert.ErrorIs(t, tr.Comment(ctx, ticket.Comment{Ticket: "999", Body: "x"}), ticket.ErrNotFound)
}

func TestBadCredentialsSayWhichCall(t *testing.T) {
	tr, _ := setup(t)
	bad := New(Options{URL: tr.base, Email: "ops@platform.example", Token: "wrong"})
	_, err := bad.Open(context.Background(), ticket.OpenRequest{Company: "Acme"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Zendesk find ticket: GET /api/v2/tickets.json: HTTP 401")
	assert.Contains(t, err.Error(), "check zendesk.email and ZENDESK_API_TOKEN", "the error names the fix")
	assert.NotContains(t, err.Error(), "wrong")
	var r interface{ Retryable() bool }
	require.ErrorAs(t, err, &r)
	assert.False(t, r.Retryable(), "a refused token does not get better by retrying")
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
