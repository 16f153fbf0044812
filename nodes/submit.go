package nodes

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.etcd.io/raft/v3"
)

// waiter is a client waiting for its proposal to be applied here.
type waiter struct {
	client int
	peer   uint64 // the member that forwarded the request, or 0
	since  time.Duration
	// timed: a KV, lease or auth proposal, which etcd's
	// processInternalRaftRequestOnce bounds by ReqTimeout; a cluster API
	// change (configure) waits on the client's context alone.
	timed bool
}

// reqTimeout is etcd's Cfg.ReqTimeout(): 5s plus two election timeouts
// (7s with etcd's defaults), how long a proposal may wait for its apply
// and a ReadIndex for its answer before etcd answers ErrTimeout.
func (m *Member) reqTimeout() time.Duration {
	return 5*time.Second + 2*time.Duration(m.cfg.ElectionTicks)*m.cfg.TickInterval
}

// expireWaiters ends the proposals not applied here in time. A timed one
// is answered ErrTimeout at ReqTimeout, as processInternalRaftRequestOnce
// does when its context's deadline passes (parseProposeCtxErr; the model
// does not tell apart its ErrTimeoutDueToLeaderFail and
// ErrTimeoutDueToConnectionLost, which are the same timeout to a client).
// Others are forgotten after readTimeout: their client has long given up.
// The answers go out in request ID order, not the map's.
func (m *Member) expireWaiters() {
	var late []uint64
	for id, w := range m.waiters {
		switch age := m.clock - w.since; {
		case w.timed && age >= m.reqTimeout():
			late = append(late, id)
		case !w.timed && age >= readTimeout:
			delete(m.waiters, id)
		}
	}
	slices.Sort(late)
	for _, id := range late {
		w := m.waiters[id]
		delete(m.waiters, id)
		m.answer(w.client, w.peer, id, Result{Code: ErrTimeout})
	}
}

// Submit takes a client request. Writes are proposed through raft and
// answered after the local apply; ranges are served locally, through
// ReadIndex unless serializable; defrag runs on this member only.
func (m *Member) Submit(client int, req *Request) {
	defer m.pump()
	m.probeInstalling()
	if !m.serving() {
		m.reply(client, req.ID, Result{Code: ErrUnavailable})
		return
	}
	// Simple tokens: the header carries the proposing member's current
	// auth revision (etcd's processInternalRaftRequestOnce).
	req.AuthRevision = m.state.Auth.Revision()
	if m.cfg.Membership {
		if m.learnerRefuses(req) {
			m.reply(client, req.ID, Result{Code: ErrNotSupportedForLearner})
			return
		}
		if m.submitMember(client, req) {
			return
		}
	}
	switch req.Kind {
	case KindDefrag:
		m.startDefrag(client, req.ID)
	case KindRange:
		m.submitRange(client, req)
	case KindLeaseKeepAlive:
		m.keepAlive(client, req)
	case KindLeaseTimeToLive, KindLeaseLeases:
		m.leaseQuery(client, req)
	case KindAuthenticate:
		m.reply(client, req.ID, Result{Code: codeOf(m.state.Auth.CheckPassword(m.be.ReadTx(), req.Name, req.Password)), Rev: m.state.KV.Rev()})
	default:
		if err := m.node().Propose(req.Encode()); err != nil {
			// raft.ErrProposalDropped: no leader known (etcd answers
			// ErrNoLeader after its own timeout).
			m.reply(client, req.ID, Result{Code: ErrNoLeader})
			return
		}
		m.waiters[req.ID] = waiter{client: client, since: m.clock, timed: true}
	}
}

func (m *Member) reply(client int, id uint64, res Result) {
	m.out.Replies = append(m.out.Replies, Reply{Client: client, ID: id, Result: res})
}

func (m *Member) submitRange(client int, req *Request) {
	if req.Serializable {
		m.probe(ProbeReadSerializable)
		m.reply(client, req.ID, m.state.Read(req))
		return
	}
	if m.cfg.Bugs.StaleRead && m.rn.BasicStatus().RaftState == raft.StateLeader {
		// The partitioned-leader stale read: a leader answers from local
		// state without confirming it still leads.
		m.reply(client, req.ID, m.state.Read(req))
		return
	}
	m.linearizableRead(client, req)
}

// serveRead answers a read whose ReadIndex was applied: a range, or the
// member list.
func (m *Member) serveRead(req *Request) Result {
	if req.Kind == KindMemberList {
		return Result{Rev: m.state.KV.Rev(), Members: m.state.Cluster.Members()}
	}
	return m.state.Read(req)
}

// serving reports whether the member serves clients: etcd's embed serves
// its client listeners only after ReadyNotify (serveCtx.serve waits for it,
// in 3.5 and 3.6 alike), which closes once the member's publish request is
// applied — so that a restarted member, whose raft commit index may trail
// what it acknowledged before the crash (a commit-only HardState is not
// fsynced), has caught up with a quorum first (etcd-io/raft#105,
// etcd#16675). A member that cannot publish never serves: the
// --wait-cluster-ready-timeout that let serve go on after 5 s was in 3.6's
// development only (etcd 1713dc67b, reverted by e31de5e3c before 3.6.0).
//
// The bug mode serve-before-ready serves at once, as etcd with that
// timeout at zero would; etcdsim found the stale read it allows in its own
// correct model before the publish was modelled.
func (m *Member) serving() bool {
	return m.published || m.cfg.Bugs.ServeBeforeReady
}

// monitorVersion is the leader's monitorClusterVersions: while the cluster
// version is unset it proposes the version its members run, every four
// seconds (monitorVersionInterval) until one applies.
func (m *Member) monitorVersion() {
	if !m.cfg.Membership || m.state.Cluster.Version() != "" || m.clock%(4*time.Second) != 0 || !m.leads() {
		return
	}
	req := &Request{ID: m.internalID(), Kind: KindClusterVersion, Name: ClusterVersion}
	_ = m.node().Propose(req.Encode())
}

// publish proposes the member's announcement, again every second of the
// member's clock until it is applied (etcd's publishV3 retries). The
// first try is at the first tick past a second: with a drawn tick such as
// robustness's 29 or 101 ms the clock never lands on a whole second.
func (m *Member) publish() {
	if m.published || m.clock < m.nextPublish || m.clock < time.Second {
		return
	}
	m.nextPublish = m.clock + time.Second
	req := &Request{ID: m.internalID(), Kind: KindPublish, Name: fmt.Sprintf("m%d", m.cfg.ID)}
	if m.cfg.Membership {
		// ClusterMemberAttrSet: its member ID and client URL.
		req.MemberID, req.PeerURL = m.cfg.ID, m.clientURL()
	}
	_ = m.node().Propose(req.Encode())
}

// clientURL is the member's client URL: its peer URL's host on etcd's
// client port.
func (m *Member) clientURL() string {
	for _, cm := range m.cfg.Initial {
		if cm.ID == m.cfg.ID && len(cm.PeerURLs) > 0 {
			return strings.Replace(cm.PeerURLs[0], ":2380", ":2379", 1)
		}
	}
	return ""
}
