package disk

import (
	"errors"
	"io"
	"slices"
	"unsafe"
)

var errNegative = errors.New("disk: negative offset or size")

// inode is one file's contents, whatever names it has had.
//
// Its bytes are shared, copy-on-write, instead of copied: dur is never
// written in place (Sync makes it a view of vol's first bytes, a crash
// image may be the crashed file's dur itself), Bytes hands vol's bytes
// to a reader, and vol writes in place only at or past frozen, the
// length of its array's prefix that dur or a reader may see; a write
// below it first copies vol to an array of its own. What a crash keeps
// or loses does not depend on the sharing: it is decided from dur, dirty
// and the last write, as before.
type inode struct {
	vol    []byte    // volatile contents; len is the volatile size
	dur    []byte    // durable contents, never written in place; len is the durable size
	frozen int64     // vol[:frozen] of vol's array is seen elsewhere: never written in place
	dirty  sectorSet // sectors written since the last Sync
	newest span      // the file's newest write, while it is unsynced (TearInFlight)
	cut    int64     // lowest size truncated to since the last Sync, or -1
	linked bool      // has a name in the volatile namespace
	hint   int64     // the size it is not expected to grow past (SizeHint), or 0
	// alloc and durAlloc are the file's preallocated size (Preallocate),
	// volatile and durable: metadata, never bytes in memory. The file
	// is max(len(vol), alloc) bytes long, and what lies past vol reads
	// as zeros.
	alloc, durAlloc int64
}

// size returns the volatile size of the file: its bytes, or its
// preallocated size if that is larger.
func (ino *inode) size() int64 { return max(int64(len(ino.vol)), ino.alloc) }

// sectorSet is a set of sector numbers: a bitset for membership and a list
// for iteration, so that adding is O(1) and sorting is O(n log n) in the
// number of members, never in the size of the file.
type sectorSet struct {
	bits []uint64
	list []int64
}

// addRange adds the sectors first..last, which are not negative (by
// unsigned shifts: a write calls it, and a signed division by 64 costs a
// sign fixup).
func (s *sectorSet) addRange(first, last int64) {
	if need := int(uint64(last)>>6) + 1; need > len(s.bits) {
		s.bits = slices.Grow(s.bits, need-len(s.bits))[:need]
	}
	for sec := first; sec <= last; sec++ {
		w, b := uint64(sec)>>6, uint64(1)<<(uint64(sec)&63)
		if s.bits[w]&b == 0 {
			s.bits[w] |= b
			s.list = append(s.list, sec)
		}
	}
}

// sorted sorts the members in place and returns them; the slice is valid
// until the set changes.
func (s *sectorSet) sorted() []int64 {
	slices.Sort(s.list) // appends are mostly ascending: pdqsort is linear then
	return s.list
}

// dropFrom removes every sector at or after sec.
func (s *sectorSet) dropFrom(sec int64) {
	kept := s.list[:0]
	for _, m := range s.list {
		if m < sec {
			kept = append(kept, m)
		} else {
			s.bits[m/64] &^= uint64(1) << (m % 64)
		}
	}
	s.list = kept
}

// grow prepares vol for a write of bytes from..end (a write, or the zero
// fill of a growth): it copies vol to an array of its own if the write
// would reach into its frozen prefix, and extends it to end. The bytes it
// exposes are zero below written; the caller writes those from written to
// end at once (end, for a zero fill).
func (ino *inode) grow(from, end, written int64) {
	if from < ino.frozen {
		b := make([]byte, len(ino.vol), max(int64(len(ino.vol)), end))
		copy(b, ino.vol)
		ino.vol, ino.frozen = b, 0
	}
	if end > int64(len(ino.vol)) {
		c := cap(ino.vol)
		ino.vol = resize(ino.vol, end, written, ino.hint)
		if cap(ino.vol) != c { // a new array: nobody else sees it
			ino.frozen = 0
		}
	}
}

