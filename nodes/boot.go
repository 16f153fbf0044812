package nodes

import (
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
	m := &Member{cfg: cfg, fs: fs, storage: raft.NewMemoryStorage(), waiters: map[uint64]waiter{}}
	fresh, err := m.openWAL(!wal.Exist(fs))
	if err != nil {
		return nil, err
	}
	if err := m.openBackend(); err != nil {
		return nil, err
	}
	if err := m.recoverSnapshotBackend(); err != nil {
		return nil, err
	}
	m.bootProbes(fresh)
	rn, err := raft.NewRawNode(m.raftConfig(0))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBoot, err)
	}
	m.rn = rn
	if fresh {
		peers := make([]raft.Peer, len(cfg.Peers))
		for i, id := range cfg.Peers {
			peers[i] = raft.Peer{ID: id}
		}
		if err := rn.Bootstrap(peers); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBoot, err)
		}
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
		w, err := wal.Create(m.fs, nil)
		if err != nil {
			return true, fmt.Errorf("%w: %v", ErrBoot, err)
		}
		m.wal = w
		m.wal.SetSegmentBytes(m.cfg.WALSegmentBytes)
		return true, nil
	}
	w, c, err := wal.OpenCached(m.fs, m.cfg.WALCache)
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
		if err := m.storage.ApplySnapshot(s); err != nil {
			return false, fmt.Errorf("%w: %v", ErrBoot, err)
		}
		md := s.GetMetadata()
		m.snapIndex, m.apply.applied, m.apply.queuedTo = md.GetIndex(), md.GetIndex(), md.GetIndex()
		m.confState = md.GetConfState()
		m.confVote = len(m.confState.GetVoters())
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

func (m *Member) openBackend() error {
	be, err := backend.OpenCached(m.fs, DBName, m.cfg.BackendCache)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	m.be = be
	be.SetPreCommitHook(m.preCommitHook)
	m.apply.ci = MetaUint(be, KeyCI)
	m.apply.ciTerm = MetaUint(be, KeyTerm)
	st, job, err := RestoreState(be, m.cfg.Bugs)
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
