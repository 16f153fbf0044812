package mvcc

import (
	"encoding/binary"
	"fmt"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// Bucket and meta key names, as etcd's schema.
const (
	// KeyBucket holds one record per change, keyed by revision.
	KeyBucket = "key"
	// MetaBucket holds the compaction markers (and the member's
	// consistent index, written by the member).
	MetaBucket = "meta"
	// ScheduledCompactKey is the meta key of the last scheduled compaction.
	ScheduledCompactKey = "scheduledCompactRev"
	// FinishedCompactKey is the meta key of the last finished compaction.
	FinishedCompactKey = "finishedCompactRev"
)

const (
	revBytesLen       = 8 + 1 + 8 // main, '_', sub: etcd's revBytesLen
	markedRevBytesLen = revBytesLen + 1
	markTombstone     = 't'
)

var (
	scheduledCompactKey = []byte(ScheduledCompactKey)
	finishedCompactKey  = []byte(FinishedCompactKey)
)

// revision is a (main, sub) pair: main names a write transaction, sub a
// change inside it.
type revision struct {
	main, sub int64
}

func (a revision) greater(b revision) bool {
	return a.main > b.main || (a.main == b.main && a.sub > b.sub)
}

func (a revision) less(b revision) bool { return b.greater(a) }

// appendRevBytes appends the bucket key of rev to dst, with the tombstone
// mark if tomb (etcd's BucketKeyToBytes).
func appendRevBytes(dst []byte, rev revision, tomb bool) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(rev.main))
	dst = append(dst, '_')
	dst = binary.BigEndian.AppendUint64(dst, uint64(rev.sub))
	if tomb {
		dst = append(dst, markTombstone)
	}
	return dst
}

// parseRevBytes decodes a key-bucket key.
func parseRevBytes(b []byte) (rev revision, tomb bool, err error) {
	switch {
	case len(b) == markedRevBytesLen && b[revBytesLen] == markTombstone:
		tomb = true
	case len(b) != revBytesLen:
		return revision{}, false, fmt.Errorf("mvcc: bad revision key %x: length %d", b, len(b))
	}
	if b[8] != '_' {
		return revision{}, false, fmt.Errorf("mvcc: bad revision key %x: no separator", b)
	}
	rev = revision{int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[9:]))}
	if rev.main < 0 || rev.sub < 0 {
		return revision{}, false, fmt.Errorf("mvcc: bad revision key %x: negative", b)
	}
	return rev, tomb, nil
}

// mainUpperBound returns the smallest bucket key above every record of main
// revisions <= main: the 8-byte prefix of main+1, as etcd's compaction end.
func mainUpperBound(main int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(main+1))
}

// readMarker reads a compaction marker of the meta bucket: a revision key
// whose main is the compaction revision (etcd's UnsafeReadScheduledCompact,
// UnsafeReadFinishedCompact); -1 if absent.
func readMarker(tx backend.ReadTx, key []byte) (int64, error) {
	v, ok := tx.Get(MetaBucket, key)
	if !ok {
		return -1, nil
	}
	rev, _, err := parseRevBytes(v)
	if err != nil {
		return -1, fmt.Errorf("%w (meta %s)", err, key)
	}
	return rev.main, nil
}

// metaRevBytes encodes a compaction marker.
func metaRevBytes(main int64) []byte {
	return appendRevBytes(make([]byte, 0, revBytesLen), revision{main: main}, false)
}
