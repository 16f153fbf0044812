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
//   - ErrTorn: the frame runs past the end of the data, or its first
//     sector-chunk (from the frame start to the next 512-byte boundary) is
//     all zeros (which includes an all-zero header), or it overlaps a later
//     512-byte sector that is entirely zero. These are what a crash leaves
//     behind when unsynced sectors are lost (they read back as zeros, or
//     the file ends early). The caller repairs by truncating at the offset
//     of the bad frame. ErrTorn wraps io.ErrUnexpectedEOF, as etcd's torn
//     entries do.
//   - ErrCorrupt: anything else, a checksum mismatch over non-zero sectors.
//     Synced bytes changed under us: the caller must refuse to go on, never
//     skip the record (etcd #11924: a missing CRC check let bad records
//     through).
//
// Decoding never allocates per record: payloads alias the data.
package record
