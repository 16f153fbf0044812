package nodes

import (
	"go.etcd.io/raft/v3"

	"github.com/etcdsim/etcdsim/nodes/snap"
)

// snapPending reports whether a received snapshot database newer than the
// member's snapshot is on its disk: one that raft has not handed out, or
// that waits to be saved or applied. It lists the directory, so it is
// asked only on the snapshot path and at a crash.
func (m *Member) snapPending() bool {
	for _, name := range m.fs.List() {
		if i, ok := receivedSnapIndex(name); ok && i > m.snapIndex {
			return true
		}
	}
	return false
}

// snapQueued reports whether a saved snapshot waits in the apply queue or
// is being applied.
func (m *Member) snapQueued() bool {
	a := &m.apply
	if a.installing != nil {
		return true
	}
	for _, it := range a.q[a.head:] {
		if it.snap != nil {
			return true
		}
	}
	for _, it := range a.held {
		if it.snap != nil {
			return true
		}
	}
	return false
}

// Dying counts the probes of what a member was in the middle of when its
// process dies (the world calls it at every crash, before it drops the
// member): a received snapshot not yet saved or not yet applied, a
// compaction or a defrag unfinished, committed entries not yet applied.
func (m *Member) Dying() {
	queued := m.snapQueued()
	switch {
	case queued:
		m.probe(ProbeCrashSnapSaved)
	case m.inReady && !raft.IsEmptySnap(m.rd.Snapshot):
		m.probe(ProbeCrashSnapSaved) // saved in the Ready whose fsync is pending
	case m.snapPending():
		m.probe(ProbeCrashSnapReceived)
	}
	if len(m.commits.jobs) > 0 {
		m.probe(ProbeCrashCompacting)
	}
	if m.commits.defragging {
		m.probe(ProbeCrashDefrag)
	}
	if a := &m.apply; a.head < len(a.q) || len(a.held) > 0 {
		m.probe(ProbeCrashApplyBehind)
	}
}

// bootProbes counts the restart path a start took: a fresh bootstrap, the
// WAL alone or a snapshot and the WAL after it, a choice among several
// snapshot files (etcd's LoadNewestAvailable, #11888), an older one than
// the newest on disk, and a torn WAL tail cut (wal.Repair).
func (m *Member) bootProbes(fresh bool) {
	if fresh {
		m.probe(ProbeRestartFresh)
		return
	}
	if m.snapIndex == 0 {
		m.probe(ProbeRestartWAL)
	} else {
		m.probe(ProbeRestartSnapshot)
	}
	files := snap.List(m.fs)
	if len(files) > 1 {
		m.probe(ProbeRestartSnapFiles)
	}
	if len(files) > 0 && files[0].Index > m.snapIndex {
		m.probe(ProbeRestartOlderSnap)
	}
	if m.wal.Stats().Repaired > 0 {
		m.probe(ProbeRestartTornTail)
	}
	if m.wal.Stats().RepairedCRC > 0 {
		m.probe(ProbeRestartTornCRC)
	}
}
