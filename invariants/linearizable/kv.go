package linearizable

import (
	"cmp"
	"fmt"
	"slices"
	"time"

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

// checkKV runs porcupine over every key at once (in parallel). On a
// violation it runs again, keeping the partial linearizations, to name the
// first key (in key order) that has no complete one.
func checkKV(h *history, timeout time.Duration) (v *violation, timedOut bool) {
	if len(h.parts) == 0 {
		return nil, false
	}
	model, flat := kvModel(true), flatten(h.parts)
	switch porcupine.CheckOperationsTimeout(model, flat, timeout) {
	case porcupine.Ok:
		return nil, false
	case porcupine.Unknown:
		return nil, true
	}
	res, info := porcupine.CheckOperationsVerbose(model, flat, timeout)
	if ls := info.PartialLinearizations(); res == porcupine.Illegal && len(ls) == len(h.parts) {
		for i, p := range h.parts {
			if best := longest(ls[i]); len(best) < len(p.ops) {
				return &violation{CheckKV, describeFailure(p, best)}, false
			}
		}
	}
	return &violation{CheckKV, "no key named within the timeout"}, false
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
