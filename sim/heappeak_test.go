package sim

import (
	"flag"
	"runtime"
	"slices"
	"testing"
	"time"
)

var heapPeakRounds = flag.Int("heappeak.rounds", 0, "TestHeapPeak: rounds of seeds 1..3 at 1200 s (0: skip)")

// TestHeapPeak measures the peak heap of the 1200 s row of the benchmark
// table as the table does (benchRow.measure, one core, no heap-profile
// sampling), over rounds: go test ./sim -run TestHeapPeak -heappeak.rounds 5 -v
func TestHeapPeak(t *testing.T) {
	if *heapPeakRounds == 0 {
		t.Skip("run with -heappeak.rounds N")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer noHeapProfile()()
	var peaks []float64
	for round := 0; round < *heapPeakRounds; round++ {
		r := &benchRow{name: "3 members, 1200s", cfg: Config{Duration: 1200 * time.Second}, seeds: 3}
		r.measure(t)
		peaks = append(peaks, float64(r.peakHeap)/(1<<20))
		t.Logf("round %d: peak %.1f MiB, live %.1f MiB, wall %s", round, float64(r.peakHeap)/(1<<20), float64(r.liveHeap)/(1<<20), r.wall)
	}
	slices.Sort(peaks)
	t.Logf("peak heap over %d rounds: min %.1f median %.1f max %.1f MiB", len(peaks), peaks[0], peaks[len(peaks)/2], peaks[len(peaks)-1])
}

// TestSampleMemoryIsHeapInuse holds sampleMemory's runtime/metrics reading
// to what it stands for, MemStats.HeapInuse, read back to back (nothing
// runs between them that could take or free more than a few spans).
func TestSampleMemoryIsHeapInuse(t *testing.T) {
	keep := make([][]byte, 0, 1024)
	for range 1024 {
		keep = append(keep, make([]byte, 4096)) // some 4 MiB in use
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var c core
	c.sampleMemory()
	runtime.KeepAlive(keep)
	got, want := float64(c.peakHeap), float64(ms.HeapInuse)
	if got < want-(1<<20) || got > want+(1<<20) || want < 4<<20 {
		t.Fatalf("sampleMemory read %.0f bytes in use; MemStats.HeapInuse %.0f", got, want)
	}
}
