package wal

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/prob"
	"go.etcd.io/raft/v3/raftpb"
	"pgregory.net/rapid"
)

// rec is one logical record of the model's stream.
type rec struct {
	e    *entry
	st   *hardState
	snap *SnapMarker
}

// model is the logical state a prefix of the record stream reads back as,
// under the same rules Open applies.
type model struct {
	ents     []entry
	st       hardState
	snaps    []SnapMarker
	lastSnap uint64
}

func (m *model) apply(r rec) {
	switch {
	case r.st != nil:
		m.st = *r.st
	case r.snap != nil:
		m.snaps = append(m.snaps, *r.snap)
		m.lastSnap = max(m.lastSnap, r.snap.Index)
	default:
		i, n := r.e.index, len(m.ents)
		switch {
		case n == 0 || i < m.ents[0].index || i > m.ents[n-1].index+1:
			m.ents = append(m.ents[:0:0], *r.e)
		default:
			m.ents = append(m.ents[:i-m.ents[0].index:i-m.ents[0].index], *r.e)
		}
	}
}

// matches reports whether read is what m becomes after the segments that
// ReleaseTo(floor) removed are gone: a suffix of m that keeps every entry
// at or above floor and the newest snapshot marker.
func (m *model) matches(c *Contents, floor uint64) error {
	if s := stateOf(c.HardState); s != m.st {
		return fmt.Errorf("hardstate %+v, want %+v", s, m.st)
	}
	got := values(c.Entries)
	if len(got) > len(m.ents) || !slices.Equal(got, m.ents[len(m.ents)-len(got):]) {
		return fmt.Errorf("entries are not a suffix of the model's")
	}
	if k := len(m.ents) - len(got); k > 0 && m.ents[k-1].index >= floor {
		return fmt.Errorf("entry %d lost above the release floor %d", m.ents[k-1].index, floor)
	}
	if len(c.Snapshots) > len(m.snaps) || !slices.Equal(c.Snapshots, m.snaps[len(m.snaps)-len(c.Snapshots):]) {
		return fmt.Errorf("snapshots %v are not a suffix of %v", c.Snapshots, m.snaps)
	}
	if n := len(m.snaps); n > 0 && m.snaps[n-1].Index >= floor && len(c.Snapshots) == 0 {
		return fmt.Errorf("newest snapshot marker lost")
	}
	return nil
}

// crashHarness drives a WAL like a raft member would and checks every
// crash image against the record stream.
type crashHarness struct {
	fs        *disk.FS
	w         *WAL
	stream    []rec // every record written, as the model sees them
	synced    int   // records known durable
	floor     uint64
	syncs     int64
	term      uint64
	log       []string
	tornCRC   int64 // cuts at a checksum failed over a zeroed sector (RepairedCRC)
	unordered int   // crashes that tore a write out of order
}

func (h *crashHarness) state() *model {
	m := &model{}
	for _, r := range h.stream {
		m.apply(r)
	}
	return m
}

// noteSyncs marks the whole stream durable if the WAL synced, as a cut does.
func (h *crashHarness) noteSyncs() {
	if s := h.w.Stats().Syncs; s != h.syncs {
		h.syncs, h.synced = s, len(h.stream)
	}
}

func (h *crashHarness) save(t *rapid.T, m *model) {
	last := uint64(0)
	if n := len(m.ents); n > 0 {
		last = m.ents[n-1].index
	}
	last = max(last, m.lastSnap)
	// Raft never overwrites committed entries or entries a snapshot covers.
	commit := max(m.st.commit, m.lastSnap)
	from := last + 1
	if last > commit && rapid.Bool().Draw(t, "conflict") {
		h.term++
		from = rapid.Uint64Range(commit+1, last).Draw(t, "from")
	}
	k := rapid.IntRange(0, 4).Draw(t, "entries")
	var batch []entry
	for i := range uint64(k) {
		size := rapid.IntRange(0, 400).Draw(t, "size")
		batch = append(batch, entry{from + i, h.term, payload(from+i, h.term, size)})
	}
	top := max(from-1+uint64(k), commit)
	st := hardState{h.term, 1, rapid.Uint64Range(commit, top).Draw(t, "commit")}
	h.write(t, st, batch)
}

