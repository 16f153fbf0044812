package sim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/prob"
)

// Faults is the fault configuration of a run. Its zero value means no
// faults. Every kind has a stable name used in the fault line, which
// prints and parses back; rates are integer ratios, never floats.
//
// Units: "per tick" rates are drawn once per fault tick (FaultTick of
// simulated time) for the whole cluster; "per message" rates once per
// message; crash-image rates as disk.Faults documents them.
type Faults struct {
	// In-model disk faults, applied at every crash image.
	KeepUnsynced prob.Ratio // disk.keep_unsynced: per unsynced sector, survives
	TornWrite    prob.Ratio // disk.torn_write: per crash, the in-flight write is torn
	DirLoss      prob.Ratio // disk.dir_loss: per unsynced create/rename, undone
	DiskSlow     prob.Ratio // disk.slow: per tick, a member's disk turns slow for a while
	// Out-of-model disk faults: never drawn by the swarm, only set by hand.
	LyingSync prob.Ratio // disk.lying_sync (out of model)
	BitFlip   prob.Ratio // disk.bit_flip (out of model)
	Misdirect prob.Ratio // disk.misdirect (out of model)
	// Network faults.
	Drop            prob.Ratio    // net.drop: per message
	Dup             prob.Ratio    // net.dup: per message
	Reorder         prob.Ratio    // net.reorder: per message, an extra delay
	Partition       prob.Ratio    // net.partition: per tick, a new two-way partition or a heal
	PartitionStable time.Duration // net.partition@stable: the least time a partition state holds
	OneWay          prob.Ratio    // net.oneway: per tick, a one-way cut
	Blackhole       prob.Ratio    // net.blackhole: per tick, a follower cut off until it needs a snapshot
	// Process faults.
	Crash         prob.Ratio // crash: per tick, crash a member (restart later)
	Failpoint     prob.Ratio // failpoint: per named point per run, switched on
	FailpointFire prob.Ratio // failpoint@fire: per pass through an active point, crash there
	Pause         prob.Ratio // pause: per tick, pause a member
	Drift         prob.Ratio // clock.drift: per member per run, its clock runs fast or slow
	GracefulStop  prob.Ratio // graceful_stop: per tick, stop a member cleanly (drawn apart, see WorldFaults)

	// Points arms failpoints by name for the whole run ("fp.<name>=<rate>":
	// per pass, crash there), besides those the failpoint kind switches on
	// (faults_points.go). Never drawn by the swarm.
	Points [nodes.NumFailpoints]prob.Ratio
}

// FaultTick is the period at which per-tick fault rates are drawn.
const FaultTick = 10 * time.Millisecond

// FaultKind is the stable name of one fault kind, as the fault line
// prints it ("net.drop").
type FaultKind string

// ratioField is one row of the fault kinds' catalog: the kind, what it
// does, and its rate in a Faults.
type ratioField struct {
	name FaultKind
	desc string
	get  func(*Faults) *prob.Ratio
}