// resize returns b with length n, zero-filling the bytes it exposes below
// written (the caller overwrites those from written to n at once), and
// growing the capacity geometrically so that appends are amortized O(1).
// It doubles the capacity (append grows a large slice by only a quarter,
// so a file appended to its segment size would be copied about five
// times over). A new array is made by append, which zeroes only what lies
// past the bytes it copies; asking for more than twice b's capacity makes
// append allocate what is asked (no quarter steps). A hint (SizeHint)
// caps the doubling, never n.
func resize(b []byte, n, written, hint int64) []byte {
	old := int64(len(b))
	if n <= old {
		return b[:n]
	}
	if n <= int64(cap(b)) {
		b = b[:n]
		if written > old { // not an append: a gap to zero
			clear(b[old:min(written, n)])
		}
		return b
	}
	want := max(n, 2*int64(cap(b))+1, 512)
	if hint > 0 {
		want = max(n, min(want, hint))
	}
	return append(b[:old:old], make([]byte, want-old)...)[:n]
}

// File is a handle on a file of an FS. After the FS crashes, or after Close,
// every method that returns an error returns ErrClosed.
type File struct {
	fs     *FS
	ino    *inode
	name   string
	closed bool
}

// check returns ErrClosed for a handle that can no longer be used.
func (f *File) check() error {
	if f.closed || f.fs.crashed {
		return ErrClosed
	}
	return nil
}

// Name returns the name the file was opened or created with, even after a
// rename, as os.File does.
func (f *File) Name() string { return f.name }

// Close closes the handle. It does not sync.
func (f *File) Close() error {
	if err := f.check(); err != nil {
		return err
	}
	f.closed = true
	return nil
}

// Size returns the volatile size of the file's bytes, those written (or
// zero-filled by a growing Truncate), not counting zeros preallocated past
// them (Allocated), or 0 for a closed handle.
func (f *File) Size() int64 {
	if f.check() != nil {
		return 0
	}
	return int64(len(f.ino.vol))
}

// Allocated returns the size a stat of the file would report: Size, or
// the preallocated size if that is larger (Preallocate). The bytes from
// Size to Allocated read as zeros. 0 for a closed handle.
func (f *File) Allocated() int64 {
	if f.check() != nil {
		return 0
	}
	return f.ino.size()
}

// Preallocate extends the file to at least n bytes of zeros without
// writing them, as fallocate(fd, 0, 0, n) does (etcd's
// fileutil.Preallocate with extendFile, which wal.Create, the cut's file
// pipeline and ReadAll's ZeroToEnd call on every WAL segment). The space
// counts against the capacity (ErrNoSpace, changing nothing). The new
// size is metadata: a Sync of the file makes it durable (fsync, and
// fdatasync since the size is needed to read the file back); a crash
// before that Sync loses it, and a file created and preallocated but
// never synced comes back empty. A later Truncate below n gives the space
// back, as ftruncate does. It holds nothing in memory: reads past the
// bytes see zeros, and a write into the preallocated space stores only
// what it writes.
func (f *File) Preallocate(n int64) error {
	if err := f.check(); err != nil {
		return err
	}
	if n < 0 {
		return errNegative
	}
	ino := f.ino
	if n <= ino.size() {
		return nil
	}
	if err := f.fs.reserve(ino, n); err != nil {
		return err
	}
	ino.alloc = n
	return nil
}

// Trim gives back the spare capacity of the file's bytes in memory, for a
// file that will not grow again (a WAL segment once cut): its array grows
// by doubling (see resize), so a finished file can hold as much again
// unused, which a long run would keep for every segment until the WAL
// releases it. It changes nothing a read, a write, a sync or a crash sees;
// the durable bytes, when they are a view of the volatile ones, move to
// the new array with them. A closed handle is left alone.
func (f *File) Trim() {
	if f.check() != nil {
		return
	}
	ino := f.ino
	n := len(ino.vol)
	if cap(ino.vol)-n < max(n/8, 4<<10) {
		return // not worth a copy
	}
	shared := cap(ino.dur) > 0 && unsafe.SliceData(ino.dur) == unsafe.SliceData(ino.vol)
	if shared && len(ino.dur) > n {
		return // a truncate not yet synced: dur still reads past vol
	}
	b := make([]byte, n)
	copy(b, ino.vol)
	ino.vol, ino.frozen = b, 0
	if shared {
		ino.dur = b[:len(ino.dur):len(ino.dur)]
		ino.frozen = int64(len(ino.dur))
	}
}

