package swarm

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/sim"
)

// Result is one seed's outcome: one JSON line of a swarm's --json file, and
// what a worker process writes for each seed it runs. The config fields
// (seed, members, duration, rate, bug, faults) identify the world; merge
// deduplicates on them.
type Result struct {
	Seed        uint64   `json:"seed"`
	Members     int      `json:"members"`
	Duration    string   `json:"duration"`
	Rate        int      `json:"rate"`
	Workload    string   `json:"workload"`
	Bug         string   `json:"bug"`
	Faults      string   `json:"faults"`      // the fault line the world ran with
	FaultKinds  []string `json:"fault_kinds"` // its enabled kinds, in stable order
	Failpoints  []string `json:"failpoints"`  // the failpoints switched on
	Mix         string   `json:"mix"`         // the workload knobs the seed drew
	Outcome     string   `json:"outcome"`     // "pass" or "fail:<invariant>"
	Invariant   string   `json:"invariant"`   // "" for pass
	Detail      string   `json:"detail,omitempty"`
	Step        uint64   `json:"step"`   // the event of the violation (0 for pass)
	Steps       uint64   `json:"steps"`  // events run
	SimMs       float64  `json:"sim_ms"` // simulated time of the violation, or of the end
	WallMs      float64  `json:"wall_ms"`
	Trace       string   `json:"trace"` // the trace hash, 16 hex digits
	WorkerCrash bool     `json:"worker_crash,omitempty"`
	LinMs       float64  `json:"lin_ms"`                  // wall time of the linearizability check
	LinTimedOut bool     `json:"lin_timed_out,omitempty"` // the check ran out of time (inconclusive)

	Committed        uint64 `json:"committed"`
	Crashes          uint64 `json:"crashes"`
	Restarts         uint64 `json:"restarts"`
	Commits          uint64 `json:"commits"`
	LeaderChanges    uint64 `json:"leader_changes"`
	Requests         uint64 `json:"requests"`
	Dropped          uint64 `json:"dropped"` // arrivals that found every client busy
	Acked            uint64 `json:"acked"`
	Timeouts         uint64 `json:"timeouts"`
	Resets           uint64 `json:"resets"`   // requests in flight to a member that crashed
	Messages         uint64 `json:"messages"` // raft messages members sent
	Partitions       uint64 `json:"partitions"`
	FailpointCrashes uint64 `json:"failpoint_crashes"`
	Compactions      uint64 `json:"compactions"`
	Defrags          uint64 `json:"defrags"`
	Snapshots        uint64 `json:"snapshots"`
	Installs         uint64 `json:"installs"`
	Unchecked        uint64 `json:"unchecked"` // checks skipped on a forgotten reference record: 0 unless that bound is wrong
	// Worlds with membership churn only (absent otherwise).
	Churn         int    `json:"churn,omitempty"`
	MemberChanges uint64 `json:"member_changes,omitempty"`
	NewInstalls   uint64 `json:"new_member_installs,omitempty"`
	// Operations the membership operator completed, and how long each of
	// its completed replaces took (simulated ms).
	Operations uint64    `json:"operations,omitempty"`
	ReplaceMs  []float64 `json:"replace_ms,omitempty"`

	// Probes are the coverage probes the run hit, by name, with their
	// hits (nodes.Probe); probes it never hit are left out.
	Probes map[string]uint32 `json:"probes,omitempty"`
}

// maxDetail caps the evidence kept in a JSON line; replay gives the rest.
const maxDetail = 400

// ms returns d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ResultOf records a report and the wall time its world took.
func ResultOf(rep *sim.Report, wall time.Duration) Result {
	c := rep.Config
	r := Result{
		Seed: c.Seed, Members: c.Members, Duration: c.Duration.String(), Rate: c.Rate,
		Workload: c.Workload, Bug: c.Bugs.String(), Faults: rep.Faults.String(),
		FaultKinds: nonNil(rep.Faults.Kinds()), Failpoints: nonNil(rep.Failpoints), Mix: rep.Mix,
		Outcome: rep.Outcome(), Steps: rep.Steps, SimMs: ms(rep.End),
		WallMs:      math.Round(float64(wall)/float64(time.Microsecond)) / 1000,
		Trace:       fmt.Sprintf("%016x", rep.TraceHash),
		LinMs:       math.Round(float64(rep.LinearizabilityWall)/float64(time.Microsecond)) / 1000,
		LinTimedOut: rep.LinearizabilityTimedOut,
	}
	if v := rep.Violation; v != nil {
		r.Invariant, r.Detail, r.Step, r.SimMs = string(v.Name), oneLine(v.Detail), rep.Step, ms(rep.At)
	}
	s := rep.Stats
	r.Committed, r.Crashes, r.Restarts, r.Commits = s.Committed, s.Crashes, s.Restarts, s.Commits
	r.LeaderChanges, r.Requests, r.Acked, r.Timeouts = s.LeaderChanges, s.Requests, s.Acked, s.Timeouts
	r.Partitions, r.FailpointCrashes, r.Compactions, r.Defrags = s.Partitions, s.Failpoints, s.Compactions, s.Defrags
	r.Snapshots, r.Installs, r.Dropped, r.Resets, r.Messages = s.Snapshots, s.Installs, s.Dropped, s.Resets, s.Messages
	r.Unchecked = s.Unchecked
	r.Churn, r.MemberChanges, r.NewInstalls, r.Operations = c.Churn, s.MemberChanges, s.NewInstalls, s.Operations
	for _, d := range rep.Replaces {
		r.ReplaceMs = append(r.ReplaceMs, ms(d))
	}
	r.Probes = reportProbes(rep)
	return r
}

