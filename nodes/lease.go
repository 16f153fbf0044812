package nodes

import (
	"time"

	"go.etcd.io/raft/v3"

	"github.com/etcdsim/etcdsim/nodes/auth"
)

// The lessor's clock is the member's own monotonic clock (etcd's lessor
// reads time.Now): Config.Now, which the world hands in, drifting as the
// member's ticks do and running on while the process is paused, so a
// member whose clock drifts expires leases early or late, as a real one.
// Without it, the tick clock (ticks times TickInterval).
func (m *Member) now() time.Duration {
	if m.cfg.Now != nil {
		return m.cfg.Now()
	}
	return m.clock
}

// internalID returns a request ID for a proposal the member makes itself
// (lease revokes, publish), unique across its lives as etcd's ID generator
// (member ID and a time prefix): the top bit, the member ID, the life,
// then a counter.
func (m *Member) internalID() uint64 {
	m.internalSeq++
	return m.idPrefix() | m.internalSeq
}

func (m *Member) idPrefix() uint64 {
	return 1<<63 | (m.cfg.ID&0x7f)<<56 | (m.cfg.Life&0xffffff)<<32
}

// InternalProposer reports whether a request ID is one a member made for
// its own proposal (a lease revoke of its expiry, its publish), and which
// member (its ID modulo 128).
func InternalProposer(id uint64) (uint64, bool) {
	return id >> 56 & 0x7f, id>>63 == 1
}

// leadership runs when raft's role changes: the lessor is promoted on
// becoming leader, with its leases extended by an election timeout (etcd's
// Promote(extend)), and demoted on losing it.
func (m *Member) leadership(leader bool) {
	le := m.state.Lease
	switch {
	case leader && !le.Primary():
		le.Promote(m.now() + time.Duration(m.cfg.ElectionTicks)*m.cfg.TickInterval)
	case !leader && le.Primary():
		le.Demote()
	}
}

// revokeExpired is EtcdServer.revokeExpiredLeases: the leader proposes a
// revoke for each expired lease, as the root user with the current auth
// revision (#11689's fix). The old-version member of lease-revoke-no-auth
// proposes them with an empty header, as etcd 3.2 did.
//
// A member proposes only while raft says it leads: etcd #16822 ("Ignore
// old leader's leases revoking request", for #15247) made
// revokeExpiredLeases check ensureLeadership first, which trusts a member
// that ticked within three ticks and otherwise confirms it still leads
// (a ReadIndex round, then raft's Lead). The model runs this in the tick
// itself, right after raft's, with raft's state at hand, so the check is
// raft's role at this moment. Like etcd's, it cannot recall a revoke
// already proposed: a leader that is deposed and elected again (lessor
// Promote restarts every lease) can renew a lease and then commit the
// revoke it proposed in its earlier term (docs/findings.md). The observer
// is told of each proposal, for lease-semantics to judge keep-alives only
// against revokes proposed after they were acknowledged.
func (m *Member) revokeExpired() {
	if m.rn.BasicStatus().RaftState != raft.StateLeader {
		return
	}
	for _, id := range m.state.Lease.Expired(m.now(), 16) {
		req := &Request{ID: m.internalID(), Kind: KindLeaseRevoke, Lease: id}
		if !m.state.oldVersion {
			req.User, req.AuthRevision = auth.RootUser, m.state.Auth.Revision()
		}
		if err := m.node().Propose(req.Encode()); err == nil {
			if o := m.cfg.Observer; o != nil {
				o.RevokeProposed(m, req)
			}
		}
		m.probe(ProbeLeaseExpire)
	}
}

// keepAlive is etcd's LeaseRenew. A member that does not lead answers so
// and the client tries elsewhere (etcd forwards keep-alives to the leader
// over its peer connection). The leader first ensures its leadership
// (ensureLeadership, #16822 for #15247: a linearizable read round, then
// raft must still name it leader), then waits for its apply loop to reach
// the commit index (waitAppliedIndex, at most applyTimeout), and only then
// renews in its lessor: a leader paused or cut off must not renew a lease
// whose revoke the cluster has already committed.
func (m *Member) keepAlive(client int, req *Request) {
	if m.rn.BasicStatus().RaftState != raft.StateLeader {
		m.reply(client, req.ID, Result{Code: ErrNotLeader, Rev: m.state.KV.Rev()})
		return
	}
	if m.cfg.Bugs.RenewTrustsTick && m.isActive() {
		// etcd's ensureLeadership skips its round for a member that
		// ticked lately; a tick says the process runs, not that it
		// still leads (docs/findings.md).
		m.renewConfirmed(client, req)
		return
	}
	m.linearizableRead(client, req)
}

// isActive is etcd's: the member ticked within the last three ticks of
// its own clock (the mode renew-trusts-tick trusts raft's role then).
func (m *Member) isActive() bool {
	return m.now()-m.lastTick < 3*m.cfg.TickInterval
}

// applyTimeout is etcd's: how long waitAppliedIndex waits.
const applyTimeout = time.Second

// renewWait is a keep-alive whose leadership is ensured, waiting for the
// apply loop to reach the commit index it saw (waitAppliedIndex).
type renewWait struct {
	client int
	req    *Request
	index  uint64
	since  time.Duration
}

// renewConfirmed continues a keep-alive once its read round has served it:
// ensureLeadership's check of raft's leader, then waitAppliedIndex.
func (m *Member) renewConfirmed(client int, req *Request) {
	st := m.rn.BasicStatus()
	if st.Lead != m.cfg.ID {
		m.reply(client, req.ID, Result{Code: ErrNotLeader, Rev: m.state.KV.Rev()})
		return
	}
	if commit := st.GetCommit(); m.apply.applied < commit {
		m.renewWaits = append(m.renewWaits, renewWait{client: client, req: req, index: commit, since: m.clock})
		return
	}
	m.renew(client, req)
}

// renew is the lessor's Renew.
func (m *Member) renew(client int, req *Request) {
	ttl, err := m.state.Lease.Renew(req.Lease, m.now())
	m.reply(client, req.ID, Result{Code: codeOf(err), Rev: m.state.KV.Rev(), TTL: ttl})
}

// releaseRenews renews the keep-alives whose commit index has been
// applied, and answers ErrTimeout (ErrTimeoutWaitAppliedIndex) to those
// that waited applyTimeout.
func (m *Member) releaseRenews() {
	kept := m.renewWaits[:0]
	for _, w := range m.renewWaits {
		switch {
		case m.apply.applied >= w.index:
			m.renew(w.client, w.req)
		case m.clock-w.since >= applyTimeout:
			m.reply(w.client, w.req.ID, Result{Code: ErrTimeout})
		default:
			kept = append(kept, w)
		}
	}
	clear(m.renewWaits[len(kept):])
	m.renewWaits = kept
}
