package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/etcdsim/etcdsim/sim"
)

// swarmFlags are the flags of a swarm: the world, less its seed, and how
// the seeds are farmed.
type swarmFlags struct {
	worldSpec
	seeds, shard, json, out string
	parallel                int
	timeout                 time.Duration
}

// defaultSeedTimeout is the wall-clock limit of one seed in a swarm or a
// table (a world that runs longer is a failing seed, its worker killed).
const defaultSeedTimeout = 10 * time.Minute

func (sf *swarmFlags) register(fs *flag.FlagSet) {
	sf.worldSpec.register(fs, "each seed's swarm")
	fs.StringVar(&sf.seeds, "seeds", "", "seed range A..B (inclusive)")
	fs.StringVar(&sf.shard, "shard", "1/1", "run shard K of N: the seeds s with (s-A) mod N == K-1")
	fs.IntVar(&sf.parallel, "parallel", runtime.NumCPU(), "worker processes")
	fs.StringVar(&sf.json, "json", "", "write one JSON line per seed, in seed order, to this file")
	fs.StringVar(&sf.out, "out", "", "write a seed file for every failing seed into this directory")
	fs.DurationVar(&sf.timeout, "seed-timeout", defaultSeedTimeout, "wall-clock limit of one seed (0: none)")
}

// workerArgs are the flags that give a worker the same world.
func workerArgs(cfg sim.Config) []string {
	args := []string{"--members", strconv.Itoa(cfg.Members), "--duration", cfg.Duration.String(),
		"--rate", strconv.Itoa(cfg.Rate), "--workload", cfg.Workload, "--bug", cfg.Bugs.String()}
	if cfg.Faults != nil {
		args = append(args, "--faults", cfg.Faults.String())
	}
	return args
}

// shard is the part of a seed range one swarm runs: the seeds s of
// first..last with (s-first) mod n == k-1. Shards 1..n of a range
// partition it exactly, and striding (rather than cutting the range into
// blocks) spreads slow seeds evenly.
type shard struct {
	first, last uint64
	k, n        uint64
}

func parseShard(seeds, spec string) (shard, error) {
	var sh shard
	a, b, ok := strings.Cut(seeds, "..")
	if seeds == "" {
		return sh, usagef("swarm: --seeds A..B is required")
	}
	var err1, err2 error
	sh.first, err1 = sim.ParseSeed(a)
	sh.last, err2 = sim.ParseSeed(b)
	if !ok || err1 != nil || err2 != nil || sh.first > sh.last {
		return sh, usagef("swarm: --seeds %q is not a range A..B of seeds with A <= B", seeds)
	}
	if sh.last-sh.first == math.MaxUint64 {
		return sh, usagef("swarm: --seeds %q: the range is too large", seeds)
	}
	k, n, ok := strings.Cut(spec, "/")
	sh.k, err1 = strconv.ParseUint(k, 10, 64)
	sh.n, err2 = strconv.ParseUint(n, 10, 64)
	if !ok || err1 != nil || err2 != nil || sh.k == 0 || sh.k > sh.n {
		return sh, usagef("swarm: --shard %q is not K/N with 1 <= K <= N", spec)
	}
	return sh, nil
}

// count returns how many seeds the shard holds.
func (sh shard) count() uint64 {
	total := sh.last - sh.first + 1
	if sh.k-1 >= total {
		return 0
	}
	return (total-sh.k)/sh.n + 1
}

// seed returns the i-th seed of the shard, i < count().
func (sh shard) seed(i uint64) uint64 { return sh.first + (sh.k - 1) + i*sh.n }

func (sh shard) String() string {
	return fmt.Sprintf("%d..%d shard %d/%d", sh.first, sh.last, sh.k, sh.n)
}

func cmdSwarm(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("swarm")
	var sf swarmFlags
	sf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, usagef("swarm: unexpected argument %q", strings.Join(fs.Args(), " "))
	}
	sh, err := parseShard(sf.seeds, sf.shard)
	if err != nil {
		return 0, err
	}
	if sf.parallel < 1 || sf.parallel > 4096 {
		return 0, usagef("swarm: --parallel %d is not 1..4096", sf.parallel)
	}
	if sf.timeout < 0 {
		return 0, usagef("swarm: --seed-timeout %v is negative", sf.timeout)
	}
	cfg, err := sf.config()
	if err != nil {
		return 0, err
	}
	out, err := newSink(sf.json, sf.out)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	prog := newProgress(stderr, sh.count(), start)
	runErr := farm(sh, cfg, sf.parallel, sf.timeout, func(r Result) error {
		prog.update(r)
		return out.add(r)
	})
	prog.clear()
	if err := out.close(); err != nil && runErr == nil {
		runErr = err
	}
	wall := time.Since(start)
	fmt.Fprintf(stdout, "swarm: seeds %v: %d seeds in %.1fs wall, --parallel %d: %.1f seeds/s\n",
		sh, out.sum.seeds, wall.Seconds(), sf.parallel, float64(out.sum.seeds)/wall.Seconds())
	out.sum.write(stdout)
	if runErr != nil {
		fmt.Fprintf(stderr, "etcdsim: %v\n", runErr)
		return 1, nil
	}
	if out.sum.failing > 0 {
		return sim.ExitSafety, nil
	}
	return sim.ExitClean, nil
}

