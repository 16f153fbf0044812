package invariants

import (
	"encoding/binary"
	"fmt"
	"slices"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/auth"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// Record is what the reference knows of one log index.
type Record struct {
	Term      uint64
	Data      uint64 // hash of the entry's bytes
	Rev       int64
	CompactRe int64
	KVHash    uint64
	KeyHash   uint64 // comparable hash of the key bucket after the entry
	Other     uint64 // comparable hash of every other bucket
	AuthRev   uint64
	AuthCache uint64 // hash of the permission cache
	AuthData  uint64 // hash of the auth buckets
	LeaseHash uint64
	Conf      uint64 // nodes.ConfDigest of raft's configuration after the entry (membership worlds)
	Out       nodes.Outcome
	Ran       bool   // the entry carried a request
	ReqID     uint64 // its request's ID
	UndoEnd   uint64 // the reference's journal position after the entry (see StateAt)
}

// Reference is the reference state machine.
type Reference struct {
	mem   *backend.Mem
	state *nodes.State
	recs  []Record // recs[i] is index base+i+1
	base  uint64   // the records up to base are forgotten
	// undo takes back the writes of the entries after base, oldest first;
	// undoBase is the journal position of undo[0].
	undo     []undo
	undoBase uint64
	// tx is the journal the apply writes through, one for the reference's
	// life: passing a journal value as a backend.Tx would allocate a copy
	// for every entry.
	tx *journal
	// metaExcl is the sum of the excluded records' hashes in the
	// reference's state (see stateHashes), as of when metaWritten, set by
	// every write to the meta bucket, was last cleared.
	metaExcl    uint64
	metaWritten bool
	// Decoded, when set, shares the members' decodings of entries.
	Decoded *nodes.Decoded
	// Applied, when set, is told of every request the reference applies
	// and what applying it returned: the fate of a request in the
	// committed log, which settles writes whose client gave up on them.
	Applied func(req *nodes.Request, res nodes.Result)

	// Membership: the world models membership (see EnableMembership).
	Membership bool
	// ConfApplied, when set, is told of every conf change the reference
	// applies, with the membership's verdict (nil: taken).
	ConfApplied func(index uint64, cc *raftpb.ConfChange, err error)
	members
}

// NewReference returns the reference of an empty cluster of the correct
// model.
func NewReference() *Reference { return NewReferenceFor(nodes.Bugs{}) }

// NewReferenceFor returns the reference with the apply semantics of the
// given bug modes (see nodes.NewState).
func NewReferenceFor(bugs nodes.Bugs) *Reference {
	r := &Reference{mem: backend.NewMem(), state: nodes.NewState(bugs), metaWritten: true}
	r.tx = &journal{m: r.mem, log: &r.undo, metaWritten: &r.metaWritten}
	return r
}

// Last returns the last index applied.
func (r *Reference) Last() uint64 { return r.base + uint64(len(r.recs)) }

// At returns the record of index i; none for 0, an index past Last, or a
// forgotten one (see Forgotten).
func (r *Reference) At(i uint64) (*Record, bool) {
	if i <= r.base || i > r.Last() {
		return nil, false
	}
	return &r.recs[i-r.base-1], true
}

// Kept returns how many records the reference holds.
func (r *Reference) Kept() int { return len(r.recs) }

// Forgotten reports whether the record of index i was dropped by Forget.
func (r *Reference) Forgotten(i uint64) bool { return i != 0 && i <= r.base }

// Forget drops the records of indexes up to upTo, which no check can need
// any more, so that the reference stays as long as the window members can
// still commit, apply or restart into. The kept records move to the front
// of the same array, which therefore stays the size of the widest window;
// so that moving them costs less than appending them did, nothing is
// dropped unless at least half the records go.
func (r *Reference) Forget(upTo uint64) {
	if upTo <= r.base {
		return
	}
	n := int(min(upTo, r.Last()) - r.base)
	if n == 0 || 2*n < len(r.recs) {
		return
	}
	r.forgetUndo(r.recs[n-1].UndoEnd)
	kept := copy(r.recs, r.recs[n:])
	clear(r.recs[kept:])
	r.recs = r.recs[:kept]
	r.base += uint64(n)
}

// Append applies the next committed entry.
func (r *Reference) Append(e *raftpb.Entry) error {
	if e.GetIndex() != r.Last()+1 {
		return fmt.Errorf("invariants: reference at %d given index %d", r.Last(), e.GetIndex())
	}
	rec := Record{Term: e.GetTerm(), Data: r.Decoded.Sum(e.Data)}
	if e.GetType() == raftpb.EntryConfChange && r.Membership {
		r.metaWritten = true // the membership writes the store itself
		if err := r.applyConf(e); err != nil {
			return err
		}
	}
	if e.GetType() == raftpb.EntryNormal && len(e.Data) > 0 {
		if req, err := r.Decoded.Decode(e.Data); err == nil {
			if r.Membership && req.Kind.IsAuth() {
				defer r.noteAuth()
			}
			tx := r.tx
			res, job := r.state.Apply(tx, req)
			if job != nil {
				job.Run(tx)
			}
			rec.Out = nodes.OutcomeOf(req.Kind, &res)
			rec.ReqID = req.ID
			rec.Ran = true
			if r.Applied != nil {
				r.Applied(req, res)
			}
		}
	}
	kv := r.state.KV
	rec.Rev, rec.CompactRe, rec.KVHash = kv.Rev(), kv.CompactRev(), kv.KVHash()
	rec.AuthRev, rec.AuthCache = r.state.Auth.Revision(), r.state.Auth.CacheHash()
	rec.LeaseHash = r.state.Lease.Hash()
	rec.Conf = r.confDigest
	if r.metaWritten {
		// Only a compaction or a membership change writes the reference's
		// meta bucket (it has no consistent index): its excluded records
		// rarely change.
		r.metaExcl, _ = metaExcluded(r.mem)
		r.metaWritten = false
	}
	key, other, authData := bucketHashes(r.mem)
	rec.KeyHash, rec.Other, rec.AuthData = key, other-r.metaExcl, authData
	rec.UndoEnd = r.undoBase + uint64(len(r.undo))
	r.recs = appendDoubling(r.recs, rec)
	return nil
}

// appendDoubling is append, doubling the capacity of a full slice: append
// grows a large slice by only a quarter, so the records (176 bytes each)
// and the undo journal were copied several times over as they grew to
// their window.
func appendDoubling[T any](s []T, x T) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 64))
	}
	return append(s, x)
}

