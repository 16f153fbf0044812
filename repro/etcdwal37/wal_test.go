package etcdwal37

// The etcdwal36 reproduction, against etcd v3.7.3's real WAL
// (server/v3/storage/wal), snapshotter and the protobuf-go raftpb of
// go.etcd.io/raft/v3 v3.7.0. No etcd code is copied here: every step calls
// etcd's exported API and says which etcd function it stands for.
//
// What differs from v3.6 is the snapshot choice at boot. v3.7.3's
// server/etcdserver/bootstrap.go: recoverSnapshot takes the last element of
// wal.ValidSnapshotEntries and builds a raftpb.Snapshot from that WAL record
// alone; it no longer calls (*snap.Snapshotter).LoadNewestAvailable (etcd
// commit e74bb6a0e, "do not load v2 snapshot on bootstrap", first released in
// v3.7.0-beta.0). v3.7.3's server/storage/storage.go: (*storage).SaveSnap
// still writes the .snap file before the WAL record; etcd main stops writing
// it (commit 5d1a827c1). Each test runs both ways.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/client/pkg/v3/fileutil"
	"go.etcd.io/etcd/server/v3/etcdserver/api/snap"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"
)

// The history of member m1 in etcdsim seed 7007722.
const (
	oldSnapIndex = 200 // snapshot the member already had
	oldSnapTerm  = 3
	oldLast      = 239 // entries oldSnapIndex+1..oldLast follow it, all committed
	oldCommit    = 239

	newSnapIndex = 300 // snapshot received from the leader
	newSnapTerm  = 4
	newLast      = 339 // entries newSnapIndex+1..newLast arrive in the same Ready
	newCommit    = 332

	// sectorSize is the unit a disk writes atomically and the granularity of
	// storage/wal/decoder.go: (*decoder).isTornEntry (minSectorSize).
	sectorSize = 512
)

// flavour says which etcd writes the history.
type flavour struct {
	name string
	// snapFiles: v3.7.3's (*storage).SaveSnap writes member/snap/*.snap
	// before the WAL record; main after 5d1a827c1 writes only the record.
	snapFiles bool
}

var flavours = []flavour{{"v3.7.3", true}, {"main-5d1a827c1", false}}

// newConfState is the membership every snapshot carries; a non-initial WAL
// snapshot record without one is refused
// (storage/wal/walpb/record.go: ValidateSnapshotForWrite).
func newConfState() *raftpb.ConfState {
	return &raftpb.ConfState{Voters: []uint64{1, 2, 3}}
}

type history struct {
	walDir, snapDir string
	segment         string // the WAL's only segment file
	segmentSize     int64  // its size: etcd preallocates wal.SegmentSizeBytes
	saveStart       int64  // offset at which the last Save's first record begins
	saveEnd         int64  // offset just after the last Save's last record
}

func logger(t *testing.T) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))
}

// entries builds entries first..last of one term, each carrying a small
// payload the size of a short put request.
func entries(term, first, last uint64) []*raftpb.Entry {
	var ents []*raftpb.Entry
	for i := first; i <= last; i++ {
		ents = append(ents, &raftpb.Entry{
			Term:  new(term),
			Index: new(i),
			Type:  raftpb.EntryNormal.Enum(),
			Data:  fmt.Appendf(nil, "put /registry/pods/p%04d", i),
		})
	}
	return ents
}

func hardState(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: new(term), Vote: new(vote), Commit: new(commit)}
}

func snapshot(index, term uint64) *raftpb.Snapshot {
	return &raftpb.Snapshot{
		Metadata: &raftpb.SnapshotMetadata{Index: new(index), Term: new(term), ConfState: newConfState()},
		Data:     fmt.Appendf(nil, "v2 store at %d", index),
	}
}