// SizeHint says that the file is not expected to grow past n bytes (a WAL
// segment, cut at its size): its array in memory then grows to no more
// than n when it doubles, so that a file that ends near n holds no spare
// room that Trim would copy away. A write past n still grows it. Like
// Trim, it changes nothing a read, a write, a sync or a crash sees.
func (f *File) SizeHint(n int64) {
	if f.check() == nil {
		f.ino.hint = n
	}
}

// DurableSize returns how many bytes of the file a crash is sure to keep,
// for a file that is only appended to (or truncated): its durable size,
// less a truncate not yet synced and anything past its volatile size.
// Bytes written past it are volatile until Sync. A closed handle still
// reports the file's durable size.
func (f *File) DurableSize() int64 {
	ino := f.ino
	n := min(int64(len(ino.dur)), int64(len(ino.vol)))
	if ino.cut >= 0 {
		n = min(n, ino.cut)
	}
	return n
}

// ReadAt reads volatile bytes at off, as os.File.ReadAt: it returns io.EOF
// when it reads fewer than len(p) bytes because the file ends.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, errNegative
	}
	size := f.ino.size()
	if off >= size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := 0
	if off < int64(len(f.ino.vol)) {
		n = copy(p, f.ino.vol[off:])
	}
	// Preallocated space past the bytes reads as zeros.
	z := min(int64(len(p)), size-off)
	clear(p[n:z])
	if z < int64(len(p)) {
		return int(z), io.EOF
	}
	return int(z), nil
}

// ReadAll returns a copy of the volatile contents, or nil for a closed
// handle. The copy is the caller's to keep or change. It holds the file's
// bytes (Size), not the zeros preallocated past them.
func (f *File) ReadAll() []byte {
	if f.check() != nil {
		return nil
	}
	return slices.Clone(f.ino.vol)
}

// Bytes returns the volatile contents without copying them, or nil for a
// closed handle: the file's bytes (Size); the zeros preallocated past
// them, up to Allocated, are not in it. The caller must not change them, and they never change
// under it: the file copies its bytes before it next writes them
// (copy-on-write), so a reader may keep them as long as it likes, and a
// later Bytes of a file that was not written since returns the same array.
func (f *File) Bytes() []byte {
	if f.check() != nil {
		return nil
	}
	n := len(f.ino.vol)
	f.ino.frozen = max(f.ino.frozen, int64(n))
	return f.ino.vol[:n:n]
}

// Write appends p at the end of the file.
func (f *File) Write(p []byte) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	return f.WriteAt(p, int64(len(f.ino.vol)))
}

// WriteAt writes p at off, extending the file (with a zero-filled gap) if
// needed. The bytes are volatile until Sync. With Misdirect on, the write may
// land at another sector-aligned offset and still report success. It fails
// with ErrNoSpace, writing nothing, when the capacity would be exceeded.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, errNegative
	}
	if len(p) == 0 {
		return 0, nil
	}
	fs, ino := f.fs, f.ino
	if fs.faults.Misdirect.Hit(fs.rng) {
		off = fs.misdirect(ino, off, len(p))
	}
	end := off + int64(len(p))
	if err := fs.reserve(ino, end); err != nil {
		return 0, err
	}
	ino.grow(min(off, int64(len(ino.vol))), end, off)
	copy(ino.vol[off:], p)
	first, last := off/SectorSize, (end-1)/SectorSize
	ino.dirty.addRange(first, last)
	fs.last = lastWrite{ino: ino, first: first, last: last}
	ino.newest = span{first: first, last: last, ok: true}
	fs.stats.Writes++
	fs.stats.BytesWritten += int64(len(p))
	return len(p), nil
}

