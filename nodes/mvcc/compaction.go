package mvcc

import (
	"fmt"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// CompactionJob deletes the records a compaction no longer needs from the
// key bucket, in batches (etcd's scheduleCompaction). Jobs must run to the
// end in the order Compact returned them, as etcd's FIFO scheduler runs
// them; writes may go on between batches.
type CompactionJob struct {
	s    *Store
	rev  int64
	keep keepSet  // revisions <= rev that stay, sorted
	next []byte   // first bucket key of the next batch
	end  []byte   // bucket keys of main revisions <= rev sort below end
	del  [][]byte // the batch's keys to delete: the store's compactDel
	done bool
	// The batch being looked at, and visit, which Step hands the bucket's
	// Range: one closure for the job's life, not one per batch.
	limit, n int
	last     revision
	bad      error
	visit    func(k, _ []byte) bool
}

// Compact compacts the store at rev, as etcd's store.Compact: it fails
// with ErrCompacted if rev <= CompactRev and with ErrFutureRev if rev > Rev;
// otherwise it writes scheduledCompactRev into the meta bucket (the member
// force-commits it), compacts the index at once, and returns the job that
// deletes the records from the key bucket.
func (s *Store) Compact(tx backend.Tx, rev int64) (*CompactionJob, error) {
	if rev <= s.compactRev {
		return nil, ErrCompacted
	}
	if rev > s.currentRev {
		return nil, ErrFutureRev
	}
	tx.Put(MetaBucket, scheduledCompactKey, metaRevBytes(rev)) // etcd's UnsafeSetScheduledCompact
	s.scheduledRev = rev
	return s.schedule(rev), nil
}

// schedule compacts the index at rev and returns the job for the bucket.
func (s *Store) schedule(rev int64) *CompactionJob {
	s.compactRev = rev
	keep := s.index.compact(rev, s.opts.DropCompactedTombstone)
	return &CompactionJob{s: s, rev: rev, keep: keepSet{revs: keep}, end: mainUpperBound(rev)}
}

// Rev returns the compaction revision of the job.
func (j *CompactionJob) Rev() int64 { return j.rev }

// Done reports whether the job has written finishedCompactRev.
func (j *CompactionJob) Done() bool { return j.done }

// Step looks at the next batchLimit records at or below the compaction
// revision and deletes those not kept; batchLimit <= 0 means all of them.
// As etcd, the batch that finds fewer records than the limit is the last: it
// also writes finishedCompactRev into the meta bucket, and Step returns true.
// etcd force-commits every batch but the last (compactBeforeCommitBatch);
// a crash after a batch deleted the newest record and before the last batch
// is committed is issue 17780's window.
func (j *CompactionJob) Step(tx backend.Tx, batchLimit int) (done bool) {
	if j.done {
		return true
	}
	if j.visit == nil {
		j.visit = func(k, _ []byte) bool {
			rev, _, err := parseRevBytes(k)
			if err != nil {
				j.bad = err
				return false
			}
			if !j.keep.has(rev) {
				j.del = append(j.del, k)
			}
			j.n, j.last = j.n+1, rev
			return j.limit <= 0 || j.n < j.limit
		}
	}
	j.limit, j.n, j.last, j.bad = batchLimit, 0, revision{}, nil
	j.del = j.s.compactDel[:0]
	tx.Range(KeyBucket, j.next, j.end, j.visit)
	n, last := j.n, j.last
	if j.bad != nil {
		panic(fmt.Sprintf("mvcc: compaction at %d: %v", j.rev, j.bad))
	}
	for _, k := range j.del {
		tx.Delete(KeyBucket, k)
	}
	clear(j.del)
	j.s.compactDel, j.del = j.del[:0], nil
	if batchLimit > 0 && n >= batchLimit {
		j.next = appendRevBytes(j.next[:0], revision{last.main, last.sub + 1}, false) // Range keeps no start key
		return false
	}
	tx.Put(MetaBucket, finishedCompactKey, metaRevBytes(j.rev)) // etcd's UnsafeSetFinishedCompact
	j.s.finishedRev = j.rev
	j.done = true
	return true
}

// Run runs the job's remaining batches at once, as the reference state
// machine does.
func (j *CompactionJob) Run(tx backend.Tx) { j.Step(tx, 0) }
