package invariants

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/auth"
)

// members is what the reference keeps of membership and of the admin
// check, in worlds that model membership: raft's configuration after each
// conf change (through raft's own confchange code), and what the admin
// check read at each auth revision.
type members struct {
	conf       *raftpb.ConfState
	confDigest uint64
	epochs     []epoch // each configuration, from the index of its change
	admins     []adminAt
	bootIndex  uint64 // the last bootstrap entry
}

// epoch is a configuration and the index of the change that made it.
type epoch struct {
	index  uint64
	voters []uint64 // sorted
}

// adminAt is the admin check's state at one auth revision (auth enable
// does not bump the revision, so a revision can have two).
type adminAt struct {
	rev   uint64
	state auth.AdminState
}

// applyConf applies a conf change entry to the membership and to raft's
// configuration, as members do (a change the membership refuses reaches
// raft as an empty change).
func (r *Reference) applyConf(e *raftpb.Entry) error {
	var cc raftpb.ConfChange
	if err := proto.Unmarshal(e.Data, &cc); err != nil {
		return fmt.Errorf("invariants: conf change at %d: %v", e.GetIndex(), err)
	}
	err := r.state.Cluster.ApplyConfChange(r.mem, &cc, true, func() {})
	if err != nil {
		cc.NodeId = new(uint64(0))
	}
	cs, cerr := nodes.NextConfState(r.conf, &cc)
	if cerr != nil {
		return fmt.Errorf("invariants: raft refuses the conf change at %d: %v", e.GetIndex(), cerr)
	}
	r.conf, r.confDigest = cs, nodes.ConfDigest(cs)
	voters := slices.Clone(cs.GetVoters())
	slices.Sort(voters)
	r.epochs = append(r.epochs, epoch{index: e.GetIndex(), voters: voters})
	if r.ConfApplied != nil {
		r.ConfApplied(e.GetIndex(), &cc, err)
	}
	return nil
}

// EnableMembership makes conf change entries change the reference's
// membership and raft configuration (worlds that model membership). A
// cluster bootstraps with voters: raft starts in that configuration before
// its log holds anything, and the log begins with one entry adding each
// (raft's Bootstrap), which the members bucket takes one at a time.
func (r *Reference) EnableMembership(voters []uint64) {
	r.Membership = true
	r.conf = &raftpb.ConfState{Voters: slices.Clone(voters)}
	r.confDigest = nodes.ConfDigest(r.conf)
	r.bootIndex = uint64(len(voters))
	r.noteAuth()
}

// BootIndex returns the index of the last bootstrap entry.
func (r *Reference) BootIndex() uint64 { return r.bootIndex }

// noteAuth keeps what the admin check reads after an auth mutation.
func (r *Reference) noteAuth() {
	a := r.state.Auth
	r.admins = append(r.admins, adminAt{rev: a.Revision(), state: a.AdminState()})
}

// ConfState returns the reference's raft configuration (nil before the
// first conf change).
func (r *Reference) ConfState() *raftpb.ConfState { return r.conf }

// Members returns the reference's member list (etcd's RaftCluster), by ID.
func (r *Reference) Members() []nodes.ClusterMember { return r.state.Cluster.Members() }

// votersAt returns the voters of the configurations that can have
// committed index i: the one in force after every change below i, and the
// two before it (a leader commits by the configuration it has applied,
// which may trail the log by a change or two). It returns them newest
// first in an array, with how many there are: every acknowledgement asks,
// and a slice of them would be an allocation each time.
func (r *Reference) votersAt(i uint64) (out [3][]uint64, n int) {
	k := len(r.epochs)
	for k > 0 && r.epochs[k-1].index >= i {
		k--
	}
	for j := k - 1; j >= 0 && j >= k-3; j-- {
		out[n] = r.epochs[j].voters
		n++
	}
	return out, n
}

// adminAgrees reports whether the admin check at auth revision rev can
// give user the refusal code (a code of nodes, OK for none).
func (r *Reference) adminAgrees(rev uint64, user string, code nodes.Code) (bool, bool) {
	seen := false
	for _, a := range r.admins {
		if a.rev != rev {
			continue
		}
		seen = true
		if nodes.CodeOf(a.state.Permitted(user)) == code {
			return true, true
		}
	}
	return false, seen
}
