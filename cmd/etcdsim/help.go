package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// command is one subcommand: how it is called, what it does, and the
// function that runs it.
type command struct {
	name     string
	args     string // the usage after the name, positional arguments included
	short    string // one line for the overview
	long     string // what it does, a paragraph
	examples []string
	run      func(args []string, stdout, stderr io.Writer) (int, error)
}

// commands lists the subcommands in the order the overview shows them.
// (The hidden worker, which a swarm starts, is not among them.)
var commands = []*command{
	{name: "run", args: "--seed N [--bug NAME] [--members N] [--faults LINE] [flags]",
		short: "run one world from its seed and check it",
		long: "Runs the world a seed fixes and checks the invariants after every event. With --bug, the\n" +
			"world is that mode's (its cluster size, workload and faults, as `etcdsim bugs` lists them)\n" +
			"unless a flag says otherwise. Prints PASS, or FAIL with the evidence and a replay line.",
		examples: []string{"etcdsim run --seed 42", "etcdsim run --seed 1 --bug ack-before-wal-sync",
			"etcdsim run --seed 7 --members 5 --faults 'net.partition=1/200 crash=1/1000'"}},
	{name: "replay", args: "FILE | --seed N [flags] [-v] [--html FILE]",
		short: "replay a seed file or a seed, with the trace and an HTML timeline",
		long: "Runs a seed file (what a swarm or shrink wrote) or a seed again, says whether it did what the\n" +
			"file recorded, and on a failure writes the HTML timeline next to the seed file (or to\n" +
			"--html; for a bare seed, etcdsim-SEED.html in the working directory).",
		examples: []string{"etcdsim replay out/seeds/auth-ci-5.seed -v", "etcdsim replay --seed 42 --bug stale-read --html /tmp/t.html"}},
	{name: "shrink", args: "FILE [--out FILE] [--budget N]",
		short: "find the smallest plan that still fails the same way",
		long: "Replays a failing seed file as a plan of requests and faults and removes what the failure\n" +
			"does not need; writes FILE with .shrunk.seed (or --out).",
		examples: []string{"etcdsim shrink out/seeds/auth-ci-5.seed"}},
	{name: "swarm", args: "--seeds A..B [--bug NAME] [--shard K/N] [--json FILE] [--out DIR] [flags]",
		short: "run many seeds in worker processes; statistics and the failing seeds",
		long: "Runs a seed range (or shard K of N of it) in worker processes and prints the detection rate,\n" +
			"the invariants that fired and the failing seeds with their replay lines. With --bug, each\n" +
			"seed runs in that mode's world unless a flag says otherwise. Exit 3 when a seed failed.",
		examples: []string{"etcdsim swarm --seeds 1..1000 --bug auth-ci --out out/seeds",
			"etcdsim swarm --seeds 1..100000 --shard 3/8 --json shard-3.jsonl"}},
	{name: "merge", args: "[--json OUT] [--out DIR] FILE...",
		short:    "merge the JSON of swarms run anywhere into one summary",
		long:     "Combines the --json files of shards or swarms run elsewhere, checks they agree, and prints\none summary with the failing seeds. Exit 3 when a seed failed.",
		examples: []string{"etcdsim merge --json all.jsonl shard-*.jsonl"}},
	{name: "table", args: "[--seeds A..B] [--wide | --markdown] [--readme FILE]",
		short:    "the detection table: every bug mode over the same seeds, each in its world",
		examples: []string{"etcdsim table --seeds 1..50", "etcdsim table --seeds 1..1000 --readme README.md"}},
	{name: "check", args: "FILE [--html OUT] [--timeout 1m] [--memory 512]",
		short: "check a history recorded elsewhere for linearizability",
		long: "Reads a client history in the JSON-lines format of docs/check-format.md (with or without\n" +
			"revisions, with unknown outcomes) or the client reports etcd's robustness tests persist, and\n" +
			"checks it against etcd's KV API. Exit 0 linearizable, 4 not, 6 unknown (the search ran out of\n" +
			"its budget, with the reason), 2 bad input (naming the line of the file).",
		examples: []string{"etcdsim check history.jsonl", "etcdsim check client-1/operations.json --html h.html"}},
	{name: "bugs", short: "list the bug modes: etcd issue, mechanism and world",
		examples: []string{"etcdsim bugs"}},
	{name: "catalog", short: "list the invariants, fault kinds, failpoints and bug modes",
		examples: []string{"etcdsim catalog"}},
	{name: "help", args: "[COMMAND]", short: "this overview, or a command's usage and examples",
		examples: []string{"etcdsim help run"}},
}

func init() {
	set := func(name string, f func([]string, io.Writer, io.Writer) (int, error)) { find(name).run = f }
	set("run", func(a []string, o, _ io.Writer) (int, error) { return cmdRun("run", a, o) })
	set("replay", func(a []string, o, _ io.Writer) (int, error) { return cmdRun("replay", a, o) })
	set("shrink", func(a []string, o, _ io.Writer) (int, error) { return cmdShrink(a, o) })
	set("swarm", cmdSwarm)
	set("merge", cmdMerge)
	set("table", cmdTable)
	set("bugs", func(a []string, o, _ io.Writer) (int, error) { return cmdBugs(a, o) })
	set("catalog", func(a []string, o, _ io.Writer) (int, error) { return cmdCatalog(a, o) })
	set("check", func(a []string, o, _ io.Writer) (int, error) { return cmdCheck(a, o) })
	set("help", cmdHelp)
}

