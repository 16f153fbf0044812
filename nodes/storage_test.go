package nodes

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// TestMemStorageMatchesMemoryStorage runs random appends (with rewrites
// and compacted prefixes), snapshots and compactions on a memStorage and
// a plain MemoryStorage, and checks that every Term, Entries (the same
// pointers, at limits that cut and that do not), FirstIndex and LastIndex
// answer alike, and that a slice Entries returned never changes.
func TestMemStorageMatchesMemoryStorage(t *testing.T) {
	for seed := range uint64(50) {
		rng := rand.New(rand.NewPCG(seed, 1))
		s, ms := newMemStorage(), raft.NewMemoryStorage()
		term := uint64(1)
		var held, was []*raftpb.Entry // a slice Entries handed out, and its contents then
		for range 60 {
			if !slices.Equal(held, was) {
				t.Fatalf("seed %d: a slice Entries returned changed", seed)
			}
			first, _ := ms.FirstIndex()
			last, _ := ms.LastIndex()
			switch op := rng.IntN(10); {
			case op < 6:
				from := first + uint64(rng.IntN(int(last-first)+3)) - 1
				if from < 1 {
					from = 1
				}
				from = min(from, last+1)
				if rng.IntN(4) == 0 {
					term++
				}
				var ents []*raftpb.Entry
				for i := range uint64(1 + rng.IntN(6)) {
					e := &raftpb.Entry{Term: new(term), Index: new(from + i)}
					if n := rng.IntN(3); n > 0 {
						e.Data = make([]byte, n*rng.IntN(60))
					}
					ents = append(ents, e)
				}
				errA, errB := s.Append(ents), ms.Append(ents)
				if errA != errB {
					t.Fatalf("seed %d: Append: %v, MemoryStorage %v", seed, errA, errB)
				}
			case op < 8:
				if last > first {
					c := first + uint64(rng.IntN(int(last-first)))
					errA, errB := s.Compact(c), ms.Compact(c)
					if errA != errB {
						t.Fatalf("seed %d: Compact(%d): %v, MemoryStorage %v", seed, c, errA, errB)
					}
				}
			default:
				term++
				idx := max(last+uint64(rng.IntN(5)), 2) - 2
				snap := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: new(idx), Term: new(term)}}
				errA, errB := s.ApplySnapshot(snap), ms.ApplySnapshot(snap)
				if errA != errB {
					t.Fatalf("seed %d: ApplySnapshot: %v, MemoryStorage %v", seed, errA, errB)
				}
			}
			first, _ = ms.FirstIndex()
			last, _ = ms.LastIndex()
			if f, _ := s.FirstIndex(); f != first {
				t.Fatalf("seed %d: FirstIndex %d, MemoryStorage %d", seed, f, first)
			}
			if l, _ := s.LastIndex(); l != last {
				t.Fatalf("seed %d: LastIndex %d, MemoryStorage %d", seed, l, last)
			}
			for i := first - min(first, 2); i <= last+2; i++ {
				a, errA := s.Term(i)
				b, errB := ms.Term(i)
				if a != b || !errors.Is(errA, errB) {
					t.Fatalf("seed %d: Term(%d) = %d, %v; MemoryStorage %d, %v", seed, i, a, errA, b, errB)
				}
			}
			for range 20 {
				lo := first + uint64(rng.IntN(int(last-first)+2))
				for _, hi := range []uint64{lo, lo + uint64(rng.IntN(int(last-lo)+2)), last + 1} {
					for _, max := range []uint64{0, 50, 200, 1 << 20} {
						a, errA := s.Entries(lo, hi, max)
						b, errB := ms.Entries(lo, hi, max)
						if !errors.Is(errA, errB) || !slices.Equal(a, b) || cap(a) != len(a) {
							t.Fatalf("seed %d: Entries(%d, %d, %d): %d entries, %v; MemoryStorage %d, %v", seed, lo, hi, max, len(a), errA, len(b), errB)
						}
						if len(a) > len(held) {
							held, was = a, slices.Clone(a)
						}
					}
				}
			}
		}
	}
}
