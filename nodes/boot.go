package nodes

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
	"github.com/etcdsim/etcdsim/nodes/snap"
	"github.com/etcdsim/etcdsim/nodes/wal"
)

// DBName is the backend file of a member.
const DBName = "db"

// Start starts a member on fs: a new member bootstraps the cluster when
// fs holds no WAL (etcd's startNode); otherwise it restarts from what the
// disk kept (etcd's restartNode): raft storage rebuilt from the WAL, the
// backend reopened, and every committed entry above the consistent index
// applied again.
func Start(cfg Config, fs *disk.FS) (*Member, error) {
	cfg.defaults()
	m := &Member{cfg: cfg, fs: fs, storage: newMemStorage(), waiters: map[uint64]waiter{}}
	fresh, err := m.openWAL(!wal.Exist(fs))
	if err != nil {
		return nil, err
	}
	beExist := fs.Exists(DBName)
	if err := m.openBackend(); err != nil {
		return nil, err
	}
	if err := m.recoverSnapshotBackend(); err != nil {
		return nil, err
	}
	if err := m.checkSnapshotBackend(beExist); err != nil {
		return nil, err
	}
	m.bootCI = m.apply.ci
	m.bootProbes(fresh)
	rn, err := raft.NewRawNode(m.raftConfig(0))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBoot, err)
	}
	m.rn = rn
	if fresh && !cfg.Join {
		if err := rn.Bootstrap(m.bootstrapPeers()); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBoot, err)
		}
	}
	if err := m.recoverMembership(); err != nil {
		return nil, err
	}
	m.timer(cfg.TickInterval, TimerTick)
	m.timer(cfg.BatchInterval, TimerCommit)
	m.pump()
	return m, nil
}

// openWAL creates the WAL of a fresh member or opens the one on disk, and
// reports whether the member is fresh: it must bootstrap the cluster.
func (m *Member) openWAL(fresh bool) (bool, error) {
	if fresh {
		w, err := wal.CreateSized(m.fs, nil, m.cfg.WALSegmentBytes)
		if err != nil {
			return true, fmt.Errorf("%w: %v", ErrBoot, err)
		}
		m.wal = w
		return true, nil
	}
	w, c, err := wal.OpenCached(m.fs, m.cfg.WALCache)
	if _, ok := errors.AsType[*wal.ReadError](err); ok {
		// etcd's openWALFromSnapshot repairs only io.ErrUnexpectedEOF in
		// the last file; a CRC mismatch, or a record cut short in an
		// earlier file, ends the boot in lg.Fatal with these words.
		return false, fmt.Errorf("%w: failed to read WAL, cannot be repaired: %w", ErrBoot, err)
	}
	if err != nil {
		return false, fmt.Errorf("%w: %v", ErrBoot, err)
	}
	if c.Blank() && !m.cfg.Bugs.BootstrapNotDurable {
		// etcd #2877, #12578: etcd creates the WAL durably (header, rename,
		// directory sync) before the first Ready's bootstrap entries are
		// synced, and restarts a member whose WAL holds nothing more with
		// no voters: a lone member never campaigns. Such a WAL holds
		// nothing raft ever said, entry, vote or term, so the correct model
		// removes it and bootstraps as new (docs/findings.md).
		if err := wal.Remove(m.fs); err != nil {
			return false, fmt.Errorf("%w: %v", ErrBoot, err)
		}
		m.probe(ProbeRestartBlankWAL)
		return m.openWAL(true)
	}
	m.wal = w
	m.wal.SetSegmentBytes(m.cfg.WALSegmentBytes)
	// etcd #11888: the newest snapshot with a WAL record at or below the
	// durable commit index.
	s, err := snap.LoadNewestAvailable(m.fs, c.ValidSnapshots(), c.HardState.GetCommit())
	if err != nil && !errors.Is(err, snap.ErrNoSnapshot) {
		return false, fmt.Errorf("%w: %v", ErrBoot, err)
	}
	ents, from := c.Entries, uint64(0)
	if s != nil {
		m.bootSnapData = s.GetData()
		if err := m.storage.ApplySnapshot(s); err != nil {
			return false, fmt.Errorf("%w: %v", ErrBoot, err)
		}
		md := s.GetMetadata()
		m.snapIndex, m.apply.applied, m.apply.queuedTo = md.GetIndex(), md.GetIndex(), md.GetIndex()
		m.apply.appliedTerm = md.GetTerm()
		m.setConfState(md.GetConfState())
		for len(ents) > 0 && ents[0].GetIndex() <= m.snapIndex {
			ents = ents[1:]
		}
		from = m.snapIndex
	}
	if len(ents) > 0 && ents[0].GetIndex() > from+1 {
		// etcd's ReadAll from the chosen snapshot: an entry past the end
		// of what it has read is ErrSliceOutOfRange, which bootstrap's
		// openWALFromSnapshot does not repair (it repairs only io.ErrUnexpectedEOF).
		return false, fmt.Errorf("%w: failed to read WAL, cannot be repaired: entry %d follows snapshot %d (wal: slice bounds out of range)", ErrBoot, ents[0].GetIndex(), from)
	}
	if err := m.storage.SetHardState(c.HardState); err != nil {
		return false, fmt.Errorf("%w: %v", ErrBoot, err)
	}
	m.prevHS = c.HardState
	if err := m.storage.Append(ents); err != nil {
		return false, fmt.Errorf("%w: %v", ErrBoot, err)
	}
	return false, nil
}

