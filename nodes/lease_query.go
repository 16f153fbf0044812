package nodes

import "go.etcd.io/raft/v3"

// leaseQuery serves a lease's time to live and the list of leases. etcd's
// LeaseTimeToLive is answered by the leader's lessor (another member
// forwards it over its peer connection, leasehttp; here it answers that it
// does not lead and the client tries elsewhere, as for keep-alives);
// LeaseLeases lists the local lessor's leases on any member. Count is the
// number of leases listed; TTL the lease's granted time to live.
func (m *Member) leaseQuery(client int, req *Request) {
	le := m.state.Lease
	if req.Kind == KindLeaseLeases {
		m.reply(client, req.ID, Result{Rev: m.state.KV.Rev(), Count: int64(len(le.IDs()))})
		return
	}
	if m.rn.BasicStatus().RaftState != raft.StateLeader {
		m.reply(client, req.ID, Result{Code: ErrNotLeader, Rev: m.state.KV.Rev()})
		return
	}
	ttl, ok := le.TTL(req.Lease)
	if !ok {
		m.reply(client, req.ID, Result{Code: ErrLeaseNotFound, Rev: m.state.KV.Rev()})
		return
	}
	m.reply(client, req.ID, Result{Rev: m.state.KV.Rev(), TTL: ttl})
}
