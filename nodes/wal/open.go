package wal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/record"
	"go.etcd.io/raft/v3/raftpb"
)

// Open reads every segment of the WAL in fs and returns it ready to append,
// with what it read. A torn tail of the last segment is truncated and the
// truncation synced; leftover temporary segments are removed. Damage
// anywhere else is ErrCorrupt, and no segments at all is ErrNotExist.
func Open(fs *disk.FS) (*WAL, *Contents, error) { return OpenCached(fs, nil) }

// ReplayCache remembers, per segment, the bytes an earlier Open parsed
// and the records it parsed from them. OpenCached gives a segment whose
// bytes begin with those the parsed records instead of parsing (checksums
// and decoding) again, and still applies every record in order, so the
// contents and every error are those of a full read. It belongs to the
// machine the WAL lives on and outlives its processes; it is not safe for
// concurrent use.
type ReplayCache struct {
	segs map[string]*parsedSegment
	// alloc hands out the decoded entries of every read through the
	// cache, so that one read's last chunk serves the next instead of
	// being left mostly unused at each restart.
	alloc entryAlloc
}

type parsedSegment struct {
	data []byte // the segment's bytes (disk.File.Bytes), up to its last good record
	recs recList
}

// recList is a segment's parsed records in chunks of recChunk, so that an
// append never copies the records before it: a segment holds hundreds of
// records of a hundred bytes, and a list that grew by append was copied
// over and over, at every restart that added to a cached one.
type recList struct {
	chunks [][]parsed
	n      int
}

const recChunk = 64

// at returns the i-th record.
func (l *recList) at(i int) *parsed { return &l.chunks[uint(i)/recChunk][uint(i)%recChunk] }

// add appends rec, into the last chunk's room or a new chunk.
func (l *recList) add(rec parsed) {
	if l.n == len(l.chunks)*recChunk {
		l.chunks = append(l.chunks, make([]parsed, recChunk))
	}
	*l.at(l.n) = rec
	l.n++
}

// parsed is one record, decoded. Its fields a, b and c hold what its kind
// has (the cache keeps one per record of every segment, so it is 72 bytes,
// not a field for each):
//
//	header: a seq, b index, meta
//	entry:  e
//	state:  a term, b vote, c commit
//	snap:   a index, b term
type parsed struct {
	off     int64
	e       *raftpb.Entry
	meta    []byte
	a, b, c uint64
	kind    byte
}

// OpenCached is Open with a replay cache (nil: parse everything).
func OpenCached(fs *disk.FS, c *ReplayCache) (*WAL, *Contents, error) {
	segs, err := listSegments(fs)
	if err != nil {
		return nil, nil, err
	}
	if c != nil {
		if c.segs == nil {
			c.segs = map[string]*parsedSegment{}
		}
		live := map[string]bool{}
		for _, s := range segs {
			live[s.name] = true
		}
		maps.DeleteFunc(c.segs, func(name string, _ *parsedSegment) bool { return !live[name] })
	}
	d := newDecoder(c)
	var w *WAL
	for i, s := range segs {
		f, err := fs.Open(s.name)
		if err != nil {
			return nil, nil, fmt.Errorf("wal: open %s: %w", s.name, err)
		}
		// The segment's bytes as the disk holds them, not a copy: they
		// never change under the reader (the disk copies on write), and a
		// segment no write touched since the last open is the very array
		// the cache remembers, so that its comparison below is immediate.
		data := f.Bytes()
		good, err := d.segment(s, data, f.Allocated())
		segs[i].size = good
		last := i == len(segs)-1
		if err := readFailure(s.name, good, err, last); err != nil {
			return nil, nil, err
		}
		if last {
			w = newWAL(fs, d.meta)
			w.tail, w.segs = f, segs
			if err := w.repair(int64(len(data)), f.Allocated(), good, err); err != nil {
				return nil, nil, err
			}
		}
	}
	out := d.contents()
	w.state = d.state
	w.lastIndex = d.lastSnap
	if n := len(out.Entries); n > 0 {
		w.lastIndex = max(w.lastIndex, out.Entries[n-1].GetIndex())
	}
	// What Open read back is on the disk: after a crash, all of it.
	w.durable = Durable{Term: w.state.term, Vote: w.state.vote, Commit: w.state.commit, Last: w.lastIndex}
	return w, out, nil
}

