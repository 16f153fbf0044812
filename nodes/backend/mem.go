package backend

import (
	"bytes"
	"encoding/binary"
	"slices"

	"github.com/google/btree"
)

// ReadTx is the read side of a transaction: what apply-time lookups use.
// Returned slices belong to the store and must not be modified.
type ReadTx interface {
	// Get returns the value of key in bucket.
	Get(bucket string, key []byte) ([]byte, bool)
	// Range calls fn for the keys of bucket in [start, end) in ascending
	// order; a nil end means to the end of the bucket. It stops when fn
	// returns false.
	Range(bucket string, start, end []byte, fn func(key, value []byte) bool)
}

// Tx is a write transaction over named buckets, the shape of etcd's
// backend.BatchTx as the apply path uses it. Put keeps the slices it is
// given: callers must not modify them afterwards.
type Tx interface {
	ReadTx
	Put(bucket string, key, value []byte)
	Delete(bucket string, key []byte)
}

// rec is one record of a bucket with its hash, RecordHash(bucket, key,
// value). A record is never changed once in a tree: clones share it.
type rec struct {
	key, value []byte
	sum        uint64
}

// kv is a tree item: two words, so that the tree's comparisons, which
// take two items by value, pass them in registers (an item holding the
// record's slices was 64 bytes, copied twice per comparison).
type kv struct {
	// head is the key's first 8 bytes, big-endian and zero-padded: when
	// two heads differ they order the keys as the bytes do, so most
	// comparisons (revision keys differ in their main revision) read
	// neither record and need no bytes.Compare.
	head uint64
	r    *rec
}

// KeyHead returns key's first 8 bytes as a big-endian word, zero-padded:
// when the heads of two keys differ, they order the keys as bytes.Compare
// does; when they are equal, only bytes.Compare can.
func KeyHead(key []byte) uint64 {
	if len(key) >= 8 {
		return binary.BigEndian.Uint64(key)
	}
	var b [8]byte
	copy(b[:], key)
	return binary.BigEndian.Uint64(b[:])
}

func lessKV(a, b kv) bool {
	if a.head != b.head {
		return a.head < b.head
	}
	return bytes.Compare(a.r.key, b.r.key) < 0
}

type bucket struct {
	name string
	t    *btree.BTreeG[kv]
	sum  uint64
	// probe is the search item of Get, Lookup and Delete, reused so
	// that they do not allocate; scan holds a range's bounds, which the
	// tree reads during the whole of the scan (a scan started inside
	// another's callback gets bounds of its own).
	probe    rec
	scan     [2]rec
	scanning bool
}

// search returns the tree item that finds key; done ends its use.
func (b *bucket) search(key []byte) kv {
	b.probe.key = key
	return kv{head: KeyHead(key), r: &b.probe}
}

func (b *bucket) done() { b.probe.key = nil }

// Mem is an in-memory store of sorted buckets with an order-independent
// running hash per bucket. It is the state of a backend (pending writes
// included), and on its own the state the reference state machine keeps.
// Clone is O(1) and copy-on-write, so snapshots of it are cheap. A Mem is
// not safe for concurrent use, reads included (they reuse a search item).
type Mem struct {
	buckets []*bucket // sorted by name; few buckets, so a slice
	keys    *bucket   // the key bucket (SafeRangeBucket), most reads' and writes'
	// wrote is the bucket other than keys that bucket found last, or
	// nil: most writes to the others are a member's meta bucket (the
	// consistent index and term of every commit), the last of the slice.
	// dropBucket forgets it.
	wrote *bucket
	// recs is the rest of a block of records that Puts take one at a
	// time: one allocation per block of writes instead of one each. A
	// block lives while one of its records does (and keeps the keys and
	// values of its dead ones); records written together mostly die
	// together (the key bucket's, compacted in revision order).
	recs  []rec
	block int // the size of the last block
}

// maxRecBlock is the most records allocated at once: blocks start at 4
// records and double, so that a clone that writes a few (a snapshot
// taken back to an earlier state) does not allocate a whole block. At 16,
// a long-lived record keeps at most 15 dead ones; 32 cost as many
// instructions (BenchmarkWorld60), 8 more.
const maxRecBlock = 16

