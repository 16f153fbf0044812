package linearizable

import (
	"cmp"
	"math"
	"slices"
	"sort"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// Unknown writes are what makes a linearizability search slow: porcupine
// must try each one at every point after its call. etcd's revisions let
// the checker bound them, soundly:
//
//   - Each revision 1..top, top being the highest revision a done request
//     returned, was taken by exactly one write transaction. Those that no
//     done request (or observed unknown write) took are the gaps: an
//     unknown write that took effect where some done request could see it
//     took a gap. (Lease expiry, absent from the history, takes gaps too;
//     gaps only widen what is allowed.) One that took a revision above top
//     was seen by no one, as if it never happened.
//   - On one key, a done read that showed the key with mod revision m at
//     header revision h rules out a write on the key at m+1..h: the gaps
//     left are that key's.
//   - The write at revision r was applied before any done request at or
//     above r returned; so an unknown write whose effect on a key shows
//     took effect before firstRet(the key's last gap), which becomes its
//     return time on that key. The model lets an unknown write also take
//     no effect, which stands for taking effect unseen, after everyone.

// revGaps is a set of revisions an unknown write may take.
type revGaps struct {
	top  int64
	open []int64 // ascending, in 1..top
	all  bool    // every revision counts as a gap (too many to list)
}

// next returns the least revision from lo on that an unknown write can
// take: a gap, or above top (seen by no one) when no gap is left.
func (g *revGaps) next(lo int64) int64 {
	if g.all || lo > g.top {
		return max(lo, 1)
	}
	if i := sort.Search(len(g.open), func(i int) bool { return g.open[i] >= lo }); i < len(g.open) {
		return g.open[i]
	}
	return g.top + 1
}

// last returns the highest gap, top if all are, or 0 if none.
func (g *revGaps) last() int64 {
	switch {
	case g.all:
		return g.top
	case len(g.open) == 0:
		return 0
	}
	return g.open[len(g.open)-1]
}

// unknowns holds what bounds the unknown writes of a history.
type unknowns struct {
	gaps  *revGaps
	byKey map[string]*revGaps
	// done requests sorted by revision, with the least return time of
	// those at or above each: firstRet.
	revs    []int64
	minRets []int64
}

// newUnknowns bounds the unknown writes of hops, whose revisions are above
// floor (see historyFloor).
func newUnknowns(hops []*hop, floor int64) *unknowns {
	u := &unknowns{gaps: &revGaps{}, byKey: map[string]*revGaps{}}
	if !slices.ContainsFunc(hops, func(h *hop) bool { return h.eff == effectMaybe }) {
		return u // no unknown write to bound (a history the log settled)
	}
	if slices.ContainsFunc(hops, func(h *hop) bool { return h.eff == effectDone && h.noRev }) {
		// Some writes took revisions no one knows: any revision may be free.
		u.gaps = &revGaps{top: unbounded - 1, all: true}
		return u
	}
	u.gaps = findGaps(hops, floor)
	var done []*hop
	for _, h := range hops {
		if h.eff == effectDone {
			done = append(done, h)
		}
	}
	slices.SortFunc(done, func(a, b *hop) int { return cmp.Compare(a.res.Rev, b.res.Rev) })
	u.revs, u.minRets = make([]int64, len(done)), make([]int64, len(done))
	least := int64(math.MaxInt64)
	for i := len(done) - 1; i >= 0; i-- {
		least = min(least, done[i].ret)
		u.revs[i], u.minRets[i] = done[i].res.Rev, least
	}
	if !u.gaps.all {
		u.keyGaps(done)
	}
	return u
}

// findGaps returns the revisions in floor+1..top that no done request
// took (a prefix's revisions, up to floor, are below every unknown write
// after it: see orderRevisions).
func findGaps(hops []*hop, floor int64) *revGaps {
	g := &revGaps{}
	var known []int64
	for _, h := range hops {
		if h.eff != effectDone {
			continue
		}
		g.top = max(g.top, h.res.Rev)
		if h.hasRev() {
			known = append(known, h.res.Rev)
		}
	}
	slices.Sort(known)
	known = slices.Compact(known)
	if g.top-floor-int64(len(known)) > 4*int64(len(hops))+1024 {
		g.all = true // sparse revisions (a hand-made history): not worth listing
		return g
	}
	for r, i := floor+1, 0; r <= g.top; r++ {
		for i < len(known) && known[i] < r {
			i++
		}
		if i == len(known) || known[i] != r {
			g.open = append(g.open, r)
		}
	}
	return g
}

// keyGaps sets the gaps of each key that a done read showed: the global
// gaps outside every (mod, header] span the reads showed it live in.
func (u *unknowns) keyGaps(done []*hop) {
	type span struct{ lo, hi int64 } // open lo, closed hi
	shown := map[string][]span{}
	for _, h := range done {
		_, kvs := h.shownKVs()
		for _, kv := range kvs {
			shown[string(kv.Key)] = append(shown[string(kv.Key)], span{kv.ModRevision, h.res.Rev})
		}
	}
	for key, spans := range shown {
		slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
		g := &revGaps{top: u.gaps.top}
		i := 0
		reach := int64(math.MinInt64) // the highest hi of the spans starting below r
		for _, r := range u.gaps.open {
			for ; i < len(spans) && spans[i].lo < r; i++ {
				reach = max(reach, spans[i].hi)
			}
			if r > reach {
				g.open = append(g.open, r)
			}
		}
		u.byKey[key] = g
	}
}

// forKey returns the gaps a write on key may have taken.
func (u *unknowns) forKey(key string) *revGaps {
	if g, ok := u.byKey[key]; ok {
		return g
	}
	return u.gaps
}

// firstRet returns the least return time of the done requests at or
// above revision r: the revision r was applied before it.
func (u *unknowns) firstRet(r int64) int64 {
	i := sort.Search(len(u.revs), func(i int) bool { return u.revs[i] >= r })
	if i == len(u.revs) {
		return math.MaxInt64
	}
	return u.minRets[i]
}

// window returns, for an unknown write projected onto a key whose gaps
// are g, the return time to give porcupine, and false when no effect it
// may have had on the key can show (it is then left out of its history).
func (u *unknowns) window(h *hop, g *revGaps) (int64, bool) {
	if g.next(h.minRev) > g.top {
		return 0, false
	}
	if g.all {
		return math.MaxInt64, true
	}
	return max(u.firstRet(g.last()), h.call), true
}

// dropUnseeable leaves out the unknown writes that no done request can
// have seen: those whose least revision is past every gap. Each either
// changed nothing, or took effect after every done request was served.
func dropUnseeable(hops []*hop, g *revGaps) []*hop {
	return slices.DeleteFunc(hops, func(h *hop) bool {
		return h.eff == effectMaybe && g.next(h.minRev) > g.top
	})
}

// historyFloor returns a revision at or below the store's revision when
// the history began, so that no write of it took a revision at or below
// it: a done request served at revision r was served after at most k
// revisions were taken in the history, k being the number of writes called
// before it returned. A history that starts from an empty store gives 0 or
// less; one recorded from a cluster that held data before gives its
// revision then, less the writes in flight, so that the revisions before
// it are not taken for gaps an unknown write could fill. It returns 0 when
// something outside the history's writes may take revisions (not
// allKVOnly): a lease (its expiry deletes), or a request the checker
// leaves out that writes.
func historyFloor(allKVOnly bool, hops []*hop) int64 {
	if !allKVOnly {
		return 0
	}
	var calls []int64
	for _, h := range hops {
		if !h.read {
			calls = append(calls, h.call)
		}
	}
	slices.Sort(calls)
	floor := int64(math.MaxInt64)
	for _, h := range hops {
		if h.eff != effectDone || h.noRev {
			continue
		}
		k, _ := slices.BinarySearch(calls, h.ret+1)
		floor = min(floor, h.res.Rev-int64(k))
	}
	if floor == math.MaxInt64 {
		return 0
	}
	return max(floor, 0)
}

// kvOnly reports whether a request changes nothing outside the KV model:
// a put, delete, txn or range without a lease, a compaction or a
// defragmentation.
func kvOnly(r *nodes.Request) bool {
	switch r.Kind {
	case nodes.KindRange, nodes.KindDeleteRange, nodes.KindCompact, nodes.KindDefrag:
		return true
	case nodes.KindPut:
		return r.Lease == 0
	case nodes.KindTxn:
		for _, br := range [][]mvcc.Op{r.Txn.Success, r.Txn.Failure} {
			for _, op := range br {
				if op.Lease != 0 {
					return false
				}
			}
		}
		return true
	}
	return false
}

// anonClass is what makes anonymous unknown writes on a key interchangeable:
// the request with its values left out, and the least revision they can
// take on the key. From a revision lo on, applyMaybe's put takes the
// first gap at or above max(lo, the key's mod revision + 1); when two
// writes have the same first gap from their least revisions, that is the
// same gap for both whatever the key's mod revision.
type anonClass struct {
	kind string
	rev  int64
}

// markAnonymous marks the unknown writes whose effects no request of the
// history can tell apart from those of another write of the same kind
// (hop.anon): a write each of whose puts writes a value that no read
// showed and no compare names, on a key no compare orders by value, with
// the kind of a write being its request with the put values left out. The
// search tries only one write of each kind at a time (see search).
func markAnonymous(hops []*hop) {
	type kvPair struct{ key, value string }
	seen, ordered := map[kvPair]bool{}, map[string]bool{}
	for _, h := range hops {
		for _, br := range [][]mvcc.Op{h.success(), h.failure()} {
			for _, op := range br {
				if op.Type == mvcc.OpPut && string(op.Value) == unseenValue {
					return // a history that writes the placeholder: nothing is anonymous
				}
			}
		}
	}
	for _, h := range hops {
		for _, c := range h.compares() {
			if c.Target == mvcc.CompareValue {
				seen[kvPair{string(c.Key), string(c.Value)}] = true
				if c.Result != mvcc.CompareEqual && c.Result != mvcc.CompareNotEqual || len(c.RangeEnd) != 0 {
					ordered[string(c.Key)] = true
				}
			}
		}
		for _, kv := range h.res.KVs {
			seen[kvPair{string(kv.Key), string(kv.Value)}] = true
		}
	}
	for _, h := range hops {
		if h.eff != effectMaybe {
			continue
		}
		blank, ok := *h.req, true
		blank.Txn.Success, blank.Txn.Failure = blankPuts(h.req.Txn.Success), blankPuts(h.req.Txn.Failure)
		blank.Value = nil
		for _, br := range [][]mvcc.Op{h.success(), h.failure()} {
			for _, op := range br {
				if op.Type == mvcc.OpPut && (seen[kvPair{string(op.Key), string(op.Value)}] || ordered[string(op.Key)]) {
					ok = false
				}
			}
		}
		if ok {
			h.anon = describeReq(&blank)
		}
	}
}

// blankPuts returns ops with the values of their puts left out.
func blankPuts(ops []mvcc.Op) []mvcc.Op {
	out := slices.Clone(ops)
	for i := range out {
		out[i].Value = nil
	}
	return out
}

// unseenValue stands for the value of an anonymous write's put in the
// key's states: no request tells these values apart, so states that
// differ only in which of them the key holds are one state.
const unseenValue = "\x00unseen"

// unseen replaces the values of acts' puts with unseenValue.
func unseen(acts []action) {
	for i := range acts {
		if acts[i].typ == mvcc.OpPut {
			acts[i].value = unseenValue
		}
	}
}