func (h *crashHarness) write(t *rapid.T, st hardState, batch []entry) {
	var pbs []*raftpb.Entry
	for i := range batch {
		pbs = append(pbs, batch[i].pb())
		h.stream = append(h.stream, rec{e: &batch[i]})
	}
	h.stream = append(h.stream, rec{st: &st})
	if err := h.w.Save(hs(st.term, st.vote, st.commit), pbs); err != nil {
		t.Fatal(err)
	}
	h.log = append(h.log, fmt.Sprintf("save %d entries commit %d", len(batch), st.commit))
	h.noteSyncs()
}

func (h *crashHarness) snapshot(t *rapid.T, m *model) {
	if rapid.Bool().Draw(t, "install") {
		// A follower installs a snapshot past its log.
		h.term++
		last := m.lastSnap
		if n := len(m.ents); n > 0 {
			last = max(last, m.ents[n-1].index)
		}
		// Its marker is saved with a HardState committing it, and the
		// entries after it come in the same Ready (nodes' saveSnapshot).
		s := SnapMarker{last + rapid.Uint64Range(1, 5).Draw(t, "gap"), h.term}
		h.mark(t, s, &hardState{h.term, 1, s.Index})
		var batch []entry
		for i := range uint64(rapid.IntRange(0, 4).Draw(t, "after")) {
			batch = append(batch, entry{s.Index + 1 + i, h.term, payload(s.Index+1+i, h.term, 200)})
		}
		h.write(t, hardState{h.term, 1, s.Index + uint64(len(batch))}, batch)
		return
	}
	for _, e := range m.ents {
		if e.index == m.st.commit && e.index > m.lastSnap {
			h.mark(t, SnapMarker{e.index, e.term}, nil)
			return
		}
	}
}

func (h *crashHarness) mark(t *rapid.T, s SnapMarker, st *hardState) {
	h.stream = append(h.stream, rec{snap: &s})
	var pb *raftpb.HardState
	if st != nil {
		h.stream = append(h.stream, rec{st: st})
		pb = hs(st.term, st.vote, st.commit)
	}
	if err := h.w.SaveSnapshot(s.Index, s.Term, pb); err != nil {
		t.Fatal(err)
	}
	h.noteSyncs()
	if rapid.Bool().Draw(t, "release") {
		if err := h.w.ReleaseTo(s.Index); err != nil {
			t.Fatal(err)
		}
		h.floor = max(h.floor, s.Index)
	}
	h.log = append(h.log, fmt.Sprintf("snapshot %+v floor %d", s, h.floor))
}

// crash crashes the disk, opens the image and finds the durable prefix of
// the stream it equals; that prefix becomes the stream.
func (h *crashHarness) crash(t *rapid.T) {
	h.fs = h.fs.Crash()
	if slices.ContainsFunc(h.fs.CrashHits(), func(c disk.CrashHit) bool { return c.Fault == disk.CrashTornUnordered }) {
		h.unordered++
	}
	w, c, err := Open(h.fs)
	if err != nil {
		t.Fatalf("open after crash: %v\n%s", err, strings.Join(h.log, "\n"))
	}
	h.tornCRC += w.Stats().RepairedCRC
	m := &model{}
	for _, r := range h.stream[:h.synced] {
		m.apply(r)
	}
	var why error
	for r := h.synced; r <= len(h.stream); r++ {
		if why = m.matches(c, h.floor); why == nil {
			h.stream = h.stream[:r]
			break
		}
		if r < len(h.stream) {
			m.apply(h.stream[r])
		}
	}
	if why != nil {
		t.Fatalf("crash image matches no durable prefix: %v\n%s", why, strings.Join(h.log, "\n"))
	}
	if err := bootable(c); err != nil {
		t.Fatalf("crash image cannot boot: %v\n%s", err, strings.Join(h.log, "\n"))
	}
	w.SetSegmentBytes(h.w.segmentBytes)
	h.w, h.synced, h.syncs = w, len(h.stream), w.Stats().Syncs
	h.log = append(h.log, fmt.Sprintf("crash: kept %d records", len(h.stream)))
}

