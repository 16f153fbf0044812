package wal

import (
	"math/rand/v2"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/prob"
)

// TestDurable follows what the disk holds synced through saves, syncs, a
// rewrite of the log's tail, a snapshot marker, a cut and a reopen.
func TestDurable(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	w, err := Create(fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, want Durable) {
		t.Helper()
		if got := w.Durable(); got != want {
			t.Fatalf("%s: durable %+v, want %+v", step, got, want)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.Save(hs(2, 1, 0), ents(1, 5, 2, 10)))
	check("unsynced save", Durable{Rewrite: 1})
	must(w.Sync())
	check("synced", Durable{Term: 2, Vote: 1, Last: 5})
	must(w.Save(hs(3, 0, 3), ents(4, 6, 3, 10)))
	check("unsynced rewrite of 4..", Durable{Term: 2, Vote: 1, Last: 5, Rewrite: 4})
	if d := w.Durable(); !d.Holds(3) || d.Holds(4) || d.Holds(6) {
		t.Fatalf("Holds: %+v", d)
	}
	must(w.Sync())
	check("rewrite synced", Durable{Term: 3, Commit: 3, Last: 6})
	must(w.SaveSnapshot(9, 3, hs(3, 0, 9)))
	check("snapshot marker", Durable{Term: 3, Commit: 9, Last: 9})
	w.SetSegmentBytes(64)
	must(w.Save(nil, ents(10, 12, 3, 100)))
	check("a save that cuts syncs the old tail", Durable{Term: 3, Commit: 9, Last: 12})
	img := fs.Crash()
	w2, _, err := Open(img)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w2.Durable(), (Durable{Term: 3, Commit: 9, Last: 12}); got != want {
		t.Fatalf("reopened: durable %+v, want %+v", got, want)
	}
}

// TestDurableLyingSync: a sync that lies leaves the batch volatile, as the
// disk knows.
func TestDurableLyingSync(t *testing.T) {
	fs := newFS(1, disk.Faults{LyingSync: prob.Of(1, 1)})
	w, err := Create(fs, nil)
	if err == nil {
		err = w.Save(hs(2, 1, 0), ents(1, 2, 2, 10))
	}
	if err == nil {
		err = w.Sync()
	}
	if err != nil {
		t.Fatal(err)
	}
	if d := w.Durable(); d.Term != 0 || d.Holds(1) {
		t.Fatalf("durable after a lying sync: %+v", d)
	}
}

// TestDurableAbsorbedAtSync asks Durable after every save, sync, snapshot
// marker and cut of a WAL whose syncs sometimes lie, and compares it with
// a look at every batch still waiting: Sync, which absorbs the batches
// it made durable, must leave none that the disk holds.
func TestDurableAbsorbedAtSync(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		fs := newFS(seed, disk.Faults{LyingSync: prob.Of(1, 3)})
		w, err := Create(fs, nil)
		check(t, err)
		w.SetSegmentBytes(2048)
		rng := rand.New(rand.NewPCG(seed, 2))
		var last, term uint64 = 0, 1
		for step := range 300 {
			switch op := rng.IntN(10); {
			case op < 5:
				from := last + 1
				if last > 0 && rng.IntN(4) == 0 {
					from = last - uint64(rng.IntN(int(min(last, 3)))) // a rewrite of the tail
					term++
				}
				last = from + uint64(rng.IntN(3))
				var st *raftpb.HardState
				if rng.IntN(2) == 0 {
					st = hs(term, 1, from-1)
				}
				check(t, w.Save(st, ents(from, last, term, 40)))
			case op < 6:
				check(t, w.Save(hs(term, 1, last), nil)) // a commit-only HardState, not synced
			case op < 9:
				check(t, w.Sync())
			default:
				last++
				check(t, w.SaveSnapshot(last, term, hs(term, 1, last)))
			}
			got := w.Durable()
			fresh := *w
			fresh.batches = append([]batch(nil), w.batches...)
			fresh.absorbDurable()
			if want := fresh.Durable(); got != want {
				t.Fatalf("seed %d step %d: Durable %+v, a full look %+v", seed, step, got, want)
			}
		}
	}
}
