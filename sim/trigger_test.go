package sim

import (
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/prob"
)

// TestSnapshotTriggerWorlds checks which worlds take the blackhole as the
// trigger of their snapshot-path points (snapshotTrigger): a world without
// churn, of more than one member, that switches one on and whose
// retention allows the blackhole, and always with net.blackhole in its
// fault line; never a churn world or a lone member.
func TestSnapshotTriggerWorlds(t *testing.T) {
	triggered := 0
	for seed := uint64(1); seed <= 300; seed++ {
		for _, cfg := range []Config{
			{Seed: seed, Members: 3},
			{Seed: seed, Members: 1},
			{Seed: seed, Members: 3, Churn: 3},
		} {
			cfg.defaults()
			s := NewStreams(seed)
			o := drawOptions(cfg, s, s.Fork("faults"))
			n, tm := worldRetention(cfg, s)
			want := cfg.Members > 1 && cfg.Churn == 0 && len(o.pathArmed) > 0 && n+tm.catchUp <= blackholeEntries
			if o.pathTrigger != want {
				t.Fatalf("seed %d members %d churn %d: pathTrigger %v, want %v (armed %v, retention %d+%d)",
					seed, cfg.Members, cfg.Churn, o.pathTrigger, want, o.pathArmed, n, tm.catchUp)
			}
			if o.pathTrigger {
				triggered++
				if o.faults.Blackhole.Zero() {
					t.Fatalf("seed %d: triggered without net.blackhole in %s", seed, o.faults)
				}
			}
		}
	}
	if triggered == 0 {
		t.Fatal("no world of seeds 1..300 takes the trigger")
	}
}

// TestOneShotSharesThePath checks that a snapshot-path point that fired is
// off and the points still on share the path again; a point off the path
// keeps its rate.
func TestOneShotSharesThePath(t *testing.T) {
	d := &seeded{path: []nodes.Failpoint{nodes.FPBeforeSaveSnap, nodes.FPAfterApplySnap, nodes.FPBeforeOpenSnapshot}}
	for _, fp := range d.path {
		d.rate[fp] = leastFire(fp)
	}
	sharePath(&d.rate, d.path)
	d.rate[nodes.FPBeforeApply] = prob.Of(1, 500)
	want := func(fp nodes.Failpoint, r string) {
		t.Helper()
		if got := d.rate[fp].String(); got != r {
			t.Fatalf("%s at %s, want %s", fp, got, r)
		}
	}
	want(nodes.FPBeforeSaveSnap, "1/6")
	want(nodes.FPAfterApplySnap, "1/5")
	want(nodes.FPBeforeOpenSnapshot, "1/4")
	d.oneShot(nodes.FPBeforeApply) // not on the path: no change
	want(nodes.FPBeforeApply, "1/500")
	d.oneShot(nodes.FPAfterApplySnap)
	want(nodes.FPAfterApplySnap, "0")
	want(nodes.FPBeforeSaveSnap, "1/4")
	want(nodes.FPBeforeOpenSnapshot, "1/3")
	d.oneShot(nodes.FPBeforeSaveSnap)
	want(nodes.FPBeforeOpenSnapshot, "1/2")
	d.oneShot(nodes.FPBeforeOpenSnapshot)
	want(nodes.FPBeforeOpenSnapshot, "0")
	if len(d.path) != 0 {
		t.Fatalf("path left %v", d.path)
	}
}
