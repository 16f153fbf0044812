// Package backend is the member's bbolt-like store (etcd
// server/storage/backend): named buckets of sorted keys, written through
// one long-lived batch transaction that the member commits periodically.
//
// State is a Mem that includes pending writes, so reads see their own
// writes, like etcd's buffered batchTx after Unlock. On disk a backend is
// one file holding a sequence of commit records (package record): each
// WriteCommit appends the delta of one batch transaction, its puts and
// deletes in order, as a single checksummed record, so a commit is atomic.
// Open replays the records; a torn last record is cut off (the state is
// that of the commit before it), and damage before it is ErrCorrupt.
//
// The member decides when to commit (every 100 ms of simulated time, at
// 10,000 pending writes, or forced): the backend has no timer. A commit is
// WriteCommit, which runs the pre-commit hook (etcd's
// BackendHooks.OnPreCommitUnsafe, writing consistentIndex and term into the
// same batch) and appends the record, then SyncCommit, after which it is
// durable. Commit does both. With nothing pending, a commit does nothing,
// hook included.
//
// Defrag is etcd's copy-then-rename: DefragCopy commits pending writes and
// writes the whole state as one record to "<name>.defrag", synced;
// DefragRename renames it over the file and syncs the directory. A crash
// between the two leaves the old file, complete, and Open removes the
// leftover copy. DefragCopy(false) commits without the hook, the defrag
// path of etcd before v3.5.6 (#14685).
package backend
