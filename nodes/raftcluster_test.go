package nodes

import (
	"encoding/json"
	"errors"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

func cc(t raftpb.ConfChangeType, id uint64, ctx any) *raftpb.ConfChange {
	c := &raftpb.ConfChange{Type: &t, NodeId: new(id)}
	if ctx != nil {
		c.Context, _ = json.Marshal(ctx)
	}
	return c
}

func urlMember(id uint64, url string, learner bool) ClusterMember {
	return ClusterMember{ID: id, PeerURLs: []string{url}, IsLearner: learner}
}

func promoteCtx(id uint64) any {
	return &confChangeContext{ClusterMember: ClusterMember{ID: id}, IsPromote: true}
}

// TestValidateConfigurationChange walks etcd's refusals at apply, in its
// order, each over the membership the steps before it made.
func TestValidateConfigurationChange(t *testing.T) {
	tx := backend.NewMem()
	c := &Cluster{MaxLearners: DefaultMaxLearners}
	steps := []struct {
		cc   *raftpb.ConfChange
		want error
	}{
		{cc(raftpb.ConfChangeAddNode, 1, urlMember(1, "u1", false)), nil},
		{cc(raftpb.ConfChangeAddNode, 1, urlMember(1, "u9", false)), errIDExists},
		{cc(raftpb.ConfChangeAddLearnerNode, 2, urlMember(2, "u1", true)), errPeerURLexists},
		{cc(raftpb.ConfChangeAddLearnerNode, 2, urlMember(2, "u2", true)), nil},
		{cc(raftpb.ConfChangeAddLearnerNode, 3, urlMember(3, "u3", true)), errTooManyLearners},
		{cc(raftpb.ConfChangeAddNode, 1, promoteCtx(1)), errMemberNotLearner},
		{cc(raftpb.ConfChangeAddNode, 4, promoteCtx(4)), errIDNotFound},
		{cc(raftpb.ConfChangeAddNode, 2, promoteCtx(2)), nil},
		{cc(raftpb.ConfChangeUpdateNode, 2, urlMember(2, "u1", false)), errPeerURLexists},
		{cc(raftpb.ConfChangeRemoveNode, 5, nil), errIDNotFound},
		{cc(raftpb.ConfChangeRemoveNode, 2, nil), nil},
		{cc(raftpb.ConfChangeAddNode, 2, urlMember(2, "u2", false)), errIDRemoved},
		{cc(raftpb.ConfChangeAddNode, 6, urlMember(6, "u2", false)), nil}, // a removed member's URL is free again
	}
	for i, s := range steps {
		if err := c.ApplyConfChange(tx, s.cc, true, func() {}); !errors.Is(err, s.want) {
			t.Fatalf("step %d (%v %d): %v, want %v", i, s.cc.GetType(), s.cc.GetNodeId(), err, s.want)
		}
	}
	d, err := MembersDigest(tx)
	if err != nil || d != ConfDigest(&raftpb.ConfState{Voters: []uint64{1, 6}}) {
		t.Fatalf("the bucket holds %v", c.Members())
	}
}

// TestReplayedUpdateKeepsLearner is the finding update-replay-learner: an
// update replayed below the consistent index, whose in-memory member is
// already promoted, must not make the v2 copy a voter, or the replayed
// promotion fails against it; with the mode it does, as etcd 3.6 does.
func TestReplayedUpdateKeepsLearner(t *testing.T) {
	for _, bug := range []bool{false, true} {
		tx := backend.NewMem()
		c := &Cluster{MaxLearners: DefaultMaxLearners, bugs: Bugs{UpdateReplayLearner: bug}}
		steps := []*raftpb.ConfChange{
			cc(raftpb.ConfChangeAddNode, 1, urlMember(1, "u1", false)),
			cc(raftpb.ConfChangeAddLearnerNode, 2, urlMember(2, "u2", true)),
			cc(raftpb.ConfChangeUpdateNode, 2, urlMember(2, "u2", false)),
			cc(raftpb.ConfChangeAddNode, 2, promoteCtx(2)),
		}
		for _, s := range steps {
			if err := c.ApplyConfChange(tx, s, true, func() {}); err != nil {
				t.Fatal(err)
			}
		}
		// A restart: the in-memory members come from the backend (m2 a
		// voter), the v2 copy from a snapshot taken before the learner's
		// update; the update and the promotion are replayed v2-only.
		r, err := loadCluster(tx, c.bugs)
		if err != nil {
			t.Fatal(err)
		}
		r.v2 = memberSet{Members: []ClusterMember{urlMember(1, "u1", false), urlMember(2, "u2", true)}}
		if err := r.ApplyConfChange(tx, steps[2], false, func() {}); err != nil {
			t.Fatal(err)
		}
		err = r.ApplyConfChange(tx, steps[3], false, func() {})
		if bug != errors.Is(err, errMemberNotLearner) {
			t.Fatalf("bug mode %v: the replayed promotion returned %v", bug, err)
		}
	}
}
