package invariants

import (
	"slices"

	"github.com/etcdsim/etcdsim/nodes"
)

// MembershipView is what the membership checks read of a member beyond
// View, in worlds that model membership.
type MembershipView interface {
	View
	// ConfDigest is nodes.ConfDigest of raft's configuration as the member
	// last applied it; ConfString prints it.
	ConfDigest() uint64
	ConfString() string
	// FirstIndex is the first index of the member's raft log: what it can
	// still send a member that catches up.
	FirstIndex() uint64
	// Voter reports whether the member's own configuration holds it as a
	// voter.
	Voter() bool
	// ConfAhead is the index of a received snapshot whose configuration
	// raft restored before the apply loop installed it (0: none): raft's
	// configuration is then the snapshot's, changed by the conf changes
	// still applied below it, not the applied index's.
	ConfAhead() uint64
}

// membershipAgrees is membership-agreement at an applied index: raft's
// configuration is the reference's, unless raft has restored a later
// snapshot the apply loop has not reached (raft takes a snapshot's
// configuration when it restores it, raft.restore; the snapshot's
// install is checked at its own index), and, when the backend holds
// exactly this index, its members bucket holds the same voters and
// learners.
func (c *Checker) membershipAgrees(v MembershipView, index uint64, rec *Record) {
	if index <= c.Ref.bootIndex {
		// The bootstrap entries: a member that bootstrapped is in the whole
		// configuration already (raft's Bootstrap), a member that joined
		// builds it entry by entry, and the bucket follows the entries.
		return
	}
	if v.ConfAhead() <= index && v.ConfDigest() != rec.Conf {
		c.fail(MembershipAgreement, v.ID(), "m%d at index %d: raft configuration %s differs from the reference's", v.ID(), index, v.ConfString())
		return
	}
	if index < v.ConsistentIndex() {
		return // replayed: the backend holds a later index
	}
	if d, ok := c.bucketDigest(v); ok && d != rec.Conf {
		c.fail(MembershipAgreement, v.ID(), "m%d at index %d: its members bucket holds other voters or learners than its raft configuration %s", v.ID(), index, v.ConfString())
	}
}

// bucketDigest returns nodes.MembersDigest of the member's members bucket,
// decoded again only when the bucket changed.
func (c *Checker) bucketDigest(v View) (uint64, bool) {
	t := c.track(v.ID())
	mem := v.Backend()
	h := mem.BucketHash(nodes.MembersBucket)
	if !t.bucketSeen || h != t.bucketHash {
		d, err := nodes.MembersDigest(mem)
		if err != nil {
			c.fail(MembershipAgreement, v.ID(), "m%d: %v", v.ID(), err)
			return 0, false
		}
		t.bucketSeen, t.bucketHash, t.bucketDigest = true, h, d
	}
	return t.bucketDigest, true
}

// membersAtCI is membership-agreement for a backend that just came from
// disk (a restart, a snapshot install): its members bucket holds the
// reference's configuration at the consistent index it carries.
func (c *Checker) membersAtCI(v View, ci uint64) {
	rec, ok, _ := c.record(ci)
	if !ok || !c.Ref.Membership || ci <= c.Ref.bootIndex {
		return
	}
	if d, ok := c.bucketDigest(v); ok && d != rec.Conf {
		c.fail(MembershipAgreement, v.ID(), "m%d's backend at consistent index %d: its members bucket holds other voters or learners than the reference's configuration", v.ID(), ci)
	}
}

// durableOnVoters is acked-durable with membership: index must be durable
// on a quorum of the voters of a configuration that can have committed it.
func (c *Checker) durableOnVoters(index, term uint64, members []View) (int, int, bool) {
	best, of := 0, 0
	at, k := c.Ref.votersAt(index)
	for _, voters := range at[:k] {
		n := 0
		for _, m := range members {
			if m == nil || !slices.Contains(voters, m.ID()) {
				continue
			}
			if t, ok := m.DurableTerm(index); ok && (t == term || t == 0) {
				n++
			}
		}
		if n >= len(voters)/2+1 {
			return n, len(voters), true
		}
		if n >= best {
			best, of = n, len(voters)
		}
	}
	return best, of, false
}

// newLeader is removed-member: a member wins an election only while its
// own applied configuration holds it as a voter (raft's promotable). Not
// "never after its removal committed": a removed member that has not
// applied its removal can still win, with the vote of a member that does
// not know the removal committed (a restarted one, whose durable commit
// index trails: commit-only HardStates are not fsynced), and raft's
// quorum overlap keeps that safe (seed 1507 of the auth churn world).
func (c *Checker) newLeader(v View, term uint64) {
	mv, ok := v.(MembershipView)
	if ok && !mv.Voter() {
		c.fail(RemovedMember, v.ID(), "m%d became leader of term %d while its own configuration %s does not hold it as a voter", v.ID(), term, mv.ConfString())
	}
}

// Retire forgets member id for the reference's window: it was removed and
// its process is gone for good, so it never commits or applies again.
func (c *Checker) Retire(id uint64) {
	if c.retired == nil {
		c.retired = map[uint64]bool{}
	}
	c.retired[id] = true
}

// AuthDecision is auth-decisions: member id refused the request reqID of a
// client acting as user with code, judging at auth revision rev; the
// reference's admin check at that revision must give user the same.
func (c *Checker) AuthDecision(id uint64, reqID uint64, what, user string, rev uint64, code nodes.Code) {
	if c.Off || !c.Ref.Membership {
		return
	}
	agree, seen := c.Ref.adminAgrees(rev, user, code)
	if seen && !agree {
		c.fail(AuthDecisions, id, "m%d refused %s #%d with %s at auth revision %d; its client acts as %q, whom the reference's admin check at that revision does not refuse so",
			id, what, reqID, code, rev, user)
	}
}
