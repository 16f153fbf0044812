package sim

import (
	"runtime"
	"testing"
)

// Run collects before a world once the heap holds CollectAt bytes of
// objects, and not below, nor with a collector target set.
func TestCollectBetween(t *testing.T) {
	runtime.GC()
	if collectBetween() {
		t.Fatalf("collected with the heap just collected")
	}
	garbage := make([]byte, CollectAt+1<<20)
	garbage[len(garbage)-1] = 1
	defer func(p int) { SetGCPercent(p) }(SetGCPercent(400))
	if collectBetween() {
		t.Fatalf("collected with a collector target set")
	}
	SetGCPercent(-1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if !collectBetween() {
		t.Fatalf("did not collect with %d bytes of objects", len(garbage))
	}
	runtime.ReadMemStats(&after)
	if after.NumGC == before.NumGC {
		t.Fatalf("collectBetween said it collected but NumGC stayed %d", after.NumGC)
	}
	runtime.KeepAlive(garbage)
}
