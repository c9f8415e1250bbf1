package ondisk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenDBIsSetUpForSharing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new", "state.db")
	db, err := OpenDB(path)
	require.NoError(t, err)
	defer db.Close()
	pragma := func(name string) string {
		var v string
		require.NoError(t, db.QueryRow("PRAGMA "+name).Scan(&v))
		return v
	}
	assert.Equal(t, "wal", pragma("journal_mode"))
	assert.Equal(t, "5000", pragma("busy_timeout"))
	assert.Equal(t, "1", pragma("synchronous"), "NORMAL")
	assert.Equal(t, "1", pragma("foreign_keys"))
	_, err = os.Stat(path)
	assert.NoError(t, err, "created, with its directory")
	assert.Equal(t, path, db.Path())
}

// Increments through separate opens of one file (as separate processes
// would make), from many goroutines, lose none; a write that fails keeps
// nothing; a read keeps nothing.
func TestUpdatesThroughSeveralOpensLoseNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter.db")
	var dbs []*DB
	for range 3 {
		db, err := OpenDB(path)
		require.NoError(t, err)
		defer db.Close()
		dbs = append(dbs, db)
	}
	ctx := context.Background()
	require.NoError(t, dbs[0].Update(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0)`)
		return err
	}))
	increment := func(tx *Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT n FROM counter`).Scan(&n); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE counter SET n = ?`, n+1)
		return err
	}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() { assert.NoError(t, dbs[i%len(dbs)].Update(ctx, increment)) })
	}
	wg.Wait()
	read := func() (n int) {
		require.NoError(t, dbs[2].View(ctx, func(tx *Tx) error { return tx.QueryRow(`SELECT n FROM counter`).Scan(&n) }))
		return n
	}
	assert.Equal(t, 30, read())

	failed := errors.New("no")
	err := dbs[1].Update(ctx, func(tx *Tx) error {
		if err := increment(tx); err != nil {
			return err
		}
		return failed
	})
	assert.ErrorIs(t, err, failed)
	assert.Equal(t, 30, read(), "a failed write keeps nothing")

	require.NoError(t, dbs[1].View(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE counter SET n = 0`)
		return err
	}))
	assert.Equal(t, 30, read(), "a read keeps nothing")
}

func TestHandleOpensOnFirstUseAndAgainAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.db")
	opens := 0
	fail := true
	h := NewHandle(func() (*DB, error) {
		opens++
		if fail {
			return nil, errors.New("not yet")
		}
		return OpenDB(path)
	})
	assert.Zero(t, opens, "nothing is opened before the first use")
	_, err := h.Get()
	assert.ErrorContains(t, err, "not yet")
	fail = false
	db, err := h.Get()
	require.NoError(t, err, "a failure is tried again")
	again, err := h.Get()
	require.NoError(t, err)
	assert.Same(t, db, again)
	assert.Equal(t, 2, opens)
	require.NoError(t, h.Close())
	assert.Error(t, db.Ping(), "closed")
	db, err = h.Get()
	require.NoError(t, err)
	assert.NoError(t, db.Ping())
	assert.Equal(t, 3, opens)
	require.NoError(t, h.Close())
	require.NoError(t, h.Close(), "twice")
}
