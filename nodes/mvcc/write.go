package mvcc

import (
	"fmt"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// writer is one write transaction: every change takes main revision rev
// and the next sub revision (etcd's storeTxnWrite).
type writer struct {
	s       *Store
	tx      backend.Tx
	rev     int64 // main revision of this transaction's changes
	changes int64 // changes so far: the next sub revision
	// moves, when set, collects the keys whose lease the writes change.
	moves *[]LeaseMove
}

// LeaseMove is a key whose lease a write changed: a put detaches the key
// from the lease of the version it replaces and attaches it to its own, a
// delete detaches it (etcd's storeTxnWrite.put and delete call the lessor's
// Detach and Attach with what the write itself looked up). Old and New are
// never equal; either may be 0, no lease. Key is the index's copy.
type LeaseMove struct {
	Key      []byte
	Old, New int64
}

// moved records a lease move, if the writer collects them.
func (w *writer) moved(key []byte, old, new int64) {
	if w.moves != nil && old != new {
		*w.moves = append(*w.moves, LeaseMove{Key: key, Old: old, New: new})
	}
}

func (s *Store) beginWrite(tx backend.Tx) writer {
	return writer{s: s, tx: tx, rev: s.currentRev + 1}
}

// readRev is the revision a read inside the transaction sees: its own
// changes included (etcd storeTxnWrite.Range).
func (w *writer) readRev() int64 {
	if w.changes > 0 {
		return w.rev
	}
	return w.rev - 1
}

// end commits the transaction to the store's revision: only a transaction
// that changed something takes a revision (etcd storeTxnWrite.End).
func (w *writer) end() int64 {
	if w.changes > 0 {
		w.s.currentRev = w.rev
	}
	return w.s.currentRev
}

// put writes a new version of key (etcd storeTxnWrite.put): the creation
// revision and version carry on from a live key.
func (w *writer) put(key, value []byte, lease int64) {
	ki := w.s.index.lookup(key)
	created, version, oldLease := w.rev, int64(1), int64(0)
	if ki != nil {
		if e, c, ver, ok := ki.get(w.rev); ok {
			created, version = c, ver+1
			oldLease = recordLease(e.rec)
		}
	}
	rev := revision{w.rev, w.changes}
	// One piece holds the bucket key and the record; the backend keeps
	// both, and the index keeps the record.
	buf := w.s.take(revBytesLen + recordSize(key, value))
	buf = appendRevBytes(buf, rev, false)
	buf = appendRecordOf(buf, key, created, w.rev, version, lease, value)
	rec := buf[revBytesLen:]
	w.tx.Put(KeyBucket, buf[:revBytesLen:revBytesLen], rec)
	if ki == nil {
		ki = newKeyIndex(key)
		w.s.index.insert(ki)
	}
	ki.put(rev, rec)
	w.s.setLive(ki, liveHash(rec))
	w.changes++
	w.moved(ki.key, oldLease, lease)
}

// deleteRange writes a tombstone for every key of the range live at the
// transaction's read revision (etcd storeTxnWrite.deleteRange); with prev
// it also returns the deleted versions.
func (w *writer) deleteRange(key, end []byte, prev bool) (n int64, prevKVs []KeyValue) {
	at := w.readRev()
	w.s.eachKey(key, end, func(ki *keyIndex) bool {
		e, _, _, ok := ki.get(at)
		if !ok {
			return true
		}
		if prev {
			prevKVs = append(prevKVs, mustDecode(e.rec))
		}
		w.moved(ki.key, recordLease(e.rec), 0)
		w.tombstone(ki)
		n++
		return true
	})
	return n, prevKVs
}

// tombstone deletes a live key (etcd storeTxnWrite.delete): the record is
// the key alone, under a revision key marked 't'.
func (w *writer) tombstone(ki *keyIndex) {
	rev := revision{w.rev, w.changes}
	buf := w.s.take(markedRevBytesLen + recordSize(ki.key, nil))
	buf = appendRevBytes(buf, rev, true)
	buf = appendRecordOf(buf, ki.key, 0, 0, 0, 0, nil)
	w.tx.Put(KeyBucket, buf[:markedRevBytesLen:markedRevBytesLen], buf[markedRevBytesLen:])
	if err := ki.tombstone(rev); err != nil {
		panic(fmt.Sprintf("mvcc: delete of a live key: %v", err))
	}
	w.s.setLive(ki, 0)
	w.changes++
}

// Slabs: the bytes of the bucket keys and records that writes make are
// cut from blocks, one allocation per block instead of one per write.
// A block lives while one of its records does; records written together
// mostly die together (the key bucket's, compacted in revision order), and
// a live one keeps at most a block. Blocks start small and double, so that
// a store that writes little (a restored one before its crash) does not
// allocate a whole one; a piece too large for a block is allocated alone.
const (
	minSlab  = 512
	maxSlab  = 4096
	maxPiece = maxSlab / 8
)

// take returns an empty slice of capacity n, which nothing else uses: its
// capacity ends at n, so an append to it copies.
func (s *Store) take(n int) []byte {
	if n > maxPiece {
		return make([]byte, 0, n)
	}
	if cap(s.slab)-len(s.slab) < n {
		s.slab = make([]byte, 0, min(max(2*cap(s.slab), minSlab), maxSlab))
	}
	i := len(s.slab)
	s.slab = s.slab[:i+n]
	return s.slab[i : i : i+n]
}

// Put writes key=value with a lease (0 for none) in a transaction of its
// own and returns its revision.
func (s *Store) Put(tx backend.Tx, key, value []byte, lease int64) int64 {
	w := s.beginWrite(tx)
	w.put(key, value, lease)
	return w.end()
}

// PutScratch is Put for an apply (etcd's applier Put: a write transaction
// of one put, not a txn), which also returns the lease moves the put made:
// what TxnScratch returns for a txn of that one put, with no compares,
// ranges or prevKV to check or answer. The moves live in the store, as
// TxnScratch's, until its next TxnScratch or PutScratch.
func (s *Store) PutScratch(tx backend.Tx, key, value []byte, lease int64) (rev int64, moves []LeaseMove) {
	clear(s.moves)
	s.moves = s.moves[:0]
	w := s.beginWrite(tx)
	w.moves = &s.moves
	w.put(key, value, lease)
	return w.end(), s.moves
}

// DeleteRange deletes the live keys of the range (see Range) in a
// transaction of its own. It returns how many it deleted and the store
// revision after it, unchanged if nothing was deleted.
func (s *Store) DeleteRange(tx backend.Tx, key, end []byte) (deleted, rev int64) {
	w := s.beginWrite(tx)
	n, _ := w.deleteRange(key, end, false)
	return n, w.end()
}
