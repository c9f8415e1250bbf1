package ticket

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileTrackerConversation(t *testing.T) {
	ctx := context.Background()
	f := NewFile(t.TempDir())
	tk, err := f.Open(ctx, OpenRequest{Company: "Acme Corp", Requester: "sam@platform.example", Project: "abcd1234efgh5", Body: "requested"})
	require.NoError(t, err)
	assert.Equal(t, "PL-0001", tk.Key)
	assert.Equal(t, "PrivateLink support for Acme Corp", tk.Subject)

	again, err := f.Open(ctx, OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, tk.Key, again.Key, "opening again finds the open ticket")

	require.NoError(t, f.Comment(ctx, Comment{Ticket: tk.Key, Public: true, Body: "Your service name is X", IdempotencyKey: "k1"}))
	require.NoError(t, f.Comment(ctx, Comment{Ticket: tk.Key, Public: true, Body: "Your service name is X", IdempotencyKey: "k1"}), "a retry")
	require.NoError(t, f.Comment(ctx, Comment{Ticket: tk.Key, Body: "approved by ops", IdempotencyKey: "k2"}))
	require.NoError(t, f.SetStatus(ctx, tk.Key, StatusPending))

	got, comments, err := f.Read(tk.Key)
	require.NoError(t, err)
	assert.Equal(t, StatusPending, got.Status)
	require.Len(t, comments, 3, "the retried comment is posted once")
	assert.False(t, comments[0].Public)
	assert.True(t, comments[1].Public)
	assert.False(t, comments[2].Public)

	md, err := os.ReadFile(f.MarkdownPath(tk.Key))
	require.NoError(t, err)
	assert.Contains(t, string(md), "# PL-0001: PrivateLink support for Acme Corp")
	assert.Contains(t, string(md), "Status: **pending**")
	assert.Contains(t, string(md), "public reply\n\nYour service name is X")
	assert.Contains(t, string(md), "internal note\n\n> approved by ops")

	require.NoError(t, f.SetStatus(ctx, tk.Key, StatusSolved))
	next, err := f.Open(ctx, OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "PL-0002", next.Key, "a solved ticket is not reused")

	named, err := f.Open(ctx, OpenRequest{Key: "PL-0001"})
	require.NoError(t, err)
	assert.Equal(t, StatusSolved, named.Status)
	_, err = f.Open(ctx, OpenRequest{Key: "PL-9999"})
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, f.Comment(ctx, Comment{Ticket: "PL-9999", Body: "x"}), ErrNotFound)
}
