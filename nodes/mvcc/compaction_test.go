package mvcc

import (
	"fmt"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

var optionSets = []struct {
	name string
	opts Options
}{{"current", Options{}}, {"drop-tombstone", Options{DropCompactedTombstone: true}}}

// bucketKeys lists the key bucket as "main.sub[t]".
func bucketKeys(t testing.TB, m *backend.Mem) string {
	var keys []string
	m.Range(KeyBucket, nil, nil, func(k, _ []byte) bool {
		rev, tomb, err := parseRevBytes(k)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, fmtRev(rev, tomb))
		return true
	})
	return fmtStrings(keys)
}

func TestCompactKeepsNeededRevisions(t *testing.T) {
	// r2 a=1 | r3 a=2 | r4 b=1 | r5 del a | r6 b=2 | r7 del b
	history := func(opts Options) *env {
		e := newEnv(t, opts)
		e.put("a", "1")
		e.put("a", "2")
		e.put("b", "1")
		e.del("a", "")
		e.put("b", "2")
		e.del("b", "")
		return e
	}
	tests := []struct {
		rev      int64
		opts     Options
		want, at string // key bucket after; range of all keys at rev
	}{
		{3, Options{}, "[3.0 4.0 5.0t 6.0 7.0t]", "[a=2 c2 m3 v2] n1 r7"},
		{5, Options{}, "[4.0 5.0t 6.0 7.0t]", "[b=1 c4 m4 v1] n1 r7"},
		{5, Options{DropCompactedTombstone: true}, "[4.0 6.0 7.0t]", "[b=1 c4 m4 v1] n1 r7"},
		{7, Options{}, "[7.0t]", "[] n0 r7"},
		{7, Options{DropCompactedTombstone: true}, "[]", "[] n0 r7"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%v", tt.rev, tt.opts.DropCompactedTombstone), func(t *testing.T) {
			e := history(tt.opts)
			if err := e.compactAll(tt.rev); err != nil {
				t.Fatal(err)
			}
			if got := bucketKeys(t, e.m); got != tt.want {
				t.Errorf("bucket %s, want %s", got, tt.want)
			}
			if got := e.rng("", "\x00", RangeOptions{Rev: tt.rev}); got != tt.at {
				t.Errorf("range at %d: %s, want %s", tt.rev, got, tt.at)
			}
			s, job, err := Restore(e.m, RestoreOptions{Options: tt.opts})
			if err != nil || job != nil {
				t.Fatalf("restore: job %v err %v", job, err)
			}
			if a, b := snapshot(s), snapshot(e.s); a != b {
				t.Errorf("restored %+v\nlive     %+v", a, b)
			}
		})
	}
}

// compactionHistory writes several keys with updates and deletes, the last
// write a delete, and returns the env at that revision.
func compactionHistory(t testing.TB, opts Options) *env {
	e := newEnv(t, opts)
	for i := 0; i < 4; i++ {
		for _, k := range []string{"a", "b", "c", "d"} {
			e.put(k, fmt.Sprint(i))
		}
		e.del(string(rune('a'+i)), "")
	}
	e.txn(TxnRequest{Success: []Op{opPut("e", "1"), opDel("c", ""), opPut("f", "2")}})
	e.putLease("a", "x", 9)
	e.del("b", "")
	return e
}

