package nodes

import (
	"encoding/binary"
	"fmt"

	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// Kind is the kind of a client request, the subset of etcd's
// InternalRaftRequest this model proposes.
type Kind uint8

// The request kinds. Range and Defrag are served locally (Range through
// ReadIndex when linearizable); the others are proposed through raft.
const (
	KindPut Kind = iota + 1
	KindDeleteRange
	KindTxn
	KindRange
	KindCompact
	KindDefrag
	KindLeaseGrant
	KindLeaseRevoke
	KindLeaseKeepAlive // served by the leader's lessor, not proposed
	KindAuthEnable
	KindAuthDisable
	KindUserAdd
	KindUserDelete
	KindUserChangePassword
	KindUserGrantRole
	KindUserRevokeRole
	KindRoleAdd
	KindRoleDelete
	KindRoleGrantPermission
	KindRoleRevokePermission
	KindAuthenticate // checked against local state, not proposed
	KindPublish      // a member announcing itself after start (etcd's publishV3)
	// The cluster API (etcd's Cluster service): member changes become raft
	// ConfChanges; MemberList is served after a ReadIndex.
	KindMemberAdd     // MemberAdd (Learner: as a learner)
	KindMemberPromote // MemberPromote
	KindMemberRemove  // MemberRemove
	KindMemberUpdate  // MemberUpdate (its peer URLs)
	KindMemberList    // MemberList (linearizable, as etcd 3.6's default)
	// KindClusterVersion is etcd's ClusterVersionSet, proposed by the
	// leader (monitorClusterVersions); Name is the version.
	KindClusterVersion
	// KindLeaseTimeToLive is served by the leader's lessor (etcd forwards
	// it to the leader, leasehttp); KindLeaseLeases by the local lessor
	// (etcd's LeaseLeases). Neither is proposed.
	KindLeaseTimeToLive
	KindLeaseLeases
)

var kindNames = [...]string{"", "put", "delete", "txn", "range", "compact", "defrag",
	"lease-grant", "lease-revoke", "lease-keepalive", "auth-enable", "auth-disable",
	"user-add", "user-delete", "user-passwd", "user-grant", "user-revoke",
	"role-add", "role-delete", "role-grant", "role-revoke", "authenticate", "publish",
	"member-add", "member-promote", "member-remove", "member-update", "member-list", "cluster-version",
	"lease-ttl", "lease-list"}

// IsMember reports whether k is a request of the cluster API.
func (k Kind) IsMember() bool { return k >= KindMemberAdd && k <= KindMemberList }

// IsAuth reports whether k is an auth mutation.
func (k Kind) IsAuth() bool { return k >= KindAuthEnable && k <= KindRoleRevokePermission }

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Request is a client request as it travels in a raft entry: etcd's
// InternalRaftRequest with its header (ID, user, AuthRevision).
type Request struct {
	ID           uint64 // unique per request; the proposer's waiter key
	Kind         Kind
	Key, End     []byte
	Value        []byte
	Lease        int64
	Rev          int64  // range revision, or the compaction revision
	TTL          int64  // lease grant
	Serializable bool   // a range served from local state
	Name, Role   string // auth: the user and role operated on
	Password     string
	Perm         uint8 // auth: the permission type granted (auth.PermType)
	Txn          mvcc.TxnRequest
	User         string
	AuthRevision uint64
	// The cluster API's member (and a publish's member ID and client URL,
	// in worlds that model membership). They follow the other fields on the
	// wire only when set, so that every other request encodes as before.
	MemberID uint64
	PeerURL  string
	Learner  bool
	// A range's options (etcd's RangeRequest limit, keys_only, count_only).
	Limit               int64
	KeysOnly, CountOnly bool
}

// Encode returns the wire form of r.
func (r *Request) Encode() []byte {
	e := enc{b: make([]byte, 0, 32+len(r.Key)+len(r.Value))}
	e.u(r.ID)
	e.u(uint64(r.Kind))
	e.bytes(r.Key)
	e.bytes(r.End)
	e.bytes(r.Value)
	e.i(r.Lease)
	e.i(r.Rev)
	e.i(r.TTL)
	e.bool(r.Serializable)
	e.str(r.Name)
	e.str(r.Role)
	e.str(r.Password)
	e.u(uint64(r.Perm))
	e.u(uint64(len(r.Txn.Compares)))
	for i := range r.Txn.Compares {
		c := &r.Txn.Compares[i]
		e.bytes(c.Key)
		e.bytes(c.RangeEnd)
		e.u(uint64(c.Target))
		e.u(uint64(c.Result))
		e.i(c.Version)
		e.i(c.CreateRevision)
		e.i(c.ModRevision)
		e.i(c.Lease)
		e.bytes(c.Value)
	}
	encodeOps(&e, r.Txn.Success)
	encodeOps(&e, r.Txn.Failure)
	e.str(r.User)
	e.u(r.AuthRevision)
	// Two optional trailers, each only when set, so that every other
	// request encodes as before: a range's options, then the cluster API's
	// member (a member request writes zero range options before it).
	member := r.MemberID != 0 || r.PeerURL != "" || r.Learner
	if r.Limit != 0 || r.KeysOnly || r.CountOnly || member {
		e.i(r.Limit)
		e.bool(r.KeysOnly)
		e.bool(r.CountOnly)
	}
	if member {
		e.u(r.MemberID)
		e.str(r.PeerURL)
		e.bool(r.Learner)
	}
	return e.b
}

func encodeOps(e *enc, ops []mvcc.Op) {
	e.u(uint64(len(ops)))
	for i := range ops {
		o := &ops[i]
		e.u(uint64(o.Type))
		e.bytes(o.Key)
		e.bytes(o.End)
		e.bytes(o.Value)
		e.i(o.Lease)
		e.bool(o.PrevKV)
		e.i(o.Range.Rev)
		e.i(o.Range.Limit)
		e.bool(o.Range.CountOnly)
		e.bool(o.Range.KeysOnly)
	}
}

// txnBlock is a decoded transaction with room for the common shape (one
// compare, one operation each way: the default mix's compare-and-swap),
// so that the request and its three slices are one allocation.
type txnBlock struct {
	r   Request
	cmp [1]mvcc.Compare
	ops [2]mvcc.Op
}

// DecodeRequest reads a request; its byte fields alias p.
func DecodeRequest(p []byte) (*Request, error) {
	d := dec{b: p}
	id, kind := d.u(), Kind(d.u())
	var r *Request
	var blk *txnBlock
	if kind == KindTxn {
		blk = new(txnBlock)
		r = &blk.r
	} else {
		r = new(Request)
	}
	r.ID, r.Kind = id, kind
	r.Key, r.End, r.Value = d.bytes(), d.bytes(), d.bytes()
	var nc uint64
	if b := d.b; fastPaths && len(b) >= 9 && binary.LittleEndian.Uint64(b) == 0 && b[8] == 0 {
		// Lease, Rev, TTL, Serializable, Name, Role, Password, Perm and
		// the number of compares, one zero byte each (most requests):
		// the zeros the reads below would return.
		d.b = b[9:]
	} else {
		r.Lease, r.Rev, r.TTL = d.i(), d.i(), d.i()
		r.Serializable = d.bool()
		r.Name, r.Role, r.Password = d.str(), d.str(), d.str()
		r.Perm = uint8(d.u())
		nc = d.u()
	}
	var spare []mvcc.Op
	if blk != nil {
		spare = blk.ops[:]
	}
	if n := nc; n > 0 && n <= uint64(len(d.b)) {
		if blk != nil && n <= uint64(len(blk.cmp)) {
			r.Txn.Compares = blk.cmp[:n:n]
		} else {
			r.Txn.Compares = make([]mvcc.Compare, n)
		}
		for i := range r.Txn.Compares {
			c := &r.Txn.Compares[i]
			c.Key, c.RangeEnd = d.bytes(), d.bytes()
			c.Target, c.Result = mvcc.CompareTarget(d.u()), mvcc.CompareResult(d.u())
			c.Version, c.CreateRevision, c.ModRevision, c.Lease = d.i(), d.i(), d.i(), d.i()
			c.Value = d.bytes()
		}
	}
	if b := d.b; fastPaths && len(b) >= 2 && b[0] == 0 && b[1] == 0 {
		d.b = b[2:] // no operations in either branch (all but txns)
	} else {
		r.Txn.Success, spare = decodeOps(&d, spare)
		r.Txn.Failure, _ = decodeOps(&d, spare)
	}
	r.User = d.str()
	r.AuthRevision = d.u()
	if d.err == nil && len(d.b) != 0 { // a range's options, when it has any
		r.Limit, r.KeysOnly, r.CountOnly = d.i(), d.bool(), d.bool()
	}
	if d.err == nil && len(d.b) != 0 {
		r.MemberID, r.PeerURL, r.Learner = d.u(), d.str(), d.bool()
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errShort
	}
	return r, d.err
}

// decodeOps reads a list of operations into the front of spare when they
// fit, and returns spare's rest.
func decodeOps(d *dec, spare []mvcc.Op) ([]mvcc.Op, []mvcc.Op) {
	n := d.u()
	if n == 0 || n > uint64(len(d.b)) {
		return nil, spare
	}
	var ops []mvcc.Op
	if n <= uint64(len(spare)) {
		ops, spare = spare[:n:n], spare[n:]
	} else {
		ops = make([]mvcc.Op, n)
	}
	for i := range ops {
		o := &ops[i]
		o.Type = mvcc.OpType(d.u())
		o.Key, o.End, o.Value = d.bytes(), d.bytes(), d.bytes()
		o.Lease = d.i()
		o.PrevKV = d.bool()
		o.Range.Rev, o.Range.Limit = d.i(), d.i()
		o.Range.CountOnly, o.Range.KeysOnly = d.bool(), d.bool()
	}
	return ops, spare
}

// Code is the outcome class of an applied or served request, the subset
// of etcd's errors that the model produces.
type Code uint8

// Outcome codes.
const (
	OK Code = iota
	ErrCompacted
	ErrFutureRev
	ErrNoLeader   // proposal dropped: no leader known
	ErrStopped    // the member is defragmenting or shutting down
	ErrAuthOld    // ErrAuthOldRevision
	ErrPermission // permission denied
	ErrUserEmpty
	ErrLeaseNotFound
	ErrAuthFailed
	ErrBadRequest
	ErrAuthMgmt // an auth mutation refused (exists, not found, not granted, no root)
	ErrLeaseExists
	ErrNotLeader // a keep-alive reached a member that does not lead
	// ErrUnavailable: the member does not serve clients yet (etcd before
	// ReadyNotify), or its process is not running (a refused connection,
	// gRPC Unavailable). Either way it never saw the request.
	ErrUnavailable
	// The cluster API's refusals, as etcd's gRPC errors name them.
	ErrMemberNotFound         // membership.ErrIDNotFound, ErrIDRemoved (NotFound)
	ErrMemberExists           // membership.ErrIDExists
	ErrPeerURLExists          // membership.ErrPeerURLexists
	ErrMemberNotLearner       // membership.ErrMemberNotLearner
	ErrTooManyLearners        // membership.ErrTooManyLearners
	ErrLearnerNotReady        // ErrLearnerNotReady: its match is below 90% of the leader's
	ErrNotEnoughStarted       // ErrNotEnoughStartedMembers (--strict-reconfig-check)
	ErrUnhealthy              // ErrUnhealthy: not connected to a quorum for 5s
	ErrTimeout                // ErrTimeout and its variants (DueToLeaderFail, DueToConnectionLost, WaitAppliedIndex): out of time inside etcd
	ErrNotSupportedForLearner // ErrGRPCNotSupportedForLearner
	// ErrLeaderChanged: a new leader appeared while a linearizable read's
	// ReadIndex was outstanding (etcd's requestCurrentIndex; gRPC
	// Unavailable, which clientv3 retries elsewhere).
	ErrLeaderChanged
)

var codeNames = [...]string{"ok", "compacted", "future-rev", "no-leader", "stopped", "auth-old-revision",
	"permission-denied", "user-empty", "lease-not-found", "auth-failed", "bad-request", "auth-mgmt",
	"lease-exists", "not-leader", "unavailable",
	"member-not-found", "member-exists", "peer-url-exists", "member-not-learner", "too-many-learners",
	"learner-not-ready", "not-enough-started", "unhealthy", "timeout", "not-supported-for-learner",
	"leader-changed"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", c)
}

// Result is what a request returned: the header revision and the payload.
type Result struct {
	Code      Code
	Rev       int64           // the store revision after the request (etcd's header revision)
	KVs       []mvcc.KeyValue // range results (the last range of a txn)
	Count     int64
	Deleted   int64
	Succeeded bool  // txn branch taken
	TTL       int64 // lease grant and keep-alive
	// Members is the member list a cluster API request returns.
	Members []ClusterMember
}
