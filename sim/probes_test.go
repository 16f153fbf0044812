package sim

import (
	"flag"
	"testing"
	"time"

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

// TestFailurePathProbes runs the scenario that reaches each failure-path
// probe (nodes.ScopeFailure), which no world of the model reaches: a WAL
// record damaged before the tail by an out-of-model bit flip, which etcd
// refuses to start from (wal.ErrCRCMismatch, a fatal boot). Seed 8 of
// this fault line fails m2's restart at 2.4 s.
func TestFailurePathProbes(t *testing.T) {
	f, err := ParseFaults("disk.bit_flip=1/1 crash=1/500")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(Config{Seed: 8, Faults: &f, Duration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range nodes.Probes() {
		if s, _ := nodes.ProbeScope(p); s == nodes.ScopeFailure {
			n++
			if rep.Probes[p] == 0 {
				t.Errorf("failure-path probe %s not hit by its scenario", p)
			}
		}
	}
	if n == 0 {
		t.Fatal("no failure-path probes")
	}
}

// TestChurnProbes checks that the probes only a membership change reaches
// (nodes.ScopeChurn) are hit in churn worlds of 3 members around 3 voters,
// over a fixed seed range.
func TestChurnProbes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 60 churn worlds")
	}
	var seen [nodes.NumProbes]bool
	for seed := 1; seed <= 60; seed++ {
		rep, err := Run(Config{Seed: uint64(seed), Churn: 3})
		if err != nil {
			t.Fatal(err)
		}
		for p, n := range rep.Probes {
			seen[p] = seen[p] || n > 0
		}
	}
	for _, p := range nodes.Probes() {
		if s, _ := nodes.ProbeScope(p); s == nodes.ScopeChurn && !seen[p] {
			t.Errorf("churn probe %s was not hit in churn seeds 1..60", p)
		}
	}
}