// saveSnap stands for server/storage/storage.go: (*storage).SaveSnap, which
// the raft loop calls first for a Ready with a snapshot
// (server/etcdserver/raft.go: (*raftNode).start). In v3.7.3 it writes and
// syncs the .snap file, then appends the WAL snapshot record and fsyncs
// (wal.(*WAL).SaveSnapshot); on main only the WAL record is written.
func saveSnap(t *testing.T, f flavour, ss *snap.Snapshotter, w *wal.WAL, s *raftpb.Snapshot) {
	t.Helper()
	if f.snapFiles {
		if err := ss.SaveSnap(s); err != nil {
			t.Fatalf("Snapshotter.SaveSnap(%d): %v", s.GetMetadata().GetIndex(), err)
		}
	}
	rec := &walpb.Snapshot{
		Index:     new(s.GetMetadata().GetIndex()),
		Term:      new(s.GetMetadata().GetTerm()),
		ConfState: s.GetMetadata().GetConfState(),
	}
	if err := w.SaveSnapshot(rec); err != nil {
		t.Fatalf("WAL.SaveSnapshot(%d): %v", rec.GetIndex(), err)
	}
}

// recordsEnd returns the offset just after the last complete record in a
// WAL segment, found with etcd's decoder, which stops with io.EOF at the
// first zero length field, i.e. where the preallocated zeros begin. The file
// size cannot be used: preallocation keeps it at wal.SegmentSizeBytes.
func recordsEnd(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := wal.NewDecoder(fileutil.NewFileReader(f))
	rec := &walpb.Record{}
	for err = dec.Decode(rec); err == nil; err = dec.Decode(rec) {
	}
	if !errors.Is(err, io.EOF) {
		t.Fatalf("decoding %s before the tear: %v", path, err)
	}
	return dec.LastOffset()
}

