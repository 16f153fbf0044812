// Package wal is etcd's write-ahead log (etcd server/storage/wal) over the
// simulated disk: raft entries, HardStates and snapshot markers as framed,
// checksummed records (package record) in a sequence of segment files.
//
// Files live flat in the FS as "wal-<seq>-<index>.wal", seq and index in
// 16 hex digits as etcd names them: index is the raft index the segment's
// first new entry was expected to have when it was cut. Every segment opens
// with a header record (seq, index, metadata) and a copy of the current
// HardState, so that releasing older segments never loses it.
//
// Duties of the caller, in the order etcd's raftNode.start has them:
//
//  1. Save(HardState, entries) writes both, volatile; Sync when
//     raft.MustSync says so. A HardState that only advances Commit is not
//     synced (etcd's rule), so the durable Commit may lag.
//  2. SaveSnapshot(index, term) after the snapshot file is durable (etcd
//     #11888 order); it syncs.
//  3. ReleaseTo(snapshot index) once the snapshot is durable, to bound the
//     number of segments.
//  4. A write or sync error is sticky: every later call returns it, and
//     the member must stop, as etcd's lg.Fatal does.
//
// Open reads every segment in order and applies etcd's ReadAll rule that an
// entry at index i replaces any entries at or after i. Damage follows
// etcd's decoder: a record cut short, a zero length field, or a record
// whose checksum failed over a sector chunk of zeros (isTornEntry) is a
// torn write only in the last segment, and Open cuts the tail there and
// syncs the truncation (etcd's Repair, which handles only
// io.ErrUnexpectedEOF). A checksum that failed anywhere else, or over
// bytes that are not zeroed, is a ReadError of kind ErrCRCMismatch; a
// record cut short in an earlier segment one of kind io.ErrUnexpectedEOF.
// Both are worded as etcd words them, match ErrCorrupt and are never
// skipped: the member's boot fails ("failed to read WAL, cannot be
// repaired"), as etcd's openWALFromSnapshot does.
//
// Segments are cut when the tail passes SegmentBytes (default 1 MiB): the
// tail is synced, the new segment is written to "<name>.tmp", synced,
// renamed and the directory synced (etcd's cut, and #6368's directory
// fsync), so a segment visible under its final name always has a durable
// header.
package wal
