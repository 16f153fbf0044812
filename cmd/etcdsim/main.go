// Command etcdsim runs deterministic simulations of etcd-like clusters.
//
//	etcdsim run --seed N [--bug NAME] [--members 3] [--duration 60s] [--faults LINE] [--rate 100] [--workload W] [--churn N]
//	etcdsim replay FILE|--seed N [...] [-v] [--html FILE]
//	etcdsim shrink FILE [--out FILE] [--budget N]
//	etcdsim swarm --seeds A..B [--bug NAME] [--members 3] [--churn N] [--duration 60s] [--faults LINE] [--rate 100]
//	              [--workload W] [--parallel P] [--shard K/N] [--json FILE] [--out DIR] [--seed-timeout 10m]
//	etcdsim merge [--json OUT] [--out DIR] FILE...
//	etcdsim table [--seeds 1..40] [--parallel P] [--markdown] [--readme FILE]
//	etcdsim bugs
//	etcdsim catalog
//
// Exit status: 0 clean, 2 bad input, 3 safety violation, 4 not
// linearizable, 5 liveness. A swarm or merge exits 3 when any seed
// failed, and 1 when it could not run its worker processes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/sim"
	"github.com/etcdsim/etcdsim/swarm"
)

func main() {
	// Go samples one allocation per 512 KiB for a heap profile that no one
	// reads here; the stack walks cost about 1% of a world's instructions.
	runtime.MemProfileRate = 0
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks bad input: one line on stderr, exit status 2.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func usagef(format string, args ...any) error { return errUsage{fmt.Sprintf(format, args...)} }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "etcdsim: missing command (run, replay, shrink, swarm, merge, table, bugs, catalog)")
		return sim.ExitBadInput
	}
	var code int
	var err error
	switch args[0] {
	case "run", "replay":
		code, err = cmdRun(args[0], args[1:], stdout)
	case "shrink":
		code, err = cmdShrink(args[1:], stdout)
	case "table":
		code, err = cmdTable(args[1:], stdout, stderr)
	case "swarm":
		code, err = cmdSwarm(args[1:], stdout, stderr)
	case "merge":
		code, err = cmdMerge(args[1:], stdout, stderr)
	case "worker": // hidden: the process a swarm runs seeds in
		code, err = cmdWorker(args[1:], os.Stdin, stdout)
	case "catalog":
		sim.WriteCatalog(stdout)
	case "bugs":
		code, err = cmdBugs(args[1:], stdout)
	default:
		err = usagef("unknown command %q (run, replay, shrink, swarm, merge, table, bugs, catalog)", args[0])
	}
	if err != nil {
		var u errUsage
		var h errHelp
		if errors.As(err, &h) {
			fmt.Fprintf(stdout, "usage: etcdsim %s [flags]\n", h.fs.Name())
			h.fs.SetOutput(stdout)
			h.fs.PrintDefaults()
			return 0
		}
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "etcdsim: %s\n", u.msg)
			return sim.ExitBadInput
		}
		fmt.Fprintf(stderr, "etcdsim: %v\n", err)
		return sim.ExitBadInput
	}
	return code
}

// newFlags returns a flag set that reports errors as one line, not usage.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args: a bad flag is bad input (one line, status 2);
// -h or -help asks for the command's flags (see errHelp).
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return errHelp{fs}
	}
	if err != nil {
		return usagef("%s: %v", fs.Name(), err)
	}
	return nil
}

// errHelp is a request for a command's flags: printed on stdout, status 0.
type errHelp struct{ fs *flag.FlagSet }

func (errHelp) Error() string { return "help requested" }

func cmdBugs(args []string, stdout io.Writer) (int, error) {
	if len(args) > 0 {
		return 0, usagef("bugs takes no arguments")
	}
	for _, b := range nodes.Catalog() {
		fmt.Fprintf(stdout, "%-24s etcd %-22s %s (caught by %s)\n", b.Name, b.Issue, b.Mechanism, b.CaughtBy)
	}
	return 0, nil
}

// worldFlags are the flags of run and replay: a world and its seed.
type worldFlags struct {
	swarm.World
	seed    string
	steps   uint64
	verbose bool
	html    string
}

func (wf *worldFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&wf.seed, "seed", "", "seed (decimal or 0x-hex)")
	wf.World.AddFlags(fs, "the seed's swarm")
	fs.Uint64Var(&wf.steps, "steps", 0, "stop after this many events (0: no limit)")
	fs.BoolVar(&wf.verbose, "v", false, "print the trace, one line per event")
	fs.StringVar(&wf.html, "html", "", "write the HTML timeline of the run here (replay: by default on a failure)")
}

func (wf *worldFlags) config() (sim.Config, error) {
	if wf.seed == "" {
		return sim.Config{}, usagef("--seed is required")
	}
	seed, err := sim.ParseSeed(wf.seed)
	if err != nil {
		return sim.Config{}, usagef("%v", err)
	}
	cfg, err := wf.World.Config()
	cfg.Seed, cfg.MaxSteps = seed, wf.steps
	return cfg, err
}

func cmdRun(name string, args []string, stdout io.Writer) (int, error) {
	fs := newFlags(name)
	var wf worldFlags
	wf.register(fs)
	file, args := fileArg(args)
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 || file != "" && name != "replay" {
		return 0, usagef("%s: unexpected argument %q", name, strings.Join(append([]string{file}, fs.Args()...), " "))
	}
	var cfg sim.Config
	var sf *sim.SeedFile
	var err error
	if file != "" {
		if sf, err = readSeedFile(file); err != nil {
			return 0, err
		}
		cfg = sf.Config
	} else if cfg, err = wf.config(); err != nil {
		return 0, err
	}
	if wf.verbose {
		cfg.Trace = stdout
	}
	htmlPath := wf.html
	if name == "replay" && htmlPath == "" {
		htmlPath = fmt.Sprintf("etcdsim-%d.html", cfg.Seed)
	}
	cfg.Timeline = htmlPath != ""
	rep, err := sim.Run(cfg)
	if err != nil {
		return 0, usagef("%v", err)
	}
	if wf.verbose {
		fmt.Fprintln(stdout)
	}
	printReport(stdout, rep, file)
	if sf != nil {
		compareSeedFile(stdout, sf, rep)
	}
	if htmlPath != "" && (rep.Violation != nil || wf.html != "") {
		if err := writeReports(stdout, htmlPath, rep, replayCommand(rep, file)); err != nil {
			return 0, err
		}
	}
	return rep.ExitCode(), nil
}

func printReport(w io.Writer, rep *sim.Report, file string) {
	fmt.Fprintln(w, rep.Header())
	fmt.Fprintln(w, rep.StatsLine())
	if v := rep.Violation; v != nil {
		fmt.Fprintf(w, "FAIL %s at step %d t=%s: %s\n", v.Name, rep.Step, sim.FormatTime(rep.At), v.Detail)
		fmt.Fprintf(w, "replay: %s\n", replayCommand(rep, file))
	} else {
		fmt.Fprintln(w, "PASS")
	}
	fmt.Fprintf(w, "trace=%016x\n", rep.TraceHash)
}

// replayCommand is the command that replays a run: from its seed file
// when it came from one (a plan replays only from there), else its flags.
func replayCommand(rep *sim.Report, seedFile string) string {
	if seedFile != "" {
		return "go run ./cmd/etcdsim replay " + seedFile + " -v"
	}
	return rep.ReplayLine()
}
