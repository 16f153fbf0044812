package swarm

import (
	"math"
	"testing"
)

// members returns the seeds of sh, checking each is in its range and
// stride and that they increase.
func members(t *testing.T, sh Shard) []uint64 {
	t.Helper()
	var seeds []uint64
	for i := range sh.Count() {
		s := sh.Seed(i)
		if s < sh.First || s > sh.Last || (s-sh.First)%sh.N != sh.K-1 {
			t.Fatalf("%v: seed %d is not in the shard", sh, s)
		}
		if i > 0 && s <= seeds[i-1] {
			t.Fatalf("%v: seeds not increasing: %d after %d", sh, s, seeds[i-1])
		}
		seeds = append(seeds, s)
	}
	return seeds
}

// coverOnce checks that shards 1..n of first..last hold every seed of the
// range exactly once.
func coverOnce(t *testing.T, first, last, n uint64) {
	t.Helper()
	seen := map[uint64]uint64{} // seed -> shard
	for k := uint64(1); k <= n; k++ {
		sh := Shard{First: first, Last: last, K: k, N: n}
		for _, s := range members(t, sh) {
			if other, dup := seen[s]; dup {
				t.Fatalf("%v: seed %d also in shard %d", sh, s, other)
			}
			seen[s] = k
		}
	}
	if want := last - first + 1; uint64(len(seen)) != want {
		t.Fatalf("%d..%d in %d shards: %d seeds covered, want %d", first, last, n, len(seen), want)
	}
}

func TestShardPartitionIsExact(t *testing.T) {
	for _, tc := range []struct{ first, last, n uint64 }{
		{1, 1, 1}, {1, 1, 3}, {0, 9, 1}, {0, 9, 3}, {5, 104, 7}, {10, 12, 5},
		{100, 1099, 10}, {math.MaxUint64 - 20, math.MaxUint64, 4}, {0, 1000, 1001},
	} {
		coverOnce(t, tc.first, tc.last, tc.n)
	}
}
