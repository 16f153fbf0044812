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
// Segments are preallocated with zeros to the segment size, as etcd's
// wal.Create and cut's file pipeline do (fileutil.Preallocate): the
// preallocated size is disk metadata (disk.File.Preallocate), durable with
// the segment's first sync, before its rename. The WAL writes at its own
// offset, as etcd's encoder writes at its file's, and a cut truncates the
// old tail there, giving its space back, so only the last segment is
// preallocated.
//
// Open reads every segment in order and applies etcd's ReadAll rule that an
// entry at index i replaces any entries at or after i. Reaching the
// preallocated zeros at a record boundary is the clean end (etcd's decoder
// reads the zero length as "end of file or preallocated space"). Damage
// follows etcd's decoder: a record cut short, or a record whose checksum
// failed over a sector chunk of zeros (isTornEntry) is a torn write only
// in the last segment, and Open cuts the tail there and syncs the
// truncation (etcd's Repair, which handles only io.ErrUnexpectedEOF), which
// frees the preallocated space: the tail then grows by appends until the
// next cut. A torn write in preallocated space reads back as a full-length
// record with zeros where its lost sectors were, the isTornEntry case
// (probe restart/torn-crc: 66 of default seeds 1..1000); past a file's
// end it is a record cut short. A zero length field with bytes after it
// (a lost sector, later ones kept) ends the log too; Open cuts there and
// preallocates the tail again to its size, as ReadAll's ZeroToEnd does,
// and syncs (etcd does not: its chained CRCs reject a stale record that an
// undone cut would bring back, the model's per-record checksums would
// not). A checksum that failed anywhere else, or over
// bytes that are not zeroed, is a ReadError of kind ErrCRCMismatch; a
// record cut short in an earlier segment one of kind io.ErrUnexpectedEOF.
// Both are worded as etcd words them, match ErrCorrupt and are never
// skipped: the member's boot fails ("failed to read WAL, cannot be
// repaired"), as etcd's openWALFromSnapshot does.
//
// Segments are cut when the tail passes SegmentBytes (default 1 MiB): the
// tail is truncated at its end and synced, the new segment is written to
// "<name>.tmp", preallocated, synced,
// renamed and the directory synced (etcd's cut, and #6368's directory
// fsync), so a segment visible under its final name always has a durable
// header.
package wal
