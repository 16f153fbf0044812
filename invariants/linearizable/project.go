package linearizable

import (
	"slices"
	"sort"
	"unsafe"

	"github.com/anishathalye/porcupine"

	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// partition is the history of one key, as porcupine checks it.
type partition struct {
	key string
	ops []porcupine.Operation
	// hops, until build projects them into ops, are the requests of the
	// key's history, in the caller's order: a check holds the projection
	// of only the keys it is searching (see build), not of every key at
	// once.
	hops []*hop
}

// universe returns, sorted, every key the history names: the keys of
// puts, single-key deletes, ranges and compares, and the keys reads
// returned. A range over several keys stands for these keys only; a key
// that no request names was never written.
func universe(hops []*hop) []string {
	var set keyTable
	for _, h := range hops {
		if op := h.single(); op != nil {
			if op.Type == mvcc.OpPut || len(op.End) == 0 {
				set.add(op.Key)
			}
			for _, kv := range h.res.KVs {
				set.add(kv.Key)
			}
			continue
		}
		for _, c := range h.compares() {
			if len(c.RangeEnd) == 0 {
				set.add(c.Key)
			}
		}
		for _, br := range [][]mvcc.Op{h.success(), h.failure()} {
			for _, op := range br {
				if op.Type == mvcc.OpPut || len(op.End) == 0 {
					set.add(op.Key)
				}
			}
		}
		for _, kv := range h.res.KVs {
			set.add(kv.Key)
		}
	}
	slices.Sort(set.keys)
	return set.keys
}

// project splits the history by key. A request that touches several keys
// (a multi-key delete-range or range, a txn over several keys) goes into
// the partition of each, as its projection onto that key: what it does to
// and shows of that key alone. The partitions hold their requests, not
// yet projected: build projects them.
func project(hops []*hop, keys []string, u *unknowns) []partition {
	index := newKeyTable(keys)
	parts := make([]partition, len(keys))
	for i, k := range keys {
		parts[i].key = k
	}
	var ks []int
	for _, h := range hops {
		if h.pastRev {
			continue
		}
		ks = touched(h, keys, index, ks[:0])
		for _, i := range ks {
			if h.eff == effectMaybe {
				if _, ok := u.window(h, u.forKey(keys[i])); !ok {
					continue
				}
			}
			parts[i].hops = append(parts[i].hops, h)
		}
	}
	return slices.DeleteFunc(parts, func(p partition) bool { return len(p.hops) == 0 })
}

// build projects the requests of partition i onto its key, after the
// operation that starts it from the states a prefix p carries for the key
// (if any). Partitions may be built concurrently: build reads the
// history, the prefix and u, and writes only partition i. The classes of
// anonymous unknown writes are numbered per key: the search compares them
// only within a key.
func build(parts []partition, i int, p *Prefix, u *unknowns) { buildWith(parts, i, p, u, nil) }

// buildWith is build with its arrays taken from sc (nil: made afresh) when
// they are large enough, and kept there for the next key.
func buildWith(parts []partition, i int, p *Prefix, u *unknowns, sc *scratch) {
	part := &parts[i]
	key := part.key
	gaps := u.forKey(key)
	n := len(part.hops)
	if sc == nil {
		sc = &scratch{}
	}
	sc.ops, sc.ins, sc.outs, sc.acts = emptied(sc.ops, n+1), emptied(sc.ins, n), emptied(sc.outs, n), emptied(sc.acts, n)
	ops := sc.ops
	if set, ok := p.keys[key]; ok {
		ops = append(ops, p.initOp(i, set))
	}
	classes := map[anonClass]int{}
	a := arena{ins: sc.ins, outs: sc.outs, acts: sc.acts, views: true}
	for _, h := range part.hops {
		ret := h.ret
		if h.eff == effectMaybe {
			ret, _ = u.window(h, gaps)
		}
		in, out := projectInput(&a, h, key, gaps), projectOutput(&a, h, key)
		in.part = i
		if h.eff == effectMaybe && h.anon != "" {
			c := anonClass{h.anon, gaps.next(in.minRev)}
			if classes[c] == 0 {
				classes[c] = len(classes) + 1
			}
			in.class = classes[c]
		}
		ops = append(ops, porcupine.Operation{
			ClientId: h.client, Input: in, Call: h.call, Output: out, Return: ret,
		})
	}
	part.ops, part.hops = ops, nil
}

// touched returns the indexes of the keys a request reads, writes or
// compares, in key order, appended to ks (a caller's scratch, so that a
// pass over the history does not allocate one slice per request).
func touched(h *hop, keys []string, index *keyTable, ks []int) []int {
	if op := h.single(); op != nil && (op.Type == mvcc.OpPut || len(op.End) == 0) {
		if i, ok := index.find(op.Key); ok {
			ks = append(ks, i)
		}
		return ks
	}
	add := func(key, end []byte) {
		if len(end) == 0 {
			if i, ok := index.find(key); ok {
				ks = append(ks, i)
			}
			return
		}
		for i := sort.SearchStrings(keys, string(key)); i < len(keys) && mvcc.InRangeString(keys[i], key, end); i++ {
			ks = append(ks, i)
		}
	}
	for _, c := range h.compares() {
		if len(c.RangeEnd) == 0 {
			add(c.Key, nil)
		}
	}
	for _, br := range [][]mvcc.Op{h.success(), h.failure()} {
		for i := range br {
			if op := &br[i]; op.Type == mvcc.OpPut {
				add(op.Key, nil)
			} else {
				add(op.Key, op.End)
			}
		}
	}
	slices.Sort(ks)
	return slices.Compact(ks)
}

// arena cuts the many small objects a projection makes (an input, an
// output and the actions of each request on each key) from a few large
// arrays instead of allocating each one.
type arena struct {
	ins  []keyInput
	outs []keyOutput
	acts []action
	// views: the values of puts are views of the requests' bytes (the
	// history is not written during a check, and a search's states do
	// not outlive it), not copies.
	views bool
}

const arenaChunk = 256

// scratch is the arrays a search worker projects and links one key's
// history in (buildWith, linkEvents) and cuts its state sets from
// (visited.states), kept from one key to the next: a key's arrays are
// garbage once its search passed or ran out of budget (checkKV lets go of
// its ops then), and every element is written before it is read again,
// so a key reads nothing another key left in them. A worker whose key
// failed keeps its key's ops for the search that describes the failure,
// and starts a new scratch.
type scratch struct {
	ops     []porcupine.Operation
	ins     []keyInput
	outs    []keyOutput
	acts    []action
	evs     []event
	returns []*node
	nodes   []node
	calls   []frame    // the search's stack (searcher.calls)
	states  []stateSet // the chunks of the state sets, in the order visited.states cuts them
	used    int        // how many of states a search has taken
}

// emptied returns s emptied when it can hold n elements, else a new empty
// slice of capacity n.
func emptied[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

func (a *arena) input() *keyInput   { return cut(&a.ins) }
func (a *arena) output() *keyOutput { return cut(&a.outs) }

// cut returns the next element of *s, starting a new array of arenaChunk
// when *s is full (the elements already cut stay where they are).
func cut[T any](s *[]T) *T {
	if len(*s) == cap(*s) {
		*s = make([]T, 0, arenaChunk)
	}
	*s = (*s)[:len(*s)+1]
	return &(*s)[len(*s)-1]
}

// projectInput returns what a request asks of one key. Compares over a
// range of keys are not checked; they only make the branch uncertain.
func projectInput(a *arena, h *hop, key string, gaps *revGaps) *keyInput {
	in := a.input()
	*in = keyInput{h: h, allCmps: true, minRev: max(h.minRev, 1), gaps: gaps}
	cmps := h.compares()
	on := 0
	for i := range cmps {
		if c := &cmps[i]; len(c.RangeEnd) == 0 && string(c.Key) == key {
			on++
		}
	}
	switch {
	case on == len(cmps):
		// All of them, the common case: the request's own, read only.
		in.cmps = cmps[:on:on]
	case on > 0:
		in.cmps = make([]mvcc.Compare, 0, on)
		fallthrough
	default:
		in.allCmps = false
		for _, c := range cmps {
			if len(c.RangeEnd) == 0 && string(c.Key) == key {
				in.cmps = append(in.cmps, c)
			}
		}
	}
	in.then, in.els = a.actions(h.success(), key), a.actions(h.failure(), key)
	if h.anon != "" {
		unseen(in.then)
		unseen(in.els)
	}
	return in
}

// actions returns a branch's ops on one key (nil when it does nothing
// there). Only the branch's last range has its result in nodes.Result; it
// is checked when it reads the current state in full.
func actions(ops []mvcc.Op, key string) []action {
	var a arena
	return a.actions(ops, key)
}

// actions is the function actions with the slice cut from the arena (its
// capacity ends at its length, so an append could not reach the next
// one); an empty arena makes a slice of exactly the length needed.
func (a *arena) actions(ops []mvcc.Op, key string) []action {
	if len(ops) == 0 {
		return nil
	}
	room := len(ops) // enough for all
	if cap(a.acts) == 0 {
		room = 0
		for i := range ops {
			if onKey(&ops[i], key) {
				room++
			}
		}
		if room == 0 {
			return nil
		}
	}
	if cap(a.acts)-len(a.acts) < room {
		a.acts = make([]action, 0, max(room, min(2*cap(a.acts), arenaChunk)))
	}
	start, last := len(a.acts), lastRange(ops)
	for i := range ops {
		if act, ok := projectAction(ops, i, last, key, a.views); ok {
			a.acts = append(a.acts, act)
		}
	}
	if len(a.acts) == start {
		return nil
	}
	return a.acts[start:len(a.acts):len(a.acts)]
}

// onKey reports whether a txn op acts on key.
func onKey(op *mvcc.Op, key string) bool {
	if op.Type == mvcc.OpPut {
		return string(op.Key) == key
	}
	return mvcc.InRangeString(key, op.Key, op.End)
}

// projectAction is ops[i] projected onto key, last being the index of the
// branch's last range; false if it does nothing on key. With views, a
// put's value is the request's bytes, not a copy (see arena).
func projectAction(ops []mvcc.Op, i, last int, key string, views bool) (action, bool) {
	op := &ops[i]
	if !onKey(op, key) {
		return action{}, false
	}
	a := action{typ: op.Type}
	switch op.Type {
	case mvcc.OpPut:
		a.lease = op.Lease
		if views {
			a.value = view(op.Value)
		} else {
			a.value = string(op.Value)
		}
	case mvcc.OpRange:
		a.check, a.keysOnly = i == last && plainRange(op), op.Range.KeysOnly
	}
	return a, true
}

// projectOutput returns what a request's result tells of one key.
func projectOutput(a *arena, h *hop, key string) *keyOutput {
	out := a.output()
	*out = keyOutput{deleted: -1}
	if h.eff == effectMaybe {
		out.maybe = true
		return out
	}
	out.succeeded, out.rev, out.noRev = h.succeeded(), h.res.Rev, h.noRev
	if h.observed {
		return out
	}
	// A settled write's deletions are exact (the log's apply counted them);
	// its key-values were never shown (shownKVs).
	out.deleted = exactDeleted(h)
	if op, kvs := h.shownKVs(); op != nil {
		out.read = true
		for i := range kvs {
			if string(kvs[i].Key) == key {
				out.kv = &kvs[i] // the history's own, never written during a check
				break
			}
		}
	}
	return out
}

// exactDeleted returns how many keys each delete of a done request's
// branch deleted on its key, when the result tells: none if it deleted
// nothing at all, its count if the branch has a single single-key delete;
// -1 otherwise.
func exactDeleted(h *hop) int64 {
	if h.res.Deleted == 0 {
		return 0
	}
	var del *mvcc.Op
	for i, op := range h.branch() {
		if op.Type == mvcc.OpDeleteRange {
			if del != nil {
				return -1
			}
			del = &h.branch()[i]
		}
	}
	if del == nil || len(del.End) != 0 {
		return -1
	}
	return h.res.Deleted
}

// observeUnknownWrites learns the outcome of unknown writes from reads,
// as etcd's robustness tests patch their histories: when a done read shows
// a key-value that exactly one request of the history puts, and that
// request's outcome is unknown, it took effect before the read returned,
// took the branch holding that put, and took the revision the read shows
// as the key's mod revision (when that is possible: called before the read
// returned, at or above its least revision). Its return time becomes that of the earliest
// such read, which lets porcupine order it instead of keeping it open
// until the end of time.
func observeUnknownWrites(hops []*hop) {
	type writer struct {
		h       *hop
		n       int
		success bool
	}
	type kvPair struct{ key, value string }
	if !slices.ContainsFunc(hops, func(h *hop) bool { return h.eff == effectMaybe }) {
		return // only an unknown write is ever learned (none is observed yet)
	}
	writers := map[kvPair]*writer{}
	for _, h := range hops {
		for bi, br := range [][]mvcc.Op{h.success(), h.failure()} {
			for _, op := range br {
				if op.Type != mvcc.OpPut {
					continue
				}
				k := kvPair{view(op.Key), view(op.Value)}
				w := writers[k]
				if w == nil {
					w = &writer{}
					writers[k] = w
				}
				w.h, w.n, w.success = h, w.n+1, bi == 0
			}
		}
	}
	for _, r := range hops {
		op, kvs := r.shownKVs()
		if op == nil || op.Range.KeysOnly {
			continue
		}
		for _, kv := range kvs {
			w := writers[kvPair{view(kv.Key), view(kv.Value)}]
			known := kv.ModRevision != 0 && !r.noRev
			if w == nil || w.n != 1 || (w.h.eff != effectMaybe && !w.h.observed) ||
				w.h.call > r.ret || w.h.ret <= r.ret || (known && kv.ModRevision < w.h.minRev) {
				continue // not this writer's, or impossible: left to the model to judge
			}
			w.h.eff, w.h.observed, w.h.ret, w.h.noRev = effectDone, true, r.ret, !known
			w.h.res = result{Rev: kv.ModRevision, Succeeded: w.success}
		}
	}
}

// view is b as a string without a copy, for the keys of a map that lives
// only while b is not written (observeUnknownWrites' writers: the history
// is not changed during a check).
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
