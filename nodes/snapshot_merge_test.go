package nodes

import (
	"math/rand/v2"
	"testing"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/backend"
)

// TestMergedSnapshotAtApplied is etcd's createMergedSnapshotMessage: the
// MsgSnap a leader sends carries its applied index, term and database,
// not the index of the raft snapshot raft chose, so that the database's
// consistent index is the snapshot's index (seed 1720 of 5 members: a
// snapshot at 3400 with a database at 3419 failed server/verify after a
// graceful stop of its recipient).
func TestMergedSnapshotAtApplied(t *testing.T) {
	l := startLone(t, disk.New(rand.New(rand.NewPCG(1, 1)), disk.Faults{}), 10)
	l.run(3 * time.Second)
	l.puts(25)
	m := l.m
	s, err := m.storage.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if s.GetMetadata().GetIndex() >= m.apply.applied {
		t.Fatalf("raft snapshot at %d, applied %d: want the snapshot behind", s.GetMetadata().GetIndex(), m.apply.applied)
	}
	out := m.withSnapshotDB(&raftpb.Message{Type: raftpb.MsgSnap.Enum(), To: new(uint64(2)), Snapshot: s})
	md := out.GetSnapshot().GetMetadata()
	if md.GetIndex() != m.apply.applied || md.GetTerm() != m.apply.appliedTerm {
		t.Fatalf("merged snapshot at %d/%d, want the applied %d/%d", md.GetTerm(), md.GetIndex(), m.apply.appliedTerm, m.apply.applied)
	}
	fs := disk.New(rand.New(rand.NewPCG(2, 2)), disk.Faults{})
	f, err := fs.Create("db")
	if err == nil {
		_, err = f.Write(out.GetSnapshot().GetData())
	}
	if err != nil {
		t.Fatal(err)
	}
	mem, err := backend.Read(fs, "db")
	if err != nil {
		t.Fatal(err)
	}
	if ci := MetaUint(mem, KeyCI); ci != md.GetIndex() {
		t.Fatalf("merged database's consistent index %d, snapshot index %d", ci, md.GetIndex())
	}
}
