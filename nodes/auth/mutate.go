package auth

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// The mutations are applied from the log, each in the batch transaction of
// its entry. A mutation that fails, or that changes nothing, leaves the
// backend, the revision and the cache untouched. The others save the
// revision bump in the same transaction (etcd's commitRevision), except
// AuthEnable, which etcd never bumped; and they rebuild the permission
// cache, except AuthDisable and RoleAdd, which cannot change it and which
// etcd does not refresh after.

// AuthEnable turns authentication on; it needs the root user with the
// root role. Enabling it again does nothing (etcd: "already enabled").
func (s *Store) AuthEnable(tx backend.Tx) error {
	if s.enabled {
		return nil
	}
	u := s.mustUser(tx, RootUser)
	switch {
	case u == nil:
		return ErrRootUserNotExist
	case !hasRootRole(u.roles):
		return ErrRootRoleNotExist
	}
	tx.Put(AuthBucket, []byte(EnabledKey), []byte{1})
	s.enabled = true
	s.refresh(tx) // etcd's AuthEnable refreshes but keeps the revision
	return nil
}

// AuthDisable turns authentication off; disabling it again does nothing.
func (s *Store) AuthDisable(tx backend.Tx) error {
	if !s.enabled {
		return nil
	}
	tx.Put(AuthBucket, []byte(EnabledKey), []byte{0})
	s.commitRevision(tx)
	s.enabled = false
	return nil
}

// UserAdd adds a user without roles. The password is stored as given:
// etcd stores a bcrypt hash, which nothing here needs.
func (s *Store) UserAdd(tx backend.Tx, name, password string) error {
	if name == "" {
		return ErrUserEmpty
	}
	if s.mustUser(tx, name) != nil {
		return ErrUserAlreadyExist
	}
	s.putUser(tx, name, &user{password: password})
	s.commit(tx)
	return nil
}

// UserDelete deletes a user; the root user cannot be deleted while auth is
// enabled.
func (s *Store) UserDelete(tx backend.Tx, name string) error {
	if s.enabled && name == RootUser {
		return ErrInvalidAuthMgmt
	}
	if s.mustUser(tx, name) == nil {
		return ErrUserNotFound
	}
	tx.Delete(UsersBucket, []byte(name))
	delete(s.users, name)
	s.commit(tx)
	return nil
}

// UserChangePassword sets a user's password. It always bumps the
// revision, even to the same password: the re-applied mutation of #11651.
func (s *Store) UserChangePassword(tx backend.Tx, name, password string) error {
	u := s.mustUser(tx, name)
	if u == nil {
		return ErrUserNotFound
	}
	u.password = password
	s.putUser(tx, name, u)
	s.commit(tx)
	return nil
}

// UserGrantRole grants a role to a user. The role must exist, except
// "root"; granting a held role does nothing.
func (s *Store) UserGrantRole(tx backend.Tx, name, roleName string) error {
	u := s.mustUser(tx, name)
	if u == nil {
		return ErrUserNotFound
	}
	if roleName != RootRole && s.mustRole(tx, roleName) == nil {
		return ErrRoleNotFound
	}
	i, held := slices.BinarySearch(u.roles, roleName)
	if held {
		return nil // etcd: "ignored grant role request to a user"
	}
	u.roles = slices.Insert(u.roles, i, roleName)
	s.putUser(tx, name, u)
	s.commit(tx)
	return nil
}

// UserRevokeRole revokes a role from a user; root keeps the root role
// while auth is enabled.
func (s *Store) UserRevokeRole(tx backend.Tx, name, roleName string) error {
	if s.enabled && name == RootUser && roleName == RootRole {
		return ErrInvalidAuthMgmt
	}
	u := s.mustUser(tx, name)
	if u == nil {
		return ErrUserNotFound
	}
	i, held := slices.BinarySearch(u.roles, roleName)
	if !held {
		return ErrRoleNotGranted
	}
	u.roles = slices.Delete(u.roles, i, i+1)
	s.putUser(tx, name, u)
	s.commit(tx)
	return nil
}