// Read reads every segment of the WAL in fs without changing anything, as
// etcd's wal.Verify opens it in read mode: a torn tail of the last segment
// ends the read, damage anywhere else is ErrCorrupt.
func Read(fs *disk.FS) (*Contents, error) { return ReadCached(fs, nil) }

// ReadCached is Read with a replay cache (nil: parse everything): a
// segment whose bytes begin with those the cache parsed is not parsed
// again, and the cache learns the segments it parsed, as OpenCached's
// does; the contents and every error are those of a full read.
func ReadCached(fs *disk.FS, c *ReplayCache) (*Contents, error) {
	segs, err := segmentsOf(fs)
	if err != nil {
		return nil, err
	}
	if c != nil && c.segs == nil {
		c.segs = map[string]*parsedSegment{}
	}
	d := newDecoder(c)
	for i, s := range segs {
		f, err := fs.Open(s.name)
		if err != nil {
			return nil, fmt.Errorf("wal: open %s: %w", s.name, err)
		}
		good, err := d.segment(s, f.Bytes(), f.Allocated())
		last := i == len(segs)-1
		if err := readFailure(s.name, good, err, last); err != nil {
			// etcd's ReadAll in read mode stops at io.ErrUnexpectedEOF
			// in any file and keeps what it read.
			if re, ok := errors.AsType[*ReadError](err); ok && re.Kind == io.ErrUnexpectedEOF {
				break
			}
			return nil, err
		}
	}
	return d.contents(), nil
}

// readFailure judges the error that stopped the read of a segment at
// offset good, as etcd's decoder, ReadAll and bootstrap do: nil if there is
// none, or if it is a torn record in the last segment, which Open repairs
// (etcd's Repair truncates the last file at an io.ErrUnexpectedEOF, and
// its decoder calls a record torn only in the last file); otherwise an
// error etcd's bootstrap does not repair, in etcd's words: a checksum
// that failed is ErrCRCMismatch, a record cut short before the last file
// io.ErrUnexpectedEOF, which Repair of the last file cannot mend.
func readFailure(name string, good int64, err error, last bool) error {
	if err == nil {
		return nil
	}
	var re *record.Error
	if !errors.As(err, &re) {
		return fmt.Errorf("%w: %s: %w", ErrCorrupt, name, err)
	}
	torn := errors.Is(err, record.ErrTorn)
	switch {
	case torn && last && good > 0:
		return nil
	case re.Checksum:
		return &ReadError{Kind: ErrCRCMismatch, File: name, Offset: good, Torn: torn, cause: err}
	case torn && !last:
		return &ReadError{Kind: io.ErrUnexpectedEOF, File: name, Offset: good, Torn: true, cause: err}
	}
	return fmt.Errorf("%w: %s: %w", ErrCorrupt, name, err)
}

// repair cuts the tail segment, of size bytes and preallocated to
// allocated, at good, just past its last good record, when bytes follow,
// and syncs, as etcd does on opening the last file for writing:
//
//   - at a torn record (err matches record.ErrTorn; etcd's
//     io.ErrUnexpectedEOF) it is etcd's Repair, which truncates and
//     fsyncs: the preallocated space is given back, and ReadAll's
//     ZeroToEnd after it preallocates nothing more (the file ends at the
//     cut), so the tail grows by appends until the next cut;
//   - at a zero length field followed by bytes (record.Error.End; etcd's
//     decoder reads io.EOF there) it is ReadAll's ZeroToEnd, which
//     truncates and preallocates the file again to its old size. etcd
//     does not fsync there; the model does, because its records' checksums
//     are not chained as etcd's are, so that a stale record left past an
//     undone cut would be read as good where etcd's CRC chain rejects it.
//
// Reaching the preallocated zeros (good at or past the bytes) is the clean
// end, where ZeroToEnd changes nothing.
func (w *WAL) repair(size, allocated, good int64, err error) error {
	if good >= size {
		return nil
	}
	var re *record.Error
	errors.As(err, &re)
	if err := w.tail.Truncate(good); err != nil {
		return w.fail("truncate", err)
	}
	if re != nil && re.End {
		if err := w.tail.Preallocate(allocated); err != nil {
			return w.fail("preallocate", err)
		}
	}
	w.stats.Repaired += size - good
	if re != nil && re.Checksum {
		w.stats.RepairedCRC++
	}
	return w.Sync()
}

