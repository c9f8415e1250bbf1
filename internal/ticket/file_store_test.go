package ticket

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tickets of an earlier release (index.json and <key>.json) are
// imported on first use and set aside; conversations, idempotency keys,
// statuses and numbering carry on.
func TestFileTrackerImportsJSONTickets(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	opened := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	acme := fileTicket{Ticket: Ticket{Key: "PL-0001", Subject: Subject("Acme Corp"), Status: StatusPending, URL: "file://" + filepath.Join(dir, "PL-0001.md")},
		Company: "Acme Corp", Requester: "sam@platform.example", Project: "abcd1234efgh5", Opened: opened,
		Entries: []fileEntry{
			{At: opened, Kind: "note", Author: "sam@platform.example", Body: "requested"},
			{At: opened.Add(time.Minute), Kind: "reply", Author: "Linkwright", Body: "Your service name is X", Key: "k1"},
			{At: opened.Add(2 * time.Minute), Kind: "status", Author: "Linkwright", Body: "pending"},
		}}
	solved := fileTicket{Ticket: Ticket{Key: "PL-0002", Subject: Subject("Globex"), Status: StatusSolved}, Company: "Globex", Opened: opened}
	// Written just before the release crashed, before its index was.
	unindexed := fileTicket{Ticket: Ticket{Key: "PL-0003", Subject: Subject("Initech"), Status: StatusOpen}, Company: "Initech", Opened: opened}
	legacy := map[string]any{
		"index.json":   map[string]any{"seq": 2, "tickets": map[string]string{"PL-0001": acme.Subject, "PL-0002": solved.Subject}},
		"PL-0001.json": acme, "PL-0002.json": solved, "PL-0003.json": unindexed,
	}
	for name, v := range legacy {
		data, err := json.MarshalIndent(v, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "PL-0001.md"), []byte("# PL-0001 as rendered before\n"), 0o644))

	f := NewFile(dir)
	got, comments, err := f.Read("PL-0001")
	require.NoError(t, err)
	assert.Equal(t, acme.Ticket, got)
	assert.Equal(t, []Comment{
		{Ticket: "PL-0001", Author: "sam@platform.example", Body: "requested"},
		{Ticket: "PL-0001", Public: true, Author: "Linkwright", Body: "Your service name is X", IdempotencyKey: "k1"},
	}, comments)
	for name, v := range legacy {
		_, err := os.Stat(filepath.Join(dir, name))
		assert.True(t, os.IsNotExist(err), "%s is set aside: %v", name, err)
		data, err := os.ReadFile(filepath.Join(dir, name+".migrated"))
		require.NoError(t, err)
		want, _ := json.MarshalIndent(v, "", "  ")
		assert.Equal(t, string(want), string(data), "%s is kept as it was", name)
	}

	require.NoError(t, f.Comment(ctx, Comment{Ticket: "PL-0001", Public: true, Body: "Your service name is X", IdempotencyKey: "k1"}), "a retry of an imported comment")
	require.NoError(t, f.Comment(ctx, Comment{Ticket: "PL-0001", Body: "approved by ops", IdempotencyKey: "k2"}))
	_, comments, err = f.Read("PL-0001")
	require.NoError(t, err)
	assert.Len(t, comments, 3, "the retry is not posted again")
	md, err := os.ReadFile(f.MarkdownPath("PL-0001"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "public reply\n\nYour service name is X")
	assert.Contains(t, string(md), "status changed to **pending**")
	assert.Contains(t, string(md), "internal note\n\n> approved by ops", "rendered again from what was imported and added")

	tk, err := f.Open(ctx, OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, "PL-0001", tk.Key, "the imported open ticket is found")
	tk, err = f.Open(ctx, OpenRequest{Company: "Initech"})
	require.NoError(t, err)
	assert.Equal(t, "PL-0003", tk.Key, "the ticket missing from the index too")
	tk, err = f.Open(ctx, OpenRequest{Company: "Globex"})
	require.NoError(t, err)
	assert.Equal(t, "PL-0004", tk.Key, "a solved ticket is not reused; numbering carries on after every imported ticket")
}

