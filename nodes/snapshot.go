package nodes

import "go.etcd.io/raft/v3/raftpb"

// saveSnapshot and applyRaftSnapshot handle a snapshot received from the
// leader. Members never compact their raft log yet, so raft never sends
// one; until log compaction lands, reaching here is a model bug.
func (m *Member) saveSnapshot(s *raftpb.Snapshot) {
	panic("nodes: raft snapshot received, but snapshots are not modelled yet")
}

func (m *Member) applyRaftSnapshot(s *raftpb.Snapshot) {
	panic("nodes: raft snapshot received, but snapshots are not modelled yet")
}