// ratioFields is the catalog of fault kinds, in their stable printed order.
var ratioFields = []ratioField{
	{"disk.keep_unsynced", "per unsynced sector at a crash: it survives (else it is lost)", func(f *Faults) *prob.Ratio { return &f.KeepUnsynced }},
	{"disk.torn_write", "per crash: the write in flight is torn: a prefix or a subset of its sectors", func(f *Faults) *prob.Ratio { return &f.TornWrite }},
	{"disk.dir_loss", "per unsynced create or rename at a crash: undone", func(f *Faults) *prob.Ratio { return &f.DirLoss }},
	{"disk.slow", "per fault tick: a member's WAL fsyncs and defrag renames take 20x as long for 1-5 s", func(f *Faults) *prob.Ratio { return &f.DiskSlow }},
	{"disk.lying_sync", "out of model: an fsync that reports success and syncs nothing", func(f *Faults) *prob.Ratio { return &f.LyingSync }},
	{"disk.bit_flip", "out of model: a durable bit flips", func(f *Faults) *prob.Ratio { return &f.BitFlip }},
	{"disk.misdirect", "out of model: a write lands at the wrong offset", func(f *Faults) *prob.Ratio { return &f.Misdirect }},
	{"net.drop", "per message: lost", func(f *Faults) *prob.Ratio { return &f.Drop }},
	{"net.dup", "per message: delivered twice (never a forwarded proposal)", func(f *Faults) *prob.Ratio { return &f.Dup }},
	{"net.reorder", "per message: an extra delay of up to 20 ms", func(f *Faults) *prob.Ratio { return &f.Reorder }},
	{"net.partition", "per fault tick, once the last change is @stable old: a two-way partition, or a heal", func(f *Faults) *prob.Ratio { return &f.Partition }},
	{"net.oneway", "per fault tick: a one-way cut between two members", func(f *Faults) *prob.Ratio { return &f.OneWay }},
	{"crash", "per fault tick: a member's process dies (it restarts 0.1-3 s later)", func(f *Faults) *prob.Ratio { return &f.Crash }},
	{"failpoint", "per failpoint per run: switched on, to crash a member at @fire per pass", func(f *Faults) *prob.Ratio { return &f.Failpoint }},
	{"pause", "per fault tick: a member stops for 0.2-3 s (what reaches it waits)", func(f *Faults) *prob.Ratio { return &f.Pause }},
	{"clock.drift", "per member per run: its clock runs 10% or 50% fast or slow", func(f *Faults) *prob.Ratio { return &f.Drift }},
	{"graceful_stop", "per fault tick: a member stops cleanly (etcd's shutdown, then server/verify on its data) and restarts 0.1-3 s later", func(f *Faults) *prob.Ratio { return &f.GracefulStop }},
	{"net.blackhole", "per fault tick: a follower is cut off until the leader compacts past it (at most 30 s)", func(f *Faults) *prob.Ratio { return &f.Blackhole }},
}

// FaultNames returns every fault kind's stable name.
func FaultNames() []string {
	out := make([]string, len(ratioFields))
	for i, rf := range ratioFields {
		out[i] = string(rf.name)
	}
	return out
}

// Description returns the fault kind's one-line description.
func (k FaultKind) Description() string {
	for _, rf := range ratioFields {
		if rf.name == k {
			return rf.desc
		}
	}
	return ""
}

// OutOfModel reports whether f enables a fault outside what raft and etcd
// promise to survive.
func (f Faults) OutOfModel() bool {
	return !f.LyingSync.Zero() || !f.BitFlip.Zero() || !f.Misdirect.Zero()
}

// Kinds returns the names of the enabled kinds, in stable order.
func (f Faults) Kinds() []string {
	var out []string
	for _, rf := range ratioFields {
		if !rf.get(&f).Zero() {
			out = append(out, string(rf.name))
		}
	}
	return out
}

// String prints the fault line: enabled kinds in stable order, "none"
// when nothing is enabled.
func (f Faults) String() string {
	var parts []string
	for _, rf := range ratioFields {
		r := *rf.get(&f)
		if r.Zero() {
			continue
		}
		p := string(rf.name) + "=" + r.String()
		switch rf.name {
		case "net.partition":
			if f.PartitionStable > 0 {
				p += "@stable=" + f.PartitionStable.String()
			}
		case "failpoint":
			if !f.FailpointFire.Zero() {
				p += "@fire=" + f.FailpointFire.String()
			}
		}
		parts = append(parts, p)
	}
	parts = append(parts, f.pointsString()...)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// ParseFaults reads a fault line as String prints it.
func ParseFaults(line string) (Faults, error) {
	var f Faults
	line = strings.TrimSpace(line)
	if line == "none" || line == "" {
		return f, nil
	}
	seen := map[string]bool{}
	for _, tok := range strings.Fields(line) {
		name, val, ok := strings.Cut(tok, "=")
		if !ok {
			return f, fmt.Errorf("sim: fault %q is not name=ratio", tok)
		}
		if seen[name] {
			return f, fmt.Errorf("sim: fault %q given twice", name)
		}
		seen[name] = true
		if err := f.set(name, val); err != nil {
			return f, err
		}
	}
	return f, f.Validate()
}

func (f *Faults) set(name, val string) error {
	if strings.HasPrefix(name, pointPrefix) {
		return f.setPoint(name, val)
	}
	val, opt, hasOpt := strings.Cut(val, "@")
	var field *prob.Ratio
	for _, rf := range ratioFields {
		if string(rf.name) == name {
			field = rf.get(f)
		}
	}
	if field == nil {
		return fmt.Errorf("sim: unknown fault kind %q (known: %s)", name, strings.Join(FaultNames(), ", "))
	}
	r, err := prob.Parse(val)
	if err != nil {
		return fmt.Errorf("sim: fault %s: %v", name, err)
	}
	*field = r
	if !hasOpt {
		return nil
	}
	key, v, _ := strings.Cut(opt, "=")
	switch {
	case name == "net.partition" && key == "stable":
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("sim: fault %s: bad stable window %q", name, v)
		}
		f.PartitionStable = d
	case name == "failpoint" && key == "fire":
		fr, err := prob.Parse(v)
		if err != nil {
			return fmt.Errorf("sim: fault %s: %v", name, err)
		}
		f.FailpointFire = fr
	default:
		return fmt.Errorf("sim: fault %s has no option %q", name, key)
	}
	return nil
}