// writeHistory writes m1's history as etcd v3.7.3 (or main) writes it and
// returns where the last Save landed. The steps are the same as in
// etcdwal36; see the comments there.
func writeHistory(t *testing.T, f flavour) history {
	t.Helper()
	lg := logger(t)
	member := filepath.Join(t.TempDir(), "member")
	h := history{walDir: filepath.Join(member, "wal"), snapDir: filepath.Join(member, "snap")}

	// server/etcdserver/bootstrap.go: bootstrapSnapshot creates member/snap.
	if err := os.MkdirAll(h.snapDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ss := snap.New(lg, h.snapDir)

	// bootstrap.go: bootstrapNewWAL -> wal.Create (CRC record, metadata,
	// snapshot record {0,0}, a preallocated 64 MB segment).
	md, err := proto.Marshal(&etcdserverpb.Metadata{NodeID: new(uint64(1)), ClusterID: new(uint64(0x1000))})
	if err != nil {
		t.Fatal(err)
	}
	w, err := wal.Create(lg, h.walDir, md)
	if err != nil {
		t.Fatalf("wal.Create: %v", err)
	}

	// Ready #1: snapshot 200, then (*storage).Save -> wal.(*WAL).Save:
	// entries 201..239, HardState commit 239, fsync.
	saveSnap(t, f, ss, w, snapshot(oldSnapIndex, oldSnapTerm))
	if err := w.Save(hardState(oldSnapTerm, 2, oldCommit), entries(oldSnapTerm, oldSnapIndex+1, oldLast)); err != nil {
		t.Fatalf("WAL.Save(%d..%d): %v", oldSnapIndex+1, oldLast, err)
	}

	// Ready #2, first half: snapshot 300, synced before the rest.
	saveSnap(t, f, ss, w, snapshot(newSnapIndex, newSnapTerm))

	h.segment = filepath.Join(h.walDir, "0000000000000000-0000000000000000.wal")
	h.saveStart = recordsEnd(t, h.segment)

	// Ready #2, second half: (*storage).Save(rd.HardState, rd.Entries) ->
	// wal.(*WAL).Save encodes entries 301..339, then the HardState, then
	// fsyncs; tear takes that fsync not to have finished.
	if err := w.Save(hardState(newSnapTerm, 2, newCommit), entries(newSnapTerm, newSnapIndex+1, newLast)); err != nil {
		t.Fatalf("WAL.Save(%d..%d): %v", newSnapIndex+1, newLast, err)
	}
	h.saveEnd = recordsEnd(t, h.segment)
	if err := w.Close(); err != nil {
		t.Fatalf("WAL.Close: %v", err)
	}

	fi, err := os.Stat(h.segment)
	if err != nil {
		t.Fatal(err)
	}
	h.segmentSize = fi.Size()
	if h.segmentSize != wal.SegmentSizeBytes {
		t.Fatalf("segment is %d bytes, want the preallocated %d", h.segmentSize, wal.SegmentSizeBytes)
	}
	return h
}

func firstBoundaryAfter(off int64) int64 {
	return (off/sectorSize + 1) * sectorSize
}

// tear zeroes [cut, end): the segment is preallocated, so the bytes of a
// write lost to a power cut read back as zeros and the file keeps its size
// (truncating would model a shorter file, which a crash does not produce).
func tear(t *testing.T, path string, cut, end int64) {
	t.Helper()
	if end <= cut {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, end-cut), cut); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// survivors lists the entry indexes and HardState commits etcd's decoder
// can still read at or after off, and the error it stops on.
func survivors(t *testing.T, path string, off int64) (ents []uint64, commits []uint64, stop error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := wal.NewDecoder(fileutil.NewFileReader(f))
	rec := &walpb.Record{}
	for stop = dec.Decode(rec); stop == nil; stop = dec.Decode(rec) {
		if dec.LastOffset() <= off {
			continue
		}
		switch rec.GetType() {
		case wal.EntryType:
			ents = append(ents, wal.MustUnmarshalEntry(rec.GetData()).GetIndex())
		case wal.StateType:
			commits = append(commits, wal.MustUnmarshalState(rec.GetData()).GetCommit())
		}
	}
	return ents, commits, stop
}

type boot struct {
	walSnaps []*walpb.Snapshot // wal.ValidSnapshotEntries
	at       *walpb.Snapshot   // the record bootstrap starts from, nil if none
	state    *raftpb.HardState
	ents     []*raftpb.Entry
	repaired bool  // bootstrap's single wal.Repair ran
	fatal    error // the error bootstrap would lg.Fatal on, nil if it boots
}

// bootLikeEtcd follows v3.7.3's (and main's) server/etcdserver/bootstrap.go:
// recoverSnapshot takes the last record wal.ValidSnapshotEntries returns
// (snapshot files are not read), and openWALFromSnapshot opens the WAL at
// that record's {Index, Term} and ReadAll's it, running wal.Repair once if
// and only if the error is io.ErrUnexpectedEOF and otherwise calling
// lg.Fatal("failed to read WAL, cannot be repaired").
func bootLikeEtcd(t *testing.T, h history) boot {
	t.Helper()
	lg := logger(t)
	var b boot
	var err error
	b.walSnaps, err = wal.ValidSnapshotEntries(lg, h.walDir)
	if err != nil {
		t.Fatalf("wal.ValidSnapshotEntries: %v", err)
	}
	open := &walpb.Snapshot{Index: new(uint64(0)), Term: new(uint64(0))}
	if n := len(b.walSnaps); n > 0 {
		b.at = b.walSnaps[n-1]
		open = &walpb.Snapshot{Index: new(b.at.GetIndex()), Term: new(b.at.GetTerm())}
	}
	for {
		w, err := wal.Open(lg, h.walDir, open)
		if err != nil {
			b.fatal = fmt.Errorf("failed to open WAL: %w", err)
			return b
		}
		_, st, ents, err := w.ReadAll()
		if err == nil {
			b.state, b.ents = st, ents
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			return b
		}
		w.Close()
		if b.repaired || !errors.Is(err, io.ErrUnexpectedEOF) {
			b.fatal = fmt.Errorf("failed to read WAL, cannot be repaired: %w", err)
			return b
		}
		if !wal.Repair(lg, h.walDir) {
			b.fatal = fmt.Errorf("failed to repair WAL: %w", err)
			return b
		}
		b.repaired = true
	}
}

func snapIndexes(s []*walpb.Snapshot) []uint64 {
	var out []uint64
	for _, x := range s {
		out = append(out, x.GetIndex())
	}
	return out
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func snapFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.snap"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	return names
}

// TestSnapshotRecordThenTornEntries: one sector of the last Save survives;
// bootstrap falls back to WAL record 200 and ReadAll stops at entry 301 with
// ErrSliceOutOfRange, which bootstrap does not repair.
func TestSnapshotRecordThenTornEntries(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			h := writeHistory(t, f)
			cut := firstBoundaryAfter(h.saveStart)
			t.Logf("segment %d bytes (preallocated); last Save wrote [%d, %d); power loss keeps [%d, %d) and zeroes [%d, %d)",
				h.segmentSize, h.saveStart, h.saveEnd, h.saveStart, cut, cut, h.saveEnd)
			tear(t, h.segment, cut, h.saveEnd)

			ents, commits, stop := survivors(t, h.segment, h.saveStart)
			t.Logf("surviving records of the last Save: entries %v, HardState commits %v; decoder then stops with %v", ents, commits, stop)
			if len(ents) == 0 || ents[0] != newSnapIndex+1 {
				t.Fatalf("the kept sector holds no whole entry %d; this tear does not reproduce the finding", newSnapIndex+1)
			}
			if len(commits) != 0 {
				t.Fatalf("HardState %v survived the tear", commits)
			}

			b := bootLikeEtcd(t, h)
			t.Logf("wal.ValidSnapshotEntries: %v (record %d dropped: index above durable commit %d); .snap files %v are not read",
				snapIndexes(b.walSnaps), newSnapIndex, oldCommit, snapFiles(t, h.snapDir))
			if !equal(snapIndexes(b.walSnaps), []uint64{0, oldSnapIndex}) {
				t.Fatalf("valid WAL snapshot records %v, want [0 %d]", snapIndexes(b.walSnaps), oldSnapIndex)
			}
			if b.at.GetIndex() != oldSnapIndex || b.at.GetTerm() != oldSnapTerm {
				t.Fatalf("bootstrap starts from %v, want record %d", b.at, oldSnapIndex)
			}
			t.Logf("recoverSnapshot: snapshot constructed from WAL record {Index %d, Term %d}", b.at.GetIndex(), b.at.GetTerm())

			if b.fatal == nil {
				t.Fatalf("bootstrap succeeded (commit %d, %d entries); the finding says it cannot", b.state.GetCommit(), len(b.ents))
			}
			t.Logf("bootstrap: %v", b.fatal)
			if !errors.Is(b.fatal, wal.ErrSliceOutOfRange) {
				t.Fatalf("ReadAll error is not wal.ErrSliceOutOfRange: %v", b.fatal)
			}
			if errors.Is(b.fatal, io.ErrUnexpectedEOF) {
				t.Fatalf("ReadAll error is io.ErrUnexpectedEOF, which bootstrap repairs: %v", b.fatal)
			}
			if b.repaired {
				t.Fatal("bootstrap's repair path ran; it should not be reached")
			}

			// wal.Repair run by hand truncates the torn tail after entries
			// 301.. and reports success; ReadAll at 200 still fails.
			if !wal.Repair(logger(t), h.walDir) {
				t.Fatal("wal.Repair reported failure")
			}
			again := bootLikeEtcd(t, h)
			t.Logf("after an explicit wal.Repair: %v", again.fatal)
			if !errors.Is(again.fatal, wal.ErrSliceOutOfRange) {
				t.Fatalf("after wal.Repair the error is %v, want wal.ErrSliceOutOfRange", again.fatal)
			}
		})
	}
}

