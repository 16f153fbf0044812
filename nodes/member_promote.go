package nodes

import (
	"time"

	"go.etcd.io/raft/v3"
)

// promote is PromoteMember: only the leader knows whether the learner is
// ready, so a follower forwards the request to it over the peer channel
// (promoteMemberHTTP), where the whole check runs again. from is the peer
// that forwarded req, or 0 for a client's.
func (m *Member) promote(client int, from uint64, req *Request) {
	if code, ok := m.admin(req); !ok {
		m.answer(client, from, req.ID, Result{Code: code})
		return
	}
	// isLearnerReady first waits for the apply loop to reach the commit
	// index (waitAppliedIndex, the fix of #15096), up to a second.
	if _, _, _, _, commit := m.RaftStatus(); m.apply.applied < commit {
		m.promoteWaits = append(m.promoteWaits, promoteWait{client: client, from: from, req: req, index: commit, deadline: m.clock + time.Second})
		return
	}
	m.decidePromote(client, from, req)
}

// decidePromote is mayPromoteMember, then the proposal; a follower
// forwards a client's promote instead.
func (m *Member) decidePromote(client int, from uint64, req *Request) {
	err := m.mayPromoteMember(req.MemberID)
	switch {
	case err == errNotLeader && from == 0:
		m.forwards = append(m.forwards, forward{client: client, req: req, deadline: m.clock + m.reqTimeout(), sent: -1})
		m.retryForwards()
	case err == errNotLeader:
		m.answer(client, from, req.ID, Result{Code: ErrNotLeader})
	case err != nil:
		m.answer(client, from, req.ID, Result{Code: memberCode(err)})
	default:
		m.proposeConf(client, from, req)
	}
}

// mayPromoteMember is isLearnerReady and, with --strict-reconfig-check,
// IsReadyToPromoteMember.
func (m *Member) mayPromoteMember(id uint64) error {
	if !m.leads() {
		return errNotLeader
	}
	match, found := m.progress(id)
	if !found {
		return errIDNotFound
	}
	lead, _ := m.progress(m.cfg.ID)
	if float64(match)/float64(lead) < readyPercent {
		return errLearnerNotReady
	}
	// IsReadyToPromoteMember counts the learner as a started voter: the fix
	// of #11633 (PR 11640, etcd 3.4.4). Before it the learner counted in
	// the cluster but not as started, so no lone voter could promote one.
	nmembers, nstarted := 1, 1
	if m.cfg.Bugs.PromoteQuorumMiscount {
		nstarted = 0
	}
	for _, v := range m.state.Cluster.voting() {
		nmembers++
		if v.IsStarted() {
			nstarted++
		}
	}
	if nstarted < nmembers/2+1 {
		return errNotEnoughStarted
	}
	return nil
}

// releasePromotes runs the promotes that waited for the apply loop, once
// it reached their index, and gives up on those past their second.
func (m *Member) releasePromotes() {
	waits := m.promoteWaits
	m.promoteWaits = nil
	for _, w := range waits {
		switch {
		case m.apply.applied >= w.index:
			m.decidePromote(w.client, w.from, w.req)
		case m.clock >= w.deadline:
			m.answer(w.client, w.from, w.req.ID, Result{Code: ErrTimeout})
		default:
			m.promoteWaits = append(m.promoteWaits, w)
		}
	}
}

// retryForwards sends each forwarded promote that has no try in flight
// to the leader, and ends those past ReqTimeout (m.reqTimeout) with ErrTimeout. etcd
// retries at once after a failure, bounded by the HTTP round trip; the
// model retries at the next raft tick, and re-sends a try that got no
// answer within a second (a lost request).
func (m *Member) retryForwards() {
	kept := m.forwards[:0]
	for _, f := range m.forwards {
		switch {
		case m.clock >= f.deadline:
			m.reply(f.client, f.req.ID, Result{Code: ErrTimeout})
			continue
		case m.leads():
			// The leader is this member now: the request goes to itself.
			m.decidePromote(f.client, 0, f.req)
			continue
		case m.lead != 0 && (f.sent < 0 || m.clock-f.sent >= time.Second):
			fwd := *f.req
			if m.cfg.Bugs.PromoteForwardAuth {
				// #14070, #20757: promoteMemberHTTP sent no Authorization
				// header before #20792; the leader sees no user.
				fwd.User = ""
			}
			m.out.Forwards = append(m.out.Forwards, Forward{To: m.lead, Req: &fwd})
			f.sent = m.clock
		}
		kept = append(kept, f)
	}
	clear(m.forwards[len(kept):])
	m.forwards = kept
}

// ServeForward runs a request another member forwarded (the leader's
// peerMemberPromoteHandler, which calls PromoteMember).
func (m *Member) ServeForward(from uint64, req *Request) {
	defer m.pump()
	if req.Kind == KindMemberPromote {
		m.promote(-1, from, req)
	}
}

// ForwardAnswered takes the answer to a forwarded request: a success and
// the refusals etcd stops at (learner not ready, not found, not a learner)
// go to the client; any other failure is tried again.
func (m *Member) ForwardAnswered(id uint64, res Result) {
	defer m.pump()
	for i := range m.forwards {
		f := &m.forwards[i]
		if f.req.ID != id {
			continue
		}
		switch res.Code {
		case OK, ErrLearnerNotReady, ErrMemberNotFound, ErrMemberNotLearner:
			m.reply(f.client, id, res)
			m.forwards = append(m.forwards[:i], m.forwards[i+1:]...)
		default:
			f.sent = -1
		}
		return
	}
}

// leads reports whether raft leads now.
func (m *Member) leads() bool { return m.rn.BasicStatus().RaftState == raft.StateLeader }
