package nodes

import (
	"encoding/json"
	"errors"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"go.etcd.io/raft/v3/tracker"
)

// The cluster API of a member (etcd's server.go AddMember, PromoteMember,
// RemoveMember, UpdateMember, MemberList), with the checks etcd makes
// before it proposes: the admin permission, --strict-reconfig-check (on,
// as by default) and, for a promote, the leader's isLearnerReady.

// Transport is what a member's peer transport knows of its links (etcd's
// rafthttp Transport.ActiveSince), for the strict reconfiguration checks.
type Transport interface {
	// ActiveFor returns how long the link to peer has been active, and
	// false when it is not active.
	ActiveFor(peer uint64) (time.Duration, bool)
}

// Forward is a request a member sends another over the peer channel
// (etcd's promoteMemberHTTP), or the answer to one (Req nil).
type Forward struct {
	To     uint64
	Req    *Request
	ID     uint64 // the answer's request ID
	Result Result
}

// healthInterval is etcd's HealthInterval: how long links must have been
// active for the strict checks to count them.
const healthInterval = 5 * time.Second

// readyPercent is etcd's readyPercentThreshold for promoting a learner.
const readyPercent = 0.9

// errNotLeader is etcd's ErrNotLeader, which makes a follower forward a
// promote.
var errNotLeader = errors.New("nodes: not leader")

// forward is a promote a follower forwards to the leader until an answer
// ends it or ReqTimeout passes.
type forward struct {
	client   int
	req      *Request
	deadline time.Duration
	sent     time.Duration // when the try in flight left, or -1
}

// promoteWait is a promote waiting for the apply loop to reach the commit
// index (etcd's waitAppliedIndex, up to a second).
type promoteWait struct {
	client   int
	from     uint64
	req      *Request
	index    uint64
	deadline time.Duration
}

// submitMember runs a cluster API request from a client; it reports
// whether req was one.
func (m *Member) submitMember(client int, req *Request) bool {
	switch req.Kind {
	case KindMemberAdd, KindMemberRemove, KindMemberUpdate:
		m.memberChange(client, req)
	case KindMemberPromote:
		m.promote(client, 0, req)
	case KindMemberList:
		m.linearizableRead(client, req) // etcd's MemberList: linearizableReadNotify, then the list
	default:
		return false
	}
	return true
}

// memberChange is AddMember, RemoveMember and UpdateMember: proposed by
// the member that receives them (raft forwards the proposal).
func (m *Member) memberChange(client int, req *Request) {
	if code, ok := m.admin(req); !ok {
		m.reply(client, req.ID, Result{Code: code})
		return
	}
	var err error
	switch req.Kind {
	case KindMemberAdd:
		err = m.mayAddMember(req.Learner)
	case KindMemberRemove:
		err = m.mayRemoveMember(req.MemberID)
	}
	if err != nil {
		m.reply(client, req.ID, Result{Code: memberCode(err)})
		return
	}
	m.proposeConf(client, 0, req)
}

// admin is checkMembershipOperationPermission; a refusal is told to the
// observer, with the user and auth revision it was judged by.
func (m *Member) admin(req *Request) (Code, bool) {
	err := m.state.Auth.IsAdminPermitted(req.User)
	if err == nil {
		return OK, true
	}
	code := codeOf(err)
	if o := m.cfg.Observer; o != nil {
		o.Refused(m, req, code)
	}
	return code, false
}

// proposeConf proposes req's ConfChange, with req's ID for the waiter
// (etcd's configure); from is the peer that forwarded it, or 0.
func (m *Member) proposeConf(client int, from uint64, req *Request) {
	if err := m.node().ProposeConfChange(confChangeOf(req)); err != nil {
		m.answer(client, from, req.ID, Result{Code: ErrNoLeader})
		return
	}
	m.waiters[req.ID] = waiter{client: client, peer: from, since: m.clock}
}

// confChangeOf builds the ConfChange etcd proposes for a request.
func confChangeOf(req *Request) *raftpb.ConfChange {
	t := raftpb.ConfChangeAddNode
	var ctx any
	switch req.Kind {
	case KindMemberAdd:
		if req.Learner {
			t = raftpb.ConfChangeAddLearnerNode
		}
		ctx = &ClusterMember{ID: req.MemberID, PeerURLs: []string{req.PeerURL}, IsLearner: req.Learner}
	case KindMemberPromote:
		ctx = &confChangeContext{ClusterMember: ClusterMember{ID: req.MemberID}, IsPromote: true}
	case KindMemberRemove:
		t = raftpb.ConfChangeRemoveNode
	case KindMemberUpdate:
		t = raftpb.ConfChangeUpdateNode
		ctx = &ClusterMember{ID: req.MemberID, PeerURLs: []string{req.PeerURL}}
	}
	cc := &raftpb.ConfChange{Id: new(req.ID), Type: &t, NodeId: new(req.MemberID)}
	if ctx != nil {
		b, err := json.Marshal(ctx)
		if err != nil {
			panic(err)
		}
		cc.Context = b
	}
	return cc
}

// answer replies to a client, or to the peer that forwarded the request.
func (m *Member) answer(client int, from, id uint64, res Result) {
	if from != 0 {
		m.out.Forwards = append(m.out.Forwards, Forward{To: from, ID: id, Result: res})
		return
	}
	m.reply(client, id, res)
}

// memberCode is the gRPC error a client sees for a cluster API error.
func memberCode(err error) Code {
	switch {
	case errors.Is(err, errIDRemoved), errors.Is(err, errIDNotFound):
		return ErrMemberNotFound
	case errors.Is(err, errIDExists):
		return ErrMemberExists
	case errors.Is(err, errPeerURLexists):
		return ErrPeerURLExists
	case errors.Is(err, errMemberNotLearner):
		return ErrMemberNotLearner
	case errors.Is(err, errTooManyLearners):
		return ErrTooManyLearners
	case errors.Is(err, errLearnerNotReady):
		return ErrLearnerNotReady
	case errors.Is(err, errNotEnoughStarted):
		return ErrNotEnoughStarted
	case errors.Is(err, errUnhealthy):
		return ErrUnhealthy
	}
	return ErrBadRequest
}

// The server's refusals before proposing (etcdserver/errors).
var (
	errLearnerNotReady  = errors.New("nodes: can only promote a learner member which is in sync with leader")
	errNotEnoughStarted = errors.New("nodes: re-configuration failed due to not enough started members")
	errUnhealthy        = errors.New("nodes: unhealthy cluster")
)

// learnerRefuses is etcd's learner interceptor (isRPCSupportedForLearner):
// a member that its own membership holds as a learner serves only
// serializable ranges (and Status, which the model has not).
func (m *Member) learnerRefuses(req *Request) bool {
	me := m.state.Cluster.Member(m.cfg.ID)
	if me == nil || !me.IsLearner {
		return false
	}
	return req.Kind != KindRange || !req.Serializable
}

// progress returns raft's Match of id, as the leader tracks it.
func (m *Member) progress(id uint64) (match uint64, found bool) {
	m.rn.WithProgress(func(pid uint64, _ raft.ProgressType, pr tracker.Progress) {
		if pid == id {
			match, found = pr.Match, true
		}
	})
	return match, found
}
