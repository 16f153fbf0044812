package sim

import (
	"bufio"
	"cmp"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
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
	requests uint64
	messages uint64 // raft messages members sent
	mallocs  uint64
	peakHeap uint64
	liveHeap uint64        // the largest live heap at the end of a run
	lin      time.Duration // wall time in the linearizability check
}

// measure runs the row's seeds once; the fastest of its rounds counts
// (worlds are deterministic, so every round does the same work: only the
// machine's noise differs between them).
func (r *benchRow) measure(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wall time.Duration
	r.sim, r.events, r.commits, r.requests, r.messages, r.lin = 0, 0, 0, 0, 0, 0
	for s := 1; s <= r.seeds; s++ {
		cfg := r.cfg
		cfg.Seed, cfg.SampleMemory = uint64(s), true
		start := time.Now()
		rep, err := Run(cfg)
		// The end-of-run collection that measures the live heap is not
		// the world's time.
		wall += time.Since(start) - rep.liveHeapWall
		if err != nil {
			t.Fatal(err)
		}
		if rep.Violation != nil && !cfg.NoChecks {
			t.Fatalf("%s seed %d: %s", r.name, s, rep.Violation)
		}
		r.sim += rep.End
		r.events += rep.Steps
		r.commits += rep.Stats.Committed
		r.requests += rep.Stats.Requests
		r.messages += rep.Stats.Messages
		r.peakHeap = max(r.peakHeap, rep.PeakHeap)
		r.liveHeap = max(r.liveHeap, rep.LiveHeap)
		r.lin += rep.LinearizabilityWall
	}
	if r.wall == 0 || wall < r.wall {
		r.wall = wall
		runtime.ReadMemStats(&after)
		r.mallocs = after.Mallocs - before.Mallocs
	}
}

// size is the row's cluster size, the bare baseline it is compared with.
func (r *benchRow) size() int { return cmp.Or(r.cfg.Members, 3) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// nsPerCommit is the row's wall time per committed entry.
func (r *benchRow) nsPerCommit() float64 {
	return float64(r.wall.Nanoseconds()) / float64(max(r.commits, 1))
}

// benchRounds is how many times each row runs, rows interleaved, so that a
// slow spell of the machine does not land on one row only.
const benchRounds = 5

// bareCost is the baseline of one cluster size: a committed proposal
// through that many bare RawNodes (benchBare), in ns, and the raft
// messages each took.
type bareCost struct{ ns, msgs float64 }

// bareSizes are the cluster sizes measured bare: each world is compared
// with bare raft of its own size.
var bareSizes = []int{1, 3, 5, 7}

// bareNsPerCommit measures the baseline of n nodes under the collector
// settings a world runs with, so that neither side is charged for the
// other's.
func bareNsPerCommit(n int) bareCost {
	defer debug.SetGCPercent(debug.SetGCPercent(int(gcPercent)))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
	res := testing.Benchmark(func(b *testing.B) { benchBare(b, n) })
	return bareCost{float64(res.NsPerOp()), res.Extra["msgs/commit"]}
}

// checksOverhead runs seeds 1..n of the default 60 s world with and
// without invariant checks back to back, rounds times, and returns the
// ratio of the total times, each seed's fastest round of each kind
// counting (as in the rows): pairing each seed's two runs, and taking the
// fastest, keeps the machine's slow spells out of the comparison.
func checksOverhead(t *testing.T, n, rounds int) float64 {
	best := make([][2]time.Duration, n) // per seed: with checks, without
	for round := 0; round < rounds; round++ {
		for s := 1; s <= n; s++ {
			for k, off := range []bool{false, true} {
				start := time.Now()
				if _, err := Run(Config{Seed: uint64(s), Duration: 60 * time.Second, NoChecks: off}); err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); round == 0 || d < best[s-1][k] {
					best[s-1][k] = d
				}
			}
		}
	}
	var with, without time.Duration
	for _, b := range best {
		with, without = with+b[0], without+b[1]
	}
	return with.Seconds() / without.Seconds()
}