// TestControlNoTear: without a power loss the member restarts at record 300
// with commit 332 and entries 301..339.
func TestControlNoTear(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			h := writeHistory(t, f)
			b := bootLikeEtcd(t, h)
			if b.fatal != nil {
				t.Fatalf("bootstrap failed without a tear: %v", b.fatal)
			}
			if !equal(snapIndexes(b.walSnaps), []uint64{0, oldSnapIndex, newSnapIndex}) {
				t.Fatalf("valid WAL snapshot records %v", snapIndexes(b.walSnaps))
			}
			if b.at.GetIndex() != newSnapIndex || b.at.GetTerm() != newSnapTerm {
				t.Fatalf("bootstrap starts from %v, want record %d", b.at, newSnapIndex)
			}
			if b.state.GetCommit() != newCommit || len(b.ents) != newLast-newSnapIndex ||
				b.ents[0].GetIndex() != newSnapIndex+1 || b.ents[len(b.ents)-1].GetIndex() != newLast {
				t.Fatalf("ReadAll at %d: commit %d, %d entries", newSnapIndex, b.state.GetCommit(), len(b.ents))
			}
			t.Logf("boots at WAL record {Index %d, Term %d}, commit %d, entries %d..%d",
				b.at.GetIndex(), b.at.GetTerm(), b.state.GetCommit(), b.ents[0].GetIndex(), b.ents[len(b.ents)-1].GetIndex())
		})
	}
}

