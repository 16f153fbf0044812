package disk

import (
	"fmt"
	"maps"
	"slices"
	"unsafe"
)

// Crash simulates a power loss and returns the crash image: a new FS, with
// the same rng and faults, holding only what survives. Afterwards fs and
// every File handle on it return ErrClosed. Crashing a crashed FS panics.
//
// The image is built in a fixed order, so that one seed gives one image:
// first the namespace changes not made durable by SyncDir are replayed over
// the durable namespace in the order they were made, each undone with
// probability DirLoss; then each surviving file, in name order, starts from
// its durable bytes, has its in-flight write torn (TornWrite, or as
// TearInFlight said), keeps each
// other unsynced sector in ascending order with probability KeepUnsynced,
// and last gets a flipped bit (BitFlip).
func (fs *FS) Crash() *FS {
	if fs.crashed {
		panic("disk: Crash of an FS that has already crashed")
	}
	c := &crasher{fs: fs}
	names := c.namespace()
	img := New(fs.rng, fs.faults)
	img.stats = fs.stats
	img.stats.Crashes++
	spared := map[*inode]bool{}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		ino := names[name]
		data := c.image(name, ino)
		// The image's volatile and durable bytes are one array, the
		// crashed file's own durable bytes when the crash changed nothing
		// in them (the crashed FS is never written again): frozen, so a
		// write below their end copies it. A write past it goes into the
		// array's spare room when the crashed file's array is theirs and
		// nobody saw past them in it (its frozen prefix ends there): what
		// lies there are the crashed file's lost unsynced bytes, which
		// nothing can read, so that a restart's first append does not copy
		// the whole file.
		n := len(data)
		vol := data[:n:n]
		if !spared[ino] && n > 0 && unsafe.SliceData(data) == unsafe.SliceData(ino.vol) && ino.frozen == int64(n) {
			vol, spared[ino] = ino.vol[:n], true
		}
		// The preallocated size survives as of the last Sync (metadata
		// made durable by fsync): zeros past the bytes, up to it.
		nino := &inode{vol: vol, dur: data[:n:n], frozen: int64(n), cut: -1, linked: true,
			alloc: ino.durAlloc, durAlloc: ino.durAlloc}
		img.names[name] = nino
		img.used += nino.size()
	}
	img.durNames = maps.Clone(img.names)
	fs.crashed = true
	fs.crashLog = c.log
	img.crashLog = c.log
	fs.crashHits, img.crashHits = c.hits, c.hits
	return img
}

// Exit is the process that used fs ending while its machine stays up (a
// clean shutdown): a new FS holds everything fs held, volatile bytes and
// names included (the page cache survives a process), with the same rng
// and faults; a later Crash of it loses what was never synced. Afterwards
// fs and every File handle on it return ErrClosed.
func (fs *FS) Exit() *FS {
	if fs.crashed {
		panic("disk: Exit of an FS that has crashed")
	}
	img := *fs
	img.crashLog = nil
	fs.crashed = true
	return &img
}

// crasher builds one crash image and its log.
type crasher struct {
	fs   *FS
	log  []string
	hits []CrashHit
}

// logf appends one line to the crash log.
func (c *crasher) logf(format string, args ...any) {
	c.log = append(c.log, fmt.Sprintf(format, args...))
}

// namespace replays the pending namespace changes over the durable
// namespace, undoing each with probability DirLoss. A change whose file is
// no longer where it was (because an earlier change was undone) is moot and
// dropped too, so that the result is always the namespace that applying a
// subset of the changes, in their order, produces.
func (c *crasher) namespace() map[string]*inode {
	ns := maps.Clone(c.fs.durNames)
	for _, op := range c.fs.pending {
		if c.fs.faults.DirLoss.Hit(c.fs.rng) {
			c.logf("%s undone", op)
			c.hit(CrashDirUndone, op.name)
			continue
		}
		switch op.kind {
		case dirCreate:
			if ns[op.name] == nil {
				ns[op.name] = op.ino
			}
		case dirRemove:
			if ns[op.name] == op.ino {
				delete(ns, op.name)
			}
		case dirRename:
			if ns[op.name] == op.ino {
				delete(ns, op.name)
				ns[op.to] = op.ino
			}
		}
	}
	return ns
}

// String describes op for the crash log.
func (op dirOp) String() string {
	switch op.kind {
	case dirCreate:
		return "create " + op.name
	case dirRemove:
		return "remove " + op.name
	default:
		return "rename " + op.name + " -> " + op.to
	}
}

// image returns the crash image of ino, named name in the new namespace:
// ino's durable bytes themselves when nothing unsynced survives, a copy
// changed by what does otherwise.
func (c *crasher) image(name string, ino *inode) []byte {
	fs := c.fs
	img, copied := ino.dur, false
	own := func() []byte {
		if !copied {
			img, copied = slices.Clone(img), true
		}
		return img
	}
	var tear *tornWrite
	switch {
	case fs.inFlight.ino != nil:
		if w := ino.newest; fs.inFlight.ino == ino && w.ok {
			tear = c.tearAsTold(name, w.first, w.last+1, fs.inFlight.lose)
		}
	case fs.last.ino == ino && fs.faults.TornWrite.Hit(fs.rng):
		tear = c.tear(name, fs.last.first, fs.last.last+1)
	}
	kept, others := 0, 0
	for _, sec := range ino.dirty.sorted() {
		var survive bool
		if tear.covers(sec) {
			survive = tear.keeps(sec)
		} else {
			others++
			survive = fs.faults.KeepUnsynced.Hit(fs.rng)
			if survive {
				kept++
			}
		}
		if survive {
			img = keepSector(own(), ino.vol, sec)
		}
	}
	if others > 0 {
		c.logf("%s: kept %d of %d unsynced sectors", name, kept, others)
		c.hitUnsynced(name, kept, others)
	}
	if ino.cut >= 0 && ino.cut < int64(len(ino.dur)) {
		c.logf("%s: unsynced truncate to %d undone", name, ino.cut)
	}
	if int64(len(img)) != int64(len(ino.vol)) {
		c.logf("%s: size %d -> %d", name, len(ino.vol), len(img))
	}
	if ino.alloc != ino.durAlloc {
		c.logf("%s: preallocated %d -> %d", name, ino.alloc, ino.durAlloc)
	}
	return c.flip(name, img, own)
}

