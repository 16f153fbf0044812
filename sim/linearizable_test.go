package sim

import (
	"fmt"
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/invariants/linearizable"
	"github.com/etcdsim/etcdsim/nodes"
)

func TestSerializableMonotonic(t *testing.T) {
	read := func(proc int, member uint64, call, ret int64, rev int64) Op {
		return Op{Proc: proc, Member: member, Req: &nodes.Request{Kind: nodes.KindRange, Serializable: true},
			Call: Duration(call), Return: Duration(ret), Result: nodes.Result{Rev: rev}}
	}
	ok := []Op{read(1, 1, 1, 2, 5), read(1, 1, 3, 4, 5), read(1, 2, 5, 6, 3), read(2, 1, 7, 8, 1), read(1, 1, 9, 0, 0)}
	if d := serializableMonotonic(ok); d != "" {
		t.Fatalf("other members, other clients and requests in flight may differ: %s", d)
	}
	bad := append(ok, read(1, 1, 11, 12, 4))
	if d := serializableMonotonic(bad); !strings.Contains(d, "client 1 from m1 went back in revision: 5") {
		t.Fatalf("a client's reads from one member went back, unnoticed: %q", d)
	}
}

// TestHistoryKeepsWhatChecksNeed runs worlds with the history trimmed to
// what the checks read (the default) and whole: the same runs, the same
// verdict and detail of the linearizability check, and a shorter history.
func TestHistoryKeepsWhatChecksNeed(t *testing.T) {
	worlds := map[string]BugWorld{}
	for _, b := range BugWorlds() {
		worlds[b.Bug] = b
	}
	cases := []struct {
		world BugWorld
		seed  uint64
	}{
		{BugWorld{Bug: "none", Members: 3, Workload: "default", Rate: 100}, 1},
		{BugWorld{Bug: "none", Members: 5, Workload: "default", Rate: 100}, 2},
		{worlds["stale-read"], 9},          // fails linearizable
		{worlds["serve-before-ready"], 43}, // fails linearizable
		{worlds["compaction-rev-regress"], 3},
	}
	for _, tc := range cases {
		cfg := tc.world.Config(tc.seed)
		cfg.Duration = 2 * LinCheckpoint // through a checkpoint, and the history compacted
		trimmed, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		keepWholeHistory = true
		whole, err := Run(cfg)
		keepWholeHistory = false
		if err != nil {
			t.Fatal(err)
		}
		if trimmed.TraceHash != whole.TraceHash || trimmed.Step != whole.Step || fmt.Sprint(trimmed.Violation) != fmt.Sprint(whole.Violation) {
			t.Fatalf("%s seed %d: trimmed %016x step %d %v; whole %016x step %d %v", tc.world.Bug, tc.seed,
				trimmed.TraceHash, trimmed.Step, trimmed.Violation, whole.TraceHash, whole.Step, whole.Violation)
		}
		a := linearizable.Check(linearizableOps(trimmed.History), 0)
		b := linearizable.Check(linearizableOps(whole.History), 0)
		if a.OK != b.OK || a.Detail != b.Detail || a.Ops != b.Ops || a.Partitions != b.Partitions {
			t.Fatalf("%s seed %d: trimmed history checks %+v, whole %+v", tc.world.Bug, tc.seed, a, b)
		}
		if serializableMonotonic(trimmed.History) != serializableMonotonic(whole.History) {
			t.Fatalf("%s seed %d: serializable reads judged differently", tc.world.Bug, tc.seed)
		}
		t.Logf("%s seed %d: %d of %d requests kept, %d checked, %v", tc.world.Bug, tc.seed, len(trimmed.History), len(whole.History), a.Ops, trimmed.Violation)
		if len(trimmed.History) >= len(whole.History) {
			t.Fatalf("%s seed %d: the trimmed history is not shorter (%d)", tc.world.Bug, tc.seed, len(trimmed.History))
		}
	}
}
