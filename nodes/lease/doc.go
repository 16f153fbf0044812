// Package lease is etcdsim's model of etcd's lessor (etcd server/lease):
// leases with a TTL, the keys attached to them, and their expiry on the
// simulated clock of the member that believes it leads.
//
// # Persistence
//
// The lease bucket holds one record per lease, as etcd's schema:
//
//	key   = lease ID, int64 8 bytes big-endian
//	value = ID | TTL | RemainingTTL, int64s 8 bytes big-endian
//
// Grant and Checkpoint write the record and Revoke deletes it, in the
// batch transaction of the applied entry. Attached keys are not persisted:
// the key bucket holds each key's lease, and after Restore the member
// attaches them again from the MVCC store, as etcd's restore does. Restore
// ranges the whole bucket, so negative IDs (which sort after positive ones)
// come back too; etcd before #13676 skipped them (#12535).
//
// # Applying the log
//
// Every member runs the same pure operations for the same entries:
//
//  1. Grant(tx, id, ttl): the TTL is raised to MinTTL; ID 0, a TTL above
//     MaxTTL and an existing ID are errors.
//  2. Revoke(tx, id): returns the attached keys, sorted, for the caller to
//     delete from the key space in the same transaction.
//  3. Attach and Detach as puts and deletes change a key's lease (the
//     caller knows the key's previous lease from its MVCC record).
//  4. Checkpoint(tx, id, remaining): a leader's checkpoint of the remaining
//     TTL, persisted as in etcd 3.6.
//
// Hash sums a term per lease and per attached key, so members that applied
// the same entries have equal hashes whatever their map orders.
//
// # Expiry
//
// Only a primary lessor tracks expiries: Promote on becoming leader gives
// every lease now+TTL, Demote forgets them all (etcd's "forever"). Renew,
// a keep-alive, moves one lease's expiry to now+TTL. Expired lists the
// leases past their expiry, in batches of at most limit, for the member to
// propose their revokes; a listed lease is not listed again for
// RetryInterval. The lessor never reads a clock: every time is handed in by
// the caller, the member's tick clock, which may drift. A stalled member
// that still believes it leads sees every lease expire (#15247): guarding
// against that is the member's job (etcd's ensureLeadership).
//
// A Lessor is not safe for concurrent use; etcdsim is single-threaded.
package lease
