package backend

import (
	"bytes"
	"maps"
	"slices"
)

// The read side of the backend, as etcd's (server/storage/backend
// read_tx.go, tx_buffer.go): readers do not see the batch transaction.
// They read the read buffer (txReadBuffer), then the database as of the
// last commit (the bbolt read transaction that commit opened). The batch
// transaction's puts go to a write buffer (txWriteBuffer) and reach the
// read buffer when it unlocks (batchTxBuffered.Unlock → writeback); a
// commit resets the read buffer (unsafeCommit → readTx.reset). Deletes are
// not buffered: etcd commits at the unlock of any transaction that deleted
// (PR 17119), so that no reader sees a deleted record from the old bbolt
// transaction. The key bucket and every other bucket (meta, auth,
// authUsers, authRoles, lease, members, alarm...) are read this way.
//
// The model keeps one state (Mem) for the batch transaction, which sees
// its own writes as bbolt's read-write transaction does, and one entry
// per record written since the last commit: its committed value (what the
// read transaction of that commit sees) and, once written back, its
// buffered value. So a read costs a lookup among those entries on top of
// the store's, and only records written since the last commit are kept.

// bufEnt is one record written since the last commit.
type bufEnt struct {
	h      uint64 // keyHash(bucket, key)
	next   int32  // the next entry of the same hash, -1 for none (indexed)
	bucket string
	key    []byte
	old    []byte // the committed value
	had    bool   // a committed value exists
	val    []byte // the buffered value, once written back
	inBuf  bool   // in the read buffer
	fresh  bool   // written back by an Unlock, not by the commit itself
}

// wput is a put of the batch transaction not yet written back.
type wput struct {
	i   int32 // its entry
	val []byte
}

// readBuf holds the backend's read side.
type readBuf struct {
	// idx maps keyHash(bucket, key) to the first of its ents, once there
	// are more than smallBuf of them (indexed); fewer are scanned.
	idx     map[uint64]int32
	indexed bool
	ents    []bufEnt
	wbuf    []wput   // the write buffer
	dirty   []string // buckets with entries, few
	made    []string // buckets the batch transaction made (Backend.Remember)
	deletes int      // deletes since the last commit (pendingDeleteOperations)
	version uint64   // bumped at each writeback and reset (bufVersion)
	// onFresh is called when a reader of a bucket other than the key
	// bucket gets a value from the read buffer that an Unlock wrote back:
	// one a reader of the committed database would not see.
	onFresh func(bucket string)
}

// smallBuf is the most entries found by a scan of their hashes rather
// than through the index: most commits follow a few writes, and a map's
// insert, lookups and clearing cost more than such a scan.
const smallBuf = 16

// SafeRangeBucket is the bucket etcd lets readers range over with a limit
// (Bucket.IsSafeRangeBucket): the key bucket.
const SafeRangeBucket = "key"

// Entries are found by keyHash(bucket, key), which a write computes
// anyway for the record's hash; entries of the same hash are chained in
// the index (and all compared in a scan), so a collision costs a
// comparison, and the hash never decides anything a run can see.

// find returns the entry of (bucket, key), or -1, and the first entry of
// the chain of its hash h (-1: none, or not indexed).
func (r *readBuf) find(h uint64, bucket string, key []byte) (i, head int32) {
	if !r.indexed {
		for i := range r.ents {
			if e := &r.ents[i]; e.h == h && e.bucket == bucket && bytes.Equal(e.key, key) {
				return int32(i), -1
			}
		}
		return -1, -1
	}
	head, ok := r.idx[h]
	if !ok {
		return -1, -1
	}
	for i = head; i >= 0; i = r.ents[i].next {
		if e := &r.ents[i]; e.bucket == bucket && bytes.Equal(e.key, key) {
			return i, head
		}
	}
	return -1, head
}

