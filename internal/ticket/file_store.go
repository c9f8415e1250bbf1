package ticket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/linkwright/linkwright/internal/ondisk"
)

// The file tracker's database, dir/tickets.db: a row per ticket (its
// record as JSON, with the subject and status it is looked up by) and a
// row per entry of its conversation, numbered in order; meta holds the
// last ticket number (seq) and whether the database is filled
// (initialized: the tickets of an earlier release are imported).
const fileSchema = `
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tickets (
	key     TEXT PRIMARY KEY,
	subject TEXT NOT NULL,
	status  TEXT NOT NULL,
	data    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tickets_subject ON tickets (subject, key);
CREATE TABLE IF NOT EXISTS entries (
	ticket TEXT NOT NULL REFERENCES tickets (key) ON DELETE CASCADE,
	n      INTEGER NOT NULL,
	idem   TEXT,
	data   TEXT NOT NULL,
	PRIMARY KEY (ticket, n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_idem ON entries (ticket, idem) WHERE idem IS NOT NULL;
INSERT INTO meta (key, value) VALUES ('seq', 0), ('initialized', 0) ON CONFLICT DO NOTHING;
`

// fileDB is the database's name in the tracker's directory.
const fileDB = "tickets.db"

// newFileHandle is the tracker's database, opened on first use and
// closed once f is no longer used (for callers that never call Close).
func newFileHandle(f *File, dir string) *ondisk.Handle {
	h := ondisk.NewHandle(func() (*ondisk.DB, error) { return openFileStore(dir) })
	runtime.AddCleanup(f, func(h *ondisk.Handle) { _ = h.Close() }, h)
	return h
}

// openFileStore opens dir's database, creating its tables, and imports
// the tickets of an earlier release the first time, setting their files
// aside (renamed *.migrated) once they are in.
func openFileStore(dir string) (*ondisk.DB, error) {
	path := filepath.Join(dir, fileDB)
	db, err := ondisk.OpenDB(path)
	if err != nil {
		return nil, err
	}
	var imported []string
	fill := func() error {
		return db.Update(context.Background(), func(tx *ondisk.Tx) error {
			if _, err := tx.Exec(fileSchema); err != nil {
				return err
			}
			var done int
			if err := tx.QueryRow(`SELECT value FROM meta WHERE key = 'initialized'`).Scan(&done); err != nil {
				return err
			}
			if done != 0 {
				return nil
			}
			files, err := importLegacyTickets(tx, dir)
			if err != nil {
				return err
			}
			imported = files
			_, err = tx.Exec(`UPDATE meta SET value = 1 WHERE key = 'initialized'`)
			return err
		})
	}
	if _, statErr := os.Stat(filepath.Join(dir, legacyIndex)); statErr == nil {
		// An earlier release may be running: take its lock while reading
		// its files.
		err = ondisk.WithLock(filepath.Join(dir, ".lock"), true, fill)
	} else {
		err = fill()
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("file tracker %s is unreadable: %w", path, err)
	}
	for _, name := range imported {
		if err := os.Rename(name, name+".migrated"); err != nil {
			db.Close()
			return nil, fmt.Errorf("file tracker: %s is imported into %s, but could not be set aside: %w", name, path, err)
		}
	}
	return db, nil
}

// legacyIndex is where releases before the database kept the ticket
// numbers and subjects; each ticket was in <key>.json beside it.
const legacyIndex = "index.json"

// importLegacyTickets puts the tickets of an earlier release into the
// database and returns their files (index.json last), to set aside. Every
// <key>.json holding ticket key is imported, indexed or not (a ticket
// written just before its index was is there), and numbering continues
// after the highest number seen.
func importLegacyTickets(tx *ondisk.Tx, dir string) ([]string, error) {
	var idx struct {
		Seq int `json:"seq"`
	}
	index := filepath.Join(dir, legacyIndex)
	switch err := readLegacyJSON(index, &idx); {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, err
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	seq := idx.Seq
	var files []string
	t := &fileTx{Tx: tx}
	for _, name := range names {
		stem := strings.TrimSuffix(filepath.Base(name), ".json")
		if name == index {
			continue
		}
		tk := &fileTicket{}
		if err := readLegacyJSON(name, tk); err != nil {
			return nil, err
		}
		if tk.Key != stem {
			continue // not a ticket's
		}
		if err := t.putTicket(tk); err != nil {
			return nil, err
		}
		for _, e := range tk.Entries {
			if err := t.addEntry(tk.Key, e); err != nil {
				return nil, err
			}
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(tk.Key, "PL-")); err == nil && n > seq {
			seq = n
		}
		files = append(files, name)
	}
	if _, err := tx.Exec(`UPDATE meta SET value = ? WHERE key = 'seq'`, seq); err != nil {
		return nil, err
	}
	return append(files, index), nil
}

func readLegacyJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s is corrupt: %w", path, err)
	}
	return nil
}
