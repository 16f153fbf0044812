package linearizable

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// plainUniverse is universe with a map and no shortcut for single ops.
func plainUniverse(hops []*hop) []string {
	set := map[string]bool{}
	for _, h := range hops {
		for _, c := range h.compares() {
			if len(c.RangeEnd) == 0 {
				set[string(c.Key)] = true
			}
		}
		for _, br := range [][]mvcc.Op{h.success(), h.failure()} {
			for _, op := range br {
				if op.Type == mvcc.OpPut || len(op.End) == 0 {
					set[string(op.Key)] = true
				}
			}
		}
		for _, kv := range h.res.KVs {
			set[string(kv.Key)] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// plainTouched is touched key by key: the keys of keys that a request's
// single-key compares name or its ops act on.
func plainTouched(h *hop, keys []string) []int {
	var ks []int
	for i, k := range keys {
		on := false
		for _, c := range h.compares() {
			on = on || len(c.RangeEnd) == 0 && string(c.Key) == k
		}
		for _, br := range [][]mvcc.Op{h.success(), h.failure()} {
			for j := range br {
				on = on || onKey(&br[j], k)
			}
		}
		if on {
			ks = append(ks, i)
		}
	}
	return ks
}

// TestUniverseAndTouched: universe and touched, with their key tables and
// shortcuts for single ops, find what plainUniverse and plainTouched do,
// on generated histories with ranges to the end of the keyspace, over
// the history's keys with some left out and others added (a prefix's);
// and an arena projects the same actions as the function actions.
func TestUniverseAndTouched(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for round := range 300 {
		spec := genSpec{ops: 1 + r.IntN(150), keys: 1 + r.IntN(10), gap: 20, width: 40, clients: 4, unknown: 10}
		ops := generate(r, spec)
		for i := range ops {
			if r.IntN(15) == 0 {
				ops[i].Req = &nodes.Request{Kind: nodes.KindRange, Key: genKey(r.IntN(spec.keys)), End: []byte{0}}
				ops[i].Result = nodes.Result{}
			}
		}
		var hops []*hop
		for i := range ops {
			if h := classifyOp(ops, i); h != nil {
				hops = append(hops, h)
			}
		}
		keys := universe(hops)
		if want := plainUniverse(hops); !slices.Equal(keys, want) {
			t.Fatalf("round %d: universe %q, want %q", round, keys, want)
		}
		keys = slices.DeleteFunc(keys, func(string) bool { return r.IntN(5) == 0 })
		for range r.IntN(3) {
			keys = append(keys, string(genKey(r.IntN(2*spec.keys))))
		}
		slices.Sort(keys)
		keys = slices.Compact(keys)
		index := newKeyTable(keys)
		var ks []int
		a := arena{acts: make([]action, 0, 1+r.IntN(3)), views: true}
		for _, h := range hops {
			ks = touched(h, keys, index, ks[:0])
			if want := plainTouched(h, keys); !slices.Equal(ks, want) {
				t.Fatalf("round %d: request %d touches %v, want %v", round, h.idx, ks, want)
			}
			// The arena's actions (views, one pass) are the copies
			// actions makes, cut to their length.
			for _, i := range ks {
				for _, br := range [][]mvcc.Op{h.success(), h.failure()} {
					got, want := a.actions(br, keys[i]), actions(br, keys[i])
					if !slices.Equal(got, want) || cap(got) != len(got) || cap(want) != len(want) {
						t.Fatalf("round %d: request %d on %s: actions %v, want %v", round, h.idx, keys[i], got, want)
					}
				}
			}
		}
	}
}
