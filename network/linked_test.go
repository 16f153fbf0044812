package network

import (
	"math/rand/v2"
	"testing"
)

// TestLinkedNearMatchesMaps checks linked, which reads the slices for the
// endpoints below near, against linkedFar, which reads the maps, over
// random partitions and cuts of endpoints near and far (a client's 1000+,
// a negative one).
func TestLinkedNearMatchesMaps(t *testing.T) {
	ends := []int{0, 1, 2, 3, 5, near - 1, near, 1000, 1003, -1}
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		n := New(rand.New(rand.NewPCG(3, 4)), Config{})
		for range r.IntN(4) {
			switch r.IntN(3) {
			case 0:
				var groups [][]int
				seen := map[int]bool{}
				for range 1 + r.IntN(3) {
					var g []int
					for range r.IntN(3) {
						if e := ends[r.IntN(len(ends))]; !seen[e] {
							seen[e] = true
							g = append(g, e)
						}
					}
					groups = append(groups, g)
				}
				n.Partition(0, groups...)
			case 1:
				n.Cut(0, ends[r.IntN(len(ends))], ends[r.IntN(len(ends))])
			case 2:
				n.Heal(0)
			}
		}
		for _, from := range ends {
			for _, to := range ends {
				want := from == to || !n.split || n.linkedFar(from, to)
				if got := n.linked(from, to); got != want {
					t.Fatalf("round %d: linked(%d, %d) = %v, the maps say %v (%s)", round, from, to, got, want, n)
				}
			}
		}
	}
}
