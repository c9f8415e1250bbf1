package ticket

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/linkwright/linkwright/internal/ondisk"
)

// File is the default tracker: one readable Markdown file per ticket in a
// directory, the whole conversation in order. The tickets and their
// entries live in an SQLite database beside them (tickets.db), shared
// safely by several processes; a change to a ticket writes its record and
// renders that ticket's Markdown again, and nothing else.
type File struct {
	Dir string
	Now func() time.Time
	mu  sync.Mutex // making h
	h   *ondisk.Handle
}

// NewFile returns a file tracker writing into dir. Nothing is read until
// the first call. The tickets of an earlier release (index.json and a
// JSON file per ticket) are imported on first use and set aside, renamed
// *.migrated.
func NewFile(dir string) *File { return &File{Dir: dir, Now: time.Now} }

var _ Tracker = (*File)(nil)

// Close closes the tracker's database. Calling it is optional (what a
// caller never closes is closed once the File is no longer used); a call
// after Close opens the database again.
func (f *File) Close() error {
	f.mu.Lock()
	h := f.h
	f.mu.Unlock()
	if h == nil {
		return nil
	}
	return h.Close()
}

type fileTicket struct {
	Ticket
	Company   string      `json:"company"`
	Requester string      `json:"requester"`
	Project   string      `json:"project"`
	Opened    time.Time   `json:"opened"`
	Entries   []fileEntry `json:"entries,omitempty"` // not in the ticket's record: a row each
}

type fileEntry struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"` // reply, note, status
	Author string    `json:"author"`
	Body   string    `json:"body"`
	Key    string    `json:"key,omitempty"`
}

// MarkdownPath is where a ticket's readable conversation is.
func (f *File) MarkdownPath(key string) string { return filepath.Join(f.Dir, key+".md") }

// fileTx is one transaction on the tracker's database.
type fileTx struct {
	*ondisk.Tx
	f *File
}

func (f *File) db() (*ondisk.DB, error) {
	f.mu.Lock()
	if f.h == nil {
		f.h = newFileHandle(f, f.Dir)
	}
	h := f.h
	f.mu.Unlock()
	return h.Get()
}

// view runs fn in a read transaction.
func (f *File) view(fn func(*fileTx) error) error {
	defer runtime.KeepAlive(f) // its handle's cleanup must not close the database meanwhile
	db, err := f.db()
	if err != nil {
		return err
	}
	return db.View(context.Background(), func(tx *ondisk.Tx) error { return fn(&fileTx{Tx: tx, f: f}) })
}

// update runs fn in a write transaction. The Markdown fn renders is
// written before the transaction commits, while it holds the database's
// write lock, so that the files are written in the order of the changes.
func (f *File) update(fn func(*fileTx) error) error {
	defer runtime.KeepAlive(f)
	db, err := f.db()
	if err != nil {
		return err
	}
	return db.Update(context.Background(), func(tx *ondisk.Tx) error { return fn(&fileTx{Tx: tx, f: f}) })
}

func (f *File) notFound(key string) error {
	return fmt.Errorf("%w: %s (the file tracker in %s has no such ticket)", ErrNotFound, key, f.Dir)
}

// ticket reads a ticket's record, without its entries; ErrNotFound when
// there is none.
func (t *fileTx) ticket(key string) (*fileTicket, error) {
	var data string
	err := t.QueryRow(`SELECT data FROM tickets WHERE key = ?`, key).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, t.f.notFound(key)
	}
	if err != nil {
		return nil, err
	}
	tk := &fileTicket{}
	if err := json.Unmarshal([]byte(data), tk); err != nil {
		return nil, fmt.Errorf("file tracker: ticket %s is corrupt: %w", key, err)
	}
	return tk, nil
}

