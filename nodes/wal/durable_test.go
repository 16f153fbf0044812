package wal

import (
	"testing"

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
