package linearizable

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestOrderRevisionsHeap: orderRevisions, which keeps only the requests
// in flight in a heap, sets the same top and least revision of every
// request and finds the same violations as a sweep over every done
// request sorted by return up front (sortAll), on generated histories in
// and out of call order, with coarse times (ties), calls moved to a cut
// past some returns, shuffled revisions, and a prefix's top.
func TestOrderRevisionsHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 3000 {
		spec := genSpec{ops: 1 + r.IntN(200), keys: 1 + r.IntN(6), gap: 1 + r.IntN(30), width: 1 + r.IntN(60),
			clients: 1 + r.IntN(8), unknown: r.IntN(40), settle: r.IntN(3) == 0}
		ops := generate(r, spec)
		if r.IntN(2) == 0 {
			slices.SortStableFunc(ops, func(a, b Op) int { return compareThen(a.Call, b.Call, 0, 0) })
		}
		if r.IntN(4) == 0 {
			for i := range ops {
				if ops[i].Result.Rev > 0 && r.IntN(8) == 0 {
					ops[i].Result.Rev += int64(r.IntN(5)) - 2
				}
			}
		}
		var cut int64
		if r.IntN(4) == 0 && len(ops) > 0 {
			cut = ops[r.IntN(len(ops))].Call
		}
		var a, b []*hop
		for i := range ops {
			if h := classifyOp(ops, i); h != nil {
				h.call = max(h.call, cut)
				a = append(a, h)
				c := *h
				b = append(b, &c)
			}
		}
		var topA, topB *hop
		if r.IntN(4) == 0 && len(a) > 0 {
			i := r.IntN(len(a))
			topA, topB = a[i], b[i]
		}
		got, want := orderRevisionsBy(a, topA, false), orderRevisionsBy(b, topB, true)
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: violations %v, want %v", round, got, want)
		}
		for i := range a {
			ta, tb := -1, -1
			if a[i].top != nil {
				ta = a[i].top.idx
			}
			if b[i].top != nil {
				tb = b[i].top.idx
			}
			if ta != tb || a[i].minRev != b[i].minRev {
				t.Fatalf("round %d: request %d: top %d minRev %d, want top %d minRev %d", round, a[i].idx, ta, a[i].minRev, tb, b[i].minRev)
			}
		}
	}
}

// TestRevSet: a revSet counts the revisions at or below any revision as
// a binary search over the sorted distinct revisions does, and is
// distinct exactly when no two requests took the same; it is nil only
// for revisions spread wide.
func TestRevSet(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for round := range 5000 {
		n := r.IntN(300)
		spread := 1 + r.IntN(3*n+10)
		if round%10 == 0 {
			spread = 1 << 40
		}
		var hops []*hop
		var known []int64
		for range n {
			h := &hop{eff: effectDone, tookRev: r.IntN(4) != 0, noRev: r.IntN(20) == 0, observed: r.IntN(30) == 0}
			h.res.Rev = int64(r.IntN(spread)) - 5
			if h.hasRev() {
				known = append(known, h.res.Rev)
			}
			hops = append(hops, h)
		}
		slices.Sort(known)
		all := len(known)
		known = slices.Compact(known)
		s := newRevSet(hops)
		if s == nil {
			if all > 0 && known[len(known)-1]-known[0] <= 8*int64(all)+1024 {
				t.Fatalf("round %d: no set for %d revisions in %d..%d", round, all, known[0], known[len(known)-1])
			}
			continue
		}
		if s.distinct != (len(known) == all) {
			t.Fatalf("round %d: distinct %v, %d revisions of %d distinct", round, s.distinct, all, len(known))
		}
		for range 50 {
			x := int64(r.IntN(spread+20)) - 15
			if len(known) > 0 && r.IntN(2) == 0 {
				x = known[r.IntN(len(known))] + int64(r.IntN(3)) - 1
			}
			want, _ := slices.BinarySearch(known, x+1)
			if got := s.count(x); got != want {
				t.Fatalf("round %d: count(%d) = %d, want %d", round, x, got, want)
			}
		}
	}
}
