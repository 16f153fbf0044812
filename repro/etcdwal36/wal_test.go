package etcdwal36

// These tests drive etcd v3.6.16's real WAL (server/v3/storage/wal), its
// snapshotter (server/v3/etcdserver/api/snap) and raftpb through the disk
// writes a follower makes when one raft Ready carries a snapshot plus the
// entries and HardState that follow it, emulate a power loss that keeps only
// the first 512-byte sector of the last, unsynced write, and then open the
// directory the way etcd v3.6's bootstrap does. No etcd code is copied here:
// every step below calls etcd's exported API and says which etcd function it
// stands for.

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

	// sectorSize is the unit a disk writes atomically; it is also the
	// granularity etcd's decoder uses to recognise a torn write
	// (storage/wal/decoder.go: minSectorSize, decoder.isTornEntry).
	sectorSize = 512
)

// confState is the membership every snapshot carries; etcd >= 3.5 refuses a
// non-initial WAL snapshot record without one
// (storage/wal/walpb/record.go: ValidateSnapshotForWrite).
var confState = raftpb.ConfState{Voters: []uint64{1, 2, 3}}

// history is a data directory written by writeHistory.
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
func entries(term, first, last uint64) []raftpb.Entry {
	var ents []raftpb.Entry
	for i := first; i <= last; i++ {
		ents = append(ents, raftpb.Entry{
			Term:  term,
			Index: i,
			Type:  raftpb.EntryNormal,
			Data:  fmt.Appendf(nil, "put /registry/pods/p%04d", i),
		})
	}
	return ents
}

func snapshot(index, term uint64) raftpb.Snapshot {
	return raftpb.Snapshot{
		Metadata: raftpb.SnapshotMetadata{Index: index, Term: term, ConfState: confState},
		Data:     fmt.Appendf(nil, "v2 store at %d", index),
	}
}

// saveSnap stands for server/storage/storage.go: (*storage).SaveSnap in
// v3.6, which the raft loop calls first for a Ready with a snapshot
// (server/etcdserver/raft.go: (*raftNode).start): the .snap file is written
// and synced (snap.(*Snapshotter).SaveSnap), then the WAL snapshot record is
// appended and the WAL is fsynced (wal.(*WAL).SaveSnapshot).
func saveSnap(t *testing.T, ss *snap.Snapshotter, w *wal.WAL, s raftpb.Snapshot) {
	t.Helper()
	if err := ss.SaveSnap(s); err != nil {
		t.Fatalf("Snapshotter.SaveSnap(%d): %v", s.Metadata.Index, err)
	}
	cs := s.Metadata.ConfState
	rec := walpb.Snapshot{Index: s.Metadata.Index, Term: s.Metadata.Term, ConfState: &cs}
	if err := w.SaveSnapshot(rec); err != nil {
		t.Fatalf("WAL.SaveSnapshot(%d): %v", s.Metadata.Index, err)
	}
}

// recordsEnd returns the offset just after the last complete record in a
// WAL segment, found with etcd's own decoder: the decoder stops with io.EOF
// at the first zero length field, i.e. where the preallocated zeros begin
// (storage/wal/decoder.go: (*decoder).decodeRecord). The file's size cannot
// be used: it is always wal.SegmentSizeBytes because of preallocation.
func recordsEnd(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := wal.NewDecoder(fileutil.NewFileReader(f))
	var rec walpb.Record
	for err = dec.Decode(&rec); err == nil; err = dec.Decode(&rec) {
	}
	if !errors.Is(err, io.EOF) {
		t.Fatalf("decoding %s before the tear: %v", path, err)
	}
	return dec.LastOffset()
}

