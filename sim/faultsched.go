package sim

import (
	"fmt"
	"hash/fnv"
	"time"
)

// onFaultTick draws the per-tick faults of the run's configuration, or
// runs the plan's faults that are due.
func (w *world) onFaultTick() {
	if w.healing {
		return
	}
	now := w.q.Now()
	w.q.After(FaultTick, Event{Kind: evFaultTick})
	if w.plan != nil {
		w.runPlanFaults(now)
		return
	}
	f := &w.faults
	rng := w.rngFault
	if f.Crash.Hit(rng) {
		if i, ok := w.pickUp(); ok {
			w.doCrash(i, "fault", w.restartDelay())
		}
	}
	if f.Partition.Hit(rng) && w.net.StableFor(now, f.PartitionStable) {
		w.togglePartition()
	}
	if f.OneWay.Hit(rng) && len(w.slots) > 1 {
		a := rng.IntN(len(w.slots))
		b := (a + 1 + rng.IntN(len(w.slots)-1)) % len(w.slots)
		w.doCut(a+1, b+1)
	}
	if f.Pause.Hit(rng) {
		if i, ok := w.pickUp(); ok && !w.slots[i].paused {
			w.doPause(i, time.Duration(200+rng.IntN(2800))*time.Millisecond)
		}
	}
	if f.DiskSlow.Hit(rng) {
		w.doSlow(rng.IntN(len(w.slots)), time.Duration(1+rng.IntN(5))*time.Second)
	}
}

// tickedFaults reports whether any fault is drawn (or planned) at fault
// ticks; without one the ticks are not scheduled at all.
func (w *world) tickedFaults() bool {
	if w.plan != nil {
		for _, s := range w.plan.Steps {
			if s.Kind != StepRequest && s.Kind != StepFailpoint {
				return true
			}
		}
		return false
	}
	f := &w.faults
	return !f.Crash.Zero() || !f.Partition.Zero() || !f.OneWay.Zero() || !f.Pause.Zero() || !f.DiskSlow.Zero()
}

// restartDelay draws how long a crashed member stays down.
func (w *world) restartDelay() time.Duration {
	if w.healing {
		return -1
	}
	return time.Duration(100+w.rngFault.IntN(2900)) * time.Millisecond
}

// record appends a step to the plan a seeded run draws.
func (w *world) record(s Step) {
	if w.plan == nil && w.cfg.RecordPlan {
		s.At = w.q.Now()
		w.recorded.Steps = append(w.recorded.Steps, s)
	}
}

func (w *world) doCrash(i int, why string, down time.Duration) {
	if w.slots[i].m == nil {
		return
	}
	w.record(Step{Kind: StepCrash, Member: i + 1, For: down})
	w.crash(i, why, down)
}

func (w *world) doCut(a, b int) {
	w.record(Step{Kind: StepCut, Member: a, To: b})
	w.net.Cut(w.q.Now(), a, b)
	w.note(fmt.Sprintf("cut m%d->m%d", a, b))
}

func (w *world) doPause(i int, d time.Duration) {
	sl := w.slots[i]
	if sl.m == nil || sl.paused {
		return
	}
	w.record(Step{Kind: StepPause, Member: i + 1, For: d})
	sl.paused = true
	w.q.After(d, Event{Kind: evResume, Node: i})
	w.noteOn(i+1, MarkPause, fmt.Sprintf("pause m%d for %s", i+1, d))
}

func (w *world) doSlow(i int, d time.Duration) {
	w.record(Step{Kind: StepSlowDisk, Member: i + 1, For: d})
	w.slots[i].slowTil = w.q.Now() + d
	w.noteOn(i+1, MarkDisk, fmt.Sprintf("slow disk m%d", i+1))
}

func (w *world) doHeal() {
	w.record(Step{Kind: StepHeal})
	w.net.Heal(w.q.Now())
	w.note("heal")
}

func (w *world) doPartition(groups [][]int) {
	w.record(Step{Kind: StepPartition, Groups: groups})
	w.net.Partition(w.q.Now(), groups...)
	w.stats.Partitions++
	w.note("partition " + w.net.String())
}

// runPlanFaults runs the plan's faults that are due.
func (w *world) runPlanFaults(now time.Duration) {
	for w.planFault < len(w.plan.Steps) {
		s := &w.plan.Steps[w.planFault]
		if s.Kind == StepRequest || s.Kind == StepFailpoint {
			w.planFault++
			continue
		}
		if s.At > now {
			return
		}
		w.planFault++
		switch s.Kind {
		case StepCrash:
			w.doCrash(s.Member-1, "plan", s.For)
		case StepPartition:
			w.doPartition(s.Groups)
		case StepHeal:
			w.doHeal()
		case StepCut:
			w.doCut(s.Member, s.To)
		case StepPause:
			w.doPause(s.Member-1, s.For)
		case StepSlowDisk:
			w.doSlow(s.Member-1, s.For)
		}
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
	if w.net.String() != "healed" {
		w.doHeal()
		return
	}
	n := len(w.slots)
	if n < 2 {
		return
	}
	// Half the partitions isolate the leader, Jepsen's "partition the
	// leader" nemesis: the classic setting of stale reads and of CheckQuorum.
	if lead := w.leader(); lead > 0 && w.rngFault.IntN(2) == 0 {
		var rest []int
		for i := 1; i <= n; i++ {
			if i != lead {
				rest = append(rest, i)
			}
		}
		w.doPartition([][]int{{lead}, rest})
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
	w.doPartition([][]int{a, b})
}

// leader returns the member that some up member believes leads (the one
// with the highest term), or 0.
func (w *world) leader() int {
	var lead, term uint64
	for _, sl := range w.slots {
		if sl.m == nil {
			continue
		}
		if t, _, l, _, _ := sl.m.RaftStatus(); l != 0 && t > term {
			lead, term = l, t
		}
	}
	return int(lead)
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
