package linearizable

import (
	"cmp"
	"slices"
	"unsafe"

	"github.com/anishathalye/porcupine"
)

// The KV model's search is the Wing & Gong algorithm with Lowe's cache of
// visited configurations, as porcupine runs it, over one key's history. It
// is written here rather than called from porcupine so that it can keep
// to a budget: it counts the bytes of every configuration it keeps and
// stops, with an answer of its own, when they pass the key's share of
// Budget.Memory or when Budget.Time has passed. It takes the requests in
// the same order as porcupine (calls and returns sorted by time, a call
// before a return at the same time), so it finds the same linearizations.

// outcome is what a search concluded.
type outcome uint8

const (
	searchOK      outcome = iota // a linearization exists
	searchIllegal                // none exists
	searchMemory                 // stopped: the key's memory share was used up
	searchTime                   // stopped: the time budget ran out
)

// node is a call or return event in the search's linked list.
type node struct {
	in         *keyInput  // call events
	out        *keyOutput // return events: the match of a call
	id         int        // the operation's index in its partition
	ret        int64      // its return time
	match      *node      // a call's return event; nil for a return
	prev, next *node
}

// event is a call or return before sorting, as porcupine's entry.
type event struct {
	call bool
	id   int
	time int64
}

// byTime orders events as porcupine does: by time, a call before a
// return at the same time; others are ties.
func byTime(a, b event) int {
	if a.time != b.time {
		return cmp.Compare(a.time, b.time)
	}
	return cmp.Compare(b2i(b.call), b2i(a.call))
}

// linkEvents returns the head of the list of a partition's events, sorted
// as porcupine sorts them (sort.Sort over calls and returns appended in
// the partition's order, so that ties fall the same way: slices.SortFunc
// is the same pattern-defeating quicksort, generated from the same
// source, and makes the same moves when its comparison is negative
// exactly where sort.Sort's Less is true).
func linkEvents(p *partition, sc *scratch) *node {
	evs := sortEvents(p, sc)
	sc.returns = emptied(sc.returns, len(p.ops))[:len(p.ops)]
	returns := sc.returns
	clear(returns)
	sc.nodes = emptied(sc.nodes, len(evs))[:len(evs)]
	nodes := sc.nodes // one array for the whole list, kept for the next key
	var root *node
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		n := &nodes[i]
		*n = node{id: e.id, ret: p.ops[e.id].Return, next: root}
		if e.call {
			n.in, n.match = p.ops[e.id].Input.(*keyInput), returns[e.id]
		} else {
			n.out = p.ops[e.id].Output.(*keyOutput)
			returns[e.id] = n
		}
		if root != nil {
			root.prev = n
		}
		root = n
	}
	return root
}

// sortEvents returns a partition's events sorted as linkEvents says.
// When no two calls and no two returns fall at the same time, the order
// is the only one byTime allows, whatever sort reaches it: the calls,
// already in order in the partition's, are merged with the returns,
// sorted alone. Otherwise they are sorted as porcupine sorts them.
func sortEvents(p *partition, sc *scratch) []event {
	n := len(p.ops)
	sc.evs = emptied(sc.evs, 2*n)
	evs := sc.evs
	if callsAscend(p.ops) {
		// The returns are sorted in the upper half of evs and merged into
		// it from the start: the merge writes no further than it read.
		evs = evs[:2*n]
		rets := evs[n:]
		for i := range p.ops {
			rets[i] = event{false, i, p.ops[i].Return}
		}
		sortNearly(rets)
		distinct := true
		for i := 1; i < n; i++ {
			if rets[i].time == rets[i-1].time {
				distinct = false
				break
			}
		}
		if distinct {
			k, j := 0, 0
			for i := range p.ops {
				call := p.ops[i].Call
				for ; j < n && rets[j].time < call; j++ {
					evs[k] = rets[j]
					k++
				}
				evs[k] = event{true, i, call}
				k++
			}
			return evs
		}
		evs = evs[:0]
	}
	for i, op := range p.ops {
		evs = append(evs, event{true, i, op.Call}, event{false, i, op.Return})
	}
	slices.SortFunc(evs, byTime)
	return evs
}

