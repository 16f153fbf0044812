package nodes

import (
	"fmt"
	"sort"
	"strings"
)

// Bug is one historical etcd behaviour that a bug mode puts back.
type Bug struct {
	Name      string // stable name used by --bug and seed files
	Issue     string // the etcd issue (and fix PR)
	Mechanism string // one line: what the old behaviour did
	CaughtBy  string // the invariants expected to fire first
}

// Bugs is the set of enabled bug modes; the zero value is the correct model.
type Bugs struct {
	AuthCI               bool // auth-ci
	CIBeforeLock         bool // ci-before-lock
	AckBeforeWALSync     bool // ack-before-wal-sync
	LeaseRevokeNoAuth    bool // lease-revoke-no-auth
	DefragNoCIHook       bool // defrag-no-ci-hook
	CompactionRevRegress bool // compaction-rev-regress
	PermCacheStale       bool // perm-cache-stale
	StaleRead            bool // stale-read
	ServeBeforeReady     bool // serve-before-ready
	WALSnapshotGap       bool // wal-snapshot-gap
	BootstrapNotDurable  bool // bootstrap-not-durable
	RenewTrustsTick      bool // renew-trusts-tick
	// The membership modes (their worlds churn membership).
	PromotionNotPersisted bool // promotion-not-persisted
	PromoteForwardAuth    bool // promote-forward-auth
	MemberUpdateLearner   bool // member-update-learner
	UpdateReplayLearner   bool // update-replay-learner
	PromoteQuorumMiscount bool // promote-quorum-miscount
}

type bugEntry struct {
	Bug
	flag func(*Bugs) *bool
}

var catalog = []bugEntry{
	{Bug{"auth-ci", "11651 (fix PR 11652)", "auth mutations write auth data and AuthRevision but not consistentIndex, so a restart re-applies them", "commit-atomicity, auth-revision-agreement, equal-revisions"}, func(b *Bugs) *bool { return &b.AuthCI }},
	{Bug{"ci-before-lock", "13766", "consistentIndex is set before the apply takes the backend lock; a periodic commit in that window persists it without the entry's effects", "commit-atomicity, equal-revisions"}, func(b *Bugs) *bool { return &b.CIBeforeLock }},
	{Bug{"ack-before-wal-sync", "14370", "with one voter, entries are applied and acknowledged before the WAL fsync", "acked-durable, linearizable"}, func(b *Bugs) *bool { return &b.AckBeforeWALSync }},
	{Bug{"lease-revoke-no-auth", "11689 (fix PR 11691)", "the leader proposes lease revokes without a user; members of the newer version reject them under auth, older ones apply", "apply-determinism, equal-revisions"}, func(b *Bugs) *bool { return &b.LeaseRevokeNoAuth }},
	{Bug{"defrag-no-ci-hook", "14685", "defrag commits pending writes without the consistentIndex pre-commit hook", "commit-atomicity, restart-clean"}, func(b *Bugs) *bool { return &b.DefragNoCIHook }},
	{Bug{"compaction-rev-regress", "17780", "a crash during compaction loses the latest revision on restore (no clamp to the scheduled compact revision)", "restart-clean, linearizable"}, func(b *Bugs) *bool { return &b.CompactionRevRegress }},
	{Bug{"perm-cache-stale", "14355, 14571", "the permission cache is not rebuilt at restart or snapshot recovery", "apply-determinism, auth-revision-agreement"}, func(b *Bugs) *bool { return &b.PermCacheStale }},
	{Bug{"stale-read", "classic partitioned leader", "linearizable reads are served from the leader's local state without confirming leadership", "linearizable"}, func(b *Bugs) *bool { return &b.StaleRead }},
	{Bug{"serve-before-ready", "raft PR 105, etcd PR 16675", "a restarted member serves clients before its publish is applied; a lone voter's ReadIndex answers its stale durable commit index", "linearizable"}, func(b *Bugs) *bool { return &b.ServeBeforeReady }},
	{Bug{"wal-snapshot-gap", "etcdsim finding (docs/findings.md)", "a received snapshot's WAL record is synced without a HardState committing it; torn entries after it leave a gap boot cannot read", "restart-clean"}, func(b *Bugs) *bool { return &b.WALSnapshotGap }},
	{Bug{"bootstrap-not-durable", "2877, 12578", "a new member's WAL is durable before its bootstrap entries; a crash in between leaves a lone member with no voters", "liveness"}, func(b *Bugs) *bool { return &b.BootstrapNotDurable }},
	{Bug{"renew-trusts-tick", "etcdsim finding (docs/findings.md); the isActive shortcut of PR 18428", "a leader that ticked within three ticks renews a keep-alive without confirming it still leads (ensureLeadership's isActive shortcut): a leader paused or cut off renews a lease its cluster has revoked", "lease-semantics"}, func(b *Bugs) *bool { return &b.RenewTrustsTick }},
	{Bug{"promotion-not-persisted", "19557 (fix PR 19563)", "etcd 3.5.1-3.5.19 saves a member to the backend only if its key is absent, so a promotion (and a peer-URL update, and the publish attributes) never reaches the members bucket", "membership-agreement"}, func(b *Bugs) *bool { return &b.PromotionNotPersisted }},
	{Bug{"promote-forward-auth", "14070, 20757 (fix PR 20792)", "a follower forwards a learner promote to the leader without the client's token; the leader refuses it as no one (auth: user name is empty) and the client times out", "auth-decisions"}, func(b *Bugs) *bool { return &b.PromoteForwardAuth }},
	{Bug{"member-update-learner", "21694 (fix PR 21719)", "MemberUpdate assigns the whole RaftAttributes, whose IsLearner is always false: a learner becomes a voter in etcd's membership while raft still counts it as a learner", "membership-agreement"}, func(b *Bugs) *bool { return &b.MemberUpdateLearner }},
	{Bug{"update-replay-learner", "etcdsim finding (docs/findings.md)", "etcd 3.6 writes a MemberUpdate's in-memory member to the v2store; replayed after a restart, that member is the backend's later one, so a learner's update marks it a voter early and its replayed promotion fails: raft keeps it a learner on the restarted member", "membership-agreement"}, func(b *Bugs) *bool { return &b.UpdateReplayLearner }},
	{Bug{"promote-quorum-miscount", "11633 (fix PR 11640)", "the promote's strict quorum check counts the learner as a member but not as started, so a lone voter can never promote its learner", "liveness"}, func(b *Bugs) *bool { return &b.PromoteQuorumMiscount }},
}

// Catalog returns every bug mode, in stable order.
func Catalog() []Bug {
	out := make([]Bug, len(catalog))
	for i, e := range catalog {
		out[i] = e.Bug
	}
	return out
}

// ParseBugs reads "none", one name, or comma-separated names.
func ParseBugs(s string) (Bugs, error) {
	var b Bugs
	if s == "" || s == "none" {
		return b, nil
	}
	for _, name := range strings.Split(s, ",") {
		found := false
		for _, e := range catalog {
			if e.Name == name {
				*e.flag(&b) = true
				found = true
			}
		}
		if !found {
			names := make([]string, len(catalog))
			for i, e := range catalog {
				names[i] = e.Name
			}
			sort.Strings(names)
			return b, fmt.Errorf("nodes: unknown bug mode %q (known: %s)", name, strings.Join(names, ", "))
		}
	}
	return b, nil
}

// String prints the enabled modes comma-separated, or "none".
func (b Bugs) String() string {
	var names []string
	for _, e := range catalog {
		if *e.flag(&b) {
			names = append(names, e.Name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}
