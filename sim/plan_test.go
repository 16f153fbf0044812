package sim

import (
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
)

// TestRecordedPlanReplays: a seeded run records the plan it drew; running
// that plan gives the same run, event for event (the same trace hash).
func TestRecordedPlanReplays(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		cfg := Config{Seed: seed, Duration: 8 * time.Second, RecordPlan: true}
		if seed%4 == 0 {
			cfg.Bugs = nodes.Bugs{CIBeforeLock: true}
		}
		if seed%3 == 0 {
			cfg.Workload = "auth"
		}
		if seed%4 == 1 {
			// The membership operator draws from its own stream, in the
			// seeded run and in the run of its plan alike.
			cfg.Churn = 3
		}
		a, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		text := a.Plan.String()
		plan, err := ParsePlan(text)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Plan, cfg.RecordPlan = plan, false
		b, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		// Steps may differ: fault ticks that draw nothing are not
		// scheduled when the plan holds no fault, and they trace nothing.
		if a.TraceHash != b.TraceHash || a.Outcome() != b.Outcome() || a.At != b.At || a.End != b.End {
			t.Fatalf("seed %d: seeded run %016x %s (%d steps) vs its plan (%d requests, %d faults) %016x %s (%d steps)",
				seed, a.TraceHash, a.Outcome(), a.Steps, plan.Requests(), plan.Faults(), b.TraceHash, b.Outcome(), b.Steps)
		}
	}
}