// entry returns the entry of (bucket, key), whose keyHash is h, creating
// it when absent with its committed value (old, had): the batch
// transaction's value before its first write since the commit.
func (r *readBuf) entry(h uint64, bucket string, key []byte, old []byte, had bool) int32 {
	i, next := r.find(h, bucket, key)
	if i >= 0 {
		return i
	}
	i = int32(len(r.ents))
	// The entry is written in place: appending the literal built it on
	// the stack first and copied it, pointers and all.
	if len(r.ents) < cap(r.ents) {
		r.ents = r.ents[:i+1]
	} else {
		r.ents = append(r.ents, bufEnt{})
	}
	e := &r.ents[i]
	e.h, e.next, e.bucket, e.key, e.old, e.had = h, next, bucket, key, old, had
	e.val, e.inBuf, e.fresh = nil, false, false
	switch {
	case r.indexed:
		r.idx[h] = i
	case len(r.ents) > smallBuf:
		r.index()
	}
	if !slices.Contains(r.dirty, bucket) {
		r.dirty = append(r.dirty, bucket)
	}
	return i
}

// index builds the index of the entries.
func (r *readBuf) index() {
	if r.idx == nil {
		r.idx = make(map[uint64]int32)
	}
	for i := range r.ents {
		e := &r.ents[i]
		e.next = -1
		if head, ok := r.idx[e.h]; ok {
			e.next = head
		}
		r.idx[e.h] = int32(i)
	}
	r.indexed = true
}

// writeback is txWriteBuffer.writeback: the write buffer's puts join the
// read buffer, the latest value of a key winning.
func (r *readBuf) writeback(fresh bool) {
	if len(r.wbuf) == 0 {
		return
	}
	for _, w := range r.wbuf {
		e := &r.ents[w.i]
		e.val, e.inBuf, e.fresh = w.val, true, fresh
	}
	clear(r.wbuf)
	r.wbuf = r.wbuf[:0]
	r.version++
}

// reset is readTx.reset at a commit: the read buffer empties and readers
// see the new commit. In etcd the write buffer survives a commit made
// inside a locked transaction (the pre-commit hook's puts) and is written
// back at the unlock; its puts are committed by then, so a reader sees the
// same either way, and the model drops them with the rest (the hook's own
// puts never enter it: Backend.Put).
func (r *readBuf) reset() {
	if len(r.ents) == 0 {
		return
	}
	if r.indexed {
		clear(r.idx)
		r.indexed = false
	}
	clear(r.ents)
	r.ents = r.ents[:0]
	clear(r.wbuf)
	r.wbuf = r.wbuf[:0]
	r.dirty = r.dirty[:0]
	r.made = r.made[:0]
	r.deletes = 0
	r.version++
}

// get is baseReadTx.UnsafeRange with a single key: the read buffer, then
// the committed value; ok=false when neither holds the key. hit reports
// whether the entry decided (false: the record was not written since the
// commit, and the caller reads the store).
func (r *readBuf) get(bucket string, key []byte) (val []byte, ok, hit bool) {
	if len(r.ents) == 0 {
		return nil, false, false
	}
	i, _ := r.find(keyHash(bucket, key), bucket, key)
	if i < 0 {
		return nil, false, false
	}
	e := &r.ents[i]
	if e.inBuf {
		if e.fresh && bucket != SafeRangeBucket && r.onFresh != nil {
			r.onFresh(bucket)
		}
		return e.val, true, true
	}
	return e.old, e.had, true
}

// rangeMerged is the read side's range over a bucket written since the
// commit: the committed records overlaid by the read buffer, in key order
// (etcd's UnsafeForEach and UnsafeRange give the buffer's value for a key
// both hold).
func (r *readBuf) rangeMerged(m *Mem, bucket string, start, end []byte, fn func(key, value []byte) bool) {
	type pair struct{ k, v []byte }
	var out []pair
	seen := make(map[int32]bool)
	fresh := false
	pick := func(e *bufEnt) ([]byte, bool) {
		if e.inBuf {
			fresh = fresh || e.fresh
			return e.val, true
		}
		return e.old, e.had
	}
	m.Range(bucket, start, end, func(k, v []byte) bool {
		if i, _ := r.find(keyHash(bucket, k), bucket, k); i >= 0 {
			seen[i] = true
			var have bool
			if v, have = pick(&r.ents[i]); !have {
				return true
			}
		}
		out = append(out, pair{k, v})
		return true
	})
	extra := false
	for i := range r.ents {
		e := &r.ents[i]
		if e.bucket != bucket || seen[int32(i)] || bytes.Compare(e.key, start) < 0 || (end != nil && bytes.Compare(e.key, end) >= 0) {
			continue
		}
		if v, have := pick(e); have {
			out = append(out, pair{e.key, v})
			extra = true
		}
	}
	if extra {
		slices.SortFunc(out, func(a, b pair) int { return bytes.Compare(a.k, b.k) })
	}
	if fresh && bucket != SafeRangeBucket && r.onFresh != nil {
		r.onFresh(bucket)
	}
	for _, p := range out {
		if !fn(p.k, p.v) {
			return
		}
	}
}