// TestTearAtEverySectorBoundary keeps 0, 1, 2, ... whole sectors of the last
// Save (and finally all of it): the restart fails exactly when a whole entry
// 301 survives without the HardState.
func TestTearAtEverySectorBoundary(t *testing.T) {
	for _, f := range flavours {
		t.Run(f.name, func(t *testing.T) {
			probe := writeHistory(t, f)
			cuts := []int64{probe.saveStart}
			for c := firstBoundaryAfter(probe.saveStart); c < probe.saveEnd; c += sectorSize {
				cuts = append(cuts, c)
			}
			cuts = append(cuts, probe.saveEnd)

			for _, cut := range cuts {
				t.Run(fmt.Sprintf("keep%d", cut-probe.saveStart), func(t *testing.T) {
					h := writeHistory(t, f)
					if h.saveStart != probe.saveStart || h.saveEnd != probe.saveEnd {
						t.Fatalf("history not deterministic: [%d,%d) vs [%d,%d)", h.saveStart, h.saveEnd, probe.saveStart, probe.saveEnd)
					}
					tear(t, h.segment, cut, h.saveEnd)
					ents, commits, _ := survivors(t, h.segment, h.saveStart)
					b := bootLikeEtcd(t, h)
					at := b.at.GetIndex()
					t.Logf("kept %4d bytes: whole entries %d, HardState kept %v -> record %d, repaired %v, result: %v",
						cut-h.saveStart, len(ents), len(commits) > 0, at, b.repaired, outcome(b))

					switch {
					case len(commits) > 0:
						if b.fatal != nil || at != newSnapIndex {
							t.Fatalf("full Save kept but bootstrap: record %d, %v", at, b.fatal)
						}
					case len(ents) > 0:
						if !errors.Is(b.fatal, wal.ErrSliceOutOfRange) || at != oldSnapIndex {
							t.Fatalf("whole entries kept: record %d, %v; want ErrSliceOutOfRange at %d", at, b.fatal, oldSnapIndex)
						}
					default:
						if b.fatal != nil || at != oldSnapIndex || b.state.GetCommit() != oldCommit {
							t.Fatalf("no whole entry kept: record %d, commit %d, %v; want a clean boot at %d", at, b.state.GetCommit(), b.fatal, oldSnapIndex)
						}
					}
				})
			}
		})
	}
}

func outcome(b boot) string {
	if b.fatal != nil {
		return "lg.Fatal: " + b.fatal.Error()
	}
	return fmt.Sprintf("boots, commit %d, %d entries after the snapshot", b.state.GetCommit(), len(b.ents))
}
