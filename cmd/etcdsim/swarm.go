package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/sim"
	"github.com/etcdsim/etcdsim/swarm"
)

// swarmFlags are the flags of a swarm: the world, less its seed, and how
// the seeds are farmed.
type swarmFlags struct {
	swarm.World
	seeds, shard, json, out string
	parallel                int
	timeout                 time.Duration
	cov                     coverageFlags
}

func (sf *swarmFlags) register(fs *flag.FlagSet) {
	sf.World.AddFlags(fs, "each seed's swarm")
	fs.StringVar(&sf.seeds, "seeds", "", "seed range A..B (inclusive)")
	fs.StringVar(&sf.shard, "shard", "1/1", "run shard K of N: the seeds s with (s-A) mod N == K-1")
	fs.IntVar(&sf.parallel, "parallel", runtime.NumCPU(), "worker processes")
	fs.StringVar(&sf.json, "json", "", "write one JSON line per seed, in seed order, to this file")
	fs.StringVar(&sf.out, "out", "", "write a seed file for every failing seed into this directory")
	fs.DurationVar(&sf.timeout, "seed-timeout", swarm.DefaultSeedTimeout, "wall-clock limit of one seed (0: none)")
	sf.cov.register(fs)
}

// parseShard reads --seeds and --shard (table: the whole range).
func parseShard(seeds, spec string) (swarm.Shard, error) {
	if seeds == "" {
		return swarm.Shard{}, usagef("swarm: --seeds A..B is required")
	}
	first, last, err := swarm.ParseSeeds(seeds)
	if err != nil {
		return swarm.Shard{}, usagef("swarm: --seeds %v", err)
	}
	k, n, err := swarm.ParseShard(spec)
	if err != nil {
		return swarm.Shard{}, usagef("swarm: --shard %v", err)
	}
	return swarm.Shard{First: first, Last: last, K: k, N: n}, nil
}

// options are the swarm's worker processes: this binary's hidden worker
// subcommand.
func options(parallel int, timeout time.Duration) (swarm.Options, error) {
	exe, err := os.Executable()
	return swarm.Options{Worker: []string{exe, "worker"}, Parallel: parallel, SeedTimeout: timeout}, err
}

// flagged names a sink's output in an error by its flag.
func flagged(err error) error {
	var oe *swarm.OutputError
	if !errors.As(err, &oe) {
		return err
	}
	name := map[string]string{swarm.OutputJSON: "--json", swarm.OutputSeeds: "--out"}[oe.Output]
	return fmt.Errorf("%s: %v", name, oe.Err)
}

// cmdSwarm runs a seed range (or one shard of it) in worker processes and
// prints its summary; it exits 3 when a seed failed, 1 when the workers
// could not run or the output could not be written.
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
	if err := sf.cov.check("swarm"); err != nil {
		return 0, err
	}
	world := sf.TakeModeWorld(setFlags(fs))
	if sf.parallel < 1 || sf.parallel > 4096 {
		return 0, usagef("swarm: --parallel %d is not 1..4096", sf.parallel)
	}
	if sf.timeout < 0 {
		return 0, usagef("swarm: --seed-timeout %v is negative", sf.timeout)
	}
	cfg, err := sf.Config()
	if err != nil {
		return 0, err
	}
	out, err := swarm.NewSink(sf.json, sf.out)
	if err != nil {
		return 0, flagged(err)
	}
	start := time.Now()
	prog := swarm.NewProgress(stderr, sh.Count(), start)
	opt, runErr := options(sf.parallel, sf.timeout)
	if runErr == nil {
		runErr = swarm.Run(sh, cfg, opt, func(r swarm.Result) error {
			prog.Update(r)
			return flagged(out.Add(r))
		})
	}
	prog.Clear()
	if err := out.Close(); err != nil && runErr == nil {
		runErr = flagged(err)
	}
	wall := time.Since(start)
	fmt.Fprintf(stdout, "swarm: seeds %v: %d seeds in %.1fs wall, --parallel %d: %.1f seeds/s\n",
		sh, out.Summary.Seeds, wall.Seconds(), sf.parallel, float64(out.Summary.Seeds)/wall.Seconds())
	if world != "" {
		fmt.Fprintf(stdout, "world: %s's own (%s); a flag overrides it\n", sf.Bug, world)
	}
	out.Summary.Write(stdout)
	sf.cov.write(stdout, &out.Summary.Coverage)
	printFailing(stdout, &out.Summary, sf.out)
	if runErr != nil {
		fmt.Fprintf(stderr, "etcdsim: %v\n", runErr)
		return 1, nil
	}
	return exitOf(out.Summary), nil
}

// exitOf is a swarm's (or merge's) exit status: 3 when any seed failed.
func exitOf(s swarm.Summary) int {
	if s.Failing > 0 {
		return sim.ExitSafety
	}
	return sim.ExitClean
}

