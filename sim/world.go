package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/invariants/linearizable"
	"github.com/etcdsim/etcdsim/network"
	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/wal"
	"github.com/etcdsim/etcdsim/prob"
)

// Event kinds of the world.
const (
	evTimer EventKind = iota + 1
	evDeliver
	evRequest
	evReply
	evTimeout
	evArrival
	evFaultTick
	evRestart
	evResume
	evProbe
	evLinCheck
	evReset
)

var evNames = [...]string{"", "timer", "deliver", "request", "reply", "timeout", "arrival", "fault-tick", "restart", "resume", "probe", "lin-check", "reset"}

// clientBase is the network endpoint of client 0; members are 1..N.
const clientBase = 1000

// slot is one member position of the cluster, across its lives.
type slot struct {
	id       uint64
	m        *nodes.Member // nil while down
	fs       *disk.FS
	replay   backend.ReplayCache // the backend's last replay, kept across lives
	walRead  wal.ReplayCache     // the WAL's last read, kept across lives
	life     uint64              // incremented at each crash: stale timers are dropped
	paused   bool
	held     []Event // events that reached a paused member
	drift    [2]int64
	slowTil  time.Duration
	armed    nodes.Failpoint // a failpoint armed by hand: the member crashes there next time
	lastRole string          // the role and term last put on the timeline
	// passes counts each failpoint reached, over the member's lives;
	// firedPass is the pass at which the last one fired, planDown the down
	// time a plan gave it.
	passes    [nodes.NumFailpoints]uint64
	firedPass uint64
	planDown  time.Duration
}

type world struct {
	cfg     Config
	faults  Faults
	streams Streams
	q       Queue
	tr      *Trace
	net     *network.Net
	slots   []*slot
	clients []*client
	decoded *nodes.Decoded // one decoding of an entry for every member and the reference
	chk     *invariants.Checker
	views   []invariants.View // members that are up
	durable []invariants.View // each slot's latest life, down or up: its stable log is on disk

	rngFault, rngWork *rand.Rand
	fpRate            [nodes.NumFailpoints]prob.Ratio // per pass through each point, the chance to crash there (zero: the point is off)
	fpList            []string
	healing           bool
	nextID            uint64
	history           []Op
	emptied           int                  // finished requests of history no check needs (see finish)
	undecided         map[uint64]struct{}  // writes not yet answered for certain nor seen committed (see settle)
	fates             map[uint64]fate      // writes the log settled while their outcome was open
	linPrefix         *linearizable.Prefix // the history checked and folded (see foldHistory)
	serialLast        map[session]Op       // the last serializable read of each session folded
	stats             Stats
	step              uint64
	stopAt            uint64 // MaxSteps
	probe             *probe
	committed         uint64 // the highest index any member committed
	peakHeap          uint64
	timeline          []Mark
	plan              *Plan                       // the plan followed, or nil: draw from the seed
	planReq           int                         // the next request step of the plan
	planFault         int                         // the next fault step of the plan
	recorded          Plan                        // the plan a seeded run drew
	planFP            [nodes.NumFailpoints][]Step // the plan's failpoint steps by point
	linTimedOut       bool
	linWall           time.Duration // wall time of the linearizability check
	snapCount         uint64        // the members' --snapshot-count, drawn per seed
	compactBatch      int           // the members' compaction batch limit, drawn per seed
	authOn            bool          // clients set up auth and act as users
	authChurn         prob.Ratio    // per root request: an auth change instead
	leasesOn          bool          // clients grant, use, keep alive and revoke leases
	leases            []int64       // recently granted lease IDs
	nextLease         int64
}

