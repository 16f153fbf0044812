package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/etcdsim/etcdsim/report"
	"github.com/etcdsim/etcdsim/sim"
)

// fileArg takes a leading non-flag argument (a seed file) off args.
func fileArg(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// readSeedFile reads a seed file; a file that does not parse, or names an
// unknown bug mode or invariant, is bad input.
func readSeedFile(name string) (*sim.SeedFile, error) {
	text, err := os.ReadFile(name)
	if err != nil {
		return nil, usagef("%v", err)
	}
	sf, err := sim.ParseSeedFile(string(text))
	if err != nil {
		return nil, usagef("%s: %v", name, err)
	}
	return &sf, nil
}

// compareSeedFile says whether the run did what the seed file recorded.
func compareSeedFile(w io.Writer, sf *sim.SeedFile, rep *sim.Report) {
	if sf.Matches(rep) {
		fmt.Fprintf(w, "as recorded: %s at step %d\n", sf.Expect, sf.Step)
		return
	}
	if note := sf.FormatNote(); note != "" {
		fmt.Fprintf(w, "not comparable: the file was %s\n", note)
		return
	}
	fmt.Fprintf(w, "NOT as recorded: the file expects %s at step %d with trace=%016x\n", sf.Expect, sf.Step, sf.Trace)
}

// writeReports writes the HTML timeline, and for a linearizability failure
// porcupine's visualization of the history next to it, linked from it;
// the page ends with the commands that replay and shrink the run of
// seedFile (or of its seed, when "").
func writeReports(w io.Writer, path string, rep *sim.Report, seedFile string) error {
	opts := report.Options{Replay: replayCommand(rep, seedFile), Shrink: report.ShrinkCommands(rep, program(), seedFile)}
	if v := rep.Violation; v != nil && v.Name == "linearizable" {
		lin := strings.TrimSuffix(path, ".html") + "-history.html"
		if err := sim.LinearizabilityHTML(rep, lin, report.Annotations(rep)); err != nil {
			return err
		}
		opts.LinearizabilityHTML = filepath.Base(lin)
		fmt.Fprintf(w, "history: %s\n", lin)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := report.WriteHTML(f, rep, opts); err != nil {
		f.Close()
		return err
	}
	fmt.Fprintf(w, "timeline: %s\n", path)
	return f.Close()
}

// cmdShrink writes the smallest plan that still breaks the same invariant.
func cmdShrink(args []string, stdout io.Writer) (int, error) {
	file, args := fileArg(args)
	fs := newFlags("shrink")
	out := fs.String("out", "", "write the shrunk seed file here (default: FILE with .shrunk.seed)")
	budget := fs.Int("budget", 500, "most worlds to run while shrinking")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if file == "" || fs.NArg() > 0 {
		return 0, usagef("shrink: want one seed file: etcdsim shrink FILE [--out FILE] [--budget N]")
	}
	if *budget < 1 {
		return 0, usagef("shrink: --budget must be positive")
	}
	sf, err := readSeedFile(file)
	if err != nil {
		return 0, err
	}
	sh, err := sim.Shrink(sf.Config, *budget)
	if err != nil {
		return 0, usagef("shrink: %v", err)
	}
	if *out == "" {
		*out = strings.TrimSuffix(file, ".seed") + ".shrunk.seed"
	}
	desc := fmt.Sprintf("shrunk from %s by etcdsim shrink: %s -> %s\n%s", file, sh.Before, sh.After, sh.Report.Violation.Detail)
	if err := os.WriteFile(*out, []byte(sim.NewSeedFile(sh.Report, desc).String()), 0o644); err != nil {
		return 0, err
	}
	fmt.Fprintf(stdout, "%s: %s\n", sh.Report.Outcome(), sh.Before)
	hang(stdout, "", "    ", fmt.Sprintf("shrunk: %s (removed %d client operations, %d faults, %s) in %d runs",
		sh.After, sh.Before.Requests-sh.After.Requests, sh.Before.Faults-sh.After.Faults, sh.Before.Duration-sh.After.Duration, sh.Runs))
	if sh.BudgetExceeded {
		fmt.Fprintf(stdout, "stopped at the budget of %d runs; shrinking again may remove more\n", *budget)
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return 0, nil
}
