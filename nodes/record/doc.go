// Package record is the one on-disk framing that the WAL, the snapshot files
// and the backend share: a sequence of framed, checksummed records.
//
// A frame is a 12-byte header followed by the payload:
//
//	offset 0  length of the payload, uint32 little-endian
//	offset 4  CRC32C (Castagnoli) of the 4 length bytes
//	offset 8  CRC32C of the payload
//	offset 12 payload
//
// The length has a checksum of its own so that a torn or flipped length is
// never trusted to skip over data, the failure behind etcd's "max entry
// size limit exceeded" (etcd #14098, fixed by #15068).
//
// A Reader walks the frames of a whole file and stops at the first bad one,
// which it classifies the way etcd's WAL decoder does:
//
//   - ErrTorn: the frame runs past the end of the data (with a length
//     whose checksum holds), its length field is zero in its first sector
//     (etcd reads a zero length as the end of the file), or a checksum
//     failed and, by etcd's isTornEntry, the frame's bytes after the
//     length field, split at 512-byte sector boundaries, hold a chunk that
//     is all zeros. These are what a crash leaves behind when unsynced
//     sectors are lost (they read back as zeros, or the file ends early).
//     The caller repairs by truncating at the offset of the bad frame, if
//     etcd's other condition holds: the frame is in the last WAL file.
//     ErrTorn wraps io.ErrUnexpectedEOF, as etcd's torn entries do.
//   - ErrCorrupt: a checksum mismatch with no zeroed chunk. Synced bytes
//     changed under us: the caller must refuse to go on, never skip the
//     record (etcd's ErrCRCMismatch; #11924: a missing CRC check let bad
//     records through).
//
// A Reader over a preallocated file (Reader.Preallocated: its bytes, then
// zeros it never wrote up to its size) reads the zeros as etcd's decoder
// reads its zero-filled WAL files: at a frame boundary they are the clean
// end; a frame that runs into them is full length and fails its checksum
// over a zeroed chunk (torn, with Error.Checksum), never cut short.
//
// Error.Checksum tells a failed checksum (etcd's CRC mismatch, torn or not)
// from a frame cut short.
//
// Decoding never allocates per record: payloads alias the data.
package record
