package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
)

// runLine runs seed with a fault line and returns its report.
func runLine(t *testing.T, seed uint64, line string, d time.Duration) *Report {
	t.Helper()
	f, err := ParseFaults(line)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(Config{Seed: seed, Faults: &f, Duration: d})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// expectViolation fails the test unless rep broke name with evidence
// containing every part.
func expectViolation(t *testing.T, rep *Report, name invariants.Invariant, parts ...string) {
	t.Helper()
	v := rep.Violation
	if v == nil || v.Name != name {
		t.Fatalf("violation %v, want %s", v, name)
	}
	for _, p := range parts {
		if !strings.Contains(v.Detail, p) {
			t.Fatalf("evidence %q lacks %q", v.Detail, p)
		}
	}
}

// TestPersistedBeforeSendLyingDisk: members whose fsyncs lie (the
// out-of-model disk.lying_sync: a broken disk under a correct member) send
// what their disks do not hold, and persisted-before-send says so at the
// send; the same world on an honest disk stays clean.
func TestPersistedBeforeSendLyingDisk(t *testing.T) {
	rep := runLine(t, 3, "disk.lying_sync=1/50 crash=1/1000", 10*time.Second)
	expectViolation(t, rep, invariants.PersistedBeforeSend, "acknowledged entries through index", "synced")
	if rep := runLine(t, 3, "crash=1/1000", 10*time.Second); rep.Violation != nil {
		t.Fatalf("honest disk: %v", rep.Violation)
	}
}

// TestGracefulStop: a world whose members stop cleanly (graceful_stop)
// runs etcd's server/verify at every stop and stays clean; the plan it
// records holds the stops and replays the run event for event.
func TestGracefulStop(t *testing.T) {
	f, err := ParseFaults("graceful_stop=1/100 crash=1/1000 net.drop=1/100")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Seed: 5, Faults: &f, Duration: 15 * time.Second, RecordPlan: true}
	a, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.Violation != nil {
		t.Fatalf("graceful stops: %v", a.Violation)
	}
	stops := 0
	for _, s := range a.Plan.Steps {
		if s.Kind == StepStop {
			stops++
		}
	}
	if stops < 3 {
		t.Fatalf("%d graceful stops in 15 s at 1/100 per tick", stops)
	}
	plan, err := ParsePlan(a.Plan.String())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Plan, cfg.RecordPlan = plan, false
	b, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.TraceHash != b.TraceHash || a.Outcome() != b.Outcome() {
		t.Fatalf("seeded %016x %s, its plan %016x %s", a.TraceHash, a.Outcome(), b.TraceHash, b.Outcome())
	}
}

// TestLeaseSemanticsJudges: in worlds with leases the lease checker judges
// grants, revokes by expiry and by clients, acknowledged keep-alives and
// reads of leased keys (it is not vacuous), and the correct model keeps
// etcd's lease promises.
func TestLeaseSemanticsJudges(t *testing.T) {
	var total invariants.LeaseCounts
	for seed := uint64(1); seed <= 12; seed++ {
		rep, err := Run(Config{Seed: seed, Duration: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Violation != nil {
			t.Fatalf("seed %d: %v", seed, rep.Violation)
		}
		s := rep.LeaseChecks
		total.Grants += s.Grants
		total.Revokes += s.Revokes
		total.ExpiryRevokes += s.ExpiryRevokes
		total.KeepAlives += s.KeepAlives
		total.LeasedReads += s.LeasedReads
		total.Revealed += s.Revealed
	}
	if total.Grants == 0 || total.ExpiryRevokes == 0 || total.Revokes == total.ExpiryRevokes || total.KeepAlives == 0 || total.LeasedReads == 0 ||
		total.Revealed < total.Revokes/2 {
		t.Fatalf("the lease checker judged too little: %+v", total)
	}
	t.Logf("%+v", total)
}

// TestLeaseSemanticsTickClock: members whose lessors read the tick clock
// (a broken member: renewals dated up to a tick early, the model before
// lease-semantics) revoke leases before etcd's promise, and the check says
// so; on their own clocks they do not.
func TestLeaseSemanticsTickClock(t *testing.T) {
	lessorTickClock = true
	rep, err := Run(Config{Seed: 2, Duration: 20 * time.Second})
	lessorTickClock = false
	if err != nil {
		t.Fatal(err)
	}
	expectViolation(t, rep, invariants.LeaseSemantics, "was revoked by", "expiry", "keep-alive sent at", "etcd promises it")
	if rep, err := Run(Config{Seed: 2, Duration: 20 * time.Second}); err != nil || rep.Violation != nil {
		t.Fatalf("members on their own clocks: %v %v", rep.Violation, err)
	}
}

// TestChecksOnlyRead: the checks read the world and never change it: a
// world's trace is the same with every check on and with them off.
func TestChecksOnlyRead(t *testing.T) {
	for seed := uint64(1); seed <= 16; seed++ {
		cfg := Config{Seed: seed, Duration: 20 * time.Second}
		if seed%4 == 0 {
			cfg.Workload = "auth"
		}
		on, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.NoChecks = true
		off, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if on.Violation != nil || on.TraceHash != off.TraceHash || on.Steps != off.Steps {
			t.Fatalf("seed %d: checks on %016x (%d steps, %v), off %016x (%d steps)", seed, on.TraceHash, on.Steps, on.Violation, off.TraceHash, off.Steps)
		}
	}
}
