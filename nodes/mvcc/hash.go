package mvcc

import (
	"encoding/binary"
	"hash/crc32"
	"math/bits"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// liveHash hashes a record (key, create, mod, version, lease, value) with
// a 64-bit, 8-bytes-a-step MurmurHash3-style mix and its final avalanche,
// so that sums of hashes stay well spread. It is the same in every process,
// unlike hash/maphash.
func liveHash(rec []byte) uint64 {
	const c1, c2 = 0x87c37b91114253d5, 0x4cf5ad432745937f
	h := uint64(0x9e3779b97f4a7c15)
	for ; len(rec) >= 8; rec = rec[8:] {
		h ^= bits.RotateLeft64(binary.LittleEndian.Uint64(rec)*c1, 31) * c2
		h = bits.RotateLeft64(h, 27)*5 + 0x52dce729
	}
	var w uint64
	for i, c := range rec {
		w |= uint64(c) << (8 * i)
	}
	h ^= bits.RotateLeft64(w*c1, 31) * c2
	h ^= uint64(len(rec))
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// HashByRev is etcd's HashKV: a CRC32-Castagnoli of the bucket name and of
// the key-bucket records up to rev (rev <= 0: the current revision), leaving
// out those at or below the compaction revision that a compaction at rev
// would delete, and a tombstone at exactly the compaction revision (so that
// etcd before and after PR 18274 hash alike). It returns the compaction
// revision it hashed against; ErrCompacted if rev is below it, ErrFutureRev
// if rev is above the current revision.
func (s *Store) HashByRev(tx backend.ReadTx, rev int64) (hash uint32, compactRev int64, err error) {
	compactRev = s.compactRev
	switch {
	case rev > 0 && rev < compactRev:
		return 0, compactRev, ErrCompacted
	case rev > s.currentRev:
		return 0, compactRev, ErrFutureRev
	case rev <= 0:
		rev = s.currentRev
	}
	keep := keepSet{revs: s.index.keep(rev)}
	// etcd skips the records below the compaction only if something is kept.
	filter := len(keep.revs) > 0
	crc := crc32.Update(0, castagnoli, []byte(KeyBucket))
	tx.Range(KeyBucket, nil, mainUpperBound(rev), func(k, v []byte) bool {
		r, tomb, perr := parseRevBytes(k)
		if perr != nil {
			err = perr
			return false
		}
		if r.main <= compactRev && filter && !keep.has(r) {
			return true
		}
		if r.main == compactRev && tomb {
			return true
		}
		crc = crc32.Update(crc, castagnoli, k)
		crc = crc32.Update(crc, castagnoli, v)
		return true
	})
	return crc, compactRev, err
}
