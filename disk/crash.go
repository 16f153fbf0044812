package disk

import (
	"fmt"
	"maps"
	"slices"
)

// Crash simulates a power loss and returns the crash image: a new FS, with
// the same rng and faults, holding only what survives. Afterwards fs and
// every File handle on it return ErrClosed. Crashing a crashed FS panics.
//
// The image is built in a fixed order, so that one seed gives one image:
// first the namespace changes not made durable by SyncDir are replayed over
// the durable namespace in the order they were made, each undone with
// probability DirLoss; then each surviving file, in name order, starts from
// its durable bytes, has its in-flight write torn (TornWrite), keeps each
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
	for _, name := range slices.Sorted(maps.Keys(names)) {
		data := c.image(name, names[name])
		// The image's volatile and durable bytes are one array, the
		// crashed file's own durable bytes when the crash changed nothing
		// in them (the crashed FS is never written again): frozen, so the
		// first write copies it.
		n := len(data)
		img.names[name] = &inode{vol: data[:n:n], dur: data[:n:n], frozen: int64(n), cut: -1, linked: true}
		img.used += int64(len(data))
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
	tornFirst, tornEnd := int64(-1), int64(-1) // sectors [tornFirst, tornEnd) of the torn write
	keepEnd := int64(-1)                       // its kept prefix is [tornFirst, keepEnd)
	if fs.last.ino == ino && fs.faults.TornWrite.Hit(fs.rng) {
		tornFirst, tornEnd = fs.last.first, fs.last.last+1
		keepEnd = tornFirst + fs.rng.Int64N(tornEnd-tornFirst)
		c.logf("%s: torn write at %d (kept %d of %d sectors)",
			name, keepEnd*SectorSize, keepEnd-tornFirst, tornEnd-tornFirst)
		c.hit(CrashTorn, name)
	}
	kept, others := 0, 0
	for _, sec := range ino.dirty.sorted() {
		var survive bool
		if sec >= tornFirst && sec < tornEnd {
			survive = sec < keepEnd
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
	return c.flip(name, img, own)
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
		img = resize(img, hi)
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
