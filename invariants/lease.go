package invariants

import (
	"fmt"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// Leases is lease-semantics, a checker of what etcd promises of leases,
// over the same history the linearizability check reads: the committed log
// as the reference applies it (grants, revokes, each at the time its entry
// was first committed), and what clients were answered (keep-alives,
// reads). It checks that:
//
//   - a lease is revoked by expiry (the leader's own revoke) only once no
//     keep-alive acknowledged to any client was called within Bound(TTL)
//     before the revoke committed, and no sooner than Bound(TTL) after its
//     grant committed;
//   - a successful keep-alive renews a lease whose grant is committed and
//     whose revoke did not commit before the keep-alive was sent (it
//     existed at that point of the linearized history), and answers a TTL
//     no larger than the one granted;
//   - the keys attached to a lease vanish in the revision of its revoke: no
//     read served at that revision or later returns a key of that lease.
//
// A keep-alive whose outcome the client never learned renewed nothing it
// can count on, and is ignored; a grant or revoke whose client gave up is
// settled by the log, which is all this checker reads of them. Lease IDs
// are never granted twice by the workload; a second grant of a revoked ID
// starts a new life.
type Leases struct {
	// Bound is the least true time etcd promises a lease of ttl seconds
	// lives after its grant or an acknowledged keep-alive (see LeaseBound).
	Bound func(ttl int64) time.Duration
	fail  func(name Invariant, id uint64, format string, args ...any)
	lives map[int64]*leaseLife
	// Seen counts what the checker judged.
	Seen LeaseCounts
}

// LeaseCounts counts what a lease checker judged.
type LeaseCounts struct {
	Grants, Revokes, ExpiryRevokes, KeepAlives, LeasedReads int
}

// leaseLife is one lease from its grant.
type leaseLife struct {
	ttl       int64
	granted   time.Duration // when its grant committed
	revoked   bool
	revokedAt time.Duration // when its revoke committed
	revokeRev int64         // the revision of its revoke
	expiredBy uint64        // the member whose expiry revoked it, 0: a client
	ka        keepAlive     // the latest-sent acknowledged keep-alive
}

// keepAlive is an acknowledged keep-alive.
type keepAlive struct {
	client    int
	call, ret time.Duration
	ok        bool
	member    uint64
}

// NewLeases returns a lease checker that reports to c.
func (c *Checker) NewLeases(bound func(ttl int64) time.Duration) *Leases {
	return &Leases{Bound: bound, fail: c.failUnlessOff, lives: map[int64]*leaseLife{}}
}

// failUnlessOff is fail for checks fed from outside the checker.
func (c *Checker) failUnlessOff(name Invariant, id uint64, format string, args ...any) {
	if !c.Off {
		c.fail(name, id, format, args...)
	}
}

// LeaseBound returns the bound the lease checker holds etcd to in a world
// whose member clocks run between fast and slow, each a ratio num/den of
// true time per time on a member's clock (fast <= 1/1 <= slow), with an
// election timeout of et on a member's clock. etcd measures a lease on
// the leader's clock: a leader revokes a lease ttl after its last renewal
// there, at the earliest ttl*fast in true time on the fastest clock. A new
// leader restarts every lease with its TTL plus et (lessor.Promote), which
// covers a deposed leader that goes on renewing until CheckQuorum deposes
// it: at most 2*et on its clock after it lost the quorum, while the new
// one was elected at least et after, on the followers' clocks. On equal
// clocks that overlap is at most et and the promise is ttl; with drift it
// can outlast the extension by 2*et*(slow-fast) of true time, which the
// bound gives up. Rates are ratios, so the bound is exact.
func LeaseBound(fast, slow [2]int64, et time.Duration) func(ttl int64) time.Duration {
	return func(ttl int64) time.Duration {
		ttl = min(ttl, 1<<20) // far past any TTL a world grants, far from overflow
		b := time.Duration(ttl) * time.Second * time.Duration(fast[0]) / time.Duration(fast[1])
		b -= 2 * et * time.Duration(slow[0]*fast[1]-fast[0]*slow[1]) / time.Duration(slow[1]*fast[1])
		return max(b, 0)
	}
}

// Applied feeds a request the reference applied from the committed log,
// at the time its entry was first committed.
func (l *Leases) Applied(req *nodes.Request, res nodes.Result, at time.Duration) {
	if res.Code != nodes.OK {
		return
	}
	switch req.Kind {
	case nodes.KindLeaseGrant:
		l.Seen.Grants++
		l.lives[req.Lease] = &leaseLife{ttl: res.TTL, granted: at}
	case nodes.KindLeaseRevoke:
		life := l.lives[req.Lease]
		if life == nil || life.revoked {
			return // the reference's own lease-not-found: nothing revoked
		}
		life.revoked, life.revokedAt, life.revokeRev = true, at, res.Rev
		l.Seen.Revokes++
		if id, ok := nodes.InternalProposer(req.ID); ok {
			l.Seen.ExpiryRevokes++
			life.expiredBy = id
			l.checkExpiry(req.Lease, life)
		}
		if life.ka.ok {
			l.checkRenewal(req.Lease, life, life.ka)
		}
	}
}

// checkExpiry: an expiry revoke comes no sooner than the bound after the
// grant and after the latest acknowledged keep-alive.
func (l *Leases) checkExpiry(id int64, life *leaseLife) {
	bound := l.Bound(life.ttl)
	if d := life.revokedAt - life.granted; d < bound {
		l.fail(LeaseSemantics, life.expiredBy, "lease %d (TTL %ds) was revoked by m%d's expiry at %s, %s after its grant committed at %s; etcd promises it %s",
			id, life.ttl, life.expiredBy, fmtTime(life.revokedAt), d, fmtTime(life.granted), bound)
	}
}

// checkRenewal judges an acknowledged keep-alive against the lease's
// revoke: sent after the revoke committed, it renewed a lease that no
// longer existed; sent less than the bound before an expiry revoke, the
// revoke came too soon.
func (l *Leases) checkRenewal(id int64, life *leaseLife, ka keepAlive) {
	if !life.revoked {
		return
	}
	if ka.call > life.revokedAt {
		l.fail(LeaseSemantics, ka.member, "m%d acknowledged client %d's keep-alive of lease %d (sent %s, answered %s), but the lease's revoke committed at %s (revision %d), before it was sent",
			ka.member, ka.client, id, fmtTime(ka.call), fmtTime(ka.ret), fmtTime(life.revokedAt), life.revokeRev)
		return
	}
	bound := l.Bound(life.ttl)
	if d := life.revokedAt - ka.call; life.expiredBy != 0 && d < bound {
		l.fail(LeaseSemantics, life.expiredBy, "lease %d (TTL %ds) was revoked by m%d's expiry at %s, %s after client %d's keep-alive sent at %s was acknowledged by m%d; etcd promises it %s",
			id, life.ttl, life.expiredBy, fmtTime(life.revokedAt), d, ka.client, fmtTime(ka.call), ka.member, bound)
	}
}

// KeepAlive feeds a keep-alive a client was answered OK: sent at call,
// answered at ret by member with ttl.
func (l *Leases) KeepAlive(client int, member uint64, id, ttl int64, call, ret time.Duration) {
	life := l.lives[id]
	if life == nil {
		l.fail(LeaseSemantics, member, "m%d acknowledged client %d's keep-alive of lease %d (sent %s, answered %s), whose grant is not committed",
			member, client, id, fmtTime(call), fmtTime(ret))
		return
	}
	if ttl > life.ttl {
		l.fail(LeaseSemantics, member, "m%d answered client %d's keep-alive of lease %d with TTL %ds, past its granted TTL %ds",
			member, client, id, ttl, life.ttl)
		return
	}
	l.Seen.KeepAlives++
	ka := keepAlive{client: client, call: call, ret: ret, ok: true, member: member}
	l.checkRenewal(id, life, ka)
	if ka.call > life.ka.call || !life.ka.ok {
		life.ka = ka
	}
}

// Read feeds a read a client was answered OK at header revision rev (a
// range of the current revision, or a txn's range): no key of a lease
// revoked at rev or before may be in it.
func (l *Leases) Read(client int, member uint64, rev int64, kvs []mvcc.KeyValue) {
	for i := range kvs {
		kv := &kvs[i]
		if kv.Lease == 0 {
			continue
		}
		l.Seen.LeasedReads++
		if life := l.lives[kv.Lease]; life != nil && life.revoked && life.revokeRev <= rev && kv.ModRevision < life.revokeRev {
			l.fail(LeaseSemantics, member, "m%d answered client %d at revision %d with key %q of lease %d (mod revision %d), but the lease was revoked in revision %d",
				member, client, rev, kv.Key, kv.Lease, kv.ModRevision, life.revokeRev)
			return
		}
	}
}

// fmtTime prints a simulated time as the world does ("12.345s").
func fmtTime(d time.Duration) string { return fmt.Sprintf("%.3fs", d.Seconds()) }
