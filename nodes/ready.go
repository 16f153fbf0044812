package nodes

import (
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/disk"
)

// pump starts the next Ready when none is being persisted. It follows the
// order of etcd's raftNode.start (server/etcdserver/raft.go):
//
//  1. committed entries go to the applier first, so applying runs
//     concurrently with the WAL write of the same Ready;
//  2. a leader sends its messages before saving (raft thesis §10.2.1);
//  3. the snapshot, then entries and HardState are written to the WAL,
//     fsynced only when raft.MustSync says so — a HardState change that
//     only advances Commit is not fsynced;
//  4. (finishReady, after the fsync's latency) entries are appended to the
//     MemoryStorage, followers send, and Advance.
//
// A Ready that needs no fsync finishes at once: etcd's WAL.Save without a
// sync only encodes into the page writer's buffer (wal.go), so nothing
// waits on the disk. Its failpoints still fire in order.
func (m *Member) pump() {
	for m.startReady() {
		m.finishReady()
	}
}

// node returns raft's RawNode for a call that may change raft's state
// (every call but its status getters): the next pump asks HasReady again.
func (m *Member) node() *raft.RawNode {
	m.idle = false
	return m.rn
}

// startReady takes the next Ready and writes it to the WAL. It reports
// whether the Ready can finish now (no fsync to wait for).
func (m *Member) startReady() bool {
	if m.inReady || m.idle {
		return false
	}
	if !m.rn.HasReady() {
		m.idle = true
		return false
	}
	rd := m.node().Ready()
	m.rd, m.inReady = rd, true
	m.stats.Readies++
	if rd.SoftState != nil {
		if rd.SoftState.Lead != m.lead {
			// etcd's newLeader: a leader, other than the last one raft
			// reported (None counts as a report).
			newLeader := rd.SoftState.Lead != raft.None
			m.lead = rd.SoftState.Lead
			m.stats.LeaderChanges++
			m.probe(ProbeLeaderChange)
			if newLeader {
				m.leaderChanged()
			}
		}
		// etcd's raftNode keeps islead from the last SoftState and uses it
		// for both halves of the Ready: a role change while the fsync is
		// pending shows in the next Ready, never between the two sends.
		m.islead = rd.SoftState.RaftState == raft.StateLeader
		m.leadership(m.islead)
	}
	m.readStates(rd.ReadStates)
	hasSnap := !raft.IsEmptySnap(rd.Snapshot)
	if hasSnap {
		// etcd applies a received snapshot only after the raft loop has
		// persisted it (notifyc), and before the entries that follow it.
		m.apply.push(item{snap: rd.Snapshot}, true)
		m.apply.queuedTo = max(m.apply.queuedTo, rd.Snapshot.GetMetadata().GetIndex())
	}
	m.handCommitted(&rd, hasSnap)
	if m.islead {
		m.failpoint(FPBeforeLeaderSend)
		m.send(rd.Messages)
	}
	m.failpoint(FPBeforeSaveWAL)
	hs := rd.HardState
	if hasSnap {
		m.saveSnapshot(rd.Snapshot, hs)
		if len(rd.Entries) > 0 {
			// The state of wal-snapshot-gap: a torn fsync of this Ready
			// can keep entries after the record without the HardState.
			m.probe(ProbeSnapWithEntries)
		}
	}
	// etcd forces an fsync after saving a snapshot (#10219): the HardState
	// that commits it must be durable before old WAL data is released, or
	// the snapshot is not valid at restart (index above the durable commit).
	m.mustSync = raft.MustSync(hs, m.prevHS, len(rd.Entries)) || hasSnap
	if err := m.wal.Save(hs, rd.Entries); err != nil {
		panic(err)
	}
	if !m.mustSync {
		return true
	}
	m.timer(m.cfg.Latency.Draw(m.cfg.Rand, disk.OpSync), TimerWALSync)
	return false
}

// handCommitted queues the Ready's committed entries for the applier.
// With one voter, entries that overlap the unstable ones must wait for the
// WAL fsync (etcd's shouldWaitWALSync, the fix of issue 14370); the bug
// mode ack-before-wal-sync instead applies a lone voter's new entries
// before they are durable, as raft before v3.6 let etcd do.
func (m *Member) handCommitted(rd *raft.Ready, hasSnap bool) {
	if m.cfg.Bugs.AckBeforeWALSync && m.confVote == 1 && len(rd.Entries) > 0 && m.islead {
		m.apply.enqueue(m, rd.CommittedEntries, false)
		m.apply.enqueue(m, rd.Entries, false)
		return
	}
	wait := shouldWaitWALSync(rd) || hasSnap
	m.apply.enqueue(m, rd.CommittedEntries, wait)
}