func find(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// overview is the go command's manner of help: one line per subcommand.
func overview(w io.Writer) {
	fmt.Fprintf(w, "etcdsim is a deterministic simulation testbed for etcd-like clusters.\n\nUsage:\n\n\t%s <command> [arguments]\n\nThe commands are:\n\n", program())
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-8s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, "\nUse \"%s help <command>\" for more about a command.\n", program())
	fmt.Fprintln(w, "Exit status: 0 clean, 2 bad input, 3 safety violation, 4 not linearizable, 5 liveness,")
	fmt.Fprintln(w, "6 unknown (check ran out of its budget).")
}

// usage prints a command's usage, description, examples and flags.
func usage(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: etcdsim %s %s\n", c.name, c.args)
	if c.long != "" {
		fmt.Fprintf(w, "\n%s\n", c.long)
	} else {
		fmt.Fprintf(w, "\n%s.\n", strings.ToUpper(c.short[:1])+c.short[1:])
	}
	if len(c.examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if fs != nil && hasFlags(fs) {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

func cmdHelp(args []string, stdout, _ io.Writer) (int, error) {
	switch {
	case len(args) == 0:
		overview(stdout)
		return 0, nil
	case len(args) > 1:
		return 0, usagef("help takes one command: %s help COMMAND", program())
	}
	c := find(args[0])
	if c == nil {
		return 0, unknownCommand(args[0])
	}
	if c.name == "help" {
		usage(stdout, c, nil)
		return 0, nil
	}
	// A command prints its own usage with its flags when asked with -h.
	return c.run([]string{"-h"}, stdout, io.Discard)
}

func unknownCommand(name string) error {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	if s := nearest(name, names); s != "" {
		return usagef("unknown command %q; did you mean %q? (%s help lists them)", name, s, program())
	}
	return usagef("unknown command %q (%s help lists them)", name, program())
}

// unknownFlag turns the flag package's error for an undefined flag into
// one that suggests the nearest defined flag.
func unknownFlag(fs *flag.FlagSet, err error) error {
	const prefix = "flag provided but not defined: -"
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		return usagef("%s: %v", fs.Name(), err)
	}
	bad := strings.TrimLeft(strings.TrimPrefix(msg, prefix), "-")
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if s := nearest(bad, names); s != "" {
		return usagef("%s: unknown flag --%s; did you mean --%s? (%s help %s)", fs.Name(), bad, s, program(), fs.Name())
	}
	return usagef("%s: unknown flag --%s (%s help %s lists them)", fs.Name(), bad, program(), fs.Name())
}

// nearest returns the candidate closest to word in edit distance, when it
// is close enough to be a likely typo, or "".
func nearest(word string, candidates []string) string {
	best, bestD := "", max(2, len(word)/3)+1
	for _, c := range candidates {
		if d := editDistance(word, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// program is etcdsim as the user ran it: "go run ./cmd/etcdsim" when go
// run built it into a temporary directory, else the path they typed.
func program() string {
	arg0 := os.Args[0]
	if strings.Contains(arg0, string(filepath.Separator)+"go-build") || strings.HasSuffix(arg0, ".test") {
		return "go run ./cmd/etcdsim"
	}
	return arg0
}

// plain drops the Go package name that errors of etcdsim's packages begin
// with ("nodes: unknown bug mode ..."): a user reads the flag and the
// value, not where in the code the check sits.
func plain(err error) string {
	msg := err.Error()
	for _, pkg := range []string{"nodes", "sim", "wal", "disk", "invariants", "linearizable", "network", "report", "prob", "backend", "mvcc", "snap", "record", "lease", "auth"} {
		if rest, ok := strings.CutPrefix(msg, pkg+": "); ok {
			return rest
		}
	}
	return msg
}

// errHelp is a request for a command's usage: printed on stdout, status 0.
type errHelp struct{ fs *flag.FlagSet }

func (errHelp) Error() string { return "help requested" }

// parseFlags parses args: a bad flag is bad input (one line, status 2);
// -h or --help asks for the command's usage (see errHelp).
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return errHelp{fs}
	}
	if err != nil {
		return unknownFlag(fs, err)
	}
	return nil
}

// shellWrap writes indent and a shell command line, broken, when it is
// wider than width, into lines joined by backslash-newline, so that it
// still pastes as one command: between words, and inside a single-quoted
// word by closing the quote, continuing, and opening it again on the next
// line (the
// continuation joins the two quoted halves into one word, so that line
// starts at its first column).
func shellWrap(indent, line string) string {
	var b strings.Builder
	b.WriteString(indent)
	col := len(indent)
	cont := indent[:len(indent)-len(strings.TrimLeft(indent, " "))] + "    "
	for i, word := range shellWords(line) {
		if i > 0 {
			if col+1+len(word) > width-2 {
				b.WriteString(" \\\n" + cont)
				col = len(cont)
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		for strings.HasPrefix(word, "'") && col+len(word) > width-2 {
			cut := strings.LastIndexByte(word[:max(width-2-col-1, 2)], ' ')
			if cut <= 1 {
				break
			}
			b.WriteString(word[:cut+1] + "'\\\n")
			word, col = "'"+word[cut+1:], 0
		}
		b.WriteString(word)
		col += len(word)
	}
	return b.String()
}

// shellWords splits line at spaces outside single quotes.
func shellWords(line string) []string {
	var words []string
	start, quoted := 0, false
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\'':
			quoted = !quoted
		case line[i] == ' ' && !quoted:
			if i > start {
				words = append(words, line[start:i])
			}
			start = i + 1
		}
	}
	if start < len(line) {
		words = append(words, line[start:])
	}
	return words
}
