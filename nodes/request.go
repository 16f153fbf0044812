package nodes

import (
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
)

var kindNames = [...]string{"", "put", "delete", "txn", "range", "compact", "defrag"}

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
	Rev          int64 // range revision, or the compaction revision
	Serializable bool  // a range served from local state
	Txn          mvcc.TxnRequest
	User         string
	AuthRevision uint64
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
	e.bool(r.Serializable)
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

// DecodeRequest reads a request; its byte fields alias p.
func DecodeRequest(p []byte) (*Request, error) {
	d := dec{b: p}
	r := &Request{ID: d.u(), Kind: Kind(d.u())}
	r.Key, r.End, r.Value = d.bytes(), d.bytes(), d.bytes()
	r.Lease, r.Rev = d.i(), d.i()
	r.Serializable = d.bool()
	if n := d.u(); n > 0 && n <= uint64(len(d.b)) {
		r.Txn.Compares = make([]mvcc.Compare, n)
		for i := range r.Txn.Compares {
			c := &r.Txn.Compares[i]
			c.Key, c.RangeEnd = d.bytes(), d.bytes()
			c.Target, c.Result = mvcc.CompareTarget(d.u()), mvcc.CompareResult(d.u())
			c.Version, c.CreateRevision, c.ModRevision, c.Lease = d.i(), d.i(), d.i(), d.i()
			c.Value = d.bytes()
		}
	}
	r.Txn.Success = decodeOps(&d)
	r.Txn.Failure = decodeOps(&d)
	r.User = d.str()
	r.AuthRevision = d.u()
	if d.err == nil && len(d.b) != 0 {
		d.err = errShort
	}
	return r, d.err
}

func decodeOps(d *dec) []mvcc.Op {
	n := d.u()
	if n == 0 || n > uint64(len(d.b)) {
		return nil
	}
	ops := make([]mvcc.Op, n)
	for i := range ops {
		o := &ops[i]
		o.Type = mvcc.OpType(d.u())
		o.Key, o.End, o.Value = d.bytes(), d.bytes(), d.bytes()
		o.Lease = d.i()
		o.PrevKV = d.bool()
		o.Range.Rev, o.Range.Limit = d.i(), d.i()
		o.Range.CountOnly, o.Range.KeysOnly = d.bool(), d.bool()
	}
	return ops
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
)

var codeNames = [...]string{"ok", "compacted", "future-rev", "no-leader", "stopped", "auth-old-revision", "permission-denied", "user-empty", "lease-not-found", "auth-failed", "bad-request"}

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
	Succeeded bool // txn branch taken
}
