package disk

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
)

// SectorSize is the unit of atomicity of the simulated disk: a sector
// survives a crash whole or not at all, and torn writes are cut at sector
// boundaries.
const SectorSize = 512

// The sentinel errors of the package; test for them with errors.Is.
var (
	ErrNotExist = errors.New("disk: file does not exist")
	ErrExist    = errors.New("disk: file already exists")
	ErrNoSpace  = errors.New("disk: no space left on device")
	ErrClosed   = errors.New("disk: file system crashed or file closed")
)

// Stats counts the work an FS has done. An FS made by Crash carries the
// counters of the FS it came from, so they add up over a member's lives.
type Stats struct {
	Writes       int64 // WriteAt and Write calls that wrote bytes
	BytesWritten int64
	Syncs        int64 // Sync calls, lying ones included
	BytesSynced  int64 // bytes of dirty sectors made durable
	LyingSyncs   int64 // Syncs that reported success and did nothing
	SyncDirs     int64
	Misdirects   int64
	Truncates    int64
	Creates      int64
	Renames      int64
	Removes      int64
	Crashes      int64
}

// FS is a simulated flat directory of files. Each file keeps volatile and
// durable bytes apart; the directory keeps a volatile and a durable
// namespace. Crash returns what survives. An FS is not safe for concurrent
// use; the simulation is single-threaded.
type FS struct {
	rng      *rand.Rand
	faults   Faults
	names    map[string]*inode // volatile namespace
	durNames map[string]*inode // namespace as of the last SyncDir
	pending  []dirOp           // namespace changes since the last SyncDir
	last     lastWrite         // the newest write, while it is unsynced
	inFlight inFlight          // the write TearInFlight names, if any
	used     int64             // sum of volatile sizes of named files, preallocated space included
	crashed  bool
	crashLog []string
	stats    Stats

	crashHits []CrashHit // what the last crash did, by file (CrashHits)
}

// lastWrite locates the newest write, in sectors, while it is unsynced.
type lastWrite struct {
	ino         *inode
	first, last int64
}

// span is a range of sectors, first..last, when ok.
type span struct {
	first, last int64
	ok          bool
}

// inFlight is the write a caller said is in flight at the next Crash
// (TearInFlight): the newest unsynced write of ino then, of which the last
// lose sectors are lost.
type inFlight struct {
	ino  *inode
	lose int64
}

// TearInFlight says which write is in flight at the next Crash and how it
// tears, instead of the newest write of the FS and a draw: the newest
// unsynced write of the named file (as of the crash), torn in order, its
// last lose sectors lost and every one before them kept. A write to
// another file since, synced or not, does not make it less in flight: a
// device can tear any write it has not flushed, not only the newest
// (step 3 of the crash, in doc.go, tears only the newest write, so that
// draws stay few). No draw decides this tear (TornWrite is not drawn for
// it), and no other write is torn; every other unsynced sector is drawn
// as always (KeepUnsynced). It is for scripts that reproduce one crash
// (sim's scenarios: crash ... tear=wal). It fails with ErrNotExist when no
// file has the name, and when the file has no unsynced write.
func (fs *FS) TearInFlight(name string, lose int64) error {
	if fs.crashed {
		return ErrClosed
	}
	ino := fs.names[name]
	if ino == nil {
		return fmt.Errorf("%w: %s", ErrNotExist, name)
	}
	if !ino.newest.ok {
		return fmt.Errorf("disk: %s has no unsynced write to tear", name)
	}
	if lose < 1 {
		return fmt.Errorf("disk: a tear loses at least one sector, not %d", lose)
	}
	fs.inFlight = inFlight{ino: ino, lose: lose}
	return nil
}

// dirOpKind is the kind of a namespace change.
type dirOpKind uint8

const (
	dirCreate dirOpKind = iota
	dirRename
	dirRemove
)

// dirOp is one namespace change not yet made durable by SyncDir.
type dirOp struct {
	kind     dirOpKind
	name, to string
	ino      *inode
}

// New returns an empty FS that draws its faults from rng.
func New(rng *rand.Rand, f Faults) *FS {
	return &FS{
		rng:      rng,
		faults:   f,
		names:    map[string]*inode{},
		durNames: map[string]*inode{},
	}
}

