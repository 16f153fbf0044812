package wal

import (
	"errors"
	"slices"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/record"
	"go.etcd.io/raft/v3/raftpb"
)

func TestRoundTrip(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	w, err := Create(fs, []byte("node=1"))
	check(t, err)
	check(t, w.Save(hs(1, 1, 0), ents(1, 10, 1, 20)))
	check(t, w.Save(hs(1, 1, 5), nil))
	check(t, w.SaveSnapshot(5, 1, nil))
	// A new leader overwrites 8..10 with 8..9 of term 2; empty data stays nil.
	check(t, w.Save(hs(2, 2, 7), []*raftpb.Entry{entry{8, 2, "x"}.pb(), entry{9, 2, ""}.pb()}))
	check(t, w.Save(&raftpb.HardState{}, nil)) // empty: nothing written
	check(t, w.Sync())
	if _, err := Create(fs, nil); !errors.Is(err, ErrExist) {
		t.Fatalf("second Create: %v", err)
	}

	_, c := mustOpen(t, fs.Crash())
	want := append(values(ents(1, 7, 1, 20)), entry{8, 2, "x"}, entry{9, 2, ""})
	if got := values(c.Entries); !slices.Equal(got, want) {
		t.Fatalf("entries\n got %v\nwant %v", got, want)
	}
	if c.Entries[8].Data != nil {
		t.Fatal("empty data read back as non-nil")
	}
	if s := stateOf(c.HardState); s != (hardState{2, 2, 7}) {
		t.Fatalf("hardstate %+v", s)
	}
	if string(c.Metadata) != "node=1" || !slices.Equal(c.Snapshots, []SnapMarker{{5, 1}}) {
		t.Fatalf("metadata %q snapshots %v", c.Metadata, c.Snapshots)
	}
	if v := c.ValidSnapshots(); len(v) != 1 {
		t.Fatalf("valid snapshots %v", v)
	}
}

func TestOpenEmpty(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	if _, _, err := Open(fs); !errors.Is(err, ErrNotExist) || Exist(fs) {
		t.Fatalf("open of empty fs: %v", err)
	}
	// A Create that crashed before its directory sync leaves a temporary
	// file, which Open removes.
	f, err := fs.Create(segmentName(0, 0) + tmpSuffix)
	check(t, err)
	_, _ = f.Write([]byte("partial"))
	if _, _, err := Open(fs); !errors.Is(err, ErrNotExist) || len(fs.List()) != 0 {
		t.Fatalf("open: %v, files %v", err, fs.List())
	}
}

func TestSegmentsCutAndRelease(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	w, err := Create(fs, nil)
	check(t, err)
	w.SetSegmentBytes(1000)
	for i := uint64(1); i <= 100; i += 5 {
		check(t, w.Save(hs(3, 1, i-1), ents(i, i+4, 3, 40)))
	}
	check(t, w.Sync())
	segs := segmentNames(fs)
	if len(segs) < 5 || w.Stats().Cuts != int64(len(segs)-1) {
		t.Fatalf("segments %v, stats %+v", segs, w.Stats())
	}
	_, c := mustOpen(t, copyFS(t, fs, nil))
	if got := values(c.Entries); !slices.Equal(got, values(ents(1, 100, 3, 40))) {
		t.Fatalf("read back %d entries", len(got))
	}

	check(t, w.SaveSnapshot(60, 3, nil))
	check(t, w.ReleaseTo(60))
	left := segmentNames(fs)
	if len(left) >= len(segs) || w.Stats().Released != int64(len(segs)-len(left)) {
		t.Fatalf("release kept %v of %v", left, segs)
	}
	fs = fs.Crash()
	w2, c := mustOpen(t, fs)
	if first := c.Entries[0].GetIndex(); first > 60 || c.Entries[len(c.Entries)-1].GetIndex() != 100 {
		t.Fatalf("after release: entries %d..", first)
	}
	if s := stateOf(c.HardState); s != (hardState{3, 1, 95}) || !slices.Contains(c.Snapshots, SnapMarker{60, 3}) {
		t.Fatalf("after release: state %+v snapshots %v", s, c.Snapshots)
	}
	// The reopened WAL appends and cuts where the old one left off.
	check(t, w2.Save(hs(3, 1, 100), ents(101, 140, 3, 40)))
	check(t, w2.Sync())
	_, c = mustOpen(t, fs.Crash())
	if c.Entries[len(c.Entries)-1].GetIndex() != 140 {
		t.Fatal("appends after reopen lost")
	}
}

// buildTorn returns an FS with a WAL whose entries 1..20 are synced and
// whose entries 21..26 are the unsynced tail, the size of the synced part
// of the last segment and the name of that segment.
func buildTorn(t *testing.T) (*disk.FS, int64, string) {
	fs := newFS(1, disk.Faults{})
	w, err := Create(fs, nil)
	check(t, err)
	check(t, w.Save(hs(1, 1, 0), ents(1, 20, 1, 30)))
	check(t, w.Sync())
	synced := w.segs[len(w.segs)-1].size
	check(t, w.Save(hs(1, 1, 20), ents(21, 23, 1, 300)))
	check(t, w.Save(nil, ents(24, 26, 1, 200)))
	return fs, synced, w.segs[len(w.segs)-1].name
}

