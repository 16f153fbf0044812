package nodes

import (
	"errors"

	"github.com/etcdsim/etcdsim/nodes/auth"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/lease"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// State is the replicated state machine of a member: the MVCC store, the
// auth store and the lessor over a backend.Tx. Members run it over their
// backend; the reference state machine of the world runs the very same
// code over a backend.Mem, so that the two can only differ by what the
// member's persistence (or a bug mode) does.
type State struct {
	KV    *mvcc.Store
	Auth  *auth.Store
	Lease *lease.Lessor
	// Cluster is the membership (etcd's RaftCluster); empty unless the
	// world models membership.
	Cluster *Cluster
	bugs    Bugs
	// oldVersion marks the member of etcd 3.2 in a mixed cluster under
	// lease-revoke-no-auth (#11689): it applies lease revokes unchecked.
	oldVersion bool
}

// NewState returns the state of an empty store. Bug modes that change
// what apply writes (not only how it persists) change it here too, so that
// the reference state machine of a run uses the same semantics.
func NewState(bugs Bugs) *State {
	return &State{
		KV:      mvcc.NewWithOptions(mvccOptions(bugs)),
		Auth:    auth.NewWithOptions(authOptions(bugs)),
		Lease:   lease.New(),
		Cluster: &Cluster{MaxLearners: DefaultMaxLearners, bugs: bugs},
		bugs:    bugs,
	}
}

// mvccOptions: compaction-rev-regress needs etcd's compaction before
// v3.5.16 (#18089), which also removed a tombstone at exactly the
// compaction revision — the record whose loss regresses the revision.
func mvccOptions(bugs Bugs) mvcc.Options {
	return mvcc.Options{DropCompactedTombstone: bugs.CompactionRevRegress}
}

// authOptions: perm-cache-stale skips the cache refresh at startup and
// snapshot recovery (#14355, #14571); auth-ci restores the revision bump
// of an identical permission grant that PR 11652 removed.
func authOptions(bugs Bugs) auth.Options {
	return auth.Options{NoCacheRefresh: bugs.PermCacheStale, OldGrantBumps: bugs.AuthCI}
}

// RestoreState rebuilds the state from a backend, as etcd's startup does
// (kvstore.restore, NewAuthStore, lessor initAndRecover, which attaches
// keys to their leases), and returns an interrupted compaction to resume.
func RestoreState(tx backend.ReadTx, bugs Bugs) (*State, *mvcc.CompactionJob, error) {
	kv, job, err := mvcc.Restore(tx, mvcc.RestoreOptions{Options: mvccOptions(bugs), NoRevClamp: bugs.CompactionRevRegress})
	if err != nil {
		return nil, nil, err
	}
	as, err := auth.Restore(tx, authOptions(bugs))
	if err != nil {
		return nil, nil, err
	}
	le, err := lease.Restore(tx)
	if err != nil {
		return nil, nil, err
	}
	cl, err := loadCluster(tx, bugs)
	if err != nil {
		return nil, nil, err
	}
	s := &State{KV: kv, Auth: as, Lease: le, Cluster: cl, bugs: bugs}
	// etcd's kvstore.restore attaches every live key with a lease to it
	// (keyToLease), read from the index here instead of a Range's copies.
	kv.EachLease(func(key []byte, id int64) { _ = le.Attach(id, key) })
	return s, job, nil
}

// Apply runs a request taken from the log, after the permission checks of
// etcd's authApplierV3. A compaction returns its job, which deletes
// compacted revisions from the key bucket in batches.
func (s *State) Apply(tx backend.Tx, req *Request) (Result, *mvcc.CompactionJob) {
	if err := s.permitted(req); err != nil {
		return Result{Code: codeOf(err), Rev: s.KV.Rev()}, nil
	}
	switch {
	case req.Kind.IsAuth():
		return Result{Code: codeOf(s.applyAuth(tx, req)), Rev: s.KV.Rev()}, nil
	case req.Kind == KindLeaseGrant:
		err := s.Lease.Grant(tx, req.Lease, req.TTL)
		ttl, _ := s.Lease.TTL(req.Lease)
		return Result{Code: codeOf(err), Rev: s.KV.Rev(), TTL: ttl}, nil
	case req.Kind == KindLeaseRevoke:
		return s.revoke(tx, req.Lease), nil
	case req.Kind == KindCompact:
		job, err := s.KV.Compact(tx, req.Rev)
		return Result{Code: codeOf(err), Rev: s.KV.Rev()}, job
	case req.Kind == KindClusterVersion:
		s.Cluster.SetVersion(tx, req.Name, true)
		return Result{Rev: s.KV.Rev()}, nil
	case req.Kind == KindPublish:
		// etcd's ClusterMemberAttrSet: the member's attributes (its name
		// and client URLs) in the membership, when the world models it.
		if req.MemberID != 0 {
			s.Cluster.UpdateAttributes(tx, req.MemberID, req.Name, []string{req.PeerURL}, true, func() {})
		}
		return Result{Rev: s.KV.Rev()}, nil
	}
	return s.applyKV(tx, req), nil
}

// applyKV runs put, delete-range and txn, keeping lease attachments in
// step with the keys as etcd's kvstore does: each write detaches its key
// from the old lease and attaches it to the new one (the store reports
// the moves its writes made, from the versions they looked up anyway).
func (s *State) applyKV(tx backend.Tx, req *Request) Result {
	if req.Kind == KindPut {
		return s.put(tx, req)
	}
	txn, ok := asTxn(req)
	if !ok {
		return Result{Code: ErrBadRequest, Rev: s.KV.Rev()}
	}
	succeeded := s.KV.TxnSucceeds(txn)
	branch := txn.Failure
	if succeeded {
		branch = txn.Success
	}
	for i := range branch {
		if op := &branch[i]; op.Type == mvcc.OpPut && op.Lease != 0 && !s.Lease.Lookup(op.Lease) {
			return Result{Code: ErrLeaseNotFound, Rev: s.KV.Rev()}
		}
	}
	resp, err := s.KV.TxnScratch(tx, txn, succeeded) // read below, before the next
	if err != nil {
		return Result{Code: codeOf(err), Rev: s.KV.Rev()}
	}
	s.reattach(resp.LeaseMoves)
	r := Result{Rev: resp.Rev, Succeeded: resp.Succeeded}
	for i := range resp.Responses {
		switch op := &resp.Responses[i]; op.Type {
		case mvcc.OpRange:
			r.KVs, r.Count = op.Range.KVs, int64(op.Range.Count)
		case mvcc.OpDeleteRange:
			r.Deleted += op.Deleted
		}
	}
	return r
}

// put is applyKV of a put: what a txn of the one put does, without a
// txn's compares, branch and responses (it always succeeds, if the lease
// exists; etcd's applier runs a put in a write transaction of its own).
func (s *State) put(tx backend.Tx, req *Request) Result {
	if req.Lease != 0 && !s.Lease.Lookup(req.Lease) {
		return Result{Code: ErrLeaseNotFound, Rev: s.KV.Rev()}
	}
	rev, moves := s.KV.PutScratch(tx, req.Key, req.Value, req.Lease)
	s.reattach(moves)
	return Result{Rev: rev, Succeeded: true}
}

// asTxn expresses a delete-range as the one-op txn it is (put runs
// alone, see put).
func asTxn(req *Request) (mvcc.TxnRequest, bool) {
	switch req.Kind {
	case KindDeleteRange:
		return mvcc.TxnRequest{Success: []mvcc.Op{{Type: mvcc.OpDeleteRange, Key: req.Key, End: req.End}}}, true
	case KindTxn:
		return req.Txn, true
	}
	return mvcc.TxnRequest{}, false
}

// reattach moves each written key from its old lease to its new one.
func (s *State) reattach(moves []mvcc.LeaseMove) {
	for _, mv := range moves {
		if mv.Old != 0 {
			s.Lease.Detach(mv.Old, mv.Key)
		}
		if mv.New != 0 {
			_ = s.Lease.Attach(mv.New, mv.Key)
		}
	}
}

// revoke is lessor.Revoke: the lease goes, and its keys are deleted in one
// write txn (one revision).
func (s *State) revoke(tx backend.Tx, id int64) Result {
	keys, err := s.Lease.Revoke(tx, id)
	if err != nil {
		return Result{Code: codeOf(err), Rev: s.KV.Rev()}
	}
	if len(keys) == 0 {
		return Result{Rev: s.KV.Rev()}
	}
	ops := make([]mvcc.Op, len(keys))
	for i, k := range keys {
		ops[i] = mvcc.Op{Type: mvcc.OpDeleteRange, Key: k}
	}
	resp, err := s.KV.TxnScratch(tx, mvcc.TxnRequest{Success: ops}, true) // no compares
	if err != nil {
		return Result{Code: codeOf(err), Rev: s.KV.Rev()}
	}
	return Result{Rev: resp.Rev, Deleted: int64(len(keys))}
}

// Read serves a range from local state, with the read permission check.
func (s *State) Read(req *Request) Result {
	if err := s.Auth.IsRangePermitted(req.User, req.AuthRevision, req.Key, req.End); err != nil {
		return Result{Code: codeOf(err), Rev: s.KV.Rev()}
	}
	rr, err := s.KV.Range(req.Key, req.End, mvcc.RangeOptions{Rev: req.Rev, Limit: req.Limit, KeysOnly: req.KeysOnly, CountOnly: req.CountOnly})
	if err != nil {
		return Result{Code: codeOf(err), Rev: s.KV.Rev()}
	}
	return Result{Rev: rr.Rev, KVs: rr.KVs, Count: int64(rr.Count)}
}

// CodeOf returns the outcome code of an error of the apply, the auth
// store or the lessor.
func CodeOf(err error) Code { return codeOf(err) }

func codeOf(err error) Code {
	if err == nil {
		return OK
	}
	// The store's errors come back unwrapped: find them by identity before
	// asking errors.Is, in the same order, of the wrapped ones.
	for i := range errCodes {
		if err == errCodes[i].err {
			return errCodes[i].code
		}
	}
	for i := range errCodes {
		if errors.Is(err, errCodes[i].err) {
			return errCodes[i].code
		}
	}
	return ErrBadRequest
}

// errCodes maps the errors of the apply, the auth store and the lessor
// to outcome codes; the first that an error Is decides.
var errCodes = []struct {
	err  error
	code Code
}{
	{mvcc.ErrCompacted, ErrCompacted}, {mvcc.ErrFutureRev, ErrFutureRev},
	{auth.ErrAuthOldRevision, ErrAuthOld}, {auth.ErrUserEmpty, ErrUserEmpty},
	{auth.ErrPermissionDenied, ErrPermission}, {auth.ErrAuthFailed, ErrAuthFailed},
	{lease.ErrLeaseNotFound, ErrLeaseNotFound}, {lease.ErrLeaseExists, ErrLeaseExists},
	// Auth management refusals.
	{auth.ErrRootUserNotExist, ErrAuthMgmt}, {auth.ErrRootRoleNotExist, ErrAuthMgmt},
	{auth.ErrUserAlreadyExist, ErrAuthMgmt}, {auth.ErrUserNotFound, ErrAuthMgmt},
	{auth.ErrRoleAlreadyExist, ErrAuthMgmt}, {auth.ErrRoleNotFound, ErrAuthMgmt},
	{auth.ErrRoleNotGranted, ErrAuthMgmt}, {auth.ErrPermissionNotGranted, ErrAuthMgmt},
	{auth.ErrAuthNotEnabled, ErrAuthMgmt}, {auth.ErrInvalidAuthMgmt, ErrAuthMgmt},
	{auth.ErrRoleEmpty, ErrAuthMgmt},
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
	mix(uint64(r.TTL))
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
