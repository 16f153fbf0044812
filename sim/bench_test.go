package sim

import (
	"flag"
	"runtime"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/invariants/linearizable"
)

var (
	benchNoChecks = flag.Bool("world.nochecks", false, "BenchmarkWorld*: run without invariant checks")
	benchNoGC     = flag.Bool("world.nogc", false, "BenchmarkWorld*: switch the collector off during runs "+
		"(with valgrind --tool=cachegrind, instruction counts that do not depend on when the collector ran)")
)

// benchWorlds runs b.N default worlds (3 members, the seed's swarm, 100
// requests per simulated second) of duration d, seeds 1..seeds over and
// over, and reports the time acceleration and the cost per committed entry.
func benchWorlds(b *testing.B, d time.Duration, seeds int) { benchChurn(b, d, seeds, 0) }

// benchChurn is benchWorlds with membership churn around churn voters (0:
// none).
func benchChurn(b *testing.B, d time.Duration, seeds, churn int) {
	defer noHeapProfile()()
	if *benchNoGC {
		defer func(p, l int64) { gcPercent, memoryLimit = p, l }(gcPercent, memoryLimit)
		gcPercent, memoryLimit = -1, 1<<62
	}
	var sim time.Duration
	var events, commits uint64
	for i := 0; i < b.N; i++ {
		rep, err := Run(Config{Seed: uint64(i%seeds + 1), Duration: d, NoChecks: *benchNoChecks, Churn: churn})
		if err != nil || (rep.Violation != nil && !*benchNoChecks) {
			b.Fatalf("%v %v", err, rep.Violation)
		}
		sim += rep.End
		events += rep.Steps
		commits += rep.Stats.Committed
	}
	b.ReportMetric(sim.Seconds()/b.Elapsed().Seconds(), "sim-s/wall-s")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(commits), "µs/commit")
	b.ReportMetric(float64(events)/float64(commits), "events/commit")
}

// noHeapProfile switches Go's heap-profile sampling off, as the etcdsim
// binary does, unless -test.memprofile asks for a profile; it returns the
// restore.
func noHeapProfile() func() {
	if f := flag.Lookup("test.memprofile"); f != nil && f.Value.String() != "" {
		return func() {}
	}
	old := runtime.MemProfileRate
	runtime.MemProfileRate = 0
	return func() { runtime.MemProfileRate = old }
}

// BenchmarkWorld runs 10 s worlds.
func BenchmarkWorld(b *testing.B) { benchWorlds(b, 10*time.Second, 20) }

// BenchmarkWorld60 runs 60 s worlds, the default world of the speed figures.
func BenchmarkWorld60(b *testing.B) { benchWorlds(b, 60*time.Second, 12) }

// BenchmarkWorld600 runs 600 s worlds: the cost per simulated second
// should match BenchmarkWorld60's.
func BenchmarkWorld600(b *testing.B) { benchWorlds(b, 600*time.Second, 3) }

// BenchmarkWorld1200 runs 1200 s worlds (the benchmark table's longest):
// its cost per committed entry, and its memory, should match
// BenchmarkWorld600's.
func BenchmarkWorld1200(b *testing.B) { benchWorlds(b, 1200*time.Second, 3) }

// BenchmarkWorldChurn runs 60 s worlds of 3 members whose membership
// churns around 3 voters: its cost per committed entry compares with
// BenchmarkWorld60's.
func BenchmarkWorldChurn(b *testing.B) { benchChurn(b, 60*time.Second, 12, 3) }

// BenchmarkLinCheck60 runs the final linearizability check of the
// default 60 s worlds of seeds 1..12 (their histories recorded once,
// outside the timer): the check's own cost, without the worlds'.
func BenchmarkLinCheck60(b *testing.B) {
	if linHistories == nil {
		if *benchNoGC {
			defer func(p, l int64) { gcPercent, memoryLimit = p, l }(gcPercent, memoryLimit)
			gcPercent, memoryLimit = -1, 1<<62
		}
		for s := uint64(1); s <= 12; s++ {
			rep, err := Run(Config{Seed: s, Duration: 60 * time.Second})
			if err != nil || rep.Violation != nil {
				b.Fatalf("seed %d: %v %v", s, err, rep.Violation)
			}
			linHistories = append(linHistories, recordedHistory{rep.linPrefix, linearizableOps(rep.History, rep.fates)})
		}
	}
	runtime.GC() // with GOGC=off, no collection runs during the checks
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h := linHistories[i%len(linHistories)]
		if res := linearizable.CheckAfter(h.prefix, h.ops, linearizable.Budget{}); !res.OK || res.Unknown {
			b.Fatal(res)
		}
	}
}

// recordedHistory is a world's history as its final linearizability
// check reads it.
type recordedHistory struct {
	prefix *linearizable.Prefix
	ops    []linearizable.Op
}

// linHistories are BenchmarkLinCheck60's histories, recorded once per
// process (so that an instruction count of -benchtime Nx less one of 1x
// is N-1 checks).
var linHistories []recordedHistory
