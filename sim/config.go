package sim

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/invariants/linearizable"
	"github.com/etcdsim/etcdsim/nodes"
)

// Config is one world. Its zero value, with a seed, is the default world:
// three members, 60 s of simulated time, the seed's swarm of in-model
// faults, and clients sending 100 requests per simulated second.
type Config struct {
	Seed     uint64
	Members  int           // 1..7 (default 3)
	Duration time.Duration // the safety phase (default 60s)
	Bugs     nodes.Bugs
	Faults   *Faults // nil: drawn from the seed (swarm testing)
	Rate     int     // client requests per simulated second (default 100)
	Workload string  // the request mix: "default" or one of Workloads
	Clients  int     // concurrent clients (default 10)
	MaxSteps uint64  // stop after this many events (0: no limit)
	NoChecks bool    // skip the invariants (for measuring their cost)
	// Liveness is the bound of the liveness phase (default 30s).
	Liveness time.Duration
	// Trace, when set, receives one line per event.
	Trace io.Writer
	// SampleMemory records the peak heap in use during the run (read every
	// 20,000 events and at the end) and the live heap at the end; it never
	// changes what the world does.
	SampleMemory bool
	// Timeline keeps the marks of Report.Timeline (replay -html).
	Timeline bool
	// Plan, when set, is followed instead of drawing requests and per-tick
	// faults from the seed (see Plan).
	Plan *Plan
	// RecordPlan keeps the plan a seeded run draws, in Report.Plan (for
	// Shrink; it costs memory in proportion to the run).
	RecordPlan bool
	// Churn, when set, is the number of voters an operator steers the
	// cluster toward while it changes its membership through the cluster
	// API (add a learner and promote it, remove a voter, replace one, add
	// a voter that starts late); the world then models membership as etcd
	// does. 0: the membership is fixed, and nothing of it is modelled.
	Churn int
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.defaults()
	return c
}

func (c *Config) defaults() {
	c.Members = cmp.Or(c.Members, 3)
	c.Duration = cmp.Or(c.Duration, 60*time.Second)
	c.Rate = cmp.Or(c.Rate, 100)
	c.Clients = cmp.Or(c.Clients, 10)
	c.Liveness = cmp.Or(c.Liveness, 30*time.Second)
	c.Workload = cmp.Or(c.Workload, "default")
}

// Workloads are the request mixes a run can select with one flag, each
// shaped after the field reports of the bug it provokes.
var Workloads = []string{"default", "auth", "compaction", "reconfig"}

// Validate reports an impossible configuration.
func (c Config) Validate() error {
	c.defaults()
	switch {
	case c.Members < 1 || c.Members > 7:
		return fmt.Errorf("sim: members must be 1..7, not %d", c.Members)
	case c.Duration < 0 || c.Duration > 24*time.Hour:
		return fmt.Errorf("sim: duration %v out of range (0..24h)", c.Duration)
	case c.Rate < 0 || c.Rate > 100000:
		return fmt.Errorf("sim: rate %d out of range (0..100000 per second)", c.Rate)
	case c.Clients < 1 || c.Clients > 1000:
		return fmt.Errorf("sim: clients %d out of range (1..1000)", c.Clients)
	case c.Churn < 0 || c.Churn > 7:
		return fmt.Errorf("sim: churn must be 0 (none) or 1..7 voters, not %d", c.Churn)
	case !slices.Contains(Workloads, c.Workload):
		return fmt.Errorf("sim: unknown workload %q (known: %s)", c.Workload, strings.Join(Workloads, ", "))
	}
	if c.Plan != nil {
		clients := c.Clients
		if c.Workload == "compaction" {
			clients = 1
		}
		for i := range c.Plan.Steps {
			if err := c.Plan.Steps[i].validate(c, clients); err != nil {
				return err
			}
		}
	}
	if c.Faults != nil {
		return c.Faults.Validate()
	}
	return nil
}

