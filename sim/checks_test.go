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
	expectViolation(t, rep, invariants.PersistedBeforeSend, "m3 acknowledged entries through index", "synced")
	if rep := runLine(t, 3, "crash=1/1000", 10*time.Second); rep.Violation != nil {
		t.Fatalf("honest disk: %v", rep.Violation)
	}
}
