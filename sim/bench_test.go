package sim

import (
	"testing"
	"time"
)

// BenchmarkWorld runs the default world (3 members, the seed's swarm, 100
// requests per simulated second) for 10 s of simulated time per op, and
// reports the time acceleration.
func BenchmarkWorld(b *testing.B) {
	var sim time.Duration
	var events uint64
	for i := 0; i < b.N; i++ {
		rep, err := Run(Config{Seed: uint64(i%20 + 1), Duration: 10 * time.Second})
		if err != nil || rep.Violation != nil {
			b.Fatalf("%v %v", err, rep.Violation)
		}
		sim += rep.End
		events += rep.Steps
	}
	b.ReportMetric(sim.Seconds()/b.Elapsed().Seconds(), "sim-s/wall-s")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
