package invariants

import (
	"fmt"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/auth"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/lease"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// Checker runs every check incrementally, as the world reports what
// members do. The first violation sticks; later ones are ignored.
type Checker struct {
	Ref     *Reference
	Off     bool // run no checks (to measure their cost)
	voters  int
	leaders map[uint64]uint64 // term -> leader
	// lastTerm and lastLeader are the pair Step wrote to leaders last, so
	// that leaders[lastTerm] == lastLeader: a leader's steps in its term
	// (most steps) need no map lookup. A leader's term is at least 1.
	lastTerm, lastLeader uint64
	members              map[uint64]*track
	// byID holds the tracks of the small member IDs too (the world's
	// start at 1), so that the checks called at every step of a member
	// find its track without a map lookup.
	byID  [16]*track
	first *Violation
	// nextForget is the reference length at which Committed next drops the
	// records no member can need (see forget).
	nextForget uint64
	// Unchecked counts the checks skipped because the record they needed
	// was forgotten: it stays 0 unless forget's bound is wrong.
	Unchecked int
	retired   map[uint64]bool // removed members gone for good (see Retire)
}

// forgetEvery is how many records the reference gains between two looks
// at what it can forget.
const forgetEvery = 1024

// track is what the checker remembers of a member across its lives.
type track struct {
	persistedCI uint64 // the last durable consistent index
	snapCI      uint64 // the largest consistent index a snapshot database brought
	snapIndex   uint64 // its newest snapshot, as last seen
	hsTerm      uint64 // the last fsynced HardState
	hsVote      uint64
	maxRev      int64  // the highest revision this member returned for a write
	maxRevIdx   uint64 // the index of that write
	// membership worlds: the first index of its raft log, and the members
	// bucket's hash and digest when last decoded
	firstIndex   uint64
	bucketSeen   bool
	bucketHash   uint64
	bucketDigest uint64
}

// NewChecker returns a checker for a cluster of voters members.
func NewChecker(voters int) *Checker {
	return &Checker{Ref: NewReference(), voters: voters, leaders: map[uint64]uint64{}, members: map[uint64]*track{}}
}

// Violation returns the first violation, or nil.
func (c *Checker) Violation() *Violation { return c.first }

// Fail records a violation found by the world itself (liveness).
func (c *Checker) Fail(name Invariant, detail string) { c.fail(name, 0, "%s", detail) }

// fail records a violation of name that accuses member id (0: none).
func (c *Checker) fail(name Invariant, id uint64, format string, args ...any) {
	if c.first == nil {
		c.first = &Violation{Name: name, Member: id, Detail: fmt.Sprintf(format, args...)}
	}
}

func (c *Checker) track(id uint64) *track {
	if id < uint64(len(c.byID)) && c.byID[id] != nil {
		return c.byID[id]
	}
	t := c.members[id]
	if t == nil {
		t = &track{}
		c.members[id] = t
	}
	if id < uint64(len(c.byID)) {
		c.byID[id] = t
	}
	return t
}

// tracked returns the track of member id, or nil if it has none yet
// (track without making one).
func (c *Checker) tracked(id uint64) *track {
	if id < uint64(len(c.byID)) {
		return c.byID[id] // every track of a small ID is there (see track)
	}
	return c.members[id]
}

// Step runs the per-step checks on a member the step touched. The paths
// taken at most steps stay here, small; a leader new to the checker and a
// violation go to functions of their own.
func (c *Checker) Step(v View) {
	if c.Off {
		return
	}
	term, _, _, leader, commit := v.RaftStatus()
	if leader {
		if id := v.ID(); term != c.lastTerm || id != c.lastLeader {
			c.leads(v, id, term)
		}
	}
	if a := v.Applied(); a > commit {
		c.appliedPast(v, a, commit)
	}
}

// leads is election-safety for member id leading term, which is not the
// pair Step saw last.
func (c *Checker) leads(v View, id, term uint64) {
	other, ok := c.leaders[term]
	if ok && other != id {
		c.fail(ElectionSafety, other, "m%d and m%d both lead term %d", other, id, term)
	}
	if !ok && c.Ref.Membership {
		c.newLeader(v, term)
	}
	c.leaders[term] = id
	c.lastTerm, c.lastLeader = term, id
}

// appliedPast reports a member whose applied index a passed its commit
// index.
func (c *Checker) appliedPast(v View, a, commit uint64) {
	c.fail(AppliedLECommitted, v.ID(), "m%d applied=%d > committed=%d", v.ID(), a, commit)
}

// Committed checks entries a member committed against the agreed log, and
// extends the reference with the new ones.
func (c *Checker) Committed(v View, ents []*raftpb.Entry) {
	if c.Off {
		return
	}
	t := c.track(v.ID())
	t.snapIndex = v.SnapshotIndex()
	if c.Ref.Membership {
		if mv, ok := v.(MembershipView); ok {
			t.firstIndex = mv.FirstIndex()
		}
	}
	for _, e := range ents {
		i := e.GetIndex()
		rec, ok, gone := c.record(i)
		if gone {
			continue
		}
		if ok {
			if rec.Term != e.GetTerm() || rec.Data != c.Ref.Decoded.Sum(e.Data) {
				c.fail(LogMatching, v.ID(), "m%d committed index %d as %s in term %d, but the cluster committed %s in term %d there",
					v.ID(), i, c.entryName(e), e.GetTerm(), recordName(rec), rec.Term)
			}
			continue
		}
		if err := c.Ref.Append(e); err != nil {
			c.fail(LogMatching, v.ID(), "m%d committed index %d past the agreed log end %d", v.ID(), i, c.Ref.Last())
		}
	}
	if c.Ref.Last() >= c.nextForget {
		c.forget()
	}
}

// record looks up the reference record of index i; gone reports (and
// counts in Unchecked) one that was forgotten, for the caller to skip.
func (c *Checker) record(i uint64) (rec *Record, ok, gone bool) {
	if rec, ok = c.Ref.At(i); !ok && c.Ref.Forgotten(i) {
		c.Unchecked++
		return nil, false, true
	}
	return rec, ok, false
}

// forget drops the reference records below every member's window: from
// here on a member commits and applies only indexes past its newest
// snapshot (a restart begins at a WAL snapshot record at or after it), and
// compares its backend only at a consistent index at or
// above its last durable one (one below fails consistent-index-monotonic
// first). Until every member has been seen, nothing is dropped.
func (c *Checker) forget() {
	c.nextForget = c.Ref.Last() + forgetEvery
	if len(c.members) < c.voters {
		return
	}
	keep := c.Ref.Last()
	for id, t := range c.members {
		if c.retired[id] {
			continue
		}
		keep = min(keep, t.snapIndex+1, t.persistedCI)
		if c.Ref.Membership {
			// A member that joins catches up from a leader's log.
			keep = min(keep, t.firstIndex)
		}
	}
	if keep > 1 {
		c.Ref.Forget(keep - 1)
	}
}

// Applied compares a member's state after it applied index with the
// reference (equal-revisions), and the outcome (apply-determinism).
func (c *Checker) Applied(v View, index uint64, out *nodes.Outcome) {
	if c.Off {
		return
	}
	rec, ok, gone := c.record(index)
	if gone {
		return
	}
	if !ok {
		c.fail(AppliedLECommitted, v.ID(), "m%d applied index %d that no member committed", v.ID(), index)
		return
	}
	if c.Ref.Membership {
		if mv, ok := v.(MembershipView); ok {
			c.membershipAgrees(mv, index, rec)
		}
	}
	if out != nil && rec.Ran && *out != rec.Out {
		c.fail(ApplyDeterminism, v.ID(), "m%d applied index %d (%s #%d): %s", v.ID(), index, rec.Out.Kind, rec.ReqID, outcomeDiff(out, &rec.Out))
		return
	}
	if index < v.ConsistentIndex() {
		return // skipped on replay: the state reflects the consistent index
	}
	if t := c.tracked(v.ID()); t != nil && index >= t.maxRevIdx && v.Rev() < t.maxRev {
		c.fail(RestartClean, v.ID(), "m%d at index %d has revision %d, below revision %d it returned to a client for index %d",
			v.ID(), index, v.Rev(), t.maxRev, t.maxRevIdx)
	}
	c.authAgrees(v, index, rec)
	if d := c.kvDiff(v, index, rec); d != "" {
		c.fail(EqualRevisions, v.ID(), "m%d at index %d: %s", v.ID(), index, d)
	}
	if v.LeaseHash() != rec.LeaseHash {
		c.fail(EqualRevisions, v.ID(), "m%d at index %d: %s", v.ID(), index,
			c.stateDiff(v.Backend(), index, onlyBuckets(lease.Bucket), "its lessor's attached keys differ from the reference's, while the lease buckets agree"))
	}
}

// authAgrees is auth-revision-agreement: at the same applied index a
// member has the reference's AuthRevision, auth data and permission cache.
func (c *Checker) authAgrees(v View, index uint64, rec *Record) {
	switch {
	case v.AuthRevision() != rec.AuthRev:
		c.fail(AuthRevisionAgreement, v.ID(), "m%d at index %d has auth revision %d; the reference has %d", v.ID(), index, v.AuthRevision(), rec.AuthRev)
	case AuthHash(v.Backend()) != rec.AuthData:
		c.fail(AuthRevisionAgreement, v.ID(), "m%d at index %d: %s", v.ID(), index,
			c.stateDiff(v.Backend(), index, onlyBuckets(auth.AuthBucket, auth.UsersBucket, auth.RolesBucket), "users and roles differ from the reference's"))
	case v.AuthCacheHash() != rec.AuthCache:
		c.fail(AuthRevisionAgreement, v.ID(), "m%d at index %d: its permission cache differs from the reference's: %s", v.ID(), index, c.cacheDiff(v, index))
	}
}

// DurableCommit checks a backend commit that just became durable.
func (c *Checker) DurableCommit(v View) {
	if c.Off {
		return
	}
	mem := v.Backend()
	key, other, ci := stateHashCI(mem)
	if c.persisted(v, ci, "persisted") {
		c.atomic(v, mem, ci, key, other, CommitAtomicity)
	}
}

// persisted is consistent-index-monotonic for a consistent index that just
// became durable (what: "persisted", "restarted with"): it never goes back,
// and it never passes the member's durable WAL — unless a snapshot database
// brought it, installed or recovered at a restart in this life or an
// earlier one, which carries the sender's index (etcd's merged snapshot).
// That database is durable: its index may lead the WAL across restarts,
// until raft sends the member the entries up to it (a restart that found
// it still leading the WAL once failed here on the correct model: the long
// soak's seeds 1422, 2965 and 9838).
func (c *Checker) persisted(v View, ci uint64, what string) bool {
	t := c.track(v.ID())
	t.snapCI = max(t.snapCI, v.SnapshotDBIndex())
	if ci < t.persistedCI {
		c.fail(ConsistentIndexMonotonic, v.ID(), "m%d %s consistent index %d after a durable %d", v.ID(), what, ci, t.persistedCI)
		return false
	}
	t.persistedCI = ci
	if last := v.DurableLastIndex(); ci > last && ci > t.snapCI {
		c.fail(ConsistentIndexMonotonic, v.ID(), "m%d %s consistent index %d past its durable WAL (last index %d)", v.ID(), what, ci, last)
		return false
	}
	return true
}

// atomic compares a backend state, whose StateHash is key and other, with
// the reference after 1..ci, and returns the reference record of ci (nil
// for 0, or when none is left).
func (c *Checker) atomic(v View, mem *backend.Mem, ci, key, other uint64, name Invariant) *Record {
	var wantKey, wantOther uint64
	rec, ok, gone := c.record(ci)
	switch {
	case gone:
		return nil
	case ok:
		wantKey, wantOther = rec.KeyHash, rec.Other
	case ci != 0:
		c.fail(name, v.ID(), "m%d backend holds consistent index %d beyond the committed log (%d)", v.ID(), ci, c.Ref.Last())
		return nil
	}
	if other != wantOther {
		c.fail(name, v.ID(), "m%d's backend at consistent index %d: %s", v.ID(), ci,
			c.stateDiff(mem, ci, exceptBucket(mvcc.KeyBucket), fmt.Sprintf("meta/auth/lease state differs from the reference's (hash %x vs %x)", other, wantOther)))
	} else if !v.Compacting() && key != wantKey {
		c.fail(name, v.ID(), "m%d's backend at consistent index %d: %s", v.ID(), ci,
			c.stateDiff(mem, ci, onlyBuckets(mvcc.KeyBucket), fmt.Sprintf("key bucket differs from the reference's (hash %x vs %x)", key, wantKey)))
	}
	return rec
}

// WALSynced records the member's durable HardState.
func (c *Checker) WALSynced(v View, hs *raftpb.HardState) {
	if c.Off {
		return
	}
	t := c.track(v.ID())
	t.hsTerm, t.hsVote = hs.GetTerm(), hs.GetVote()
}

// Restarted checks a member right after it restarted from its disk.
func (c *Checker) Restarted(v View) {
	if c.Off {
		return
	}
	t := c.track(v.ID())
	term, vote, _, _, _ := v.RaftStatus()
	if term < t.hsTerm || term == t.hsTerm && t.hsVote != 0 && vote != t.hsVote {
		c.fail(HardStateDurable, v.ID(), "m%d restarted with term=%d vote=%d after a durable term=%d vote=%d", v.ID(), term, vote, t.hsTerm, t.hsVote)
		return
	}
	mem := v.Backend()
	key, other, ci := stateHashCI(mem)
	if bt, ht := nodes.MetaUint(mem, nodes.KeyTerm), v.WALDurable().Term; bt > ht {
		c.fail(ServerVerify, v.ID(), "m%d restarted with backend.Term %d past its WAL's HardState term %d (server/verify: backend.Term must be <= WAL.HardState.term)", v.ID(), bt, ht)
		return
	}
	if !c.persisted(v, ci, "restarted with") {
		return
	}
	rec := c.atomic(v, mem, ci, key, other, RestartClean)
	c.membersAtCI(v, ci)
	if got, want := v.AuthCacheHash(), v.AuthRebuiltCacheHash(); got != want {
		c.fail(AuthRevisionAgreement, v.ID(), "m%d restarted with a permission cache that differs from a rebuild from its own backend: %s", v.ID(), v.AuthCacheDiff(mem))
	}
	if rec != nil {
		if d := c.kvDiff(v, ci, rec); d != "" {
			c.fail(RestartClean, v.ID(), "m%d restarted at consistent index %d: %s", v.ID(), ci, d)
		}
	}
}

// SnapshotInstalled checks a member that replaced its backend with the
// database of a snapshot it received: that database is durable, so it must
// be exactly the reference state at the consistent index it carries, and
// that index must not go back.
func (c *Checker) SnapshotInstalled(v View) {
	if c.Off {
		return
	}
	t := c.track(v.ID())
	mem := v.Backend()
	key, other, ci := stateHashCI(mem)
	if snap := v.SnapshotIndex(); ci < snap {
		c.fail(InstallCoversSnapshot, v.ID(), "m%d installed snapshot %d but its backend's consistentIndex is %d", v.ID(), snap, ci)
		return
	}
	if ci < t.persistedCI {
		c.fail(ConsistentIndexMonotonic, v.ID(), "m%d installed a snapshot database with consistent index %d after a durable %d", v.ID(), ci, t.persistedCI)
		return
	}
	t.persistedCI, t.snapCI = ci, ci
	c.atomic(v, mem, ci, key, other, CommitAtomicity)
	c.membersAtCI(v, ci)
}

// Stopped reports what etcd's server/verify said of the data a member
// left at a graceful stop (nil: it holds).
func (c *Checker) Stopped(id uint64, verify error) {
	if c.Off || verify == nil {
		return
	}
	c.fail(ServerVerify, id, "m%d after a graceful stop: %v", id, verify)
}

// RestartFailed reports a member that could not start from its disk.
func (c *Checker) RestartFailed(id uint64, err any) {
	c.fail(RestartClean, id, "m%d cannot restart from its crash image: %v", id, err)
}

// Panicked reports a panic inside a member.
func (c *Checker) Panicked(id uint64, err any) {
	c.fail(Panic, id, "m%d panicked: %v", id, err)
}

// Acked checks a write acknowledgement: the entry must be durable on a
// quorum of voters (one voter: itself), whatever crashes next.
func (c *Checker) Acked(v View, r nodes.Reply, members []View) {
	if c.Off {
		return
	}
	if r.Index == 0 {
		return
	}
	if c.Ref.Membership {
		if n, of, ok := c.durableOnVoters(r.Index, r.Term, members); !ok {
			c.fail(AckedDurable, v.ID(), "m%d acknowledged index %d (term %d) durable on %d of %d voters", v.ID(), r.Index, r.Term, n, of)
		}
	} else {
		// Counting stops at a quorum: the count is reported only short of one.
		durable, quorum := 0, c.voters/2+1
		for _, m := range members {
			if m == nil {
				continue
			}
			if t, ok := m.DurableTerm(r.Index); ok && (t == r.Term || t == 0) {
				if durable++; durable == quorum {
					break
				}
			}
		}
		if durable < quorum {
			c.fail(AckedDurable, v.ID(), "m%d acknowledged index %d (term %d) durable on %d of %d voters", v.ID(), r.Index, r.Term, durable, c.voters)
		}
	}
	t := c.track(v.ID())
	if r.Result.Rev > t.maxRev {
		t.maxRev, t.maxRevIdx = r.Result.Rev, r.Index
	}
}
