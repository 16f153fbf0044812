package sim

import (
	"fmt"
	"time"
)

// blackholeMax bounds a blackhole: a leader that never compacts (a large
// snapshot count) would otherwise keep its follower cut off for good.
const blackholeMax = 30 * time.Second

// blackholeEntries is the most entries a world's leader may need to
// compact past a member it cut off (snapshot count plus catch-up entries)
// for the swarm to draw net.blackhole: robustness's limit for
// BlackholeUntilSnapshot (tests/robustness/failpoint/network.go,
// entriesToGuaranteeSnapshot).
const blackholeEntries = 200

// blackholeRest is the least time between a blackhole's end and the next
// one's start: the member it cut off gets its snapshot meanwhile.
const blackholeRest = 5 * time.Second

// blackhole is etcd robustness's BlackholeUntilSnapshot
// (tests/robustness/failpoint/network.go): a follower's peer traffic is
// dropped both ways until the leader has compacted its raft log past
// what the follower holds, so that the leader must send it a snapshot
// when it comes back. Here it is a two-way partition of the follower from
// the rest, healed at the first fault tick that finds the leader's first
// index above the follower's last one plus one (raft then can only send a
// snapshot), or after blackholeMax.
type blackhole struct {
	member int           // the index of the member cut off, or -1 (the zero value: none, see on)
	on     bool          // a blackhole holds
	since  time.Duration // when it began
	ended  time.Duration // when the last one ended
}

// blackholeTick is the blackhole's part of a fault tick: start one when
// the draw says so (or the trigger, snapshotTrigger) and none holds, or
// end the one that holds when the leader has compacted past its member
// (or it has lasted blackholeMax).
func (fs *faultSched) blackholeTick(hit, trigger bool) {
	bh := &fs.bh
	now := fs.q.Now()
	switch {
	case bh.on && !fs.cl.net.Partitioned():
		bh.on, bh.ended = false, now // a heal of net.partition ended it already
	case bh.on && (fs.compactedPast(bh.member) || now-bh.since >= blackholeMax):
		bh.on, bh.ended = false, now
		fs.heal()
	case !bh.on && (hit || trigger) && !fs.cl.net.Partitioned() && fs.rested(trigger):
		fs.startBlackhole()
	}
}

// rested reports whether the next blackhole may start: none ended yet, or
// blackholeRest since the last one ended; with the trigger, as soon as
// the member it cut off is up and has its snapshot, as robustness's
// goPanicFailpoint injection ends once that member restarted and the
// cluster is healthy again.
func (fs *faultSched) rested(trigger bool) bool {
	bh := &fs.bh
	if bh.ended == 0 || fs.q.Now()-bh.ended >= blackholeRest {
		return true
	}
	return trigger && fs.caughtUp(bh.member)
}

// caughtUp reports whether member i is up and holds what the leader's raft
// log begins after (no snapshot owed to it).
func (fs *faultSched) caughtUp(i int) bool {
	first, last, ok := fs.logBounds(i)
	return ok && first <= last+1
}

// startBlackhole cuts a random follower that is up off from the others.
func (fs *faultSched) startBlackhole() {
	lead := fs.cl.leader()
	i, ok := fs.pickUp()
	if lead == 0 || !ok || int(fs.cl.members[i].id) == lead {
		return
	}
	id := int(fs.cl.members[i].id)
	var rest []int
	for _, other := range fs.cl.ids() {
		if other != id {
			rest = append(rest, other)
		}
	}
	fs.bh.member, fs.bh.on, fs.bh.since = i, true, fs.q.Now()
	// On the timeline only: the partition step below is the traced fault,
	// so that the plan this run records replays its trace.
	fs.mark(id, MarkNet, fmt.Sprintf("blackhole m%d until the leader compacts past it", id))
	fs.partition([][]int{{id}, rest})
}

// compactedPast reports whether the leader's raft log begins after the
// last entry member i holds plus one: raft can then bring it up to date
// only with a snapshot. A member that is down is not yet past.
func (fs *faultSched) compactedPast(i int) bool {
	first, last, ok := fs.logBounds(i)
	return ok && first > last+1
}

// logBounds returns the first index of the leader's raft log and the last
// of member i's, when both are up.
func (fs *faultSched) logBounds(i int) (first, last uint64, ok bool) {
	m := fs.cl.members[i]
	li, found := fs.cl.byID(uint64(fs.cl.leader()))
	if m.proc == nil || !found || fs.cl.members[li].proc == nil {
		return 0, 0, false
	}
	first, _ = fs.cl.members[li].proc.LogBounds()
	_, last = m.proc.LogBounds()
	return first, last, true
}
