package sim

import (
	"fmt"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/prob"
)

// memberTiming is the members' raft timing and log retention a seed draws,
// as etcd's robustness tests randomize them: the tick (etcd's
// --heartbeat-interval) and the election timeout in ticks, and how many
// entries a snapshot keeps for slow followers
// (--experimental-snapshot-catchup-entries), and the WAL's segment size.
type memberTiming struct {
	tick          time.Duration
	electionTicks int
	catchUp       uint64
	walSegment    int64 // the WAL's segment size
}

// timingMenu is robustness's randomized timeouts: its scenarios put one
// of three groups (WithClusterOptionGroups: 29/271, 101/521 and 100/2000
// ms of WithTickMs and WithElectionMs) among the options a random subset
// of runs gets (WithSubsetOptions). Here a quarter of the seeds draw a
// group and the rest keep etcd's default 100/1000 ms: with half, the bug
// modes that need many applies (ci-before-lock, defrag-no-ci-hook) lost a
// point or two of detection to the extra elections. etcd takes ElectionTicks = ElectionMs / TickMs, rounded
// down.
var timingMenu = []struct{ tickMs, electionMs int }{
	{100, 1000}, {100, 1000}, {100, 1000}, {100, 1000}, {100, 1000}, {100, 1000}, {100, 1000}, {100, 1000}, {100, 1000},
	{29, 271}, {101, 521}, {100, 2000},
}

// catchUpMenu is robustness's snapshot catch-up entries: 100 as its
// clusters of three and its snapshot scenario set (half the seeds), 10 as
// its #20221 scenario sets (a third), and etcd's default 5,000 (a sixth:
// a minute's run rarely compacts with it).
var catchUpMenu = []uint64{100, 100, 100, 10, 10, 5000}

// walSegmentMenu is the WAL's segment size: the WAL package's 1 MiB (etcd
// cuts at 64 MB, which a minute's run never fills), or 64 KiB, so that
// segments are cut and released (ReleaseLockTo) in a minute's run.
var walSegmentMenu = []int64{1 << 20, 64 << 10}

// snapCountMenu is the members' --snapshot-count: 100 as robustness's
// snapshot scenarios set it (half the seeds, so that snapshots are
// sent and installed often), 400, 2000, and 10,000 (etcd 3.5's default;
// no snapshot in a minute's run) one seed in eight.
var snapCountMenu = []uint64{100, 100, 100, 100, 400, 400, 2000, 10000}

// drawRetention draws the members' snapshot count (snapCountMenu) and
// timing (drawTiming).
func drawRetention(s Streams) (uint64, memberTiming) {
	return snapCountMenu[s.Fork("members/snapshot-count").IntN(len(snapCountMenu))], drawTiming(s)
}

// etcdRetention is the world of golden scenarios and of the compaction
// workload (robustness's Issue17780 scenario, whose cluster options are
// fixed; drawn timing and snapshot counts cut its detection from 51% to
// 43% of seeds 1..1000): etcd's
// default timing (100/1000 ms), the snapshot count drawn uniformly from
// 100, 400, 2000 and 10000, a quarter of it kept for catch-up.
func etcdRetention(s Streams) (uint64, memberTiming) {
	n := []uint64{100, 400, 2000, 10000}[s.Fork("members/snapshot-count").IntN(4)]
	return n, memberTiming{tick: 100 * time.Millisecond, electionTicks: 10, catchUp: n / 4}
}

// drawTiming draws the members' timing from the streams "members/timeouts"
// and "members/catchup".
func drawTiming(s Streams) memberTiming {
	t := timingMenu[s.Fork("members/timeouts").IntN(len(timingMenu))]
	return memberTiming{
		tick:          time.Duration(t.tickMs) * time.Millisecond,
		electionTicks: t.electionMs / t.tickMs,
		catchUp:       catchUpMenu[s.Fork("members/catchup").IntN(len(catchUpMenu))],
		walSegment:    walSegmentMenu[s.Fork("members/wal-segment").IntN(len(walSegmentMenu))],
	}
}

// String describes the timing for the header's workload knobs.
func (t memberTiming) String() string {
	return fmt.Sprintf(" tick=%s election=%s catch-up=%d wal-segment=%dKiB", t.tick,
		time.Duration(t.electionTicks)*t.tick, t.catchUp, t.walSegment>>10)
}

// leastFire is the least per-pass rate of failpoint fp once it is
// switched on for a run: a point passed only a few times a run must fire
// in most runs that switch it on (FoundationDB's BUGGIFY: rare per step,
// near-certain per run), so its rate is about one over the passes of a
// run. A received snapshot's path is passed once per install, and a
// default world installs a median of one snapshot per seed (the
// blackhole): one pass in two, so that a run with one or two installs
// fires in half to three quarters of the runs that arm it alone (sharePath when several are armed). Defrag, the
// start of a compaction and the WAL record of every snapshot, local ones
// included, are passed tens of times a run: one in twenty. The steps of a
// compaction's deletion (each batch, and the step that finds it done) are
// passed hundreds of times a run when batches are small, tens when they
// are not (default seeds 1..400: 465 batches and 34 compactions a seed):
// one in a hundred. A backend commit is passed every 100 ms, about 600
// times a run, a tenth as often as the Ready and apply points, so at the
// fault line's rate the commit points fired in about 5% of default seeds
// against 13-19% for those: one in a thousand at least, so that a run
// that arms one sees it fire about half the time. The others are passed
// at every Ready or apply and keep the fault line's rate.
func leastFire(fp nodes.Failpoint) prob.Ratio {
	switch fp {
	case nodes.FPBeforeSaveSnap, nodes.FPAfterSaveSnap, nodes.FPBeforeApplySnap, nodes.FPAfterApplySnap,
		nodes.FPAfterWALRelease, nodes.FPBeforeOpenSnapshot:
		return prob.Of(1, 2)
	case nodes.FPDefragBeforeCopy, nodes.FPDefragBeforeRenam, nodes.FPBeforeWALSaveSnap,
		nodes.FPCompactSchedule:
		return prob.Of(1, 20)
	case nodes.FPCompactBatch, nodes.FPCompactFinished:
		return prob.Of(1, 100)
	case nodes.FPBeforeCommit, nodes.FPCommitBeforeSync, nodes.FPAfterCommit:
		return prob.Of(1, 1000)
	}
	return prob.Never
}

