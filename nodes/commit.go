package nodes

import (
	"encoding/binary"
	"github.com/etcdsim/etcdsim/disk"

	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// Meta bucket keys, as etcd's schema (server/storage/schema).
const (
	KeyCI   = "consistent_index"
	KeyTerm = "term"
)

// MetaUint reads an 8-byte big-endian meta value (0 when absent).
func MetaUint(tx backend.ReadTx, key string) uint64 {
	v, ok := tx.Get(mvcc.MetaBucket, []byte(key))
	if !ok || len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// preCommitHook is etcd's BackendHooks.OnPreCommitUnsafe: it writes the
// in-memory consistent index and term into the batch being committed.
// Each is 8 bytes big-endian, as etcd encodes them. The backend keeps
// both and never writes into them, so they are cut from a slab shared by
// hookSlab commits instead of an allocation each.
func (m *Member) preCommitHook(tx backend.Tx) {
	c := &m.commits
	if len(c.hookVals) < 16 {
		c.hookVals = make([]byte, 16*hookSlab)
	}
	v := c.hookVals[:16:16]
	c.hookVals = c.hookVals[16:]
	binary.BigEndian.PutUint64(v[:8], m.apply.ci)
	binary.BigEndian.PutUint64(v[8:], m.apply.ciTerm)
	tx.Put(mvcc.MetaBucket, keyCIBytes, v[:8:8])
	tx.Put(mvcc.MetaBucket, keyTermBytes, v[8:16:16])
}

// hookSlab is how many commits' consistent index and term one slab holds.
const hookSlab = 32

// unlock ends a write transaction of the batch tx (etcd's
// batchTxBuffered.Unlock): its puts are written back into the read buffer,
// and a transaction that deleted commits now, since readers would
// otherwise see the deleted records in the last commit (PR 17119).
func (m *Member) unlock() (committed bool) {
	if !m.be.Unlock(0) {
		return false
	}
	m.probe(ProbeCommitOnDelete)
	m.commit()
	return true
}

// bufferedRead is the backend's hook for a read of a bucket other than
// key served from the read buffer, between a write and the next commit: a
// reader of the committed database alone would have seen the old value
// (the window of etcd #13766's kind).
func (m *Member) bufferedRead(string) { m.probe(ProbeReadBuffered) }

// keyCIBytes and keyTermBytes are the keys the pre-commit hook writes,
// shared by every commit of every member instead of a conversion each:
// the backend keeps a key as it is given and never writes into it, and
// their capacity ends at their length, so an append copies.
var keyCIBytes, keyTermBytes = []byte(KeyCI)[:len(KeyCI):len(KeyCI)], []byte(KeyTerm)[:len(KeyTerm):len(KeyTerm)]

// periodicCommit is backend.run's ticker (every BatchInterval): it
// commits only when writes are pending (safePending() != 0).
func (m *Member) periodicCommit() {
	if m.be.Pending() > 0 {
		m.commit()
	}
	m.timer(m.cfg.BatchInterval, TimerCommit)
}

// ForceCommit is etcd's backend ForceCommit, which maintenance paths
// call to commit at once, between the periodic commits; here scenarios
// use it. It commits even when no write is pending.
func (m *Member) ForceCommit() {
	m.commit()
	m.pump()
}

// commit is batchTx.Commit / ForceCommit: the pre-commit hook writes the
// consistent index (so a forced commit is always real), then the commit
// record and its fsync.
func (m *Member) commit() {
	m.failpoint(FPBeforeCommit)
	wrote, err := m.be.WriteCommit(true)
	if err != nil {
		panic(err)
	}
	if !wrote {
		return
	}
	m.failpoint(FPCommitBeforeSync)
	if err := m.be.SyncCommit(); err != nil {
		panic(err)
	}
	m.durableCommit()
	m.failpoint(FPAfterCommit)
}

func (m *Member) durableCommit() {
	m.stats.Commits++
	if o := m.cfg.Observer; o != nil {
		o.DurableCommit(m)
	}
}

// startCompaction follows etcd's kvstore.compact: the scheduled revision
// is force-committed, then compacted revisions are deleted in batches by a
// background job, each batch force-committed; the finished marker rides
// the last batch without a force commit (#17780).
func (m *Member) startCompaction(job *mvcc.CompactionJob) {
	m.stats.Compactions++
	// etcd's FIFO scheduler runs compactions one after the other.
	m.commits.jobs = append(m.commits.jobs, job)
	m.failpoint(FPCompactSchedule)
	m.commit()
	m.probe(ProbeCompactSchedule)
	if len(m.commits.jobs) == 1 {
		m.timer(m.cfg.CompactionInterval, TimerCompactStep)
	}
}

func (m *Member) compactStep() {
	if len(m.commits.jobs) == 0 {
		return
	}
	job := m.commits.jobs[0]
	if m.commits.defragging {
		m.timer(m.cfg.CompactionInterval, TimerCompactStep)
		return
	}
	m.failpoint(FPCompactFinished)
	done := job.Step(m.be, m.cfg.CompactionBatchLimit)
	committed := m.unlock()
	if done {
		m.probe(ProbeCompactDone)
		m.commits.jobs[0] = nil
		m.commits.jobs = m.commits.jobs[1:]
		if len(m.commits.jobs) > 0 {
			m.timer(m.cfg.CompactionInterval, TimerCompactStep)
		}
		return
	}
	m.failpoint(FPCompactBatch)
	// etcd's ForceCommit after the batch: a batch that deleted has just
	// committed at its unlock, and then etcd's ForceCommit finds nothing
	// pending (its hook writes the consistent index only when it grew,
	// UnsafeUpdateConsistentIndex), so only a batch that deleted nothing
	// commits here.
	if !committed {
		m.commit()
	}
	m.probe(ProbeCompactBatch)
	m.timer(m.cfg.CompactionInterval, TimerCompactStep)
}

// commitLoop holds the member's background backend work.
type commitLoop struct {
	jobs         []*mvcc.CompactionJob // scheduled compactions, oldest first
	defragging   bool
	defragClient int
	defragID     uint64
	hookVals     []byte // the rest of the pre-commit hook's slab
}

// startDefrag is backend.defrag: it commits pending writes — through the
// consistent-index hook since v3.5.6 (#14730), without it before
// (defrag-no-ci-hook, #14685) — copies the database, and renames the copy
// over the original after the copy's latency. The apply loop waits.
func (m *Member) startDefrag(client int, id uint64) {
	if m.commits.defragging {
		m.probe(ProbeDefragBusy)
		m.out.Replies = append(m.out.Replies, Reply{Client: client, ID: id, Result: Result{Code: ErrStopped}})
		return
	}
	m.failpoint(FPDefragBeforeCopy)
	pending := m.be.Pending() > 0
	if err := m.be.DefragCopy(!m.cfg.Bugs.DefragNoCIHook); err != nil {
		panic(err)
	}
	if pending {
		m.durableCommit()
	}
	m.stats.Defrags++
	m.probe(ProbeDefragCopy)
	m.commits.defragging, m.commits.defragClient, m.commits.defragID = true, client, id
	m.apply.blocked = true
	m.timer(m.cfg.Latency.Draw(m.cfg.Rand, disk.OpSync)*4, TimerDefragRename)
}

func (m *Member) defragRename() {
	if !m.commits.defragging {
		return
	}
	m.failpoint(FPDefragBeforeRenam)
	if err := m.be.DefragRename(); err != nil {
		panic(err)
	}
	m.probe(ProbeDefragRename)
	m.commits.defragging = false
	m.apply.blocked = false
	m.out.Replies = append(m.out.Replies, Reply{Client: m.commits.defragClient, ID: m.commits.defragID, Result: Result{Rev: m.state.KV.Rev()}})
	m.apply.arm(m)
}
