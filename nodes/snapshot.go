package nodes

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/snap"
	"github.com/etcdsim/etcdsim/nodes/wal"
)

// snapDBName is the database file of a received snapshot (etcd's
// <index>.snap.db, written before the snapshot message reaches raft).
func snapDBName(index uint64) string { return fmt.Sprintf("snap-%016x.snap.db", index) }

// snapDBIndex returns the index a received database's name holds, if name
// is one (snapDBName's, exactly).
func snapDBIndex(name string) (uint64, bool) {
	hex, ok := strings.CutPrefix(name, "snap-")
	if hex, ok2 := strings.CutSuffix(hex, ".snap.db"); ok && ok2 {
		return wal.Hex16(hex)
	}
	return 0, false
}

// maybeSnapshot is EtcdServer.triggerSnapshot: every SnapshotCount applied
// entries, once the raft loop has persisted them (etcd waits on notifyc
// so that the applied index is in raft storage), commit the backend so
// that it carries the applied index, save a raft snapshot, release old WAL
// segments, purge snapshot files beyond the newest five, and compact the
// raft log, keeping
// SnapshotCatchUp entries for slow followers.
func (m *Member) maybeSnapshot() {
	a := &m.apply
	if a.applied-m.snapIndex < m.cfg.SnapshotCount || a.applied > m.DurableLastIndex() || a.locked != nil {
		return
	}
	if cur, _ := m.storage.Snapshot(); a.applied <= cur.GetMetadata().GetIndex() {
		return // a received snapshot is ahead, waiting in the apply queue
	}
	m.commit()
	var data []byte
	if m.cfg.Membership {
		data = m.state.Cluster.V2Data() // etcd's snapshot data: the v2store
	}
	s, err := m.storage.CreateSnapshot(a.applied, m.confState, data)
	if err != nil {
		panic(fmt.Sprintf("nodes: create snapshot at %d: %v", a.applied, err))
	}
	m.saveSnapshot(s, nil)
	m.probe(ProbeSnapLocal)
	m.snapIndex = a.applied
	released := m.wal.Stats().Released
	if err := m.wal.ReleaseTo(m.snapIndex); err != nil {
		panic(err)
	}
	if m.wal.Stats().Released > released {
		m.probe(ProbeSnapWALRelease)
	}
	// etcd purges .snap files beyond the newest MaxFiles (its purge
	// goroutine), not at each snapshot: older ones stay for a restart.
	if err := snap.Purge(m.fs, snap.MaxFiles); err != nil {
		panic(err)
	}
	m.releaseSnapDBs(m.snapIndex)
	if m.snapIndex > m.cfg.SnapshotCatchUp {
		if err := m.storage.Compact(m.snapIndex - m.cfg.SnapshotCatchUp); err != nil && err != raft.ErrCompacted {
			panic(err)
		}
	}
	m.stats.Snapshots++
}

// saveSnapshot is storage.SaveSnap: the .snap file first, then the WAL's
// snapshot record (the order #11888 fixed), both synced.
//
// A received snapshot comes in a Ready whose entries and HardState follow
// its record in the WAL. etcd v3.6 syncs the record alone, so a power loss
// that tears the next write keeps entries after the record but not the
// HardState that commits it: boot then discards the record (its index is
// above the durable commit), starts from the previous snapshot, and meets a
// gap that ReadAll cannot repair (docs/findings.md, wal-snapshot-gap). The
// correct model saves the Ready's term and vote with commit at the
// snapshot's index in the record's fsync, so the record is valid before
// anything after it can be durable. A local snapshot (hs nil) needs none:
// the HardState that committed its index was written before it.
func (m *Member) saveSnapshot(s *raftpb.Snapshot, hs *raftpb.HardState) {
	if hs != nil {
		// etcd's raftBeforeSaveSnap and raftAfterSaveSnap are in the raft
		// loop, around a received snapshot's SaveSnap; a local snapshot
		// (EtcdServer.snapshot) calls SaveSnap without them.
		m.failpoint(FPBeforeSaveSnap)
	}
	if err := snap.Save(m.fs, s); err != nil {
		panic(err)
	}
	m.failpoint(FPBeforeWALSaveSnap)
	md := s.GetMetadata()
	var st *raftpb.HardState
	if hs != nil && !m.cfg.Bugs.WALSnapshotGap {
		if raft.IsEmptyHardState(hs) {
			hs = m.prevHS // raft moves Commit with every snapshot; never reached
		}
		st = &raftpb.HardState{Term: new(hs.GetTerm()), Vote: new(hs.GetVote()), Commit: new(md.GetIndex())}
	}
	if err := m.wal.SaveSnapshot(md.GetIndex(), md.GetTerm(), st); err != nil {
		panic(err)
	}
	if hs != nil {
		m.probe(ProbeSnapSave)
		m.failpoint(FPAfterSaveSnap)
	}
}