// sortNearly sorts events by time: by insertion, as returns listed in
// call order are nearly sorted already, unless that takes more than a few
// moves per event (then by slices.SortFunc). Events of equal times may end
// in any order.
func sortNearly(evs []event) {
	budget := 8 * len(evs)
	for i := 1; i < len(evs); i++ {
		e, j := evs[i], i
		for ; j > 0 && evs[j-1].time > e.time; j-- {
			evs[j] = evs[j-1]
		}
		evs[j] = e
		if budget -= i - j; budget < 0 {
			slices.SortFunc(evs, func(a, b event) int { return cmp.Compare(a.time, b.time) })
			return
		}
	}
}

// callsAscend reports whether ops are called at strictly increasing times.
func callsAscend(ops []porcupine.Operation) bool {
	for i := 1; i < len(ops); i++ {
		if ops[i].Call <= ops[i-1].Call {
			return false
		}
	}
	return true
}

// lift takes a call and its return out of the list; unlift puts them back.
func lift(n *node) {
	n.prev.next = n.next
	n.next.prev = n.prev
	m := n.match
	m.prev.next = m.next
	if m.next != nil {
		m.next.prev = m.prev
	}
}

func unlift(n *node) {
	m := n.match
	m.prev.next = m
	if m.next != nil {
		m.next.prev = m
	}
	n.prev.next = n
	n.next.prev = n
}

// visited is the cache of configurations seen: the set of requests
// linearized and the states reached. A set is hashed incrementally, as the
// xor of a fixed random word per request.
//
// A configuration enters the cache when the search backtracks out of it,
// not when it reaches it: until then it is on the search's stack, and a
// configuration the search reaches never equals one on its stack (each
// holds one request more than the one below it), so the lookups find what
// they would find had every configuration entered at once. Most searches
// never backtrack, and keep no copy at all. The memory estimate still
// counts each configuration when it is reached (see counted).
type visited struct {
	// buckets maps a configuration's hash to 1 + the index in entries of
	// the newest configuration of that hash; each entry links to the one
	// before it. One slice of entries, doubled when full, not a slice per
	// hash, saves an allocation per configuration.
	buckets map[uint64]int32
	entries []entry
	words   int
	bytes   int64    // the estimated memory of the cache and the stack
	arena   []uint64 // where the copies of linearized sets are cut from
	stArena stateSet // where the state sets reached are cut from (see states)
	sc      *scratch // where the arrays of stArena are taken from
}

type cached struct {
	lin []uint64
	st  stateSet
}

type entry struct {
	cached
	prev int32 // 1 + the index of the entry before it of the same hash; 0: none
}

// stateBytes estimates the memory a state set holds (its strings are
// shared with the requests).
func stateBytes(st stateSet) int64 {
	return int64(unsafe.Sizeof(st)) + int64(cap(st))*int64(unsafe.Sizeof(keyState{}))
}

// copyOf returns a copy of lin cut from the arena (one allocation for
// many configurations; a copy is never written, and its capacity ends at
// its length, so an append could not reach the next one).
func (v *visited) copyOf(lin []uint64) []uint64 {
	n := len(lin)
	if cap(v.arena)-len(v.arena) < n {
		v.arena = make([]uint64, 0, max(n, min(2*cap(v.arena), 1024), 64))
	}
	l := len(v.arena)
	v.arena = append(v.arena, lin...)
	return v.arena[l : l+n : l+n]
}

// seen reports whether the cache holds a configuration (the set lin,
// whose hash is h, and the states st).
func (v *visited) seen(lin []uint64, h uint64, st stateSet) bool {
	if len(v.buckets) == 0 {
		return false
	}
	for i := v.buckets[h^hashStates(st)]; i != 0; i = v.entries[i-1].prev {
		if c := &v.entries[i-1]; slices.Equal(c.lin, lin) && slices.Equal(c.st, st) {
			return true
		}
	}
	return false
}

