package invariants

import (
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/wal"
)

// View is what the checks read of a member. It never changes the member.
type View interface {
	ID() uint64
	RaftStatus() (term, vote, lead uint64, leader bool, commit uint64)
	Applied() uint64
	ConsistentIndex() uint64
	Rev() int64
	CompactRev() int64
	KVHash() uint64
	Backend() *backend.Mem
	Compacting() bool
	// DurableTerm is the term of a stable log entry; 0 with ok for an
	// entry compacted into a durable snapshot.
	DurableTerm(index uint64) (uint64, bool)
	DurableLastIndex() uint64
	AuthRevision() uint64
	AuthCacheHash() uint64
	AuthRebuiltCacheHash() uint64
	LeaseHash() uint64
	SnapshotDBIndex() uint64
	// SnapshotIndex is the newest snapshot the member saved or installed:
	// it never again commits or applies an index at or below it.
	SnapshotIndex() uint64
	// WALDurable is what of the member's WAL its disk holds synced.
	WALDurable() wal.Durable
	// AuthCacheDiff names the first user whose cached permissions differ
	// from a rebuild of the cache from tx ("" when none does).
	AuthCacheDiff(tx backend.ReadTx) string
}

// Violation is a broken invariant with its evidence.
type Violation struct {
	Name   Invariant // the invariant's stable name
	Member uint64    // the member the evidence accuses, or 0
	Detail string    // the evidence, one line
}

func (v *Violation) Error() string { return string(v.Name) + ": " + v.Detail }
