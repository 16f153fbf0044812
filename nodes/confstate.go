package nodes

import (
	"slices"
	"strconv"

	"go.etcd.io/raft/v3/confchange"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// NextConfState returns the configuration after cc, computed by raft's own
// confchange package as RawNode.ApplyConfChange computes it (a change with
// NodeID 0 changes nothing). The reference state machine tracks raft's
// configuration with it.
func NextConfState(cs *raftpb.ConfState, cc *raftpb.ConfChange) (*raftpb.ConfState, error) {
	trk := tracker.MakeProgressTracker(1, 0)
	cfg, prs, err := confchange.Restore(confchange.Changer{Tracker: trk, LastIndex: 1}, cs)
	if err != nil {
		return nil, err
	}
	trk.Config, trk.Progress = cfg, prs
	cfg, prs, err = confchange.Changer{Tracker: trk, LastIndex: 1}.Simple(cc.AsV2().Changes...)
	if err != nil {
		return nil, err
	}
	trk.Config, trk.Progress = cfg, prs
	return trk.ConfState(), nil
}

// raftConfDigest returns ConfDigest of the configuration raft holds now,
// its progress tracker's (which a restored snapshot replaces).
func (m *Member) raftConfDigest() uint64 {
	trk := tracker.ProgressTracker{Config: m.rn.Status().Config}
	return ConfDigest(trk.ConfState())
}

// ConfDigest returns a digest of a configuration's voters and learners;
// nil is the empty configuration.
func ConfDigest(cs *raftpb.ConfState) uint64 {
	voters, learners := slices.Clone(cs.GetVoters()), slices.Clone(cs.GetLearners())
	slices.Sort(voters)
	slices.Sort(learners)
	return membershipDigest(voters, learners)
}

// MembersDigest returns the digest, comparable with ConfDigest, of the
// members a backend's members bucket holds: their IDs and learner flags.
func MembersDigest(tx backend.ReadTx) (uint64, error) {
	s, err := readMembers(tx)
	if err != nil {
		return 0, err
	}
	var voters, learners []uint64
	for _, m := range s.Members {
		if m.IsLearner {
			learners = append(learners, m.ID)
		} else {
			voters = append(voters, m.ID)
		}
	}
	return membershipDigest(voters, learners), nil
}

// membershipDigest hashes two sorted ID lists (FNV-1a over their words).
func membershipDigest(voters, learners []uint64) uint64 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) { h = (h ^ v) * 1099511628211 }
	for _, id := range voters {
		mix(id)
	}
	mix(^uint64(0))
	for _, id := range learners {
		mix(id)
	}
	return h
}

// ConfString prints a configuration as "voters=[1 2] learners=[4]".
func ConfString(cs *raftpb.ConfState) string {
	voters, learners := slices.Clone(cs.GetVoters()), slices.Clone(cs.GetLearners())
	slices.Sort(voters)
	slices.Sort(learners)
	return "voters=" + fmtIDs(voters) + " learners=" + fmtIDs(learners)
}

// fmtIDs prints IDs as "[1 2 3]".
func fmtIDs(ids []uint64) string {
	b := []byte{'['}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendUint(b, id, 10)
	}
	return string(append(b, ']'))
}