func TestCompactInStepsEqualsOneGo(t *testing.T) {
	for _, o := range optionSets {
		for _, batch := range []int{1, 2, 3, 7, 1000} {
			t.Run(fmt.Sprintf("%s/batch%d", o.name, batch), func(t *testing.T) {
				one, steps := compactionHistory(t, o.opts), compactionHistory(t, o.opts)
				rev := one.s.Rev() - 3
				if err := one.compactAll(rev); err != nil {
					t.Fatal(err)
				}
				j, err := steps.s.Compact(steps.m, rev)
				if err != nil {
					t.Fatal(err)
				}
				n := 1
				for !j.Step(steps.m, batch) {
					n++
				}
				if n < 2 && batch < 10 {
					t.Fatalf("only %d steps", n)
				}
				for _, b := range []string{KeyBucket, MetaBucket} {
					if one.m.BucketHash(b) != steps.m.BucketHash(b) || one.m.Len(b) != steps.m.Len(b) {
						t.Fatalf("bucket %s differs: %s vs %s", b, bucketKeys(t, one.m), bucketKeys(t, steps.m))
					}
				}
				if a, b := snapshot(one.s), snapshot(steps.s); a != b {
					t.Fatalf("one go %+v\nsteps  %+v", a, b)
				}
			})
		}
	}
}

func TestRestoreAfterEveryStep(t *testing.T) {
	for _, o := range optionSets {
		for _, batch := range []int{1, 2, 5} {
			t.Run(fmt.Sprintf("%s/batch%d", o.name, batch), func(t *testing.T) {
				live := compactionHistory(t, o.opts)
				done := compactionHistory(t, o.opts)
				rev := live.s.Rev() // compact at the newest revision, a delete
				if err := done.compactAll(rev); err != nil {
					t.Fatal(err)
				}
				j, err := live.s.Compact(live.m, rev)
				if err != nil {
					t.Fatal(err)
				}
				want := snapshot(live.s)
				for step := 0; ; step++ {
					checkRestore(t, fmt.Sprintf("step %d", step), live.m.Clone(), o.opts, want, done.m)
					if j.Step(live.m, batch) {
						break
					}
				}
				checkRestore(t, "done", live.m.Clone(), o.opts, want, done.m)
			})
		}
	}
}

// checkRestore restores from m, compares with want, finishes the resumed
// compaction and compares the key bucket with the one of a finished run.
func checkRestore(t *testing.T, at string, m *backend.Mem, opts Options, want state, done *backend.Mem) {
	t.Helper()
	s, job, err := Restore(m, RestoreOptions{Options: opts})
	if err != nil {
		t.Fatalf("%s: %v", at, err)
	}
	if got := snapshot(s); got != want {
		t.Fatalf("%s: restored %+v\nwant %+v", at, got, want)
	}
	if job != nil {
		job.Run(m)
	}
	if m.BucketHash(KeyBucket) != done.BucketHash(KeyBucket) || m.BucketHash(MetaBucket) != done.BucketHash(MetaBucket) {
		t.Fatalf("%s: after resumed compaction %s, want %s", at, bucketKeys(t, m), bucketKeys(t, done))
	}
	if s.FinishedCompactRev() != want.compact || s.ScheduledCompactRev() != want.compact {
		t.Fatalf("%s: markers %d %d, want %d", at, s.ScheduledCompactRev(), s.FinishedCompactRev(), want.compact)
	}
}

