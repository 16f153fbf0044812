package wal

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/record"
	"github.com/etcdsim/etcdsim/prob"
)

// These tests build each case of etcd's torn-write rule byte by byte
// (server/storage/wal/decoder.go: a CRC mismatch is io.ErrUnexpectedEOF,
// which Repair truncates, only when the record is in the last file and a
// sector chunk of its bytes after the length field is all zeros; otherwise
// it is ErrCRCMismatch and bootstrap's lg.Fatal).

// frame is one record of a segment file: where it starts and its size.
type frame struct{ off, size int }

// tornWAL writes two segments of entries of about 1,200 bytes (each frame
// spans three sectors) and returns the FS, the segment names and, per
// segment, its frames.
func tornWAL(t *testing.T) (*disk.FS, []string, [][]frame) {
	t.Helper()
	fs := newFS(1, disk.Faults{})
	w, err := Create(fs, nil)
	check(t, err)
	w.SetSegmentBytes(6000)
	for i := uint64(1); i <= 8; i++ {
		check(t, w.Save(hs(1, 1, i-1), ents(i, i, 1, 1200)))
		check(t, w.Sync())
	}
	segs := segmentNames(fs)
	if len(segs) < 2 {
		t.Fatalf("want two segments, have %v", segs)
	}
	frames := make([][]frame, len(segs))
	for i, name := range segs {
		f, err := fs.Open(name)
		check(t, err)
		ps, _, err := record.Decode(f.ReadAll())
		check(t, err)
		off := 0
		for _, p := range ps {
			frames[i] = append(frames[i], frame{off, record.Size(len(p))})
			off += record.Size(len(p))
		}
	}
	return fs, segs, frames
}

// bigFrames returns the entry frames of a segment (those over 1,000 bytes).
func bigFrames(fs []frame) []frame {
	var out []frame
	for _, f := range fs {
		if f.size > 1000 {
			out = append(out, f)
		}
	}
	return out
}

// zeroChunk zeroes the sector-aligned chunk of fr that holds byte at (an
// offset into the frame past its 8-byte length field), clipped to fr.
func zeroChunk(d []byte, fr frame, at int) {
	b := fr.off + at
	lo := max(b/record.SectorSize*record.SectorSize, fr.off+8)
	hi := min((b/record.SectorSize+1)*record.SectorSize, fr.off+fr.size)
	clear(d[lo:hi])
}

func edit(name string, f func(d []byte)) func(string, []byte) []byte {
	return func(n string, d []byte) []byte {
		if n == name {
			f(d)
		}
		return d
	}
}

func TestTornRuleLastFileZeroedChunkIsRepaired(t *testing.T) {
	fs, segs, frames := tornWAL(t)
	last := segs[len(segs)-1]
	big := bigFrames(frames[len(segs)-1])
	for _, tc := range []struct {
		name string
		fr   frame
		at   int
	}{
		{"last record, a whole middle sector", big[len(big)-1], 600},
		{"a record before the last, a whole middle sector", big[0], 600},
		{"last record, its first partial chunk", big[len(big)-1], 9},
		// etcd clips chunks to the record: the sector's zeroed part is
		// the record's, the next record's bytes after it are not zero.
		{"a record before the last, its final partial chunk", big[0], big[0].size - 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if end := tc.fr.off + tc.fr.size; tc.at == tc.fr.size-1 && end%record.SectorSize == 0 {
				t.Fatalf("frame ends at %d, on a sector boundary: the case needs it to end inside one", end)
			}
			img := copyFS(t, fs, edit(last, func(d []byte) { zeroChunk(d, tc.fr, tc.at) }))
			w, c, err := Open(img)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			st := w.Stats()
			if st.RepairedCRC != 1 || st.Repaired == 0 {
				t.Fatalf("stats %+v: want one cut at a CRC-failed torn record", st)
			}
			f, err := img.Open(last)
			check(t, err)
			if got := f.Size(); got != int64(tc.fr.off) {
				t.Fatalf("last segment is %d bytes after repair, want it cut at %d", got, tc.fr.off)
			}
			if n := len(c.Entries); n == 0 || n >= 8 {
				t.Fatalf("%d entries after repair, want those before the cut", n)
			}
		})
	}
}

