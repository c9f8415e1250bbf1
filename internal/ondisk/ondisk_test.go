package ondisk

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Read-modify-writes under the exclusive lock lose no update, even through
// separate opens of the lock file (as separate processes would make).
func TestExclusiveLockSerialisesReadModifyWrite(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(dir, "counter")
	require.NoError(t, WriteFile(counter, []byte("0")))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			assert.NoError(t, WithLock(filepath.Join(dir, "lock"), true, func() error {
				data, err := os.ReadFile(counter)
				if err != nil {
					return err
				}
				n, _ := strconv.Atoi(string(data))
				return WriteFile(counter, []byte(strconv.Itoa(n+1)))
			}))
		})
	}
	wg.Wait()
	data, err := os.ReadFile(counter)
	require.NoError(t, err)
	assert.Equal(t, "20", string(data))
	_, err = os.Stat(counter + ".tmp")
	assert.True(t, os.IsNotExist(err), "no temporary file is left behind")
}
