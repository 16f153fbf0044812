package nodes

import (
	"fmt"

	"go.etcd.io/raft/v3"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
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
	m := &Member{cfg: cfg, fs: fs, storage: raft.NewMemoryStorage(), waiters: map[uint64]int{}}
	fresh := !wal.Exist(fs)
	if err := m.openWAL(fresh); err != nil {
		return nil, err
	}
	if err := m.openBackend(); err != nil {
		return nil, err
	}
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

func (m *Member) openWAL(fresh bool) error {
	if fresh {
		w, err := wal.Create(m.fs, nil)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBoot, err)
		}
		m.wal = w
		return nil
	}
	w, c, err := wal.Open(m.fs)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	m.wal = w
	if err := m.storage.SetHardState(c.HardState); err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	m.prevHS = c.HardState
	if err := m.storage.Append(c.Entries); err != nil {
		return fmt.Errorf("%w: %v", ErrBoot, err)
	}
	return nil
}

func (m *Member) openBackend() error {
	be, err := backend.Open(m.fs, DBName)
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
	if job != nil {
		// etcd resumes an unfinished compaction at restore.
		m.commits.jobs = []*mvcc.CompactionJob{job}
		m.timer(m.cfg.CompactionInterval, TimerCompactStep)
	}
	return nil
}