// TestBenchTable writes BENCHMARKS.md: go test ./sim -run TestBenchTable
// -benchtable ../BENCHMARKS.md (make bench). It runs on one core.
func TestBenchTable(t *testing.T) {
	if *benchTable == "" {
		t.Skip("run with -benchtable FILE")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer noHeapProfile()()
	rows := []*benchRow{}
	add := func(name string, seeds int, cfg Config) {
		rows = append(rows, &benchRow{name: name, cfg: cfg, seeds: seeds})
	}
	for _, n := range []int{1, 3, 5, 7} {
		add(fmt.Sprintf("%d members, 60s", n), 12, Config{Members: n, Duration: 60 * time.Second})
	}
	add("3 members, 10s", 40, Config{Duration: 10 * time.Second})
	add("3 members, 600s", 3, Config{Duration: 600 * time.Second})
	add("3 members, 1200s", 3, Config{Duration: 1200 * time.Second})
	add("3 members, 60s, no checks", 12, Config{Duration: 60 * time.Second, NoChecks: true})
	add("3 members, 60s, plan recorded", 12, Config{Duration: 60 * time.Second, RecordPlan: true})
	add("3 members, 60s, membership churn", 12, Config{Duration: 60 * time.Second, Churn: 3})
	bare := map[int]bareCost{}
	for round := 0; round < benchRounds; round++ {
		for _, n := range bareSizes {
			if c := bareNsPerCommit(n); round == 0 || c.ns < bare[n].ns {
				bare[n] = c
			}
		}
		for _, r := range rows {
			r.measure(t)
		}
	}
	overhead := checksOverhead(t, 12, benchRounds)
	for _, r := range rows {
		t.Logf("%s: %.0fx", r.name, r.sim.Seconds()/r.wall.Seconds())
	}
	if err := os.WriteFile(*benchTable, []byte(renderBench(rows, bare, overhead)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func renderBench(rows []*benchRow, bare map[int]bareCost, overhead float64) string {
	bareNs := bare[3].ns
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` (go test ./sim -run TestBenchTable -benchtable ../BENCHMARKS.md); do not edit.\n")
	fmt.Fprintf(&b, "One core (GOMAXPROCS=1), %s %s/%s, %s, built with cmd/etcdsim/default.pgo, heap-profile sampling off as in the etcdsim binary. Default world: 3 members, the seed's swarm of in-model faults, 10 clients offered 100 requests per simulated second (an arrival that finds every client waiting is dropped: the requests column is what was sent); the time includes the liveness phase.\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, cpuModel())
	fmt.Fprintf(&b, "Baseline: bare go.etcd.io/raft/v3 (RawNodes over MemoryStorage, instant delivery, no disk/network/apply/checks), of the same size as the world it is compared with, under the worlds' collector settings; per committed proposal:")
	for i, n := range bareSizes {
		sep := ","
		if i == len(bareSizes)-1 {
			sep = "."
		}
		fmt.Fprintf(&b, " %d node%s %.1f µs (%.1f messages)%s", n, plural(n), bare[n].ns/1e3, bare[n].msgs, sep)
	}
	fmt.Fprintf(&b, " The simulation's overhead is the ratio of a world's cost per committed entry, or per raft message its members sent, to these.\n\n")
	fmt.Fprintf(&b, "Each row is the fastest of %d rounds, rows interleaved (this machine's speed varies by a third from minute to minute); the linearizability share is of the last round. Peak heap: the largest heap in use sampled during a run (the collector is off during a world until the heap nears a %d MiB soft limit, and runs between worlds once the heap holds %d MiB, as in a swarm worker); live heap: what is still reachable at the end of the run.\n\n", benchRounds, MemoryLimit>>20, CollectAt>>20)
	fmt.Fprintf(&b, "Invariant checking (every invariant after every event, and linearizability) adds %.0f%% to the run time of the default 60 s world: seeds 1..12 each run with and without checks back to back, the fastest of %d rounds of each.\n\n", 100*(overhead-1), benchRounds)
	r60, r600, r1200 := findRow(rows, "3 members, 60s"), findRow(rows, "3 members, 600s"), findRow(rows, "3 members, 1200s")
	if r60 != nil && r600 != nil && r1200 != nil {
		per := func(r *benchRow) float64 { return r.wall.Seconds() / r.sim.Seconds() }
		mib := func(r *benchRow) float64 { return float64(r.liveHeap) / (1 << 20) }
		fmt.Fprintf(&b, "Cost in duration: a simulated second of a 1200 s world costs %.2f× one of a 600 s world, and %.2f× one of a 60 s world "+
			"(a short world restarts its members into shorter logs: the snapshot count, drawn per seed up to 10,000 entries, is not reached in 60 s). "+
			"The live heap at the end is %.0f MiB after 60 s, %.0f MiB after 600 s and %.0f MiB after 1200 s: long runs check linearizability every 60 s and drop what they checked.\n\n",
			per(r1200)/per(r600), per(r1200)/per(r60), mib(r60), mib(r600), mib(r1200))
	}
	if r60 != nil {
		// At the default world's commit rate, bare raft alone would run
		// this many simulated seconds per wall second.
		rate := float64(r60.commits) / r60.sim.Seconds()
		ceiling := 1e9 / (bareNs * rate)
		fmt.Fprintf(&b, "Raft's ceiling: the default 60 s world commits %.0f entries per simulated second, so bare raft alone, at %.1f µs per entry, would run at %.0f×. "+
			"A time acceleration of 1,000× needs a world within %.1f× of bare raft per committed entry; the default world is at %.2f× with checks and %s without.\n\n",
			rate, bareNs/1e3, ceiling, ceiling/1000, r60.nsPerCommit()/bareNs, noChecksRatio(rows, bareNs))
	}
	fmt.Fprintf(&b, "Every world runs all invariants, linearizability included (its share of the time is the last column), unless it says no checks.\n\n")
	fmt.Fprintf(&b, "| world | seeds | time acceleration | seeds/s | events/s | requests per sim. s | allocs/event | µs per committed entry | × bare raft | µs per raft message | × bare raft | peak heap | live heap | linearizability check |\n")
	fmt.Fprintf(&b, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		base := bare[r.size()]
		perCommit := r.nsPerCommit()
		perMsg, vsMsg := "-", "-" // a lone member sends no raft messages
		if r.messages > r.commits {
			ns := float64(r.wall.Nanoseconds()) / float64(r.messages)
			perMsg, vsMsg = fmt.Sprintf("%.2f", ns/1e3), fmt.Sprintf("%.2f", ns/(base.ns/base.msgs))
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f× | %.1f | %.0f | %.0f | %.1f | %.1f | %.2f | %s | %s | %.0f MiB | %.0f MiB | %.1f%% |\n",
			r.name, r.seeds, r.sim.Seconds()/r.wall.Seconds(), float64(r.seeds)/r.wall.Seconds(),
			float64(r.events)/r.wall.Seconds(), float64(r.requests)/r.sim.Seconds(), float64(r.mallocs)/float64(max(r.events, 1)),
			perCommit/1e3, perCommit/base.ns, perMsg, vsMsg,
			float64(r.peakHeap)/(1<<20), float64(r.liveHeap)/(1<<20), 100*r.lin.Seconds()/r.wall.Seconds())
	}
	return b.String()
}

// noChecksRatio is the no-checks row's cost per committed entry against
// bare raft's, or "-" without that row.
func noChecksRatio(rows []*benchRow, bareNs float64) string {
	r := findRow(rows, "3 members, 60s, no checks")
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f×", r.nsPerCommit()/bareNs)
}

func findRow(rows []*benchRow, name string) *benchRow {
	for _, r := range rows {
		if r.name == name {
			return r
		}
	}
	return nil
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
