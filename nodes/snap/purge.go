package snap

import (
	"fmt"
	"strings"

	"github.com/etcdsim/etcdsim/disk"
)

// MaxFiles is how many snapshot files etcd keeps (--max-snapshots,
// default 5): its purge goroutine (fileutil.PurgeFile over the snap
// directory) removes the oldest beyond that.
const MaxFiles = 5

// Purge removes the temporary files a crash left behind and every snapshot
// file but the newest keep, then syncs the directory, as etcd's snapshot
// purge does: older snapshot files stay on disk, so a restart whose newest
// snapshot has no valid WAL record can fall back to an older one
// (LoadNewestAvailable, #11888).
func Purge(fs *disk.FS, keep int) error {
	doomed := leftovers(fs)
	if files := List(fs); len(files) > keep {
		for _, f := range files[keep:] {
			doomed = append(doomed, f.Name)
		}
	}
	return removeSynced(fs, doomed)
}

// leftovers returns the temporary snapshot files a crash left behind.
func leftovers(fs *disk.FS) []string {
	var out []string
	for _, name := range fs.List() {
		if strings.HasPrefix(name, filePrefix) && strings.HasSuffix(name, fileSuffix+tmpSuffix) {
			out = append(out, name)
		}
	}
	return out
}

// removeSynced removes the named files, then syncs the directory (nothing
// when there is none).
func removeSynced(fs *disk.FS, names []string) error {
	if len(names) == 0 {
		return nil
	}
	for _, name := range names {
		if err := fs.Remove(name); err != nil {
			return fmt.Errorf("snap: remove %s: %w", name, err)
		}
	}
	if err := fs.SyncDir(); err != nil {
		return fmt.Errorf("snap: sync dir: %w", err)
	}
	return nil
}
