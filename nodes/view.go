package nodes

import (
	"errors"
	"slices"

	"go.etcd.io/raft/v3"

	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/wal"
)

// The read-only view the invariants and the world use. None of these
// methods changes the member.

// RaftStatus returns the member's term, vote, leader, whether it leads,
// and its raft commit index. Under ack-before-wal-sync a lone voter's
// early-applied entries count as committed, as the raft before v3.6 that
// bug lived in committed them on append.
func (m *Member) RaftStatus() (term, vote, lead uint64, leader bool, commit uint64) {
	st := m.rn.BasicStatus()
	commit = st.GetCommit()
	if m.apply.queuedTo > commit {
		commit = m.apply.queuedTo
	}
	return st.GetTerm(), st.GetVote(), st.Lead, st.RaftState == raft.StateLeader, commit
}

// Applied returns the index of the last entry the apply loop finished.
func (m *Member) Applied() uint64 { return m.apply.applied }

// ConsistentIndex returns the in-memory consistent index.
func (m *Member) ConsistentIndex() uint64 { return m.apply.ci }

// Rev returns the MVCC revision.
func (m *Member) Rev() int64 { return m.state.KV.Rev() }

// CompactRev returns the MVCC compaction revision.
func (m *Member) CompactRev() int64 { return m.state.KV.CompactRev() }

// KVHash returns the hash of the live key-value view.
func (m *Member) KVHash() uint64 { return m.state.KV.KVHash() }

// Backend returns the backend's state, pending writes included; right
// after a durable commit it is exactly what that commit made durable.
func (m *Member) Backend() *backend.Mem { return m.be.State() }

// Compacting reports whether a compaction is deleting revisions in the
// background (the key bucket then holds a prefix of the deletion).
func (m *Member) Compacting() bool { return len(m.commits.jobs) > 0 }

// DurableTerm returns the term of entry index in the member's stable log
// (entries reach the MemoryStorage only after their WAL fsync). An index
// compacted into a durable snapshot is durable with term 0: only
// committed entries enter a snapshot.
func (m *Member) DurableTerm(index uint64) (uint64, bool) {
	t, err := m.storage.Term(index)
	if errors.Is(err, raft.ErrCompacted) {
		return 0, true
	}
	if err != nil {
		return 0, false
	}
	last, _ := m.storage.LastIndex()
	return t, index <= last
}

// DurableLastIndex returns the last index of the stable log.
func (m *Member) DurableLastIndex() uint64 {
	last, _ := m.storage.LastIndex()
	return last
}

// Voters returns the number of voters in the applied configuration.
func (m *Member) Voters() int { return m.confVote }

// Stats returns what the member did in this life.
func (m *Member) Stats() Stats { return m.stats }

// InApplyWindow reports whether an entry's consistent index is set while
// its effects are not yet applied (ci-before-lock: between
// SetConsistentIndex and the apply taking the backend lock). It is never
// true in the correct model.
func (m *Member) InApplyWindow() bool { return m.apply.locked != nil }

// SavingSnapshotWithEntries reports whether the member's Ready being
// persisted holds a received snapshot and entries after it, its fsync not
// yet done: the state of wal-snapshot-gap, where a power loss that tears
// that fsync keeps entries after the snapshot's WAL record without the
// HardState that commits it (the probe snap/with-entries counts it).
func (m *Member) SavingSnapshotWithEntries() bool {
	return m.inReady && m.mustSync && !raft.IsEmptySnap(m.rd.Snapshot) && len(m.rd.Entries) > 0
}

// HoldsReceivedSnapshot reports whether the member has received a snapshot
// (its database saved, raft restored to it) that no Ready has handed out
// yet: raft keeps it in its unstable log while a previous Ready's fsync is
// pending, and entries a leader appends after it meanwhile join it in the
// next Ready (SavingSnapshotWithEntries).
func (m *Member) HoldsReceivedSnapshot() bool {
	if m.inReady && !raft.IsEmptySnap(m.rd.Snapshot) {
		return false
	}
	return m.snapPending() && !m.snapQueued()
}

// AuthRevision returns the auth store's revision.
func (m *Member) AuthRevision() uint64 { return m.state.Auth.Revision() }

// AuthCacheHash returns the hash of the permission cache as it is.
func (m *Member) AuthCacheHash() uint64 { return m.state.Auth.CacheHash() }

// AuthRebuiltCacheHash returns the hash the permission cache would have if
// rebuilt from the member's backend now.
func (m *Member) AuthRebuiltCacheHash() uint64 { return m.state.Auth.RebuiltCacheHash(m.be) }

// LeaseHash returns the hash of the lessor's leases and attached keys.
func (m *Member) LeaseHash() uint64 { return m.state.Lease.Hash() }

// Serving reports whether the member serves clients (its publish request
// was applied).
func (m *Member) Serving() bool { return m.serving() }

// SnapshotIndex returns the index of the newest snapshot the member saved
// or installed, 0 if none. Its WAL holds a snapshot record at that index or
// later, synced as it was written, and a restart begins at that record: the
// member never again commits or applies an index at or below it.
func (m *Member) SnapshotIndex() uint64 { return m.snapIndex }

// SnapshotDBIndex returns the consistent index of the last snapshot
// database this life opened (installed, or recovered at restart), 0 if
// none: such a database carries the sender's index, which may pass this
// member's own log (etcd's merged snapshot).
func (m *Member) SnapshotDBIndex() uint64 { return m.snapDBCI }

// WALDurable returns what of the member's WAL its disk holds synced: the
// last durable HardState and the entries a crash now keeps.
func (m *Member) WALDurable() wal.Durable { return m.wal.Durable() }

// BootConsistentIndex returns the consistent index the member's backend
// held when this life started.
func (m *Member) BootConsistentIndex() uint64 { return m.bootCI }

// AuthCacheDiff names the first user whose permissions in the member's
// cache differ from a rebuild of the cache from tx ("" when none does).
func (m *Member) AuthCacheDiff(tx backend.ReadTx) string { return m.state.Auth.CacheDiff(tx) }

// ConfDigest returns the digest (ConfDigest) of raft's configuration as the
// member last applied it; 0 unless the world models membership.
func (m *Member) ConfDigest() uint64 { return m.confDigest }

// ConfAhead returns the index of a received snapshot whose configuration
// raft restored before the apply loop installed it, 0 if none: while it
// is set, the conf changes the apply loop still applies below it change
// raft's restored configuration, and ConfDigest is not the applied
// index's (stepSnapshot).
func (m *Member) ConfAhead() uint64 { return m.confAhead }

// ConfString prints raft's configuration as the member last applied it.
func (m *Member) ConfString() string { return ConfString(m.confState) }

// Members returns the member list of the member's membership (etcd's
// RaftCluster.Members), sorted by ID.
func (m *Member) Members() []ClusterMember { return m.state.Cluster.Members() }

// Stopping reports whether the member applied its own removal and is
// about to stop.
func (m *Member) Stopping() bool { return m.cfg.Membership && m.state.Cluster.IsIDRemoved(m.cfg.ID) }

// FirstIndex returns the first index of the member's raft log.
func (m *Member) FirstIndex() uint64 {
	i, _ := m.storage.FirstIndex()
	return i
}

// ClusterVersion returns the cluster version the member's membership holds
// ("" before the leader set it).
func (m *Member) ClusterVersion() string { return m.state.Cluster.Version() }

// Voter reports whether raft's configuration, as the member last applied
// it, holds the member as a voter.
func (m *Member) Voter() bool { return slices.Contains(m.confState.GetVoters(), m.cfg.ID) }
