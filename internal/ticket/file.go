package ticket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/linkwright/linkwright/internal/ondisk"
)

// File is the default tracker: one readable Markdown file per ticket in a
// directory, the whole conversation in order. Each ticket's data lives in
// a JSON file beside it, from which the Markdown is rendered on every
// change. A file lock makes it safe for several processes.
type File struct {
	Dir string
	Now func() time.Time
	mu  sync.Mutex
}

// NewFile returns a file tracker writing into dir.
func NewFile(dir string) *File { return &File{Dir: dir, Now: time.Now} }

var _ Tracker = (*File)(nil)

type fileTicket struct {
	Ticket
	Company   string      `json:"company"`
	Requester string      `json:"requester"`
	Project   string      `json:"project"`
	Opened    time.Time   `json:"opened"`
	Entries   []fileEntry `json:"entries"`
}

type fileEntry struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // reply, note, status
	Author string    `json:"author"`
	Body   string    `json:"body"`
	Key    string    `json:"key,omitempty"`
}

type fileIndex struct {
	Seq     int               `json:"seq"`
	Tickets map[string]string `json:"tickets"` // key -> subject
}

// MarkdownPath is where a ticket's readable conversation is.
func (f *File) MarkdownPath(key string) string { return filepath.Join(f.Dir, key+".md") }

func (f *File) dataPath(key string) string { return filepath.Join(f.Dir, key+".json") }

func (f *File) locked(fn func(idx *fileIndex) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return ondisk.WithLock(filepath.Join(f.Dir, ".lock"), true, func() error {
		idx := &fileIndex{Tickets: map[string]string{}}
		if err := readJSON(filepath.Join(f.Dir, "index.json"), idx); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := fn(idx); err != nil {
			return err
		}
		return ondisk.WriteFile(filepath.Join(f.Dir, "index.json"), mustJSON(idx))
	})
}

func (f *File) load(key string) (*fileTicket, error) {
	t := &fileTicket{}
	err := readJSON(f.dataPath(key), t)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (the file tracker in %s has no such ticket)", ErrNotFound, key, f.Dir)
	}
	return t, err
}

func (f *File) save(t *fileTicket) error {
	if err := ondisk.WriteFile(f.dataPath(t.Key), mustJSON(t)); err != nil {
		return err
	}
	return ondisk.WriteFile(f.MarkdownPath(t.Key), []byte(t.markdown()))
}

// Open implements Tracker.
func (f *File) Open(_ context.Context, req OpenRequest) (Ticket, error) {
	var out Ticket
	err := f.locked(func(idx *fileIndex) error {
		if req.Key != "" {
			t, err := f.load(req.Key)
			if err != nil {
				return err
			}
			out = t.Ticket
			return nil
		}
		subject := Subject(req.Company)
		keys := make([]string, 0, len(idx.Tickets))
		for k, s := range idx.Tickets {
			if s == subject {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			t, err := f.load(k)
			if err != nil {
				return err
			}
			if t.Status != StatusSolved {
				out = t.Ticket
				return nil
			}
		}
		idx.Seq++
		t := &fileTicket{
			Ticket:  Ticket{Key: fmt.Sprintf("PL-%04d", idx.Seq), Subject: subject, Status: StatusOpen},
			Company: req.Company, Requester: req.Requester, Project: req.Project, Opened: f.Now().UTC(),
		}
		t.URL = "file://" + f.MarkdownPath(t.Key)
		if req.Body != "" {
			t.Entries = append(t.Entries, fileEntry{At: t.Opened, Kind: "note", Author: req.Requester, Body: req.Body})
		}
		idx.Tickets[t.Key] = subject
		out = t.Ticket
		return f.save(t)
	})
	return out, err
}

// Comment implements Tracker.
func (f *File) Comment(_ context.Context, c Comment) error {
	return f.locked(func(*fileIndex) error {
		t, err := f.load(c.Ticket)
		if err != nil {
			return err
		}
		if c.IdempotencyKey != "" && slices.ContainsFunc(t.Entries, func(e fileEntry) bool { return e.Key == c.IdempotencyKey }) {
			return nil
		}
		kind, author := "note", c.Author
		if c.Public {
			kind = "reply"
		}
		if author == "" {
			author = "Linkwright"
		}
		t.Entries = append(t.Entries, fileEntry{At: f.Now().UTC(), Kind: kind, Author: author, Body: c.Body, Key: c.IdempotencyKey})
		return f.save(t)
	})
}

// SetStatus implements Tracker.
func (f *File) SetStatus(_ context.Context, key string, s Status) error {
	return f.locked(func(*fileIndex) error {
		t, err := f.load(key)
		if err != nil {
			return err
		}
		if t.Status == s {
			return nil
		}
		t.Status = s
		t.Entries = append(t.Entries, fileEntry{At: f.Now().UTC(), Kind: "status", Author: "Linkwright", Body: string(s)})
		return f.save(t)
	})
}

// Read returns a ticket's conversation as stored (for tests and the starter).
func (f *File) Read(key string) (Ticket, []Comment, error) {
	t, err := f.load(key)
	if err != nil {
		return Ticket{}, nil, err
	}
	var cs []Comment
	for _, e := range t.Entries {
		if e.Kind != "status" {
			cs = append(cs, Comment{Ticket: key, Public: e.Kind == "reply", Author: e.Author, Body: e.Body, IdempotencyKey: e.Key})
		}
	}
	return t.Ticket, cs, nil
}

func (t *fileTicket) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %s\n\n", t.Key, t.Subject)
	fmt.Fprintf(&b, "- Status: **%s**\n- Company: %s\n- Project: %s\n- Requested by: %s\n- Opened: %s\n\n",
		t.Status, t.Company, t.Project, t.Requester, t.Opened.Format(time.RFC1123))
	for _, e := range t.Entries {
		stamp := e.At.Format("2006-01-02 15:04 MST")
		switch e.Kind {
		case "status":
			fmt.Fprintf(&b, "---\n\n_%s · status changed to **%s**_\n\n", stamp, e.Body)
		case "reply":
			fmt.Fprintf(&b, "---\n\n### %s · %s · public reply\n\n%s\n\n", stamp, e.Author, e.Body)
		default:
			fmt.Fprintf(&b, "---\n\n### %s · %s · internal note\n\n%s\n\n", stamp, e.Author, quote(e.Body))
		}
	}
	return b.String()
}

func quote(s string) string {
	return "> " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n> ")
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s is corrupt: %w", path, err)
	}
	return nil
}

func mustJSON(v any) []byte {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // only plain structs are marshalled here
	}
	return data
}
