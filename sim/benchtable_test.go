package sim

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

var benchTable = flag.String("benchtable", "", "write the benchmark table (BENCHMARKS.md) to this file")

// benchRow is one measured configuration of the table.
type benchRow struct {
	name     string
	cfg      Config
	seeds    int
	wall     time.Duration
	sim      time.Duration
	events   uint64
	commits  uint64
	mallocs  uint64
	peakHeap uint64
	lin      time.Duration // wall time in the linearizability check
}

// measure runs the row's seeds once; the fastest of its rounds counts
// (worlds are deterministic, so every round does the same work: only the
// machine's noise differs between them).
func (r *benchRow) measure(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	r.sim, r.events, r.commits, r.lin = 0, 0, 0, 0
	for s := 1; s <= r.seeds; s++ {
		cfg := r.cfg
		cfg.Seed, cfg.SampleMemory = uint64(s), true
		rep, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Violation != nil && !cfg.NoChecks {
			t.Fatalf("%s seed %d: %s", r.name, s, rep.Violation)
		}
		r.sim += rep.End
		r.events += rep.Steps
		r.commits += rep.Stats.Committed
		r.peakHeap = max(r.peakHeap, rep.PeakHeap)
		r.lin += rep.LinearizabilityWall
	}
	if wall := time.Since(start); r.wall == 0 || wall < r.wall {
		r.wall = wall
		runtime.ReadMemStats(&after)
		r.mallocs = after.Mallocs - before.Mallocs
	}
}

// benchRounds is how many times each row runs, rows interleaved, so that a
// slow spell of the machine does not land on one row only.
const benchRounds = 3

// bareNsPerCommit measures the baseline: one committed proposal through
// three bare RawNodes (BenchmarkBareRaft).
func bareNsPerCommit() (float64, float64) {
	res := testing.Benchmark(BenchmarkBareRaft)
	return float64(res.NsPerOp()), res.Extra["msgs/commit"]
}

// TestBenchTable writes BENCHMARKS.md: go test ./sim -run TestBenchTable
// -benchtable ../BENCHMARKS.md (make bench). It runs on one core.
func TestBenchTable(t *testing.T) {
	if *benchTable == "" {
		t.Skip("run with -benchtable FILE")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	bareNs, bareMsgs := bareNsPerCommit()
	rows := []*benchRow{}
	add := func(name string, seeds int, cfg Config) {
		rows = append(rows, &benchRow{name: name, cfg: cfg, seeds: seeds})
	}
	for _, n := range []int{1, 3, 5, 7} {
		add(fmt.Sprintf("%d members, 60s", n), 12, Config{Members: n, Duration: 60 * time.Second})
	}
	add("3 members, 10s", 40, Config{Duration: 10 * time.Second})
	add("3 members, 600s", 3, Config{Duration: 600 * time.Second})
	add("3 members, 60s, no checks", 12, Config{Duration: 60 * time.Second, NoChecks: true})
	add("3 members, 60s, plan recorded", 12, Config{Duration: 60 * time.Second, RecordPlan: true})
	for round := 0; round < benchRounds; round++ {
		for _, r := range rows {
			r.measure(t)
		}
	}
	for _, r := range rows {
		t.Logf("%s: %.0fx", r.name, r.sim.Seconds()/r.wall.Seconds())
	}
	if err := os.WriteFile(*benchTable, []byte(renderBench(rows, bareNs, bareMsgs)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func renderBench(rows []*benchRow, bareNs, bareMsgs float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` (go test ./sim -run TestBenchTable -benchtable ../BENCHMARKS.md); do not edit.\n")
	fmt.Fprintf(&b, "One core (GOMAXPROCS=1), %s %s/%s, %s. Default world: the seed's swarm of in-model faults, 100 client requests per simulated second; the time includes the liveness phase.\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, cpuModel())
	fmt.Fprintf(&b, "Baseline: bare go.etcd.io/raft/v3 (3 RawNodes, MemoryStorage, instant delivery, no disk/network/apply/checks): %.1f µs per committed proposal, %.1f messages each.\n\n", bareNs/1e3, bareMsgs)
	fmt.Fprintf(&b, "Each row is the fastest of %d rounds, rows interleaved (this machine's speed varies by a third from minute to minute); the linearizability share is of the last round.\n\n", benchRounds)
	fmt.Fprintf(&b, "Every world runs all invariants, linearizability included (its share of the time is the last column), unless it says no checks.\n\n")
	fmt.Fprintf(&b, "| world | seeds | seeds/s | time acceleration | events/s | allocs/event | µs per committed entry | × bare raft | peak heap | linearizability check |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		perCommit := float64(r.wall.Nanoseconds()) / float64(max(r.commits, 1))
		fmt.Fprintf(&b, "| %s | %d | %.1f | %.0f× | %.0f | %.1f | %.1f | %.1f | %.0f MiB | %.1f%% |\n",
			r.name, r.seeds, float64(r.seeds)/r.wall.Seconds(), r.sim.Seconds()/r.wall.Seconds(),
			float64(r.events)/r.wall.Seconds(), float64(r.mallocs)/float64(max(r.events, 1)),
			perCommit/1e3, perCommit/bareNs, float64(r.peakHeap)/(1<<20), 100*r.lin.Seconds()/r.wall.Seconds())
	}
	return b.String()
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
