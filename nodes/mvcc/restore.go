package mvcc

import (
	"fmt"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// Restore rebuilds a store from a backend, as etcd's kvstore.restore: the
// index and the current revision (the newest record's) from the key bucket,
// the compaction revision from finishedCompactRev. The revision is raised to
// the finished compaction (PR 6633) and, unless opts.NoRevClamp, to the
// scheduled one (PR 17815, issue 17780). A compaction that was scheduled but
// not finished is resumed: its index compaction is done and its job
// returned, to be run by the caller; without the clamp, etcd's resumption
// fails with ErrFutureRev when the revision went back, and no job is
// returned. The index keeps the records tx holds, as it keeps those its
// own puts hand the backend: a store's values are never changed in place
// (backend.ReadTx), and the file's bytes the backend replays are never
// written over (disk.File.Bytes: a write copies first).
func Restore(tx backend.ReadTx, opts RestoreOptions) (*Store, *CompactionJob, error) {
	s := NewWithOptions(opts.Options)
	var err error
	if s.finishedRev, err = readMarker(tx, finishedCompactKey); err != nil {
		return nil, nil, err
	}
	if s.scheduledRev, err = readMarker(tx, scheduledCompactKey); err != nil {
		return nil, nil, err
	}
	s.compactRev = s.finishedRev
	tx.Range(KeyBucket, nil, nil, func(k, v []byte) bool {
		err = s.restoreRecord(k, v)
		return err == nil
	})
	if err != nil {
		return nil, nil, err
	}
	s.restoreLive()
	// PR 6633: every record around the compaction may be gone.
	if s.currentRev < s.compactRev {
		s.currentRev = s.compactRev
	}
	// PR 17815 (issue 17780): the newest record may be a tombstone that an
	// unfinished compaction already deleted.
	if !opts.NoRevClamp && s.currentRev < s.scheduledRev {
		s.currentRev = s.scheduledRev
	}
	if s.scheduledRev <= s.compactRev || s.scheduledRev > s.currentRev {
		return s, nil, nil
	}
	return s, s.schedule(s.scheduledRev), nil
}

// restoreRecord adds one key-bucket record, in revision order, to the index
// (etcd's restoreIntoIndex).
func (s *Store) restoreRecord(k, v []byte) error {
	rev, tomb, err := parseRevBytes(k)
	if err != nil {
		return err
	}
	if rev.main < s.currentRev {
		return fmt.Errorf("mvcc: restore: revision %d after %d", rev.main, s.currentRev)
	}
	kv, err := decodeRecord(v)
	if err != nil {
		return fmt.Errorf("%w (key %x)", err, k)
	}
	s.currentRev = rev.main
	ki := s.index.lookup(kv.Key)
	if ki == nil {
		ki = newKeyIndex(kv.Key)
		if tomb {
			ki.restoreTombstone(rev)
		} else {
			ki.restore(kv.CreateRevision, rev, kv.Version, v)
		}
		s.index.insert(ki)
		return nil
	}
	if tomb {
		// A tombstone of a deleted key is skipped, as etcd only warns.
		_ = ki.tombstone(rev)
		return nil
	}
	ki.put(rev, v)
	return nil
}

// restoreLive sets the live hash of every restored key from its newest
// record, once the key bucket is read: restoreRecord leaves it to the end,
// as only the last of a key's records counts (a put's record, or a
// tombstone's 0).
func (s *Store) restoreLive() {
	s.index.tree.Ascend(func(ki *keyIndex) bool {
		if g := &ki.gens[len(ki.gens)-1]; len(g.revs) > 0 {
			s.setLive(ki, liveHash(g.revs[len(g.revs)-1].rec))
		}
		return true
	})
}
