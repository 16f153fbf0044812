package lease

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// Bucket is etcd's lease bucket: key = lease ID, 8 bytes big-endian (so a
// negative ID sorts after every positive one), value = the encoded lease.
const Bucket = "lease"

// recordSize is the value layout: ID | TTL | RemainingTTL, each an int64
// big-endian (etcd's leasepb.Lease, hand-encoded).
const recordSize = 3 * 8

var errBadRecord = errors.New("lease: corrupt lease record")

func idKey(id int64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), uint64(id)) }

func encodeLease(l *lease) []byte {
	b := make([]byte, 0, recordSize)
	b = binary.BigEndian.AppendUint64(b, uint64(l.id))
	b = binary.BigEndian.AppendUint64(b, uint64(l.ttl))
	return binary.BigEndian.AppendUint64(b, uint64(l.remaining))
}

func decodeLease(k, v []byte) (*lease, error) {
	if len(k) != 8 || len(v) != recordSize {
		return nil, fmt.Errorf("%w: key of %d bytes, value of %d", errBadRecord, len(k), len(v))
	}
	l := &lease{
		id:        int64(binary.BigEndian.Uint64(v)),
		ttl:       int64(binary.BigEndian.Uint64(v[8:])),
		remaining: int64(binary.BigEndian.Uint64(v[16:])),
	}
	if key := int64(binary.BigEndian.Uint64(k)); key != l.id {
		return nil, fmt.Errorf("%w: key %d holds lease %d", errBadRecord, key, l.id)
	}
	return l, nil
}

// persist writes the lease to the bucket (etcd's Lease.persistTo).
func persist(tx backend.Tx, l *lease) { tx.Put(Bucket, idKey(l.id), encodeLease(l)) }

// leaseHash and keyHash are the terms of the lessor's order-independent
// hash: one per lease, one per attached key.
func leaseHash(l *lease) uint64 { return backend.RecordHash(Bucket, idKey(l.id), encodeLease(l)) }

func keyHash(id int64, key []byte) uint64 {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(id))
	return backend.RecordHash("leaseKey", k[:], key)
}
