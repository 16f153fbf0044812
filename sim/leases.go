package sim

import (
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// electionTimeout is the members' election timeout on their own clocks
// (raft's ElectionTick of 10 at etcd's 100 ms heartbeat), the extension a
// new leader's lessor gives every lease.
const electionTimeout = time.Second

// leaseBound is the lease checker's bound in a world whose members' clocks
// drift as drift says (each a tick period factor num/den: true time per
// time on that member's clock).
func leaseBound(drift [][2]int64) func(ttl int64) time.Duration {
	fast, slow := [2]int64{1, 1}, [2]int64{1, 1}
	for _, d := range drift {
		if d[0]*fast[1] < fast[0]*d[1] {
			fast = d
		}
		if d[0]*slow[1] > slow[0]*d[1] {
			slow = d
		}
	}
	return invariants.LeaseBound(fast, slow, electionTimeout)
}

// applied is the reference applying a committed request (Reference.Applied),
// at the time its entry was first committed: it settles open writes and
// feeds the lease checker.
func (w *history) applied(req *nodes.Request, res nodes.Result) {
	w.settle(req, res)
	if w.leases != nil {
		w.leases.Applied(req, res, w.q.Now())
	}
}

// observeLeases feeds the lease checker what a finished request o was
// answered: an acknowledged keep-alive or revoke, a lease-not-found, or
// the revision and keys of a read.
func (w *history) observeLeases(o *Op) {
	if w.leases == nil || o.Unknown || o.Return == 0 {
		return
	}
	r := o.Result
	if r.Code == nodes.ErrLeaseNotFound && o.Req.Lease != 0 {
		w.leases.NotFound(o.Client, o.Req.Lease, o.Return)
		return
	}
	if r.Code != nodes.OK {
		return
	}
	switch o.Req.Kind {
	case nodes.KindLeaseKeepAlive:
		w.leases.KeepAlive(o.Client, o.Member, o.Req.Lease, r.TTL, o.Call, o.Return)
	case nodes.KindLeaseRevoke:
		w.leases.Revoked(o.Client, o.Req.Lease, o.Return)
	case nodes.KindRange:
		if o.Req.Rev == 0 {
			w.leases.Read(o.Client, o.Member, r.Rev, r.KVs, o.Return)
		}
	case nodes.KindPut, nodes.KindDeleteRange:
		w.leases.Read(o.Client, o.Member, r.Rev, nil, o.Return)
	case nodes.KindTxn:
		if !txnRangesHistory(o.Req.Txn) {
			w.leases.Read(o.Client, o.Member, r.Rev, r.KVs, o.Return)
		}
	}
}

// txnRangesHistory reports whether a txn reads an older revision.
func txnRangesHistory(t mvcc.TxnRequest) bool {
	for _, ops := range [][]mvcc.Op{t.Success, t.Failure} {
		for i := range ops {
			if ops[i].Type == mvcc.OpRange && ops[i].Range.Rev != 0 {
				return true
			}
		}
	}
	return false
}
