package linearizable

import (
	"cmp"
	"fmt"
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
	if v := uniqueRevisions(hops); v != nil {
		order = append([]violation{*v}, order...)
	}
	if v := headerRevisions(hops, top, allKVOnly); v != nil {
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
func headerRevisions(hops []*hop, top *hop, allKVOnly bool) *violation {
	if !allKVOnly {
		return nil
	}
	var known []int64
	var unk []int64 // the calls of the writes of unknown revision
	for _, h := range hops {
		switch {
		case h.hasRev():
			known = append(known, h.res.Rev)
		case !h.read && (h.eff == effectMaybe || h.noRev):
			unk = append(unk, h.call)
		}
	}
	slices.Sort(known)
	known = slices.Compact(known)
	slices.Sort(unk)
	count := func(xs []int64, upTo int64) int { n, _ := slices.BinarySearch(xs, upTo+1); return n }
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
			lastTop, atTop = t, count(known, t.res.Rev)
		}
		took := count(known, r.res.Rev) - atTop
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
// #14370, #17780).
func uniqueRevisions(hops []*hop) *violation {
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

// orderRevisions sweeps the requests in call order (those without
// revisions only take their least revision from it), keeping the highest
// header revision of the done requests that returned strictly before the
// call (porcupine's intervals are closed), starting from top (the
// prefix's, or nil). A done request must be at or above it, strictly if it
// took a revision; an unknown write that takes effect takes a revision
// above it.
func orderRevisions(hops []*hop, top *hop) []violation {
	done := make([]*hop, 0, len(hops))
	for _, h := range hops {
		if h.eff == effectDone && !h.noRev {
			done = append(done, h)
		}
	}
	slices.SortFunc(done, func(a, b *hop) int { return compareThen(a.ret, b.ret, a.idx, b.idx) })
	// A history in call order (the world's is: it records each request at
	// its call) is swept as it is: (call, idx) is a total order, so a
	// sorted copy would be the same sequence.
	byCall := hops
	if !slices.IsSortedFunc(hops, byCallOrder) {
		byCall = slices.Clone(hops)
		slices.SortFunc(byCall, byCallOrder)
	}
	var order, read *violation
	// top: the done request with the highest revision returned so far
	j := 0
	for _, b := range byCall {
		for ; j < len(done) && done[j].ret < b.call; j++ {
			if top == nil || done[j].res.Rev > top.res.Rev {
				top = done[j]
			}
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