// misdirect returns another offset for a write of n bytes at off: shifted by
// a whole, non-zero number of sectors, landing no further than one sector
// past the end of the file or of the intended write.
func (fs *FS) misdirect(ino *inode, off int64, n int) int64 {
	fs.stats.Misdirects++
	cur := off / SectorSize
	span := max(int64(len(ino.vol)), off+int64(n))/SectorSize + 1
	target := fs.rng.Int64N(span)
	if target >= cur {
		target++
	}
	return target*SectorSize + off%SectorSize
}

// reserve accounts for ino growing to end bytes, or fails with ErrNoSpace.
func (fs *FS) reserve(ino *inode, end int64) error {
	grow := end - ino.size() // preallocated space is reserved already
	if grow <= 0 || !ino.linked {
		return nil
	}
	if c := fs.faults.CapacityBytes; c > 0 && fs.used+grow > c {
		return ErrNoSpace
	}
	fs.used += grow
	return nil
}

// Truncate changes the size of the file. Growing fills with zeros. The new
// size is volatile until Sync: a crash before it undoes the truncate, and the
// file comes back at its durable size with its durable bytes (doc.go).
func (f *File) Truncate(size int64) error {
	if err := f.check(); err != nil {
		return err
	}
	if size < 0 {
		return errNegative
	}
	return f.fs.truncate(f.ino, size)
}

// truncate sets the volatile size of ino, remembering the lowest cut so that
// the next Sync can make it durable. Like ftruncate, it ends the file at
// size, preallocated space included: a size within the preallocated space
// shrinks it (metadata, no bytes), and a size past the bytes and the
// preallocated space zero-fills the bytes up to it.
func (fs *FS) truncate(ino *inode, size int64) error {
	old, oldSize := int64(len(ino.vol)), ino.size()
	if err := fs.reserve(ino, size); err != nil {
		return err
	}
	if size < oldSize && ino.linked {
		fs.used -= oldSize - size
	}
	ino.alloc = min(ino.alloc, size)
	if size < old {
		if ino.cut < 0 || size < ino.cut {
			ino.cut = size
		}
		limit := (size + SectorSize - 1) / SectorSize
		ino.dirty.dropFrom(limit)
		if fs.last.ino == ino {
			fs.last.last = min(fs.last.last, limit-1)
			if fs.last.last < fs.last.first {
				fs.last = lastWrite{}
			}
		}
		if w := &ino.newest; w.ok {
			w.last = min(w.last, limit-1)
			w.ok = w.last >= w.first
		}
	}
	switch {
	case size > old && size > ino.alloc:
		ino.grow(old, size, size) // zero-fills
	case size <= old:
		ino.vol = ino.vol[:size]
	}
	fs.stats.Truncates++
	return nil
}

// Sync makes the volatile contents and size of the file durable, in time
// proportional to the bytes written since the last Sync. With LyingSync on,
// it may report success and leave everything volatile.
func (f *File) Sync() error {
	if err := f.check(); err != nil {
		return err
	}
	fs := f.fs
	fs.stats.Syncs++
	if fs.faults.LyingSync.Hit(fs.rng) {
		fs.stats.LyingSyncs++
		return nil
	}
	fs.stats.BytesSynced += f.ino.sync()
	if fs.last.ino == f.ino {
		fs.last = lastWrite{}
	}
	return nil
}

// sync makes the volatile contents durable and returns the number of
// bytes of the dirty sectors, those a disk would write. Afterwards the
// durable bytes equal the volatile ones (what was not dirty already did,
// and a pending truncate is undone or made durable with them): instead of
// copying, dur becomes a view of vol's bytes, which vol then never writes
// in place (frozen).
func (ino *inode) sync() int64 {
	size := int64(len(ino.vol))
	var n int64
	d := &ino.dirty
	for _, sec := range d.list { // counts the bytes and empties the set in one pass
		if lo, hi := sec*SectorSize, min((sec+1)*SectorSize, size); lo < hi {
			n += hi - lo
		}
		d.bits[uint64(sec)>>6] = 0
	}
	d.list = d.list[:0]
	ino.dur = ino.vol[:size:size]
	ino.durAlloc = ino.alloc
	ino.frozen = max(ino.frozen, size)
	ino.cut = -1
	ino.newest = span{}
	return n
}