// writeHistory writes, in a fresh data directory, exactly what etcd v3.6
// writes for m1's history, and returns where the last Save landed.
func writeHistory(t *testing.T) history {
	t.Helper()
	lg := logger(t)
	member := filepath.Join(t.TempDir(), "member")
	h := history{walDir: filepath.Join(member, "wal"), snapDir: filepath.Join(member, "snap")}

	// server/etcdserver/bootstrap.go: bootstrapSnapshot creates member/snap.
	if err := os.MkdirAll(h.snapDir, 0o700); err != nil {
		t.Fatal(err)
	}
	ss := snap.New(lg, h.snapDir)

	// server/etcdserver/bootstrap.go: bootstrapNewWAL calls wal.Create with
	// the member's etcdserverpb.Metadata. Create writes a CRC record, the
	// metadata and the initial snapshot record {0,0}, and preallocates the
	// 64 MB segment 0000000000000000-0000000000000000.wal.
	md, err := (&etcdserverpb.Metadata{NodeID: 1, ClusterID: 0x1000}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	w, err := wal.Create(lg, h.walDir, md)
	if err != nil {
		t.Fatalf("wal.Create: %v", err)
	}

	// Ready #1 (raft.go: (*raftNode).start): snapshot 200, then
	// (*storage).Save -> wal.(*WAL).Save writes entries 201..239, then the
	// HardState with commit 239, and fsyncs (entries make raft.MustSync true).
	saveSnap(t, ss, w, snapshot(oldSnapIndex, oldSnapTerm))
	if err := w.Save(raftpb.HardState{Term: oldSnapTerm, Vote: 2, Commit: oldCommit},
		entries(oldSnapTerm, oldSnapIndex+1, oldLast)); err != nil {
		t.Fatalf("WAL.Save(%d..%d): %v", oldSnapIndex+1, oldLast, err)
	}

	// Ready #2, first half: the received snapshot 300. The .snap file and the
	// WAL record {300, 4, ConfState} are both synced before anything else of
	// this Ready is written (raft.go: "Must save the snapshot file and WAL
	// snapshot entry before saving any other entries or hardstate").
	saveSnap(t, ss, w, snapshot(newSnapIndex, newSnapTerm))

	h.segment = filepath.Join(h.walDir, "0000000000000000-0000000000000000.wal")
	h.saveStart = recordsEnd(t, h.segment)

	// Ready #2, second half: raft.go calls (*storage).Save(rd.HardState,
	// rd.Entries); wal.(*WAL).Save encodes entries 301..339 first, the
	// HardState {Term 4, Commit 332} last, and then fsyncs. The power loss
	// is applied afterwards by tear: that fsync is taken not to have
	// finished, so the raft loop never reached its (*storage).Sync,
	// ApplySnapshot or Release for this Ready.
	if err := w.Save(raftpb.HardState{Term: newSnapTerm, Vote: 2, Commit: newCommit},
		entries(newSnapTerm, newSnapIndex+1, newLast)); err != nil {
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

// firstBoundaryAfter is the first sector boundary strictly after off: a
// power loss that keeps one sector of a write beginning at off keeps the
// bytes [off, firstBoundaryAfter(off)).
func firstBoundaryAfter(off int64) int64 {
	return (off/sectorSize + 1) * sectorSize
}

// tear emulates the power loss. The segment was preallocated to 64 MB
// (storage/wal/wal.go: Create and cut call fileutil.Preallocate), so after a
// crash the bytes of a lost write read back as the zeros the preallocation
// left, and the file keeps its size. The bytes [cut, end) are therefore
// overwritten with zeros; truncating the file at cut would model a different
// file system state (a shorter file) that etcd's preallocated segments never
// reach by a crash.
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

// survivors lists what etcd's decoder can still read from the segment at or
// after off: entry indexes and HardState commits, and the error it stops on.
func survivors(t *testing.T, path string, off int64) (ents []uint64, commits []uint64, stop error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := wal.NewDecoder(fileutil.NewFileReader(f))
	var rec walpb.Record
	for stop = dec.Decode(&rec); stop == nil; stop = dec.Decode(&rec) {
		if dec.LastOffset() <= off {
			continue
		}
		switch rec.Type {
		case wal.EntryType:
			ents = append(ents, wal.MustUnmarshalEntry(rec.Data).Index)
		case wal.StateType:
			commits = append(commits, wal.MustUnmarshalState(rec.Data).Commit)
		}
	}
	return ents, commits, stop
}

// boot is what etcd v3.6 does with a data directory that has a WAL.
type boot struct {
	walSnaps []walpb.Snapshot // wal.ValidSnapshotEntries
	snap     *raftpb.Snapshot // Snapshotter.LoadNewestAvailable
	state    raftpb.HardState
	ents     []raftpb.Entry
	repaired bool  // bootstrap's single wal.Repair ran
	fatal    error // the error bootstrap would lg.Fatal on, nil if it boots
}

// bootLikeEtcd follows server/etcdserver/bootstrap.go of v3.6:
// recoverSnapshot (wal.ValidSnapshotEntries, then
// (*snap.Snapshotter).LoadNewestAvailable among those records) and
// openWALFromSnapshot (wal.Open at that snapshot's {Index, Term}, ReadAll;
// on error, one wal.Repair if and only if the error is io.ErrUnexpectedEOF,
// otherwise lg.Fatal("failed to read WAL, cannot be repaired")).
func bootLikeEtcd(t *testing.T, h history) boot {
	t.Helper()
	lg := logger(t)
	var b boot
	var err error
	b.walSnaps, err = wal.ValidSnapshotEntries(lg, h.walDir)
	if err != nil {
		t.Fatalf("wal.ValidSnapshotEntries: %v", err)
	}
	b.snap, err = snap.New(lg, h.snapDir).LoadNewestAvailable(b.walSnaps)
	if err != nil && !errors.Is(err, snap.ErrNoSnapshot) {
		t.Fatalf("LoadNewestAvailable: %v", err)
	}
	var at walpb.Snapshot // bootstrap passes Index and Term only
	if b.snap != nil {
		at.Index, at.Term = b.snap.Metadata.Index, b.snap.Metadata.Term
	}
	for {
		w, err := wal.Open(lg, h.walDir, at)
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

func snapIndexes(s []walpb.Snapshot) []uint64 {
	var out []uint64
	for _, x := range s {
		out = append(out, x.Index)
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

// TestSnapshotRecordThenTornEntries is the finding: one sector of the last
// Save survives, bootstrap falls back to snapshot 200, and ReadAll stops at
// entry 301 with ErrSliceOutOfRange, which bootstrap does not repair.
func TestSnapshotRecordThenTornEntries(t *testing.T) {
	h := writeHistory(t)
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
	t.Logf("wal.ValidSnapshotEntries: %v (record %d dropped: index above durable commit %d)",
		snapIndexes(b.walSnaps), newSnapIndex, oldCommit)
	if !equal(snapIndexes(b.walSnaps), []uint64{0, oldSnapIndex}) {
		t.Fatalf("valid WAL snapshot records %v, want [0 %d]", snapIndexes(b.walSnaps), oldSnapIndex)
	}
	if b.snap == nil || b.snap.Metadata.Index != oldSnapIndex || b.snap.Metadata.Term != oldSnapTerm {
		t.Fatalf("LoadNewestAvailable chose %v, want snapshot %d", b.snap, oldSnapIndex)
	}
	newest := filepath.Join(h.snapDir, fmt.Sprintf("%016x-%016x.snap", newSnapTerm, newSnapIndex))
	if _, err := os.Stat(newest); err != nil {
		t.Fatalf("snapshot file for %d missing: %v", newSnapIndex, err)
	}
	t.Logf("LoadNewestAvailable: snapshot {Index %d, Term %d}; %s exists but has no valid WAL record",
		b.snap.Metadata.Index, b.snap.Metadata.Term, filepath.Base(newest))

	if b.fatal == nil {
		t.Fatalf("bootstrap succeeded (commit %d, %d entries); the finding says it cannot", b.state.Commit, len(b.ents))
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

	// An operator (or a bootstrap that tried anyway) running wal.Repair: it
	// finds the torn record after the surviving entries, keeps a .broken
	// copy and truncates the segment there, and reports success. ReadAll at
	// snapshot 200 still meets entry 301 after 239.
	if !wal.Repair(logger(t), h.walDir) {
		t.Fatal("wal.Repair reported failure")
	}
	again := bootLikeEtcd(t, h)
	t.Logf("after an explicit wal.Repair: %v", again.fatal)
	if !errors.Is(again.fatal, wal.ErrSliceOutOfRange) {
		t.Fatalf("after wal.Repair the error is %v, want wal.ErrSliceOutOfRange", again.fatal)
	}
}

// TestControlNoTear writes the same history without a power loss: the
// member restarts at snapshot 300 with commit 332 and entries 301..339.
func TestControlNoTear(t *testing.T) {
	h := writeHistory(t)
	b := bootLikeEtcd(t, h)
	if b.fatal != nil {
		t.Fatalf("bootstrap failed without a tear: %v", b.fatal)
	}
	if !equal(snapIndexes(b.walSnaps), []uint64{0, oldSnapIndex, newSnapIndex}) {
		t.Fatalf("valid WAL snapshot records %v", snapIndexes(b.walSnaps))
	}
	if b.snap == nil || b.snap.Metadata.Index != newSnapIndex || b.snap.Metadata.Term != newSnapTerm {
		t.Fatalf("LoadNewestAvailable chose %v, want snapshot %d", b.snap, newSnapIndex)
	}
	if b.state.Commit != newCommit || len(b.ents) != newLast-newSnapIndex ||
		b.ents[0].Index != newSnapIndex+1 || b.ents[len(b.ents)-1].Index != newLast {
		t.Fatalf("ReadAll at %d: commit %d, %d entries", newSnapIndex, b.state.Commit, len(b.ents))
	}
	t.Logf("boots at snapshot {Index %d, Term %d}, commit %d, entries %d..%d",
		b.snap.Metadata.Index, b.snap.Metadata.Term, b.state.Commit, b.ents[0].Index, b.ents[len(b.ents)-1].Index)
}

// TestTearAtEverySectorBoundary keeps 0, 1, 2, ... whole sectors of the last
// Save (and finally all of it) and records how bootstrap ends. The finding
// holds whenever the kept prefix contains a whole entry 301 but not the
// HardState; if no whole entry survives, the torn record is io.ErrUnexpectedEOF
// (or the zeros read as the end of the log), bootstrap's repair applies, and
// the member restarts at snapshot 200 with commit 239.
func TestTearAtEverySectorBoundary(t *testing.T) {
	probe := writeHistory(t)
	cuts := []int64{probe.saveStart}
	for c := firstBoundaryAfter(probe.saveStart); c < probe.saveEnd; c += sectorSize {
		cuts = append(cuts, c)
	}
	cuts = append(cuts, probe.saveEnd)

	for _, cut := range cuts {
		t.Run(fmt.Sprintf("keep%d", cut-probe.saveStart), func(t *testing.T) {
			h := writeHistory(t)
			if h.saveStart != probe.saveStart || h.saveEnd != probe.saveEnd {
				t.Fatalf("history not deterministic: [%d,%d) vs [%d,%d)", h.saveStart, h.saveEnd, probe.saveStart, probe.saveEnd)
			}
			tear(t, h.segment, cut, h.saveEnd)
			ents, commits, _ := survivors(t, h.segment, h.saveStart)
			b := bootLikeEtcd(t, h)
			at := uint64(0)
			if b.snap != nil {
				at = b.snap.Metadata.Index
			}
			t.Logf("kept %4d bytes: whole entries %d, HardState kept %v -> snapshot %d, repaired %v, result: %v",
				cut-h.saveStart, len(ents), len(commits) > 0, at, b.repaired, outcome(b))

			switch {
			case len(commits) > 0: // everything kept
				if b.fatal != nil || at != newSnapIndex {
					t.Fatalf("full Save kept but bootstrap: snapshot %d, %v", at, b.fatal)
				}
			case len(ents) > 0:
				if !errors.Is(b.fatal, wal.ErrSliceOutOfRange) || at != oldSnapIndex {
					t.Fatalf("whole entries kept: snapshot %d, %v; want ErrSliceOutOfRange at %d", at, b.fatal, oldSnapIndex)
				}
			default:
				if b.fatal != nil || at != oldSnapIndex || b.state.Commit != oldCommit {
					t.Fatalf("no whole entry kept: snapshot %d, commit %d, %v; want a clean boot at %d", at, b.state.Commit, b.fatal, oldSnapIndex)
				}
			}
		})
	}
}

func outcome(b boot) string {
	if b.fatal != nil {
		return "lg.Fatal: " + b.fatal.Error()
	}
	return fmt.Sprintf("boots, commit %d, %d entries after the snapshot", b.state.Commit, len(b.ents))
}
