package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/network"
	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/prob"
)

// options are everything a seed decides about its world before the world
// runs (swarm testing: FoundationDB's and TigerBeetle's simulators draw
// their worlds the same way). drawOptions draws them all, in one place;
// Report.Header prints them. What a seed decides during the run (the next
// request, the next fault, the timing noise) is the driver's and the
// parts' business.
type options struct {
	faults Faults // the configured fault line, or the swarm's draw
	// fpRate is, per pass through each failpoint, the chance to crash
	// there (zero: the point is off).
	fpRate [nodes.NumFailpoints]prob.Ratio
	// pathArmed are the points of a received snapshot's path switched on
	// at their least rate, in pass order (sharePath); pathTrigger: the
	// blackhole is their trigger (snapshotTrigger).
	pathArmed    []nodes.Failpoint
	pathTrigger  bool
	failpoints   []string // the points switched on, as the header prints them
	snapCount    uint64   // the members' --snapshot-count
	compactBatch int      // the members' compaction batch limit
	clients      int
	authOn       bool       // clients set up auth and act as users
	authChurn    prob.Ratio // per root request: an auth change instead
	leasesOn     bool       // clients grant, use, keep alive and revoke leases
	// clusterAPI: a world without churn models membership all the same, so
	// that clients' cluster API requests (the ones certain to fail, and
	// MemberList) are answered as etcd answers them.
	clusterAPI bool
	drift      [][2]int64 // per initial member: its clock's rate, num/den

	timing memberTiming // tick, election timeout and catch-up entries (options_timing.go)
}

// drawOptions draws the options of a world of cfg (with defaults set), in
// this order: the fault line (stream "faults/swarm", unless configured),
// the failpoints switched on ("faults/failpoints"), the snapshot count
// ("members/snapshot-count"), the compaction batch
// ("members/compaction-batch"), the workload knobs ("workload/swarm"),
// and last each member's clock drift, from rngFault, the fault stream the
// run goes on drawing from.
func drawOptions(cfg Config, s Streams, rngFault *rand.Rand) options {
	o := options{faults: WorldFaults(cfg)}
	o.pickFailpoints(s)
	o.armPoints()
	o.pathTrigger = triggerWorld(cfg) && !o.faults.Blackhole.Zero() && len(o.pathArmed) > 0
	o.snapCount, o.timing = worldRetention(cfg, s)
	o.compactBatch = []int{1000, 100, 10, 3}[s.Fork("members/compaction-batch").IntN(4)]
	o.clients = cfg.Clients
	if cfg.Workload == "compaction" {
		// Issue17780's scenario: one client, tiny compaction batches, and
		// a crash between a batch commit and the finished marker.
		o.compactBatch = 1 + s.Fork("members/compaction-batch").IntN(3)
		o.fpRate[nodes.FPCompactFinished] = prob.Of(1, 4) // its own rate, whether the swarm switched it on or not
		o.failpoints = append(o.failpoints, nodes.FPCompactFinished.String()+"@1/4")
		o.clients = 1
	}
	o.drawWorkload(cfg.Workload, s.Fork("workload/swarm"))
	// One default world in four models membership without churn (its own
	// stream, so that no other draw moves): every world modelling it costs
	// a quarter more wall time, and a quarter of a swarm is plenty for
	// requests that ride the "one in 40" path.
	o.clusterAPI = cfg.Churn == 0 && cfg.Workload != "compaction" && s.Fork("membership/cluster-api").IntN(4) == 0
	for range cfg.Members {
		o.drift = append(o.drift, o.drawDrift(rngFault))
	}
	return o
}