// withSnapshotDB is etcd's createMergedSnapshotMessage (called by its
// apply loop with ep.appliedi, ep.appliedt and ep.confState): a MsgSnap
// carries the leader's whole backend, committed first (KV().Commit), and
// its metadata is the applied index's and term, with the configuration of
// now, not those of the raft snapshot that raft chose to send. So the
// database's consistent index is the snapshot's index: the recipient's
// raft commits at the snapshot's index (its HardState commit), and a
// database ahead of it would fail server/verify until a leader tells the
// recipient a higher commit (seed 1720 of 5 members: a raft snapshot at
// 3400 carried a database at 3419, and a graceful stop right after the
// install left the WAL's HardState commit at 3400). The leader reports
// the send as finished, as rafthttp does once the stream is out.
func (m *Member) withSnapshotDB(msg *raftpb.Message) *raftpb.Message {
	m.commit()
	m.probe(ProbeSnapSend)
	out := proto.Clone(msg).(*raftpb.Message)
	out.Snapshot.Data = backend.Image(m.be.State())
	// The configuration of now also lets a member added after the last
	// raft snapshot in it (raft drops a snapshot whose configuration
	// lacks its recipient).
	md := out.Snapshot.Metadata
	md.Index, md.Term = new(m.apply.applied), new(m.apply.appliedTerm)
	md.ConfState = proto.Clone(m.confState).(*raftpb.ConfState)
	if m.cfg.Membership {
		// The v2 membership (v2store) first, then the database.
		v2 := m.state.Cluster.V2Data()
		out.Snapshot.Data = append(append(binary.AppendUvarint(nil, uint64(len(v2))), v2...), out.Snapshot.Data...)
	}
	m.node().ReportSnapshot(msg.GetTo(), raft.SnapshotFinish)
	return out
}

// receiveSnapshot saves the database of an incoming MsgSnap as
// <index>.snap.db (etcd's snapshotHandler: SaveDBFrom, before raft sees
// the message) and returns the message without it.
func (m *Member) receiveSnapshot(msg *raftpb.Message) *raftpb.Message {
	idx := msg.GetSnapshot().GetMetadata().GetIndex()
	db, v2 := msg.GetSnapshot().GetData(), []byte(nil)
	if m.cfg.Membership {
		n, k := binary.Uvarint(db)
		if k <= 0 || uint64(len(db)-k) < n {
			panic(fmt.Sprintf("nodes: malformed snapshot message at %d", idx))
		}
		v2, db = db[k:k+int(n)], db[k+int(n):]
	}
	m.probe(ProbeSnapReceive)
	if m.snapQueued() || m.snapPending() {
		m.probe(ProbeSnapReceivePending)
	}
	name := snapDBName(idx)
	f, err := m.fs.Create(name)
	if err == nil {
		_, err = f.Write(db)
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = m.fs.SyncDir()
	}
	if err != nil {
		panic(err)
	}
	out := proto.Clone(msg).(*raftpb.Message)
	out.Snapshot.Data = v2
	return out
}

// The cost of applying a received snapshot. etcd's applySnapshot opens the
// received <index>.snap.db (OpenSnapshotBackend: a rename and bbolt's open),
// then recovers the lessor, the mvcc store (kv.Restore reads every key
// revision back into the in-memory index), auth, alarms and the
// membership from it, all on the apply goroutine; the raft goroutine keeps
// stepping meanwhile. The fixed part is the open and the small stores;
// the per-byte part is the mvcc restore, which decodes each revision and
// inserts it in the btree index: on the order of a microsecond per key of
// some tens of bytes, taken here as 50 MB/s (20 ns per byte) of database.
const (
	snapApplyFixed   = time.Millisecond
	snapApplyPerByte = 20 * time.Nanosecond
)