// recoverSnapshotBackend is etcd's RecoverSnapshotBackend: a backend
// whose consistent index is below the snapshot's index has not applied
// the snapshot yet; its database, received as <index>.snap.db, takes its
// place. Without that file etcd panics ("failed to recover v3 backend
// from snapshot", the symptom of #13937 and #14382).
func (m *Member) recoverSnapshotBackend() error {
	if m.snapIndex <= m.apply.ci {
		return nil
	}
	name := snapDBName(m.snapIndex)
	if !m.fs.Exists(name) {
		return fmt.Errorf("%w: failed to recover v3 backend from snapshot %d: consistent index %d and no %s", ErrBoot, m.snapIndex, m.apply.ci, name)
	}
	if err := m.fs.Rename(name, DBName); err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	if err := m.openBackend(); err != nil {
		return err
	}
	m.probe(ProbeRestartSnapDB)
	m.snapDBCI = m.apply.ci
	return nil
}

// checkSnapshotBackend is the check etcd's bootstrap makes once the
// backend is recovered (recoverSnapshot, since #17151): a backend that
// existed must hold a consistent index at or past the snapshot the raft
// log starts from, or etcd refuses to start. A consistent index of 0 only
// warns ("consistent index was never saved"), as in etcd.
func (m *Member) checkSnapshotBackend(beExist bool) error {
	if !beExist || m.apply.ci >= m.snapIndex || m.apply.ci == 0 {
		return nil
	}
	return fmt.Errorf("%w: database file (%s index %d) does not match with snapshot (index %d)", ErrBoot, DBName, m.apply.ci, m.snapIndex)
}

func (m *Member) openBackend() error {
	be, err := backend.OpenCached(m.fs, DBName, m.cfg.BackendCache)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	m.be = be
	be.SetPreCommitHook(m.preCommitHook)
	be.SetBufferedReadHook(m.bufferedRead)
	// etcd reads the consistent index and restores its stores through the
	// backend's ReadTx (cindex.ReadConsistentIndex(be.ReadTx()), ...).
	rd := be.ReadTx()
	m.apply.ci = MetaUint(rd, KeyCI)
	m.apply.ciTerm = MetaUint(rd, KeyTerm)
	st, job, err := RestoreState(rd, m.cfg.Bugs)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	m.state = st
	st.oldVersion = m.cfg.Bugs.LeaseRevokeNoAuth && m.cfg.ID == 1
	if job != nil {
		if m.rn == nil {
			m.probe(ProbeRestartCompaction)
		}
		// etcd resumes an unfinished compaction at restore.
		m.commits.jobs = []*mvcc.CompactionJob{job}
		m.timer(m.cfg.CompactionInterval, TimerCompactStep)
	}
	return nil
}

// bootstrapPeers are the voters a new cluster starts with; with the
// membership model each bootstrap entry carries its member, as etcd's
// startNode puts json(Member) in each raft.Peer's Context.
func (m *Member) bootstrapPeers() []raft.Peer {
	peers := make([]raft.Peer, len(m.cfg.Peers))
	for i, id := range m.cfg.Peers {
		peers[i] = raft.Peer{ID: id}
		if !m.cfg.Membership {
			continue
		}
		for _, cm := range m.cfg.Initial {
			if cm.ID == id {
				b, err := json.Marshal(&cm)
				if err != nil {
					panic(err)
				}
				peers[i].Context = b
			}
		}
	}
	return peers
}

// recoverMembership finishes etcd's bootstrappedCluster.Finalize: the v2
// copy of the membership comes from the snapshot boot loaded, and a
// membership with more learners than --max-learners stops the start.
func (m *Member) recoverMembership() error {
	if !m.cfg.Membership {
		return nil
	}
	cl := m.state.Cluster
	if err := cl.SetV2Data(m.bootSnapData); err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	m.bootSnapData = nil
	if err := cl.ValidateMaxLearners(); err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	return nil
}