// tornWrite is the fate of the sectors [first, end) of a torn write: keep
// says, sector by sector from first, which persist.
type tornWrite struct {
	first, end int64
	keep       []bool
}

func (t *tornWrite) covers(sec int64) bool { return t != nil && sec >= t.first && sec < t.end }
func (t *tornWrite) keeps(sec int64) bool  { return t.keep[sec-t.first] }

// unordered reports whether a kept sector follows a lost one.
func (t *tornWrite) unordered() bool {
	lost := slices.Index(t.keep, false)
	return lost >= 0 && slices.Contains(t.keep[lost:], true)
}

// pattern shows the kept (K) and lost (.) sectors of a write of at most 64
// sectors for the crash log.
func (t *tornWrite) pattern() string {
	if len(t.keep) > 64 {
		return ""
	}
	p := make([]byte, len(t.keep))
	for i, k := range t.keep {
		p[i] = '.'
		if k {
			p[i] = 'K'
		}
	}
	return ": " + string(p)
}

// tear draws which sectors of the torn write [first, end) persist, in one
// of two ways, chosen with even odds (the draws: the way, then the prefix
// length, or one bit per sector and, when every sector came up kept, the
// one that is lost):
//
//   - in order: a strict prefix (possibly none), the device having written
//     the write's sectors in ascending order and stopped;
//   - out of order: a strict subset, any sectors lost before kept ones.
//     Without a flush (or FUA) a device promises no order among the sectors
//     of one write: its queue and its cache write them back in whatever
//     order suits it, and a file system may map them to extents written
//     separately (Pillai et al., OSDI 2014). A lost sector keeps what the
//     file held before, zeros past its durable size: what etcd's
//     preallocated, zero-filled WAL files read back, and the case etcd's
//     isTornEntry was written for.
//
// Either way, in a preallocated file (Preallocate) the lost sectors past
// the kept ones read back as zeros up to the preallocated size: the file
// does not end early.
func (c *crasher) tear(name string, first, end int64) *tornWrite {
	rng := c.fs.rng
	n := end - first
	t := &tornWrite{first: first, end: end, keep: make([]bool, n)}
	kept := int64(0)
	if rng.IntN(2) == 0 {
		kept = rng.Int64N(n)
		for i := range kept {
			t.keep[i] = true
		}
		c.logf("%s: torn write at %d (kept %d of %d sectors)", name, (first+kept)*SectorSize, kept, n)
		c.hit(CrashTorn, name)
		return t
	}
	for i := range t.keep {
		t.keep[i] = rng.IntN(2) == 0
		if t.keep[i] {
			kept++
		}
	}
	if kept == n {
		t.keep[rng.Int64N(n)] = false
		kept--
	}
	c.logf("%s: torn write out of order at %d (kept %d of %d sectors%s)",
		name, first*SectorSize, kept, n, t.pattern())
	c.hit(CrashTorn, name)
	if t.unordered() {
		c.hit(CrashTornUnordered, name)
	}
	return t
}

// tearAsTold tears the write [first, end) as TearInFlight said: in
// order, its last lose sectors lost, no draw.
func (c *crasher) tearAsTold(name string, first, end, lose int64) *tornWrite {
	n := end - first
	kept := max(n-lose, 0)
	t := &tornWrite{first: first, end: end, keep: make([]bool, n)}
	for i := range kept {
		t.keep[i] = true
	}
	c.logf("%s: torn write at %d (kept %d of %d sectors, in flight as told)", name, (first+kept)*SectorSize, kept, n)
	c.hit(CrashTorn, name)
	return t
}

// keepSector copies the volatile bytes of sector sec into img, extending img
// with zeros as needed; bytes past the volatile size are left as they are.
func keepSector(img, vol []byte, sec int64) []byte {
	lo := sec * SectorSize
	hi := min(lo+SectorSize, int64(len(vol)))
	if lo >= hi {
		return img
	}
	if hi > int64(len(img)) {
		img = resize(img, hi, lo, 0)
	}
	copy(img[lo:hi], vol[lo:hi])
	return img
}

// flip flips one bit of img with probability BitFlip; own returns img
// as a copy of its own, to be changed.
func (c *crasher) flip(name string, img []byte, own func() []byte) []byte {
	fs := c.fs
	if len(img) == 0 || !fs.faults.BitFlip.Hit(fs.rng) {
		return img
	}
	img = own()
	bit := fs.rng.Int64N(int64(len(img)) * 8)
	img[bit/8] ^= 1 << (bit % 8)
	c.logf("%s: bit flip at byte %d bit %d", name, bit/8, bit%8)
	return img
}