// TestCrashImagesKeepSyncedRecords runs random Save/Sync/snapshot/release
// sequences over a faulty disk and crashes it: every crash image opens, and
// reads back exactly some prefix of what was written that includes
// everything synced.
func TestCrashImagesKeepSyncedRecords(t *testing.T) {
	var checks, tornCRC, unordered int
	rapid.Check(t, func(t *rapid.T) {
		f := disk.Faults{KeepUnsynced: prob.Of(1, 2), TornWrite: prob.Of(1, 2), DirLoss: prob.Of(1, 2)}
		h := &crashHarness{fs: newFS(rapid.Uint64().Draw(t, "seed"), f), term: 1}
		w, err := Create(h.fs, []byte("m"))
		if err != nil {
			t.Fatal(err)
		}
		w.SetSegmentBytes(int64(rapid.IntRange(600, 3000).Draw(t, "segment")))
		h.w, h.syncs = w, w.Stats().Syncs
		for range rapid.IntRange(1, 80).Draw(t, "steps") {
			switch rapid.IntRange(0, 9).Draw(t, "op") {
			case 0, 1, 2, 3:
				h.save(t, h.state())
			case 4, 5:
				if err := h.w.Sync(); err != nil {
					t.Fatal(err)
				}
				h.noteSyncs()
			case 6:
				h.snapshot(t, h.state())
			default:
				h.crash(t)
			}
		}
		h.crash(t)
		checks++
		if h.tornCRC > 0 {
			tornCRC++
		}
		if h.unordered > 0 {
			unordered++
		}
	})
	t.Logf("of %d runs, %d tore a write out of order (a sector kept after a lost one), %d cut a record "+
		"whose checksum failed over a zeroed sector", checks, unordered, tornCRC)
}

// bootable reads c as etcd's bootstrap does: from the newest snapshot
// marker at or below the durable commit (ValidSnapshotEntries), entries
// must follow without a gap (ReadAll's ErrSliceOutOfRange otherwise).
func bootable(c *Contents) error {
	from := uint64(0)
	for _, s := range c.ValidSnapshots() {
		from = max(from, s.Index)
	}
	for _, e := range c.Entries {
		if i := e.GetIndex(); i > from {
			if i != from+1 {
				return fmt.Errorf("entry %d follows snapshot %d", i, from)
			}
			break
		}
	}
	return nil
}

// TestSnapshotMarkerAloneLeavesGap is the wal-snapshot-gap finding at the
// WAL's level: a follower's marker synced alone, then the entries and the
// HardState of the same Ready torn by a crash. With the HardState saved in
// the marker's fsync, the image boots from the new snapshot.
func TestSnapshotMarkerAloneLeavesGap(t *testing.T) {
	for _, withState := range []bool{false, true} {
		fs := newFS(7, disk.Faults{TornWrite: prob.Of(1, 1)})
		w, err := Create(fs, nil)
		check(t, err)
		check(t, w.SaveSnapshot(20, 2, nil))
		check(t, w.Save(hs(3, 1, 29), ents(21, 29, 3, 100)))
		check(t, w.Sync())
		var st *raftpb.HardState
		if withState {
			st = hs(4, 1, 300)
		}
		check(t, w.SaveSnapshot(300, 4, st))
		check(t, w.Save(hs(4, 1, 332), ents(301, 339, 4, 100)))
		_, c, err := Open(fs.Crash())
		check(t, err)
		if n := len(c.Entries); n == 0 || c.Entries[n-1].GetIndex() < 301 || c.Entries[n-1].GetIndex() >= 339 {
			t.Fatalf("withState=%v: the crash should keep a torn prefix of entries 301..339, kept up to %v", withState, c.Entries[n-1].GetIndex())
		}
		err = bootable(c)
		if withState && err != nil {
			t.Fatalf("with the HardState in the marker's fsync: %v", err)
		}
		if !withState && (err == nil || !strings.Contains(err.Error(), "entry 301 follows snapshot 20")) {
			t.Fatalf("the marker alone: got %v, want entry 301 after snapshot 20", err)
		}
	}
}
