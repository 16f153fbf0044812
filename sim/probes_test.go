package sim

import (
	"flag"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
)

var probeSeeds = flag.Int("probes.seeds", 60, "TestRequiredProbes: default worlds to run (seeds 1..N)")

// TestRequiredProbes runs default worlds (the seed's swarm of faults and
// workload) over a fixed seed range and fails when a probe marked required
// (nodes.Required) is never hit: reach cannot silently regress.
func TestRequiredProbes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 60 worlds")
	}
	var seen [nodes.NumProbes]bool
	for seed := 1; seed <= *probeSeeds; seed++ {
		rep, err := Run(Config{Seed: uint64(seed)})
		if err != nil {
			t.Fatal(err)
		}
		for p, n := range rep.Probes {
			seen[p] = seen[p] || n > 0
		}
	}
	for _, p := range nodes.Probes() {
		if nodes.Required(p) && !seen[p] {
			t.Errorf("required probe %s was not hit in seeds 1..%d", p, *probeSeeds)
		}
	}
}

// TestProbesCount checks that a world's report carries its members' and
// its clients' probes.
func TestProbesCount(t *testing.T) {
	rep, err := Run(Config{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Probes[nodes.ProbeRestartFresh] != 3 {
		t.Fatalf("restart/fresh hit %d times in a 3-member world, want 3", rep.Probes[nodes.ProbeRestartFresh])
	}
	if rep.Probes[nodes.RequestProbe(nodes.KindPut, nodes.OutcomeOK)] == 0 {
		t.Fatal("no put succeeded, by the probes")
	}
}
