package sim

import (
	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/auth"
)

// The auth and lease parts of the workload. With auth on, clients act as
// three users — root, alice (read-write on k00..k07) and bob (read-write on
// k08..k15, read on all) — and root changes users, roles and permissions
// while everyone writes through every member: the shape of the field
// reports behind etcd #11651, #14355 and #14571. With leases on, clients
// grant short leases, attach keys to them, keep some alive and revoke
// some, and the leader expires the rest (#11689).

var authUsers = []string{auth.RootUser, "alice", "bob"}

// authSetup is the script that root runs first: users, roles, grants, and
// finally auth enable.
func authSetup() []*nodes.Request {
	perm := func(role string, t auth.PermType, lo, hi int) *nodes.Request {
		return &nodes.Request{Kind: nodes.KindRoleGrantPermission, Role: role, Perm: uint8(t), Key: key(lo), End: key(hi)}
	}
	return []*nodes.Request{
		{Kind: nodes.KindUserAdd, Name: auth.RootUser, Password: "rootpw"},
		{Kind: nodes.KindRoleAdd, Role: auth.RootRole},
		{Kind: nodes.KindUserGrantRole, Name: auth.RootUser, Role: auth.RootRole},
		{Kind: nodes.KindRoleAdd, Role: "ra"},
		perm("ra", auth.ReadWrite, 0, 8),
		{Kind: nodes.KindUserAdd, Name: "alice", Password: "a0"},
		{Kind: nodes.KindUserGrantRole, Name: "alice", Role: "ra"},
		{Kind: nodes.KindRoleAdd, Role: "rb"},
		perm("rb", auth.ReadWrite, 8, 16),
		perm("rb", auth.Read, 0, 16),
		{Kind: nodes.KindUserAdd, Name: "bob", Password: "b0"},
		{Kind: nodes.KindUserGrantRole, Name: "bob", Role: "rb"},
		{Kind: nodes.KindAuthEnable},
	}
}

// genAuthChange draws one auth mutation by root: password changes,
// permission grants and revokes (identical grants included, which etcd
// before PR 11652 counted as a change), role revokes and re-grants.
func (w *workload) genAuthChange() *nodes.Request {
	r := w.rng
	lo := r.IntN(keyspace)
	hi := lo + 1 + r.IntN(keyspace-lo)
	switch r.IntN(6) {
	case 0:
		u := authUsers[1+r.IntN(2)]
		return &nodes.Request{Kind: nodes.KindUserChangePassword, Name: u, Password: u + "-" + itoa(int(w.nextID))}
	case 1:
		return &nodes.Request{Kind: nodes.KindRoleGrantPermission, Role: "ra", Perm: uint8(auth.ReadWrite), Key: key(lo), End: key(hi)}
	case 2:
		return &nodes.Request{Kind: nodes.KindRoleRevokePermission, Role: "ra", Key: key(lo), End: key(hi)}
	case 3:
		return &nodes.Request{Kind: nodes.KindRoleGrantPermission, Role: "rb", Perm: uint8(auth.ReadWrite), Key: key(8), End: key(16)}
	case 4:
		return &nodes.Request{Kind: nodes.KindUserRevokeRole, Name: "bob", Role: "rb"}
	}
	return &nodes.Request{Kind: nodes.KindUserGrantRole, Name: "bob", Role: "rb"}
}

// genLease draws lease traffic; ok is false when there is no lease to use.
func (w *workload) genLease(k []byte) (*nodes.Request, bool) {
	r := w.rng
	if p := r.IntN(12); p < 3 || len(w.leases) == 0 {
		w.nextLease++
		id := w.nextLease
		w.leases = append(w.leases, id)
		if len(w.leases) > 8 {
			w.leases = w.leases[1:]
		}
		return &nodes.Request{Kind: nodes.KindLeaseGrant, Lease: id, TTL: int64(2 + r.IntN(7))}, true
	} else if p < 7 {
		req := w.put(k)
		req.Lease = w.leases[r.IntN(len(w.leases))]
		return req, true
	} else if p < 11 {
		return &nodes.Request{Kind: nodes.KindLeaseKeepAlive, Lease: w.leases[r.IntN(len(w.leases))]}, true
	}
	return &nodes.Request{Kind: nodes.KindLeaseRevoke, Lease: w.leases[r.IntN(len(w.leases))]}, true
}
