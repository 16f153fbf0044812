package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunBadInputIsOneLineExit2(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.seed")
	os.WriteFile(bad, []byte("seed: 1\nmembers: 3\nduration: 10s\nrate: 100\nbug: none\nfaults: none\nexpect: fail:no-such-invariant\nstep: 0\ntrace: 0\n"), 0o644)
	badBug := filepath.Join(dir, "badbug.seed")
	os.WriteFile(badBug, []byte("seed: 1\nbug: nosuch\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"swram"}, `did you mean "swarm"?`},
		{[]string{"help", "rn"}, `did you mean "run"?`},
		{[]string{"run"}, "--seed is required"},
		{[]string{"run", "--seed", "x"}, "not a decimal"},
		{[]string{"run", "--seed", "1", "--bug", "nosuch"}, "unknown bug mode"},
		{[]string{"run", "--seed", "1", "--faults", "crash=3/2"}, "above 1"},
		{[]string{"run", "--seed", "1", "--members", "0"}, "members"},
		{[]string{"run", "--seed", "1", "--duration", "-1s"}, "duration"},
		{[]string{"run", "--seed", "1", "--nosuchflag"}, "unknown flag --nosuchflag"},
		{[]string{"run", "--seed", "1", "--membrs", "5"}, "did you mean --members?"},
		{[]string{"swarm", "--seeds", "1..2", "--parralel", "1"}, "did you mean --parallel?"},
		{[]string{"run", "file.seed"}, "unexpected argument"},
		{[]string{"replay", filepath.Join(dir, "missing.seed")}, "missing.seed"},
		{[]string{"replay", bad}, "unknown invariant"},
		{[]string{"replay", badBug}, "unknown bug mode"},
		{[]string{"shrink"}, "want one seed file"},
		{[]string{"shrink", bad}, "unknown invariant"},
		{[]string{"shrink", bad, "--budget", "0"}, "budget"},
		{[]string{"bugs", "extra"}, "no arguments"},
	} {
		code, stdout, stderr := etcdsim(t, tc.args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

func TestReplayAndShrinkSeedFile(t *testing.T) {
	dir := t.TempDir()
	src, err := filepath.Abs("../../seeds/auth-ci-2.seed")
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := etcdsim(t, "replay", src, "--html", filepath.Join(dir, "t.html"))
	if code != 3 || !strings.Contains(out, "as recorded: fail:commit-atomicity") || !strings.Contains(out, "timeline: ") {
		t.Fatalf("replay: exit %d\n%s", code, out)
	}
	if fi, err := os.Stat(filepath.Join(dir, "t.html")); err != nil || fi.Size() < 1000 {
		t.Fatalf("no timeline written: %v", err)
	}
	shrunk := filepath.Join(dir, "s.seed")
	code, out, _ = etcdsim(t, "shrink", src, "--out", shrunk)
	if code != 0 || !strings.Contains(out, "shrunk:") {
		t.Fatalf("shrink: exit %d\n%s", code, out)
	}
	code, out, _ = etcdsim(t, "replay", shrunk, "--html", filepath.Join(dir, "s.html"))
	if code != 3 || !strings.Contains(out, "as recorded") {
		t.Fatalf("replay of the shrunk file: exit %d\n%s", code, out)
	}
}

// TestHelp: -h (or -help, --help, help CMD) prints a command's usage, with
// its positional arguments, examples and flags, on stdout and exits 0; no
// arguments, help, -h and --help print the overview.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"run", "-h"}, {"replay", "--help"}, {"shrink", "-h"}, {"swarm", "-h"},
		{"merge", "-h"}, {"table", "-help"}, {"help", "run"}, {"help", "check"}, {"bugs", "-h"}} {
		name := args[0]
		if name == "help" {
			name = args[1]
		}
		code, stdout, stderr := etcdsim(t, args...)
		if code != 0 || stderr != "" || !strings.HasPrefix(stdout, "usage: etcdsim "+name+" ") || !strings.Contains(stdout, "\nExamples:\n") {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit 0 and the usage on stdout", args, code, stderr, stdout)
		}
		checkWidth(t, args, stdout)
	}
	for _, args := range [][]string{{}, {"help"}, {"-h"}, {"--help"}} {
		code, stdout, stderr := etcdsim(t, args...)
		if code != 0 || stderr != "" || !strings.Contains(stdout, "\n\trun      run one world") || !strings.Contains(stdout, "help <command>") {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit 0 and the overview", args, code, stderr, stdout)
		}
		checkWidth(t, args, stdout)
	}
	_, stdout, _ := etcdsim(t, "bugs")
	checkWidth(t, []string{"bugs"}, stdout)
}

// checkWidth fails when out has a line wider than etcdsim prints by default.
func checkWidth(t *testing.T, args []string, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(strings.ReplaceAll(line, "\t", "        "))); n > width {
			t.Errorf("%q: a line of %d columns: %q", args, n, line)
		}
	}
}

