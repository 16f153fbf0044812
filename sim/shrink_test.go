package sim

import (
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
)

// TestShrinkAuthCI: a failing auth-ci world shrinks to a plan of at most 20
// client operations and faults that still breaks the same invariant, and
// the shrunk plan replays to the same failure.
func TestShrinkAuthCI(t *testing.T) {
	cfg := Config{Seed: 2, Bugs: nodes.Bugs{AuthCI: true}, Duration: 20 * time.Second}
	sh, err := Shrink(cfg, 400)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s -> %s in %d runs: %s", sh.Before, sh.After, sh.Runs, sh.Report.Violation)
	if n := sh.After.Requests + sh.After.Faults; n > 20 {
		t.Fatalf("shrunk to %d steps, want at most 20:\n%s", n, sh.Config.Plan)
	}
	rep, err := Run(sh.Config)
	if err != nil || rep.Violation == nil || rep.Violation.Name != "commit-atomicity" {
		t.Fatalf("the shrunk plan does not fail the same way: %v %v", err, rep.Violation)
	}
}
