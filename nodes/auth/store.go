package auth

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// The names of etcd's built-in administrator.
const (
	RootUser = "root"
	RootRole = "root"
)

// Errors of the auth store; the messages are etcd's.
var (
	ErrRootUserNotExist     = errors.New("auth: root user does not exist")
	ErrRootRoleNotExist     = errors.New("auth: root user does not have root role")
	ErrUserAlreadyExist     = errors.New("auth: user already exists")
	ErrUserEmpty            = errors.New("auth: user name is empty")
	ErrUserNotFound         = errors.New("auth: user not found")
	ErrRoleAlreadyExist     = errors.New("auth: role already exists")
	ErrRoleNotFound         = errors.New("auth: role not found")
	ErrRoleEmpty            = errors.New("auth: role name is empty")
	ErrAuthFailed           = errors.New("auth: authentication failed, invalid user ID or password")
	ErrPermissionDenied     = errors.New("auth: permission denied")
	ErrRoleNotGranted       = errors.New("auth: role is not granted to the user")
	ErrPermissionNotGranted = errors.New("auth: permission is not granted to the role")
	ErrAuthNotEnabled       = errors.New("auth: authentication is not enabled")
	ErrAuthOldRevision      = errors.New("auth: revision in header is old")
	ErrInvalidAuthMgmt      = errors.New("auth: invalid auth management")
)

// errUnknownUser is what a KV check returns for a user that does not
// exist: etcd's isOpPermitted answers ErrPermissionDenied; errors.Is also
// matches ErrUserNotFound.
var errUnknownUser = fmt.Errorf("%w (%w)", ErrPermissionDenied, ErrUserNotFound)

// Options selects historical behaviours. The zero value is etcd's current
// behaviour.
type Options struct {
	// NoCacheRefresh puts back etcd 3.4.20-3.4.21 and 3.5.5 (#14355,
	// #14571; bug mode perm-cache-stale): Restore and Recover do not
	// rebuild the permission cache.
	NoCacheRefresh bool
	// OldGrantBumps puts back etcd before PR 11652 (part of bug mode
	// auth-ci, #11651): granting a role a permission it already has
	// rewrites the role and bumps the revision.
	OldGrantBumps bool
}

// Store is etcd's authStore over the auth buckets of a backend. It keeps in
// memory the revision, the enabled flag, a mirror of which users exist and
// hold the root role (etcd reads those from the backend at each check), and
// the permission cache. Not safe for concurrent use.
type Store struct {
	opts     Options
	revision uint64
	enabled  bool
	users    map[string]bool // user name -> holds the root role
	cache    permCache
	// memo and builds serve refresh (see rebuild).
	memo   map[string]*userMemo
	builds uint64
}

// New returns the store of an empty backend with etcd's current behaviour.
func New() *Store { return NewWithOptions(Options{}) }

// NewWithOptions returns the store of an empty backend. Its revision is 1:
// etcd's NewAuthStore commits revision 1 into an empty backend; etcdsim
// leaves the backend empty and Restore reads a missing revision as 1.
func NewWithOptions(opts Options) *Store {
	return &Store{
		opts:     opts,
		revision: 1,
		users:    map[string]bool{},
		cache:    permCache{users: map[string]*unified{}},
	}
}

// Restore loads a store from a backend at startup, as etcd's NewAuthStore:
// the enabled flag, the revision and the users, and the permission cache
// unless opts.NoCacheRefresh (#14355: the cache then stays empty).
func Restore(tx backend.ReadTx, opts Options) (*Store, error) {
	s := NewWithOptions(opts)
	if err := s.load(tx); err != nil {
		return nil, err
	}
	return s, nil
}

// Recover reloads the store from a backend after a snapshot install, as
// etcd's authStore.Recover; with Options.NoCacheRefresh the permission
// cache keeps its old contents (#14571). A corrupt record panics, as etcd's
// Must readers do.
func (s *Store) Recover(tx backend.ReadTx) {
	if err := s.load(tx); err != nil {
		panic(fmt.Sprintf("auth: recover: %v", err))
	}
}

func (s *Store) load(tx backend.ReadTx) error {
	rev, err := readRevision(tx)
	if err != nil {
		return err
	}
	users := map[string]bool{}
	tx.Range(UsersBucket, nil, nil, func(k, v []byte) bool {
		var u *user
		if u, err = decodeUser(v); err != nil {
			err = fmt.Errorf("%w: user %q", err, k)
			return false
		}
		users[string(k)] = hasRootRole(u.roles)
		return true
	})
	if err != nil {
		return err
	}
	if !s.opts.NoCacheRefresh { // the fix of #14355 and #14571
		if s.cache, err = buildCache(tx); err != nil {
			return err
		}
	}
	s.revision = max(rev, 1)
	s.enabled = readEnabled(tx)
	s.users = users
	return nil
}

// Revision returns the auth revision, etcd's AuthRevision.
func (s *Store) Revision() uint64 { return s.revision }

// Enabled reports whether authentication is enabled.
func (s *Store) Enabled() bool { return s.enabled }

// CacheHash returns an order-independent hash of the permission cache as
// it is, stale or not.
func (s *Store) CacheHash() uint64 { return s.cache.sum }

// RebuiltCacheHash returns the hash the permission cache would have if it
// were rebuilt from tx now; it equals CacheHash unless the cache is stale.
func (s *Store) RebuiltCacheHash(tx backend.ReadTx) uint64 {
	c, err := buildCache(tx)
	if err != nil {
		panic(fmt.Sprintf("auth: %v", err))
	}
	return c.sum
}

// commitRevision bumps the revision and saves it in the same transaction
// as the change (etcd's commitRevision and UnsafeSaveAuthRevision).
func (s *Store) commitRevision(tx backend.Tx) {
	s.revision++
	tx.Put(AuthBucket, []byte(RevisionKey), binary.BigEndian.AppendUint64(nil, s.revision))
}

// refresh rebuilds the permission cache: the refresh points of #13954's
// eager cache. A corrupt record, which the store wrote itself, panics.
func (s *Store) refresh(tx backend.ReadTx) {
	c, err := s.rebuild(tx)
	if err != nil {
		panic(fmt.Sprintf("auth: %v", err))
	}
	s.cache = c
}
