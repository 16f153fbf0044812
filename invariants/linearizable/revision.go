package linearizable

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// checkRevisions runs the global revision sub-checks over the done
// requests; orderRevisions has set the least revision of each unknown
// write, and observeUnknownWrites has pinned those a read saw, in
// between. They are sound because etcd's revision is one counter over the
// whole store, advanced by every write transaction that changes
// something, and a linearizable request is served at a revision that
// includes every entry committed before it was called. allKVOnly reports
// whether every request of the history is kvOnly.
func checkRevisions(hops []*hop, top *hop, allKVOnly bool) []violation {
	order := orderRevisions(hops, top)
	observeUnknownWrites(hops)
	revs := newRevSet(hops)
	if v := uniqueRevisions(hops, revs); v != nil {
		order = append([]violation{*v}, order...)
	}
	if v := headerRevisions(hops, top, allKVOnly, revs); v != nil {
		order = append(order, *v)
	}
	return order
}

// headerRevisions checks each reply's header revision against the writes
// that overlapped its request: every revision above top (the highest
// revision returned before the request was called) up to its header was
// taken by a write called before it returned. Those no write with a known
// revision took need as many writes of unknown revision (unknown outcome,
// or answered without revisions) called before it returned. A history
// where something outside it may take revisions (leases: see kvOnly; not
// allKVOnly) is not checked. (That a known write at or below the header
// was called before the reply came is revision-order.)
func headerRevisions(hops []*hop, top *hop, allKVOnly bool, revs *revSet) *violation {
	if !allKVOnly {
		return nil
	}
	var known []int64
	var unk []int64 // the calls of the writes of unknown revision
	for _, h := range hops {
		switch {
		case h.hasRev() && revs == nil:
			known = append(known, h.res.Rev)
		case !h.hasRev() && !h.read && (h.eff == effectMaybe || h.noRev):
			unk = append(unk, h.call)
		}
	}
	slices.Sort(known)
	known = slices.Compact(known)
	slices.Sort(unk)
	count := func(xs []int64, upTo int64) int { n, _ := slices.BinarySearch(xs, upTo+1); return n }
	// upTo counts the known revisions at or below r.
	upTo := func(r int64) int {
		if revs != nil {
			return revs.count(r)
		}
		return count(known, r)
	}
	var bad *violation
	// The count at the last top seen: requests called one after another
	// mostly share their top.
	var lastTop *hop
	var atTop int
	for _, r := range hops {
		t := r.top
		if r.eff != effectDone || r.noRev || r.observed || t == nil || r.res.Rev <= t.res.Rev || bad != nil && bad.idx < r.idx {
			continue
		}
		if t != lastTop {
			lastTop, atTop = t, upTo(t.res.Rev)
		}
		took := upTo(r.res.Rev) - atTop
		need := r.res.Rev - t.res.Rev - int64(took)
		if have := count(unk, r.ret); need > int64(have) {
			bad = &violation{check: CheckHeaderRevision, idx: r.idx, detail: fmt.Sprintf(
				"%s answered at revision %d, %d above %s, but writes called before that answer took %d of those revisions and at most %d others can have",
				describeHop(r), r.res.Rev, r.res.Rev-t.res.Rev, describeHop(t), int64(took), have)}
		}
	}
	return bad
}

// uniqueRevisions finds two done writes (or unknown writes a read saw)
// that took the same revision: a revision reused after it was lost (etcd
// #14370, #17780). revs is newRevSet(hops), or nil.
func uniqueRevisions(hops []*hop, revs *revSet) *violation {
	if revs != nil && revs.distinct {
		return nil
	}
	var ws []*hop
	for _, h := range hops {
		if h.hasRev() {
			ws = append(ws, h)
		}
	}
	slices.SortFunc(ws, func(a, b *hop) int { return compareThen(a.res.Rev, b.res.Rev, a.idx, b.idx) })
	for i := 1; i < len(ws); i++ {
		if a, b := ws[i-1], ws[i]; a.res.Rev == b.res.Rev {
			return &violation{check: CheckRevisionUnique, detail: fmt.Sprintf("revision %d taken by both %s and %s",
				a.res.Rev, describeHop(a), describeHop(b))}
		}
	}
	return nil
}

