package etcdwal36

// TestTornRuleAgrees checks that etcd's own decoder (v3.6.16,
// server/storage/wal/decoder.go: decodeRecord and isTornEntry, through
// wal.Open + ReadAll and wal.Repair) classifies the damage cases that
// etcdsim's WAL model follows (nodes/wal/torn_test.go) the same way: a CRC
// mismatch is a torn write (io.ErrUnexpectedEOF, repaired by truncation)
// only in the last file and when a sector chunk of the record after its
// length field is all zeros, chunks clipped to the record; otherwise it is
// wal.ErrCRCMismatch, which bootstrap does not repair. Only etcd's exported
// API is called.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/etcd/client/pkg/v3/fileutil"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.etcd.io/raft/v3/raftpb"
)

// span is one record of a segment: where its frame starts and ends.
type span struct{ start, end int64 }

// bigRecords returns the records of one segment whose data is over 1,000
// bytes (the entries), found with etcd's decoder over that file alone.
func bigRecords(t *testing.T, path string) []span {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := wal.NewDecoder(fileutil.NewFileReader(f))
	var out []span
	var rec walpb.Record
	for {
		start := dec.LastOffset()
		if err := dec.Decode(&rec); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("decoding %s: %v", path, err)
			}
			return out
		}
		if rec.Type == wal.CrcType {
			dec.UpdateCRC(rec.Crc) // as ReadAll chains a segment's CRC record
		}
		if len(rec.Data) > 1000 {
			out = append(out, span{start, dec.LastOffset()})
		}
	}
}

// writeSegments writes entries of about 1,200 bytes, one Save each, with
// segments of 16 KiB, and returns the directory and its segment paths.
func writeSegments(t *testing.T) (string, []string) {
	t.Helper()
	old := wal.SegmentSizeBytes
	wal.SegmentSizeBytes = 16 << 10
	t.Cleanup(func() { wal.SegmentSizeBytes = old })
	dir := filepath.Join(t.TempDir(), "wal")
	lg := logger(t)
	w, err := wal.Create(lg, dir, []byte("metadata"))
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 20; i++ {
		e := raftpb.Entry{Term: 1, Index: i, Type: raftpb.EntryNormal, Data: []byte(fmt.Sprintf("%04d:%s", i, strings.Repeat("v", 1200)))}
		if err := w.Save(raftpb.HardState{Term: 1, Vote: 1, Commit: i - 1}, []raftpb.Entry{e}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	if err != nil || len(names) < 2 {
		t.Fatalf("want two segments or more: %v %v", names, err)
	}
	slices.Sort(names)
	return dir, names
}

// copyDir copies the segments of dir into a fresh directory.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "wal")
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.wal"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(n)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// zeroChunk zeroes the sector-aligned chunk of r that holds the byte at
// off, clipped to the record after its 8-byte length field.
func zeroChunk(b []byte, r span, off int64) {
	lo := max(off/sectorSize*sectorSize, r.start+8)
	hi := min((off/sectorSize+1)*sectorSize, r.end)
	clear(b[lo:hi])
}

// readAll opens dir at the empty snapshot and reads it, as bootstrap does.
func readAll(t *testing.T, dir string) (int, error) {
	t.Helper()
	w, err := wal.Open(logger(t), dir, walpb.Snapshot{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, _, ents, err := w.ReadAll()
	return len(ents), err
}

func TestTornRuleAgrees(t *testing.T) {
	dir, segs := writeSegments(t)
	last, first := segs[len(segs)-1], segs[0]
	bigLast, bigFirst := bigRecords(t, last), bigRecords(t, first)
	if len(bigLast) < 2 {
		t.Fatalf("the last segment holds %d entries, want 2 or more", len(bigLast))
	}
	lastRec := bigLast[len(bigLast)-1]
	if bigLast[0].end%sectorSize == 0 {
		t.Fatal("the first entry of the last segment ends on a sector boundary")
	}
	for _, tc := range []struct {
		name, file string
		damage     func(b []byte)
		torn       bool // io.ErrUnexpectedEOF, else wal.ErrCRCMismatch
	}{
		{"last file, last record, a whole middle sector", last,
			func(b []byte) { zeroChunk(b, lastRec, lastRec.start+600) }, true},
		{"last file, an earlier record, its final partial chunk", last,
			func(b []byte) { zeroChunk(b, bigLast[0], bigLast[0].end-1) }, true},
		{"last file, a flipped byte", last,
			func(b []byte) { b[lastRec.start+700] ^= 0x10 }, false},
		{"an earlier file, a zeroed sector", first,
			func(b []byte) { r := bigFirst[len(bigFirst)-1]; zeroChunk(b, r, r.start+600) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := copyDir(t, dir)
			p := filepath.Join(d, filepath.Base(tc.file))
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(b)
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = readAll(t, d)
			if tc.torn {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("ReadAll: %v, want io.ErrUnexpectedEOF (a torn write)", err)
				}
				if !wal.Repair(logger(t), d) {
					t.Fatal("wal.Repair failed")
				}
				if n, err := readAll(t, d); err != nil || n == 0 {
					t.Fatalf("ReadAll after Repair: %d entries, %v", n, err)
				}
				return
			}
			if !errors.Is(err, wal.ErrCRCMismatch) {
				t.Fatalf("ReadAll: %v, want %v", err, wal.ErrCRCMismatch)
			}
			t.Logf("etcd's words: %v", err)
		})
	}
}
