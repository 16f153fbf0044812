package swarm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/etcdsim/etcdsim/sim"
)

// ErrSwarmGone is Work's error when it can no longer write a result: the
// swarm that started the worker went away. The worker then exits 1.
var ErrSwarmGone = errors.New("worker: the swarm went away")

// Work is the loop of a worker process: it reads seeds, one per line
// (decimal or 0x-hex), from seeds, runs each in cfg's world in turn (one
// world owns the process at a time) and writes one JSON line per seed to
// results. It returns nil at the end of seeds, ErrSwarmGone when results
// cannot be written, and an error for a line that is not a seed.
//
// Work runs its worlds with the collector at GOGC if that is set, and
// otherwise as sim.Run does by default: off during a world until the heap
// nears sim.MemoryLimit, and between worlds once the heap holds
// sim.CollectAt. A world's live heap is a few MB, so a target of 400%
// collected every few tens of MB allocated, and a worker spent about a
// tenth of its CPU on collections and the allocation and write barriers
// they slow (swarm --parallel 2 of seeds 1..200: 9.3 CPU seconds at 400%,
// 8.8 at 800%, 8.3 off).
func Work(cfg sim.Config, seeds io.Reader, results io.Writer) error {
	if _, set := os.LookupEnv("GOGC"); set {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		sim.SetGCPercent(p)
	} else {
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(sim.MemoryLimit)
		sim.SetGCPercent(-1)
	}
	sc := bufio.NewScanner(seeds)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		seed, err := sim.ParseSeed(line)
		if err != nil {
			return fmt.Errorf("worker: %v", err)
		}
		cfg.Seed = seed
		start := time.Now()
		rep, err := sim.Run(cfg)
		if err != nil {
			return fmt.Errorf("worker: %v", err)
		}
		b, _ := json.Marshal(ResultOf(rep, time.Since(start)))
		if _, err := results.Write(append(b, '\n')); err != nil {
			return ErrSwarmGone
		}
	}
	return sc.Err()
}

// worker is the swarm's handle on one worker process, started on first use
// and restarted after it dies.
type worker struct {
	command []string // Options.Worker and the world's flags
	env     []string // the process's environment (workerEnv)
	cfg     sim.Config
	timeout time.Duration // wall-clock limit per seed (0: none)

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte
	stderr *head

	// queue holds the seeds given to the worker and not answered yet, in
	// order; the process has read (or will read) the first sent of them.
	queue []uint64
	sent  int
}

// newWorker returns the handle on a worker process of cfg's world; the
// process starts on the first seed.
func newWorker(cfg sim.Config, opt Options) *worker {
	command := append(append([]string(nil), opt.Worker...), workerArgs(cfg)...)
	return &worker{command: command, env: workerEnv(os.Environ(), opt.Parallel), cfg: cfg, timeout: opt.SeedTimeout}
}

// workerEnv is the environment of a worker process, one of parallel:
// environ with the Go runtime told, unless environ already says,
//
//   - GOMAXPROCS: the worker's share of this process's processors
//     (runtime.GOMAXPROCS), at least 1. A world is one goroutine, but a
//     worker with a processor to spare runs the collector's mark and sweep
//     there: with a worker
//     per core, that work took its neighbour's core, in more threads and
//     twice the context switches. A lone worker still gets every core.
//   - GODEBUG madvdontneed=0: the runtime gives the memory of a world's
//     heap back with MADV_FREE rather than MADV_DONTNEED, so the next
//     world reuses the pages without a page fault each (1,400 faults per
//     60 s world were a twentieth of a worker's CPU, kernel time that two
//     workers spent in part on each other's locks).
func workerEnv(environ []string, parallel int) []string {
	lookup := func(key string) (string, bool) {
		for i := len(environ) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(environ[i], key+"="); ok {
				return v, true
			}
		}
		return "", false
	}
	env := append([]string(nil), environ...)
	if _, set := lookup("GOMAXPROCS"); !set {
		env = append(env, fmt.Sprintf("GOMAXPROCS=%d", max(1, runtime.GOMAXPROCS(0)/max(parallel, 1))))
	}
	debug, _ := lookup("GODEBUG")
	if !strings.Contains(debug, "madvdontneed=") {
		if debug != "" {
			debug = "," + debug
		}
		env = append(env, "GODEBUG=madvdontneed=0"+debug)
	}
	return env
}

// start starts the process and the goroutine that reads its lines.
func (w *worker) start() error {
	cmd := exec.Command(w.command[0], w.command[1:]...)
	cmd.Env = w.env
	w.stderr = &head{}
	cmd.Stderr = w.stderr
	cmd.WaitDelay = time.Second // grandchildren holding the pipes must not hang Wait
	var err error
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

// push queues a seed; next writes it to the process. A seed queued
// behind the one the process runs is read by the worker as soon as it
// writes its result, without waiting for the swarm to read that result and
// answer with another seed.
func (w *worker) push(seed uint64) { w.queue = append(w.queue, seed) }

// next returns the result of the first queued seed, after writing the
// queued seeds the process does not have yet (to a process started if
// need be). A worker that dies, hangs or writes a malformed line costs
// that seed (a failing result, invariant "panic") and a restart; the seeds
// queued behind it go to the new process. An error means no worker
// process could be started at all.
func (w *worker) next() (Result, error) {
	if w.cmd == nil {
		if err := w.start(); err != nil {
			return Result{}, err
		}
		w.sent = 0
	}
	seed := w.queue[0]
	start := time.Now()
	crash := func(why string) (Result, error) {
		why += w.stop(true)
		w.queue, w.sent = w.queue[1:], 0
		return crashResult(w.cfg, seed, "worker "+why, time.Since(start)), nil
	}
	for ; w.sent < len(w.queue); w.sent++ {
		if _, err := fmt.Fprintf(w.stdin, "%d\n", w.queue[w.sent]); err != nil {
			if w.sent == 0 {
				return crash("could not take the seed")
			}
			break // the process died: reading its result says so
		}
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
		r, err := ParseResult(line)
		if err != nil {
			return crash(fmt.Sprintf("wrote a malformed line (%v)", err))
		}
		c := w.cfg
		if r.Seed != seed || r.Members != c.Members || r.Duration != c.Duration.String() || r.Rate != c.Rate || r.Workload != c.Workload || r.Bug != c.Bugs.String() {
			return crash(fmt.Sprintf("answered seed %d (%s) for seed %d", r.Seed, r.Key(), seed))
		}
		w.queue, w.sent = w.queue[1:], w.sent-1
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

// Write keeps the first 4 KiB and drops the rest.
func (t *head) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if room := 4096 - t.buf.Len(); room > 0 {
		t.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// firstLine returns the first line kept.
func (t *head) firstLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return oneLine(t.buf.String())
}
