package wal

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
)

// readOut is what an Open returned, by value.
type readOut struct {
	ents  []entry
	state hardState
	snaps []SnapMarker
	meta  string
	err   string
}

func readWith(t *testing.T, fs *disk.FS, c *ReplayCache) readOut {
	t.Helper()
	_, got, err := OpenCached(fs, c)
	if err != nil {
		return readOut{err: err.Error()}
	}
	h := got.HardState
	return readOut{values(got.Entries), hardState{h.GetTerm(), h.GetVote(), h.GetCommit()}, got.Snapshots, string(got.Metadata), ""}
}

// TestReplayCacheReadsWhatAFullReadReads warms a cache on a WAL, then
// opens images that keep a prefix, lose a tail, zero a sector, flip a
// byte, or grow, both through the cache and without it: the contents and
// the errors must be the same.
func TestReplayCacheReadsWhatAFullReadReads(t *testing.T) {
	fs, synced, last := buildTorn(t)
	c := &ReplayCache{}
	base := readWith(t, copyFS(t, fs, nil), c)
	if base.err != "" || len(base.ents) < 20 {
		t.Fatalf("warm-up read: %+v", base)
	}
	f, err := fs.Open(last)
	check(t, err)
	size := f.Size()
	edits := map[string]func(name string, data []byte) []byte{}
	for cut := synced - 40; cut <= size; cut += 17 {
		edits[fmt.Sprintf("cut at %d", cut)] = func(name string, data []byte) []byte {
			if name == last {
				return data[:min(cut, int64(len(data)))]
			}
			return data
		}
	}
	for s := int64(0); s*disk.SectorSize < size; s++ {
		edits[fmt.Sprintf("sector %d zeroed", s)] = func(name string, data []byte) []byte {
			if name == last {
				clear(data[s*disk.SectorSize : min((s+1)*disk.SectorSize, int64(len(data)))])
			}
			return data
		}
	}
	for _, at := range []int64{3, synced / 2, synced + 5, size - 3} {
		edits[fmt.Sprintf("byte %d flipped", at)] = func(name string, data []byte) []byte {
			if name == last && at < int64(len(data)) {
				data[at] ^= 0x40
			}
			return data
		}
	}
	for name, edit := range edits {
		want := readWith(t, copyFS(t, fs, edit), nil)
		got := readWith(t, copyFS(t, fs, edit), c)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: through the cache %+v, full read %+v", name, got, want)
		}
		// The cache now holds this image's records; the original must
		// still read as it did.
		if again := readWith(t, copyFS(t, fs, nil), c); !reflect.DeepEqual(again, base) {
			t.Fatalf("after %s: the original reads %+v through the cache, %+v at first", name, again, base)
		}
	}
	// A WAL that grew past what the cache holds reads its new records too.
	grown := copyFS(t, fs, nil)
	w, _, err := OpenCached(grown, c)
	check(t, err)
	check(t, w.Save(hs(2, 2, 26), ents(27, 40, 2, 100)))
	check(t, w.Sync())
	if got, want := readWith(t, copyFS(t, grown, nil), c), readWith(t, copyFS(t, grown, nil), nil); !reflect.DeepEqual(got, want) || len(got.ents) != 40 {
		t.Fatalf("grown WAL: through the cache %d entries %+v, full read %d entries", len(got.ents), got.err, len(want.ents))
	}
}
