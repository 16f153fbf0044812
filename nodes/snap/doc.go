// Package snap stores raft snapshots as files, as etcd's snapshotter does
// (etcd server/etcdserver/api/snap).
//
// A snapshot (metadata index and term, ConfState, data) is one checksummed
// record (package record) in "snap-<term>-<index>.snap", term and index in
// 16 hex digits as etcd names them. Save writes it to "<name>.tmp", syncs,
// renames and syncs the directory, so a file under its final name is whole.
//
// On restart a member picks its snapshot with LoadNewestAvailable: the
// newest file whose (index, term) has a snapshot marker in the WAL and
// whose index is at most the durable HardState's Commit (etcd #11888, which
// fixed restarts from a snapshot the WAL did not know about, #10219).
// Broken files are skipped, as etcd's loadMatching does, never trusted.
package snap
