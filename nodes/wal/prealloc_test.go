package wal

import (
	"testing"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/record"
)

// preallocWAL writes five synced entries to a WAL whose segments are
// preallocated to 64 KiB and returns it with its FS.
func preallocWAL(t *testing.T) (*WAL, *disk.FS) {
	t.Helper()
	fs := newFS(1, disk.Faults{})
	w, err := CreateSized(fs, nil, 64<<10)
	check(t, err)
	check(t, w.Save(hs(1, 1, 5), ents(1, 5, 1, 100)))
	check(t, w.Sync())
	return w, fs
}

func tailOf(t *testing.T, fs *disk.FS, w *WAL) *disk.File {
	t.Helper()
	f, err := fs.Open(w.Tail())
	check(t, err)
	return f
}

// TestPreallocatedSegments: every segment is preallocated to the segment
// size, durably before its name is; a cut gives the old tail's space back.
func TestPreallocatedSegments(t *testing.T) {
	w, fs := preallocWAL(t)
	first := w.Tail()
	if f := tailOf(t, fs, w); f.Allocated() != 64<<10 || f.Size() >= 64<<10 {
		t.Fatalf("tail: size %d, allocated %d, want preallocated to 64 KiB", f.Size(), f.Allocated())
	}
	for i := uint64(6); w.Tail() == first; i++ {
		check(t, w.Save(hs(1, 1, i), ents(i, i, 1, 4000)))
	}
	f, err := fs.Open(first)
	check(t, err)
	if f.Allocated() != f.Size() {
		t.Fatalf("cut segment: size %d, allocated %d: want its preallocation given back", f.Size(), f.Allocated())
	}
	img := fs.Crash()
	g, err := img.Open(w.Tail())
	check(t, err)
	if g.Allocated() != 64<<10 {
		t.Fatalf("new segment after a crash: allocated %d, want 64 KiB (synced before its rename)", g.Allocated())
	}
	_, c := mustOpen(t, img)
	if n := len(c.Entries); n < 6 {
		t.Fatalf("%d entries after the crash", n)
	}
}

// TestTornWriteInPreallocatedSpace tears an unsynced entry in the
// preallocated tail, its last sectors lost: it reads back full length with
// zeros where the sectors were lost, fails its checksum over a zeroed
// chunk, and Open cuts it as torn (etcd's isTornEntry, then Repair), which
// gives the preallocated space back as etcd's Repair does.
func TestTornWriteInPreallocatedSpace(t *testing.T) {
	w, fs := preallocWAL(t)
	good := tailOf(t, fs, w).Size()
	check(t, w.Save(hs(1, 1, 5), ents(6, 6, 1, 2000))) // five sectors
	check(t, fs.TearInFlight(w.Tail(), 2))
	img := fs.Crash()
	f, err := img.Open(w.Tail())
	check(t, err)
	if f.Allocated() != 64<<10 || f.Size() >= good+2000 {
		t.Fatalf("crash image: size %d, allocated %d: want the record cut in the bytes, zeros after", f.Size(), f.Allocated())
	}
	r := record.NewReader(f.Bytes()).Preallocated(f.Allocated())
	var rerr error
	for rerr == nil {
		_, rerr = r.Next()
	}
	if re, ok := rerr.(*record.Error); !ok || !re.Checksum || re.Offset != good {
		t.Fatalf("read %v: want the entry at %d read full length, its checksum failed over zeros", rerr, good)
	}
	w2, c := mustOpen(t, img)
	if st := w2.Stats(); st.RepairedCRC != 1 || st.Repaired == 0 {
		t.Fatalf("stats %+v: want one cut at a CRC-failed torn record", st)
	}
	if n := len(c.Entries); n != 5 {
		t.Fatalf("%d entries, want the 5 synced", n)
	}
	if f.Size() != good || f.Allocated() != good {
		t.Fatalf("after repair: size %d, allocated %d, want both %d (Repair truncates; ZeroToEnd then preallocates nothing)", f.Size(), f.Allocated(), good)
	}
	// The cut is durable, and the WAL appends at it.
	check(t, w2.Save(hs(2, 1, 5), ents(6, 7, 2, 100)))
	check(t, w2.Sync())
	_, c = mustOpen(t, img.Crash())
	if n := len(c.Entries); n != 7 || c.Entries[6].GetTerm() != 2 {
		t.Fatalf("%d entries after appending at the cut", n)
	}
}

// TestZeroLengthEndsLog: reaching the preallocated zeros is the clean end
// (etcd's decoder: "hit end of file or preallocated space"), and a zero
// length field with bytes after it ends the log too: Open cuts there and
// preallocates the file again to its size, as ReadAll's ZeroToEnd does.
func TestZeroLengthEndsLog(t *testing.T) {
	_, fs := preallocWAL(t)
	img := fs.Crash()
	w2, c := mustOpen(t, img)
	if st := w2.Stats(); st.Repaired != 0 || len(c.Entries) != 5 {
		t.Fatalf("stats %+v, %d entries: want a clean end at the zeros", st, len(c.Entries))
	}

	f := tailOf(t, img, w2)
	end := f.Size()
	check(t, w2.Save(hs(1, 1, 5), ents(6, 8, 1, 100)))
	check(t, w2.Sync())
	// Zero the length field of entry 7 as a lost sector would.
	check(t, f.Sync())
	r := record.NewReader(f.Bytes())
	var off7 int64
	for {
		off := r.Offset()
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		if off == end {
			off7 = r.Offset()
			break
		}
	}
	_, err := f.WriteAt(make([]byte, 8), off7)
	check(t, err)
	check(t, f.Sync())
	img2 := img.Crash()
	w3, c := mustOpen(t, img2)
	if st := w3.Stats(); st.Repaired == 0 || st.RepairedCRC != 0 {
		t.Fatalf("stats %+v: want a cut at the zero length field, no checksum failed", st)
	}
	if n := len(c.Entries); n != 6 {
		t.Fatalf("%d entries, want 6: the log ends at entry 7", n)
	}
	g := tailOf(t, img2, w3)
	if g.Size() != off7 || g.Allocated() != 64<<10 {
		t.Fatalf("after ZeroToEnd: size %d, allocated %d, want %d, 64 KiB", g.Size(), g.Allocated(), off7)
	}
	if h := tailOf(t, img2.Crash(), w3); h.Size() != off7 || h.Allocated() != 64<<10 {
		t.Fatalf("the cut and the preallocation are not durable: size %d, allocated %d", h.Size(), h.Allocated())
	}
}

// TestCrashBeforeFirstSyncLosesPreallocation: a segment created and
// preallocated but crashed before its first sync comes back empty, its
// preallocation lost with it; Open removes the leftover temporary file.
func TestCrashBeforeFirstSyncLosesPreallocation(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	f, err := fs.Create(segmentName(0, 0) + tmpSuffix)
	check(t, err)
	check(t, f.Preallocate(64<<10))
	_, err = f.Write(appendHeader(nil, 0, 0, nil))
	check(t, err)
	img := fs.Crash()
	g, err := img.Open(segmentName(0, 0) + tmpSuffix)
	check(t, err)
	if g.Size() != 0 || g.Allocated() != 0 {
		t.Fatalf("size %d, allocated %d, want an empty file", g.Size(), g.Allocated())
	}
	if _, _, err := Open(img); err != ErrNotExist {
		t.Fatalf("open: %v, want no WAL", err)
	}
	if img.Exists(segmentName(0, 0) + tmpSuffix) {
		t.Fatal("the temporary segment is still there")
	}
}
