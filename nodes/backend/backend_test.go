package backend

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/record"
	"github.com/etcdsim/etcdsim/prob"
)

func newFS(seed uint64, f disk.Faults) *disk.FS {
	return disk.New(rand.New(rand.NewPCG(seed, 1)), f)
}

var inModel = disk.Faults{KeepUnsynced: prob.Of(1, 2), TornWrite: prob.Of(1, 2), DirLoss: prob.Of(1, 2)}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustOpen(t testing.TB, fs *disk.FS) *Backend {
	t.Helper()
	b, err := Open(fs, "db")
	check(t, err)
	return b
}

// diffMem describes how a and b differ, or returns "" if they are equal.
func diffMem(a, b *Mem) string {
	if !slices.Equal(a.Buckets(), b.Buckets()) {
		return fmt.Sprintf("buckets %v vs %v", a.Buckets(), b.Buckets())
	}
	for _, name := range a.Buckets() {
		var ka, kb []string
		a.Range(name, nil, nil, func(k, v []byte) bool { ka = append(ka, string(k)+"="+string(v)); return true })
		b.Range(name, nil, nil, func(k, v []byte) bool { kb = append(kb, string(k)+"="+string(v)); return true })
		if !slices.Equal(ka, kb) || a.BucketHash(name) != b.BucketHash(name) {
			return fmt.Sprintf("bucket %s: %v vs %v", name, ka, kb)
		}
	}
	return ""
}

func TestRoundTrip(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	b := mustOpen(t, fs)
	b.Put("key", []byte("a"), []byte("1"))
	b.Put("key", []byte("b"), []byte("2"))
	b.Put("meta", []byte("ci"), []byte("7"))
	b.Delete("nobucket", []byte("x")) // counts, changes nothing
	if v, ok := b.Get("key", []byte("a")); !ok || string(v) != "1" || b.Pending() != 4 {
		t.Fatal("pending writes must be visible and counted")
	}
	check(t, b.Commit())
	b.Delete("key", []byte("a"))
	b.Put("key", []byte("c"), nil)
	b.Put("empty", []byte("k"), []byte("v"))
	b.Delete("empty", []byte("k"))
	check(t, b.Commit())
	if st := b.Stats(); st.Commits != 2 || st.Records != 2 || st.Bytes != b.Size() || b.Pending() != 0 {
		t.Fatalf("stats %+v", st)
	}
	want := b.State().Clone()
	r := mustOpen(t, fs.Crash())
	if d := diffMem(r.State(), want); d != "" {
		t.Fatal(d)
	}
	if r.Stats().Records != 2 {
		t.Fatalf("reopened stats %+v", r.Stats())
	}
}

func TestUncommittedWritesLost(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	b := mustOpen(t, fs)
	b.Put("key", []byte("a"), []byte("1"))
	check(t, b.Commit())
	committed := b.State().Clone()
	b.Put("key", []byte("b"), []byte("pending"))
	fs = fs.Crash()
	b = mustOpen(t, fs)
	if d := diffMem(b.State(), committed); d != "" {
		t.Fatalf("pending write survived: %s", d)
	}
	b.Put("key", []byte("c"), []byte("written, not synced"))
	if wrote, err := b.WriteCommit(true); !wrote || err != nil {
		t.Fatalf("WriteCommit: %v %v", wrote, err)
	}
	if wrote, _ := b.WriteCommit(true); wrote {
		t.Fatal("WriteCommit with nothing pending wrote a record")
	}
	b = mustOpen(t, fs.Crash())
	if d := diffMem(b.State(), committed); d != "" {
		t.Fatalf("unsynced commit survived a fault-free crash: %s", d)
	}
}

func TestPreCommitHook(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	b := mustOpen(t, fs)
	calls := 0
	b.SetPreCommitHook(func(tx Tx) {
		calls++
		tx.Put("meta", []byte("ci"), fmt.Appendf(nil, "%d", calls))
	})
	// As etcd's unsafeCommit, the hook runs before the pending check, and
	// its own write makes an otherwise idle commit real.
	check(t, b.Commit())
	if calls != 1 || b.Stats().Commits != 1 {
		t.Fatalf("idle commit: hook ran %d times, %d commits", calls, b.Stats().Commits)
	}
	steps := []struct {
		name string
		do   func() error
		runs bool
	}{
		{"Commit", b.Commit, true},
		{"WriteCommit(false)", func() error { _, err := b.WriteCommit(false); return err }, false},
		{"DefragCopy(true)", func() error { return b.DefragCopy(true) }, true},
		{"DefragRename", b.DefragRename, false},
		{"DefragCopy(false)", func() error { return b.DefragCopy(false) }, false},
	}
	for i, s := range steps {
		before := calls
		b.Put("key", fmt.Appendf(nil, "k%d", i), []byte("v"))
		check(t, s.do())
		if ran := calls > before; ran != s.runs {
			t.Fatalf("%s: hook ran %v, want %v", s.name, ran, s.runs)
		}
	}
	// The hook's write is in the same record as the batch it ran on.
	r := mustOpen(t, fs.Crash())
	if v, _ := r.Get("meta", []byte("ci")); string(v) != "3" {
		t.Fatalf("meta ci = %q after reopen", v)
	}
}