// WorldFaults returns the fault configuration a world of cfg runs with:
// the configured line, or the seed's swarm draw; the auth workload makes
// sure members restart (its field reports needed restarts). The swarm's
// graceful_stop is drawn last, from its own stream (DrawGracefulStop).
func WorldFaults(cfg Config) Faults {
	if cfg.Faults != nil {
		return *cfg.Faults
	}
	s := NewStreams(cfg.Seed)
	f := DrawFaults(s.Fork("faults/swarm"))
	if cfg.Workload == "auth" && f.Crash.Zero() {
		f.Crash = prob.Of(1, 500)
	}
	f.GracefulStop = DrawGracefulStop(s.Fork("faults/stop"))
	if f.Blackhole.Zero() && triggerWorld(cfg) {
		if _, path := drawPoints(f, s); len(path) > 0 {
			// The blackhole is the trigger of a received snapshot's
			// points (snapshotTrigger): a world that switches one on has
			// it, where its retention allows it (below).
			f.Blackhole = blackholeTrigger
		}
	}
	if n, t := worldRetention(cfg, s); !f.Blackhole.Zero() && n+t.catchUp > blackholeEntries {
		// Robustness draws BlackholeUntilSnapshot only where the leader
		// compacts past the member it cut off within 200 entries
		// (triggerBlackhole.Available: SnapshotCount +
		// SnapshotCatchUpEntries at most 200, so that the wait fits its
		// timeout); elsewhere it is not drawn. (A longer cut-off also
		// holds every member add refused as unhealthy by
		// --strict-reconfig-check for as long.)
		f.Blackhole = prob.Never
	}
	if cfg.Churn > 0 && !f.Blackhole.Zero() && s.Fork("membership/blackhole").IntN(7) >= 4 {
		// The blackhole is drawn in seven seeds in eight so that snapshots
		// are installed in most worlds; a churn world installs them into
		// its new members already (its snapshot count is drawn small for
		// that), so it keeps the blackhole in four of those seven: one seed
		// in two, as every other kind. The membership modes need members
		// that restart from their own logs: with the blackhole in seven
		// seeds in eight, promotion-not-persisted fell from 58.6% to 49.3%
		// of seeds 1..1000 (failing in 44% of seeds with it, 63% without).
		f.Blackhole = prob.Never
	}
	return f
}

// worldRetention is the members' snapshot count and timing in a world of
// cfg: the seed's draw (drawRetention), a churn world's snapshot count
// ("membership/snapshot-count"), the reconfig workload's etcd default
// and the compaction workload's fixed options (etcdRetention).
func worldRetention(cfg Config, s Streams) (uint64, memberTiming) {
	n, t := drawRetention(s)
	if cfg.Churn > 0 {
		// A member added to a cluster whose leader compacted its log
		// catches up through a snapshot: churn worlds snapshot often
		// enough for a minute to see it (etcd's robustness tests run with
		// small --snapshot-count values too).
		n = []uint64{100, 200, 400, 1000}[s.Fork("membership/snapshot-count").IntN(4)]
	}
	if cfg.Workload == "reconfig" {
		// The reconfiguration field reports (#21694): the default mix, an
		// operator who updates each learner's peer URL before promoting it,
		// and etcd's default --snapshot-count.
		n = 10000
	}
	if cfg.Workload == "compaction" {
		// Issue17780's scenario: its cluster options are fixed.
		n, t = etcdRetention(s)
	}
	return n, t
}

// pickFailpoints is the first level of two-level activation (FoundationDB's
// BUGGIFY): each named point is switched on for the whole run with
// probability Failpoint, to fire at FailpointFire per pass (drawPoints).
func (o *options) pickFailpoints(s Streams) {
	o.fpRate, o.pathArmed = drawPoints(o.faults, s)
	for fp := nodes.Failpoint(1); fp < nodes.NumFailpoints; fp++ {
		if r := o.fpRate[fp]; !r.Zero() {
			name := fp.String()
			if r != o.faults.FailpointFire {
				name += "@" + r.String()
			}
			o.failpoints = append(o.failpoints, name)
		}
	}
}

