package sim

import (
	"fmt"
	"time"
)

// Shrunk is the result of Shrink.
type Shrunk struct {
	Config         Config  // the smallest failing world: its Plan and Duration
	Report         *Report // its run
	Before, After  PlanSize
	Runs           int // worlds run while shrinking
	BudgetExceeded bool
}

// PlanSize measures a plan for the shrink report.
type PlanSize struct {
	Requests, Faults int
	Duration         time.Duration
}

func (s PlanSize) String() string {
	return fmt.Sprintf("%d client operations, %d faults, %s", s.Requests, s.Faults, s.Duration)
}

// Shrink finds a smaller plan that still breaks the same invariant, as
// pebble's metamorphic reducer and ddmin do: it cuts the run off after its
// violation, then removes ever smaller chunks of steps while the failure
// stays, then cuts the duration again. budget bounds the worlds it runs.
func Shrink(cfg Config, budget int) (*Shrunk, error) {
	cfg.defaults()
	cfg.Trace, cfg.Timeline = nil, false
	rec := cfg
	rec.RecordPlan = true
	first, err := Run(rec)
	if err != nil {
		return nil, err
	}
	if first.Violation == nil {
		return nil, fmt.Errorf("sim: the world does not fail: nothing to shrink")
	}
	want := first.Violation.Name
	sh := &Shrunk{Runs: 1, Config: cfg, Report: first}
	sh.Config.RecordPlan = false
	sh.Config.Plan = first.Plan
	sh.Before = sizeOf(first.Plan, cfg.Duration)
	fails := func(c Config) (*Report, bool) {
		if sh.Runs >= budget {
			sh.BudgetExceeded = true
			return nil, false
		}
		sh.Runs++
		rep, err := Run(c)
		return rep, err == nil && rep.Violation != nil && rep.Violation.Name == want
	}
	sh.cutDuration(fails)
	sh.ddmin(fails)
	sh.cutDuration(fails)
	sh.After = sizeOf(sh.Config.Plan, sh.Config.Duration)
	return sh, nil
}

func sizeOf(p *Plan, d time.Duration) PlanSize {
	return PlanSize{Requests: p.Requests(), Faults: p.Faults(), Duration: d}
}

// cutDuration ends the safety phase just after the violation.
func (sh *Shrunk) cutDuration(fails func(Config) (*Report, bool)) {
	at := sh.Report.At
	if at >= sh.Config.Duration {
		return // broken in the liveness phase: keep the phase whole
	}
	d := (at/(100*time.Millisecond) + 1) * 100 * time.Millisecond
	c := sh.Config
	c.Duration = d
	c.Plan = &Plan{}
	for _, s := range sh.Config.Plan.Steps {
		if s.At <= d {
			c.Plan.Steps = append(c.Plan.Steps, s)
		}
	}
	if rep, ok := fails(c); ok {
		sh.Config, sh.Report = c, rep
	}
}

// ddmin removes chunks of steps while the same invariant still breaks.
func (sh *Shrunk) ddmin(fails func(Config) (*Report, bool)) {
	n := 2
	for steps := sh.Config.Plan.Steps; len(steps) > 0; steps = sh.Config.Plan.Steps {
		n = min(n, len(steps))
		chunk := (len(steps) + n - 1) / n
		removed := false
		for lo := 0; lo < len(steps) && !sh.BudgetExceeded; lo += chunk {
			c := sh.Config
			c.Plan = &Plan{Steps: append(append([]Step(nil), steps[:lo]...), steps[min(lo+chunk, len(steps)):]...)}
			if rep, ok := fails(c); ok {
				sh.Config, sh.Report, removed = c, rep, true
				break
			}
		}
		switch {
		case sh.BudgetExceeded:
			return
		case removed:
			n = max(n-1, 2)
		case n < len(steps):
			n = min(2*n, len(steps))
		default:
			return
		}
	}
}
