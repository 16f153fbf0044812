package backend

import (
	"encoding/binary"
	"errors"

	"github.com/etcdsim/etcdsim/nodes/record"
)

// Record kinds, the first byte of every payload.
const (
	kindDelta byte = 1 // the ops of one batch transaction
	kindFull  byte = 2 // the whole state (a defrag copy): replaces what came before
)

// Op codes inside a record: the op, then uvarint-length-prefixed bucket,
// key and (puts only) value.
const (
	opPut    byte = 1
	opDelete byte = 2
	opBucket byte = 3 // create an empty bucket (full records)
)

var errBadOp = errors.New("backend: malformed commit record")

func appendOp(dst []byte, op byte, bucket string, key, value []byte) []byte {
	dst = append(dst, op)
	dst = binary.AppendUvarint(dst, uint64(len(bucket)))
	dst = append(dst, bucket...)
	if op == opBucket {
		return dst
	}
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	if op == opPut {
		dst = binary.AppendUvarint(dst, uint64(len(value)))
		dst = append(dst, value...)
	}
	return dst
}

// encodeFull returns m as one full record: every bucket, then its keys.
// Its buffer is sized by fullSize first: grown by appends, it allocated
// and copied about five times the image (a defrag's copy, a snapshot's
// database), for a walk of the keys.
func encodeFull(m *Mem) []byte {
	buf, start := record.Begin(make([]byte, 0, fullSize(m)))
	buf = append(buf, kindFull)
	for _, bk := range m.buckets {
		buf = appendOp(buf, opBucket, bk.name, nil, nil)
		bk.t.Ascend(func(it kv) bool {
			buf = appendOp(buf, opPut, bk.name, it.r.key, it.r.value)
			return true
		})
	}
	record.Finish(buf, start)
	return buf
}

// fullSize returns len(encodeFull(m)) without encoding: what the backend
// needs at open to know when to rewrite its file.
func fullSize(m *Mem) int64 {
	n := record.HeaderSize + 1
	for _, bk := range m.buckets {
		head := 1 + uvarintLen(len(bk.name)) + len(bk.name)
		n += head
		bk.t.Ascend(func(it kv) bool {
			n += head + uvarintLen(len(it.r.key)) + len(it.r.key) + uvarintLen(len(it.r.value)) + len(it.r.value)
			return true
		})
	}
	return int64(n)
}

// uvarintLen is the length of x as binary.AppendUvarint writes it.
func uvarintLen(x int) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// field reads one uvarint-length-prefixed field off p.
func field(p []byte) (f, rest []byte, err error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, nil, errBadOp
	}
	end := k + int(n)
	return p[k:end:end], p[end:], nil
}

// applyRecord applies one record's payload to m; keys and values alias p.
func applyRecord(m *Mem, p []byte) error {
	if len(p) == 0 || (p[0] != kindDelta && p[0] != kindFull) {
		return errBadOp
	}
	if p[0] == kindFull {
		*m = Mem{}
	}
	for p = p[1:]; len(p) > 0; {
		op := p[0]
		bucket, rest, err := field(p[1:])
		if err != nil {
			return err
		}
		p = rest
		var key, value []byte
		if op == opPut || op == opDelete {
			if key, p, err = field(p); err != nil {
				return err
			}
		}
		switch op {
		case opBucket:
			m.bucket(string(bucket))
		case opPut:
			if value, p, err = field(p); err != nil {
				return err
			}
			m.Put(string(bucket), key, value)
		case opDelete:
			m.Delete(string(bucket), key)
		default:
			return errBadOp
		}
	}
	return nil
}

// Image returns the bytes of a backend file that holds exactly m: one
// full record. A member writes it as the database of a raft snapshot it
// sends (etcd sends its bbolt file along with MsgSnap); Open reads it back.
func Image(m *Mem) []byte { return encodeFull(m) }