// newRec returns a new record from the current block.
func (m *Mem) newRec(key, value []byte, sum uint64) *rec {
	if len(m.recs) == 0 {
		m.block = min(max(2*m.block, 4), maxRecBlock)
		m.recs = make([]rec, m.block)
	}
	r := &m.recs[0]
	m.recs = m.recs[1:]
	r.key, r.value, r.sum = key, value, sum
	return r
}

// NewMem returns an empty store.
func NewMem() *Mem { return &Mem{} }

func (m *Mem) find(name string) *bucket {
	if name == SafeRangeBucket {
		return m.keys
	}
	for _, b := range m.buckets {
		if b.name == name {
			return b
		}
	}
	return nil
}

func (m *Mem) bucket(name string) *bucket {
	if name != SafeRangeBucket {
		if b := m.wrote; b != nil && b.name == name {
			return b
		}
	}
	if b := m.find(name); b != nil {
		if b != m.keys {
			m.wrote = b
		}
		return b
	}
	// Degree 32 (nodes of up to 63 items of two words): with the 16-byte
	// items, fewer levels cost less than the longer moves inside a node.
	b := &bucket{name: name, t: btree.NewG(32, lessKV)}
	i := 0
	for i < len(m.buckets) && m.buckets[i].name < name {
		i++
	}
	m.buckets = append(m.buckets, nil)
	copy(m.buckets[i+1:], m.buckets[i:])
	m.buckets[i] = b
	if name == SafeRangeBucket {
		m.keys = b
	}
	return b
}

// Get implements ReadTx.
func (m *Mem) Get(bucket string, key []byte) ([]byte, bool) {
	b := m.find(bucket)
	if b == nil {
		return nil, false
	}
	it, ok := b.t.Get(b.search(key))
	b.done()
	if !ok {
		return nil, false
	}
	return it.r.value, true
}

// Lookup is Get, also returning the record's hash, RecordHash(bucket,
// key, value), as its Put computed and kept it (0 when there is none).
func (m *Mem) Lookup(bucket string, key []byte) (value []byte, sum uint64, ok bool) {
	b := m.find(bucket)
	if b == nil {
		return nil, 0, false
	}
	it, ok := b.t.Get(b.search(key))
	b.done()
	if !ok {
		return nil, 0, false
	}
	return it.r.value, it.r.sum, true
}

// EachRecord calls fn with every record of a bucket, in key order, and
// its hash as its Put computed and kept it (see Lookup).
func (m *Mem) EachRecord(bucket string, fn func(key, value []byte, sum uint64)) {
	b := m.find(bucket)
	if b == nil {
		return
	}
	b.t.Ascend(func(it kv) bool {
		fn(it.r.key, it.r.value, it.r.sum)
		return true
	})
}

// Range implements ReadTx.
func (m *Mem) Range(bucket string, start, end []byte, fn func(key, value []byte) bool) {
	b := m.find(bucket)
	if b == nil {
		return
	}
	visit := func(it kv) bool { return fn(it.r.key, it.r.value) }
	bounds := &b.scan
	if b.scanning {
		bounds = new([2]rec)
	} else {
		b.scanning = true
		defer func() { b.scan, b.scanning = [2]rec{}, false }()
	}
	bounds[0].key = start
	from := kv{head: KeyHead(start), r: &bounds[0]}
	if end == nil {
		b.t.AscendGreaterOrEqual(from, visit)
		return
	}
	bounds[1].key = end
	b.t.AscendRange(from, kv{head: KeyHead(end), r: &bounds[1]}, visit)
}

// Put implements Tx.
func (m *Mem) Put(bucket string, key, value []byte) { m.put(bucket, key, value) }

// Replace is Put, returning the value it replaced and whether there was one.
func (m *Mem) Replace(bucket string, key, value []byte) (old []byte, had bool) {
	return m.put(bucket, key, value)
}

// put is Put, returning the value it replaced.
func (m *Mem) put(bucket string, key, value []byte) (old []byte, had bool) {
	return m.putSum(bucket, key, value, RecordHash(bucket, key, value))
}

// putSum is put of a record whose RecordHash is sum.
func (m *Mem) putSum(bucket string, key, value []byte, sum uint64) (old []byte, had bool) {
	b := m.bucket(bucket)
	if o, ok := b.t.ReplaceOrInsert(kv{head: KeyHead(key), r: m.newRec(key, value, sum)}); ok {
		b.sum -= o.r.sum
		old, had = o.r.value, true
	}
	b.sum += sum
	return old, had
}

