package sim

import (
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestQueueAgainstModel pushes and pops at random (times often equal, often
// in the past) and requires the events to come out as a sorted list of
// (time, order of scheduling) says, with the clock and Len agreeing.
func TestQueueAgainstModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var q Queue
		type item struct {
			at  time.Duration
			seq uint64
		}
		var model []item
		var seq uint64
		for i, n := 0, rapid.IntRange(1, 300).Draw(t, "ops"); i < n; i++ {
			if rapid.IntRange(0, 2).Draw(t, "op") > 0 {
				at := q.Now() + time.Duration(rapid.IntRange(-3, 12).Draw(t, "dt"))
				seq++
				q.At(at, Event{Arg: seq})
				model = append(model, item{max(at, q.Now()), seq})
				continue
			}
			e, ok := q.Pop()
			if !ok {
				if len(model) != 0 {
					t.Fatalf("queue empty, model holds %d", len(model))
				}
				continue
			}
			k := slices.IndexFunc(model, func(m item) bool {
				return !slices.ContainsFunc(model, func(o item) bool { return o.at < m.at || (o.at == m.at && o.seq < m.seq) })
			})
			if want := model[k]; e.Arg != want.seq || e.At != want.at || q.Now() != want.at {
				t.Fatalf("popped #%d at %v (now %v), want #%d at %v", e.Arg, e.At, q.Now(), want.seq, want.at)
			}
			model = slices.Delete(model, k, k+1)
			if q.Len() != len(model) {
				t.Fatalf("Len %d, model %d", q.Len(), len(model))
			}
		}
	})
}
