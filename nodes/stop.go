package nodes

import (
	"fmt"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/wal"
)

// Stop is etcd's clean shutdown (EtcdServer.Stop, without its transfer of
// leadership, then the server's cleanup), in etcd's order:
//
//  1. the apply loop runs every apply it was handed (the FIFO scheduler
//     runs its pending jobs before it stops), the raft loop finishing the
//     Ready it is persisting so that a held snapshot or entry can apply;
//     a defragmentation in progress finishes first, holding the backend;
//  2. the WAL is closed, which syncs its tail (raftNode's storage.Close);
//  3. a background compaction stops between two batches (kvstore.Close)
//     and the backend is closed, which commits what is pending through the
//     consistent-index hook (batchTx.CommitAndStop): an interrupted
//     compaction is left unfinished, for the next start to resume.
//
// No failpoint fires while stopping (a crash then is a crash), and what
// the member would send or answer is dropped: its connections are closing.
// The member must not be used afterwards.
func (m *Member) Stop() {
	m.stopping = true
	if m.commits.defragging {
		m.defragRename()
	}
	if m.inReady {
		m.finishReady()
	}
	for a := &m.apply; a.installing != nil || a.locked != nil || a.head < len(a.q); {
		switch {
		case a.installing != nil:
			// A received snapshot's apply in progress is the job the
			// scheduler is running: it finishes before the stop (etcd's
			// FIFO scheduler Stop waits for it). Seed 1720 of 5 members
			// stopped in the middle of one, and etcd's server/verify found
			// the backend's consistent index below the snapshot's.
			m.finishApplySnapshot()
		case a.locked != nil:
			m.applyLocked()
		default:
			m.applyNext()
		}
	}
	if err := m.wal.Sync(); err != nil {
		panic(err)
	}
	m.commit()
	m.commits.jobs = nil // interrupted, not finished: the next start resumes it
	m.ResetOutput()
}

// Ended is the world's word that the member's process has ended, a crash
// or a clean stop, before its disk is crashed or handed on: the backend
// leaves what its file holds in the machine's replay cache
// (backend.Remember), so that the next start replays only what it finds
// past that. It is the simulator's bookkeeping, not etcd's: nothing the
// member does or the disk keeps depends on it.
func (m *Member) Ended() {
	if m.be != nil {
		m.be.Remember(m.cfg.BackendCache)
	}
}

// Verify is etcd's server/verify (which etcd runs when a member closes,
// with ETCD_VERIFY set) on the data a stopped member left on fs: the WAL
// reads back, and the backend's consistent index and term agree with it.
// Its errors say what etcd's say. A data directory without a backend is
// not verified, as in etcd.
//
// One check is bounded by what etcd promises rather than by what
// server/verify asserts: a backend's consistent index is at most the
// WAL's HardState commit, or bootCI, the consistent index the member
// started its life with. A HardState whose only change is its commit is
// not fsynced, so a crash can leave the backend ahead of the durable
// commit (#20055, where etcd's bootstrap takes their maximum); until a
// leader tells the restarted member a higher commit, server/verify's
// check fails on such correct data (see docs/findings.md).
func Verify(fs *disk.FS, bootCI uint64) error { return VerifyCached(fs, bootCI, nil, nil) }

// VerifyCached is Verify reading the WAL and the backend through the
// machine's replay caches (nil: in full), as a restart would: the same
// answer, without parsing again what the member's last open, or its end
// (Ended), left in them.
func VerifyCached(fs *disk.FS, bootCI uint64, bc *backend.ReplayCache, wc *wal.ReplayCache) error {
	if !fs.Exists(DBName) {
		return nil
	}
	c, err := wal.ReadCached(fs, wc)
	if err != nil {
		return fmt.Errorf("nodes: verify: %w", err)
	}
	var snapIndex uint64
	if valid := c.ValidSnapshots(); len(valid) > 0 {
		snapIndex = valid[len(valid)-1].Index
	}
	mem, err := backend.ReadCached(fs, DBName, bc)
	if err != nil {
		return fmt.Errorf("nodes: verify: %w", err)
	}
	index, term := MetaUint(mem, KeyCI), MetaUint(mem, KeyTerm)
	hs := c.HardState
	switch {
	case index > max(hs.GetCommit(), bootCI):
		return fmt.Errorf("nodes: verify: backend.ConsistentIndex (%d) must be <= WAL.HardState.commit (%d) (or the consistent index %d it started with)", index, hs.GetCommit(), bootCI)
	case term > hs.GetTerm():
		return fmt.Errorf("nodes: verify: backend.Term (%d) must be <= WAL.HardState.term, (%d)", term, hs.GetTerm())
	case index < snapIndex:
		return fmt.Errorf("nodes: verify: backend.ConsistentIndex (%d) must be >= last snapshot index (%d)", index, snapIndex)
	}
	return nil
}
