package servicenow

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/internal/ticket/trackertest"
)

func setup(t *testing.T) (*Tracker, *trackertest.ServiceNow) {
	f := trackertest.NewServiceNow(t)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return New(Options{URL: srv.URL, User: f.User, Password: f.Password}), f
}

func TestRecordLifecycle(t *testing.T) {
	tr, f := setup(t)
	ctx := context.Background()
	tk, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "INC0000001", tk.Key)
	assert.Contains(t, tk.URL, "nav_to.do?uri=incident.do%3Fsys_id%3Dsys-INC0000001")
	again, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, tk.Key, again.Key)
	require.Equal(t, 1, f.Creates)

	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Public: true, Body: "hello", IdempotencyKey: "k"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Public: true, Body: "hello", IdempotencyKey: "k"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: tk.Key, Body: "approved", IdempotencyKey: "k2"}))
	got, _ := f.Get(tk.Key)
	cs := got.Comments[1:] // after the description
	require.Len(t, cs, 2, "the public reply once, and the note")
	assert.True(t, cs[0].Public, "public replies go to comments")
	assert.False(t, cs[1].Public, "internal notes go to work_notes")

	require.NoError(t, tr.SetStatus(ctx, tk.Key, ticket.StatusPending))
	got, _ = f.Get(tk.Key)
	assert.Equal(t, map[string]string{"state": "3", "hold_reason": "1"}, got.Fields, "On Hold, awaiting caller")
	require.NoError(t, tr.SetStatus(ctx, tk.Key, ticket.StatusSolved))
	got, _ = f.Get(tk.Key)
	assert.Equal(t, "Solution provided", got.Fields["close_code"])

	next, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "INC0000002", next.Key, "a resolved record is not reused")
	_, err = tr.Open(ctx, ticket.OpenRequest{Key: "INC9999999"})
	assert.ErrorIs(t, err, ticket.ErrNotFound)
}

func TestBadCredentials(t *testing.T) {
	tr, _ := setup(t)
	tr.o.Password = "wrong"
	bad := New(tr.o)
	_, err := bad.Open(context.Background(), ticket.OpenRequest{Company: "Acme"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ServiceNow find record: GET /api/now/table/incident: HTTP 401")
	assert.NotContains(t, err.Error(), "wrong")
}