func shouldWaitWALSync(rd *raft.Ready) bool {
	if len(rd.CommittedEntries) == 0 || len(rd.Entries) == 0 {
		return false
	}
	last := rd.CommittedEntries[len(rd.CommittedEntries)-1].GetIndex()
	return last >= rd.Entries[0].GetIndex()
}

// finishReady runs when the WAL write of the current Ready completes.
func (m *Member) finishReady() {
	rd := &m.rd
	m.failpoint(FPAfterWriteWAL)
	if m.mustSync {
		if err := m.wal.Sync(); err != nil {
			panic(err)
		}
	}
	m.failpoint(FPAfterSaveWAL)
	if !raft.IsEmptySnap(rd.Snapshot) {
		m.failpoint(FPBeforeApplySnap)
		if err := m.storage.ApplySnapshot(rd.Snapshot); err != nil {
			panic(err)
		}
		m.failpoint(FPAfterApplySnap)
		m.releaseReceived(rd.Snapshot)
		m.failpoint(FPAfterWALRelease)
	}
	if err := m.storage.Append(rd.Entries); err != nil {
		panic(err)
	}
	if hs := rd.HardState; !raft.IsEmptyHardState(hs) {
		// raft builds a fresh HardState for every Ready and never changes
		// it afterwards (it keeps the pointer as its own previous one).
		m.prevHS = hs
		_ = m.storage.SetHardState(hs)
	}
	if o := m.cfg.Observer; o != nil && m.mustSync {
		last, _ := m.storage.LastIndex()
		o.WALSynced(m, m.prevHS, last)
	}
	if m.cfg.Membership && !m.islead && m.mustWaitApply(rd) {
		// etcd's raftNode.start: a follower or candidate whose Ready
		// commits a conf change waits for the apply of all its committed
		// entries before it sends, so that it never counts votes under a
		// configuration its apply has left behind.
		m.apply.walSynced(m)
		return
	}
	if !m.islead {
		m.failpoint(FPBeforeFollowerSend)
		m.send(rd.Messages)
	}
	// raft/v3 ignores Advance's Ready (Ready kept what Advance steps): an
	// empty one, not a copy of the Ready's 128 bytes.
	m.node().Advance(raft.Ready{})
	m.rd = raft.Ready{}
	m.inReady = false
	m.apply.walSynced(m)
}

// mustWaitApply sets waitApply when the Ready commits a conf change that
// the apply loop has not applied yet.
func (m *Member) mustWaitApply(rd *raft.Ready) bool {
	n := len(rd.CommittedEntries)
	if n == 0 || m.apply.applied >= rd.CommittedEntries[n-1].GetIndex() {
		return false
	}
	for _, e := range rd.CommittedEntries {
		if e.GetType() != raftpb.EntryNormal {
			m.waitApply = rd.CommittedEntries[n-1].GetIndex()
			return true
		}
	}
	return false
}

// finishWaited finishes a follower's Ready once the apply loop applied
// what it committed.
func (m *Member) finishWaited() {
	m.waitApply = 0
	m.send(m.rd.Messages)
	m.node().Advance(raft.Ready{}) // as finishReady: raft/v3 ignores its argument
	m.rd = raft.Ready{}
	m.inReady = false
}

func (m *Member) send(msgs []*raftpb.Message) {
	o := m.cfg.Observer
	for _, msg := range msgs {
		if m.cfg.Membership && m.state.Cluster.IsIDRemoved(msg.GetTo()) {
			continue // etcd's processMessages drops messages to removed members
		}
		if msg.GetType() == raftpb.MsgSnap && m.apply.installing != nil {
			m.apply.snapSends = append(m.apply.snapSends, msg)
			continue
		}
		if o != nil {
			o.Sending(m, msg)
		}
		if msg.GetType() == raftpb.MsgSnap {
			msg = m.withSnapshotDB(msg)
		}
		m.out.Msgs = append(m.out.Msgs, msg)
	}
}
