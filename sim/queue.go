package sim

import "time"

// Event is one scheduled happening of the world. The queue orders events
// by (At, Seq): equal times run in the order they were scheduled, so the
// order never depends on anything but the seed.
type Event struct {
	At   time.Duration
	Seq  uint64
	Kind EventKind
	Node int    // the member or client the event is for
	Arg  uint64 // a small argument (a timer generation, a message id)
	Data any    // a payload (a message), or nil
}

// EventKind names what an event does; the world dispatches on it.
type EventKind uint8

// heapSlot is a heap entry: the order key and where the event lives. Heap
// entries hold no pointers, so sifting them costs no GC write barriers;
// each event is written once into the slab.
type heapSlot struct {
	at  time.Duration
	seq uint64
	idx int32
}

// Queue is a min-heap of events with the virtual clock: Now is the
// time of the last event popped. It is not safe for concurrent use; the
// simulated world has one thread.
type Queue struct {
	// next, when set, runs before everything in h: an event scheduled
	// before all others (an apply a few microseconds on, a message to
	// a member with nothing else due) waits here and skips the heap.
	next    heapSlot
	hasNext bool
	h       []heapSlot
	slab    []Event
	free    []int32
	seq     uint64
	now     time.Duration
}

// Now returns the virtual time.
func (q *Queue) Now() time.Duration { return q.now }

// Len returns the number of pending events.
func (q *Queue) Len() int {
	if q.hasNext {
		return len(q.h) + 1
	}
	return len(q.h)
}

// At schedules e at absolute time at; a time in the past runs now.
func (q *Queue) At(at time.Duration, e Event) {
	if at < q.now {
		at = q.now
	}
	q.seq++
	e.At, e.Seq = at, q.seq
	var idx int32
	if n := len(q.free); n > 0 {
		idx = q.free[n-1]
		q.free = q.free[:n-1]
		q.slab[idx] = e
	} else {
		idx = int32(len(q.slab))
		q.slab = append(q.slab, e)
	}
	s := heapSlot{at: at, seq: q.seq, idx: idx}
	switch {
	case !q.hasNext && (len(q.h) == 0 || before(&s, &q.h[0])):
		q.next, q.hasNext = s, true
		return
	case q.hasNext && before(&s, &q.next):
		s, q.next = q.next, s
	}
	q.h = append(q.h, s)
	q.up(len(q.h) - 1)
}

// After schedules e after d from now.
func (q *Queue) After(d time.Duration, e Event) { q.At(q.now+d, e) }

// Peek returns the time of the next event.
func (q *Queue) Peek() (time.Duration, bool) {
	if q.hasNext {
		return q.next.at, true
	}
	if len(q.h) == 0 {
		return 0, false
	}
	return q.h[0].at, true
}

// Pop removes the next event and advances the clock to its time.
func (q *Queue) Pop() (Event, bool) {
	var top heapSlot
	switch {
	case q.hasNext:
		top, q.hasNext = q.next, false
	case len(q.h) == 0:
		return Event{}, false
	default:
		top = q.h[0]
		last := len(q.h) - 1
		q.h[0] = q.h[last]
		q.h = q.h[:last]
		if last > 0 {
			q.down(0)
		}
	}
	e := q.slab[top.idx]
	q.slab[top.idx].Data = nil // the slot's only pointer; At overwrites the rest
	q.free = append(q.free, top.idx)
	q.now = e.At
	return e, true
}

// before reports whether heap entry a runs before b.
func before(a, b *heapSlot) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// The heap is 4-ary: half the depth of a binary heap, and a parent's
// children share a cache line. Sifting moves a hole instead of swapping.

func (q *Queue) up(i int) {
	h := q.h
	x := h[i]
	for i > 0 {
		p := (i - 1) / 4
		if !before(&x, &h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
}

func (q *Queue) down(i int) {
	h := q.h
	n := len(h)
	x := h[i]
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		if c+3 < n {
			// All four children: compare them without the loop's bounds
			// tests (keys are unique, so the minimum is the same one).
			k := h[c : c+4 : c+4]
			a, b := 0, 2
			if before(&k[1], &k[0]) {
				a = 1
			}
			if before(&k[3], &k[2]) {
				b = 3
			}
			if before(&k[b], &k[a]) {
				a = b
			}
			m = c + a
		} else {
			for j := c + 1; j < n; j++ {
				if before(&h[j], &h[m]) {
					m = j
				}
			}
		}
		if !before(&h[m], &x) {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = x
}

// Each calls fn for every pending event, in heap order (deterministic, not
// time order), until fn returns false.
func (q *Queue) Each(fn func(e *Event) bool) {
	if q.hasNext && !fn(&q.slab[q.next.idx]) {
		return
	}
	for _, hs := range q.h {
		if !fn(&q.slab[hs.idx]) {
			return
		}
	}
}