// revSet is the set of revisions the requests with revisions took, as
// a bitmap over their span.
type revSet struct {
	lo       int64
	words    []uint64
	below    []int32 // how many of the set the words before each hold
	distinct bool    // no two requests took the same revision
}

// newRevSet returns the revisions hops took, or nil when they span too
// widely for a bitmap (a hand-made history).
func newRevSet(hops []*hop) *revSet {
	lo, hi, n := int64(math.MaxInt64), int64(math.MinInt64), 0
	for _, h := range hops {
		if h.hasRev() {
			lo, hi, n = min(lo, h.res.Rev), max(hi, h.res.Rev), n+1
		}
	}
	if n == 0 {
		return &revSet{distinct: true}
	}
	if hi-lo > 8*int64(n)+1024 {
		return nil
	}
	s := &revSet{lo: lo, words: make([]uint64, (hi-lo)/64+1), distinct: true}
	for _, h := range hops {
		if h.hasRev() {
			b := uint64(h.res.Rev - lo)
			if s.words[b/64]&(1<<(b%64)) != 0 {
				s.distinct = false
			}
			s.words[b/64] |= 1 << (b % 64)
		}
	}
	s.below = make([]int32, len(s.words))
	var c int32
	for i, w := range s.words {
		s.below[i] = c
		c += int32(bits.OnesCount64(w))
	}
	return s
}

// count returns how many revisions of the set are at or below r.
func (s *revSet) count(r int64) int {
	if len(s.words) == 0 || r < s.lo {
		return 0
	}
	b := uint64(r - s.lo)
	if w := b / 64; w < uint64(len(s.words)) {
		return int(s.below[w]) + bits.OnesCount64(s.words[w]&(1<<(b%64+1)-1))
	}
	last := len(s.words) - 1
	return int(s.below[last]) + bits.OnesCount64(s.words[last])
}

// orderRevisions sweeps the requests in call order (those without
// revisions only take their least revision from it), keeping the highest
// header revision of the done requests that returned strictly before the
// call (porcupine's intervals are closed), starting from top (the
// prefix's, or nil). A done request must be at or above it, strictly if it
// took a revision; an unknown write that takes effect takes a revision
// above it.
func orderRevisions(hops []*hop, top *hop) []violation {
	return orderRevisionsBy(hops, top, false)
}

// orderRevisionsBy is orderRevisions; with sortAll, it sorts every done
// request by return up front rather than keeping those in flight in a
// heap (see returns), as it does anyway for a history cut by a prefix
// (TestOrderRevisionsHeap compares the two).
func orderRevisionsBy(hops []*hop, top *hop, sortAll bool) []violation {
	// A history in call order (the world's is: it records each request at
	// its call) is swept as it is: (call, idx) is a total order, so a
	// sorted copy would be the same sequence.
	byCall := hops
	if !slices.IsSortedFunc(hops, byCallOrder) {
		byCall = slices.Clone(hops)
		slices.SortFunc(byCall, byCallOrder)
	}
	rets := doneByReturn(byCall, sortAll)
	var order, read *violation
	// top: the done request with the highest revision returned so far
	for _, b := range byCall {
		for rets.before(b.call) {
			if d := rets.pop(); top == nil || d.res.Rev > top.res.Rev {
				top = d
			}
		}
		if b.eff == effectDone && !b.noRev && !rets.presorted {
			rets.push(b)
		}
		b.top = top
		if b.eff != effectDone || b.noRev {
			b.minRev = 1
			if top != nil {
				b.minRev = top.res.Rev + 1
			}
			continue
		}
		if top == nil {
			continue
		}
		switch {
		case b.tookRev && b.res.Rev <= top.res.Rev && order == nil:
			order = &violation{check: CheckRevisionOrder, detail: describeOrder(top, b)}
		case !b.tookRev && b.res.Rev < top.res.Rev && read == nil:
			read = &violation{check: CheckReadRevision, detail: describeOrder(top, b)}
		}
	}
	var vs []violation
	for _, v := range []*violation{order, read} {
		if v != nil {
			vs = append(vs, *v)
		}
	}
	return vs
}

