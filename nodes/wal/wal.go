package wal

import (
	"errors"
	"fmt"
	"strings"

	"github.com/etcdsim/etcdsim/disk"
	"go.etcd.io/raft/v3/raftpb"
)

// DefaultSegmentBytes is the size past which the tail segment is cut.
const DefaultSegmentBytes = 1 << 20

// maxKeptBuf bounds the encode buffer a WAL keeps between calls.
const maxKeptBuf = 4 << 20

const (
	filePrefix = "wal-"
	fileSuffix = ".wal"
	tmpSuffix  = ".tmp"
)

// The sentinel errors of the package; test for them with errors.Is.
var (
	ErrNotExist = errors.New("wal: no WAL segments")
	ErrExist    = errors.New("wal: WAL already exists")
	ErrCorrupt  = errors.New("wal: corrupt WAL")
	// ErrCRCMismatch is etcd's walpb.ErrCRCMismatch, in its words: a
	// record whose checksum failed and that is not a torn write. A
	// ReadError of this kind also matches ErrCorrupt.
	ErrCRCMismatch = errors.New("walpb: crc mismatch")
)

// ReadError is a damaged record Open will not repair, worded as etcd's
// decoder words it ("walpb: crc mismatch: in file '...' at position: N").
// It matches Kind, ErrCorrupt and the record error under it.
type ReadError struct {
	Kind   error  // ErrCRCMismatch or io.ErrUnexpectedEOF
	File   string // the segment
	Offset int64  // where the bad record starts
	Torn   bool   // the record looks torn, but is not in the last segment
	cause  error
}

// Error implements error.
func (e *ReadError) Error() string {
	return fmt.Sprintf("%v: in file '%s' at position: %d", e.Kind, e.File, e.Offset)
}

// Unwrap returns the kind, ErrCorrupt and the record error.
func (e *ReadError) Unwrap() []error { return []error{e.Kind, ErrCorrupt, e.cause} }

// SnapMarker is a snapshot record: the index and term of a snapshot whose
// file was saved before it.
type SnapMarker struct {
	Index, Term uint64
}

// Contents is what Open read back.
type Contents struct {
	// Metadata is what Create was given.
	Metadata []byte
	// HardState is the last HardState saved; never nil, all fields set.
	HardState *raftpb.HardState
	// Entries are the entries in index order, contiguous, with etcd's
	// overwrite rule applied. After ReleaseTo they may start at any index.
	Entries []*raftpb.Entry
	// Snapshots are the snapshot markers in the order they were saved.
	Snapshots []SnapMarker
}

// ValidSnapshots returns the markers with an index at or below the durable
// HardState's Commit, the candidates etcd's ValidSnapshotEntries offers to
// LoadNewestAvailable (etcd #11888).
func (c *Contents) ValidSnapshots() []SnapMarker {
	var out []SnapMarker
	for _, m := range c.Snapshots {
		if m.Index <= c.HardState.GetCommit() {
			out = append(out, m)
		}
	}
	return out
}

// Blank reports whether the WAL holds nothing but its headers: no entry,
// no snapshot marker and no HardState (a member that crashed before its
// first Ready was durable).
func (c *Contents) Blank() bool {
	return len(c.Entries) == 0 && len(c.Snapshots) == 0 && stateOf(c.HardState).empty()
}

// Stats counts what a WAL has done since Create or Open.
type Stats struct {
	Segments int   // live segment files
	Bytes    int64 // bytes in live segment files
	Entries  int64 // entries saved
	Records  int64 // records written
	Syncs    int64 // file syncs, those of cuts included
	Cuts     int64 // segments cut
	Released int64 // segments removed by ReleaseTo
	Repaired int64 // bytes of torn tail cut off by Open
	// RepairedCRC counts the cuts at a record whose checksum failed over
	// a zeroed sector chunk (etcd's isTornEntry), not one cut short.
	RepairedCRC int64
}

type segment struct {
	seq, index uint64
	name       string
	size       int64
}

// WAL is an open write-ahead log, appending to its last segment.
type WAL struct {
	fs           *disk.FS
	segs         []segment // live segments, oldest first
	tail         *disk.File
	meta         []byte
	state        hardState // last HardState saved, written at each cut
	lastIndex    uint64    // index of the last entry saved
	segmentBytes int64
	buf          []byte
	err          error // sticky
	stats        Stats
	// What the disk holds synced (see Durable): the batches written since,
	// oldest first, until the disk confirms them.
	durable Durable
	batches []batch
	rewrite uint64 // the lowest first of the batches (0: none), Durable's Rewrite
}