// TestFirstContact: a bug mode runs in its own world by default and says
// so, a flag overrides it, swarm and merge name the failing seeds with
// their replay lines, and nothing is wider than 100 columns.
func TestFirstContact(t *testing.T) {
	code, out, _ := etcdsim(t, "run", "--seed", "1", "--bug", "ack-before-wal-sync", "--duration", "5s")
	if code != 3 || !strings.Contains(out, "members=1 ") || !strings.Contains(out, "world: ack-before-wal-sync's own (1 member, default)") ||
		!strings.Contains(out, "replay: "+program()+" replay --seed 1 --bug ack-before-wal-sync --duration 5s -v") {
		t.Errorf("run in the mode's world: exit %d\n%s", code, out)
	}
	checkWidth(t, []string{"run"}, out)
	if _, out, _ := etcdsim(t, "run", "--seed", "1", "--bug", "ack-before-wal-sync", "--members", "3", "--duration", "2s"); !strings.Contains(out, "members=3 ") {
		t.Errorf("--members 3 does not override the mode's world:\n%s", out)
	}
	dir := t.TempDir()
	js := filepath.Join(dir, "s.jsonl")
	code, out, _ = etcdsim(t, "swarm", "--seeds", "1..3", "--bug", "ack-before-wal-sync", "--duration", "5s", "--parallel", "1", "--json", js, "--out", dir)
	if code != 3 || !strings.Contains(out, "failing seeds:\n  seed 1: ") || !strings.Contains(out, "    "+program()+" replay --seed 2 --bug ack-before-wal-sync --duration 5s -v") ||
		!strings.Contains(out, "seed files: "+filepath.Join(dir, "<bug>-<seed>.seed")) {
		t.Errorf("swarm: exit %d\n%s", code, out)
	}
	checkWidth(t, []string{"swarm"}, out)
	code, out, _ = etcdsim(t, "merge", js)
	if code != 3 || !strings.Contains(out, "  seed 3: ") || !strings.Contains(out, "add --out DIR") {
		t.Errorf("merge: exit %d\n%s", code, out)
	}
	checkWidth(t, []string{"merge"}, out)
	_, out, _ = etcdsim(t, "catalog")
	checkWidth(t, []string{"catalog"}, out)
}

func TestShellWrapPastesAsOneCommand(t *testing.T) {
	line := "etcdsim replay --seed 7 --faults 'disk.torn_write=1/2 disk.slow=1/500 net.dup=1/100 net.reorder=1/5 net.oneway=1/2000 crash=1/1000 failpoint=1/4@fire=1/500 pause=1/3000' -v"
	got := shellWrap("replay: ", line)
	checkWidth(t, []string{"shellWrap"}, got)
	// What a shell reads: a backslash-newline outside quotes is removed.
	// What a shell reads: a backslash-newline outside quotes is removed, and
	// quoted pieces next to each other are one word.
	joined := strings.ReplaceAll(strings.TrimPrefix(got, "replay: "), "\\\n", "")
	unquoted := func(s string) string { return strings.Join(shellWords(strings.ReplaceAll(s, "''", "")), " ") }
	if words := shellWords(joined); unquoted(joined) != unquoted(line) {
		t.Errorf("wrapped:\n%s\nreads as %q", got, words)
	}
}
