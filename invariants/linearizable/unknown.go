package linearizable

import (
	"cmp"
	"math"
	"slices"
	"sort"
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

func newUnknowns(hops []*hop, floor int64) *unknowns {
	u := &unknowns{gaps: &revGaps{}, byKey: map[string]*revGaps{}}
	if !slices.ContainsFunc(hops, func(h *hop) bool { return h.eff == effectMaybe }) {
		return u // no unknown write to bound (a history the log settled)
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
