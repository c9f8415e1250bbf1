package github

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

func setup(t *testing.T, notes string) (*Tracker, *trackertest.GitHub) {
	f := trackertest.NewGitHub(t)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	tr, err := New(Options{Owner: f.Owner, Repo: f.Repo, Token: f.Token, APIURL: srv.URL + "/api/v3/", InternalNotes: notes})
	require.NoError(t, err)
	return tr, f
}

func labels(f *trackertest.GitHub, key string) []string { got, _ := f.Get(key); return got.Labels }

func TestIssueLifecycle(t *testing.T) {
	tr, f := setup(t, "")
	ctx := context.Background()
	tk, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp", Body: "requested"})
	require.NoError(t, err)
	assert.Equal(t, "1", tk.Key)
	assert.Equal(t, "https://github.example/acme/privatelink/issues/1", tk.URL)
	again, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "1", again.Key, "a retried open finds the issue")
	assert.Equal(t, 1, f.Creates)
	assert.Equal(t, []string{LabelPrivateLink}, labels(f, "1"))

	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "1", Public: true, Body: "Your service name is X", IdempotencyKey: "k1"}))
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "1", Public: true, Body: "Your service name is X", IdempotencyKey: "k1"}), "a retry")
	require.NoError(t, tr.Comment(ctx, ticket.Comment{Ticket: "1", Body: "approved by ops", IdempotencyKey: "k2"}))
	got, _ := f.Get("1")
	cs := got.Comments[1:] // after the issue's body
	require.Len(t, cs, 2)
	assert.Contains(t, cs[0].Body, "<!-- linkwright:")
	assert.True(t, strings.HasPrefix(cs[1].Body, "**Internal note (Linkwright, not for the customer)**"))

	require.NoError(t, tr.SetStatus(ctx, "1", ticket.StatusPending))
	assert.Contains(t, labels(f, "1"), LabelWaiting)
	require.NoError(t, tr.SetStatus(ctx, "1", ticket.StatusOpen))
	assert.NotContains(t, labels(f, "1"), LabelWaiting)
	require.NoError(t, tr.SetStatus(ctx, "1", ticket.StatusSolved))
	got, _ = f.Get("1")
	assert.Equal(t, "closed", got.Status)

	next, err := tr.Open(ctx, ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "2", next.Key, "a closed issue is not reused")
	_, err = tr.Open(ctx, ticket.OpenRequest{Key: "99"})
	assert.ErrorIs(t, err, ticket.ErrNotFound)
}

func TestInternalNotesCanBeKeptOffGitHub(t *testing.T) {
	tr, f := setup(t, "omit")
	tk, err := tr.Open(context.Background(), ticket.OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	require.NoError(t, tr.Comment(context.Background(), ticket.Comment{Ticket: tk.Key, Body: "internal"}))
	got, _ := f.Get(tk.Key)
	assert.Len(t, got.Comments, 1, "only the issue's body")
}

func TestBadTokenSaysWhichCall(t *testing.T) {
	f := trackertest.NewGitHub(t)
	srv := httptest.NewServer(f)
	defer srv.Close()
	tr, err := New(Options{Owner: "acme", Repo: "privatelink", Token: "wrong", APIURL: srv.URL + "/api/v3/"})
	require.NoError(t, err)
	_, err = tr.Open(context.Background(), ticket.OpenRequest{Company: "Acme"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GitHub list issues on acme/privatelink")
	assert.Contains(t, err.Error(), "401 Bad credentials")
}

func TestParseOptions(t *testing.T) {
	t.Setenv("GITHUB_TOKEN", "")
	_, err := ParseOptions([]byte(`{"owner": "acme", "internalNotes": "shout"}`))
	assert.ErrorContains(t, err, "github.owner and github.repo are required")
	assert.ErrorContains(t, err, "set GITHUB_TOKEN")
	assert.ErrorContains(t, err, `github.internalNotes must be "comment" or "omit"`)
	t.Setenv("GITHUB_TOKEN", "t")
	o, err := ParseOptions([]byte(`{"owner": "acme", "repo": "pl"}`))
	require.NoError(t, err)
	assert.Equal(t, "t", o.Token)
}

// A refused token is final and names the fix; a server error is worth
// another try.
func TestErrorsSayWhetherToRetry(t *testing.T) {
	tr, f := setup(t, "")
	bad, err := New(Options{Owner: f.Owner, Repo: f.Repo, Token: "wrong", APIURL: tr.o.APIURL})
	require.NoError(t, err)
	_, err = bad.Open(context.Background(), ticket.OpenRequest{Company: "Acme Corp"})
	require.Error(t, err)
	var r interface{ Retryable() bool }
	require.ErrorAs(t, err, &r)
	assert.False(t, r.Retryable())
	assert.Contains(t, err.Error(), "check GITHUB_TOKEN")
	assert.NotContains(t, err.Error(), "wrong")

	assert.True(t, (&callError{msg: "x", err: context.DeadlineExceeded}).Retryable(), "no answer: retry")
}
