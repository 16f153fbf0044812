// Package backend is the member's bbolt-like store (etcd
// server/storage/backend): named buckets of sorted keys, written through
// one long-lived batch transaction that the member commits periodically.
//
// State is a Mem that includes pending writes: the batch transaction's
// view, which sees its own writes as bbolt's read-write transaction does.
// Readers outside it use ReadTx (or ConcurrentReadTx), etcd's read side:
// the read buffer, then the database of the last commit, for every bucket.
// Puts reach the read buffer when the transaction unlocks (Unlock, etcd's
// batchTxBuffered.Unlock → writeback), a commit resets it, and deletes are
// not buffered: Unlock asks for a commit after a transaction that deleted
// (etcd PR 17119). readbuf.go has the details. On disk a backend is
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