// returns yields the done requests with revisions in return order (by
// return, then index), as a sweep in call order reaches their returns.
// When each returned no earlier than it was called (as a history without
// a prefix's cut always does), it keeps only those in flight, in a heap:
// any that returned before a call was itself called earlier in the
// sweep. Otherwise it sorts them all up front.
type returns struct {
	presorted bool
	sorted    []*hop // with presorted: those not yet yielded, sorted
	heap      []*hop // without: those called and not yet yielded, a min-heap
}

// doneByReturn returns the done requests with revisions of byCall, a
// history in call order, ready to be yielded in return order: sorted up
// front with sortAll.
func doneByReturn(byCall []*hop, sortAll bool) *returns {
	r := &returns{}
	for _, h := range byCall {
		if sortAll || h.eff == effectDone && !h.noRev && h.ret < h.call {
			for _, h := range byCall {
				if h.eff == effectDone && !h.noRev {
					r.sorted = append(r.sorted, h)
				}
			}
			slices.SortFunc(r.sorted, byReturnOrder)
			r.presorted = true
			return r
		}
	}
	return r
}

// push adds h, a done request the sweep reached, to the heap.
func (r *returns) push(h *hop) {
	r.heap = append(r.heap, h)
	for i := len(r.heap) - 1; i > 0; {
		p := (i - 1) / 2
		if byReturnOrder(r.heap[i], r.heap[p]) >= 0 {
			break
		}
		r.heap[i], r.heap[p] = r.heap[p], r.heap[i]
		i = p
	}
}

// before reports whether the next done request in return order returned
// before t.
func (r *returns) before(t int64) bool {
	if r.presorted {
		return len(r.sorted) > 0 && r.sorted[0].ret < t
	}
	return len(r.heap) > 0 && r.heap[0].ret < t
}

// pop removes and returns the next done request in return order.
func (r *returns) pop() *hop {
	if r.presorted {
		h := r.sorted[0]
		r.sorted = r.sorted[1:]
		return h
	}
	hp := r.heap
	h := hp[0]
	n := len(hp) - 1
	hp[0] = hp[n]
	hp = hp[:n]
	for i := 0; ; {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && byReturnOrder(hp[c+1], hp[c]) < 0 {
			c++
		}
		if byReturnOrder(hp[c], hp[i]) >= 0 {
			break
		}
		hp[i], hp[c] = hp[c], hp[i]
		i = c
	}
	r.heap = hp
	return h
}

// byReturnOrder orders requests by return, then by their index.
func byReturnOrder(a, b *hop) int { return compareThen(a.ret, b.ret, a.idx, b.idx) }

// byCallOrder orders requests by call, then by their index in the history.
func byCallOrder(a, b *hop) int { return compareThen(a.call, b.call, a.idx, b.idx) }

// compareThen is cmp.Or(cmp.Compare(x, y), cmp.Compare(i, j)) without
// computing the second comparison when the first decides (cmp.Or takes
// both computed): the sorts of a check's requests call it n log n times.
func compareThen(x, y int64, i, j int) int {
	if x != y {
		return cmp.Compare(x, y)
	}
	return cmp.Compare(i, j)
}

func describeOrder(a, b *hop) string {
	return fmt.Sprintf("%s returned before %s was called", describeHop(a), describeHop(b))
}