// farm runs the seeds of sh in p worker processes and hands each result to
// emit, in seed order. It stops at the first error of emit or of starting
// a worker.
func farm(sh shard, cfg sim.Config, p int, timeout time.Duration, emit func(Result) error) error {
	type done struct {
		i   uint64
		r   Result
		err error
	}
	n := sh.count()
	jobs, results, quit := make(chan uint64), make(chan done), make(chan struct{})
	go func() {
		defer close(jobs)
		for i := uint64(0); i < n; i++ {
			select {
			case jobs <- i:
			case <-quit:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range min(uint64(p), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{args: workerArgs(cfg), cfg: cfg, timeout: timeout}
			defer w.stop(false)
			for i := range jobs {
				r, err := w.run(sh.seed(i))
				results <- done{i, r, err}
				if err != nil {
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()
	var fatal error
	pending := map[uint64]Result{} // finished out of order
	next := uint64(0)
	for d := range results {
		if d.err == nil && fatal == nil {
			pending[d.i] = d.r
		} else if fatal == nil {
			fatal = d.err
		}
		for r, ok := pending[next]; ok && fatal == nil; r, ok = pending[next] {
			delete(pending, next)
			next++
			fatal = emit(r)
		}
		if fatal != nil && quit != nil {
			close(quit)
			quit = nil
		}
	}
	return fatal
}

// sink receives results in seed order: the summary, the --json file and
// the --out seed files.
type sink struct {
	sum summary
	f   *os.File
	w   *bufio.Writer
	dir string
}

func newSink(jsonPath, dir string) (*sink, error) {
	s := &sink{dir: dir}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, usagef("--out: %v", err)
		}
	}
	if jsonPath != "" {
		f, err := os.Create(jsonPath)
		if err != nil {
			return nil, usagef("--json: %v", err)
		}
		s.f, s.w = f, bufio.NewWriter(f)
	}
	return s, nil
}

func (s *sink) add(r Result) error {
	s.sum.add(r)
	if s.w != nil {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := s.w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("--json: %v", err)
		}
	}
	if s.dir == "" || r.Invariant == "" {
		return nil
	}
	sf, err := r.seedFile()
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%d.seed", strings.ReplaceAll(r.Bug, ",", "+"), r.Seed)
	if err := os.WriteFile(filepath.Join(s.dir, name), []byte(sf.String()), 0o644); err != nil {
		return fmt.Errorf("--out: %v", err)
	}
	return nil
}

func (s *sink) close() error {
	if s.f == nil {
		return nil
	}
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--json: %v", err)
	}
	return nil
}

// progress is the live line on a terminal: seeds done of total, failures,
// seeds per second and the time left, rewritten in place. It is quiet
// when stderr is not a terminal.
type progress struct {
	w            io.Writer
	total, done  uint64
	failing      uint64
	start, shown time.Time
	width        int
	on           bool
}

func newProgress(w io.Writer, total uint64, start time.Time) *progress {
	p := &progress{w: w, total: total, start: start}
	if f, ok := w.(*os.File); ok {
		fi, err := f.Stat()
		p.on = err == nil && fi.Mode()&os.ModeCharDevice != 0
	}
	return p
}

func (p *progress) update(r Result) {
	p.done++
	if r.Invariant != "" {
		p.failing++
	}
	now := time.Now()
	if !p.on || (now.Sub(p.shown) < 200*time.Millisecond && p.done < p.total) {
		return
	}
	p.shown = now
	rate := float64(p.done) / now.Sub(p.start).Seconds()
	left := "?"
	if rate > 0 {
		left = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	line := fmt.Sprintf("%d/%d seeds  %d failing  %.1f seeds/s  %s left", p.done, p.total, p.failing, rate, left)
	fmt.Fprintf(p.w, "\r%-*s", p.width, line)
	p.width = max(p.width, len(line))
}

func (p *progress) clear() {
	if p.on && p.width > 0 {
		fmt.Fprintf(p.w, "\r%*s\r", p.width, "")
	}
}
