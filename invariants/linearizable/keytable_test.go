package linearizable

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestKeyTable: a keyTable numbers keys as a map filled in the same order
// would, and finds exactly the keys added.
func TestKeyTable(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for round := range 500 {
		var tab keyTable
		want := map[string]int{}
		n := 1 + r.IntN(300)
		// Slices shared by several lookups (found again by address),
		// some the prefix of another (the same address, a shorter length).
		pool := make([][]byte, n)
		for i := range pool {
			pool[i] = []byte(fmt.Sprint("k", r.IntN(n)))
			if round%3 == 0 {
				pool[i] = []byte(fmt.Sprintf("a-longer-key-%d", r.IntN(n)))
			}
			if r.IntN(20) == 0 {
				pool[i] = append(pool[i], 0) // a trailing zero byte packs as no byte would
			}
		}
		for range 4 * n {
			k := pool[r.IntN(n)]
			if r.IntN(10) == 0 {
				k = k[:r.IntN(len(k)+1)]
			}
			if r.IntN(3) == 0 {
				k = append([]byte(nil), k...)
			}
			if r.IntN(2) == 0 {
				tab.add(k)
				if _, ok := want[string(k)]; !ok {
					want[string(k)] = len(want)
				}
			}
			i, ok := tab.find(k)
			j, wantOK := want[string(k)]
			if ok != wantOK || ok && i != j {
				t.Fatalf("round %d: find(%q) = %d, %v, want %d, %v", round, k, i, ok, j, wantOK)
			}
		}
		if len(tab.keys) != len(want) {
			t.Fatalf("round %d: %d keys, want %d", round, len(tab.keys), len(want))
		}
		again := newKeyTable(tab.keys)
		for k, i := range want {
			if j, ok := again.find([]byte(k)); !ok || j != i {
				t.Fatalf("round %d: newKeyTable: find(%q) = %d, %v, want %d", round, k, j, ok, i)
			}
		}
	}
}