// Stats is what a run did, so that a clean result is not a quiet world.
type Stats struct {
	Committed     uint64 // entries in the agreed log
	Crashes       uint64
	Restarts      uint64
	Commits       uint64 // durable backend commits
	LeaderChanges uint64
	Requests      uint64 // sent by clients (retries included)
	Dropped       uint64 // arrivals that found every client waiting
	Acked         uint64
	Timeouts      uint64
	Resets        uint64 // requests in flight to a member that crashed
	Messages      uint64 // raft messages members sent
	Partitions    uint64
	Failpoints    uint64 // crashes at a failpoint
	Compactions   uint64 // applied by members
	Defrags       uint64
	Snapshots     uint64 // raft snapshots members saved
	Installs      uint64 // snapshots members received and installed
	// Unchecked counts checks skipped because the reference record they
	// needed had been forgotten; 0 unless that bound is wrong.
	Unchecked uint64
	// MemberChanges counts the membership changes that completed (conf
	// changes after the bootstrap, taken by the membership); NewInstalls
	// the snapshots members added at runtime installed.
	MemberChanges uint64
	NewInstalls   uint64
	// Operations counts the operations the membership operator completed
	// (churn.go); Report.Replaces has how long each replace took.
	Operations uint64
}

// absorb adds what one member life did.
func (s *Stats) absorb(m nodes.Stats) {
	s.Commits += m.Commits
	s.LeaderChanges += m.LeaderChanges
	s.Compactions += m.Compactions
	s.Defrags += m.Defrags
	s.Snapshots += m.Snapshots
	s.Installs += m.SnapshotsApplied
}

// Report is the outcome of a run.
type Report struct {
	Config     Config
	Faults     Faults
	Failpoints []string // the failpoints switched on for this run
	Mix        string   // the workload knobs the seed drew
	Clocks     string   // the members' clock drift the seed drew
	Churn      string   // the membership operator's knobs the seed drew, or ""
	// Replaces is, in a world with churn, how long each replace the
	// operator completed took: from its first look to its new member's
	// publish in the committed log.
	Replaces  []time.Duration
	Violation *invariants.Violation
	Step      uint64        // the event at which it broke
	At        time.Duration // and its simulated time
	Steps     uint64
	End       time.Duration
	TraceHash uint64
	Stats     Stats
	PeakHeap  uint64 // bytes, with Config.SampleMemory
	// LiveHeap is the heap still reachable at the end of the run (after a
	// collection), with Config.SampleMemory: what the world keeps.
	LiveHeap     uint64
	liveHeapWall time.Duration        // the wall time of measuring LiveHeap
	Timeline     []Mark               // with Config.Timeline
	Plan         *Plan                // the plan the run followed, or drew with Config.RecordPlan
	History      []Op                 // the client history: the requests a check reads (see finish)
	fates        map[uint64]fate      // the log's fates of History's open writes (see settled)
	linPrefix    *linearizable.Prefix // what of the history was checked and folded before History
	// LinearizabilityTimedOut: porcupine ran out of time on the history,
	// so the check was inconclusive (not a failure).
	LinearizabilityTimedOut bool
	// LinearizabilityWall is the wall time the check took (the only wall
	// clock reading of a run; it never changes what the world does).
	LinearizabilityWall time.Duration
	// LeaseChecks counts what the lease checker judged (lease-semantics).
	LeaseChecks invariants.LeaseCounts
	// Probes counts each coverage probe's hits over the run (nodes.Probe).
	Probes nodes.ProbeCounts
}

// Exit codes of a run.
const (
	ExitClean        = 0
	ExitBadInput     = 2
	ExitSafety       = 3
	ExitLinearizable = 4
	ExitLiveness     = 5
)

// ExitCode returns the process exit status for the report.
func (r *Report) ExitCode() int {
	switch {
	case r.Violation == nil:
		return ExitClean
	case r.Violation.Name == invariants.Linearizable:
		return ExitLinearizable
	case r.Violation.Name == invariants.Liveness:
		return ExitLiveness
	}
	return ExitSafety
}