// readView is a read transaction: the read buffer over the committed
// database, as of now (readTx) or frozen (ConcurrentReadTx).
type readView struct {
	buf *readBuf
	mem *Mem
}

// Get implements ReadTx.
func (v readView) Get(bucket string, key []byte) ([]byte, bool) {
	if val, ok, hit := v.buf.get(bucket, key); hit {
		return val, ok
	}
	return v.mem.Get(bucket, key)
}

// Range implements ReadTx.
func (v readView) Range(bucket string, start, end []byte, fn func(key, value []byte) bool) {
	if !slices.Contains(v.buf.dirty, bucket) {
		v.mem.Range(bucket, start, end, fn)
		return
	}
	v.buf.rangeMerged(v.mem, bucket, start, end, fn)
}

// ReadTx returns etcd's backend.ReadTx: reads through the read buffer and
// the database of the last commit. It sees what the batch transaction
// wrote only once the transaction unlocked (Unlock).
func (b *Backend) ReadTx() ReadTx { return &b.rd }

// ReadSide returns what a reader of tx's store outside the batch
// transaction reads: a Backend's ReadTx, or tx itself for a plain store
// (the reference's, which has no read buffer).
func ReadSide(tx ReadTx) ReadTx {
	if b, ok := tx.(*Backend); ok {
		return b.ReadTx()
	}
	return tx
}

// ConcurrentReadTx is etcd's backend.ConcurrentReadTx: a read transaction
// that keeps what it saw when it began. etcd copies the read buffer and
// shares the bbolt read transaction; here the copy is of the entries and
// the store is a copy-on-write clone, kept while the buffer's version does
// not change (etcd's txReadBufferCache).
func (b *Backend) ConcurrentReadTx() ReadTx {
	c := b.crCache
	if c == nil || b.crVersion != b.rbuf.version || b.crWrites != b.writes {
		c = &readBuf{version: b.rbuf.version, indexed: b.rbuf.indexed}
		if len(b.rbuf.ents) > 0 {
			if c.indexed {
				c.idx = maps.Clone(b.rbuf.idx)
			}
			c.ents = slices.Clone(b.rbuf.ents)
			c.dirty = slices.Clone(b.rbuf.dirty)
		}
		b.crCache, b.crVersion, b.crWrites, b.crFrozen = c, b.rbuf.version, b.writes, b.mem.Clone()
	}
	return readView{buf: c, mem: b.crFrozen}
}

// Unlock is batchTxBuffered.Unlock at the end of a write transaction: the
// write buffer is written back into the read buffer. It reports whether
// etcd would commit now: at the batch limit, or because the transaction
// deleted (PR 17119). The caller commits (the member owns its commit path
// and its failpoints).
func (b *Backend) Unlock(batchLimit int) (commit bool) {
	b.rbuf.writeback(true)
	return b.rbuf.deletes > 0 || (batchLimit > 0 && b.pending >= batchLimit)
}

// SetBufferedReadHook sets the function called when a reader of a bucket
// other than the key bucket is served a value from the read buffer that a
// transaction wrote back since the last commit (a coverage probe).
func (b *Backend) SetBufferedReadHook(fn func(bucket string)) { b.rbuf.onFresh = fn }

// ReadBuffered returns the number of records in the read buffer and in the
// write buffer: what a reader sees beyond the last commit, and what it does
// not see yet.
func (b *Backend) ReadBuffered() (read, write int) {
	for i := range b.rbuf.ents {
		if b.rbuf.ents[i].inBuf {
			read++
		}
	}
	return read, len(b.rbuf.wbuf)
}
