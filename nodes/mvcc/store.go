package mvcc

import "errors"

// Errors of reads and compactions at a revision the store cannot serve.
var (
	// ErrCompacted: the revision is below the compaction revision.
	ErrCompacted = errors.New("mvcc: required revision has been compacted")
	// ErrFutureRev: the revision is above the current revision.
	ErrFutureRev = errors.New("mvcc: required revision is a future revision")
)

// Options selects historical behaviours of the store. The zero value is
// etcd's current behaviour.
type Options struct {
	// DropCompactedTombstone makes compaction also remove a tombstone at
	// exactly the compaction revision, as etcd did before 3.5.16 (issue
	// 18089). It is the precondition of issue 17780: the removed tombstone
	// may be the newest record in the key bucket.
	DropCompactedTombstone bool
}

// RestoreOptions configures Restore. The zero value is etcd's current
// behaviour.
type RestoreOptions struct {
	Options // of the restored store
	// NoRevClamp turns off the fix of issue 17780 (PR 17815): the restored
	// revision is not raised to the scheduled compaction revision, so a
	// crash after a compaction batch removed the newest record makes the
	// revision go back (bug mode compaction-rev-regress).
	NoRevClamp bool
}

// Store is an MVCC key-value store over the key bucket of a backend, etcd's
// mvcc store. Its methods take the backend transaction to write into; reads
// are served from the in-memory index. Not safe for concurrent use.
type Store struct {
	opts  Options
	index *treeIndex
	// currentRev is the revision of the last write transaction that
	// changed something; 1 for an empty store (etcd's currentRev).
	currentRev int64
	// compactRev is the revision of the last scheduled compaction, -1
	// before any (etcd's compactMainRev).
	compactRev int64
	// scheduledRev and finishedRev mirror the compaction markers of the
	// meta bucket; -1 when absent.
	scheduledRev, finishedRev int64
	// kvHash is the sum of liveHash over the live keys.
	kvHash uint64
	// resp, resps and moves are TxnScratch's response and its buffers of
	// op responses and lease moves.
	resp  TxnResponse
	resps []OpResponse
	moves []LeaseMove
	// slab is the rest of a block of bytes that writes cut their bucket
	// keys and records from (see take).
	slab []byte
	// compactDel is the compaction jobs' buffer of the keys a batch
	// deletes: a store's jobs run their batches one at a time.
	compactDel [][]byte
}

// New returns an empty store at revision 1 with etcd's current behaviour.
func New() *Store { return NewWithOptions(Options{}) }

// NewWithOptions returns an empty store at revision 1.
func NewWithOptions(opts Options) *Store {
	return &Store{
		opts:         opts,
		index:        newTreeIndex(),
		currentRev:   1,
		compactRev:   -1,
		scheduledRev: -1,
		finishedRev:  -1,
	}
}

// Rev returns the current revision.
func (s *Store) Rev() int64 { return s.currentRev }

// CompactRev returns the revision of the last compaction, scheduled or
// finished, or -1 if there was none. Reads below it fail with ErrCompacted.
func (s *Store) CompactRev() int64 { return s.compactRev }

// ScheduledCompactRev returns the last scheduled compaction revision as the
// meta bucket holds it, or -1.
func (s *Store) ScheduledCompactRev() int64 { return s.scheduledRev }

// FinishedCompactRev returns the last finished compaction revision as the
// meta bucket holds it, or -1.
func (s *Store) FinishedCompactRev() int64 { return s.finishedRev }

// KVHash returns an order-independent hash of the live view: every live key
// with its value, create and mod revision, version and lease. Members with
// equal live views have equal hashes whatever their history or compaction.
func (s *Store) KVHash() uint64 { return s.kvHash }

// setLive records h as the live hash of ki (0: deleted).
func (s *Store) setLive(ki *keyIndex, h uint64) {
	s.kvHash += h - ki.live
	ki.live = h
}

// RangeOptions qualifies a Range.
type RangeOptions struct {
	Rev       int64 // read at this revision; <= 0 reads at the current one
	Limit     int64 // return at most this many KVs; <= 0 for no limit
	CountOnly bool  // return only Count
	KeysOnly  bool  // leave out Value (and Lease, as etcd's FastKeysOnly)
}

// RangeResult is the answer to a Range.
type RangeResult struct {
	KVs   []KeyValue // in key order; nil if none or CountOnly
	Count int        // keys in the range, regardless of Limit
	Rev   int64      // the store revision the range was served at
}

// Range returns the keys in the range at a revision, with etcd's range
// semantics: an empty end reads the single key, an end of "\x00" reads every
// key >= key, and any other end reads [key, end).
func (s *Store) Range(key, end []byte, opts RangeOptions) (RangeResult, error) {
	return s.rangeAt(key, end, s.currentRev, opts)
}

// EachLease calls fn, in key order, on every key live at the current
// revision whose version has a lease, with that lease: the keys and leases
// of Range([]byte{}, []byte{0}, RangeOptions{}).KVs with a lease, without
// building the range's result.
func (s *Store) EachLease(fn func(key []byte, id int64)) {
	if s.currentRev < s.compactRev {
		return // Range's ErrCompacted
	}
	s.eachKey([]byte{}, []byte{0}, func(ki *keyIndex) bool {
		if e, _, _, ok := ki.get(s.currentRev); ok {
			if id := recordLease(e.rec); id != 0 {
				fn(ki.key, id)
			}
		}
		return true
	})
}

// rangeAt serves a range as a transaction at curRev sees it (etcd
// storeTxnCommon.rangeKeys).
func (s *Store) rangeAt(key, end []byte, curRev int64, opts RangeOptions) (RangeResult, error) {
	rev := opts.Rev
	if rev > curRev {
		return RangeResult{}, ErrFutureRev
	}
	if rev <= 0 {
		rev = curRev
	}
	if rev < s.compactRev {
		return RangeResult{}, ErrCompacted
	}
	res := RangeResult{Rev: curRev}
	s.eachKey(key, end, func(ki *keyIndex) bool {
		e, created, ver, ok := ki.get(rev)
		if !ok {
			return true
		}
		res.Count++
		if opts.CountOnly || (opts.Limit > 0 && int64(len(res.KVs)) >= opts.Limit) {
			return true
		}
		if opts.KeysOnly {
			res.KVs = append(res.KVs, KeyValue{Key: ki.key, CreateRevision: created, ModRevision: e.rev.main, Version: ver})
		} else {
			res.KVs = append(res.KVs, mustDecode(e.rec))
		}
		return true
	})
	return res, nil
}

// eachKey calls fn on the indexed keys of a range (see Range) in key order,
// deleted ones included, until fn returns false.
func (s *Store) eachKey(key, end []byte, fn func(ki *keyIndex) bool) {
	switch {
	case len(end) == 0:
		if ki := s.index.lookup(key); ki != nil {
			fn(ki)
		}
	case len(end) == 1 && end[0] == 0:
		s.index.visit(key, nil, fn) // etcd's mkGteRange
	default:
		s.index.visit(key, end, fn)
	}
}