// nonNil returns s, or an empty list for nil (JSON [] rather than null).
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// oneLine returns the first line of s, at most maxDetail bytes of it.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > maxDetail {
		n := maxDetail
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

// crashResult is the failing result of a seed whose worker process died
// (or hung, or wrote garbage) while running it: invariant "panic".
func crashResult(cfg sim.Config, seed uint64, why string, wall time.Duration) Result {
	cfg.Seed = seed
	f := sim.WorldFaults(cfg)
	rep := &sim.Report{Config: cfg, Faults: f, Violation: &invariants.Violation{Name: "panic", Detail: why}}
	r := ResultOf(rep, wall)
	r.WorkerCrash = true
	return r
}

// Key identifies the world of a result: everything but the seed.
func (r Result) Key() string {
	k := fmt.Sprintf("members=%d duration=%s rate=%d workload=%s bug=%s faults=%s", r.Members, r.Duration, r.Rate, r.Workload, r.Bug, r.Faults)
	if r.Churn != 0 {
		k += fmt.Sprintf(" churn=%d", r.Churn)
	}
	return k
}

// Config rebuilds the world's configuration, checking every field as the
// flags are checked. Its fault line stays pinned: an empty one is no faults,
// never the seed's swarm.
func (r Result) Config() (sim.Config, error) {
	faults := r.Faults
	if faults == "" {
		faults = "none"
	}
	w := World{Bug: r.Bug, Faults: faults, Workload: r.Workload, Duration: r.Duration, Members: r.Members, Rate: r.Rate, Churn: r.Churn}
	cfg, err := w.Config()
	cfg.Seed = r.Seed
	return cfg, err
}

// Check reports a line that is not a result: a world that does not
// validate, an outcome that disagrees with the invariant, an invariant
// this build does not know, or a trace that is not 16 hex digits.
func (r Result) Check() error {
	if _, err := r.Config(); err != nil {
		return err
	}
	if r.Outcome != "pass" && r.Outcome != "fail:"+r.Invariant {
		return fmt.Errorf("outcome %q does not match invariant %q", r.Outcome, r.Invariant)
	}
	if r.Invariant != "" && !invariants.Known(r.Invariant) {
		return fmt.Errorf("unknown invariant %q", r.Invariant)
	}
	if _, err := strconv.ParseUint(r.Trace, 16, 64); err != nil || len(r.Trace) != 16 {
		return fmt.Errorf("trace %q is not 16 hex digits", r.Trace)
	}
	return nil
}

// SeedFile returns the seed file of the result, ready for seeds/.
func (r Result) SeedFile() (sim.SeedFile, error) {
	cfg, err := r.Config()
	if err != nil {
		return sim.SeedFile{}, err
	}
	trace, _ := strconv.ParseUint(r.Trace, 16, 64)
	rep := &sim.Report{Config: cfg, Faults: *cfg.Faults, Step: r.Step, TraceHash: trace}
	desc := fmt.Sprintf("%s: swarm found %s at step %d t=%.3fs: %s", r.Bug, r.Invariant, r.Step, r.SimMs/1000, r.Detail)
	if r.Invariant != "" {
		rep.Violation = &invariants.Violation{Name: invariants.Invariant(r.Invariant), Detail: r.Detail}
	} else {
		desc = fmt.Sprintf("%s: swarm seed passes", r.Bug)
	}
	return sim.NewSeedFile(rep, desc), nil
}

// ParseResult reads one JSON line and checks it (see Check). A line
// without a workload (written before workloads existed) has the default.
func ParseResult(line []byte) (Result, error) {
	var r Result
	if err := json.Unmarshal(line, &r); err != nil {
		return r, err
	}
	if r.Workload == "" {
		r.Workload = "default"
	}
	return r, r.Check()
}

// ReplayLine is the command that replays r's seed, for etcdsim run as prog:
// like sim's, it leaves out what replay takes by default, and the fault
// line when it is the seed's own draw or the mode's world's.
func (r Result) ReplayLine(prog string) (string, error) {
	cfg, err := r.Config()
	if err != nil {
		return "", err
	}
	if r.Faults != sim.WorldOf(cfg.Bugs).Faults {
		drawn := cfg
		drawn.Faults = nil
		if sim.WorldFaults(drawn).String() == r.Faults {
			cfg.Faults = nil
		}
	}
	return (&sim.Report{Config: cfg}).ReplayLineFor(prog), nil
}
