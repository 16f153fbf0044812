package nodes

import (
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// memStorage is raft's MemoryStorage, as etcd's raftNode uses it, with its
// first and last index kept at hand: raft asks for them several times per
// message and Ready, and MemoryStorage takes its lock at each ask. They
// change only where the member changes the storage (Append, ApplySnapshot,
// Compact; raft only reads it), which reads them back once; every other
// method is MemoryStorage's own.
type memStorage struct {
	*raft.MemoryStorage
	first, last uint64
}

func newMemStorage() *memStorage {
	s := &memStorage{MemoryStorage: raft.NewMemoryStorage()}
	s.bounds()
	return s
}

// bounds reads the first and last index back after a change.
func (s *memStorage) bounds() {
	s.first, _ = s.MemoryStorage.FirstIndex()
	s.last, _ = s.MemoryStorage.LastIndex()
}

// FirstIndex is MemoryStorage.FirstIndex.
func (s *memStorage) FirstIndex() (uint64, error) { return s.first, nil }

// LastIndex is MemoryStorage.LastIndex.
func (s *memStorage) LastIndex() (uint64, error) { return s.last, nil }

// Append is MemoryStorage.Append.
func (s *memStorage) Append(ents []*raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	err := s.MemoryStorage.Append(ents)
	s.bounds()
	return err
}

// ApplySnapshot is MemoryStorage.ApplySnapshot.
func (s *memStorage) ApplySnapshot(snap *raftpb.Snapshot) error {
	err := s.MemoryStorage.ApplySnapshot(snap)
	s.bounds()
	return err
}

// Compact is MemoryStorage.Compact.
func (s *memStorage) Compact(index uint64) error {
	err := s.MemoryStorage.Compact(index)
	s.bounds()
	return err
}