// listSegments returns the segments of fs in seq order after removing
// leftover temporary segments, and checks that the seqs are consecutive.
func listSegments(fs *disk.FS) ([]segment, error) {
	removed := false
	for _, name := range fs.List() {
		if strings.HasPrefix(name, filePrefix) && strings.HasSuffix(name, fileSuffix+tmpSuffix) {
			if err := fs.Remove(name); err != nil {
				return nil, fmt.Errorf("wal: remove %s: %w", name, err)
			}
			removed = true
		}
	}
	if removed {
		if err := fs.SyncDir(); err != nil {
			return nil, fmt.Errorf("wal: sync dir: %w", err)
		}
	}
	return segmentsOf(fs)
}

// segmentsOf returns the segments of fs in seq order, leaving temporary
// ones alone, and checks that the seqs are consecutive.
func segmentsOf(fs *disk.FS) ([]segment, error) {
	var segs []segment
	for _, name := range fs.List() {
		if seq, index, ok := parseSegmentName(name); ok {
			segs = append(segs, segment{seq: seq, index: index, name: name})
		}
	}
	if len(segs) == 0 {
		return nil, ErrNotExist
	}
	for i := 1; i < len(segs); i++ {
		if segs[i].seq != segs[i-1].seq+1 {
			return nil, fmt.Errorf("%w: segment %d missing before %s", ErrCorrupt, segs[i-1].seq+1, segs[i].name)
		}
	}
	return segs, nil
}

// decoder accumulates the contents of the segments read so far.
type decoder struct {
	meta     []byte
	state    hardState
	ents     []*raftpb.Entry
	snaps    []SnapMarker
	lastSnap uint64
	alloc    *entryAlloc // the cache's, or the decoder's own
	cache    *ReplayCache
}

// newDecoder returns a decoder reading through the cache c (nil: none).
func newDecoder(c *ReplayCache) *decoder {
	if c == nil {
		return &decoder{alloc: new(entryAlloc)}
	}
	return &decoder{cache: c, alloc: &c.alloc}
}

// errBadRecord is a record whose checksum holds but whose contents do not
// make sense: corruption, or a bug.
var errBadRecord = errors.New("wal: malformed record")

// segment decodes one segment's data, preallocated to size (zeros past
// data), and returns the offset just past its last good record, with the
// record error that stopped it, if any.
func (d *decoder) segment(s segment, data []byte, size int64) (int64, error) {
	var recs recList
	r := record.NewReader(data).Preallocated(size)
	if c := d.cache; c != nil {
		// bytes.HasPrefix of the same array is one pointer comparison.
		if ps := c.segs[s.name]; ps != nil && bytes.HasPrefix(data, ps.data) {
			// Appends below go into the room past the cached records (in
			// their last chunk, or new ones), never into them: only this
			// cache entry holds the chunks, and it is replaced by the longer
			// list (a failed open leaves it as it was, excluding what was
			// written). Copying the list at every restart cost a tenth.
			recs = ps.recs
			r = record.NewReaderAt(data, len(ps.data)).Preallocated(size)
		}
	}
	for n := range recs.n {
		if err := d.apply(s, n, recs.at(n)); err != nil {
			return recs.at(n).off, fmt.Errorf("%w at offset %d", err, recs.at(n).off)
		}
	}
	for n := recs.n; ; n++ {
		off := r.Offset()
		p, err := r.Next()
		if err == io.EOF {
			d.remember(s, data, off, recs)
			return off, nil
		}
		if err != nil {
			d.remember(s, data, off, recs)
			return off, err
		}
		rec, err := d.parse(p)
		if err == nil {
			rec.off = off
			recs.add(rec)
			err = d.apply(s, n, recs.at(n))
		}
		if err != nil {
			return off, fmt.Errorf("%w at offset %d", err, off)
		}
	}
}

