package sim

import (
	"fmt"
	"maps"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// MemoryLimit is the soft heap limit during a run (runtime/debug): the
// collector runs rarely below it and as often as needed near it. A world's
// live heap stays under 30 MiB however long it runs (26 MiB at most in a
// 1200 s world of seed 3, GODEBUG=gctrace=1), so 128 MiB costs no time:
// swarm --parallel 1 of seeds 1..150, 6 paired runs, CPU 0.98x of a
// 192 MiB limit, peak RSS 129 MiB against 189.
const MemoryLimit = 128 << 20

// CollectAt is the heap, in bytes of objects live or not yet swept, at
// which Run collects before it builds its world. There the heap is the
// last world's garbage and little else, so the collection marks next to
// nothing and costs the sweep that the new world's allocations would do
// anyway; a collection during a world marks its live heap while the world
// runs, with write barriers on and new objects allocated black (on one
// processor those were 7.4% of a swarm worker's CPU samples, 3.5% with
// collections between worlds; perf, seeds 1..300). 32 MiB keeps the heap
// near one world's and was the fastest of 0, 16, 32 and 64 MiB and of the
// memory limit alone (make scaling).
const CollectAt = 32 << 20

// gcPercent and memoryLimit are the collector's settings during a run; a
// benchmark may switch the collector off to count only the world's work.
// The default, -1, collects during a world only near the memory limit: a
// world allocates at a steady rate and keeps a modest live heap, so fewer
// collections buy time (BenchmarkWorld60: 16.3 to 16.9 us per committed
// entry off against 18.1 to 19.4 at GOGC=400, interleaved).
var gcPercent, memoryLimit int64 = -1, MemoryLimit

// SetGCPercent sets the collector's target during the runs that follow
// (debug.SetGCPercent's; negative, the default: collect only near
// MemoryLimit and between worlds) and returns the previous one. Call it
// before a run, not during one.
func SetGCPercent(percent int) int {
	old := gcPercent
	gcPercent = int64(percent)
	return int(old)
}

// collectBetween collects if the collector is off during runs and the heap
// holds CollectAt or more, and reports whether it did.
func collectBetween() bool {
	if gcPercent >= 0 || memoryLimit > MemoryLimit { // a target, or no collector at all (a benchmark's -world.nogc)
		return false
	}
	// the bytes of heap objects (runtime/metrics: no stop of the world,
	// unlike runtime.ReadMemStats); called before runMu is held, so the
	// sample is the caller's own
	heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(heap)
	if heap[0].Value.Kind() != metrics.KindUint64 || heap[0].Value.Uint64() < CollectAt {
		return false
	}
	runtime.GC()
	return true
}

// Run runs one world to its end or its first violation. A panic inside the
// world is a failing report (invariant "panic"), never a crash of the
// caller. Only one run owns the process at a time (see runMu).
func Run(cfg Config) (rep *Report, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	collectBetween()
	w := newWorld(cfg)
	var liveHeap uint64
	var liveHeapWall time.Duration
	WithSeededCryptoRand(w.streams.Fork("raft/jitter"), func() {
		// the collector's settings during a run (gcPercent)
		defer debug.SetGCPercent(debug.SetGCPercent(int(gcPercent)))
		// ... but not past a soft limit, so that long runs stay small.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
		defer func() {
			if r := recover(); r != nil {
				w.chk.Panicked(0, fmt.Sprintf("%v\n%s", r, debug.Stack()))
			}
		}()
		w.run()
		if cfg.SampleMemory {
			start := time.Now()
			w.sampleMemory()
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			liveHeap, liveHeapWall = ms.HeapAlloc, time.Since(start)
		}
	})
	rep = w.report()
	rep.LiveHeap, rep.liveHeapWall = liveHeap, liveHeapWall
	return rep, nil
}

// report is what the run did, for the caller.
func (w *world) report() *Report {
	rep := w.header()
	rep.Violation, rep.Steps, rep.End, rep.TraceHash, rep.Stats = w.chk.Violation(), w.step, w.q.Now(), w.tr.Hash(), w.stats
	if rep.Violation != nil {
		rep.Step, rep.At = w.step, w.q.Now()
	}
	rep.Stats.Committed = w.cl.committed
	rep.Stats.Unchecked = uint64(w.chk.Unchecked)
	rep.PeakHeap = w.peakHeap
	rep.Probes = w.probes
	if v := rep.Violation; v != nil {
		w.mark(0, MarkViolation, v.Error())
	}
	rep.Timeline = w.timeline
	w.hist.compact(w.wl.clients)
	h := w.hist
	rep.History, rep.LinearizabilityTimedOut, rep.LinearizabilityWall = h.ops, h.timedOut, h.wall
	// the writes the log settled (the run is over: no write is followed)
	maps.DeleteFunc(h.fates, func(_ uint64, f fate) bool { return !f.settled })
	rep.fates, rep.linPrefix = h.fates, h.linPrefix
	if h.leases != nil {
		rep.LeaseChecks = h.leases.Seen
	}
	rep.Plan = w.drv.plan()
	if w.churn != nil {
		rep.Replaces = w.churn.replaces
	}
	for _, m := range w.cl.members {
		if m.proc != nil {
			rep.Stats.absorb(m.proc.Stats())
		}
	}
	return rep
}