// RoleAdd adds a role without permissions.
func (s *Store) RoleAdd(tx backend.Tx, name string) error {
	if name == "" {
		return ErrRoleEmpty
	}
	if s.mustRole(tx, name) != nil {
		return ErrRoleAlreadyExist
	}
	tx.Put(RolesBucket, []byte(name), encodeRole(&role{}))
	s.commitRevision(tx) // etcd's RoleAdd does not refresh the cache
	return nil
}

// RoleDelete deletes a role and revokes it from every user; the root role
// cannot be deleted while auth is enabled.
func (s *Store) RoleDelete(tx backend.Tx, name string) error {
	if s.enabled && name == RootRole {
		return ErrInvalidAuthMgmt
	}
	if s.mustRole(tx, name) == nil {
		return ErrRoleNotFound
	}
	tx.Delete(RolesBucket, []byte(name))
	type held struct {
		name string
		u    *user
	}
	var holders []held // collected first: no writes while ranging
	tx.Range(UsersBucket, nil, nil, func(k, v []byte) bool {
		u := mustDecodeUser(k, v)
		if i, ok := slices.BinarySearch(u.roles, name); ok {
			u.roles = slices.Delete(u.roles, i, i+1)
			holders = append(holders, held{string(k), u})
		}
		return true
	})
	for _, h := range holders {
		s.putUser(tx, h.name, h.u)
	}
	s.commit(tx)
	return nil
}

// RoleGrantPermission grants a permission to a role, or changes the type of
// the role's permission on the same range. Granting an identical
// permission does nothing (PR 11652), unless Options.OldGrantBumps.
func (s *Store) RoleGrantPermission(tx backend.Tx, roleName string, p Permission) error {
	if !validRange(p.Key, p.End) || p.Type > ReadWrite {
		return ErrInvalidAuthMgmt
	}
	r := s.mustRole(tx, roleName)
	if r == nil {
		return ErrRoleNotFound
	}
	p = Permission{Type: p.Type, Key: bytes.Clone(p.Key), End: bytes.Clone(p.End)}
	i, found := slices.BinarySearchFunc(r.perms, p, comparePerm)
	switch {
	case !found:
		r.perms = slices.Insert(r.perms, i, p)
	case r.perms[i].Type == p.Type && !s.opts.OldGrantBumps:
		return nil // the fix of #11651 (PR 11652): no bump for a no-op
	default:
		r.perms[i].Type = p.Type
	}
	tx.Put(RolesBucket, []byte(roleName), encodeRole(r))
	s.commit(tx)
	return nil
}

// RoleRevokePermission revokes the role's permission on exactly the range
// [key, end) (etcd compares both, not the type).
func (s *Store) RoleRevokePermission(tx backend.Tx, roleName string, key, end []byte) error {
	r := s.mustRole(tx, roleName)
	if r == nil {
		return ErrRoleNotFound
	}
	n := len(r.perms)
	r.perms = slices.DeleteFunc(r.perms, func(p Permission) bool {
		return bytes.Equal(p.Key, key) && bytes.Equal(p.End, end)
	})
	if len(r.perms) == n {
		return ErrPermissionNotGranted
	}
	tx.Put(RolesBucket, []byte(roleName), encodeRole(r))
	s.commit(tx)
	return nil
}

// commit ends a mutation that may change permissions: the revision bump
// and the cache refresh of etcd's auth mutations.
func (s *Store) commit(tx backend.Tx) {
	s.commitRevision(tx)
	s.refresh(tx)
}

func (s *Store) putUser(tx backend.Tx, name string, u *user) {
	tx.Put(UsersBucket, []byte(name), encodeUser(u))
	s.users[name] = hasRootRole(u.roles)
}

// mustUser and mustRole read records the store wrote itself: a corrupt
// one is a broken invariant.
func (s *Store) mustUser(tx backend.ReadTx, name string) *user {
	u, err := getUser(tx, name)
	if err != nil {
		panic(err)
	}
	return u
}

func (s *Store) mustRole(tx backend.ReadTx, name string) *role {
	r, err := getRole(tx, name)
	if err != nil {
		panic(err)
	}
	return r
}

func mustDecodeUser(k, v []byte) *user {
	u, err := decodeUser(v)
	if err != nil {
		panic(fmt.Errorf("%w: user %q", err, k))
	}
	return u
}
