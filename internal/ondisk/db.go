package ondisk

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver, "sqlite"
)

// DB is an SQLite database file shared by the processes that open it (the
// worker and the linkwright CLI open the same state directory at the same
// time): WAL journal, so readers never wait for the writer; a busy timeout,
// so a writer waits its turn instead of failing; every write transaction
// BEGIN IMMEDIATE, so that two processes never deadlock upgrading a read
// lock to a write lock.
type DB struct {
	*sql.DB
	path string
	// writers serialises this process's write transactions on the file
	// (every DB of the same path shares it), so that goroutines queue here
	// instead of polling SQLite's busy handler; other processes still wait
	// on the file lock.
	writers *sync.Mutex
}

// BusyTimeout is how long a write waits for another process's write
// transaction before it fails with "database is locked".
const BusyTimeout = 5 * time.Second

// writeLocks are the writers' mutexes by absolute path.
var writeLocks sync.Map

// OpenDB opens the SQLite database at path, creating it and its directory
// when missing, set up for sharing between processes: WAL journal mode,
// the busy timeout, synchronous=NORMAL (durable across a process crash;
// a power cut may lose the last transactions, never corrupt the file),
// foreign keys enforced, and write transactions begun IMMEDIATE. Nothing
// is read yet: a file that is not a database fails on first use.
func OpenDB(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(abs, "?#") {
		return nil, fmt.Errorf("database path %q: a path with ? or # is not supported", abs)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, err
	}
	// The busy timeout comes first, so that it applies to switching the
	// journal to WAL while another process is creating the file.
	dsn := abs + fmt.Sprintf("?_pragma=busy_timeout(%d)", BusyTimeout.Milliseconds()) +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// Idle connections (each holds the file, its WAL and shared memory
	// open) close after a while, so that a handle a caller never closes
	// costs little.
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(30 * time.Second)
	mu, _ := writeLocks.LoadOrStore(abs, &sync.Mutex{})
	return &DB{DB: db, path: abs, writers: mu.(*sync.Mutex)}, nil
}

// Path is the database file's absolute path.
func (d *DB) Path() string { return d.path }

// Tx is a transaction of a DB.
type Tx = sql.Tx

// Update runs fn in a write transaction (BEGIN IMMEDIATE: it holds the
// database's write lock from the start) and commits when fn succeeds;
// otherwise, or when fn panics, nothing it did is kept.
func (d *DB) Update(ctx context.Context, fn func(*Tx) error) error {
	d.writers.Lock()
	defer d.writers.Unlock()
	return d.run(ctx, false, fn)
}

// View runs fn in a read-only transaction: one snapshot of the database,
// unchanged by writers meanwhile, and never waiting for them.
func (d *DB) View(ctx context.Context, fn func(*Tx) error) error {
	return d.run(ctx, true, fn)
}

func (d *DB) run(ctx context.Context, readOnly bool, fn func(*Tx) error) (err error) {
	tx, err := d.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	done = true
	if readOnly {
		return tx.Rollback()
	}
	return tx.Commit()
}

// Handle is a database opened on first use, by open, and again on the
// next use after Close: what Linkwright's stores keep, so that creating
// one cannot fail and a failure to open (a file to repair) is retried.
type Handle struct {
	open func() (*DB, error)
	mu   sync.Mutex // opening and closing
	db   atomic.Pointer[DB]
}

// NewHandle returns a handle that opens its database with open.
func NewHandle(open func() (*DB, error)) *Handle { return &Handle{open: open} }

// Get returns the database, opening it if it is not open.
func (h *Handle) Get() (*DB, error) {
	if db := h.db.Load(); db != nil {
		return db, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if db := h.db.Load(); db != nil {
		return db, nil
	}
	db, err := h.open()
	if err != nil {
		return nil, err
	}
	h.db.Store(db)
	return db, nil
}

// Close closes the database if it is open.
func (h *Handle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	db := h.db.Swap(nil)
	if db == nil {
		return nil
	}
	return db.Close()
}
