package swarm

import (
	"math"
	"strings"
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

// TestShardsCoverEverySeedOnce: for every N in 1..7 and ranges shorter,
// as long as and longer than N (at either end of the seed space), the
// shards K/N for K = 1..N hold every seed of the range exactly once.
func TestShardsCoverEverySeedOnce(t *testing.T) {
	starts := []uint64{0, 1, 17, 1 << 40, math.MaxUint64 - 30}
	for n := uint64(1); n <= 7; n++ {
		for _, first := range starts {
			for length := uint64(1); length <= 3*n+2; length++ {
				coverOnce(t, first, first+length-1, n)
			}
		}
	}
}

func TestParseSeedsAndShard(t *testing.T) {
	first, last, err := ParseSeeds("0x10..20")
	k, n, err2 := ParseShard("3/5")
	if err != nil || err2 != nil || first != 16 || last != 20 || k != 3 || n != 5 {
		t.Fatalf("0x10..20 shard 3/5: %d..%d %d/%d (%v, %v)", first, last, k, n, err, err2)
	}
	for _, s := range []string{"", "5", "9..1", "1..x", "0..18446744073709551615"} {
		if _, _, err := ParseSeeds(s); err == nil || !strings.Contains(err.Error(), "range") {
			t.Errorf("ParseSeeds(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "2", "0/3", "4/3", "1/0", "-1/2", "a/b"} {
		if _, _, err := ParseShard(s); err == nil {
			t.Errorf("ParseShard(%q): accepted", s)
		}
	}
	if got := (Shard{First: 1, Last: 40, K: 2, N: 2}).String(); got != "1..40 shard 2/2" {
		t.Errorf("String: %q", got)
	}
}
