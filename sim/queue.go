package sim

import "time"

// Event is one scheduled happening of the world. The queue orders events
// by (At, order of scheduling): equal times run in the order they were
// scheduled, so the order never depends on anything but the seed.
type Event struct {
	At   time.Duration
	Kind EventKind
	Node int    // the member or client the event is for
	Arg  uint64 // a small argument (a timer generation, a message id)
	Data any    // a payload (a message), or nil
}

// EventKind names what an event does; the world dispatches on it.
type EventKind uint8

// slot is a pending entry: its time and where its event lives. Entries
// hold no pointers, so moving them costs no GC write barriers; each event
// is written once into the slab.
type slot struct {
	at  time.Duration
	idx int32
}

// Queue is the pending events, in the order they run, with the virtual
// clock: Now is the time of the last event popped. It is not safe for
// concurrent use; the simulated world has one thread.
//
// The entries are a sorted array, latest first: the next event is the
// last entry, so a pop moves nothing, and an event is inserted by moving
// the entries due before it one place up. A new event is mostly due soon
// (a message, a disk write, an apply: in the default world it goes past
// about two and a half entries on average, and no entry at all one time
// in three), which costs fewer comparisons than a heap's sift up and
// sift down. An event scheduled last runs after every pending event of
// the same time, so the array keeps the order of scheduling among equal
// times without numbering the events.
type Queue struct {
	h    []slot // sorted by (at, order of scheduling), latest first
	slab []Event
	free []int32
	now  time.Duration
}

// Now returns the virtual time.
func (q *Queue) Now() time.Duration { return q.now }

// Len returns the number of pending events.
func (q *Queue) Len() int { return len(q.h) }

// At schedules e at absolute time at; a time in the past runs now.
func (q *Queue) At(at time.Duration, e Event) {
	if at < q.now {
		at = q.now
	}
	e.At = at
	var idx int32
	if n := len(q.free); n > 0 {
		idx = q.free[n-1]
		q.free = q.free[:n-1]
		q.slab[idx] = e
	} else {
		idx = int32(len(q.slab))
		q.slab = append(q.slab, e)
	}
	// The new event runs after every pending one due at or before at (it
	// was scheduled last): move those up one place, from the end. When
	// the entry linearScan places from the end is due by then too, the
	// event goes further back than that (a tick, a commit, a client's
	// timeout): its place is searched for at once, without the scan.
	h := append(q.h, slot{})
	i := len(h) - 1
	if i > linearScan && h[i-linearScan-1].at <= at {
		i = farPlace(h, i, at)
	} else {
		for i > 0 && h[i-1].at <= at {
			h[i] = h[i-1]
			i--
		}
	}
	h[i] = slot{at: at, idx: idx}
	q.h = h
}

// linearScan is how many entries At moves one by one at most; an event
// that goes further back has its place searched for (farPlace).
const linearScan = 64

// farPlace finds, by binary search, the place of an event due at at
// among h[:i] (h[i] is free) and moves the entries due by then
// up one place; it returns the place.
func farPlace(h []slot, i int, at time.Duration) int {
	// The first entry of h[:i] due at or before at.
	lo, hi := 0, i
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if h[mid].at <= at {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	copy(h[lo+1:i+1], h[lo:i])
	return lo
}

// After schedules e after d from now.
func (q *Queue) After(d time.Duration, e Event) { q.At(q.now+d, e) }

// Peek returns the time of the next event.
func (q *Queue) Peek() (time.Duration, bool) {
	if len(q.h) == 0 {
		return 0, false
	}
	return q.h[len(q.h)-1].at, true
}

// Pop removes the next event and advances the clock to its time.
func (q *Queue) Pop() (Event, bool) {
	if len(q.h) == 0 {
		return Event{}, false
	}
	e, slot := q.take()
	ev := *e
	q.release(slot)
	return ev, true
}

// take removes the next event, which must exist, and advances the clock to
// its time. The event stays in its slot for the caller to read in place
// until it calls release: events scheduled meanwhile take other slots, and
// a slab that grows leaves the event where e points, unchanged.
func (q *Queue) take() (e *Event, slot int32) {
	last := len(q.h) - 1
	slot = q.h[last].idx
	q.h = q.h[:last]
	e = &q.slab[slot]
	q.now = e.At
	return e, slot
}

// release frees the slot of an event that take returned.
func (q *Queue) release(slot int32) {
	q.slab[slot].Data = nil // the slot's only pointer; At overwrites the rest
	q.free = append(q.free, slot)
}

// Each calls fn for every pending event, in the order they run, until fn
// returns false.
func (q *Queue) Each(fn func(e *Event) bool) {
	for i := len(q.h) - 1; i >= 0; i-- {
		if !fn(&q.slab[q.h[i].idx]) {
			return
		}
	}
}
