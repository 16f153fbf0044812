package mvcc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// KeyValue is one version of a key, etcd's mvccpb.KeyValue. Slices returned
// by the store alias its records and must not be modified.
type KeyValue struct {
	Key            []byte
	CreateRevision int64 // main revision of the put that created the key
	ModRevision    int64 // main revision of this version
	Version        int64 // 1 at creation, +1 per put; 0 after a delete
	Value          []byte
	Lease          int64 // 0 for no lease
}

// Record layout: klen uint32 | key | create | mod | version | lease | value.
const (
	recKeyLenSize = 4
	recIntsSize   = 4 * 8
	recMinSize    = recKeyLenSize + recIntsSize
)

var errBadRecord = errors.New("mvcc: corrupt key-bucket record")

// appendRecord appends the encoding of kv to dst.
func appendRecord(dst []byte, kv *KeyValue) []byte {
	return appendRecordOf(dst, kv.Key, kv.CreateRevision, kv.ModRevision, kv.Version, kv.Lease, kv.Value)
}

// appendRecordOf is appendRecord of the KeyValue of these fields, which a
// write encodes without making one.
func appendRecordOf(dst, key []byte, create, mod, version, lease int64, value []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(key)))
	dst = append(dst, key...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(create))
	dst = binary.BigEndian.AppendUint64(dst, uint64(mod))
	dst = binary.BigEndian.AppendUint64(dst, uint64(version))
	dst = binary.BigEndian.AppendUint64(dst, uint64(lease))
	return append(dst, value...)
}

func recordSize(key, value []byte) int { return recMinSize + len(key) + len(value) }

// decodeRecord decodes a record; the slices of kv alias rec.
func decodeRecord(rec []byte) (kv KeyValue, err error) {
	if len(rec) < recMinSize {
		return KeyValue{}, fmt.Errorf("%w: %d bytes", errBadRecord, len(rec))
	}
	klen := int(binary.BigEndian.Uint32(rec))
	if klen > len(rec)-recMinSize {
		return KeyValue{}, fmt.Errorf("%w: key length %d of %d bytes", errBadRecord, klen, len(rec))
	}
	p := recKeyLenSize + klen
	kv.Key = rec[recKeyLenSize:p:p]
	kv.CreateRevision = int64(binary.BigEndian.Uint64(rec[p:]))
	kv.ModRevision = int64(binary.BigEndian.Uint64(rec[p+8:]))
	kv.Version = int64(binary.BigEndian.Uint64(rec[p+16:]))
	kv.Lease = int64(binary.BigEndian.Uint64(rec[p+24:]))
	if v := rec[p+recIntsSize:]; len(v) > 0 {
		kv.Value = v
	}
	return kv, nil
}

// recordLease returns the lease of a record the store wrote itself:
// mustDecode(rec).Lease without decoding the rest.
func recordLease(rec []byte) int64 {
	p := recKeyLenSize + int(binary.BigEndian.Uint32(rec)) + 3*8
	return int64(binary.BigEndian.Uint64(rec[p:]))
}

// mustDecode decodes a record the store wrote itself; failure is a broken
// internal invariant.
func mustDecode(rec []byte) KeyValue {
	kv, err := decodeRecord(rec)
	if err != nil {
		panic(err)
	}
	return kv
}
