package nodes

import (
	"github.com/etcdsim/etcdsim/nodes/auth"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// permitted is etcd's authApplierV3: KV requests are checked against the
// request header's user and AuthRevision (isOpPermitted: ErrUserEmpty,
// ErrAuthOldRevision, the permission cache); auth mutations need an admin;
// a lease revoke needs write permission on every key of the lease
// (checkLeasePuts, #8031) — which is what the internal revokes of an
// expired lease must satisfy with the root user (#11689's fix).
func (s *State) permitted(req *Request) error {
	a := s.Auth
	user, rev := req.User, req.AuthRevision
	switch req.Kind {
	case KindPut:
		return a.IsPutPermitted(user, rev, req.Key)
	case KindDeleteRange:
		return a.IsDeleteRangePermitted(user, rev, req.Key, req.End)
	case KindTxn:
		return s.txnPermitted(user, rev, &req.Txn)
	case KindLeaseRevoke:
		if s.bugs.LeaseRevokeNoAuth && s.oldVersion {
			return nil // etcd 3.2 applied revokes without any check
		}
		for _, k := range s.Lease.Keys(req.Lease) {
			if err := a.IsPutPermitted(user, rev, k); err != nil {
				return err
			}
		}
	}
	if req.Kind.IsAuth() && req.Kind != KindAuthEnable {
		return a.IsAdminPermitted(user)
	}
	return nil
}

func (s *State) txnPermitted(user string, rev uint64, t *mvcc.TxnRequest) error {
	a := s.Auth
	for _, c := range t.Compares {
		if err := a.IsRangePermitted(user, rev, c.Key, c.RangeEnd); err != nil {
			return err
		}
	}
	for _, branch := range [][]mvcc.Op{t.Success, t.Failure} {
		for i := range branch {
			op := &branch[i]
			var err error
			switch op.Type {
			case mvcc.OpRange:
				err = a.IsRangePermitted(user, rev, op.Key, op.End)
			case mvcc.OpPut:
				err = a.IsPutPermitted(user, rev, op.Key)
			case mvcc.OpDeleteRange:
				err = a.IsDeleteRangePermitted(user, rev, op.Key, op.End)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// applyAuth runs an auth mutation: each successful one bumps the auth
// revision in the same backend transaction (etcd's commitRevision).
func (s *State) applyAuth(tx backend.Tx, req *Request) error {
	a := s.Auth
	switch req.Kind {
	case KindAuthEnable:
		return a.AuthEnable(tx)
	case KindAuthDisable:
		return a.AuthDisable(tx)
	case KindUserAdd:
		return a.UserAdd(tx, req.Name, req.Password)
	case KindUserDelete:
		return a.UserDelete(tx, req.Name)
	case KindUserChangePassword:
		return a.UserChangePassword(tx, req.Name, req.Password)
	case KindUserGrantRole:
		return a.UserGrantRole(tx, req.Name, req.Role)
	case KindUserRevokeRole:
		return a.UserRevokeRole(tx, req.Name, req.Role)
	case KindRoleAdd:
		return a.RoleAdd(tx, req.Role)
	case KindRoleDelete:
		return a.RoleDelete(tx, req.Role)
	case KindRoleGrantPermission:
		return a.RoleGrantPermission(tx, req.Role, auth.Permission{Type: auth.PermType(req.Perm), Key: req.Key, End: req.End})
	case KindRoleRevokePermission:
		return a.RoleRevokePermission(tx, req.Role, req.Key, req.End)
	}
	return nil
}
