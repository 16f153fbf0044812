package wal

import "github.com/etcdsim/etcdsim/disk"

// Durable is what of a WAL its disk holds synced: what a crash now keeps
// at the least. The disk decides it (disk.File.DurableSize); the WAL only
// knows where each batch of records it wrote ends.
type Durable struct {
	// Term, Vote and Commit are the last HardState whose record is durable.
	Term, Vote, Commit uint64
	// Last is the index of the last entry (or snapshot marker) that a
	// durable batch wrote, with etcd's overwrite rule: a batch starting at
	// index i replaces every entry at or after i.
	Last uint64
	// Rewrite is the lowest index that a batch not yet durable writes
	// (0: none). The durable entries at or after it may still be replaced
	// by other ones, so they are durable as the member knows them only
	// below it.
	Rewrite uint64
}

// Holds reports whether entries 1..index, as the member now has them, are
// durable: a crash keeps them all, and no unsynced batch rewrites any.
func (d Durable) Holds(index uint64) bool {
	return index <= d.Last && (d.Rewrite == 0 || index < d.Rewrite)
}

// batch is one write of records to the tail, until the disk holds it.
type batch struct {
	f           *disk.File
	end         int64  // the offset in f after the batch
	first, last uint64 // the entries it holds (first 0: none)
	snap        uint64 // a snapshot marker's index, or 0
	state       hardState
	hasState    bool
}

// noteBatch remembers a batch just written to the tail, whose records
// hold the entries first..last (first 0: none), the snapshot marker snap
// (0: none) and the HardState st (when hasState).
func (w *WAL) noteBatch(first, last, snap uint64, st hardState, hasState bool) {
	end := w.segs[len(w.segs)-1].size
	if len(w.batches) >= absorbAt {
		// Syncs that lied left them all (see Sync): absorb what the disk
		// already holds, or the list grows for the whole life.
		w.absorbDurable()
	}
	w.batches = append(w.batches, batch{f: w.tail, end: end, first: first, last: last, snap: snap, state: st, hasState: hasState})
	if first != 0 && (w.rewrite == 0 || first < w.rewrite) {
		w.rewrite = first
	}
}

// absorbAt is the length of the batch list at which noteBatch absorbs its
// durable prefix itself.
const absorbAt = 64

// absorbDurable moves the batches the disk holds, oldest first, into
// w.durable. Absorbing early changes nothing Durable returns: a batch
// durable once stays durable (the tail is only appended to and synced
// during a life), and absorb depends on the batch alone.
func (w *WAL) absorbDurable() {
	k := 0
	for ; k < len(w.batches) && w.batches[k].f.DurableSize() >= w.batches[k].end; k++ {
		w.durable.absorb(&w.batches[k])
	}
	if k > 0 {
		n := copy(w.batches, w.batches[k:])
		clear(w.batches[n:])
		w.batches = w.batches[:n]
		w.rewrite = 0
		for i := range w.batches {
			if b := &w.batches[i]; b.first != 0 && (w.rewrite == 0 || b.first < w.rewrite) {
				w.rewrite = b.first
			}
		}
	}
}

// Durable returns what of w the disk holds synced now. It is asked at
// every message a member sends: Sync absorbs the batches its fsync made
// durable, so that it need not look at the disk, and the lowest index
// they rewrite (w.rewrite) is kept as they come and go instead of
// scanning them; small enough to inline.
func (w *WAL) Durable() Durable {
	d := w.durable
	d.Rewrite = w.rewrite
	return d
}

// absorb moves a batch that became durable into d.
func (d *Durable) absorb(b *batch) {
	if b.snap != 0 {
		d.Last = max(d.Last, b.snap)
	}
	if b.first != 0 {
		d.Last = b.last
	}
	if b.hasState {
		d.Term, d.Vote, d.Commit = b.state.term, b.state.vote, b.state.commit
	}
}
