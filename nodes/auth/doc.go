// Package auth is etcdsim's model of etcd's auth store (etcd server/auth):
// users, roles, key-range permissions, the AuthRevision, and the permission
// cache that decides, at apply time, whether a member applies a request.
//
// The store is pure over a backend transaction: every mutation is applied
// from the log inside the batch transaction of its entry, and members and
// the reference state machine run the same code. Nothing here reads a clock
// or draws randomness; map order never reaches a result.
//
// # Schema
//
// As etcd's, three buckets:
//
//	auth       "authEnabled" = 0x01 | 0x00, "authRevision" = 8 bytes big-endian
//	authUsers  name -> password | nroles | role...        (uvarint lengths)
//	authRoles  name -> nperms | (type byte | key | end)...
//
// Strings and byte fields are uvarint-length-prefixed, counts are uvarints.
// Roles of a user are kept sorted; permissions of a role sorted by key and
// end. Passwords are stored in the clear: etcd stores a bcrypt hash, which
// a simulation has no use for.
//
// # Revision
//
// Every successful mutation that changes the auth data saves revision+1
// into the same transaction (etcd's commitRevision), with two exceptions
// copied from etcd: AuthEnable does not bump, and a mutation that changes
// nothing (enable when enabled, granting a held role, granting an identical
// permission) neither writes nor bumps. A fresh store is at revision 1, as
// etcd's NewAuthStore makes it; Restore reads a missing revision as 1.
//
// # Checks
//
// A request carries the user and the auth revision its proposer saw. The
// apply-time checks (IsPutPermitted, IsRangePermitted,
// IsDeleteRangePermitted) follow etcd's isOpPermitted:
//
//  1. auth disabled: permitted;
//  2. revision 0: ErrUserEmpty;
//  3. revision below the store's: ErrAuthOldRevision;
//  4. unknown user: ErrPermissionDenied (errors.Is also ErrUserNotFound);
//  5. the user holds the root role: permitted;
//  6. otherwise the permission cache decides: ErrPermissionDenied.
//
// Any difference between members in revision, users or cache therefore
// becomes a difference in which writes they apply.
//
// # The permission cache
//
// Per user, the merged read and write ranges of its roles (etcd's
// rangePermCache of unifiedRangePermissions). It is a real cache, rebuilt
// from the backend only at its refresh points: each auth mutation but
// AuthDisable and RoleAdd, Restore, and Recover. Options.NoCacheRefresh
// removes the last two, the bug of etcd 3.4.20 and 3.5.5 (#14355 at
// restart, #14571 at snapshot install): the stale cache denies users that
// the backend permits. CacheHash and RebuiltCacheHash let an invariant
// compare the cache with its recomputation. A refresh takes a user's entry
// from the last refresh when the user's roles and their records are the
// bytes it was merged from (Store.rebuild): the same cache as etcd's full
// rebuild, without merging an unchanged user's permissions again.
//
// A Store is not safe for concurrent use; etcdsim is single-threaded.
package auth