// checkPrefix opens fs and checks that it reads entries 1..k, k >= 20,
// that the repair was durable, and that the WAL appends after it.
func checkPrefix(t *testing.T, fs *disk.FS, what string) {
	w, c, err := Open(fs)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	n := len(c.Entries)
	all := ents(1, 26, 1, 0)
	if n < 20 {
		t.Fatalf("%s: lost synced entries: read %d", what, n)
	}
	for i, e := range c.Entries {
		if e.GetIndex() != all[i].GetIndex() {
			t.Fatalf("%s: not a prefix", what)
		}
	}
	check(t, w.Save(hs(2, 2, 20), []*raftpb.Entry{entry{uint64(n + 1), 2, "after"}.pb()}))
	check(t, w.Sync())
	_, c, err = Open(fs.Crash())
	if err != nil || len(c.Entries) != n+1 || string(c.Entries[n].Data) != "after" {
		t.Fatalf("%s: append after repair: %v", what, err)
	}
}

func TestTornTailRepaired(t *testing.T) {
	fs, synced, last := buildTorn(t)
	f, err := fs.Open(last)
	check(t, err)
	size := f.Size()
	for cut := synced; cut <= size; cut++ {
		checkPrefix(t, copyFS(t, fs, func(name string, data []byte) []byte {
			if name == last {
				return data[:cut]
			}
			return data
		}), "cut")
	}
	for s := synced / disk.SectorSize; s*disk.SectorSize < size; s++ {
		for _, cut := range []int64{size, (s + 1) * disk.SectorSize, size - 7} {
			checkPrefix(t, copyFS(t, fs, func(name string, data []byte) []byte {
				if name != last {
					return data
				}
				lo := max(synced, s*disk.SectorSize) // synced bytes survive
				clear(data[lo:min((s+1)*disk.SectorSize, int64(len(data)))])
				return data[:min(cut, int64(len(data)))]
			}), "zeroed sector")
		}
	}
}

func TestCorruptionIsFatal(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	w, err := Create(fs, nil)
	check(t, err)
	w.SetSegmentBytes(1500)
	for i := uint64(1); i <= 60; i += 3 {
		check(t, w.Save(hs(1, 1, i), ents(i, i+2, 1, 50)))
	}
	check(t, w.Sync())
	segs := segmentNames(fs)
	if len(segs) < 3 {
		t.Fatalf("want several segments, have %v", segs)
	}
	for si, name := range segs {
		f, err := fs.Open(name)
		check(t, err)
		data := f.ReadAll()
		recs, _, err := record.Decode(data)
		check(t, err)
		if si == len(segs)-1 {
			recs = recs[:len(recs)-1] // every record but the very last
		}
		off := 0
		for _, p := range recs {
			for b := off; b < off+record.Size(len(p)); b++ {
				flipped := copyFS(t, fs, func(n string, d []byte) []byte {
					if n == name {
						d[b] ^= 0x10
					}
					return d
				})
				if _, _, err := Open(flipped); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s byte %d flipped: %v", name, b, err)
				}
			}
			off += record.Size(len(p))
		}
	}
}

func TestMissingOrMisnamedSegmentIsCorrupt(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	w, err := Create(fs, nil)
	check(t, err)
	w.SetSegmentBytes(500)
	for i := uint64(1); i <= 30; i++ {
		check(t, w.Save(hs(1, 1, i), ents(i, i, 1, 100)))
	}
	segs := segmentNames(fs)
	gap := copyFS(t, fs, nil)
	check(t, gap.Remove(segs[1]))
	if _, _, err := Open(gap); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("missing segment: %v", err)
	}
	renamed := copyFS(t, fs, nil)
	seq, index, _ := parseSegmentName(segs[1])
	check(t, renamed.Rename(segs[1], segmentName(seq, index+1)))
	if _, _, err := Open(renamed); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("misnamed segment: %v", err)
	}
}

func TestWriteErrorIsSticky(t *testing.T) {
	fs := newFS(1, disk.Faults{CapacityBytes: 4096})
	w, err := CreateSized(fs, nil, 2048) // the preallocated segment fits
	check(t, err)
	if _, err := CreateSized(newFS(1, disk.Faults{CapacityBytes: 4096}), nil, 8192); !errors.Is(err, disk.ErrNoSpace) {
		t.Fatalf("segment preallocated past capacity: %v", err)
	}
	err = w.Save(hs(1, 1, 0), ents(1, 50, 1, 100))
	if !errors.Is(err, disk.ErrNoSpace) {
		t.Fatalf("save past capacity: %v", err)
	}
	if err2 := w.Sync(); !errors.Is(err2, disk.ErrNoSpace) {
		t.Fatalf("sync after failed save: %v", err2)
	}
}

func BenchmarkSave(b *testing.B) {
	fs := newFS(1, disk.Faults{})
	w, err := Create(fs, nil)
	check(b, err)
	batch := ents(1, 10, 1, 100)
	st := hs(1, 1, 0)
	i := uint64(0)
	for b.Loop() {
		for _, e := range batch {
			i++
			*e.Index = i
		}
		*st.Commit = i
		if err := w.Save(st, batch); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 0 {
			check(b, w.ReleaseTo(i))
		}
	}
}
