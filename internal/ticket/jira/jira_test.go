package jira

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/linkwright/linkwright/internal/ticket"
	"github.com/linkwright/linkwright/internal/ticket/trackertest"
)

func setup(t *testing.T, o Options) (*Tracker, *trackertest.Jira) {
	f := trackertest.NewJira(t)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	o.URL, o.Email, o.Token, o.ServiceDeskID, o.RequestTypeID = srv.URL, f.Email, f.Token, "10", "25"
	return New(o), f
}

func TestRequestLifecycle(t *testing.T) {
	tr, f := setup(t, Options{})
	ctx := context.Background()
	tk, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "PL-1", tk.Key)
	assert.True(t, strings.HasSuffix(tk.URL, "/browse/PL-1"))
	again, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "PL-1", again.Key)
	assert.Equal(t, 1, f.Creates)

	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "PL-1", Public: true, Body: "hello", IdempotencyKey: "k"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "PL-1", Public: true, Body: "hello", IdempotencyKey: "k"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "PL-1", Body: "note", IdempotencyKey: "k2"}))
	got, _ := f.Get("PL-1")
	cs := got.Comments[1:] // after the request's description
	require.Len(t, cs, 2)
	assert.True(t, cs[0].Public)
	assert.False(t, cs[1].Public, "internal comments are not public")

	require.NoError(t, tr.SetStatus(ctx, "PL-1", ticket.StatusPending))
	got, _ = f.Get("PL-1")
	assert.Equal(t, "Pending", got.Status)
	require.NoError(t, tr.SetStatus(ctx, "PL-1", ticket.StatusPending), "already there: no transition")
	require.NoError(t, tr.SetStatus(ctx, "PL-1", ticket.StatusSolved))
	got, _ = f.Get("PL-1")
	assert.Equal(t, "Resolved", got.Status)

	next, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "PL-2", next.Key, "a resolved request is not reused")
	_, err = tr.Open(ctx, ticket.OpenRequest{Key: "PL-99"})
	assert.ErrorIs(t, err, ticket.ErrNotFound)
}

func TestMissingTransitionIsAConfigError(t *testing.T) {
	tr, _ := setup(t, Options{Transitions: map[string]string{"pending": "Wait for customer"}})
	tk, err := tr.Open(context.Background(), ticket.OpenRequest{Company: "Acme"})
	require.NoError(t, err)
	err = tr.SetStatus(context.Background(), tk.Key, ticket.StatusPending)
	assert.ErrorIs(t, err, ticket.ErrConfig)
	assert.Contains(t, err.Error(), `no transition "Wait for customer"`)
	assert.Contains(t, err.Error(), "it has Pending, Resolve this issue, Respond to customer")
}

func TestParseOptions(t *testing.T) {
	t.Setenv("JIRA_API_TOKEN", "")
	_, err := ParseOptions([]byte(`{"url": "https://acme.atlassian.net", "email": "a@b"}`))
	assert.ErrorContains(t, err, "API token (JIRA_API_TOKEN) are required")
	assert.ErrorContains(t, err, "jira.serviceDeskId and jira.requestTypeId are required")
}
