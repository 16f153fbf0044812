package swarm

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/etcdsim/etcdsim/sim"
)

// Shard is the part of a seed range one swarm runs: the seeds s of
// First..Last with (s-First) mod N == K-1, for 1 <= K <= N. Shards 1..N
// of a range partition it exactly, and striding (rather than cutting the
// range into blocks) spreads slow seeds evenly. The whole range is shard
// 1/1.
type Shard struct {
	First, Last uint64
	K, N        uint64
}

// ParseSeeds reads a seed range "A..B" (inclusive; each seed decimal or
// 0x-hex) with A <= B, short of the whole 64-bit space.
func ParseSeeds(s string) (first, last uint64, err error) {
	a, b, ok := strings.Cut(s, "..")
	first, err1 := sim.ParseSeed(a)
	last, err2 := sim.ParseSeed(b)
	if !ok || err1 != nil || err2 != nil || first > last {
		return 0, 0, fmt.Errorf("%q is not a range A..B of seeds with A <= B", s)
	}
	if last-first == math.MaxUint64 {
		return 0, 0, fmt.Errorf("%q: the range is too large", s)
	}
	return first, last, nil
}

// ParseShard reads a shard "K/N" with 1 <= K <= N.
func ParseShard(s string) (k, n uint64, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.ParseUint(ks, 10, 64)
	n, err2 := strconv.ParseUint(ns, 10, 64)
	if !ok || err1 != nil || err2 != nil || k == 0 || k > n {
		return 0, 0, fmt.Errorf("%q is not K/N with 1 <= K <= N", s)
	}
	return k, n, nil
}

// Count returns how many seeds the shard holds.
func (sh Shard) Count() uint64 {
	total := sh.Last - sh.First + 1
	if sh.K-1 >= total {
		return 0
	}
	return (total-sh.K)/sh.N + 1
}

// Seed returns the i-th seed of the shard, i < Count(), in increasing
// order.
func (sh Shard) Seed(i uint64) uint64 { return sh.First + (sh.K - 1) + i*sh.N }

// String returns the shard as a swarm prints it: "A..B shard K/N".
func (sh Shard) String() string {
	return fmt.Sprintf("%d..%d shard %d/%d", sh.First, sh.Last, sh.K, sh.N)
}
