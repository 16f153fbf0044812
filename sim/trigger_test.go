package sim

import "testing"

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
