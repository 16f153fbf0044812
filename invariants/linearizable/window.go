package linearizable

import (
	"cmp"
	"maps"
	"slices"

	"github.com/anishathalye/porcupine"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// A long run's history is checked in windows, so that what is checked can
// be dropped and the check's memory and cost stay flat in the run's
// length. A window ends at a cut: a moment no request was in flight
// across. Every request before the cut returned before it and every later
// one was called after it, so the later ones are linearized after all of
// the earlier ones, and what the earlier ones leave for the rest is small:
//
//   - each key's state after them. As every request before the cut is
//     decided (answered, or settled by the log), the writes on a key took
//     known revisions, and etcd applies them in revision order: the key's
//     state is theirs in that order, or none while it holds a lease
//     (expiry). Fold replays only their effects, never the checks of
//     their results, so the true state is always in the set carried;
//     the set may be wider than the states porcupine could reach, which
//     only lets more through.
//   - the done request with the highest revision: every request called
//     after the cut must be served at or above it, and every write take a
//     revision above it (revision-order and read-revision across the cut,
//     which imply revision-unique across it).
//
// A write still undecided at the cut (no answer and no committed entry)
// cannot be folded: the caller keeps it, and it is taken as called at the
// cut, since it cannot take effect before its entry is committed, after
// the cut. Check and CheckAfter give the same verdict on a history when
// no cut separates a failure from its causes; across a cut, the carried
// state is the one revision order gives, which etcd guarantees.

// Prefix is what the checked beginning of a history, up to a cut, leaves
// for the rest of it. The zero Prefix (or nil) is an empty beginning.
type Prefix struct {
	// At is the cut: the requests folded returned before it; the rest are
	// taken as called at or after it.
	At int64
	// Folded counts the requests folded in, checked or not.
	Folded int
	top    *hop                // the done request folded with the highest revision
	keys   map[string]stateSet // each key the folded requests wrote: its states after them
}

// Pending reports whether a request cannot be folded yet: a write whose
// outcome is open and that no committed entry has settled (see Fate).
// Fold skips it; the caller keeps it for the next window.
func Pending(o *Op) bool { return Uncertain(o) && o.Log != LogApplied }

// Fold returns the prefix p extended by ops[:n], the longest run of the
// requests ops (in call order, none in flight: a request still waiting
// for its answer must not be passed) that ends at a cut no later than
// upTo, and n. Of ops[:n], the Pending ones are not folded: the caller
// keeps them. Call it only on a history CheckAfter(p, ops) found
// linearizable.
func (p *Prefix) Fold(ops []Op, upTo int64) (*Prefix, int) {
	if p == nil {
		p = &Prefix{}
	}
	n, last := 0, int64(-1)<<62 // last: the latest return of a request that must be folded before the cut
	for i := range ops {
		o := &ops[i]
		call := max(o.Call, p.At)
		if call > upTo {
			break
		}
		if last < call {
			n = i // a cut fits just before ops[i]
		}
		switch eff := classify(o); {
		case eff == effectDone:
			last = max(last, o.Return)
		case eff == effectMaybe && o.Log == LogApplied:
			last = max(last, o.Committed)
		} // left out, or Pending: it does not hold the cut back
	}
	if last < upTo && len(ops) > 0 && max(ops[len(ops)-1].Call, p.At) <= upTo {
		n = len(ops) // every request returned before upTo
	}
	if n == 0 {
		return p, 0
	}
	cut := upTo
	if n < len(ops) {
		cut = max(ops[n].Call, p.At)
	}
	// Of ops[:n], Fold needs the done requests only: the writes, whose
	// effects it replays, and the one with the highest revision. Pending
	// requests are not done (nor are the others left open), so they are
	// counted out and never looked at; reads get no hop of their own.
	folded, top := 0, -1
	var writes []*hop
	for i := range ops[:n] {
		o := &ops[i]
		if Pending(o) {
			continue
		}
		folded++
		if !doneOp(o) {
			continue
		}
		if rev := doneRev(o); top < 0 || rev > doneRev(&ops[top]) {
			top = i
		}
		if o.Req.Kind != nodes.KindRange {
			writes = append(writes, classifyOp(ops, i))
		}
	}
	q := &Prefix{At: cut, Folded: p.Folded + folded, top: p.top, keys: maps.Clone(p.keys)}
	if q.keys == nil {
		q.keys = map[string]stateSet{}
	}
	if top >= 0 && (q.top == nil || doneRev(&ops[top]) > q.top.res.Rev) {
		q.top = classifyOp(ops, top)
	}
	// etcd's apply order: by revision; a write that took a revision before
	// the requests that changed nothing at it.
	slices.SortFunc(writes, func(a, b *hop) int {
		return cmp.Or(cmp.Compare(a.res.Rev, b.res.Rev), -cmp.Compare(b2i(a.tookRev), b2i(b.tookRev)), cmp.Compare(a.idx, b.idx))
	})
	keys := q.universe(writes)
	index := newKeyTable(keys)
	var ks []int
	for _, h := range writes {
		branch := h.branch()
		ks = touched(h, keys, index, ks[:0])
		for _, i := range ks {
			key := keys[i]
			acts := actions(branch, key)
			set, ok := q.keys[key]
			if !ok {
				set = stateSet{{}}
			}
			q.keys[key] = applyEffects(set, acts, h.res.Rev)
		}
	}
	q.top = detach(q.top)
	return q, n
}

// applyEffects runs a decided branch's writes on a key's states without
// checking anything: a put takes rev; a leased key may also be gone.
func applyEffects(set stateSet, acts []action, rev int64) stateSet {
	var next stateSet
	for _, s := range set {
		alts := []keyState{s}
		if s.lease != 0 {
			alts = append(alts, keyState{}) // expired before this write
		}
		for _, s := range alts {
			for _, a := range acts {
				switch a.typ {
				case mvcc.OpPut:
					s = putVersion(s, a, exactly(rev))
				case mvcc.OpDeleteRange:
					s = keyState{}
				}
			}
			next = append(next, s)
		}
	}
	slices.SortFunc(next, compareStates)
	return slices.CompactFunc(next, func(a, b keyState) bool { return compareStates(a, b) == 0 })
}

// detach copies the top request's hop so that the prefix keeps nothing
// else of the folded history alive.
func detach(h *hop) *hop {
	if h == nil {
		return nil
	}
	c := *h
	c.detached, c.top = true, nil
	return &c
}

// doneOp reports whether classifyOp makes o a done request: answered with
// its result, or an unknown write the log settled.
func doneOp(o *Op) bool {
	eff := keptEffect(o)
	return eff == effectDone || eff == effectMaybe && o.Log == LogApplied
}

// doneRev is the revision of a done request's result (classifyOp's res).
func doneRev(o *Op) int64 {
	if classify(o) == effectMaybe {
		return o.LogResult.Rev
	}
	return o.Result.Rev
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// universe returns, sorted, the keys the prefix carries and every key hops
// name (see the function universe).
func (p *Prefix) universe(hops []*hop) []string {
	keys := append(slices.Collect(maps.Keys(p.keys)), universe(hops)...)
	slices.Sort(keys)
	return slices.Compact(keys)
}

// initOp is the operation that starts the partition i of a key the
// prefix wrote from the states set: it returns before every request after
// the cut is called, so porcupine orders it first.
func (p *Prefix) initOp(i int, set stateSet) porcupine.Operation {
	h := &hop{client: -1, call: p.At - 1, ret: p.At - 1, eff: effectDone, prefix: true}
	return porcupine.Operation{ClientId: -1, Call: h.call, Return: h.ret,
		Input: &keyInput{h: h, part: i, init: set}, Output: &keyOutput{}}
}

func topRev(h *hop) int64 {
	if h == nil {
		return 0
	}
	return h.res.Rev
}