// A tracker directory whose index.json is corrupt fails, saying so, and
// keeps its files.
func TestFileTrackerCorruptIndexIsNotImported(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.json"), []byte("{"), 0o644))
	_, _, err := NewFile(dir).Read("PL-0001")
	assert.ErrorContains(t, err, "index.json is corrupt")
	_, err = os.Stat(filepath.Join(dir, "index.json"))
	assert.NoError(t, err, "left where it is")
}

// Everything is there after a restart: a File closed, a new one opened
// on the same directory; and one never closed works as well.
func TestFileTrackerSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	f := NewFile(dir)
	tk, err := f.Open(ctx, OpenRequest{Company: "Acme Corp", Requester: "sam@platform.example", Body: "requested"})
	require.NoError(t, err)
	require.NoError(t, f.Comment(ctx, Comment{Ticket: tk.Key, Public: true, Body: "hello", IdempotencyKey: "k1"}))
	require.NoError(t, f.SetStatus(ctx, tk.Key, StatusPending))
	require.NoError(t, f.Close())

	f = NewFile(dir)
	got, comments, err := f.Read(tk.Key)
	require.NoError(t, err)
	assert.Equal(t, StatusPending, got.Status)
	require.Len(t, comments, 2)
	require.NoError(t, f.Comment(ctx, Comment{Ticket: tk.Key, Public: true, Body: "hello", IdempotencyKey: "k1"}))
	again, err := f.Open(ctx, OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	assert.Equal(t, tk.Key, again.Key)
	next, err := NewFile(dir).Open(ctx, OpenRequest{Company: "Globex"})
	require.NoError(t, err)
	assert.Equal(t, "PL-0002", next.Key)
	_, comments, err = NewFile(dir).Read(tk.Key)
	require.NoError(t, err)
	assert.Len(t, comments, 2, "the retry after the restart is not posted again")
}

// A change writes that ticket's Markdown and no other.
func TestFileTrackerRendersOnlyTheTicketChanged(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	f := NewFile(dir)
	a, err := f.Open(ctx, OpenRequest{Company: "Acme Corp"})
	require.NoError(t, err)
	b, err := f.Open(ctx, OpenRequest{Company: "Globex"})
	require.NoError(t, err)
	require.NoError(t, os.Remove(f.MarkdownPath(b.Key)))
	require.NoError(t, f.Comment(ctx, Comment{Ticket: a.Key, Body: "x"}))
	require.NoError(t, f.SetStatus(ctx, a.Key, StatusSolved))
	_, err = os.Stat(f.MarkdownPath(b.Key))
	assert.True(t, os.IsNotExist(err), "the other ticket's file is not written: %v", err)
	md, err := os.ReadFile(f.MarkdownPath(a.Key))
	require.NoError(t, err)
	assert.Contains(t, string(md), "status changed to **solved**")
}

// Goroutines through two Files on one directory (as two processes would)
// lose no comment, open one ticket per company, and leave the Markdown
// with every comment.
func TestFileTrackerConcurrentWritersLoseNothing(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	files := []*File{NewFile(dir), NewFile(dir)}
	keys := make(chan string, 16)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			f := files[w%2]
			tk, err := f.Open(ctx, OpenRequest{Company: "Acme Corp"})
			if !assert.NoError(t, err) {
				return
			}
			keys <- tk.Key
			for i := range 5 {
				assert.NoError(t, f.Comment(ctx, Comment{Ticket: tk.Key, Body: fmt.Sprintf("w%d-%d", w, i), IdempotencyKey: fmt.Sprintf("w%d-%d", w, i)}))
			}
		})
	}
	wg.Wait()
	close(keys)
	for k := range keys {
		assert.Equal(t, "PL-0001", k, "one ticket for the company")
	}
	checkComments(t, NewFile(dir), "PL-0001", 16, 5)
}

func checkComments(t *testing.T, f *File, key string, writers, each int) {
	t.Helper()
	_, comments, err := f.Read(key)
	require.NoError(t, err)
	assert.Len(t, comments, writers*each)
	md, err := os.ReadFile(f.MarkdownPath(key))
	require.NoError(t, err)
	for w := range writers {
		for i := range each {
			assert.Contains(t, string(md), fmt.Sprintf("> w%d-%d\n", w, i))
		}
	}
	assert.Equal(t, writers*each, strings.Count(string(md), "internal note"), "the Markdown has every comment, once")
}

// Two OS processes (this test binary, run again) comment on one ticket of
// a new directory at once and lose nothing.
func TestFileTrackerTwoProcessesLoseNothing(t *testing.T) {
	const each = 20
	if dir := os.Getenv("TICKET_TEST_WRITER_DIR"); dir != "" {
		w, err := strconv.Atoi(os.Getenv("TICKET_TEST_WRITER"))
		require.NoError(t, err)
		f := NewFile(dir)
		tk, err := f.Open(context.Background(), OpenRequest{Company: "Acme Corp"})
		require.NoError(t, err)
		for i := range each {
			require.NoError(t, f.Comment(context.Background(), Comment{Ticket: tk.Key, Body: fmt.Sprintf("w%d-%d", w, i)}))
		}
		t.Logf("wrote as process %d (pid %d)", w, os.Getpid())
		return
	}
	dir := t.TempDir()
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for w := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFileTrackerTwoProcessesLoseNothing$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "TICKET_TEST_WRITER_DIR="+dir, "TICKET_TEST_WRITER="+strconv.Itoa(w))
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		require.NoError(t, cmd.Start())
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), "writer %d:\n%s", i, outs[i])
		require.Contains(t, outs[i].String(), "wrote as process", "writer %d ran:\n%s", i, outs[i])
	}
	checkComments(t, NewFile(dir), "PL-0001", 2, each)
}
