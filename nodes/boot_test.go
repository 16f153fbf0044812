package nodes

import (
	"math/rand/v2"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/wal"
)

// TestBlankWALBootstrapsAgain is bootstrap-not-durable at a member's boot: a
// WAL that holds only its header (the member crashed before its first
// Ready was synced) restarts with no voters in etcd (#2877); the correct
// model bootstraps it as new.
func TestBlankWALBootstrapsAgain(t *testing.T) {
	for _, bug := range []bool{false, true} {
		fs := disk.New(rand.New(rand.NewPCG(1, 1)), disk.Faults{})
		if _, err := wal.Create(fs, nil); err != nil {
			t.Fatal(err)
		}
		cfg := Config{ID: 1, Peers: []uint64{1}, Rand: rand.New(rand.NewPCG(2, 2))}
		cfg.Bugs.BootstrapNotDurable = bug
		m, err := Start(cfg, fs)
		if err != nil {
			t.Fatal(err)
		}
		voters := m.rn.Status().Config.Voters.IDs()
		if _, ok := voters[1]; ok == bug {
			t.Fatalf("bug=%v: raft's voters after restart are %v", bug, voters)
		}
	}
}