// counted adds a configuration the search reached, with the states st, to
// the memory estimate: the entry (with the map's share), its copy of the
// set, its state, and the stack's frame (an estimate the budget's verdicts
// rest on: unchanged from when every configuration entered the cache as it
// was reached, and each hash had a slice of its own).
func (v *visited) counted(st stateSet) {
	v.bytes += int64(unsafe.Sizeof(cached{}))*2 + 8*int64(v.words) + stateBytes(st) + 96
}

// states returns an empty state set of capacity n cut from the arena of
// states (one allocation for many: the sets a search reaches are kept
// until it ends, on its stack or in the cache), as step would make it; its
// capacity ends where the next one begins, so an append past it moves it
// out as it would move step's.
func (v *visited) states(n int) stateSet {
	if cap(v.stArena)-len(v.stArena) < n {
		v.stArena = v.sc.chunk(max(n, statesChunk))
	}
	l := len(v.stArena)
	v.stArena = v.stArena[:l+n]
	return v.stArena[l : l : l+n]
}

// chunk returns an empty state set of capacity at least n for the arena
// of states: the next chunk a search before took, when it is as large
// (their states are garbage: see scratch), or a new one, kept for the next.
func (sc *scratch) chunk(n int) stateSet {
	if sc.used < len(sc.states) && cap(sc.states[sc.used]) >= n {
		sc.used++
		return sc.states[sc.used-1][:0]
	}
	c := make(stateSet, 0, n)
	if sc.used < len(sc.states) {
		sc.states[sc.used] = c
	} else {
		sc.states = append(sc.states, c)
	}
	sc.used++
	return c
}

// statesChunk is how many states the arena of states holds at a time:
// small, as many keys have few requests.
const statesChunk = 32

// add records a configuration the search backtracks out of (never one
// already there: see visited).
func (v *visited) add(lin []uint64, h uint64, st stateSet) {
	key := h ^ hashStates(st)
	if len(v.entries) == cap(v.entries) {
		v.entries = slices.Grow(v.entries, max(len(v.entries), 8))
	}
	v.entries = append(v.entries, entry{cached{v.copyOf(lin), st}, v.buckets[key]})
	v.buckets[key] = int32(len(v.entries))
}