// Header returns the lines a run prints first: the seed and every option
// derived from it (see drawOptions).
func (r *Report) Header() string {
	c := r.Config
	fp := "none"
	if len(r.Failpoints) > 0 {
		fp = fmt.Sprint(r.Failpoints)
		fp = fp[1 : len(fp)-1]
	}
	c.defaults()
	h := fmt.Sprintf("SEED=%d members=%d bug=%s duration=%s rate=%d workload=%s\nfaults: %s\nfailpoints: %s\nmix: %s",
		c.Seed, c.Members, c.Bugs, c.Duration, c.Rate, c.Workload, r.Faults, fp, r.Mix)
	if r.Clocks != "" {
		h += "\nclocks: " + r.Clocks
	}
	if r.Churn != "" {
		h += "\nchurn: " + r.Churn
	}
	return h
}

// StatsLine is one line of what the run did: events, simulated time and
// its counters.
func (r *Report) StatsLine() string {
	s := r.Stats
	return fmt.Sprintf("ran %d events, %s simulated: requests=%d (dropped %d: every client busy) committed=%d acked=%d timeouts=%d resets=%d crashes=%d restarts=%d backend-commits=%d leader-changes=%d partitions=%d snapshots=%d installs=%d compactions=%d defrags=%d",
		r.Steps, FormatTime(r.End), s.Requests, s.Dropped, s.Committed, s.Acked, s.Timeouts, s.Resets, s.Crashes, s.Restarts, s.Commits, s.LeaderChanges, s.Partitions,
		s.Snapshots, s.Installs, s.Compactions, s.Defrags) + r.churnStats()
}

// churnStats is the membership part of the stats line, in worlds with churn.
func (r *Report) churnStats() string {
	if r.Config.Churn == 0 {
		return ""
	}
	return fmt.Sprintf(" member-changes=%d new-member-installs=%d operations=%d", r.Stats.MemberChanges, r.Stats.NewInstalls, r.Stats.Operations)
}

// ReplayLine returns the one command that replays the run exactly from
// its flags, as `go run ./cmd/etcdsim` (see ReplayLineFor).
func (r *Report) ReplayLine() string { return r.ReplayLineFor("go run ./cmd/etcdsim") }

// ReplayLineFor is ReplayLine for etcdsim run as prog. It names only the
// flags whose values differ from what replay takes by default: the world
// of the run's bug mode (BugWorlds), else etcdsim's defaults. A run of a
// plan (a shrunk seed file) replays only from its seed file.
func (r *Report) ReplayLineFor(prog string) string {
	c := r.Config
	c.defaults()
	bw := WorldOf(c.Bugs)
	s := fmt.Sprintf("%s replay --seed %d", prog, c.Seed)
	if c.Bugs != (nodes.Bugs{}) {
		s += " --bug " + c.Bugs.String()
	}
	if c.Members != bw.Members {
		s += fmt.Sprintf(" --members %d", c.Members)
	}
	if c.Duration != 60*time.Second {
		s += " --duration " + c.Duration.String()
	}
	switch {
	case c.Faults != nil && c.Faults.String() != bw.Faults:
		s += fmt.Sprintf(" --faults '%s'", c.Faults)
	case c.Faults == nil && bw.Faults != "":
		s += " --faults ''" // the seed's own draw, not the mode's fault line
	}
	if c.Rate != bw.Rate {
		s += fmt.Sprintf(" --rate %d", c.Rate)
	}
	if c.Workload != bw.Workload {
		s += " --workload " + c.Workload
	}
	if c.Churn != bw.Churn {
		s += fmt.Sprintf(" --churn %d", c.Churn)
	}
	return s + " -v"
}

// Duration is a span of simulated time.
type Duration = time.Duration

// ParseDuration reads a simulated duration such as "60s" or "10m".
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("sim: duration %q is not a positive duration such as 60s", s)
	}
	return d, nil
}