// entries reads a ticket's entries, in order.
func (t *fileTx) entries(key string) ([]fileEntry, error) {
	rows, err := t.Query(`SELECT data FROM entries WHERE ticket = ? ORDER BY n`, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []fileEntry
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var e fileEntry
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			return nil, fmt.Errorf("file tracker: an entry of ticket %s is corrupt: %w", key, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// putTicket writes a ticket's record (its entries aside).
func (t *fileTx) putTicket(tk *fileTicket) error {
	rec := *tk
	rec.Entries = nil
	_, err := t.Exec(`INSERT INTO tickets (key, subject, status, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET subject = excluded.subject, status = excluded.status, data = excluded.data`,
		tk.Key, tk.Subject, string(tk.Status), mustJSON(rec))
	return err
}

// addEntry appends an entry to a ticket.
func (t *fileTx) addEntry(key string, e fileEntry) error {
	var idem any
	if e.Key != "" {
		idem = e.Key
	}
	_, err := t.Exec(`INSERT INTO entries (ticket, n, idem, data)
		VALUES (?, (SELECT coalesce(max(n), 0) + 1 FROM entries WHERE ticket = ?), ?, ?)`, key, key, idem, mustJSON(e))
	return err
}

// render writes a ticket's Markdown from its record and entries.
func (t *fileTx) render(tk *fileTicket) error {
	entries, err := t.entries(tk.Key)
	if err != nil {
		return err
	}
	tk.Entries = entries
	return ondisk.WriteFile(t.f.MarkdownPath(tk.Key), []byte(tk.markdown()))
}

// Open implements Tracker.
func (f *File) Open(_ context.Context, req OpenRequest) (Ticket, error) {
	var out Ticket
	if req.Key != "" {
		err := f.view(func(t *fileTx) error {
			tk, err := t.ticket(req.Key)
			if err == nil {
				out = tk.Ticket
			}
			return err
		})
		return out, err
	}
	err := f.update(func(t *fileTx) error {
		subject := Subject(req.Company)
		var data string
		err := t.QueryRow(`SELECT data FROM tickets WHERE subject = ? AND status != ? ORDER BY key LIMIT 1`, subject, string(StatusSolved)).Scan(&data)
		if err == nil {
			tk := &fileTicket{}
			if err := json.Unmarshal([]byte(data), tk); err != nil {
				return fmt.Errorf("file tracker: a ticket of %q is corrupt: %w", subject, err)
			}
			out = tk.Ticket
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var seq int
		if err := t.QueryRow(`UPDATE meta SET value = value + 1 WHERE key = 'seq' RETURNING value`).Scan(&seq); err != nil {
			return err
		}
		tk := &fileTicket{
			Ticket:  Ticket{Key: fmt.Sprintf("PL-%04d", seq), Subject: subject, Status: StatusOpen},
			Company: req.Company, Requester: req.Requester, Project: req.Project, Opened: f.Now().UTC(),
		}
		tk.URL = "file://" + f.MarkdownPath(tk.Key)
		if err := t.putTicket(tk); err != nil {
			return err
		}
		if req.Body != "" {
			if err := t.addEntry(tk.Key, fileEntry{At: tk.Opened, Kind: "note", Author: req.Requester, Body: req.Body}); err != nil {
				return err
			}
		}
		out = tk.Ticket
		return t.render(tk)
	})
	return out, err
}

// Comment implements Tracker.
func (f *File) Comment(_ context.Context, c Comment) error {
	return f.update(func(t *fileTx) error {
		tk, err := t.ticket(c.Ticket)
		if err != nil {
			return err
		}
		if c.IdempotencyKey != "" {
			var n int
			err := t.QueryRow(`SELECT count(*) FROM entries WHERE ticket = ? AND idem = ?`, c.Ticket, c.IdempotencyKey).Scan(&n)
			if err != nil || n > 0 {
				return err
			}
		}
		kind, author := "note", c.Author
		if c.Public {
			kind = "reply"
		}
		if author == "" {
			author = "Linkwright"
		}
		if err := t.addEntry(tk.Key, fileEntry{At: f.Now().UTC(), Kind: kind, Author: author, Body: c.Body, Key: c.IdempotencyKey}); err != nil {
			return err
		}
		return t.render(tk)
	})
}

// SetStatus implements Tracker.
func (f *File) SetStatus(_ context.Context, key string, s Status) error {
	return f.update(func(t *fileTx) error {
		tk, err := t.ticket(key)
		if err != nil {
			return err
		}
		if tk.Status == s {
			return nil
		}
		tk.Status = s
		if err := t.putTicket(tk); err != nil {
			return err
		}
		if err := t.addEntry(key, fileEntry{At: f.Now().UTC(), Kind: "status", Author: "Linkwright", Body: string(s)}); err != nil {
			return err
		}
		return t.render(tk)
	})
}

// Read returns a ticket's conversation as stored (for tests and the starter).
func (f *File) Read(key string) (Ticket, []Comment, error) {
	var tk *fileTicket
	err := f.view(func(t *fileTx) (err error) {
		if tk, err = t.ticket(key); err != nil {
			return err
		}
		tk.Entries, err = t.entries(key)
		return err
	})
	if err != nil {
		return Ticket{}, nil, err
	}
	var cs []Comment
	for _, e := range tk.Entries {
		if e.Kind != "status" {
			cs = append(cs, Comment{Ticket: key, Public: e.Kind == "reply", Author: e.Author, Body: e.Body, IdempotencyKey: e.Key})
		}
	}
	return tk.Ticket, cs, nil
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

func mustJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs are marshalled here
	}
	return string(data)
}
