// Package ondisk is how Linkwright's local state (the simulated cloud, the
// file tracker) is shared between processes: an SQLite database per
// component (OpenDB), read and written a record at a time in transactions;
// an flock for what is still a plain file (importing the JSON files of
// earlier releases); and writes that replace a file whole (the tracker's
// Markdown), so that a crash never leaves half of one.
package ondisk

import (
	"os"
	"path/filepath"
	"syscall"
)

// WithLock runs fn holding the lock file at path: exclusive for writers,
// shared for readers. The lock file and its directory are created.
func WithLock(path string, exclusive bool, fn func() error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		return err
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}

// WriteFile replaces path with data through a rename.
func WriteFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