// Validate reports an impossible configuration.
func (f Faults) Validate() error {
	if !f.Failpoint.Zero() && f.FailpointFire.Zero() {
		return fmt.Errorf("sim: failpoint needs @fire=ratio")
	}
	return nil
}

// DrawFaults is swarm testing (as FoundationDB's and TigerBeetle's
// simulators do): each in-model kind is switched on with probability 1/2,
// at a rate drawn from a menu, so that different seeds explore different
// mixes; net.blackhole, drawn last, is on in seven seeds in eight, so that
// snapshots are sent and installed in most worlds (WorldFaults keeps it
// only in worlds whose leader compacts within blackholeEntries, as
// robustness does). Out-of-model kinds are never drawn.
func DrawFaults(rng *rand.Rand) Faults {
	var f Faults
	pick := func(dst *prob.Ratio, menu ...prob.Ratio) {
		if rng.IntN(2) == 0 {
			*dst = menu[rng.IntN(len(menu))]
		}
	}
	pick(&f.KeepUnsynced, prob.Of(1, 2), prob.Of(1, 8), prob.Of(7, 8))
	pick(&f.TornWrite, prob.Of(1, 2), prob.Of(1, 1))
	pick(&f.DirLoss, prob.Of(1, 2), prob.Of(1, 1))
	pick(&f.DiskSlow, prob.Of(1, 500), prob.Of(1, 2000))
	pick(&f.Drop, prob.Of(1, 100), prob.Of(1, 20), prob.Of(1, 1000))
	pick(&f.Dup, prob.Of(1, 100), prob.Of(1, 20))
	pick(&f.Reorder, prob.Of(1, 20), prob.Of(1, 5))
	pick(&f.Partition, prob.Of(1, 200), prob.Of(1, 1000))
	if !f.Partition.Zero() {
		f.PartitionStable = []time.Duration{500 * time.Millisecond, 2 * time.Second, 5 * time.Second}[rng.IntN(3)]
	}
	pick(&f.OneWay, prob.Of(1, 500), prob.Of(1, 2000))
	pick(&f.Crash, prob.Of(1, 300), prob.Of(1, 1000), prob.Of(1, 3000))
	pick(&f.Failpoint, prob.Of(1, 4), prob.Of(1, 2))
	if !f.Failpoint.Zero() {
		f.FailpointFire = []prob.Ratio{prob.Of(1, 500), prob.Of(1, 5000)}[rng.IntN(2)]
	}
	pick(&f.Pause, prob.Of(1, 300), prob.Of(1, 1000), prob.Of(1, 3000))
	pick(&f.Drift, prob.Of(1, 2), prob.Of(1, 1))
	if rng.IntN(8) != 0 { // seven seeds in eight: snapshots are installed often
		f.Blackhole = []prob.Ratio{prob.Of(1, 100), prob.Of(1, 300)}[rng.IntN(2)]
	}
	return f
}

// DrawGracefulStop is the swarm's draw of graceful_stop, from a stream of
// its own ("faults/stop") so that every other draw of a seed stays what it
// was: one seed in four stops members cleanly, rarely.
func DrawGracefulStop(rng *rand.Rand) prob.Ratio {
	if rng.IntN(4) != 0 {
		return prob.Never
	}
	return []prob.Ratio{prob.Of(1, 1000), prob.Of(1, 3000)}[rng.IntN(2)]
}

// itoa is strconv.Itoa, kept short for trace lines.
func itoa(v int) string { return strconv.Itoa(v) }
