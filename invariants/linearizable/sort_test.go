package linearizable

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/anishathalye/porcupine"
)

// lessByTime is the sort.Interface porcupine sorts its events with.
type lessByTime []event

func (a lessByTime) Len() int      { return len(a) }
func (a lessByTime) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a lessByTime) Less(i, j int) bool {
	if a[i].time != a[j].time {
		return a[i].time < a[j].time
	}
	return a[i].call && !a[j].call
}

// TestByTimeSortsAsPorcupine: linkEvents' slices.SortFunc leaves events
// with equal keys in the same order as porcupine's sort.Sort, so that the
// search tries the same linearizations first.
func TestByTimeSortsAsPorcupine(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		n := r.IntN(300)
		evs := make([]event, n)
		for i := range evs {
			evs[i] = event{call: r.IntN(2) == 0, id: i, time: int64(r.IntN(1 + n/(1+round%7)))}
		}
		if round%5 == 0 {
			slices.SortFunc(evs[:n/2], byTime) // partly sorted input
		}
		a, b := slices.Clone(evs), slices.Clone(evs)
		sort.Sort(lessByTime(a))
		slices.SortFunc(b, byTime)
		if !slices.Equal(a, b) {
			t.Fatalf("round %d: orders differ", round)
		}
	}
}

// TestSortEvents: sortEvents, which merges calls in order with returns
// sorted alone when no times tie, orders a partition's events as sorting
// them all with byTime does, porcupine's way.
func TestSortEvents(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	sc := &scratch{}
	for round := range 5000 {
		n := r.IntN(200)
		span := 1 + r.IntN(4*n+4)
		if round%3 == 0 {
			span = 1 << 40
		}
		ops := make([]porcupine.Operation, n)
		for i := range ops {
			ops[i].Call = int64(r.IntN(span))
			ops[i].Return = ops[i].Call + int64(r.IntN(span/4+1))
			if r.IntN(20) == 0 {
				ops[i].Return = math.MaxInt64 - int64(r.IntN(2))
			}
		}
		if round%2 == 0 {
			slices.SortFunc(ops, func(a, b porcupine.Operation) int { return cmp.Compare(a.Call, b.Call) })
		}
		want := make([]event, 0, 2*n)
		for i, op := range ops {
			want = append(want, event{true, i, op.Call}, event{false, i, op.Return})
		}
		slices.SortFunc(want, byTime)
		if got := sortEvents(&partition{ops: ops}, sc); !slices.Equal(got, want) {
			t.Fatalf("round %d: %v, want %v", round, got, want)
		}
	}
}

// TestSortNearly: sortNearly sorts by time, nearly sorted or not.
func TestSortNearly(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for round := range 3000 {
		n := r.IntN(300)
		evs := make([]event, n)
		for i := range evs {
			evs[i] = event{id: i, time: int64(i*10 + r.IntN(1+round%50))}
			if r.IntN(1+round%40) == 0 {
				evs[i].time = int64(r.IntN(10 * n))
			}
		}
		want := slices.Clone(evs)
		slices.SortStableFunc(want, func(a, b event) int { return cmp.Compare(a.time, b.time) })
		sortNearly(evs)
		if !slices.EqualFunc(evs, want, func(a, b event) bool { return a.time == b.time }) {
			t.Fatalf("round %d: not sorted", round)
		}
		ids := make([]int, n)
		for i, e := range evs {
			ids[i] = e.id
		}
		slices.Sort(ids)
		for i, id := range ids {
			if id != i {
				t.Fatalf("round %d: events lost", round)
			}
		}
	}
}