// Faults returns the faults fs was made with.
func (fs *FS) Faults() Faults { return fs.faults }

// Stats returns the counters of fs.
func (fs *FS) Stats() Stats { return fs.stats }

// checkName rejects names a flat directory cannot hold.
func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return fmt.Errorf("disk: invalid file name %q", name)
	}
	return nil
}

// Create creates the named file, or truncates it to zero bytes if it exists
// (like O_CREATE|O_TRUNC). A new name is volatile until SyncDir; the
// truncation of an existing file is volatile until its Sync.
func (fs *FS) Create(name string) (*File, error) {
	if fs.crashed {
		return nil, ErrClosed
	}
	ino := fs.names[name]
	if ino == nil {
		return fs.CreateNew(name)
	}
	if err := fs.truncate(ino, 0); err != nil {
		return nil, err
	}
	fs.stats.Creates++
	return &File{fs: fs, ino: ino, name: name}, nil
}

// CreateNew creates the named file and fails with ErrExist if it exists
// (like O_CREATE|O_EXCL). The name is volatile until SyncDir.
func (fs *FS) CreateNew(name string) (*File, error) {
	if fs.crashed {
		return nil, ErrClosed
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	if fs.names[name] != nil {
		return nil, fmt.Errorf("%w: %s", ErrExist, name)
	}
	ino := &inode{cut: -1, linked: true}
	fs.names[name] = ino
	fs.pending = append(fs.pending, dirOp{kind: dirCreate, name: name, ino: ino})
	fs.stats.Creates++
	return &File{fs: fs, ino: ino, name: name}, nil
}

// Open opens the named file for reading and writing.
func (fs *FS) Open(name string) (*File, error) {
	if fs.crashed {
		return nil, ErrClosed
	}
	ino := fs.names[name]
	if ino == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotExist, name)
	}
	return &File{fs: fs, ino: ino, name: name}, nil
}

// Remove removes the named file. Open handles keep working on the unnamed
// file. The removal is volatile until SyncDir.
func (fs *FS) Remove(name string) error {
	if fs.crashed {
		return ErrClosed
	}
	ino := fs.names[name]
	if ino == nil {
		return fmt.Errorf("%w: %s", ErrNotExist, name)
	}
	fs.unlink(ino)
	delete(fs.names, name)
	fs.pending = append(fs.pending, dirOp{kind: dirRemove, name: name, ino: ino})
	fs.stats.Removes++
	return nil
}

// Rename renames from to to, atomically replacing to if it exists. The
// rename is volatile until SyncDir; a crash before it may undo it (DirLoss).
func (fs *FS) Rename(from, to string) error {
	if fs.crashed {
		return ErrClosed
	}
	if err := checkName(to); err != nil {
		return err
	}
	ino := fs.names[from]
	if ino == nil {
		return fmt.Errorf("%w: %s", ErrNotExist, from)
	}
	fs.stats.Renames++
	if from == to {
		return nil
	}
	if old := fs.names[to]; old != nil {
		fs.unlink(old)
	}
	fs.names[to] = ino
	delete(fs.names, from)
	fs.pending = append(fs.pending, dirOp{kind: dirRename, name: from, to: to, ino: ino})
	return nil
}

// unlink stops counting ino against the capacity once it has no name.
func (fs *FS) unlink(ino *inode) {
	ino.linked = false
	fs.used -= ino.size()
}

// SyncDir makes the current namespace durable: every create, rename and
// remove so far survives a crash. It does not sync file contents.
func (fs *FS) SyncDir() error {
	if fs.crashed {
		return ErrClosed
	}
	fs.durNames = maps.Clone(fs.names)
	fs.pending = fs.pending[:0]
	fs.stats.SyncDirs++
	return nil
}

// List returns the names of the files, sorted.
func (fs *FS) List() []string {
	return slices.Sorted(maps.Keys(fs.names))
}

// Exists reports whether the named file exists.
func (fs *FS) Exists(name string) bool {
	return fs.names[name] != nil
}

// CrashLog returns short lines describing what the last crash did, in a
// stable order: undone namespace changes in the order they were made, then
// each surviving file in name order. On a crashed FS it describes its own
// crash; on the FS that Crash returned, the crash that made it.
func (fs *FS) CrashLog() []string {
	return slices.Clone(fs.crashLog)
}
