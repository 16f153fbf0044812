package invariants

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestStepLeaderMemoMatchesRecomputation proves Step's memo of the last
// (term, leader) pair exact: over 5,000 random step sequences (members
// stepping as leaders and followers, terms rising, repeating and going
// back), the checker's first violation is the one a full recomputation
// over the whole sequence gives after every step: the step's term had a
// leader step before, and the latest one was another member's.
func TestStepLeaderMemoMatchesRecomputation(t *testing.T) {
	type step struct {
		id, term uint64
		leader   bool
	}
	for seed := uint64(1); seed <= 5000; seed++ {
		r := rand.New(rand.NewPCG(seed, 0))
		c := NewChecker(3)
		var seen []step
		var want *Violation
		for n := 0; n < 60; n++ {
			s := step{id: 1 + r.Uint64N(3), term: 1 + r.Uint64N(1+uint64(n)/10), leader: r.IntN(3) > 0}
			m := newMember(s.id)
			m.term, m.leader = s.term, s.leader
			if s.leader {
				m.lead = s.id
			}
			c.Step(m)
			if want == nil && s.leader {
				for i := len(seen) - 1; i >= 0; i-- {
					if p := seen[i]; p.leader && p.term == s.term {
						if p.id != s.id {
							want = &Violation{Name: ElectionSafety, Member: p.id,
								Detail: fmt.Sprintf("m%d and m%d both lead term %d", p.id, s.id, s.term)}
						}
						break
					}
				}
			}
			seen = append(seen, s)
			got := c.Violation()
			if (got == nil) != (want == nil) || got != nil && *got != *want {
				t.Fatalf("seed %d step %d (%+v): checker says %v, recomputation %v", seed, n, s, got, want)
			}
		}
	}
}
