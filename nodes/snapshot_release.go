package nodes

import "go.etcd.io/raft/v3/raftpb"

// releaseReceived is etcd's storage.Release after a received snapshot is
// in raft's storage (raftNode.start, between raftAfterApplySnap and
// raftAfterWALRelease): the WAL segments below it are released
// (ReleaseLockTo) and so are the received databases below it
// (ReleaseSnapDBs). A database whose snapshot still waits in the apply
// queue is kept: etcd's raft loop reaches the next snapshot's Release
// only after the apply loop has taken the previous one (its notifyc), so
// the older database is never needed after it is gone.
func (m *Member) releaseReceived(s *raftpb.Snapshot) {
	idx := s.GetMetadata().GetIndex()
	released := m.wal.Stats().Released
	if err := m.wal.ReleaseTo(idx); err != nil {
		panic(err)
	}
	if m.wal.Stats().Released > released {
		m.probe(ProbeSnapWALRelease)
	}
	m.releaseSnapDBs(idx)
}

// snapQueuedAt reports whether the snapshot at index waits in the apply
// queue or is being applied.
func (m *Member) snapQueuedAt(index uint64) bool {
	a := &m.apply
	if a.installing != nil && a.installing.GetMetadata().GetIndex() == index {
		return true
	}
	for _, it := range a.q[a.head:] {
		if it.snap != nil && it.snap.GetMetadata().GetIndex() == index {
			return true
		}
	}
	for _, it := range a.held {
		if it.snap != nil && it.snap.GetMetadata().GetIndex() == index {
			return true
		}
	}
	return false
}
