package nodes

import (
	"errors"

	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// State is the replicated state machine of a member: the MVCC store over
// a backend.Tx. Members run it over their backend; the reference state
// machine of the world runs the very same code over a backend.Mem, so that
// the two can only differ by what the member's persistence does.
type State struct {
	KV *mvcc.Store
}

// NewState returns the state of an empty store. Bug modes that change
// what apply writes (not only how it persists) change it here too, so that
// the reference state machine of a run uses the same semantics.
func NewState(bugs Bugs) *State {
	return &State{KV: mvcc.NewWithOptions(mvccOptions(bugs))}
}

// mvccOptions: compaction-rev-regress needs etcd's compaction before
// v3.5.16 (#18089), which also removed a tombstone at exactly the
// compaction revision — the record whose loss regresses the revision.
func mvccOptions(bugs Bugs) mvcc.Options {
	return mvcc.Options{DropCompactedTombstone: bugs.CompactionRevRegress}
}

// RestoreState rebuilds the state from a backend, as etcd's
// kvstore.restore does at startup, and returns an interrupted compaction
// to resume.
func RestoreState(tx backend.ReadTx, bugs Bugs) (*State, *mvcc.CompactionJob, error) {
	kv, job, err := mvcc.Restore(tx, mvcc.RestoreOptions{Options: mvccOptions(bugs), NoRevClamp: bugs.CompactionRevRegress})
	if err != nil {
		return nil, nil, err
	}
	return &State{KV: kv}, job, nil
}

// Apply runs a request taken from the log. A compaction returns its job,
// which deletes compacted revisions from the key bucket in batches.
func (s *State) Apply(tx backend.Tx, req *Request) (Result, *mvcc.CompactionJob) {
	switch req.Kind {
	case KindPut:
		return Result{Rev: s.KV.Put(tx, req.Key, req.Value, req.Lease)}, nil
	case KindDeleteRange:
		n, rev := s.KV.DeleteRange(tx, req.Key, req.End)
		return Result{Rev: rev, Deleted: n}, nil
	case KindTxn:
		resp, err := s.KV.Txn(tx, req.Txn)
		if err != nil {
			return Result{Code: codeOf(err), Rev: s.KV.Rev()}, nil
		}
		r := Result{Rev: resp.Rev, Succeeded: resp.Succeeded}
		for _, op := range resp.Responses {
			switch op.Type {
			case mvcc.OpRange:
				r.KVs, r.Count = op.Range.KVs, int64(op.Range.Count)
			case mvcc.OpDeleteRange:
				r.Deleted += op.Deleted
			}
		}
		return r, nil
	case KindCompact:
		job, err := s.KV.Compact(tx, req.Rev)
		return Result{Code: codeOf(err), Rev: s.KV.Rev()}, job
	}
	return Result{Code: ErrBadRequest, Rev: s.KV.Rev()}, nil
}

// Read serves a range from local state.
func (s *State) Read(req *Request) Result {
	rr, err := s.KV.Range(req.Key, req.End, mvcc.RangeOptions{Rev: req.Rev})
	if err != nil {
		return Result{Code: codeOf(err), Rev: s.KV.Rev()}
	}
	return Result{Rev: rr.Rev, KVs: rr.KVs, Count: int64(rr.Count)}
}

func codeOf(err error) Code {
	switch {
	case err == nil:
		return OK
	case errors.Is(err, mvcc.ErrCompacted):
		return ErrCompacted
	case errors.Is(err, mvcc.ErrFutureRev):
		return ErrFutureRev
	}
	return ErrBadRequest
}

// Digest hashes a result, for apply-determinism: members that apply the
// same entry must get the same digest.
func (r *Result) Digest() uint64 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) { h = (h ^ v) * 1099511628211 }
	mix(uint64(r.Code))
	mix(uint64(r.Rev))
	mix(uint64(r.Count))
	mix(uint64(r.Deleted))
	if r.Succeeded {
		mix(1)
	}
	for i := range r.KVs {
		kv := &r.KVs[i]
		mix(backend.RecordHash("", kv.Key, kv.Value))
		mix(uint64(kv.CreateRevision))
		mix(uint64(kv.ModRevision))
		mix(uint64(kv.Version))
		mix(uint64(kv.Lease))
	}
	return h
}