func TestDefrag(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	b := mustOpen(t, fs)
	for i := range 200 {
		b.Put("key", fmt.Appendf(nil, "k%03d", i%20), fmt.Appendf(nil, "v%d", i))
		check(t, b.Commit())
	}
	b.Put("key", []byte("k000"), []byte("pending at defrag"))
	before := b.Size()
	check(t, b.DefragCopy(true))
	// A commit between copy and rename survives the rename.
	b.Put("key", []byte("between"), []byte("x"))
	check(t, b.Commit())
	check(t, b.DefragRename())
	if b.Size() >= before/4 || b.Stats().Records != 2 || b.Stats().Defrags != 1 {
		t.Fatalf("defrag: size %d -> %d, stats %+v", before, b.Size(), b.Stats())
	}
	if err := b.DefragRename(); !errors.Is(err, ErrNoDefrag) {
		t.Fatalf("second rename: %v", err)
	}
	want := b.State().Clone()
	b.Put("key", []byte("after"), []byte("y"))
	check(t, b.Commit())
	fs = fs.Crash()
	r := mustOpen(t, fs)
	if v, ok := r.Get("key", []byte("after")); !ok || string(v) != "y" {
		t.Fatal("commit after defrag lost")
	}
	r.Delete("key", []byte("after"))
	if d := diffMem(r.State(), want); d != "" {
		t.Fatal(d)
	}
	if fs.Exists("db" + DefragSuffix) {
		t.Fatal("defrag copy left behind")
	}
}

// TestDefragCrashBetweenCopyAndRename crashes after the copy (and after a
// rename whose directory sync did not happen) under in-model faults: the
// backend always opens with the whole state.
func TestDefragCrashBetweenCopyAndRename(t *testing.T) {
	for seed := range uint64(300) {
		fs := newFS(seed, inModel)
		b := mustOpen(t, fs)
		for i := range 30 {
			b.Put("key", fmt.Appendf(nil, "k%d", i%7), fmt.Appendf(nil, "v%d", i))
			if i%4 == 0 {
				check(t, b.Commit())
			}
		}
		check(t, b.DefragCopy(true))
		want := b.State().Clone()
		if seed%2 == 1 {
			check(t, fs.Rename("db"+DefragSuffix, "db")) // the rename, not yet dir-synced
		}
		fs = fs.Crash()
		r, err := Open(fs, "db")
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if d := diffMem(r.State(), want); d != "" {
			t.Fatalf("seed %d: %s", seed, d)
		}
		if fs.Exists("db" + DefragSuffix) {
			t.Fatalf("seed %d: defrag copy left behind", seed)
		}
	}
}

func TestTornTailAndCorruption(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	b := mustOpen(t, fs)
	var states []*Mem // state after each commit
	for i := range 12 {
		for j := range 1 + i%3 {
			b.Put(fmt.Sprint("b", j), fmt.Appendf(nil, "k%d", i), bytes.Repeat([]byte{'v'}, 60*i))
		}
		check(t, b.Commit())
		states = append(states, b.State().Clone())
	}
	f, err := fs.Open("db")
	check(t, err)
	data := f.ReadAll()
	recs, _, err := record.Decode(data)
	check(t, err)
	lastOff := len(data) - record.Size(len(recs[len(recs)-1]))
	open := func(d []byte) (*Backend, error) {
		c := newFS(1, disk.Faults{})
		g, err := c.Create("db")
		check(t, err)
		_, err = g.Write(d)
		check(t, err)
		return Open(c, "db")
	}
	for cut := lastOff; cut < len(data); cut++ {
		r, err := open(data[:cut])
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if d := diffMem(r.State(), states[len(states)-2]); d != "" || r.Size() != int64(lastOff) {
			t.Fatalf("cut at %d: size %d: %s", cut, r.Size(), d)
		}
	}
	for b := 0; b < lastOff; b += 7 {
		d := bytes.Clone(data)
		d[b] ^= 0x40
		if _, err := open(d); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d flipped: %v", b, err)
		}
	}
}

func BenchmarkPutCommit(b *testing.B) {
	be := mustOpen(b, newFS(1, disk.Faults{}))
	be.SetPreCommitHook(func(tx Tx) { tx.Put("meta", []byte("ci"), []byte("12345678")) })
	keys := make([][]byte, 100)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key%03d", i)
	}
	val := bytes.Repeat([]byte{'x'}, 100)
	i := 0
	for b.Loop() {
		be.Put("key", keys[i%100], val)
		if i++; i%100 == 0 {
			check(b, be.Commit())
			if i%100000 == 0 {
				check(b, be.DefragCopy(true))
				check(b, be.DefragRename())
			}
		}
	}
}

// TestRewriteKeepsFileBounded: commits that overwrite the same keys do not
// grow the file without bound (bbolt reuses its pages; here the commit log
// is rewritten as one full image), and a crash at any point still opens
// to the committed state.
func TestRewriteKeepsFileBounded(t *testing.T) {
	fs := newFS(3, disk.Faults{})
	b := mustOpen(t, fs)
	val := make([]byte, 1024)
	for i := 0; i < 3000; i++ {
		val[0] = byte(i)
		b.Put("key", fmt.Appendf(nil, "k%d", i%8), append([]byte(nil), val...))
		check(t, b.Commit())
		if b.Size() > 2*rewriteSlack {
			t.Fatalf("commit %d: file grew to %d bytes for a state of about 8 KiB", i, b.Size())
		}
		if i%499 == 0 {
			fs = fs.Crash()
			r := mustOpen(t, fs)
			if d := diffMem(r.State(), b.State()); d != "" {
				t.Fatalf("commit %d: crash image differs: %s", i, d)
			}
			b = r
		}
	}
}
