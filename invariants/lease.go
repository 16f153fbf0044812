package invariants

import (
	"fmt"
	"slices"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// Leases is lease-semantics, a checker of what etcd promises of leases,
// over the same history the linearizability check reads: the committed log
// as the reference applies it (grants and revokes, at the time each entry
// was first committed), and what clients were answered (keep-alives,
// revokes, reads). A revoke takes effect somewhere between its commit and
// the first answer that reveals it (its client told it succeeded, a read
// at a revision past it, a lease-not-found for that lease): its
// linearization point may be anywhere there. The checker holds etcd to:
//
//   - a lease revoked by expiry (the leader's own revoke) is revealed no
//     sooner than Bound(TTL) after its grant committed, and after any
//     keep-alive of it acknowledged before that revoke was proposed was
//     sent (see Proposed: a revoke already in flight when a keep-alive
//     was acknowledged is not held to it, as etcd's lessor is not);
//   - a successful keep-alive renews a lease whose grant is committed and
//     whose revoke was not revealed before the keep-alive was sent (the
//     lease existed at a point of the linearized history between its call
//     and its return), and answers a TTL no larger than the one granted;
//   - the keys attached to a lease vanish in the revision of its revoke: no
//     read served at that revision or later returns a key of that lease.
//
// A keep-alive whose outcome the client never learned renewed nothing it
// can count on, and is ignored; a grant or revoke whose client gave up is
// settled by the log. A second grant of a revoked ID starts a new life.
type Leases struct {
	// Bound is the least true time etcd promises a lease of ttl seconds
	// lives after its grant or an acknowledged keep-alive (see LeaseBound).
	Bound func(ttl int64) time.Duration
	fail  func(name Invariant, id uint64, format string, args ...any)
	lives map[int64]*leaseLife
	// hidden holds the revoked leases no answer has revealed yet.
	hidden []int64
	// proposed holds the expiry revokes proposed and not yet applied, by
	// request ID.
	proposed map[uint64]revokeProposal
	// Seen counts what the checker judged.
	Seen LeaseCounts
}

// LeaseCounts counts what a lease checker judged.
type LeaseCounts struct {
	Grants, Revokes, ExpiryRevokes, KeepAlives, LeasedReads, Revealed int
}

// leaseLife is one lease from its grant.
type leaseLife struct {
	ttl       int64
	granted   time.Duration // when its grant committed
	revoked   bool
	revokedAt time.Duration // when its revoke committed
	revokeRev int64         // the revision of its revoke
	seenFrom  int64         // a read at this revision or later reveals the revoke
	expiredBy uint64        // the member whose expiry revoked it, 0: a client
	shownAt   time.Duration // when an answer first revealed the revoke (0: none yet)
	shownHow  string        // which
	ka        keepAlive     // the latest-sent acknowledged keep-alive (once revoked: the one the revoke must honour)
	// inFlight: the revoke is by expiry and its proposal time is known,
	// proposedAt; keep-alives acknowledged after it are not judged
	// against it.
	inFlight   bool
	proposedAt time.Duration
}

// revokeProposal is an expiry revoke a member proposed: when, of which
// life of the lease, and the latest-sent keep-alive acknowledged by then.
type revokeProposal struct {
	at   time.Duration
	life *leaseLife
	ka   keepAlive
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
	return &Leases{Bound: bound, fail: c.failUnlessOff, lives: map[int64]*leaseLife{}, proposed: map[uint64]revokeProposal{}}
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

// Proposed feeds a member's proposal, at `at`, of request reqID: its
// revoke of lease id, which its lessor found expired. etcd's leader
// proposes such a revoke as an ordinary raft entry, which can commit after
// the lease was renewed: a leader deposed with the entry uncommitted in
// its log and elected again restarts every lease (lessor.Promote), renews
// this one for a keep-alive, then commits the entry of its earlier term
// (#12528, #15247; #16822 checks leadership before proposing, and cannot
// recall what is proposed). etcd's lessor promises nothing against a
// revoke already in flight, so a keep-alive is judged only against an
// expiry revoke proposed after its acknowledgment reached its client (the
// member acknowledged it sooner: the doubt goes to etcd). A revoke whose
// proposal the checker is not told of is judged against every
// acknowledged keep-alive.
func (l *Leases) Proposed(reqID uint64, id int64, at time.Duration) {
	p := revokeProposal{at: at, life: l.lives[id]}
	if p.life != nil {
		p.ka = p.life.ka // every keep-alive fed so far returned by now
	}
	l.proposed[reqID] = p
}

// Applied feeds a request the reference applied from the committed log,
// at the time its entry was first committed.
func (l *Leases) Applied(req *nodes.Request, res nodes.Result, at time.Duration) {
	p, proposed := l.proposed[req.ID]
	if proposed {
		delete(l.proposed, req.ID) // applied once: a duplicate revoke is another request
	}
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
		l.Seen.Revokes++
		life.revoked, life.revokedAt, life.revokeRev, life.seenFrom = true, at, res.Rev, res.Rev+1
		if res.Deleted > 0 {
			life.seenFrom = res.Rev // the revoke made this revision
		}
		if id, ok := nodes.InternalProposer(req.ID); ok {
			l.Seen.ExpiryRevokes++
			life.expiredBy = id
			if proposed {
				life.inFlight, life.proposedAt, life.ka = true, p.at, keepAlive{}
				if p.life == life {
					life.ka = p.ka
				}
			}
		}
		l.hidden = append(l.hidden, req.Lease)
	}
}

// reveal records that an answer returned at `at` revealed the revoke of
// lease id, and judges the expiry against what came before it.
func (l *Leases) reveal(id int64, life *leaseLife, at time.Duration, how string) {
	if !life.revoked || life.shownAt != 0 {
		return
	}
	l.Seen.Revealed++
	life.shownAt, life.shownHow = at, how
	l.hidden = slices.DeleteFunc(l.hidden, func(h int64) bool { return h == id })
	if life.expiredBy == 0 {
		return
	}
	if bound, d := l.Bound(life.ttl), at-life.granted; d < bound {
		l.fail(LeaseSemantics, life.expiredBy, "lease %d (TTL %ds) was revoked by m%d's expiry (committed at %s, revision %d; %s at %s), %s after its grant committed at %s; etcd promises it %s",
			id, life.ttl, life.expiredBy, fmtTime(life.revokedAt), life.revokeRev, how, fmtTime(at), d, fmtTime(life.granted), bound)
		return
	}
	if life.ka.ok {
		l.checkExpiry(id, life, life.ka)
	}
}

// checkExpiry: an expiry revoke revealed less than the bound after an
// acknowledged keep-alive was sent came too soon.
func (l *Leases) checkExpiry(id int64, life *leaseLife, ka keepAlive) {
	bound, d := l.Bound(life.ttl), life.shownAt-ka.call
	if life.expiredBy == 0 || d >= bound || ka.call > life.shownAt {
		return
	}
	l.fail(LeaseSemantics, life.expiredBy, "lease %d (TTL %ds) was revoked by m%d's expiry (committed at %s, revision %d; %s at %s), %s after client %d's keep-alive sent at %s was acknowledged by m%d; etcd promises it %s",
		id, life.ttl, life.expiredBy, fmtTime(life.revokedAt), life.revokeRev, life.shownHow, fmtTime(life.shownAt), d, ka.client, fmtTime(ka.call), ka.member, bound)
}

// KeepAlive feeds a keep-alive a client was answered OK: sent at call,
// answered at ret by member with ttl.
func (l *Leases) KeepAlive(client int, member uint64, id, ttl int64, call, ret time.Duration) {
	life := l.lives[id]
	switch {
	case life == nil:
		l.fail(LeaseSemantics, member, "m%d acknowledged client %d's keep-alive of lease %d (sent %s, answered %s), whose grant is not committed",
			member, client, id, fmtTime(call), fmtTime(ret))
		return
	case ttl > life.ttl:
		l.fail(LeaseSemantics, member, "m%d answered client %d's keep-alive of lease %d with TTL %ds, past its granted TTL %ds",
			member, client, id, ttl, life.ttl)
		return
	case life.shownAt != 0 && call > life.shownAt:
		l.fail(LeaseSemantics, member, "m%d acknowledged client %d's keep-alive of lease %d (sent %s, answered %s), but its revoke (committed at %s, revision %d) was revealed before: %s at %s",
			member, client, id, fmtTime(call), fmtTime(ret), fmtTime(life.revokedAt), life.revokeRev, life.shownHow, fmtTime(life.shownAt))
		return
	}
	l.Seen.KeepAlives++
	ka := keepAlive{client: client, call: call, ret: ret, ok: true, member: member}
	if life.revoked && life.inFlight && ret > life.proposedAt {
		return // acknowledged after its revoke was proposed: not held to it (see Proposed)
	}
	if life.shownAt != 0 {
		l.checkExpiry(id, life, ka)
	}
	if ka.call > life.ka.call || !life.ka.ok {
		life.ka = ka
	}
}

// Revoked feeds a client's revoke answered OK at ret: it reveals it.
func (l *Leases) Revoked(client int, id int64, ret time.Duration) {
	if life := l.lives[id]; life != nil {
		l.reveal(id, life, ret, fmt.Sprintf("client %d was told it succeeded", client))
	}
}

// NotFound feeds an answer lease-not-found for lease id, returned at ret:
// it reveals a committed revoke.
func (l *Leases) NotFound(client int, id int64, ret time.Duration) {
	if life := l.lives[id]; life != nil {
		l.reveal(id, life, ret, fmt.Sprintf("client %d was told the lease is not found", client))
	}
}

// Read feeds a read a client was answered OK at header revision rev,
// returned at ret (a range of the current revision, or a txn's range): it
// reveals every revoke at or below rev, and no key of a lease revoked at
// rev or before may be in it.
func (l *Leases) Read(client int, member uint64, rev int64, kvs []mvcc.KeyValue, ret time.Duration) {
	for _, id := range slices.Clone(l.hidden) {
		if life := l.lives[id]; life.seenFrom <= rev {
			l.reveal(id, life, ret, fmt.Sprintf("client %d read revision %d from m%d", client, rev, member))
		}
	}
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