// cmdMerge combines the JSON lines of swarms run anywhere (shards of one
// range, or runs of several configs) into one summary. Its exit status is
// a swarm's: 0 when every seed passed, 3 when any failed, 2 on bad input.
func cmdMerge(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("merge")
	var jsonOut, dir string
	fs.StringVar(&jsonOut, "json", "", "write the merged lines, sorted by seed, to this file")
	fs.StringVar(&dir, "out", "", "write a seed file for every failing seed into this directory")
	var cov coverageFlags
	cov.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if err := cov.check("merge"); err != nil {
		return 0, err
	}
	if fs.NArg() == 0 {
		return 0, usagef("merge: no files (etcdsim merge [--json OUT] FILE...)")
	}
	rs, err := swarm.Merge(fs.Args(), func(c swarm.Conflict) {
		fmt.Fprintf(stderr, "etcdsim: merge: seed %d (%s): %s has %s trace=%s but %s has %s trace=%s; keeping the first\n",
			c.Kept.Seed, c.Kept.Key(), c.KeptAt, c.Kept.Outcome, c.Kept.Trace, c.DroppedAt, c.Dropped.Outcome, c.Dropped.Trace)
	})
	if err != nil {
		return 0, err
	}
	out, err := swarm.NewSink(jsonOut, dir)
	if err != nil {
		return 0, flagged(err)
	}
	for _, r := range rs {
		if err := out.Add(r); err != nil {
			out.Close()
			return 0, flagged(err)
		}
	}
	if err := out.Close(); err != nil {
		return 0, flagged(err)
	}
	fmt.Fprintf(stdout, "merge: %d seeds from %d files\n", len(rs), fs.NArg())
	out.Summary.Write(stdout)
	cov.write(stdout, &out.Summary.Coverage)
	printFailing(stdout, &out.Summary, dir)
	return exitOf(out.Summary), nil
}

// cmdTable runs the correct model and every bug mode over the same seeds
// in its world, and prints the detection table (make run; with --markdown
// and --readme, the table in README.md).
func cmdTable(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("table")
	seeds := fs.String("seeds", "1..40", "seed range A..B")
	parallel := fs.Int("parallel", runtime.NumCPU(), "worker processes")
	markdown := fs.Bool("markdown", false, "print a markdown table (all columns)")
	wide := fs.Bool("wide", false, "print all columns: seeds, first invariant, median wall time")
	readme := fs.String("readme", "", "replace the table between the detection-table markers of this file")
	var cov coverageFlags
	cov.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if err := cov.check("table"); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, usagef("table: unexpected argument %q", strings.Join(fs.Args(), " "))
	}
	sh, err := parseShard(*seeds, "1/1")
	if err != nil {
		return 0, err
	}
	if *parallel < 1 {
		return 0, usagef("table: --parallel must be positive")
	}
	start := time.Now()
	opt, err := options(*parallel, swarm.DefaultSeedTimeout)
	if err != nil {
		return 1, err
	}
	rows, err := swarm.Table(sh, opt, stderr)
	if err != nil {
		return 1, err
	}
	style := swarm.Narrow
	switch {
	case *markdown || *readme != "":
		style = swarm.Markdown
	case *wide:
		style = swarm.Wide
	}
	text := swarm.RenderTable(rows, *seeds, style, time.Since(start))
	if *readme != "" {
		return 0, spliceReadme(*readme, text)
	}
	fmt.Fprint(stdout, text)
	fmt.Fprintf(stdout, "\ncorrect model (%s), ", rows[0].World.Bug)
	cov.write(stdout, &rows[0].Coverage)
	return 0, nil
}

// spliceReadme replaces the table between the markers of the file path.
func spliceReadme(path, table string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s, err := swarm.SpliceTable(string(raw), table)
	if err != nil {
		return usagef("table: %s has %v", path, err)
	}
	return os.WriteFile(path, []byte(s), 0o644)
}

// cmdWorker is the hidden subcommand a swarm runs in each worker process
// (see swarm.Work): seeds on stdin, one JSON line per seed on stdout.
func cmdWorker(args []string, stdin io.Reader, stdout io.Writer) (int, error) {
	fs := newFlags("worker")
	var w swarm.World
	w.AddFlags(fs, "each seed's swarm")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	cfg, err := w.Config()
	if err != nil {
		return 0, err
	}
	err = swarm.Work(cfg, stdin, stdout)
	if errors.Is(err, swarm.ErrSwarmGone) {
		return 1, nil
	}
	return 0, err
}

// printFailing names the failing seeds of a summary, the first ten with
// their replay lines, and says where their seed files are (dir, from --out).
func printFailing(w io.Writer, s *swarm.Summary, dir string) {
	if s.Failing == 0 {
		return
	}
	fmt.Fprintf(w, "failing seeds")
	if s.Failing > len(s.First) {
		fmt.Fprintf(w, " (the first %d of %d)", len(s.First), s.Failing)
	}
	fmt.Fprintln(w, ":")
	for _, r := range s.First {
		hang(w, "  ", "      ", fmt.Sprintf("seed %d: %s at t=%.3fs: %s", r.Seed, r.Invariant, r.SimMs/1000, r.Detail))
		if line, err := r.ReplayLine(program()); err == nil {
			fmt.Fprintln(w, shellWrap("    ", line))
		}
	}
	if dir != "" {
		fmt.Fprintf(w, "seed files: %s\n", filepath.Join(dir, "<bug>-<seed>.seed"))
		fmt.Fprintf(w, "  replay one: %s replay FILE -v; shrink it: %s shrink FILE\n", program(), program())
	} else {
		fmt.Fprintln(w, "no seed files written: add --out DIR to write one per failing seed")
	}
}
