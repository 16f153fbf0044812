package wal

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/record"
	"go.etcd.io/raft/v3/raftpb"
)

// Open reads every segment of the WAL in fs and returns it ready to append,
// with what it read. A torn tail of the last segment is truncated and the
// truncation synced; leftover temporary segments are removed. Damage
// anywhere else is ErrCorrupt, and no segments at all is ErrNotExist.
func Open(fs *disk.FS) (*WAL, *Contents, error) {
	segs, err := listSegments(fs)
	if err != nil {
		return nil, nil, err
	}
	d := &decoder{}
	var w *WAL
	for i, s := range segs {
		f, err := fs.Open(s.name)
		if err != nil {
			return nil, nil, fmt.Errorf("wal: open %s: %w", s.name, err)
		}
		data := f.ReadAll()
		good, err := d.segment(s, data)
		segs[i].size = good
		if err != nil && (i < len(segs)-1 || !errors.Is(err, record.ErrTorn) || good == 0) {
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, s.name, err)
		}
		if i == len(segs)-1 {
			w = newWAL(fs, d.meta)
			w.tail, w.segs = f, segs
			if err := w.repair(int64(len(data)), good); err != nil {
				return nil, nil, err
			}
		}
	}
	c := d.contents()
	w.state = d.state
	w.lastIndex = d.lastSnap
	if n := len(c.Entries); n > 0 {
		w.lastIndex = max(w.lastIndex, c.Entries[n-1].GetIndex())
	}
	return w, c, nil
}

// repair cuts the tail segment from size bytes down to good and syncs.
func (w *WAL) repair(size, good int64) error {
	if good == size {
		return nil
	}
	if err := w.tail.Truncate(good); err != nil {
		return w.fail("truncate", err)
	}
	w.stats.Repaired += size - good
	return w.Sync()
}

// listSegments returns the segments of fs in seq order after removing
// leftover temporary segments, and checks that the seqs are consecutive.
func listSegments(fs *disk.FS) ([]segment, error) {
	var segs []segment
	removed := false
	for _, name := range fs.List() {
		if strings.HasPrefix(name, filePrefix) && strings.HasSuffix(name, fileSuffix+tmpSuffix) {
			if err := fs.Remove(name); err != nil {
				return nil, fmt.Errorf("wal: remove %s: %w", name, err)
			}
			removed = true
			continue
		}
		if seq, index, ok := parseSegmentName(name); ok {
			segs = append(segs, segment{seq: seq, index: index, name: name})
		}
	}
	if removed {
		if err := fs.SyncDir(); err != nil {
			return nil, fmt.Errorf("wal: sync dir: %w", err)
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
	alloc    entryAlloc
}

// errBadRecord is a record whose checksum holds but whose contents do not
// make sense: corruption, or a bug.
var errBadRecord = errors.New("wal: malformed record")

// segment decodes one segment's data and returns the offset just past its
// last good record, with the record error that stopped it, if any.
func (d *decoder) segment(s segment, data []byte) (int64, error) {
	r := record.NewReader(data)
	for n := 0; ; n++ {
		off := r.Offset()
		p, err := r.Next()
		if err == io.EOF {
			return off, nil
		}
		if err != nil {
			return off, err
		}
		if err := d.record(s, n, p); err != nil {
			return off, fmt.Errorf("%w at offset %d", err, off)
		}
	}
}

// record applies the n-th record p of segment s.
func (d *decoder) record(s segment, n int, p []byte) error {
	if len(p) == 0 || (n == 0) != (p[0] == kindHeader) {
		return errBadRecord
	}
	switch {
	case p[0] == kindHeader && len(p) >= headerFixed:
		if le.Uint64(p[1:9]) != s.seq || le.Uint64(p[9:17]) != s.index {
			return fmt.Errorf("%w: header does not match the file name", errBadRecord)
		}
		if d.meta == nil {
			d.meta = append([]byte{}, p[headerFixed:]...)
		}
		return nil
	case p[0] == kindEntry && len(p) >= entryFixed:
		return d.entry(d.alloc.decode(p))
	case p[0] == kindState && len(p) == stateSize:
		d.state = hardState{le.Uint64(p[1:9]), le.Uint64(p[9:17]), le.Uint64(p[17:25])}
		return nil
	case p[0] == kindSnap && len(p) == snapSize:
		m := SnapMarker{Index: le.Uint64(p[1:9]), Term: le.Uint64(p[9:17])}
		d.snaps = append(d.snaps, m)
		d.lastSnap = max(d.lastSnap, m.Index)
		return nil
	}
	return errBadRecord
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
