package snap

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/record"
	"github.com/etcdsim/etcdsim/nodes/wal"
	"go.etcd.io/raft/v3/raftpb"
)

const (
	filePrefix = "snap-"
	fileSuffix = ".snap"
	tmpSuffix  = ".tmp"
	version    = 1
)

// The sentinel errors of the package; test for them with errors.Is.
var (
	ErrNoSnapshot = errors.New("snap: no available snapshot")
	ErrCorrupt    = errors.New("snap: corrupt snapshot file")
	ErrEmpty      = errors.New("snap: empty snapshot")
)

var le = binary.LittleEndian

// Name returns the file name of the snapshot at index, term.
func Name(term, index uint64) string {
	return fmt.Sprintf("%s%016x-%016x%s", filePrefix, term, index, fileSuffix)
}

// File is a snapshot file found in an FS.
type File struct {
	Name        string
	Term, Index uint64
}

// List returns the snapshot files of fs, newest (highest index, then term)
// first.
func List(fs *disk.FS) []File {
	var out []File
	for _, name := range fs.List() {
		var f File
		if !strings.HasPrefix(name, filePrefix) || !strings.HasSuffix(name, fileSuffix) {
			continue
		}
		body := strings.TrimSuffix(strings.TrimPrefix(name, filePrefix), fileSuffix)
		var ok bool
		if f.Term, f.Index, ok = wal.ParseHexPair(body); !ok {
			continue
		}
		if f.Name = name; Name(f.Term, f.Index) == name {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b File) int {
		if a.Index != b.Index {
			return cmp.Compare(b.Index, a.Index)
		}
		return cmp.Compare(b.Term, a.Term)
	})
	return out
}

// Save writes s durably: to a temporary file, synced, renamed into place,
// and the directory synced. An empty snapshot (index 0) is ErrEmpty.
func Save(fs *disk.FS, s *raftpb.Snapshot) error {
	md := s.GetMetadata()
	if md.GetIndex() == 0 {
		return ErrEmpty
	}
	name := Name(md.GetTerm(), md.GetIndex())
	tmp := name + tmpSuffix
	f, err := fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("snap: create %s: %w", tmp, err)
	}
	if _, err := f.Write(encode(s)); err != nil {
		return fmt.Errorf("snap: write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("snap: sync %s: %w", tmp, err)
	}
	if err := fs.Rename(tmp, name); err != nil {
		return fmt.Errorf("snap: rename %s: %w", tmp, err)
	}
	if err := fs.SyncDir(); err != nil {
		return fmt.Errorf("snap: sync dir: %w", err)
	}
	return nil
}

// Load reads the named snapshot file. A file that is not exactly one good
// record, or whose metadata does not match its name, is ErrCorrupt.
func Load(fs *disk.FS, name string) (*raftpb.Snapshot, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, fmt.Errorf("snap: open %s: %w", name, err)
	}
	recs, _, err := record.Decode(f.ReadAll())
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, name, err)
	}
	if len(recs) != 1 {
		return nil, fmt.Errorf("%w: %s: %d records", ErrCorrupt, name, len(recs))
	}
	s, ok := decode(recs[0])
	md := s.GetMetadata()
	if !ok || Name(md.GetTerm(), md.GetIndex()) != name {
		return nil, fmt.Errorf("%w: %s: bad contents", ErrCorrupt, name)
	}
	return s, nil
}

// LoadNewestAvailable returns the newest snapshot whose (index, term) is
// among markers and whose index is at most maxIndex (etcd's
// LoadNewestAvailable over wal.ValidSnapshotEntries, #11888). Broken files
// are skipped. Without one it returns ErrNoSnapshot.
func LoadNewestAvailable(fs *disk.FS, markers []wal.SnapMarker, maxIndex uint64) (*raftpb.Snapshot, error) {
	for _, f := range List(fs) {
		if f.Index > maxIndex || !slices.Contains(markers, wal.SnapMarker{Index: f.Index, Term: f.Term}) {
			continue
		}
		if s, err := Load(fs, f.Name); err == nil {
			return s, nil
		}
	}
	return nil, ErrNoSnapshot
}

// Release removes the snapshot files with an index below keepIndex and any
// temporary files a crash left behind, then syncs the directory.
func Release(fs *disk.FS, keepIndex uint64) error {
	doomed := leftovers(fs)
	for _, f := range List(fs) {
		if f.Index < keepIndex {
			doomed = append(doomed, f.Name)
		}
	}
	return removeSynced(fs, doomed)
}
