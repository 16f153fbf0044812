package linearizable

import (
	"slices"
	"sort"
	"time"
	"unsafe"
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
	match      *node      // a call's return event; nil for a return
	prev, next *node
}

// event is a call or return before sorting, as porcupine's entry.
type event struct {
	call bool
	id   int
	time int64
}

type byTime []event

func (a byTime) Len() int      { return len(a) }
func (a byTime) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a byTime) Less(i, j int) bool {
	if a[i].time != a[j].time {
		return a[i].time < a[j].time
	}
	return a[i].call && !a[j].call
}

// linkEvents returns the head of the list of a partition's events, sorted
// as porcupine sorts them (sort.Sort over calls and returns appended in
// the partition's order, so that ties fall the same way).
func linkEvents(p *partition) *node {
	evs := make([]event, 0, 2*len(p.ops))
	for i, op := range p.ops {
		evs = append(evs, event{true, i, op.Call}, event{false, i, op.Return})
	}
	sort.Sort(byTime(evs))
	returns := make([]*node, len(p.ops))
	var root *node
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		n := &node{id: e.id, next: root}
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
type visited struct {
	buckets map[uint64][]cached
	words   int
	bytes   int64 // the estimated memory of the cache and the stack
}

type cached struct {
	lin []uint64
	st  stateSet
}

// stateBytes estimates the memory a state set holds (its strings are
// shared with the requests).
func stateBytes(st stateSet) int64 {
	return int64(unsafe.Sizeof(st)) + int64(len(st))*int64(unsafe.Sizeof(keyState{}))
}

// add records a configuration; false if it was seen before.
func (v *visited) add(lin []uint64, h uint64, st stateSet) bool {
	key := h ^ hashStates(st)
	bucket := v.buckets[key]
	for _, c := range bucket {
		if slices.Equal(c.lin, lin) && slices.Equal(c.st, st) {
			return false
		}
	}
	v.buckets[key] = append(bucket, cached{append([]uint64(nil), lin...), st})
	// the entry, its copy of the set, its state, and the stack's frame
	v.bytes += int64(unsafe.Sizeof(cached{}))*2 + 8*int64(v.words) + stateBytes(st) + 48
	return true
}

// zobrist returns the fixed random word of request id (splitmix64).
func zobrist(id int) uint64 {
	z := uint64(id+1) * 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// search is the check of one key's history: whether its requests have a
// linearization, within a memory share of maxBytes (0: none) and until the
// deadline (zero: none). With partial, it also returns the longest
// linearizations it built, as porcupine's LinearizationInfo does.
func search(p *partition, maxBytes int64, deadline time.Time, partial bool) (outcome, [][]int) {
	n := len(p.ops)
	words := (n + 63) / 64
	v := &visited{buckets: map[uint64][]cached{}, words: words}
	lin, h := make([]uint64, words), uint64(0)
	type frame struct {
		n  *node
		st stateSet
	}
	var calls []frame
	var longest []*[]int
	if partial {
		longest = make([]*[]int, n)
	}
	st := stateSet{{}}
	head := &node{id: -1, next: linkEvents(p)}
	if head.next != nil {
		head.next.prev = head
	}
	e := head.next
	for iter := 0; head.next != nil; iter++ {
		if iter&1023 == 0 && !deadline.IsZero() && time.Now().After(deadline) {
			return searchTime, nil
		}
		if e.match == nil { // a return: backtrack
			if len(calls) == 0 {
				return searchIllegal, collectLongest(longest)
			}
			if partial {
				recordLongest(longest, len(calls), func(i int) int { return calls[i].n.id })
			}
			top := calls[len(calls)-1]
			calls = calls[:len(calls)-1]
			e, st = top.n, top.st
			lin[e.id/64] &^= 1 << (e.id % 64)
			h ^= zobrist(e.id)
			unlift(e)
			e = e.next
			continue
		}
		next := step(st, e.in, e.match.out)
		if len(next) == 0 {
			e = e.next
			continue
		}
		lin[e.id/64] |= 1 << (e.id % 64)
		if !v.add(lin, h^zobrist(e.id), next) {
			lin[e.id/64] &^= 1 << (e.id % 64)
			e = e.next
			continue
		}
		if maxBytes > 0 && v.bytes > maxBytes {
			return searchMemory, nil
		}
		h ^= zobrist(e.id)
		calls = append(calls, frame{e, st})
		st = next
		lift(e)
		e = head.next
	}
	return searchOK, nil
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