// dropBucket removes the bucket name, if there is one.
func (m *Mem) dropBucket(name string) {
	m.buckets = slices.DeleteFunc(m.buckets, func(b *bucket) bool { return b.name == name })
	if m.wrote != nil && m.wrote.name == name {
		m.wrote = nil
	}
	if name == SafeRangeBucket {
		m.keys = nil
	}
}

// Delete implements Tx.
func (m *Mem) Delete(bucket string, key []byte) { m.delete(bucket, key) }

// Remove is Delete, returning the value it removed and whether there was one.
func (m *Mem) Remove(bucket string, key []byte) (old []byte, had bool) { return m.delete(bucket, key) }

// delete is Delete, returning the value it removed.
func (m *Mem) delete(bucket string, key []byte) (old []byte, had bool) {
	b := m.find(bucket)
	if b == nil {
		return nil, false
	}
	o, ok := b.t.Delete(b.search(key))
	b.done()
	if ok {
		b.sum -= o.r.sum
		old, had = o.r.value, true
	}
	return old, had
}

// Len returns the number of keys in bucket.
func (m *Mem) Len(bucket string) int {
	if b := m.find(bucket); b != nil {
		return b.t.Len()
	}
	return 0
}

// BucketHash returns the order-independent hash of bucket's records: the
// sum of RecordHash over them, kept up to date by every Put and Delete.
func (m *Mem) BucketHash(bucket string) uint64 {
	if b := m.find(bucket); b != nil {
		return b.sum
	}
	return 0
}

// EachBucket calls fn with the name and the hash (BucketHash) of every
// bucket, in name order.
func (m *Mem) EachBucket(fn func(name string, sum uint64)) {
	for _, b := range m.buckets {
		fn(b.name, b.sum)
	}
}

// Buckets returns the names of the buckets, sorted.
func (m *Mem) Buckets() []string {
	out := make([]string, 0, len(m.buckets))
	for _, b := range m.buckets {
		out = append(out, b.name)
	}
	return out
}

// Clone returns a copy-on-write copy of m in O(number of buckets).
func (m *Mem) Clone() *Mem {
	c := &Mem{buckets: make([]*bucket, len(m.buckets))}
	for i, b := range m.buckets {
		c.buckets[i] = &bucket{name: b.name, t: b.t.Clone(), sum: b.sum}
		if b == m.keys {
			c.keys = c.buckets[i]
		}
	}
	return c
}

// RecordHash hashes one record (bucket, key, value) in the manner of
// FNV-1a (keys and values by 64-bit words), each field length-prefixed so
// that no two records collide by shifting bytes between fields. It is
// deterministic across processes, unlike hash/maphash.
func RecordHash(bucket string, key, value []byte) uint64 {
	return valueHash(keyHash(bucket, key), value)
}

// keyHash is RecordHash's state after the bucket and the key: a write
// hashes them once for both the record's hash and the read buffer's index.
func keyHash(bucket string, key []byte) uint64 {
	h := keyBucketHash
	if bucket != SafeRangeBucket {
		h = bucketHash(bucket)
	}
	return mixBytes(mixLen(h, len(key)), key)
}

// keyBucketHash is bucketHash(SafeRangeBucket), the bucket of most writes.
var keyBucketHash = bucketHash(SafeRangeBucket)

// bucketHash is RecordHash's state after the bucket.
func bucketHash(bucket string) uint64 {
	h := uint64(14695981039346656037)
	h = mixLen(h, len(bucket))
	for i := 0; i < len(bucket); i++ {
		h = (h ^ uint64(bucket[i])) * 1099511628211
	}
	return h
}

// valueHash ends RecordHash from keyHash's state.
func valueHash(h uint64, value []byte) uint64 {
	h = mixBytes(mixLen(h, len(value)), value)
	// A final avalanche so that sums of hashes stay well spread.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

func mixLen(h uint64, n int) uint64 {
	return (h ^ uint64(n)) * 1099511628211
}

// mixBytes folds p into h a 64-bit word at a time (byte at a time for the
// tail): entries and values run to kilobytes, and hashing them byte by
// byte was a tenth of a long run.
func mixBytes(h uint64, p []byte) uint64 {
	for len(p) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(p)) * 0x9e3779b97f4a7c15
		h ^= h >> 32
		p = p[8:]
	}
	for _, c := range p {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}