// remember caches the records parsed from data up to good.
//
// A last record that ran into preallocated zeros and held (its lost bytes
// were zeros) lies past data: the cache is left as it was.
func (d *decoder) remember(s segment, data []byte, good int64, recs recList) {
	if d.cache != nil && good <= int64(len(data)) {
		d.cache.segs[s.name] = &parsedSegment{data: data[:good:good], recs: recs}
	}
}

// parse decodes one record; what it means in its place is apply's.
func (d *decoder) parse(p []byte) (parsed, error) {
	switch {
	case len(p) == 0:
	case p[0] == kindHeader && len(p) >= headerFixed:
		return parsed{kind: kindHeader, a: le.Uint64(p[1:9]), b: le.Uint64(p[9:17]), meta: p[headerFixed:len(p):len(p)]}, nil
	case p[0] == kindEntry && len(p) >= entryFixed:
		return parsed{kind: kindEntry, e: d.alloc.decode(p)}, nil
	case p[0] == kindState && len(p) == stateSize:
		return parsed{kind: kindState, a: le.Uint64(p[1:9]), b: le.Uint64(p[9:17]), c: le.Uint64(p[17:25])}, nil
	case p[0] == kindSnap && len(p) == snapSize:
		return parsed{kind: kindSnap, a: le.Uint64(p[1:9]), b: le.Uint64(p[9:17])}, nil
	}
	return parsed{}, errBadRecord
}

// apply applies rec, the n-th record of segment s.
func (d *decoder) apply(s segment, n int, rec *parsed) error {
	if (n == 0) != (rec.kind == kindHeader) {
		return errBadRecord
	}
	switch rec.kind {
	case kindHeader:
		if rec.a != s.seq || rec.b != s.index {
			return fmt.Errorf("%w: header does not match the file name", errBadRecord)
		}
		if d.meta == nil {
			d.meta = append([]byte{}, rec.meta...)
		}
	case kindEntry:
		return d.entry(rec.e)
	case kindState:
		d.state = hardState{term: rec.a, vote: rec.b, commit: rec.c}
	case kindSnap:
		d.snaps = append(d.snaps, SnapMarker{Index: rec.a, Term: rec.b})
		d.lastSnap = max(d.lastSnap, rec.a)
	}
	return nil
}

// entry appends e under etcd's ReadAll rule: an entry at index i replaces
// every entry at or after i. A gap is allowed only where a snapshot marker
// covers it (a follower that installed a snapshot past its log).
func (d *decoder) entry(e *raftpb.Entry) error {
	n := len(d.ents)
	i := e.GetIndex()
	if n == 0 {
		d.ents = append(d.ents, e)
		return nil
	}
	first, last := d.ents[0].GetIndex(), d.ents[n-1].GetIndex()
	switch {
	case i < first:
		d.ents = append(d.ents[:0], e)
	case i <= last+1:
		d.ents = append(d.ents[:i-first], e)
	case d.lastSnap >= i-1:
		d.ents = append(d.ents[:0], e)
	default:
		return fmt.Errorf("%w: entry %d after entry %d", errBadRecord, i, last)
	}
	return nil
}

func (d *decoder) contents() *Contents {
	s := d.state
	return &Contents{
		Metadata:  d.meta,
		HardState: &raftpb.HardState{Term: new(s.term), Vote: new(s.vote), Commit: new(s.commit)},
		Entries:   d.ents,
		Snapshots: d.snaps,
	}
}
