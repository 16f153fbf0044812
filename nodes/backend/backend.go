package backend

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/record"
)

// DefragSuffix is appended to the file name for the defrag copy.
const DefragSuffix = ".defrag"

// The sentinel errors of the package; test for them with errors.Is.
var (
	ErrCorrupt  = errors.New("backend: corrupt db file")
	ErrNoDefrag = errors.New("backend: no defrag copy to rename")
)

// Stats counts what a backend has done since Open.
type Stats struct {
	Commits  int64 // commit records written (defrag's full copies excluded)
	Syncs    int64 // file syncs
	Defrags  int64 // defrag renames completed
	Records  int64 // records in the current file
	Bytes    int64 // size of the current file
	Repaired int64 // bytes of torn tail cut off by Open
}

// Backend is an open backend file with its current state.
type Backend struct {
	fs          *disk.FS
	name        string
	file        *disk.File
	copy        *disk.File // the defrag copy, between DefragCopy and DefragRename
	copyRecords int64      // records in the defrag copy
	mem         *Mem
	fullBytes   int64  // the size of the last full image written (rewrite, defrag)
	batch       []byte // the pending delta, encoded as ops after a record header
	pending     int
	unsynced    bool
	hook        func(Tx)
	hooking     bool  // the pre-commit hook is writing (see Put)
	err         error // sticky
	stats       Stats
	// The read side (readbuf.go): etcd's read buffer over the last commit.
	rbuf     readBuf
	rd       readView // ReadTx: rbuf over mem
	writes   uint64   // puts and deletes since Open
	crCache  *readBuf // ConcurrentReadTx's copy of rbuf, at crVersion and crWrites
	crFrozen *Mem
	crVersion,
	crWrites uint64
	misdirects int64 // the FS's misdirected writes when the file was opened
}

// Open opens the backend file name in fs, creating it if it does not
// exist, and replays its commit records. A leftover defrag copy is removed.
func Open(fs *disk.FS, name string) (*Backend, error) { return OpenCached(fs, name, nil) }

// ReplayCache remembers bytes of a file (whole records) and the state
// they make: those the last replay read, or those a process left when it
// ended (Remember). Open with a cache whose bytes are a prefix of the
// file starts from a clone of that state and replays only the records
// after it, so a restart costs the commits made since the cache was
// filled, not the whole file — the same state as a full replay, byte for
// byte, since the prefix is compared in full. (bbolt opens in constant
// time; replaying a commit log is this model's stand-in for its pages, and
// its cost is not etcd's.) The cache belongs to the machine the backend
// lives on and outlives its processes; it is not safe for concurrent use.
type ReplayCache struct {
	data    []byte
	mem     *Mem // never changed: every use clones it
	records int64
}

