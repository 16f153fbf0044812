package linearizable

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/anishathalye/porcupine"
)

// kvModel returns the per-key model for porcupine; partitioned, it splits
// a history flattened from partitions back into them.
func kvModel(partitioned bool) porcupine.Model {
	m := porcupine.Model{
		Init: func() any { return stateSet{{}} },
		Step: func(st, in, out any) (bool, any) {
			next := step(st.(stateSet), in.(*keyInput), out.(*keyOutput))
			return len(next) > 0, next
		},
		Equal:             func(a, b any) bool { return slices.Equal(a.(stateSet), b.(stateSet)) },
		Hash:              func(st any) uint64 { return hashStates(st.(stateSet)) },
		DescribeOperation: func(in, _ any) string { return describeHop(in.(*keyInput).h) },
		DescribeState:     func(st any) string { return describeStates(st.(stateSet)) },
	}
	if partitioned {
		m.Partition = splitParts
	}
	return m
}

// flatten concatenates the partitions' histories, in key order.
func flatten(parts []partition) []porcupine.Operation {
	var n int
	for _, p := range parts {
		n += len(p.ops)
	}
	flat := make([]porcupine.Operation, 0, n)
	for _, p := range parts {
		flat = append(flat, p.ops...)
	}
	return flat
}

// splitParts is the inverse of flatten.
func splitParts(flat []porcupine.Operation) [][]porcupine.Operation {
	var out [][]porcupine.Operation
	for start := 0; start < len(flat); {
		part := flat[start].Input.(*keyInput).part
		end := start + 1
		for end < len(flat) && flat[end].Input.(*keyInput).part == part {
			end++
		}
		out = append(out, flat[start:end])
		start = end
	}
	return out
}

// checkKV searches every key's history, two keys at a time, each within
// half of the memory budget; every key is searched to its end (or to the
// budget) unless an earlier key, in key order, already failed, so that the
// verdict and the key it names do not depend on scheduling. A key that
// fails is searched again, keeping the partial linearizations, to name
// the request that fits nowhere. An exhausted key makes the check unknown
// unless another key failed.
func checkKV(h *history, b Budget) (v *violation, out outcome, key string) {
	n := len(h.parts)
	if n == 0 {
		return nil, searchOK, ""
	}
	share := b.memory()
	if n > 1 {
		share = max(share/searchWorkers, 1)
	}
	var expired func() bool
	if b.Time > 0 && b.Now != nil {
		deadline := b.Now().Add(b.Time)
		expired = func() bool { return b.Now().After(deadline) }
	}
	results := make([]outcome, n)
	first := firstFailure{at: n}
	var wg sync.WaitGroup
	var next atomic.Int64
	for range min(searchWorkers, n) {
		wg.Go(func() {
			sc := &scratch{}
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if first.before(i) {
					continue
				}
				buildWith(h.parts, i, h.prefix, h.u, sc)
				if results[i], _ = searchWith(&h.parts[i], share, expired, false, sc); results[i] == searchIllegal {
					first.failed(i)
					sc = &scratch{} // the key's ops stay for the search that describes it
				} else {
					// Only a failed key is searched again: the others'
					// requests (and the hops no other key holds) are
					// garbage now rather than at the end of the check,
					// which holds a window's history in a few copies.
					h.parts[i].ops = nil
				}
			}
		})
	}
	wg.Wait()
	if f := first.at; f < n {
		p := &h.parts[f]
		if o, ls := search(p, share, expired, true); o == searchIllegal {
			return &violation{check: CheckKV, detail: describeFailure(*p, longest(ls))}, searchIllegal, ""
		}
		return &violation{check: CheckKV, detail: fmt.Sprintf("key %s: no order of its requests fits", show([]byte(p.key)))}, searchIllegal, ""
	}
	for i, r := range results {
		if r != searchOK {
			return nil, r, h.parts[i].key
		}
	}
	return nil, searchOK, ""
}

// firstFailure is the least index of a key found to fail.
type firstFailure struct {
	mu sync.Mutex
	at int
}

// before reports whether a key before i already failed.
func (f *firstFailure) before(i int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at < i
}

func (f *firstFailure) failed(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at = min(f.at, i)
}

// longest returns the longest partial linearization, the least in order
// among equals, so that the choice does not depend on map order.
func longest(ls [][]int) []int {
	var best []int
	for _, l := range ls {
		if best == nil || len(l) > len(best) || (len(l) == len(best) && slices.Compare(l, best) < 0) {
			best = l
		}
	}
	return best
}

// describeFailure names the key, the longest order of its requests that
// porcupine could build, the state it reached, and the request that fits
// nowhere after it: of those left out, the one that returned first.
func describeFailure(p partition, best []int) string {
	placed := make([]bool, len(p.ops))
	st := stateSet{{}}
	for _, id := range best {
		placed[id] = true
		st = step(st, p.ops[id].Input.(*keyInput), p.ops[id].Output.(*keyOutput))
	}
	bad := -1
	for i := range p.ops {
		if !placed[i] && (bad < 0 || cmp.Or(cmp.Compare(p.ops[i].Return, p.ops[bad].Return), cmp.Compare(p.ops[i].Call, p.ops[bad].Call)) < 0) {
			bad = i
		}
	}
	s := fmt.Sprintf("key %s: %d of %d requests linearize", show([]byte(p.key)), len(best), len(p.ops))
	if len(best) > 0 {
		s += ", the last " + describeHop(p.ops[best[len(best)-1]].Input.(*keyInput).h)
	}
	s += ", leaving " + describeStates(st)
	if bad >= 0 {
		s += "; then no order fits " + describeHop(p.ops[bad].Input.(*keyInput).h)
	}
	return s
}
