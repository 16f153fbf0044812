package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/sim"
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

func TestShardPartitionIsExact(t *testing.T) {
	for _, tc := range []struct{ first, last, n uint64 }{
		{1, 1, 1}, {1, 1, 3}, {0, 9, 1}, {0, 9, 3}, {5, 104, 7}, {10, 12, 5},
		{100, 1099, 10}, {math.MaxUint64 - 20, math.MaxUint64, 4}, {0, 1000, 1001},
	} {
		seen := map[uint64]uint64{} // seed -> shard
		for k := uint64(1); k <= tc.n; k++ {
			sh := shard{first: tc.first, last: tc.last, k: k, n: tc.n}
			prev := uint64(0)
			for i := uint64(0); i < sh.count(); i++ {
				s := sh.seed(i)
				if s < tc.first || s > tc.last {
					t.Fatalf("%v: seed %d outside the range", sh, s)
				}
				if i > 0 && s <= prev {
					t.Fatalf("%v: seeds not increasing: %d after %d", sh, s, prev)
				}
				if (s-tc.first)%tc.n != k-1 {
					t.Fatalf("%v: seed %d is not in shard %d", sh, s, k)
				}
				if other, dup := seen[s]; dup {
					t.Fatalf("%v: seed %d also in shard %d", sh, s, other)
				}
				seen[s], prev = k, s
			}
		}
		if want := tc.last - tc.first + 1; uint64(len(seen)) != want {
			t.Fatalf("%d..%d in %d shards: %d seeds covered, want %d", tc.first, tc.last, tc.n, len(seen), want)
		}
	}
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
		{[]string{"swarm", "--seeds", "1..9", "--members", "9"}, "members"},
		{[]string{"swarm", "--seeds", "1..9", "--duration", "soon"}, "duration"},
		{[]string{"swarm", "--seeds", "1..9", "--workload", "nosuch"}, "unknown workload"},
		{[]string{"swarm", "--seeds", "1..9", "extra"}, "unexpected argument"},
		{[]string{"merge"}, "no files"},
		{[]string{"merge", filepath.Join(dir, "missing.jsonl")}, "missing.jsonl"},
		{[]string{"merge", bad}, "bad.jsonl:1: malformed"},
	} {
		code, stdout, stderr := etcdsim(t, tc.args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// readLines reads a --json file.
func readLines(t *testing.T, path string) []Result {
	t.Helper()
	var rs []Result
	if err := readResults(path, func(r Result, _ string) { rs = append(rs, r) }); err != nil {
		t.Fatal(err)
	}
	return rs
}

// body drops a command's first line (its own heading) and the wall-clock
// line, which differs between runs, leaving the summary.
func body(out string) string {
	var keep []string
	for i, l := range strings.Split(out, "\n") {
		if i > 0 && !strings.HasPrefix(l, "  wall ") {
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
	if got, want := strings.SplitN(again, "\n", 2)[1], strings.SplitN(wholeOut, "\n", 2)[1]; got != want {
		t.Errorf("merge of the unsharded file:\n%s\nswarm printed:\n%s", got, want)
	}
}

func TestMergeReportsConflicts(t *testing.T) {
	dir := t.TempDir()
	r := resultOf(runWorld(t, 1), 0)
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

// fakeWorker points the swarm's worker processes at a shell script for
// the duration of a test. The script gets the worker's flags as "$@" and
// the real worker (this test binary) as $BIN.
func fakeWorker(t *testing.T, script string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	saved := workerCommand
	t.Cleanup(func() { workerCommand = saved })
	workerCommand = func(args []string) (*exec.Cmd, error) {
		cmd := exec.Command("sh", append([]string{"-c", script, "sh"}, args...)...)
		cmd.Env = append(os.Environ(), "BIN="+exe)
		return cmd, nil
	}
}

func swarmJSON(t *testing.T, args ...string) (int, []Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.jsonl")
	code, _, stderr := etcdsim(t, append([]string{"swarm", "--duration", "2s", "--json", path}, args...)...)
	if code != 0 && code != 3 {
		t.Fatalf("swarm exit %d: %s", code, stderr)
	}
	return code, readLines(t, path)
}

func TestWorkerCrashIsAFailingSeed(t *testing.T) {
	fakeWorker(t, "exit 3")
	code, rs := swarmJSON(t, "--seeds", "1..5", "--parallel", "2")
	if code != 3 || len(rs) != 5 {
		t.Fatalf("exit %d with %d results, want 3 with 5", code, len(rs))
	}
	for _, r := range rs {
		if r.Outcome != "fail:panic" || !r.WorkerCrash || !strings.Contains(r.Detail, "exit status 3") {
			t.Errorf("seed %d: %s %q, want fail:panic from a worker crash", r.Seed, r.Outcome, r.Detail)
		}
		if r.Faults == "" || len(r.FaultKinds) == 0 && r.Faults != "none" {
			t.Errorf("seed %d: no fault line %q", r.Seed, r.Faults)
		}
	}
}

func TestSwarmContinuesAfterWorkerCrash(t *testing.T) {
	// Seed 3 kills its worker; the others run in real workers, one per seed.
	fakeWorker(t, `while read s; do
		if [ "$s" = 3 ]; then echo "panic: boom" >&2; exit 2; fi
		echo "$s" | "$BIN" worker "$@" || exit 1
	done`)
	_, rs := swarmJSON(t, "--seeds", "1..6", "--parallel", "2")
	if len(rs) != 6 {
		t.Fatalf("%d results, want 6", len(rs))
	}
	for _, r := range rs {
		crashed := r.Outcome == "fail:panic" && r.WorkerCrash && strings.Contains(r.Detail, "panic: boom")
		if crashed != (r.Seed == 3) || r.Seed != 3 && r.Trace == "0000000000000000" {
			t.Errorf("seed %d: %s worker_crash=%v %q", r.Seed, r.Outcome, r.WorkerCrash, r.Detail)
		}
	}
}

func TestWorkerGarbageAndHang(t *testing.T) {
	fakeWorker(t, `while read s; do echo "not json"; done`)
	_, rs := swarmJSON(t, "--seeds", "7..8", "--parallel", "1")
	for _, r := range rs {
		if r.Outcome != "fail:panic" || !strings.Contains(r.Detail, "malformed") {
			t.Errorf("seed %d: %s %q, want a malformed-line crash", r.Seed, r.Outcome, r.Detail)
		}
	}
	fakeWorker(t, `read s; sleep 30`)
	_, rs = swarmJSON(t, "--seeds", "9..9", "--seed-timeout", "100ms")
	if len(rs) != 1 || rs[0].Outcome != "fail:panic" || !strings.Contains(rs[0].Detail, "longer than 100ms") {
		t.Errorf("hung worker: %+v", rs)
	}
}

func TestSwarmWritesSeedFiles(t *testing.T) {
	fakeWorker(t, "exit 3")
	dir := t.TempDir()
	etcdsim(t, "swarm", "--seeds", "4..5", "--duration", "2s", "--bug", "auth-ci", "--out", dir)
	b, err := os.ReadFile(filepath.Join(dir, "auth-ci-5.seed"))
	if err != nil {
		t.Fatal(err)
	}
	sf, err := sim.ParseSeedFile(string(b))
	if err != nil || sf.Expect != "fail:panic" || sf.Config.Seed != 5 || !strings.Contains(sf.Description, "exit status 3") {
		t.Errorf("seed file (%v):\n%s", err, b)
	}
}

func TestProgressQuietWithoutTerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, 3, time.Now())
	for range 3 {
		p.update(Result{Invariant: "panic"})
	}
	p.clear()
	if b.Len() != 0 {
		t.Errorf("progress wrote %q to a non-terminal", b.String())
	}
	p = newProgress(&b, 2, time.Now())
	p.on = true
	p.update(Result{})
	p.update(Result{Invariant: "panic"})
	if out := b.String(); !strings.HasPrefix(out, "\r") || !strings.Contains(out, "2/2 seeds  1 failing") {
		t.Errorf("progress line %q", out)
	}
}
