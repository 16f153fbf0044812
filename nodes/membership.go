package nodes

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// The membership schema of etcd 3.6 (server/storage/schema/membership.go):
// a member's key is its ID in lower-case hex, its value the JSON of
// membership.Member; a removed ID maps to "removed".
const (
	MembersBucket = "members"
	RemovedBucket = "members_removed"
	ClusterBucket = "cluster"
	versionKey    = "clusterVersion"
)

// ClusterVersion is the version every member of the model runs, which the
// leader makes the cluster's (etcd's decideClusterVersion, with all members
// of one version).
const ClusterVersion = "3.6.0"

// DefaultMaxLearners is etcd's --max-learners default.
const DefaultMaxLearners = 1

// The errors of etcd's membership package (server/etcdserver/api/membership/errors.go).
var (
	errIDRemoved        = errors.New("nodes: membership: ID removed")
	errIDExists         = errors.New("nodes: membership: ID exists")
	errIDNotFound       = errors.New("nodes: membership: ID not found")
	errPeerURLexists    = errors.New("nodes: membership: peerURL exists")
	errMemberNotLearner = errors.New("nodes: membership: can only promote a learner member")
	errTooManyLearners  = errors.New("nodes: membership: too many learner members in cluster")
)

// ClusterMember is etcd's membership.Member: its JSON is etcd's, field for
// field (RaftAttributes and Attributes are embedded there).
type ClusterMember struct {
	ID         uint64   `json:"id"`
	PeerURLs   []string `json:"peerURLs"`
	IsLearner  bool     `json:"isLearner,omitempty"`
	Name       string   `json:"name,omitempty"`
	ClientURLs []string `json:"clientURLs,omitempty"`
}

// IsStarted is etcd's Member.IsStarted: the member's own publish applied.
func (cm *ClusterMember) IsStarted() bool { return cm.Name != "" }

// confChangeContext is etcd's membership.ConfigChangeContext, the Context
// of an AddNode or AddLearnerNode ConfChange.
type confChangeContext struct {
	ClusterMember
	IsPromote bool `json:"isPromote"`
}

// memberSet is one copy of the membership: the members sorted by ID and
// the removed IDs, sorted. etcd keeps three: the RaftCluster's maps in
// memory, the backend's buckets, and the v2store's tree.
type memberSet struct {
	Members []ClusterMember `json:"members"`
	Removed []uint64        `json:"removed,omitempty"`
	Version string          `json:"version,omitempty"` // the cluster version
}

// find returns member id of the set, or nil.
func (s *memberSet) find(id uint64) *ClusterMember {
	i, ok := slices.BinarySearchFunc(s.Members, id, byID)
	if !ok {
		return nil
	}
	return &s.Members[i]
}

// byID orders members by ID, for binary searches.
func byID(m ClusterMember, id uint64) int { return cmp.Compare(m.ID, id) }

// isRemoved reports whether id was removed.
func (s *memberSet) isRemoved(id uint64) bool {
	_, ok := slices.BinarySearch(s.Removed, id)
	return ok
}

// put adds m to the set, or replaces the member of its ID.
func (s *memberSet) put(m ClusterMember) {
	i, ok := slices.BinarySearchFunc(s.Members, m.ID, byID)
	if ok {
		s.Members[i] = m
		return
	}
	s.Members = slices.Insert(s.Members, i, m)
}

// remove takes id out of the members and marks it removed.
func (s *memberSet) remove(id uint64) {
	s.Members = slices.DeleteFunc(s.Members, func(m ClusterMember) bool { return m.ID == id })
	if i, ok := slices.BinarySearch(s.Removed, id); !ok {
		s.Removed = slices.Insert(s.Removed, i, id)
	}
}

// clone returns a copy that shares nothing with s but the strings.
func (s *memberSet) clone() memberSet {
	out := memberSet{Members: make([]ClusterMember, len(s.Members)), Removed: slices.Clone(s.Removed), Version: s.Version}
	copy(out.Members, s.Members)
	return out
}

// learners counts the learners of the set.
func (s *memberSet) learners() int {
	n := 0
	for i := range s.Members {
		if s.Members[i].IsLearner {
			n++
		}
	}
	return n
}

// memberKey is a member's key in the buckets: its ID in lower-case hex.
func memberKey(id uint64) []byte { return []byte(strconv.FormatUint(id, 16)) }

// readMembers is etcd's MustReadMembersFromBackend.
func readMembers(tx backend.ReadTx) (memberSet, error) {
	var s memberSet
	var err error
	tx.Range(MembersBucket, nil, nil, func(_, v []byte) bool {
		var m ClusterMember
		if err = json.Unmarshal(v, &m); err != nil {
			return false
		}
		s.put(m)
		return true
	})
	if err != nil {
		return s, fmt.Errorf("nodes: membership: corrupt member record: %w", err)
	}
	if v, ok := tx.Get(ClusterBucket, []byte(versionKey)); ok {
		s.Version = string(v)
	}
	tx.Range(RemovedBucket, nil, nil, func(k, _ []byte) bool {
		id, perr := strconv.ParseUint(string(k), 16, 64)
		if perr != nil {
			err = fmt.Errorf("nodes: membership: corrupt removed record %q", k)
			return false
		}
		if i, ok := slices.BinarySearch(s.Removed, id); !ok {
			s.Removed = slices.Insert(s.Removed, i, id)
		}
		return true
	})
	return s, err
}

// saveMember is etcd's MustSaveMemberToBackend (an unconditional put since
// 3.5.20 and in 3.6). The bug mode promotion-not-persisted puts back 3.5.1-
// 3.5.19's unsafeSaveMemberToBackend (#13348): a member whose key exists
// is not written again, so a promotion, a peer-URL update and the publish
// attributes never reach the bucket (#19557, fixed by #19563).
func saveMember(tx backend.Tx, m *ClusterMember, bugs Bugs) {
	key := memberKey(m.ID)
	if bugs.PromotionNotPersisted {
		if _, ok := tx.Get(MembersBucket, key); ok {
			return
		}
	}
	putMember(tx, m)
}

// putMember writes a member's record, whatever the bucket holds (etcd's
// MustHackySaveMemberToBackend, and the correct MustSaveMemberToBackend).
func putMember(tx backend.Tx, m *ClusterMember) {
	v, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	tx.Put(MembersBucket, memberKey(m.ID), v)
}

// deleteMember is etcd's MustDeleteMemberFromBackend.
func deleteMember(tx backend.Tx, id uint64) {
	tx.Delete(MembersBucket, memberKey(id))
	tx.Put(RemovedBucket, memberKey(id), []byte("removed"))
}