// OpenCached is Open with a replay cache (nil: replay everything).
func OpenCached(fs *disk.FS, name string, c *ReplayCache) (*Backend, error) {
	b := &Backend{fs: fs, name: name, mem: NewMem(), misdirects: fs.Stats().Misdirects}
	if fs.Exists(name + DefragSuffix) {
		if err := fs.Remove(name + DefragSuffix); err != nil {
			return nil, fmt.Errorf("backend: remove defrag copy: %w", err)
		}
		if err := fs.SyncDir(); err != nil {
			return nil, fmt.Errorf("backend: sync dir: %w", err)
		}
	}
	f, err := fs.Open(name)
	if errors.Is(err, disk.ErrNotExist) {
		if f, err = fs.Create(name); err == nil {
			err = fs.SyncDir()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("backend: open %s: %w", name, err)
	}
	b.file = f
	// The file's bytes, not a copy (disk.File.Bytes: copy-on-write): a
	// file unchanged since the last open is the array the cache holds.
	if err := b.replay(f.Bytes(), c); err != nil {
		return nil, err
	}
	b.fullBytes = fullSize(b.mem)
	b.resetBatch()
	b.rd = readView{buf: &b.rbuf, mem: b.mem}
	return b, nil
}

// replay applies the records of data to b.mem, cutting off a torn tail.
func (b *Backend) replay(data []byte, c *ReplayCache) error {
	from := 0
	if m, ok := c.begins(data); ok {
		b.mem, from, b.stats.Records = m, len(c.data), c.records
	}
	good, n, err := readRecords(b.mem, data, from, b.name)
	b.stats.Records += n
	if err != nil {
		return err
	}
	if good < int64(len(data)) {
		if err := b.repair(int64(len(data)), good); err != nil {
			return err
		}
	}
	b.stats.Bytes = good
	if c != nil {
		c.data = data[:good:good] // the file's bytes, never written in place
		c.mem, c.records = b.mem.Clone(), b.stats.Records
	}
	return nil
}

// begins returns a clone of c's state when c's bytes begin data: the
// state of data[:len(c.data)].
func (c *ReplayCache) begins(data []byte) (*Mem, bool) {
	if c == nil || c.mem == nil || !bytes.HasPrefix(data, c.data) {
		return nil, false
	}
	return c.mem.Clone(), true
}

// Remember fills c with the file's records written so far and the state
// they make, for the next OpenCached of the file on this machine, once
// this process has ended: the batch transaction's state less its pending
// writes, each record written since the last commit back at its committed
// value (the read buffer's) and the buckets made since gone. A restart
// then replays only what it finds past them, if the crash kept them all;
// if not, the image's bytes do not begin with the cache's, and Open
// replays the whole file, as with no cache. So c changes only while every
// record written is durable, the bytes are those the backend wrote (no
// misdirected write since the open), and no write failed.
func (b *Backend) Remember(c *ReplayCache) {
	if c == nil || b.err != nil || b.file.DurableSize() < b.stats.Bytes || b.fs.Stats().Misdirects != b.misdirects {
		return
	}
	data := b.file.Bytes()
	if int64(len(data)) < b.stats.Bytes {
		return
	}
	m := b.mem.Clone()
	for i := range b.rbuf.ents {
		if e := &b.rbuf.ents[i]; e.had {
			m.put(e.bucket, e.key, e.old)
		} else {
			m.delete(e.bucket, e.key)
		}
	}
	for _, name := range b.rbuf.made {
		m.dropBucket(name)
	}
	c.data, c.mem, c.records = data[:b.stats.Bytes:b.stats.Bytes], m, b.stats.Records
}

// readRecords applies the records of data from offset from to m, and
// returns the offset after the last whole one (a torn tail ends the read)
// and how many it applied; damage before the tail is ErrCorrupt.
func readRecords(m *Mem, data []byte, from int, name string) (good, n int64, err error) {
	r := record.NewReaderAt(data, from)
	for {
		p, err := r.Next()
		if err == io.EOF {
			return int64(len(data)), n, nil
		}
		if errors.Is(err, record.ErrTorn) {
			return r.Offset(), n, nil
		}
		if err != nil {
			return r.Offset(), n, fmt.Errorf("%w: %s: %w", ErrCorrupt, name, err)
		}
		// Keys and values alias the record: copy it out of the file buffer
		// so that one live key does not pin the whole file.
		if err := applyRecord(m, append([]byte(nil), p...)); err != nil {
			return r.Offset(), n, fmt.Errorf("%w: %s at offset %d: %w", ErrCorrupt, name, r.Offset(), err)
		}
		n++
	}
}

// Read returns the state the backend file name on fs holds, without
// changing anything (a torn tail ends it): what a tool reading the
// database sees. A missing file holds the empty state.
func Read(fs *disk.FS, name string) (*Mem, error) { return ReadCached(fs, name, nil) }

// ReadCached is Read with a replay cache (nil: replay everything), which
// it leaves as it was: when the cache's bytes begin the file, the read
// starts from a clone of their state and replays only what follows them.
func ReadCached(fs *disk.FS, name string, c *ReplayCache) (*Mem, error) {
	f, err := fs.Open(name)
	if errors.Is(err, disk.ErrNotExist) {
		return NewMem(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("backend: open %s: %w", name, err)
	}
	data := f.Bytes()
	m, from := NewMem(), 0
	if cm, ok := c.begins(data); ok {
		m, from = cm, len(c.data)
	}
	if _, _, err := readRecords(m, data, from, name); err != nil {
		return nil, err
	}
	return m, nil
}

// repair truncates a torn tail at good and syncs: etcd's bbolt never sees
// a torn commit, since its meta page flip is atomic; here the checksum and
// the truncation stand in for it.
func (b *Backend) repair(size, good int64) error {
	if err := b.file.Truncate(good); err != nil {
		return fmt.Errorf("backend: truncate %s: %w", b.name, err)
	}
	if err := b.file.Sync(); err != nil {
		return fmt.Errorf("backend: sync %s: %w", b.name, err)
	}
	b.stats.Syncs++
	b.stats.Repaired += size - good
	b.stats.Bytes = good
	return nil
}

// State returns the batch transaction's state, pending writes included
// (what bbolt's read-write transaction sees). Callers must not modify it;
// Clone it to keep a snapshot. Readers outside the apply use ReadTx.
func (b *Backend) State() *Mem { return b.mem }

// Pending returns the number of puts and deletes not yet committed.
func (b *Backend) Pending() int { return b.pending }

// Size returns the size of the backend file.
func (b *Backend) Size() int64 { return b.stats.Bytes }

// Stats returns the counters of b.
func (b *Backend) Stats() Stats { return b.stats }

// SetPreCommitHook sets the function every hooked commit runs on the batch
// before writing it: etcd's BackendHooks.OnPreCommitUnsafe, which saves
// consistentIndex and term in the same transaction.
func (b *Backend) SetPreCommitHook(fn func(tx Tx)) { b.hook = fn }

// Get implements ReadTx over the batch transaction (its own writes
// included), as etcd's batchTx.UnsafeRange.
func (b *Backend) Get(bucket string, key []byte) ([]byte, bool) { return b.mem.Get(bucket, key) }

// Range implements ReadTx over the batch transaction.
func (b *Backend) Range(bucket string, start, end []byte, fn func(key, value []byte) bool) {
	b.mem.Range(bucket, start, end, fn)
}

// Put implements Tx: a pending write, visible to the batch transaction at
// once and to readers (ReadTx) after Unlock (batchTxBuffered.UnsafePut
// writes bbolt and the write buffer).
func (b *Backend) Put(bucket string, key, value []byte) {
	n := len(b.mem.buckets)
	h := keyHash(bucket, key)
	old, had := b.mem.putSum(bucket, key, value, valueHash(h, value))
	// The pre-commit hook's puts skip the read buffer: the commit that
	// runs the hook resets it right after (see readBuf.reset), or fails
	// for good; an entry would only be dropped.
	if !b.hooking || !hookSkipsReadBuf {
		if len(b.mem.buckets) != n {
			b.rbuf.made = append(b.rbuf.made, bucket)
		}
		i := b.rbuf.entry(h, bucket, key, old, had)
		b.rbuf.wbuf = append(b.rbuf.wbuf, wput{i: i, val: value})
	}
	b.writes++
	b.batch = appendOp(b.batch, opPut, bucket, key, value)
	b.pending++
}

// Delete implements Tx: a pending write, visible to the batch transaction
// at once and to readers only after the next commit (deletes are not
// buffered; Unlock asks for that commit). Like etcd's UnsafeDelete it
// counts as pending even when the key is absent.
func (b *Backend) Delete(bucket string, key []byte) {
	old, had := b.mem.delete(bucket, key)
	b.rbuf.entry(keyHash(bucket, key), bucket, key, old, had)
	b.rbuf.deletes++
	b.writes++
	b.batch = appendOp(b.batch, opDelete, bucket, key, nil)
	b.pending++
}
