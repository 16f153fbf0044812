package sim

import (
	"time"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/auth"
)

// The error paths of the request surface: requests a real client or
// operator sends that etcd refuses, chosen so that each is certain to fail
// without changing the membership, and a client patient enough to hear
// etcd's own request timeout. They ride genMore's "one in 40" path, so
// the default mix keeps its share.
//
//   - LeaseGrant of a lease ID just granted: the lessor's ErrLeaseExists
//     (lease/lessor.go Grant; clients may choose lease IDs).
//   - UserAdd with an empty name: auth's ErrUserEmpty (auth/store.go
//     UserAdd, at apply), by root or with auth off.
//   - In a world that models membership: MemberList, and MemberPromote of
//     an ID no member has (ErrIDNotFound from the leader's isLearnerReady,
//     before any proposal). Without churn (so that no member can come or
//     leave in between, and no client's conf change takes raft's one
//     pending slot from the operator's) also: MemberRemove and
//     MemberUpdate of an absent ID (ErrIDNotFound at apply); MemberPromote
//     of a voter (ErrMemberNotLearner at apply, or ErrLearnerNotReady first
//     when it lags); MemberAdd at a current member's peer URL and
//     MemberUpdate of a member to another's (ErrPeerURLexists in
//     ValidateConfigurationChange); and a MemberUpdate of a member to its
//     own peer URL, which etcd applies and which changes nothing.
//     --strict-reconfig-check may refuse any of them earlier (unhealthy,
//     not enough started), as etcd does. In a world that models
//     membership, three error paths in four are of the cluster API, the
//     call drawn first (each kind an equal share), its mistake second.
//   - A put or a linearizable range whose client waits longer than etcd's
//     ReqTimeout (as etcdctl --command-timeout=15s, or a Kubernetes
//     apiserver's request context, does): if its member cannot get it
//     applied or its ReadIndex answered in time, the client hears etcd's
//     ErrTimeout instead of giving up first.

// patientTimeout is a patient client's deadline: past any world's
// ReqTimeout (5s plus two election timeouts of at most 2s).
const patientTimeout = 15 * time.Second

// absentMember is a member ID no world uses: member IDs are small
// integers (below maxChurnID); etcd's are hashes, which a client mistypes.
const absentMember = 1<<32 + 0x17

// leaseGrantFresh is how recent an acknowledged grant must be for a second
// grant of its ID to be certain to find it (the workload's TTLs are 2 s
// and more; only a revoke in between could end it, and a grant then is a
// new life the lease checker follows).
const leaseGrantFresh = 500 * time.Millisecond

// genErrPath draws one error-path request for client c, or nil.
func (w *workload) genErrPath(c *client, k []byte) *nodes.Request {
	r := w.more
	admin := !w.opt.authOn || c.user == auth.RootUser
	if admin && w.cl.membership && r.IntN(4) != 0 {
		// Three in four here, for the few worlds that model membership.
		menu := w.clusterAPIErrors()
		return menu[r.IntN(len(menu))]()
	}
	var menu []func() *nodes.Request
	patient := func() *nodes.Request {
		c.patient = true
		if r.IntN(2) == 0 {
			return &nodes.Request{Kind: nodes.KindRange, Key: k}
		}
		return &nodes.Request{Kind: nodes.KindPut, Key: k, Value: w.value()}
	}
	menu = append(menu, patient, patient)
	if g := w.lastGrant; g.id != 0 && w.q.Now()-g.at < leaseGrantFresh {
		menu = append(menu, func() *nodes.Request {
			w.lastGrant.id = 0
			return &nodes.Request{Kind: nodes.KindLeaseGrant, Lease: g.id, TTL: g.ttl}
		})
	}
	if admin {
		menu = append(menu, func() *nodes.Request { return &nodes.Request{Kind: nodes.KindUserAdd, Name: "", Password: "x"} })
	}
	return menu[r.IntN(len(menu))]()
}

// clusterAPIErrors returns the cluster API requests of genErrPath that
// this world can send, one entry per request kind: a client or operator
// picks the call first (MemberAdd, MemberRemove, MemberUpdate,
// MemberPromote, MemberList) and its mistake second, so each kind gets
// an equal share of the path however many ways it has to be refused.
func (w *workload) clusterAPIErrors() []func() *nodes.Request {
	r := w.more
	voters := w.chk.Ref.ConfState().GetVoters()
	pick := func(ways ...func() *nodes.Request) func() *nodes.Request {
		return func() *nodes.Request { return ways[r.IntN(len(ways))]() }
	}
	list := func() *nodes.Request { return &nodes.Request{Kind: nodes.KindMemberList} }
	promoteAbsent := func() *nodes.Request {
		return &nodes.Request{Kind: nodes.KindMemberPromote, MemberID: absentMember}
	}
	if w.churn != nil {
		// With churn, only what is refused before a proposal: a client's
		// conf change would take raft's one pending slot from the operator's.
		return []func() *nodes.Request{list, promoteAbsent}
	}
	promote := []func() *nodes.Request{promoteAbsent}
	remove := func() *nodes.Request {
		return &nodes.Request{Kind: nodes.KindMemberRemove, MemberID: absentMember, PeerURL: peerURL(absentMember)}
	}
	update := []func() *nodes.Request{func() *nodes.Request {
		return &nodes.Request{Kind: nodes.KindMemberUpdate, MemberID: absentMember, PeerURL: peerURL(absentMember)}
	}}
	if len(voters) > 0 {
		promote = append(promote, func() *nodes.Request {
			return &nodes.Request{Kind: nodes.KindMemberPromote, MemberID: voters[r.IntN(len(voters))]}
		})
		// A MemberUpdate of a member to the peer URL it has, as an
		// operator re-applying its configuration: etcd validates and
		// applies it (UpdateRaftAttributes), and nothing changes.
		update = append(update, func() *nodes.Request {
			id := voters[r.IntN(len(voters))]
			return &nodes.Request{Kind: nodes.KindMemberUpdate, MemberID: id, PeerURL: peerURL(int(id))}
		})
	}
	if len(voters) > 1 {
		// A peer URL taken now stays taken: the membership never changes.
		update = append(update, func() *nodes.Request {
			i := r.IntN(len(voters))
			other := voters[(i+1+r.IntN(len(voters)-1))%len(voters)]
			return &nodes.Request{Kind: nodes.KindMemberUpdate, MemberID: voters[i], PeerURL: peerURL(int(other))}
		})
	}
	out := []func() *nodes.Request{list, pick(promote...), remove, pick(update...)}
	if len(voters) > 1 {
		out = append(out, func() *nodes.Request {
			taken := peerURL(int(voters[r.IntN(len(voters))]))
			return &nodes.Request{Kind: nodes.KindMemberAdd, MemberID: absentMember, PeerURL: taken, Learner: r.IntN(2) == 0}
		})
	}
	return out
}
