package nodes

import (
	"encoding/json"
	"fmt"
	"slices"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// Cluster is etcd's RaftCluster (server/etcdserver/api/membership): the
// membership as the apply loop keeps it. v3 is its in-memory maps, loaded
// from the backend at start and at a snapshot install (Recover) and
// changed only together with the backend's buckets; v2 stands for the
// v2store, which etcd 3.6 still keeps: restored from the raft snapshot's
// data and changed by every entry applied, so that entries at or below the
// consistent index, whose backend writes are skipped, still validate
// against the membership of their own index.
type Cluster struct {
	v3          memberSet
	v2          memberSet
	MaxLearners int // --max-learners
	bugs        Bugs
}

// loadCluster is RaftCluster.Recover's UnsafeLoad: the membership from the
// backend's buckets.
func loadCluster(tx backend.ReadTx, bugs Bugs) (*Cluster, error) {
	s, err := readMembers(tx)
	if err != nil {
		return nil, err
	}
	return &Cluster{v3: s, MaxLearners: DefaultMaxLearners, bugs: bugs}, nil
}

// Members returns the members, sorted by ID (etcd's Members).
func (c *Cluster) Members() []ClusterMember { return c.v3.clone().Members }

// Member returns the member id, or nil.
func (c *Cluster) Member(id uint64) *ClusterMember { return c.v3.find(id) }

// IsIDRemoved is etcd's IsIDRemoved.
func (c *Cluster) IsIDRemoved(id uint64) bool { return c.v3.isRemoved(id) }

// voting returns the voting members.
func (c *Cluster) voting() []ClusterMember {
	var out []ClusterMember
	for _, m := range c.v3.Members {
		if !m.IsLearner {
			out = append(out, m)
		}
	}
	return out
}

// V2Data encodes the v2 copy, the data of a raft snapshot (etcd's
// snapshot Data is the v2store, membership included).
func (c *Cluster) V2Data() []byte {
	b, err := json.Marshal(&c.v2)
	if err != nil {
		panic(err)
	}
	return b
}

// SetV2Data restores the v2 copy from a raft snapshot's data.
func (c *Cluster) SetV2Data(p []byte) error {
	var s memberSet
	if len(p) > 0 {
		if err := json.Unmarshal(p, &s); err != nil {
			return fmt.Errorf("nodes: membership: snapshot data: %w", err)
		}
	}
	c.v2 = s
	return nil
}

// ValidateMaxLearners is etcd's ValidateMaxLearnerConfig at startup.
func (c *Cluster) ValidateMaxLearners() error {
	if c.v3.learners() > c.MaxLearners {
		return errTooManyLearners
	}
	return nil
}

// ApplyConfChange is etcd's applyConfChange up to raft: it validates cc
// against the backend (v3: the entry is above the consistent index) or the
// v2 copy (ValidateConfigurationChange), and applies it to the v2 copy and,
// with v3, to the backend and the in-memory maps. lock is the apply's
// backend lock (LockInsideApply), taken before the backend is written. A
// validation error changes nothing: the caller hands raft an empty change.
func (c *Cluster) ApplyConfChange(tx backend.Tx, cc *raftpb.ConfChange, v3 bool, lock func()) error {
	// ValidateConfigurationChange reads the members through the backend's
	// ReadTx (membershipBackend.readMembersFromBackend), not the batch tx.
	ctx, err := c.validate(backend.ReadSide(tx), cc, v3)
	if err != nil {
		return err
	}
	id := cc.GetNodeId()
	switch cc.GetType() {
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		if ctx.IsPromote {
			c.promote(tx, id, v3, lock)
			return nil
		}
		c.v2.put(ctx.ClusterMember)
		if v3 {
			lock()
			c.v3.put(ctx.ClusterMember)
			saveMember(tx, &ctx.ClusterMember, c.bugs)
		}
	case raftpb.ConfChangeRemoveNode:
		c.v2.remove(id)
		if v3 {
			lock()
			c.v3.remove(id)
			deleteMember(tx, id)
		}
	case raftpb.ConfChangeUpdateNode:
		c.updateRaftAttributes(tx, &ctx.ClusterMember, v3, lock)
	}
	return nil
}

// promote is RaftCluster.PromoteMember.
func (c *Cluster) promote(tx backend.Tx, id uint64, v3 bool, lock func()) {
	if m := c.v2.find(id); m != nil {
		m.IsLearner = false
	}
	m := c.v3.find(id)
	if !v3 {
		// etcd's workaround for #19557: a replayed promotion repairs a
		// backend that still holds the member as a learner.
		if m != nil && m.IsLearner {
			m.IsLearner = false
			putMember(tx, m)
		}
		return
	}
	lock()
	m.IsLearner = false
	saveMember(tx, m, c.bugs)
}

// updateRaftAttributes is RaftCluster.UpdateRaftAttributes: since 3.6.12
// (#21736, the fix of #21694) it copies only the peer URLs; the bug mode
// member-update-learner assigns the whole RaftAttributes, and MemberUpdate
// never sets IsLearner, so a learner becomes a voter in etcd's membership
// while raft still counts it as a learner.
func (c *Cluster) updateRaftAttributes(tx backend.Tx, u *ClusterMember, v3 bool, lock func()) {
	m := c.v3.find(u.ID)
	if m == nil {
		return // etcd: "Skipped updating non-existent member"
	}
	m.PeerURLs = u.PeerURLs
	if c.bugs.MemberUpdateLearner {
		m.IsLearner = u.IsLearner
	}
	if m2 := c.v2.find(u.ID); m2 != nil {
		m2.PeerURLs = u.PeerURLs
		if c.bugs.UpdateReplayLearner || c.bugs.MemberUpdateLearner {
			// etcd 3.6 writes the in-memory member's RaftAttributes to the
			// v2store (mustUpdateMemberInStore(c.members[id])). Replayed
			// at or below the consistent index, that member is the
			// backend's, from a later index: a learner's update after its
			// promotion marks it a voter in the v2store early, and the
			// replayed promotion then fails validation against the
			// v2store, so raft never takes it on this member (etcdsim's
			// finding, docs/findings.md).
			m2.IsLearner = m.IsLearner
		}
	}
	if v3 {
		lock()
		saveMember(tx, m, c.bugs)
	}
}

// UpdateAttributes is RaftCluster.UpdateAttributes, the apply of a
// member's publish: its name and client URLs. A member neither known nor
// removed makes etcd panic ("failed to update; member unknown").
func (c *Cluster) UpdateAttributes(tx backend.Tx, id uint64, name string, clientURLs []string, v3 bool, lock func()) {
	if m := c.v2.find(id); m != nil {
		m.Name, m.ClientURLs = name, clientURLs
	}
	m := c.v3.find(id)
	if m == nil {
		if !c.v3.isRemoved(id) {
			panic(fmt.Sprintf("nodes: membership: failed to update; member unknown: %x", id))
		}
		return
	}
	m.Name, m.ClientURLs = name, clientURLs
	if v3 {
		lock()
		saveMember(tx, m, c.bugs)
	}
}

// validate is RaftCluster.ValidateConfigurationChange, in etcd's order,
// and returns the change's decoded context. A context that does not decode
// makes etcd panic, as does an unknown change type.
func (c *Cluster) validate(tx backend.ReadTx, cc *raftpb.ConfChange, v3 bool) (*confChangeContext, error) {
	set := &c.v2
	if v3 {
		s, err := readMembers(tx)
		if err != nil {
			panic(err)
		}
		set = &s
	}
	id := cc.GetNodeId()
	if set.isRemoved(id) {
		return nil, errIDRemoved
	}
	ctx := &confChangeContext{}
	switch cc.GetType() {
	case raftpb.ConfChangeAddNode, raftpb.ConfChangeAddLearnerNode:
		mustUnmarshal(cc.GetContext(), ctx)
		if ctx.ID != id {
			panic(fmt.Sprintf("nodes: membership: got different member ID: %x in the entry, %x in its context", id, ctx.ID))
		}
		if ctx.IsPromote {
			return ctx, validatePromote(set, id)
		}
		return ctx, c.validateAdd(set, ctx, cc.GetType() == raftpb.ConfChangeAddLearnerNode)
	case raftpb.ConfChangeRemoveNode:
		if set.find(id) == nil {
			return nil, errIDNotFound
		}
	case raftpb.ConfChangeUpdateNode:
		mustUnmarshal(cc.GetContext(), ctx)
		if set.find(id) == nil {
			return nil, errIDNotFound
		}
		if peerURLTaken(set, ctx.PeerURLs, id) {
			return nil, errPeerURLexists
		}
	default:
		panic(fmt.Sprintf("nodes: membership: unknown ConfChange type %v", cc.GetType()))
	}
	return ctx, nil
}

// mustUnmarshal decodes a conf change's context, as etcd's lg.Panic does
// when it cannot.
func mustUnmarshal(p []byte, v any) {
	if err := json.Unmarshal(p, v); err != nil {
		panic(fmt.Sprintf("nodes: membership: failed to unmarshal confChangeContext: %v", err))
	}
}

// validatePromote refuses to promote a member that is not a learner.
func validatePromote(set *memberSet, id uint64) error {
	m := set.find(id)
	switch {
	case m == nil:
		return errIDNotFound
	case !m.IsLearner:
		return errMemberNotLearner
	}
	return nil
}

// validateAdd refuses an ID that exists, a peer URL in use, and a learner
// beyond --max-learners.
func (c *Cluster) validateAdd(set *memberSet, ctx *confChangeContext, learnerChange bool) error {
	if set.find(ctx.ID) != nil {
		return errIDExists
	}
	if peerURLTaken(set, ctx.PeerURLs, 0) {
		return errPeerURLexists
	}
	if ctx.IsLearner && learnerChange && set.learners()+1 > c.MaxLearners {
		return errTooManyLearners
	}
	return nil
}

// peerURLTaken reports whether a member other than except uses one of urls.
func peerURLTaken(set *memberSet, urls []string, except uint64) bool {
	for i := range set.Members {
		m := &set.Members[i]
		if m.ID == except {
			continue
		}
		for _, u := range m.PeerURLs {
			if slices.Contains(urls, u) {
				return true
			}
		}
	}
	return false
}

// Version returns the cluster version, "" before the leader set it.
func (c *Cluster) Version() string { return c.v3.Version }

// SetVersion is RaftCluster.SetVersion, the apply of ClusterVersionSet: the
// v2 copy always, the backend's cluster bucket with v3.
func (c *Cluster) SetVersion(tx backend.Tx, version string, v3 bool) {
	c.v2.Version = version
	if v3 {
		c.v3.Version = version
		tx.Put(ClusterBucket, []byte(versionKey), []byte(version))
	}
}
