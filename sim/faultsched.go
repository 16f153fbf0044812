package sim

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// faultSched is the fault schedule's mechanism: it carries out a fault
// that a driver decided (crash, partition, heal, one-way cut, pause, slow
// disk), records it in the plan a seeded run draws, and draws the faults
// of a seeded run at each fault tick. Disk faults at a crash image are
// the disk's business (disk.Faults), message faults the network's, a
// failpoint's firing the driver's.
type faultSched struct {
	*core
	cl  *cluster
	f   *Faults    // the run's fault line
	rng *rand.Rand // the stream "faults": per-tick draws, which member, how long
	// stopRng is the stream "faults/stop/tick": graceful stops draw from
	// it alone, so that they shift no other draw.
	stopRng *rand.Rand
	bh      blackhole // the member cut off until it needs a snapshot (blackhole.go)
}

// draw is a seeded run's fault tick: each per-tick kind fires at its rate,
// drawn in this order: crash, partition, one-way cut, pause, slow disk,
// graceful stop, blackhole. With trigger a blackhole starts whenever it
// may, whatever its draw (snapshotTrigger).
func (fs *faultSched) draw(trigger bool) {
	f, rng, now := fs.f, fs.rng, fs.q.Now()
	if f.Crash.Hit(rng) {
		if i, ok := fs.pickUp(); ok {
			fs.crash(i, "fault", fs.restartDelay())
		}
	}
	if f.Partition.Hit(rng) && fs.cl.net.StableFor(now, f.PartitionStable) {
		fs.togglePartition()
	}
	if n := len(fs.cl.members); f.OneWay.Hit(rng) && n > 1 {
		a := rng.IntN(n)
		b := (a + 1 + rng.IntN(n-1)) % n
		fs.cut(int(fs.cl.members[a].id), int(fs.cl.members[b].id))
	}
	if f.Pause.Hit(rng) {
		if i, ok := fs.pickUp(); ok && !fs.cl.members[i].paused {
			fs.pause(i, time.Duration(200+rng.IntN(2800))*time.Millisecond)
		}
	}
	if f.DiskSlow.Hit(rng) {
		fs.slow(rng.IntN(len(fs.cl.members)), time.Duration(1+rng.IntN(5))*time.Second)
	}
	if f.GracefulStop.Hit(fs.stopRng) {
		if i, ok := fs.pickUpWith(fs.stopRng); ok {
			fs.stop(i, time.Duration(100+fs.stopRng.IntN(2900))*time.Millisecond)
		}
	}
	fs.blackholeTick(f.Blackhole.Hit(rng), trigger)
}

// ticked reports whether the fault line has any per-tick kind; without
// one a seeded run schedules no fault ticks at all.
func (fs *faultSched) ticked() bool {
	f := fs.f
	return !f.Crash.Zero() || !f.Partition.Zero() || !f.OneWay.Zero() || !f.Pause.Zero() || !f.DiskSlow.Zero() ||
		!f.GracefulStop.Zero() || !f.Blackhole.Zero()
}

// restartDelay draws how long a crashed member stays down (-1 while the
// world heals: it is restarted by the liveness phase).
func (fs *faultSched) restartDelay() time.Duration {
	if fs.healing {
		return -1
	}
	return time.Duration(100+fs.rng.IntN(2900)) * time.Millisecond
}

// crash kills member i's process; it restarts after down (never if < 0).
func (fs *faultSched) crash(i int, why string, down time.Duration) {
	m := fs.cl.members[i]
	if m.proc == nil {
		return
	}
	fs.record(Step{Kind: StepCrash, Member: int(m.id), For: down})
	fs.cl.crash(i, why, down)
}

// stop stops member i's process cleanly; it restarts after down (never if
// < 0).
func (fs *faultSched) stop(i int, down time.Duration) {
	m := fs.cl.members[i]
	if m.proc == nil {
		return
	}
	fs.record(Step{Kind: StepStop, Member: int(m.id), For: down})
	fs.cl.stop(i, down)
}

// cut cuts the one-way link between two members, by ID.
func (fs *faultSched) cut(a, b int) {
	fs.record(Step{Kind: StepCut, Member: a, To: b})
	fs.cl.net.Cut(fs.q.Now(), a, b)
	fs.cl.linksChanged()
	c := fmt.Sprintf("m%d->m%d", a, b)
	fs.noteNet(NetCut, c, "cut "+c)
}

// pause stops member i's process for d (etcd under a long GC pause or a
// stalled VM: alive to the network, deaf meanwhile).
func (fs *faultSched) pause(i int, d time.Duration) {
	m := fs.cl.members[i]
	if m.proc == nil || m.paused {
		return
	}
	fs.record(Step{Kind: StepPause, Member: int(m.id), For: d})
	fs.cl.pause(i, d)
}

// slow makes member i's disk slow for d: WAL fsyncs and defrag renames
// take twenty times as long (a disk stall, as etcd's slow-fsync warnings
// report).
func (fs *faultSched) slow(i int, d time.Duration) {
	m := fs.cl.members[i]
	fs.record(Step{Kind: StepSlowDisk, Member: int(m.id), For: d})
	m.slowTil = fs.q.Now() + d
	fs.noteOn(int(m.id), MarkDisk, fmt.Sprintf("slow disk m%d", m.id))
}

// heal removes every partition and cut.
func (fs *faultSched) heal() {
	fs.record(Step{Kind: StepHeal})
	fs.cl.net.Heal(fs.q.Now())
	fs.cl.linksChanged()
	fs.noteNet(NetHeal, "", "heal")
}

// partition splits the members (by ID) into groups; clients reach everyone.
func (fs *faultSched) partition(groups [][]int) {
	fs.record(Step{Kind: StepPartition, Groups: groups})
	fs.cl.net.Partition(fs.q.Now(), groups...)
	fs.cl.linksChanged()
	fs.stats.Partitions++
	state := fs.cl.net.String()
	fs.noteNet(NetPartition, state, "partition "+state)
}

// pickUp returns a random member that is up.
func (fs *faultSched) pickUp() (int, bool) { return fs.pickUpWith(fs.rng) }

// pickUpWith returns a member that is up, drawn from rng.
func (fs *faultSched) pickUpWith(rng *rand.Rand) (int, bool) {
	n := len(fs.cl.members)
	start := rng.IntN(n)
	for k := range n {
		i := (start + k) % n
		if fs.cl.members[i].proc != nil {
			return i, true
		}
	}
	return 0, false
}

// togglePartition heals a partitioned network, or splits the members into
// two random non-empty sides.
func (fs *faultSched) togglePartition() {
	if fs.cl.net.String() != "healed" {
		fs.heal()
		return
	}
	ids := fs.cl.ids()
	n := len(ids)
	if n < 2 {
		return
	}
	// Half the partitions isolate the leader, Jepsen's "partition the
	// leader" nemesis: the classic setting of stale reads and of CheckQuorum.
	if lead := fs.cl.leader(); lead > 0 && fs.rng.IntN(2) == 0 {
		var rest []int
		for _, id := range ids {
			if id != lead {
				rest = append(rest, id)
			}
		}
		fs.partition([][]int{{lead}, rest})
		return
	}
	var a, b []int
	perm := fs.rng.Perm(n)
	cut := 1 + fs.rng.IntN(n-1)
	for k, i := range perm {
		if k < cut {
			a = append(a, ids[i])
		} else {
			b = append(b, ids[i])
		}
	}
	fs.partition([][]int{a, b})
}
