package swarm

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/sim"
)

// fakeWorker returns options whose worker processes are a shell script.
// The script gets the world's flags as "$@" and the real worker (this
// test binary; its first argument must be "worker") as $BIN.
func fakeWorker(t *testing.T, script string, p int) Options {
	t.Helper()
	opt := testOptions(t, p)
	t.Setenv("BIN", opt.Worker[0])
	opt.Worker = []string{"sh", "-c", script, "sh"}
	return opt
}

// swarmOf runs seeds first..last of a 2s world of bug and returns the
// results in the order Run handed them over.
func swarmOf(t *testing.T, first, last uint64, bug string, opt Options) []Result {
	t.Helper()
	cfg, err := World{Bug: bug, Workload: "default", Duration: "2s", Members: 3, Rate: 100}.Config()
	if err != nil {
		t.Fatal(err)
	}
	var rs []Result
	err = Run(Shard{First: first, Last: last, K: 1, N: 1}, cfg, opt, func(r Result) error {
		rs = append(rs, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := int(last - first + 1); len(rs) != want {
		t.Fatalf("%d results, want %d", len(rs), want)
	}
	for i, r := range rs {
		if r.Seed != first+uint64(i) {
			t.Fatalf("result %d is seed %d: not in seed order", i, r.Seed)
		}
	}
	return rs
}

func TestWorkerCrashIsAFailingSeed(t *testing.T) {
	for _, r := range swarmOf(t, 1, 5, "none", fakeWorker(t, "exit 3", 2)) {
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
	opt := fakeWorker(t, `while read s; do
		if [ "$s" = 3 ]; then echo "panic: boom" >&2; exit 2; fi
		echo "$s" | "$BIN" worker "$@" || exit 1
	done`, 2)
	for _, r := range swarmOf(t, 1, 6, "none", opt) {
		crashed := r.Outcome == "fail:panic" && r.WorkerCrash && strings.Contains(r.Detail, "panic: boom")
		if crashed != (r.Seed == 3) || r.Seed != 3 && r.Trace == "0000000000000000" {
			t.Errorf("seed %d: %s worker_crash=%v %q", r.Seed, r.Outcome, r.WorkerCrash, r.Detail)
		}
	}
}

func TestWorkerGarbageAndHang(t *testing.T) {
	for _, r := range swarmOf(t, 7, 8, "none", fakeWorker(t, `while read s; do echo "not json"; done`, 1)) {
		if r.Outcome != "fail:panic" || !strings.Contains(r.Detail, "malformed") {
			t.Errorf("seed %d: %s %q, want a malformed-line crash", r.Seed, r.Outcome, r.Detail)
		}
	}
	opt := fakeWorker(t, `read s; sleep 30`, 1)
	opt.SeedTimeout = 100 * time.Millisecond
	rs := swarmOf(t, 9, 9, "none", opt)
	if rs[0].Outcome != "fail:panic" || !strings.Contains(rs[0].Detail, "longer than 100ms") {
		t.Errorf("hung worker: %+v", rs)
	}
}

func TestNoWorkerProcess(t *testing.T) {
	opt := testOptions(t, 1)
	opt.Worker = []string{filepath.Join(t.TempDir(), "no-such-binary")}
	err := Run(Shard{First: 1, Last: 3, K: 1, N: 1}, sim.Config{Members: 3}, opt, func(Result) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "cannot start a worker") {
		t.Errorf("Run without a worker binary: %v", err)
	}
	opt.Worker = nil
	if err := Run(Shard{First: 1, Last: 3, K: 1, N: 1}, sim.Config{Members: 3}, opt, nil); err == nil {
		t.Error("Run without a worker command: no error")
	}
}

func TestSinkWritesSeedFiles(t *testing.T) {
	dir := t.TempDir()
	out, err := NewSink("", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range swarmOf(t, 4, 5, "auth-ci", fakeWorker(t, "exit 3", 2)) {
		if err := out.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "auth-ci-5.seed"))
	if err != nil {
		t.Fatal(err)
	}
	sf, err := sim.ParseSeedFile(string(b))
	if err != nil || sf.Expect != "fail:panic" || sf.Config.Seed != 5 || !strings.Contains(sf.Description, "exit status 3") {
		t.Errorf("seed file (%v):\n%s", err, b)
	}
	if out.Summary.Seeds != 2 || out.Summary.Failing != 2 || out.Close() != nil {
		t.Errorf("summary %+v", out.Summary)
	}
}

func TestSinkOutputErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct{ json, dir, output string }{
		{filepath.Join(file, "x.json"), "", OutputJSON},
		{"", filepath.Join(file, "seeds"), OutputSeeds},
	} {
		_, err := NewSink(tc.json, tc.dir)
		oe, ok := err.(*OutputError)
		if !ok || oe.Output != tc.output || !strings.HasPrefix(err.Error(), tc.output+": ") {
			t.Errorf("NewSink(%q, %q): %v, want an OutputError of %s", tc.json, tc.dir, err, tc.output)
		}
	}
}

func TestProgressQuietWithoutTerminal(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, 3, time.Now())
	for range 3 {
		p.Update(Result{Invariant: "panic"})
	}
	p.Clear()
	if b.Len() != 0 {
		t.Errorf("progress wrote %q to a non-terminal", b.String())
	}
	p = NewProgress(&b, 2, time.Now())
	p.on = true
	p.Update(Result{})
	p.Update(Result{Invariant: "panic"})
	if out := b.String(); !strings.HasPrefix(out, "\r") || !strings.Contains(out, "2/2 seeds  1 failing") {
		t.Errorf("progress line %q", out)
	}
}

func TestWorkerEnv(t *testing.T) {
	share := fmt.Sprintf("GOMAXPROCS=%d", max(1, runtime.GOMAXPROCS(0)/2))
	for _, c := range []struct {
		environ, want []string
	}{
		{[]string{"PATH=/bin"}, []string{"PATH=/bin", share, "GODEBUG=madvdontneed=0"}},
		{[]string{"GOMAXPROCS=3", "GODEBUG=gctrace=1"}, []string{"GOMAXPROCS=3", "GODEBUG=gctrace=1", "GODEBUG=madvdontneed=0,gctrace=1"}},
		{[]string{"GODEBUG=madvdontneed=1"}, []string{"GODEBUG=madvdontneed=1", share}},
	} {
		if got := workerEnv(c.environ, 2); !slices.Equal(got, c.want) {
			t.Errorf("workerEnv(%q, 2) = %q, want %q", c.environ, got, c.want)
		}
	}
	if got := workerEnv(nil, 1); !slices.Contains(got, fmt.Sprintf("GOMAXPROCS=%d", runtime.GOMAXPROCS(0))) {
		t.Errorf("a lone worker's environment %q does not give it every processor", got)
	}
}