func TestTornRuleCRCMismatchIsFatal(t *testing.T) {
	fs, segs, frames := tornWAL(t)
	last, first := segs[len(segs)-1], segs[0]
	bigLast, bigFirst := bigFrames(frames[len(segs)-1]), bigFrames(frames[0])
	for _, tc := range []struct {
		name, file string
		fr         frame
		damage     func(d []byte, fr frame)
	}{
		{"last file, a flipped payload byte", last, bigLast[len(bigLast)-1],
			func(d []byte, fr frame) { d[fr.off+700] ^= 0x10 }},
		{"last file, a flipped data checksum byte", last, bigLast[0],
			func(d []byte, fr frame) { d[fr.off+9] ^= 0x01 }},
		// etcd's isTornEntry answers false unless one file is left to read.
		{"an earlier file, a zeroed sector", first, bigFirst[len(bigFirst)-1],
			func(d []byte, fr frame) { zeroChunk(d, fr, 600) }},
		{"an earlier file, a flipped byte", first, bigFirst[0],
			func(d []byte, fr frame) { d[fr.off+700] ^= 0x10 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := copyFS(t, fs, edit(tc.file, func(d []byte) { tc.damage(d, tc.fr) }))
			_, _, err := Open(img)
			if !errors.Is(err, ErrCRCMismatch) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("open: %v, want %v", err, ErrCRCMismatch)
			}
			want := fmt.Sprintf("walpb: crc mismatch: in file '%s' at position: %d", tc.file, tc.fr.off)
			if err.Error() != want {
				t.Fatalf("open: %q, want etcd's words %q", err, want)
			}
			if _, err := Read(img); !errors.Is(err, ErrCRCMismatch) {
				t.Fatalf("read: %v, want %v", err, ErrCRCMismatch)
			}
		})
	}
}

func TestTornRuleZeroLengthFieldIsTheEnd(t *testing.T) {
	fs, segs, frames := tornWAL(t)
	last := segs[len(segs)-1]
	fr := bigFrames(frames[len(segs)-1])[0]
	img := copyFS(t, fs, edit(last, func(d []byte) { clear(d[fr.off : fr.off+8]) }))
	w, _, err := Open(img)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if st := w.Stats(); st.Repaired == 0 || st.RepairedCRC != 0 {
		t.Fatalf("stats %+v: want a cut at a zero length field (etcd's end of file)", st)
	}
}

func TestTornRuleShortEarlierFileIsFatal(t *testing.T) {
	fs, segs, frames := tornWAL(t)
	first := segs[0]
	big := bigFrames(frames[0])
	fr := big[len(big)-1]
	img := copyFS(t, fs, nil)
	f, err := img.Open(first)
	check(t, err)
	check(t, f.Truncate(int64(fr.off+100)))
	check(t, f.Sync())
	_, _, err = Open(img)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrCRCMismatch) {
		t.Fatalf("open: %v, want an unrepairable unexpected EOF", err)
	}
	if !strings.HasPrefix(err.Error(), "unexpected EOF: in file '"+first+"'") {
		t.Fatalf("open: %q", err)
	}
	// etcd's ReadAll in read mode (wal.Verify) stops there without error.
	c, err := Read(img)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if n := len(c.Entries); n == 0 || c.Entries[n-1].GetIndex() >= 8 {
		t.Fatalf("read: %d entries, want those before the cut", n)
	}
}

// TestTornWriteOutOfOrderIsRepaired tears one unsynced Save of entries
// larger than a sector, over seeds, on a disk whose torn writes may lose a
// sector before a kept one (disk.TornWrite): every image opens, holds the
// synced entries and a prefix of the torn ones, and some seeds cut the
// tail at a record whose checksum failed over a zeroed sector, the case
// etcd's isTornEntry was written for.
func TestTornWriteOutOfOrderIsRepaired(t *testing.T) {
	unordered, cutCRC := 0, 0
	for seed := range uint64(60) {
		fs := newFS(seed, disk.Faults{TornWrite: prob.Always})
		w, err := Create(fs, nil)
		check(t, err)
		check(t, w.Save(hs(1, 1, 5), ents(1, 5, 1, 100)))
		check(t, w.Sync())
		check(t, w.Save(hs(1, 1, 5), ents(6, 9, 1, 1300)))
		img := fs.Crash()
		if slices.ContainsFunc(img.CrashHits(), func(h disk.CrashHit) bool { return h.Fault == disk.CrashTornUnordered }) {
			unordered++
		}
		w, c := mustOpen(t, img)
		if w.Stats().RepairedCRC > 0 {
			cutCRC++
		}
		n := len(c.Entries)
		if n < 5 || n > 9 || c.Entries[n-1].GetIndex() != uint64(n) {
			t.Fatalf("seed %d: read back %d entries, want the 5 synced and a prefix of 6..9", seed, n)
		}
	}
	if unordered == 0 || cutCRC == 0 {
		t.Fatalf("over 60 seeds: %d tears out of order, %d cuts at a checksum over a zeroed sector", unordered, cutCRC)
	}
	t.Logf("over 60 seeds: %d tears out of order, %d cuts at a checksum over a zeroed sector", unordered, cutCRC)
}
