package sim

import (
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
)

// TestEveryKindHasAGenerator enumerates the member's request kinds and
// fails when some world never sends one: the default and the auth
// workloads over a few seeds must send every kind but a member's own
// requests (its publish, the leader's cluster version); the cluster API's kinds come from churn worlds, whose
// operator sends them.
func TestEveryKindHasAGenerator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 24 worlds")
	}
	var sent [nodes.NumProbes]bool
	var worlds []Config
	for seed := uint64(1); seed <= 12; seed++ {
		worlds = append(worlds, Config{Seed: seed, Workload: "default"}, Config{Seed: seed, Workload: "auth"})
	}
	for seed := uint64(1); seed <= 3; seed++ {
		worlds = append(worlds, Config{Seed: seed, Workload: "reconfig", Churn: 5})
	}
	for _, cfg := range worlds {
		{
			rep, err := Run(cfg)
			if err != nil {
				t.Fatal(err)
			}
			for p, n := range rep.Probes {
				sent[p] = sent[p] || n > 0
			}
		}
	}
	for k := nodes.Kind(1); !strings.HasPrefix(k.String(), "kind("); k++ {
		if k == nodes.KindPublish || k == nodes.KindClusterVersion {
			continue // a member's own request, never a client's
		}
		any := false
		for o := range nodes.NumOutcomes {
			any = any || sent[nodes.RequestProbe(k, o)]
		}
		if !any {
			t.Errorf("request kind %s: no world sent one (seeds 1..12 of the default and auth workloads, 1..3 of reconfig churning to 5)", k)
		}
	}
}