// zobrist returns the fixed random word of request id (splitmix64).
func zobrist(id int) uint64 {
	z := uint64(id+1) * 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// searcher is the state of one key's search.
type searcher struct {
	v        *visited
	lin      []uint64 // the requests linearized, by id
	h        uint64   // the xor of their zobrist words
	calls    []frame  // the linearization so far, with the state before each
	st       stateSet
	head     *node
	longest  []*[]int // with partial: see recordLongest
	maxBytes int64
}

type frame struct {
	n  *node
	st stateSet
}

// search is the check of one key's history: whether its requests have a
// linearization, within a memory share of maxBytes (0: none) and until
// expired says the time is up (nil: never). With partial, it also returns the longest
// linearizations it built, as porcupine's LinearizationInfo does.
//
// It tries the candidates of each configuration (the calls before the
// first return left) as porcupine does, in list order, but of the
// anonymous unknown writes of a class (see markAnonymous) only the one
// that closes first: they have the same effect on the key, so trying the
// others would repeat the search once per subset of them. A history
// without unknown writes is searched exactly as porcupine searches it.
func search(p *partition, maxBytes int64, expired func() bool, partial bool) (outcome, [][]int) {
	return searchWith(p, maxBytes, expired, partial, &scratch{})
}

// searchWith is search with its arrays taken from sc (see scratch).
func searchWith(p *partition, maxBytes int64, expired func() bool, partial bool, sc *scratch) (outcome, [][]int) {
	words := (len(p.ops) + 63) / 64
	sc.used = 0
	s := &searcher{v: &visited{buckets: map[uint64]int32{}, words: words, sc: sc}, lin: make([]uint64, words),
		st: stateSet{{}}, head: &node{id: -1, next: linkEvents(p, sc)}, maxBytes: maxBytes, calls: sc.calls[:0]}
	defer func() { sc.calls = s.calls[:0] }()
	if partial {
		s.longest = make([]*[]int, len(p.ops))
	}
	if s.head.next != nil {
		s.head.next.prev = s.head
	}
	e := s.head.next
	for iter := 0; s.head.next != nil; iter++ {
		if iter&1023 == 0 && expired != nil && expired() {
			return searchTime, nil
		}
		switch {
		case e.match == nil: // a return: no candidate is left before it
			if len(s.calls) == 0 {
				return searchIllegal, collectLongest(s.longest)
			}
			e = s.backtrack().next
		case s.dominated(e):
			e = e.next
		default:
			ok, out := s.try(e)
			if out != searchOK {
				return out, nil
			}
			if e = e.next; ok {
				e = s.head.next
			}
		}
	}
	return searchOK, nil
}

// dominated reports whether another anonymous unknown write of e's class
// can be linearized now and closes no later (the earliest-closing of a
// class goes first). Such writes have the same effect on the key, so
// whatever order places e here places the other here just as well, with
// e where the other was: trying e as well would only repeat the search.
func (s *searcher) dominated(e *node) bool {
	c := e.in.class
	if c == 0 {
		return false
	}
	for x := s.head.next; x.match != nil; x = x.next {
		if x != e && x.in.class == c && (x.ret < e.ret || x.ret == e.ret && x.id < e.id) {
			return true
		}
	}
	return false
}

// try linearizes the call e next, and reports whether it could (its
// outcome fits the states, and the configuration is new), or that the
// memory share ran out.
func (s *searcher) try(e *node) (bool, outcome) {
	next := e.in.init
	if next == nil {
		next = stepInto(s.v.states(len(s.st)+1), s.st, e.in, e.match.out)
	}
	if len(next) == 0 {
		return false, searchOK
	}
	s.lin[e.id/64] |= 1 << (e.id % 64)
	if s.v.seen(s.lin, s.h^zobrist(e.id), next) {
		s.lin[e.id/64] &^= 1 << (e.id % 64)
		return false, searchOK
	}
	s.v.counted(next)
	if s.maxBytes > 0 && s.v.bytes > s.maxBytes {
		return false, searchMemory
	}
	s.h ^= zobrist(e.id)
	s.calls = append(s.calls, frame{e, s.st})
	s.st = next
	lift(e)
	return true, searchOK
}

// backtrack undoes the last request linearized and returns its call; the
// search goes on after it.
func (s *searcher) backtrack() *node {
	if s.longest != nil {
		recordLongest(s.longest, len(s.calls), func(i int) int { return s.calls[i].n.id })
	}
	s.v.add(s.lin, s.h, s.st) // the configuration it leaves, fully searched
	top := s.calls[len(s.calls)-1]
	s.calls = s.calls[:len(s.calls)-1]
	e := top.n
	s.st = top.st
	s.lin[e.id/64] &^= 1 << (e.id % 64)
	s.h ^= zobrist(e.id)
	unlift(e)
	return e
}

// recordLongest keeps, for each request of the current linearization
// (of length k, its i-th request id(i)), the longest linearization seen
// that holds it, as porcupine does.
func recordLongest(longest []*[]int, k int, id func(int) int) {
	var seq *[]int
	for i := range k {
		if l := longest[id(i)]; l == nil || k > len(*l) {
			if seq == nil {
				s := make([]int, k)
				for j := range k {
					s[j] = id(j)
				}
				seq = &s
			}
			longest[id(i)] = seq
		}
	}
}

// collectLongest returns the distinct linearizations of longest.
func collectLongest(longest []*[]int) [][]int {
	seen := map[*[]int]bool{}
	var out [][]int
	for _, l := range longest {
		if l != nil && !seen[l] {
			seen[l] = true
			out = append(out, *l)
		}
	}
	return out
}