// segmentName returns etcd's segment name with our flat prefix.
func segmentName(seq, index uint64) string {
	return fmt.Sprintf("%s%016x-%016x%s", filePrefix, seq, index, fileSuffix)
}

func parseSegmentName(name string) (seq, index uint64, ok bool) {
	if !strings.HasPrefix(name, filePrefix) || !strings.HasSuffix(name, fileSuffix) {
		return 0, 0, false
	}
	body := strings.TrimSuffix(strings.TrimPrefix(name, filePrefix), fileSuffix)
	return HexPair(body)
}

// Exist reports whether fs holds any WAL segment.
func Exist(fs *disk.FS) bool {
	for _, name := range fs.List() {
		if _, _, ok := parseSegmentName(name); ok {
			return true
		}
	}
	return false
}

// Remove deletes every segment of the WAL in fs and syncs the directory.
func Remove(fs *disk.FS) error {
	for _, name := range fs.List() {
		if _, _, ok := parseSegmentName(name); ok {
			if err := fs.Remove(name); err != nil {
				return fmt.Errorf("wal: remove %s: %w", name, err)
			}
		}
	}
	if err := fs.SyncDir(); err != nil {
		return fmt.Errorf("wal: sync dir: %w", err)
	}
	return nil
}

// Create starts a new WAL whose segments carry meta, and fails with
// ErrExist if fs already holds one. Its first segment is durable on return.
func Create(fs *disk.FS, meta []byte) (*WAL, error) { return CreateSized(fs, meta, 0) }

// CreateSized is Create with the segment size set first (SetSegmentBytes),
// so that the first segment is preallocated to it, as etcd's
// SegmentSizeBytes is set before wal.Create.
func CreateSized(fs *disk.FS, meta []byte, segmentBytes int64) (*WAL, error) {
	if Exist(fs) {
		return nil, ErrExist
	}
	w := newWAL(fs, append([]byte(nil), meta...))
	w.SetSegmentBytes(segmentBytes)
	if err := w.startSegment(0, 0); err != nil {
		return nil, err
	}
	return w, nil
}

func newWAL(fs *disk.FS, meta []byte) *WAL {
	return &WAL{fs: fs, meta: meta, segmentBytes: DefaultSegmentBytes}
}

// SetSegmentBytes sets the size past which the tail segment is cut; n <= 0
// restores DefaultSegmentBytes.
func (w *WAL) SetSegmentBytes(n int64) {
	if n <= 0 {
		n = DefaultSegmentBytes
	}
	w.segmentBytes = n
	w.hintTail()
}

// hintTail tells the tail segment's file how large it will grow: to the
// segment size and the batch that passes it (a sixteenth more is room for
// most), so that its array stops doubling there (disk.File.SizeHint).
func (w *WAL) hintTail() {
	if w.tail != nil {
		w.tail.SizeHint(w.segmentBytes + w.segmentBytes/16)
	}
}

// Stats returns the counters of w.
func (w *WAL) Stats() Stats {
	s := w.stats
	s.Segments = len(w.segs)
	for _, g := range w.segs {
		s.Bytes += g.size
	}
	return s
}

// Tail returns the name of the segment being appended to.
func (w *WAL) Tail() string { return w.segs[len(w.segs)-1].name }

// LastIndex returns the index of the last entry saved or read back, or of
// the last snapshot marker if that is higher.
func (w *WAL) LastIndex() uint64 { return w.lastIndex }

// HexPair parses "<16 hex digits>-<16 hex digits>", the body of etcd's
// WAL segment and snapshot file names as %016x writes them. By hand, not
// with fmt.Sscanf: names are parsed at every directory listing, and
// Sscanf cost 1.5% of a world's instructions.
func HexPair(body string) (a, b uint64, ok bool) {
	if len(body) != 33 || body[16] != '-' {
		return 0, 0, false
	}
	a, ok1 := Hex16(body[:16])
	b, ok2 := Hex16(body[17:])
	return a, b, ok1 && ok2
}

// Hex16 parses exactly 16 lowercase hex digits, as %016x writes a uint64.
func Hex16(s string) (uint64, bool) {
	if len(s) != 16 {
		return 0, false
	}
	var v uint64
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return v, true
}
