package sim

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
)

// TestClusterKeysMembersByID: members are known by member ID, IDs are
// never reused, a removed member keeps its disk, a new member exists
// without a process, and the network learns its endpoint.
func TestClusterKeysMembersByID(t *testing.T) {
	w := newWorld(Config{Seed: 3, Members: 3})
	WithSeededCryptoRand(w.streams.Fork("raft/jitter"), func() {
		w.begin()
		w.loop(2 * time.Second)
	})
	cl := w.cl
	cl.remove(1)
	m := cl.add([2]int64{1, 1}, w.opt.diskFaults())
	if m.id != 4 || m.proc != nil {
		t.Fatalf("new member: id %d, process %v; want id 4 and no process", m.id, m.proc)
	}
	if got := fmt.Sprint(cl.ids()); got != "[1 3 4]" {
		t.Errorf("ids = %s, want [1 3 4]", got)
	}
	i, ok := cl.byID(2)
	if !ok || i != 1 || !cl.members[i].removed || cl.members[i].proc != nil {
		t.Errorf("removed m2: index %d %v, removed %v", i, ok, cl.members[i].removed)
	}
	if len(cl.members[i].fs.List()) == 0 {
		t.Error("the removed member's disk is empty")
	}
	if _, ok := cl.byID(5); ok {
		t.Error("an unknown ID has an index")
	}
	if !slices.Contains(cl.net.Endpoints(), 4) {
		t.Errorf("the network did not learn m4: %v", cl.net.Endpoints())
	}
	if j := cl.next(0); j != 2 {
		t.Errorf("next after m1 is index %d, want 2 (m3; m2 is removed)", j)
	}
}

// TestChurnWorldSetsClusterVersion: in a world that models membership the
// leader sets the cluster version, and every member holds it.
func TestChurnWorldSetsClusterVersion(t *testing.T) {
	w := newWorld(Config{Seed: 3, Members: 3, Churn: 3})
	WithSeededCryptoRand(w.streams.Fork("raft/jitter"), func() {
		w.begin()
		w.loop(10 * time.Second)
	})
	for _, m := range w.cl.members {
		if m.proc != nil && m.proc.ClusterVersion() != nodes.ClusterVersion {
			t.Errorf("m%d holds cluster version %q", m.id, m.proc.ClusterVersion())
		}
	}
}
