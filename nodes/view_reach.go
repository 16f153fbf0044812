package nodes

// LogBounds returns the first and last index of the member's raft log in
// memory (raft's MemoryStorage): entries below first are compacted away,
// so a follower that needs one of them gets a snapshot.
func (m *Member) LogBounds() (first, last uint64) {
	first, _ = m.storage.FirstIndex()
	last, _ = m.storage.LastIndex()
	return first, last
}