func newWorld(cfg Config) *world {
	cfg.defaults()
	s := NewStreams(cfg.Seed)
	w := &world{cfg: cfg, streams: s, tr: NewTrace(cfg.Trace), stopAt: cfg.MaxSteps}
	w.faults = WorldFaults(cfg)
	if cfg.Plan != nil {
		w.plan = sortedPlan(cfg.Plan)
		for _, st := range w.plan.Steps {
			// A step at a point no member has never fires.
			if fp, ok := nodes.ParseFailpoint(st.Point); ok && st.Kind == StepFailpoint {
				w.planFP[fp] = append(w.planFP[fp], st)
			}
		}
	}
	w.rngFault = s.Fork("faults")
	w.rngWork = s.Fork("workload")
	w.chk = invariants.NewChecker(cfg.Members)
	w.chk.Off = cfg.NoChecks
	w.chk.Ref = invariants.NewReferenceFor(cfg.Bugs)
	w.decoded = new(nodes.Decoded)
	w.chk.Ref.Decoded = w.decoded
	w.undecided, w.fates, w.serialLast = map[uint64]struct{}{}, map[uint64]fate{}, map[session]Op{}
	w.chk.Ref.Applied = w.settle
	w.net = network.New(s.Fork("network"), w.netConfig())
	w.pickFailpoints()
	w.snapCount = []uint64{100, 400, 2000, 10000}[s.Fork("members/snapshot-count").IntN(4)]
	w.compactBatch = []int{1000, 100, 10, 3}[s.Fork("members/compaction-batch").IntN(4)]
	if cfg.Workload == "compaction" {
		// Issue17780's scenario: one client, tiny compaction batches, and
		// a crash between a batch commit and the finished marker.
		w.compactBatch = 1 + s.Fork("members/compaction-batch").IntN(3)
		w.fpRate[nodes.FPCompactFinished] = prob.Of(1, 4) // its own rate, whether the swarm switched it on or not
		w.fpList = append(w.fpList, nodes.FPCompactFinished.String()+"@1/4")
	}
	for i := 0; i < cfg.Members; i++ {
		sl := &slot{id: uint64(i + 1), drift: [2]int64{1, 1}}
		sl.fs = disk.New(s.Fork(fmt.Sprintf("disk/m%d", i+1)), w.diskFaults())
		if w.faults.Drift.Hit(w.rngFault) {
			sl.drift = [][2]int64{{9, 10}, {11, 10}, {1, 2}, {3, 2}}[w.rngFault.IntN(4)]
		}
		w.slots = append(w.slots, sl)
	}
	w.views = make([]invariants.View, cfg.Members)
	w.durable = make([]invariants.View, cfg.Members)
	clients := cfg.Clients
	if cfg.Workload == "compaction" {
		clients = 1
	}
	for i := 0; i < clients; i++ {
		w.clients = append(w.clients, &client{idx: i, proc: i, target: i % cfg.Members})
	}
	w.drawWorkload()
	return w
}

// drawWorkload draws the seed's workload knobs (swarm testing, like the
// faults): whether auth is on and how often root changes it, and whether
// clients use leases. The auth workload always has auth on, churns it
// often, and restarts members.
func (w *world) drawWorkload() {
	rng := w.streams.Fork("workload/swarm")
	auth := rng.IntN(2) == 0
	w.leasesOn = rng.IntN(2) == 0
	w.authChurn = []prob.Ratio{prob.Of(1, 100), prob.Of(1, 20)}[rng.IntN(2)]
	if w.cfg.Workload == "auth" {
		auth, w.authChurn = true, prob.Of(1, 8)
	}
	if w.cfg.Workload == "compaction" {
		auth, w.leasesOn = false, false
	}
	if !auth {
		w.authChurn = prob.Never
		return
	}
	w.authOn = true
	for i, c := range w.clients {
		c.user = authUsers[i%len(authUsers)]
	}
	w.clients[0].script = authSetup()
}

// WorldFaults returns the fault configuration a world of cfg runs with:
// the configured line, or the seed's swarm draw; the auth workload makes
// sure members restart (its field reports needed restarts).
func WorldFaults(cfg Config) Faults {
	if cfg.Faults != nil {
		return *cfg.Faults
	}
	f := DrawFaults(NewStreams(cfg.Seed).Fork("faults/swarm"))
	if cfg.Workload == "auth" && f.Crash.Zero() {
		f.Crash = prob.Of(1, 500)
	}
	return f
}

func (w *world) netConfig() network.Config {
	f := w.faults
	return network.Config{
		DelayMin: 100 * time.Microsecond, DelayMax: 2 * time.Millisecond,
		Drop: f.Drop, Duplicate: f.Dup, Reorder: f.Reorder, ReorderMax: 20 * time.Millisecond,
	}
}

func (w *world) diskFaults() disk.Faults {
	f := w.faults
	return disk.Faults{
		KeepUnsynced: f.KeepUnsynced, TornWrite: f.TornWrite, DirLoss: f.DirLoss,
		LyingSync: f.LyingSync, BitFlip: f.BitFlip, Misdirect: f.Misdirect,
	}
}

