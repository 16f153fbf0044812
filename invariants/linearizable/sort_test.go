package linearizable

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
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