// drawPoints draws, from the stream "faults/failpoints", the points a
// world of fault line f switches on and their per-pass rates, and the
// points of a received snapshot's path among them that fire at their
// least rate (shared by sharePath), in pass order.
func drawPoints(f Faults, s Streams) (rate [nodes.NumFailpoints]prob.Ratio, onPath []nodes.Failpoint) {
	if f.Failpoint.Zero() {
		return rate, nil
	}
	rng := s.Fork("faults/failpoints")
	for fp := nodes.Failpoint(1); fp < nodes.NumFailpoints; fp++ {
		if armRate(fp, f.Failpoint).Hit(rng) {
			rate[fp] = f.FailpointFire
			if least := leastFire(fp); ratioLess(rate[fp], least) {
				rate[fp] = least
				if slices.Contains(snapshotPath, fp) {
					onPath = append(onPath, fp)
				}
			}
		}
	}
	sharePath(&rate, onPath)
	return rate, onPath
}

// drawWorkload draws the workload knobs: whether auth is on and how often
// root changes it, and whether clients use leases. The auth workload
// always has auth on and churns it often; the compaction workload has
// neither auth nor leases.
func (o *options) drawWorkload(workload string, rng *rand.Rand) {
	auth := rng.IntN(2) == 0
	o.leasesOn = rng.IntN(2) == 0
	o.authChurn = []prob.Ratio{prob.Of(1, 100), prob.Of(1, 20)}[rng.IntN(2)]
	switch workload {
	case "auth":
		auth, o.authChurn = true, prob.Of(1, 8)
	case "compaction":
		auth, o.leasesOn = false, false
	}
	o.authOn = auth
	if !auth {
		o.authChurn = prob.Never
	}
}

// drawDrift draws one member's clock rate: with clock.drift, 10% or 50%
// fast or slow (its raft ticks come that much sooner or later).
func (o *options) drawDrift(rng *rand.Rand) [2]int64 {
	if o.faults.Drift.Hit(rng) {
		return [][2]int64{{9, 10}, {11, 10}, {1, 2}, {3, 2}}[rng.IntN(4)]
	}
	return [2]int64{1, 1}
}

// mix describes the workload knobs the seed drew.
func (o *options) mix() string {
	return fmt.Sprintf("auth=%v auth-churn=%s leases=%v snapshot-count=%d compaction-batch=%d clients=%d",
		o.authOn, o.authChurn, o.leasesOn, o.snapCount, o.compactBatch, o.clients) + o.clusterAPIString() + o.timing.String()
}

// clocks describes the members' clock drift ("m1=1 m2=11/10 m3=1").
func (o *options) clocks() string {
	parts := make([]string, len(o.drift))
	for i, d := range o.drift {
		parts[i] = fmt.Sprintf("m%d=%d", i+1, d[0])
		if d[1] != 1 {
			parts[i] += fmt.Sprintf("/%d", d[1])
		}
	}
	return strings.Join(parts, " ")
}

// netConfig is the network of the safety phase: a datacenter's delays,
// with the fault line's message faults.
func (o *options) netConfig() network.Config {
	f := o.faults
	return network.Config{
		DelayMin: 100 * time.Microsecond, DelayMax: 2 * time.Millisecond,
		Drop: f.Drop, Duplicate: f.Dup, Reorder: f.Reorder, ReorderMax: 20 * time.Millisecond,
	}
}

// diskFaults are the fault line's crash-image faults, for every disk.
func (o *options) diskFaults() disk.Faults {
	f := o.faults
	return disk.Faults{
		KeepUnsynced: f.KeepUnsynced, TornWrite: f.TornWrite, DirLoss: f.DirLoss,
		LyingSync: f.LyingSync, BitFlip: f.BitFlip, Misdirect: f.Misdirect,
	}
}

// clusterAPIString marks, in the mix, a world without churn that models
// membership for its clients' cluster API requests.
func (o *options) clusterAPIString() string {
	if o.clusterAPI {
		return " cluster-api=true"
	}
	return ""
}
