package invariants

import (
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// undo takes back one write of the reference's apply: the record's value
// before it, or its absence.
type undo struct {
	bucket   string
	key, old []byte
	existed  bool
}

// journal is the reference's backend as its apply writes it: every write
// goes to the store and leaves how to take it back, so that the state
// after any index the reference still keeps can be rebuilt when a check
// fails (Reference.StateAt) and the evidence can name the record that
// differs. The slices it keeps are the store's own, never modified.
type journal struct {
	m           *backend.Mem
	log         *[]undo
	metaWritten *bool // set by a write to the meta bucket
}

// Get implements backend.ReadTx.
func (j journal) Get(bucket string, key []byte) ([]byte, bool) { return j.m.Get(bucket, key) }

// Range implements backend.ReadTx.
func (j journal) Range(bucket string, start, end []byte, fn func(key, value []byte) bool) {
	j.m.Range(bucket, start, end, fn)
}

// Put implements backend.Tx.
func (j journal) Put(bucket string, key, value []byte) {
	old, ok := j.m.Replace(bucket, key, value)
	*j.log = appendDoubling(*j.log, undo{bucket: bucket, key: key, old: old, existed: ok})
	if bucket == mvcc.MetaBucket {
		*j.metaWritten = true
	}
}

// Delete implements backend.Tx.
func (j journal) Delete(bucket string, key []byte) {
	if old, ok := j.m.Remove(bucket, key); ok {
		*j.log = appendDoubling(*j.log, undo{bucket: bucket, key: key, old: old, existed: true})
		if bucket == mvcc.MetaBucket {
			*j.metaWritten = true
		}
	}
}

// StateAt returns the reference state after entries 1..i: a copy of the
// current state with the writes of the entries after i taken back. It
// reports false for an index past Last or before the records kept.
func (r *Reference) StateAt(i uint64) (*backend.Mem, bool) {
	if i > r.Last() || i < r.base {
		return nil, false
	}
	from := r.undoBase // i == base: take back every write kept
	if rec, ok := r.At(i); ok {
		from = rec.UndoEnd
	}
	m := r.mem.Clone()
	for k := len(r.undo) - 1; k >= int(from-r.undoBase); k-- {
		u := &r.undo[k]
		if u.existed {
			m.Put(u.bucket, u.key, u.old)
		} else {
			m.Delete(u.bucket, u.key)
		}
	}
	return m, true
}

// forgetUndo drops the writes of the entries up to the record that ended
// at end (an absolute journal position), keeping the array.
func (r *Reference) forgetUndo(end uint64) {
	n := int(end - r.undoBase)
	kept := copy(r.undo, r.undo[n:])
	clear(r.undo[kept:])
	r.undo = r.undo[:kept]
	r.undoBase = end
}
