package invariants

import (
	"testing"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// TestStateAt: the reference rebuilds its state after any index it keeps,
// equal to the state it had then, before and after it forgets records.
func TestStateAt(t *testing.T) {
	r := NewReference()
	var states []*backend.Mem // states[i] is the state after index i
	states = append(states, backend.NewMem())
	for _, e := range std() {
		if err := r.Append(e); err != nil {
			t.Fatal(err)
		}
		states = append(states, r.mem.Clone())
	}
	check := func(from uint64) {
		t.Helper()
		for i := from; i <= r.Last(); i++ {
			got, ok := r.StateAt(i)
			if !ok {
				t.Fatalf("state at %d not rebuilt (base %d)", i, r.base)
			}
			if d := DiffBackends(got, states[i], "the reference"); d != "" {
				t.Fatalf("state at %d: %s", i, d)
			}
		}
	}
	check(0)
	r.Forget(4)
	if _, ok := r.StateAt(3); ok {
		t.Fatal("rebuilt a state before the records kept")
	}
	check(4)
}