// TestRestoreNoRevClampRegress proves the compaction-rev-regress bug mode:
// the last write is a delete, compaction at its revision removes that
// tombstone in a batch (etcd before PR 18274), and a crash before the last
// batch writes finishedCompactRev restores a lower revision (issue 17780).
func TestRestoreNoRevClampRegress(t *testing.T) {
	legacy := Options{DropCompactedTombstone: true}
	e := newEnv(t, legacy)
	e.put("a", "1")
	e.put("b", "1")
	e.del("b", "") // r4, the newest record
	j, err := e.s.Compact(e.m, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ { // batches of one: 2.0 kept, 3.0 and 4.0t deleted
		if j.Step(e.m, 1) {
			t.Fatal("finished early")
		}
	}
	if got := bucketKeys(t, e.m); got != "[2.0]" {
		t.Fatalf("bucket %s", got)
	}
	bug, bugJob, err := Restore(e.m.Clone(), RestoreOptions{Options: legacy, NoRevClamp: true})
	if err != nil {
		t.Fatal(err)
	}
	if bug.Rev() != 2 || bugJob != nil || bug.CompactRev() != -1 {
		t.Fatalf("bug mode: rev %d job %v compact %d; want 2, no job (ErrFutureRev), -1", bug.Rev(), bugJob, bug.CompactRev())
	}
	if rev := bug.Put(backend.NewMem(), []byte("c"), nil, 0); rev != 3 {
		t.Fatalf("bug mode reuses revision 3, got %d", rev)
	}
	fixed, job, err := Restore(e.m.Clone(), RestoreOptions{Options: legacy})
	if err != nil || job == nil || fixed.Rev() != 4 || fixed.CompactRev() != 4 {
		t.Fatalf("fixed: rev %d compact %d job %v err %v", fixed.Rev(), fixed.CompactRev(), job, err)
	}
	// With etcd's current compaction the tombstone stays and the clamp is
	// never needed: no prefix of the batches loses the revision.
	cur := newEnv(t, Options{})
	cur.put("a", "1")
	cur.put("b", "1")
	cur.del("b", "")
	cj, _ := cur.s.Compact(cur.m, 4)
	for done := false; !done; {
		done = cj.Step(cur.m, 1)
		s, _, err := Restore(cur.m.Clone(), RestoreOptions{NoRevClamp: true})
		if err != nil || s.Rev() != 4 {
			t.Fatalf("current compaction, no clamp: rev %d err %v", s.Rev(), err)
		}
	}
}

// TestRestoreClampsToCompaction: PR 6633, every record at or below the
// compaction may be gone, and the revision must not fall below it.
func TestRestoreClampsToCompaction(t *testing.T) {
	e := newEnv(t, Options{DropCompactedTombstone: true})
	e.put("a", "1")
	e.del("a", "")
	if err := e.compactAll(3); err != nil {
		t.Fatal(err)
	}
	if got := bucketKeys(t, e.m); got != "[]" {
		t.Fatalf("bucket %s", got)
	}
	for _, noClamp := range []bool{false, true} {
		s, job, err := Restore(e.m, RestoreOptions{NoRevClamp: noClamp})
		if err != nil || job != nil || s.Rev() != 3 || s.CompactRev() != 3 {
			t.Fatalf("noClamp=%v: rev %d compact %d job %v err %v", noClamp, s.Rev(), s.CompactRev(), job, err)
		}
	}
}

func TestHashByRev(t *testing.T) {
	hashes := map[string]uint32{}
	for _, o := range optionSets {
		e := compactionHistory(t, o.opts)
		before, _, err := e.s.HashByRev(e.m, 0)
		if err != nil {
			t.Fatal(err)
		}
		rev := e.s.Rev()
		j, err := e.s.Compact(e.m, rev)
		if err != nil {
			t.Fatal(err)
		}
		var after uint32
		for done := false; !done; {
			h, crev, err := e.s.HashByRev(e.m, rev)
			if err != nil || crev != rev {
				t.Fatalf("%s: compact rev %d err %v", o.name, crev, err)
			}
			if after != 0 && h != after {
				t.Fatalf("%s: hash changed during compaction", o.name)
			}
			after = h
			done = j.Step(e.m, 2)
		}
		if after == before {
			t.Fatalf("%s: compaction did not change the hash", o.name)
		}
		hashes[o.name] = after
		e.put("a", "changed")
		if h, _, _ := e.s.HashByRev(e.m, rev); h != after {
			t.Fatalf("%s: hash at an old revision changed", o.name)
		}
		if h, _, _ := e.s.HashByRev(e.m, 0); h == after {
			t.Fatalf("%s: a new write did not change the hash", o.name)
		}
	}
	// Old and new compaction hash alike: the tombstone at the compaction
	// revision is left out.
	if hashes["current"] != hashes["drop-tombstone"] {
		t.Fatalf("hashes differ: %v", hashes)
	}
}
