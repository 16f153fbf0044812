package nodes

import (
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// memStorage is raft's MemoryStorage, as etcd's raftNode uses it, with its
// first and last index, the term before first and its entries kept at
// hand: raft asks for the bounds several times per message and Ready, and
// MemoryStorage takes its lock at each ask; it asks for entries for every
// append it sends and every Ready's committed entries, and MemoryStorage
// sizes each one it returns with proto.Size (limitSize) even when the
// whole range is far below the limit. They change only where the member
// changes the storage (Append, ApplySnapshot, Compact; raft only reads
// it), which keeps them in step with MemoryStorage's own; every other
// method is MemoryStorage's own.
type memStorage struct {
	*raft.MemoryStorage
	first, last uint64
	// term0 is the term of entry first-1 (MemoryStorage's dummy entry:
	// the snapshot's or the last compacted one), and ents are the
	// entries first..last, the same pointers MemoryStorage holds. Slices
	// of ents handed out are capacity-limited, and a rewrite of ents
	// copies (as MemoryStorage's own Append), so they never change.
	term0 uint64
	ents  []*raftpb.Entry
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

// Term is MemoryStorage.Term.
func (s *memStorage) Term(i uint64) (uint64, error) {
	switch {
	case i < s.first-1:
		return 0, raft.ErrCompacted
	case i > s.last:
		return 0, raft.ErrUnavailable
	case i == s.first-1:
		return s.term0, nil
	}
	return s.ents[i-s.first].GetTerm(), nil
}

// Entries is MemoryStorage.Entries: when an upper bound of the entries'
// encoded size is within maxSize, MemoryStorage's limitSize would return
// them all, and they are returned without sizing each; otherwise, and for
// every error, MemoryStorage answers.
func (s *memStorage) Entries(lo, hi, maxSize uint64) ([]*raftpb.Entry, error) {
	if lo < s.first || hi > s.last+1 || lo > hi || len(s.ents) == 0 {
		return s.MemoryStorage.Entries(lo, hi, maxSize)
	}
	ents := s.ents[lo-s.first : hi-s.first : hi-s.first]
	var bound uint64
	for _, e := range ents {
		bound += entrySizeBound(e)
	}
	if bound > maxSize {
		return s.MemoryStorage.Entries(lo, hi, maxSize)
	}
	return ents, nil
}

// entrySizeBound is at least proto.Size(e): each of Term, Index and Type
// at most a one-byte tag and a ten-byte varint, Data a tag, a length of at
// most ten bytes and its bytes, and the unknown fields as they are.
func entrySizeBound(e *raftpb.Entry) uint64 {
	return 3*11 + 11 + uint64(len(e.Data)) + uint64(len(e.ProtoReflect().GetUnknown()))
}

// Append is MemoryStorage.Append.
func (s *memStorage) Append(ents []*raftpb.Entry) error {
	if len(ents) == 0 {
		return nil
	}
	err := s.MemoryStorage.Append(ents)
	// MemoryStorage's rule: entries below first are dropped, the rest
	// replace every entry from the first one's index on. Its first index
	// stays (what it keeps below the new entries includes its dummy
	// entry), and its last becomes the last new entry's, without asking
	// it under its lock: it answers an append that leaves a gap by a
	// panic, never by an error.
	if last := ents[0].GetIndex() + uint64(len(ents)) - 1; last >= s.first {
		if s.first > ents[0].GetIndex() {
			ents = ents[s.first-ents[0].GetIndex():]
		}
		if off := ents[0].GetIndex() - s.first; off < uint64(len(s.ents)) {
			s.ents = append(s.ents[:off:off], ents...) // a copy: slices handed out keep theirs
		} else {
			s.ents = append(s.ents, ents...)
		}
		s.last = last
	}
	return err
}

// ApplySnapshot is MemoryStorage.ApplySnapshot.
func (s *memStorage) ApplySnapshot(snap *raftpb.Snapshot) error {
	err := s.MemoryStorage.ApplySnapshot(snap)
	if err == nil {
		s.term0, s.ents = snap.GetMetadata().GetTerm(), nil
	}
	s.bounds()
	return err
}

// Compact is MemoryStorage.Compact.
func (s *memStorage) Compact(index uint64) error {
	err := s.MemoryStorage.Compact(index)
	if err == nil {
		// A fresh array, as MemoryStorage's own Compact makes: the
		// compacted entries are not kept reachable through it.
		i := index - s.first
		s.term0, s.ents = s.ents[i].GetTerm(), append([]*raftpb.Entry(nil), s.ents[i+1:]...)
	}
	s.bounds()
	return err
}