// armRate is the chance that failpoint fp is switched on for a run: the
// fault line's, and at least one in two for a point with a least rate of
// its own (leastFire), which snapshots, defrags, compactions and backend
// commits pass.
func armRate(fp nodes.Failpoint, r prob.Ratio) prob.Ratio {
	if arm := prob.Of(1, 2); !leastFire(fp).Zero() && ratioLess(r, arm) {
		return arm
	}
	return r
}

// ratioLess reports whether a hits less often than b.
func ratioLess(a, b prob.Ratio) bool {
	if a.Zero() {
		return !b.Zero()
	}
	return a.Num*b.Den < b.Num*a.Den
}

// snapshotPath are the points a received snapshot passes once per install,
// in the order it passes them (raft loop: SaveSnap, then after the fsync
// raft's storage and the release of old WAL; then the apply loop).
var snapshotPath = []nodes.Failpoint{nodes.FPBeforeSaveSnap, nodes.FPAfterSaveSnap,
	nodes.FPBeforeApplySnap, nodes.FPAfterApplySnap, nodes.FPAfterWALRelease, nodes.FPBeforeOpenSnapshot}

// sharePath sets the per-pass rates of the points of one path armed in a
// run (armed, in pass order, each at its least rate): a point fires only
// at the passes the earlier armed points leave it, so each armed point's
// rate accounts for the passes the earlier ones take away. Together they
// crash at most half the installs: a run must still complete installs to
// reach what follows one (a restart from a received snapshot, its
// release, a second install while one waits), and when every install
// crashed, seeds that armed two or more points completed a median of none
// (default seeds 1..1000: 103 of the 519 that armed a path point had an
// install, against 308 of the other 481). So with k armed, each point's
// share of the installs is its least rate, at most 1/(2k); with share s
// the j-th armed point (from 0) fires at s/(1-j*s) of the passes it gets,
// so that each fires at s of the installs. (With each point at its own
// rate alone, raftAfterApplySnap fired in 4.8% of default seeds 1..400:
// the points before it crashed the member first.) A point that fired is
// off for the rest of the run and the others are shared again (oneShot),
// so the installs a run has go to the points that have not fired.
func sharePath(rate *[nodes.NumFailpoints]prob.Ratio, armed []nodes.Failpoint) {
	k := uint64(len(armed))
	if k < 2 {
		return
	}
	for j, fp := range armed {
		share := rate[fp]
		if ratioLess(prob.Of(1, 2*k), share) {
			share = prob.Of(1, 2*k)
		}
		// share/(1 - j*share) = Num/(Den - j*Num)
		rate[fp] = prob.Of(share.Num, share.Den-uint64(j)*share.Num)
	}
}

// snapshotTrigger: in etcd's robustness tests each point of a received
// snapshot's path (raftBeforeSaveSnap ... applyBeforeOpenSnapshot) is a
// goPanicFailpoint whose trigger is triggerBlackhole{waitTillSnapshot:
// true} on a follower (tests/robustness/failpoint/gofail.go): Inject arms
// the point, then at once blackholes the follower until the leader has
// compacted past it, so that the leader sends it a snapshot and the
// install passes the armed point. The point is Available only where that
// trigger is (the retention rule of WorldFaults, a cluster of more than
// one member). Here a world that switches such a point on is given the
// blackhole (blackholeTrigger, where it was not drawn), and while a
// switched-on point has not fired the blackhole starts at the first fault
// tick it may rather than at its drawn rate, and the next one as soon as
// the member the last one cut off is up and has its snapshot (rested:
// Inject's wait for that member's exit and restart) rather than
// blackholeRest later: each blackhole is one more install for the armed
// points to fire at.
//
// Churn worlds are left as they are: robustness injects one failpoint a
// run, and a run that replaces members (its MemberReplace failpoint) has
// no snapshot-path point; a churn world installs snapshots into its new
// members already, and the membership modes need members that restart
// from their own logs (WorldFaults keeps the blackhole in one churn seed
// in two for them).

// blackholeTrigger is the blackhole's rate in a world that switches a
// snapshot-path point on without having drawn net.blackhole: the menu's
// higher rate (DrawFaults).
var blackholeTrigger = prob.Of(1, 100)

// triggerWorld reports whether a world of cfg takes the blackhole as the
// trigger of its snapshot-path points (snapshotTrigger): more than one
// member, no churn.
func triggerWorld(cfg Config) bool {
	return cfg.Members > 1 && cfg.Churn == 0
}
