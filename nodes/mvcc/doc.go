// Package mvcc is etcdsim's model of etcd's multi-version key-value store
// (etcd server/storage/mvcc): the pure apply that every simulated member and
// the reference state machine run for each applied raft entry.
//
// # Revisions and the key bucket
//
// Every write transaction takes one main revision for all of its changes and
// numbers the changes inside it with sub revisions 0, 1, 2, ... A
// transaction that changes nothing (a delete of missing keys, a read-only
// txn) does not advance the revision, as etcd's storeTxnWrite.End.
//
// Each change is one record of the "key" bucket. Its key is the 17-byte
// revision (8-byte big-endian main, '_', 8-byte big-endian sub), with a
// trailing 't' for a tombstone, exactly as etcd lays it out, so the bucket
// iterates in revision order. Its value is a hand-encoded KeyValue:
//
//	klen uint32 | key | create int64 | mod int64 | version int64 | lease int64 | value
//
// with fixed-width big-endian integers and the value running to the end of
// the record. A tombstone's record holds only its key.
//
// # The key index
//
// An in-memory B-tree (github.com/google/btree) maps each key to its
// generations, as etcd's keyIndex: a generation runs from a put that
// creates the key to the tombstone that deletes it. The index answers reads
// at any uncompacted revision without touching the backend (each revision
// keeps its encoded record), and it is rebuilt from the key bucket by
// Restore.
//
// # Leases
//
// A version's lease is a field of its record; the lessor is not part of the
// store. As etcd's storeTxnWrite detaches a key from its old lease and
// attaches it to the new one at each put and delete, with what the write
// looked up anyway, a transaction reports the keys whose lease its writes
// changed (TxnResponse.LeaseMoves) for the caller's lessor to follow.
//
// # Compaction
//
// Compaction follows etcd's steps so that a member can crash between any two
// of them (etcd issue 17780):
//
//  1. Compact checks the revision, writes "scheduledCompactRev" into the
//     "meta" bucket and compacts the index at once; the member force-commits.
//  2. CompactionJob.Step deletes the records that are no longer needed from
//     the key bucket, a batch per call; the member force-commits each batch.
//  3. The last batch writes "finishedCompactRev".
//
// Restore resumes a compaction that was scheduled but never finished.
//
// # Hashes
//
// KVHash is an order-independent hash of the live view, kept up to date in
// O(1) per change, for comparing members and the reference. HashByRev is
// etcd's HashKV: a CRC32-Castagnoli over the key bucket up to a revision.
//
// # Historical behaviours
//
// The zero Options and RestoreOptions are etcd's current (fixed) behaviour.
// Options.DropCompactedTombstone puts back the compaction of etcd before
// 3.5.16, which also removed a tombstone at exactly the compaction revision
// (issue 18089); RestoreOptions.NoRevClamp puts back the restore of etcd
// before 3.5.14, which did not raise the revision to the scheduled
// compaction (issue 17780). Together they are the compaction-rev-regress
// bug mode: a crash during such a compaction loses the latest revision.
//
// A Store is not safe for concurrent use; etcdsim is single-threaded.
package mvcc
