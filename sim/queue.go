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

// Queue is a binary min-heap of events with the virtual clock: Now is the
// time of the last event popped. It is not safe for concurrent use; the
// simulated world has one thread.
type Queue struct {
	h   []Event
	seq uint64
	now time.Duration
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
	q.seq++
	e.At, e.Seq = at, q.seq
	q.h = append(q.h, e)
	q.up(len(q.h) - 1)
}

// After schedules e after d from now.
func (q *Queue) After(d time.Duration, e Event) { q.At(q.now+d, e) }

// Peek returns the time of the next event.
func (q *Queue) Peek() (time.Duration, bool) {
	if len(q.h) == 0 {
		return 0, false
	}
	return q.h[0].At, true
}

// Pop removes the next event and advances the clock to its time.
func (q *Queue) Pop() (Event, bool) {
	if len(q.h) == 0 {
		return Event{}, false
	}
	e := q.h[0]
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	q.h[last] = Event{}
	q.h = q.h[:last]
	if last > 0 {
		q.down(0)
	}
	q.now = e.At
	return e, true
}

func (q *Queue) less(i, j int) bool {
	a, b := &q.h[i], &q.h[j]
	if a.At != b.At {
		return a.At < b.At
	}
	return a.Seq < b.Seq
}

func (q *Queue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			return
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *Queue) down(i int) {
	n := len(q.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			return
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
}
