package wal

import (
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
)

// Save writes ents, then st unless it is empty, to the tail segment as
// volatile data (etcd's wal.Save without its fsync: call Sync when
// raft.MustSync says so). An entry at index i replaces, when read back,
// every entry at or after i. When the tail passes SegmentBytes, Save cuts a
// new segment, which syncs the old tail.
func (w *WAL) Save(st *raftpb.HardState, ents []*raftpb.Entry) error {
	if w.err != nil {
		return w.err
	}
	s := stateOf(st)
	hasState := !s.empty()
	if !hasState && len(ents) == 0 {
		return nil
	}
	buf := w.buf[:0]
	for _, e := range ents {
		buf = appendEntry(buf, e)
	}
	if hasState {
		buf = appendState(buf, s)
	}
	if err := w.write(buf, len(ents)+b2i(hasState)); err != nil {
		return err
	}
	if hasState {
		w.state = s
	}
	var first uint64
	if len(ents) > 0 {
		first = ents[0].GetIndex()
		w.lastIndex = ents[len(ents)-1].GetIndex()
		w.stats.Entries += int64(len(ents))
	}
	w.noteBatch(first, w.lastIndex, 0, s, hasState)
	if w.segs[len(w.segs)-1].size >= w.segmentBytes {
		return w.cut()
	}
	return nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Sync makes everything saved so far durable, and absorbs the batches the
// disk now holds (see Durable): only the WAL writes and syncs its
// segments, so no batch becomes durable at any other time (a sync that
// lies leaves them all).
func (w *WAL) Sync() error {
	if w.err != nil {
		return w.err
	}
	w.stats.Syncs++
	if err := w.tail.Sync(); err != nil {
		return w.fail("sync", err)
	}
	if len(w.batches) > 0 {
		w.absorbDurable()
	}
	return nil
}

// SaveSnapshot appends a snapshot marker and syncs, as etcd's
// wal.SaveSnapshot does. Save the snapshot file first (etcd #11888).
// A non-nil st is saved right after the marker, in the same fsync: a
// HardState whose Commit reaches the marker makes it valid at boot (see
// Contents.ValidSnapshots) before any entry written after it is durable.
func (w *WAL) SaveSnapshot(index, term uint64, st *raftpb.HardState) error {
	if w.err != nil {
		return w.err
	}
	buf, records := appendSnap(w.buf[:0], SnapMarker{index, term}), 1
	s := stateOf(st)
	if st != nil {
		buf, records = appendState(buf, s), 2
	}
	if err := w.write(buf, records); err != nil {
		return err
	}
	if st != nil {
		w.state = s
	}
	w.lastIndex = max(w.lastIndex, index)
	w.noteBatch(0, 0, index, s, st != nil)
	return w.Sync()
}

// write appends buf, holding records records, to the tail and keeps buf
// for reuse.
func (w *WAL) write(buf []byte, records int) error {
	if cap(buf) <= maxKeptBuf {
		w.buf = buf[:0]
	}
	// At the WAL's own offset in the tail, as etcd's encoder writes at its
	// file's offset: the file may be preallocated past it.
	tail := &w.segs[len(w.segs)-1]
	if _, err := w.tail.WriteAt(buf, tail.size); err != nil {
		return w.fail("write", err)
	}
	tail.size += int64(len(buf))
	w.stats.Records += int64(records)
	return nil
}

// fail makes err sticky: a WAL that failed a write or sync must not be
// written again, as etcd stops on any WAL error.
func (w *WAL) fail(op string, err error) error {
	w.err = fmt.Errorf("wal: %s %s: %w", op, w.segs[len(w.segs)-1].name, err)
	return w.err
}

// cut syncs the tail and starts the next segment, as etcd's wal.cut does:
// it first truncates the tail at its offset, giving back the space
// preallocated past it, so that only the last segment is ever preallocated.
func (w *WAL) cut() error {
	if err := w.tail.Truncate(w.segs[len(w.segs)-1].size); err != nil {
		return w.fail("truncate", err)
	}
	if err := w.Sync(); err != nil {
		return err
	}
	w.tail.Trim() // the segment is complete: its spare capacity is only memory
	w.stats.Cuts++
	return w.startSegment(w.segs[len(w.segs)-1].seq+1, w.lastIndex+1)
}

// startSegment writes a segment with its header and the current HardState
// to a temporary file preallocated to the segment size, syncs it, renames it into place and syncs the
// directory (etcd's cut; the directory fsync is etcd #6368).
func (w *WAL) startSegment(seq, index uint64) error {
	name := segmentName(seq, index)
	w.segs = append(w.segs, segment{seq: seq, index: index, name: name})
	tmp := name + tmpSuffix
	f, err := w.fs.Create(tmp)
	if err != nil {
		return w.fail("create", err)
	}
	w.tail = f
	w.hintTail()
	// etcd preallocates every segment with zeros, SegmentSizeBytes long
	// (wal.Create, and the file pipeline that cut takes its files from):
	// fileutil.Preallocate, fallocate that extends the file. It becomes
	// durable with the Sync below.
	if err := f.Preallocate(w.segmentBytes); err != nil {
		return w.fail("preallocate", err)
	}
	buf := appendHeader(w.buf[:0], seq, index, w.meta)
	records := 1
	if !w.state.empty() {
		buf = appendState(buf, w.state)
		records++
	}
	if err := w.write(buf, records); err != nil {
		return err
	}
	if err := w.Sync(); err != nil {
		return err
	}
	if err := w.fs.Rename(tmp, name); err != nil {
		return w.fail("rename", err)
	}
	if err := w.fs.SyncDir(); err != nil {
		return w.fail("sync dir", err)
	}
	return nil
}

// ReleaseTo removes the segments that hold only entries below index, the
// snapshot index once its snapshot is durable: every segment before the
// last one whose name index is at or below index, as etcd's ReleaseLockTo
// keeps. Each removal is made durable before the next, so the segments on
// disk always form an unbroken sequence.
func (w *WAL) ReleaseTo(index uint64) error {
	if w.err != nil {
		return w.err
	}
	k := 0
	for i, s := range w.segs {
		if s.index <= index {
			k = i
		}
	}
	for k > 0 {
		if err := w.fs.Remove(w.segs[0].name); err != nil {
			return w.fail("remove", err)
		}
		if err := w.fs.SyncDir(); err != nil {
			return w.fail("sync dir", err)
		}
		w.segs = append(w.segs[:0:0], w.segs[1:]...)
		w.stats.Released++
		k--
	}
	return nil
}