// applySnapshotCost is the simulated time the apply of a received
// snapshot whose database is size bytes takes.
func applySnapshotCost(size int64) time.Duration {
	return snapApplyFixed + time.Duration(size)*snapApplyPerByte
}

// beginApplySnapshot starts EtcdServer.applySnapshot of s: the apply loop
// is busy with it for applySnapshotCost of its database, during which the
// raft loop goes on (appends, sends, elections) and reads see the old
// stores, and ends at TimerApplySnap. The stores switch at the end
// (applySnapshot), so a crash during the apply finds the disk as a crash
// just before the open does; etcd renames the database first, but a crash
// just after its rename is a state the world reaches already. The
// received database is kept from release while it is applied
// (snapQueuedAt): etcd has renamed it into place by then.
func (m *Member) beginApplySnapshot(s *raftpb.Snapshot) {
	idx := s.GetMetadata().GetIndex()
	if idx <= m.apply.applied {
		panic(fmt.Sprintf("nodes: snapshot index %d should be above applied index %d", idx, m.apply.applied))
	}
	m.probe(ProbeSnapApply)
	var size int64
	if f, err := m.fs.Open(snapDBName(idx)); err == nil {
		size = f.Size()
	}
	m.apply.installing = s
	m.timer(applySnapshotCost(size), TimerApplySnap)
}

// finishApplySnapshot ends the apply begun by beginApplySnapshot, sends
// the MsgSnaps raft asked for meanwhile and lets the apply loop go on.
func (m *Member) finishApplySnapshot() {
	a := &m.apply
	s := a.installing
	if s == nil {
		return
	}
	m.applySnapshot(s)
	a.installing = nil
	if held := a.snapSends; len(held) > 0 {
		a.snapSends = nil
		m.send(held)
	}
	a.arm(m)
}

// probeInstalling counts an event that reaches the member while it
// applies a received snapshot.
func (m *Member) probeInstalling() {
	if m.apply.installing != nil {
		m.probe(ProbeSnapApplyInterleaved)
	}
}

// applySnapshot is the end of EtcdServer.applySnapshot: open the received
// database in place of the backend, restore every store from it, and take
// the consistent index from it (before anything can commit: #13922).
func (m *Member) applySnapshot(s *raftpb.Snapshot) {
	md := s.GetMetadata()
	idx := md.GetIndex()
	m.failpoint(FPBeforeOpenSnapshot)
	if err := m.fs.Rename(snapDBName(idx), DBName); err != nil {
		panic(fmt.Sprintf("nodes: open snapshot backend: %v", err))
	}
	oldAuth := m.state.Auth
	if err := m.openBackend(); err != nil {
		panic(err)
	}
	m.probe(ProbeSnapOpenBackend)
	// authStore.Recover: the same store reloads from the new backend; with
	// perm-cache-stale its permission cache keeps its old contents (#14571).
	oldAuth.Recover(m.be.ReadTx())
	m.state.Auth = oldAuth
	if m.cfg.Membership {
		// v2store.Recovery(snapshot.Data); RaftCluster.Recover reads the
		// members from the new backend (openBackend).
		if err := m.state.Cluster.SetV2Data(s.GetData()); err != nil {
			panic(err)
		}
	}
	m.apply.applied, m.apply.appliedTerm = idx, md.GetTerm()
	m.snapIndex = idx
	m.snapDBCI = m.apply.ci
	m.setConfState(md.GetConfState())
	if idx >= m.confAhead {
		m.confAhead = 0
	}
	m.stats.SnapshotsApplied++
	if o := m.cfg.Observer; o != nil {
		o.SnapshotInstalled(m)
	}
	m.serveReads()
}

// releaseSnapDBs removes received snapshot databases below index (etcd's
// ReleaseSnapDBs).
func (m *Member) releaseSnapDBs(index uint64) {
	for _, name := range m.fs.List() {
		if i, ok := snapDBIndex(name); ok && i < index && !m.snapQueuedAt(i) {
			if err := m.fs.Remove(name); err != nil {
				panic(err)
			}
			m.probe(ProbeSnapRelease)
		}
	}
}