// pickFailpoints is the first level of two-level activation: each named
// point is switched on for the whole run with probability Failpoint.
func (w *world) pickFailpoints() {
	if w.faults.Failpoint.Zero() {
		return
	}
	rng := w.streams.Fork("faults/failpoints")
	for fp := nodes.Failpoint(1); fp < nodes.NumFailpoints; fp++ {
		if w.faults.Failpoint.Hit(rng) {
			w.fpRate[fp] = w.faults.FailpointFire
			w.fpList = append(w.fpList, fp.String())
		}
	}
}

// failpoint is the second level: an active point fires at its rate
// (FailpointFire, or the workload's own).
// A point armed on the slot by hand (scenarios) fires once, first.
// A plan's failpoint step fires at its pass through the point.
func (w *world) failpoint(sl *slot, fp nodes.Failpoint) bool {
	if sl.armed == fp {
		sl.armed = 0
		return true
	}
	if w.healing {
		return false
	}
	if w.plan != nil {
		return w.planFailpoint(sl, fp)
	}
	r := w.fpRate[fp]
	if r.Zero() {
		return false // never fires: its passes need no counting
	}
	pass := sl.pass(fp)
	fire := r.Hit(w.rngFault)
	if fire {
		sl.firedPass = pass
	}
	return fire
}

// pass counts one more pass of sl through fp and returns its number.
// Only points that can fire are counted, in a seeded run and in its plan
// alike, so the numbers agree.
func (sl *slot) pass(fp nodes.Failpoint) uint64 {
	sl.passes[fp]++
	return sl.passes[fp]
}

// planFailpoint reports whether the plan crashes sl at this pass of fp.
func (w *world) planFailpoint(sl *slot, fp nodes.Failpoint) bool {
	steps := w.planFP[fp]
	if len(steps) == 0 {
		return false
	}
	pass := sl.pass(fp)
	for _, s := range steps {
		if s.Member == int(sl.id) && s.Pass == pass {
			sl.planDown = s.For
			return true
		}
	}
	return false
}

// failpointDown is how long a member that died at a failpoint stays down:
// the plan's, or drawn and recorded in the plan.
func (w *world) failpointDown(sl *slot, point string) time.Duration {
	if w.plan != nil {
		return sl.planDown
	}
	down := w.restartDelay()
	w.record(Step{Kind: StepFailpoint, Member: int(sl.id), Point: point, Pass: sl.firedPass, For: down})
	return down
}

func (w *world) memberConfig(sl *slot) nodes.Config {
	peers := make([]uint64, len(w.slots))
	for i := range w.slots {
		peers[i] = uint64(i + 1)
	}
	cfg := nodes.Config{
		ID:        sl.id,
		Life:      sl.life,
		Peers:     peers,
		Bugs:      w.cfg.Bugs,
		Rand:      w.streams.Fork(fmt.Sprintf("member/m%d/life%d", sl.id, sl.life)),
		Latency:   defaultLatency,
		Failpoint: func(fp nodes.Failpoint) bool { return w.failpoint(sl, fp) },
		Observer:  (*observer)(w),
		Decoded:   w.decoded,

		SnapshotCount:        w.snapCount,
		SnapshotCatchUp:      w.snapCount / 4,
		CompactionBatchLimit: w.compactBatch,
	}
	if !noReplayCache {
		cfg.BackendCache, cfg.WALCache = &sl.replay, &sl.walRead
	}
	return cfg
}

// defaultLatency is a datacenter SSD: writes in microseconds, fsync in
// about a millisecond.
var defaultLatency = disk.Latency{
	Read:    disk.Range{Min: 5 * time.Microsecond, Max: 50 * time.Microsecond},
	Write:   disk.Range{Min: 10 * time.Microsecond, Max: 100 * time.Microsecond},
	Sync:    disk.Range{Min: 300 * time.Microsecond, Max: 3 * time.Millisecond},
	SyncDir: disk.Range{Min: 300 * time.Microsecond, Max: 2 * time.Millisecond},
	Meta:    disk.Range{Min: 10 * time.Microsecond, Max: 100 * time.Microsecond},
}

// noReplayCache makes every restart read its whole WAL and replay its
// whole backend (a test compares the two).
var noReplayCache bool
