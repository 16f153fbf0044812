package auth

import (
	"maps"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// IsPutPermitted checks a put of key by user, whose request carries the
// auth revision rev (etcd's IsPutPermitted).
func (s *Store) IsPutPermitted(user string, rev uint64, key []byte) error {
	return s.isOpPermitted(user, rev, key, nil, true)
}

// IsRangePermitted checks a range read (see Permission for key and end).
func (s *Store) IsRangePermitted(user string, rev uint64, key, end []byte) error {
	return s.isOpPermitted(user, rev, key, end, false)
}

// IsDeleteRangePermitted checks a delete of a range.
func (s *Store) IsDeleteRangePermitted(user string, rev uint64, key, end []byte) error {
	return s.isOpPermitted(user, rev, key, end, true)
}

// isOpPermitted is etcd's authStore.isOpPermitted, in its order: auth
// disabled permits all; a request without a revision has no user; an older
// revision than the store's is refused (ErrAuthOldRevision, the divergence
// amplifier of #11651); an unknown user is denied; the root role permits
// all; otherwise the permission cache decides, stale or not (#14355).
func (s *Store) isOpPermitted(user string, rev uint64, key, end []byte, write bool) error {
	switch {
	case !s.enabled:
		return nil
	case rev == 0:
		return ErrUserEmpty
	case rev < s.revision:
		return ErrAuthOldRevision
	}
	root, ok := s.users[user]
	switch {
	case !ok:
		return errUnknownUser
	case root:
		return nil
	}
	up := s.cache.users[user]
	if up == nil {
		return ErrPermissionDenied // etcd: "user doesn't exist" in the cache
	}
	ss := up.read
	if write {
		ss = up.write
	}
	point := len(end) == 0
	if openEnded(end) {
		end = nil
	}
	if covers(ss, key, end, point) {
		return nil
	}
	return ErrPermissionDenied
}

// IsAdminPermitted checks an admin operation (auth, user, role, member
// changes): the user must hold the root role. There is no revision check,
// as in etcd.
func (s *Store) IsAdminPermitted(user string) error {
	return AdminState{enabled: s.enabled, users: s.users}.Permitted(user)
}

// AdminState is what the admin check reads of a store, kept to judge an
// admin request later as the store would have judged it then.
type AdminState struct {
	enabled bool
	users   map[string]bool // user name -> holds the root role
}

// AdminState returns a copy of what the admin check reads now.
func (s *Store) AdminState() AdminState {
	return AdminState{enabled: s.enabled, users: maps.Clone(s.users)}
}

// Permitted is IsAdminPermitted over the state kept.
func (a AdminState) Permitted(user string) error {
	if !a.enabled {
		return nil
	}
	if user == "" {
		return ErrUserEmpty
	}
	root, ok := a.users[user]
	switch {
	case !ok:
		return ErrUserNotFound
	case !root:
		return ErrPermissionDenied
	}
	return nil
}

// CheckPassword checks a user's password (etcd's CheckPassword, which
// Authenticate calls); it fails when auth is disabled.
func (s *Store) CheckPassword(tx backend.ReadTx, user, password string) error {
	if !s.enabled {
		return ErrAuthNotEnabled
	}
	u := s.mustUser(tx, user)
	if u == nil || u.password != password {
		return ErrAuthFailed
	}
	return nil
}
