package sim

import (
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
)

// TestEveryKindHasAGenerator enumerates the member's request kinds and
// fails when some world never sends one: the default and the auth
// workloads over a few seeds must send every kind but a member's own
// publish request.
func TestEveryKindHasAGenerator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 24 worlds")
	}
	var sent [nodes.NumProbes]bool
	for seed := uint64(1); seed <= 12; seed++ {
		for _, workload := range []string{"default", "auth"} {
			rep, err := Run(Config{Seed: seed, Workload: workload})
			if err != nil {
				t.Fatal(err)
			}
			for p, n := range rep.Probes {
				sent[p] = sent[p] || n > 0
			}
		}
	}
	for k := nodes.Kind(1); !strings.HasPrefix(k.String(), "kind("); k++ {
		if k == nodes.KindPublish {
			continue // a member's own request, never a client's
		}
		any := false
		for o := range nodes.NumOutcomes {
			any = any || sent[nodes.RequestProbe(k, o)]
		}
		if !any {
			t.Errorf("request kind %s: no world sent one (seeds 1..12, default and auth workloads)", k)
		}
	}
}
