package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/sim"
	"github.com/etcdsim/etcdsim/swarm"
)

// envMain makes the test binary act as etcdsim itself, so that a swarm in
// a test re-executes it (os.Executable) as its worker processes.
const envMain = "ETCDSIM_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envMain) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Setenv(envMain, "1")
	os.Exit(m.Run())
}

// etcdsim runs the command line in process.
func etcdsim(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestBadInputIsOneLineExit2(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\"seed\":1}\nnot json\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"swarm"}, "--seeds A..B is required"},
		{[]string{"swarm", "--seeds", "5"}, "not a range"},
		{[]string{"swarm", "--seeds", "9..1"}, "not a range"},
		{[]string{"swarm", "--seeds", "1..x"}, "not a range"},
		{[]string{"swarm", "--seeds", "0..18446744073709551615"}, "too large"},
		{[]string{"swarm", "--seeds", "1..9", "--shard", "0/3"}, "--shard"},
		{[]string{"swarm", "--seeds", "1..9", "--shard", "4/3"}, "--shard"},
		{[]string{"swarm", "--seeds", "1..9", "--shard", "1/0"}, "--shard"},
		{[]string{"swarm", "--seeds", "1..9", "--shard", "2"}, "--shard"},
		{[]string{"swarm", "--seeds", "1..9", "--parallel", "0"}, "--parallel"},
		{[]string{"swarm", "--seeds", "1..9", "--bug", "nosuch"}, "unknown bug mode"},
		{[]string{"swarm", "--seeds", "1..9", "--faults", "crash=1/"}, "crash"},
		{[]string{"swarm", "--seeds", "1..9", "--faults", "bogus=1/2"}, "unknown fault kind"},
		{[]string{"swarm", "--seeds", "1..9", "--faults", "fp.raftBeforeAplySnap=1/2"}, `unknown failpoint "raftBeforeAplySnap"`},
		{[]string{"swarm", "--seeds", "1..9", "--faults", "fp.raftBeforeApplySnap=0"}, "never fires"},
		{[]string{"swarm", "--seeds", "1..9", "--members", "9"}, "members"},
		{[]string{"swarm", "--seeds", "1..9", "--duration", "soon"}, "duration"},
		{[]string{"swarm", "--seeds", "1..9", "--workload", "nosuch"}, "unknown workload"},
		{[]string{"swarm", "--seeds", "1..9", "extra"}, "unexpected argument"},
		{[]string{"merge"}, "no files"},
		{[]string{"merge", filepath.Join(dir, "missing.jsonl")}, "missing.jsonl"},
		{[]string{"merge", bad}, "bad.jsonl:1: malformed"},
		{[]string{"swarm", "--seeds", "1..3", "--json", filepath.Join(bad, "x")}, "etcdsim: --json: open "},
		{[]string{"swarm", "--seeds", "1..3", "--out", filepath.Join(bad, "x")}, "etcdsim: --out: mkdir "},
		{[]string{"table", "--seeds", "9..1"}, "etcdsim: swarm: --seeds \"9..1\" is not a range"},
		{[]string{"swarm", "--seeds", "1..3", "--probe", "snap/sned"}, `unknown probe "snap/sned"; did you mean "snap/send"?`},
		{[]string{"merge", "--probe", "nosuch", bad}, `merge: unknown probe "nosuch"`},
		{[]string{"table", "--seeds", "1..2", "--probe", "nosuch"}, `table: unknown probe "nosuch"`},
		{[]string{"table", "--seeds", "1..2", "--readme", bad}, "etcdsim: table: " + bad + " has no <!-- detection-table -->"},
	} {
		code, stdout, stderr := etcdsim(t, tc.args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// readLines reads a --json file.
func readLines(t *testing.T, path string) []swarm.Result {
	t.Helper()
	var rs []swarm.Result
	if err := swarm.ReadFile(path, func(r swarm.Result, _ string) { rs = append(rs, r) }); err != nil {
		t.Fatal(err)
	}
	return rs
}

// body drops a command's first line (its own heading) and the wall-clock
// line, which differs between runs, leaving the summary.
func body(out string) string {
	var keep []string
	for i, l := range strings.Split(out, "\n") {
		if i > 0 && !strings.HasPrefix(l, "  wall ") && !strings.HasPrefix(l, "world: ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestMergeOfShardsEqualsUnsharded(t *testing.T) {
	dir := t.TempDir()
	world := []string{"swarm", "--seeds", "1..16", "--duration", "5s", "--members", "1", "--bug", "defrag-no-ci-hook", "--parallel", "2"}
	all, s1, s2, merged := filepath.Join(dir, "all"), filepath.Join(dir, "s1"), filepath.Join(dir, "s2"), filepath.Join(dir, "merged")
	code, wholeOut, stderr := etcdsim(t, append(world, "--json", all)...)
	if code != 0 && code != 3 || stderr != "" {
		t.Fatalf("swarm: exit %d: %s", code, stderr)
	}
	etcdsim(t, append(world, "--json", s1, "--shard", "1/2")...)
	etcdsim(t, append(world, "--json", s2, "--shard", "2/2", "--out", filepath.Join(dir, "seeds"))...)
	mcode, mergedOut, stderr := etcdsim(t, "merge", "--json", merged, s2, s1, s2) // s2 twice: deduplicated
	if mcode != code || stderr != "" {
		t.Fatalf("merge: exit %d (swarm %d): %s", mcode, code, stderr)
	}
	if got, want := body(mergedOut), body(wholeOut); got != want {
		t.Errorf("merged summary:\n%s\nunsharded summary:\n%s", got, want)
	}
	whole, m := readLines(t, all), readLines(t, merged)
	if len(whole) != 16 || len(m) != 16 {
		t.Fatalf("unsharded %d lines, merged %d lines, want 16", len(whole), len(m))
	}
	for i := range whole {
		if whole[i].Seed != uint64(i+1) {
			t.Fatalf("line %d has seed %d: not in seed order", i+1, whole[i].Seed)
		}
		a, b := whole[i], m[i]
		a.WallMs, b.WallMs, a.LinMs, b.LinMs = 0, 0, 0, 0 // wall clock readings differ
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Errorf("seed %d:\nunsharded %s\nmerged    %s", a.Seed, ja, jb)
		}
	}
	failing := 0
	for _, r := range readLines(t, s2) {
		if r.Invariant != "" {
			failing++
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "seeds", "defrag-no-ci-hook-*.seed")); len(files) != failing {
		t.Errorf("%d seed files for %d failing seeds of shard 2", len(files), failing)
	}
	// The same lines give the same summary, wall times and all.
	_, again, _ := etcdsim(t, "merge", all)
	if got, want := strings.SplitN(again, "\n", 2)[1], strings.SplitN(wholeOut, "\n", 3)[2]; got != want {
		t.Errorf("merge of the unsharded file:\n%s\nswarm printed:\n%s", got, want)
	}
}

func TestMergeReportsConflicts(t *testing.T) {
	dir := t.TempDir()
	rep, err := sim.Run(sim.Config{Seed: 1, Members: 3, Duration: 2 * time.Second, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	r := swarm.ResultOf(rep, 0)
	a, _ := json.Marshal(r)
	r.Trace = "00000000deadbeef"
	b, _ := json.Marshal(r)
	fa, fb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(fa, append(a, '\n'), 0o644)
	os.WriteFile(fb, append(b, '\n'), 0o644)
	code, stdout, stderr := etcdsim(t, "merge", fa, fb)
	if !strings.Contains(stdout, "merge: 1 seeds") || !strings.Contains(stderr, "keeping the first") || code == 2 {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}