// excluded are the meta records no reference can predict: the consistent
// index and term (written by each member's pre-commit hook) and the
// finished-compaction marker (written by each member's background job).
// The consistent index comes first. stateHashes' switch names the same
// records (TestStateHashCIMatchesRecomputation holds the two together).
var excluded = [][]byte{[]byte(nodes.KeyCI), []byte(nodes.KeyTerm), []byte(mvcc.FinishedCompactKey)}

// StateHash returns the comparable hash of a backend state: the key
// bucket's, and every other bucket's without the excluded meta records.
func StateHash(m *backend.Mem) (key, other uint64) {
	key, other, _ = stateHashCI(m)
	return key, other
}

// stateHashCI is StateHash, also returning the consistent index the state
// holds (MetaIndex), which is one of the excluded records: one pass over
// the meta bucket (a handful of records: the consistent index and term,
// the compaction markers) finds the excluded ones and serves both, and
// each record's hash is the one the store kept since its Put.
func stateHashCI(m *backend.Mem) (key, other, ci uint64) {
	key, other, _, ci = stateHashes(m)
	return key, other, ci
}

// stateHashes is stateHashCI and AuthHash from one pass over the buckets
// (the reference takes all three after every entry): the same sums, each
// bucket's hash being the one the store keeps up to date.
func stateHashes(m *backend.Mem) (key, other, authData, ci uint64) {
	key, other, authData = bucketHashes(m)
	excl, ci := metaExcluded(m)
	return key, other - excl, authData, ci
}

// bucketHashes returns the key bucket's hash, the sum of every other
// bucket's, and the auth buckets' (AuthHash).
func bucketHashes(m *backend.Mem) (key, other, authData uint64) {
	m.EachBucket(func(name string, sum uint64) {
		switch name {
		case mvcc.KeyBucket:
			key = sum
			return
		case auth.AuthBucket, auth.UsersBucket, auth.RolesBucket:
			authData += sum
		}
		other += sum
	})
	return key, other, authData
}

// metaExcluded returns the sum of the hashes of the excluded records a
// state holds (all in the meta bucket), and the consistent index.
func metaExcluded(m *backend.Mem) (sum, ci uint64) {
	m.EachRecord(mvcc.MetaBucket, func(k, v []byte, h uint64) {
		// the excluded records (a switch on string(k) neither allocates
		// nor compares k with each of them byte by byte)
		switch string(k) {
		case nodes.KeyCI:
			sum += h
			if len(v) == 8 {
				ci = binary.BigEndian.Uint64(v)
			}
		case nodes.KeyTerm, mvcc.FinishedCompactKey:
			sum += h
		}
	})
	return sum, ci
}

// AuthHash returns the hash of the auth buckets of a backend state.
func AuthHash(m *backend.Mem) uint64 {
	return m.BucketHash(auth.AuthBucket) + m.BucketHash(auth.UsersBucket) + m.BucketHash(auth.RolesBucket)
}

// MetaIndex reads the consistent index stored in a backend state.
func MetaIndex(m *backend.Mem) uint64 {
	v, ok := m.Get(mvcc.MetaBucket, []byte(nodes.KeyCI))
	if !ok || len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}
