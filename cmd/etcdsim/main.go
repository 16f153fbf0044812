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
//	etcdsim check FILE [--html OUT] [--timeout 1m] [--memory 512]
//
// Exit status: 0 clean, 2 bad input, 3 safety violation, 4 not
// linearizable, 5 liveness, 6 unknown (check: the search ran out of its
// budget). A swarm or merge exits 3 when any seed
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
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		overview(stdout)
		return 0
	}
	var code int
	var err error
	if c := find(args[0]); c != nil {
		code, err = c.run(args[1:], stdout, stderr)
	} else if args[0] == "worker" { // hidden: the process a swarm runs seeds in
		code, err = cmdWorker(args[1:], os.Stdin, stdout)
	} else {
		err = unknownCommand(args[0])
	}
	if err == nil {
		return code
	}
	var h errHelp
	if errors.As(err, &h) {
		if c := find(h.fs.Name()); c != nil {
			usage(stdout, c, h.fs)
		} else {
			fmt.Fprintf(stdout, "usage: etcdsim %s [flags]\n", h.fs.Name())
			h.fs.SetOutput(stdout)
			h.fs.PrintDefaults()
		}
		return 0
	}
	fmt.Fprintf(stderr, "etcdsim: %s\n", plain(err))
	return sim.ExitBadInput
}

// newFlags returns a flag set that reports errors as one line, not usage.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func cmdCatalog(args []string, stdout io.Writer) (int, error) {
	fs := newFlags("catalog")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, usagef("catalog takes no arguments")
	}
	sim.WriteCatalog(stdout)
	return 0, nil
}

func cmdBugs(args []string, stdout io.Writer) (int, error) {
	fs := newFlags("bugs")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, usagef("bugs takes no arguments")
	}
	worlds := map[string]sim.BugWorld{}
	for _, w := range sim.BugWorlds() {
		worlds[w.Bug] = w
	}
	for i, b := range nodes.Catalog() {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "%s  (etcd %s)\n", b.Name, b.Issue)
		wrap(stdout, "    ", b.Mechanism)
		wrap(stdout, "    ", "world: "+worlds[b.Name].String()+"; caught by "+b.CaughtBy)
	}
	return 0, nil
}

// width is the widest line etcdsim prints by default.
const width = 100

// wrap writes text in lines of at most width columns, each starting with
// indent; a word longer than a line gets a line of its own.
func wrap(w io.Writer, indent, text string) { hang(w, indent, indent, text) }

// hang is wrap with the first line starting with first and the rest with
// indent.
func hang(w io.Writer, first, indent, text string) {
	line, words := first, 0
	for _, word := range strings.Fields(text) {
		if words > 0 && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line, words = indent, 0
		}
		if words > 0 {
			line += " "
		}
		line += word
		words++
	}
	fmt.Fprintln(w, line)
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
	world := ""
	if file != "" {
		if sf, err = readSeedFile(file); err != nil {
			return 0, err
		}
		cfg = sf.Config
	} else {
		world = wf.TakeModeWorld(setFlags(fs))
		if cfg, err = wf.config(); err != nil {
			return 0, err
		}
	}
	if wf.verbose {
		cfg.Trace = stdout
	}
	htmlPath := wf.html
	if name == "replay" && htmlPath == "" {
		htmlPath = defaultHTML(file, cfg)
	}
	cfg.Timeline = htmlPath != ""
	rep, err := sim.Run(cfg)
	if err != nil {
		return 0, usagef("%v", err)
	}
	if wf.verbose {
		fmt.Fprintln(stdout)
	}
	printReport(stdout, rep, file, world)
	if sf != nil {
		compareSeedFile(stdout, sf, rep)
	}
	if htmlPath != "" && (rep.Violation != nil || wf.html != "") {
		if err := writeReports(stdout, htmlPath, rep, file); err != nil {
			return 0, err
		}
	}
	return rep.ExitCode(), nil
}

func printReport(w io.Writer, rep *sim.Report, file, world string) {
	for _, line := range strings.Split(rep.Header(), "\n") {
		hang(w, "", "    ", line)
	}
	if world != "" {
		hang(w, "", "    ", fmt.Sprintf("world: %s's own (%s); a flag overrides it", rep.Config.Bugs, world))
	}
	hang(w, "", "    ", rep.StatsLine())
	if v := rep.Violation; v != nil {
		hang(w, "", "    ", fmt.Sprintf("FAIL %s at step %d t=%s: %s", v.Name, rep.Step, sim.FormatTime(rep.At), v.Detail))
		fmt.Fprintln(w, shellWrap("replay: ", replayCommand(rep, file)))
		if file != "" {
			fmt.Fprintf(w, "smallest failing plan: %s shrink %s\n", program(), file)
		}
	} else {
		fmt.Fprintln(w, "PASS")
	}
	fmt.Fprintf(w, "trace=%016x\n", rep.TraceHash)
}

// replayCommand is the command that replays a run: from its seed file
// when it came from one (a plan replays only from there), else its flags.
func replayCommand(rep *sim.Report, seedFile string) string {
	if seedFile != "" {
		return program() + " replay " + seedFile + " -v"
	}
	return rep.ReplayLineFor(program())
}

// defaultHTML is where replay writes the timeline of a failure: next to
// the seed file, or etcdsim-SEED.html in the working directory.
func defaultHTML(seedFile string, cfg sim.Config) string {
	if seedFile != "" {
		return strings.TrimSuffix(seedFile, ".seed") + ".html"
	}
	return fmt.Sprintf("etcdsim-%d.html", cfg.Seed)
}

// setFlags reports which flags of fs the command line set.
func setFlags(fs *flag.FlagSet) func(string) bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return func(name string) bool { return set[name] }
}
