package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
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
}

// maxDetail caps the evidence kept in a JSON line; replay gives the rest.
const maxDetail = 400

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// resultOf records a report and the wall time it took.
func resultOf(rep *sim.Report, wall time.Duration) Result {
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
	return r
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

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
	r := resultOf(rep, wall)
	r.WorkerCrash = true
	return r
}

// key identifies the world of a result (everything but the seed).
func (r Result) key() string {
	return fmt.Sprintf("members=%d duration=%s rate=%d workload=%s bug=%s faults=%s", r.Members, r.Duration, r.Rate, r.Workload, r.Bug, r.Faults)
}

// config rebuilds the world's configuration, checking every field as the
// flags are checked. Its fault line stays pinned: an empty one is no faults,
// never the seed's swarm.
func (r Result) config() (sim.Config, error) {
	faults := r.Faults
	if faults == "" {
		faults = "none"
	}
	ws := worldSpec{bug: r.Bug, faults: faults, workload: r.Workload, duration: r.Duration, members: r.Members, rate: r.Rate}
	cfg, err := ws.config()
	cfg.Seed = r.Seed
	return cfg, err
}

// check reports a line that is not a result.
func (r Result) check() error {
	if _, err := r.config(); err != nil {
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

// seedFile returns the seed file of the result, ready for seeds/.
func (r Result) seedFile() (sim.SeedFile, error) {
	cfg, err := r.config()
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

func parseResult(line []byte) (Result, error) {
	var r Result
	if err := json.Unmarshal(line, &r); err != nil {
		return r, err
	}
	if r.Workload == "" {
		r.Workload = "default" // lines written before workloads existed
	}
	return r, r.check()
}

// cmdWorker is the hidden subcommand a swarm runs in each worker process:
// it reads seeds, one per line, on stdin, runs each world in turn (one
// world owns the process at a time) and writes one JSON line per seed.
func cmdWorker(args []string, stdin io.Reader, stdout io.Writer) (int, error) {
	fs := newFlags("worker")
	var ws worldSpec
	ws.register(fs, "each seed's swarm")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	cfg, err := ws.config()
	if err != nil {
		return 0, err
	}
	if _, set := os.LookupEnv("GOGC"); !set {
		// A world's live heap is a few MB, so Go's default collects
		// every few MB allocated and costs a fifth of the worker's CPU
		// (measured on 20s worlds); 400 costs ~15 MB and gives it back.
		debug.SetGCPercent(400)
	}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		seed, err := sim.ParseSeed(line)
		if err != nil {
			return 0, usagef("worker: %v", err)
		}
		cfg.Seed = seed
		start := time.Now()
		rep, err := sim.Run(cfg)
		if err != nil {
			return 0, usagef("worker: %v", err)
		}
		b, _ := json.Marshal(resultOf(rep, time.Since(start)))
		if _, err := stdout.Write(append(b, '\n')); err != nil {
			return 1, nil // the swarm went away
		}
	}
	return 0, sc.Err()
}

// workerCommand returns the command of a worker process; tests replace it.
var workerCommand = func(args []string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return exec.Command(exe, append([]string{"worker"}, args...)...), nil
}

// worker is the swarm's handle on one worker process, started on first use
// and restarted after it dies.
type worker struct {
	args    []string
	cfg     sim.Config
	timeout time.Duration // wall-clock limit per seed (0: none)

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte
	stderr *head
}

func (w *worker) start() error {
	cmd, err := workerCommand(w.args)
	if err != nil {
		return err
	}
	w.stderr = &head{}
	cmd.Stderr = w.stderr
	cmd.WaitDelay = time.Second // grandchildren holding the pipes must not hang Wait
	if w.stdin, err = cmd.StdinPipe(); err != nil {
		return err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("swarm: cannot start a worker: %v", err)
	}
	w.cmd, w.lines = cmd, make(chan []byte)
	go func(lines chan<- []byte) {
		defer close(lines)
		br := bufio.NewReader(out)
		for {
			b, err := br.ReadBytes('\n')
			if err != nil {
				return
			}
			lines <- b
		}
	}(w.lines)
	return nil
}

// run runs one seed. A worker that dies, hangs or writes a malformed line
// costs that seed (a failing result, invariant "panic") and a restart; an
// error means no worker process could be started at all.
func (w *worker) run(seed uint64) (Result, error) {
	if w.cmd == nil {
		if err := w.start(); err != nil {
			return Result{}, err
		}
	}
	start := time.Now()
	crash := func(why string) (Result, error) {
		why += w.stop(true)
		return crashResult(w.cfg, seed, "worker "+why, time.Since(start)), nil
	}
	if _, err := fmt.Fprintf(w.stdin, "%d\n", seed); err != nil {
		return crash("could not take the seed")
	}
	var timer <-chan time.Time
	if w.timeout > 0 {
		t := time.NewTimer(w.timeout)
		defer t.Stop()
		timer = t.C
	}
	select {
	case line, ok := <-w.lines:
		if !ok {
			return crash("died")
		}
		r, err := parseResult(line)
		if err != nil {
			return crash(fmt.Sprintf("wrote a malformed line (%v)", err))
		}
		c := w.cfg
		if r.Seed != seed || r.Members != c.Members || r.Duration != c.Duration.String() || r.Rate != c.Rate || r.Workload != c.Workload || r.Bug != c.Bugs.String() {
			return crash(fmt.Sprintf("answered seed %d (%s) for seed %d", r.Seed, r.key(), seed))
		}
		return r, nil
	case <-timer:
		return crash(fmt.Sprintf("ran longer than %v (killed)", w.timeout))
	}
}

// stop ends the worker process: at once (kill) or by closing its input.
// It returns how the process ended, for a crash report.
func (w *worker) stop(kill bool) string {
	if w.cmd == nil {
		return ""
	}
	w.stdin.Close()
	if kill {
		w.cmd.Process.Kill()
	}
	go func(lines <-chan []byte) { // let the reader see EOF
		for range lines {
		}
	}(w.lines)
	err := w.cmd.Wait()
	w.cmd = nil
	why := ": exit status 0"
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		why = ": " + ee.ProcessState.String()
	case err != nil:
		why = ": " + err.Error()
	}
	if s := w.stderr.firstLine(); s != "" {
		why += ": " + s
	}
	return why
}

// head keeps the first bytes a worker wrote on stderr (a Go panic starts
// with its message, then the stack).
type head struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *head) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := 4096 - t.buf.Len(); room > 0 {
		t.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (t *head) firstLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return oneLine(t.buf.String())
}
