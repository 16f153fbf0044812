package sim

import (
	"fmt"
	"hash/fnv"
	"time"
)

// onFaultTick draws the per-tick faults of the run's configuration.
func (w *world) onFaultTick() {
	if w.healing {
		return
	}
	now := w.q.Now()
	w.q.After(FaultTick, Event{Kind: evFaultTick})
	f := &w.faults
	rng := w.rngFault
	if f.Crash.Hit(rng) {
		if i, ok := w.pickUp(); ok {
			w.crash(i, "fault")
		}
	}
	if f.Partition.Hit(rng) && w.net.StableFor(now, f.PartitionStable) {
		w.togglePartition()
	}
	if f.OneWay.Hit(rng) && len(w.slots) > 1 {
		a := rng.IntN(len(w.slots))
		b := (a + 1 + rng.IntN(len(w.slots)-1)) % len(w.slots)
		w.net.Cut(now, a+1, b+1)
		w.note(fmt.Sprintf("cut m%d->m%d", a+1, b+1))
	}
	if f.Pause.Hit(rng) {
		if i, ok := w.pickUp(); ok && !w.slots[i].paused {
			w.slots[i].paused = true
			d := time.Duration(200+rng.IntN(2800)) * time.Millisecond
			w.q.After(d, Event{Kind: evResume, Node: i})
			w.noteOn(i+1, MarkPause, fmt.Sprintf("pause m%d for %s", i+1, d))
		}
	}
	if f.DiskSlow.Hit(rng) {
		i := rng.IntN(len(w.slots))
		w.slots[i].slowTil = now + time.Duration(1+rng.IntN(5))*time.Second
		w.noteOn(i+1, MarkDisk, fmt.Sprintf("slow disk m%d", i+1))
	}
}

// pickUp returns a random member that is up.
func (w *world) pickUp() (int, bool) {
	start := w.rngFault.IntN(len(w.slots))
	for k := range w.slots {
		i := (start + k) % len(w.slots)
		if w.slots[i].m != nil {
			return i, true
		}
	}
	return 0, false
}

// togglePartition heals a partitioned network, or splits the members into
// two random non-empty sides (clients reach everyone).
func (w *world) togglePartition() {
	now := w.q.Now()
	if w.net.String() != "healed" {
		w.net.Heal(now)
		w.note("heal")
		return
	}
	n := len(w.slots)
	if n < 2 {
		return
	}
	var a, b []int
	perm := w.rngFault.Perm(n)
	cut := 1 + w.rngFault.IntN(n-1)
	for k, i := range perm {
		if k < cut {
			a = append(a, i+1)
		} else {
			b = append(b, i+1)
		}
	}
	w.net.Partition(now, a, b)
	w.stats.Partitions++
	w.note("partition " + w.net.String())
}

// note traces a world-level fault and puts it on the timeline.
func (w *world) note(s string) { w.noteOn(0, MarkNet, s) }

// noteOn traces a fault of one member (0: the cluster) and marks it.
func (w *world) noteOn(member int, kind, s string) {
	w.mark(member, kind, s)
	h := fnv.New64a()
	h.Write([]byte(s))
	w.tr.Add(w.q.Now(), 0xf1, 0, h.Sum64(), 0, func() string { return s })
}
