package mvcc

import (
	"bytes"
	"fmt"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// revEntry is one revision of a key with the record stored for it.
type revEntry struct {
	rev revision
	rec []byte // the key-bucket record; nil for a tombstone
}

// generation is the life of a key from the put that creates it to the
// tombstone that ends it (etcd's generation).
type generation struct {
	ver     int64 // version of the last revision in revs
	created int64 // main revision of the creating put; 0 if compacted away
	revs    []revEntry
}

func (g *generation) isEmpty() bool { return g == nil || len(g.revs) == 0 }

// lastAtOrBelow returns the index of the newest revision with main <= atRev,
// or -1 (etcd's generation.walk with "rev.Main > atRev").
func (g *generation) lastAtOrBelow(atRev int64) int {
	for i := len(g.revs) - 1; i >= 0; i-- {
		if g.revs[i].rev.main <= atRev {
			return i
		}
	}
	return -1
}

// keyIndex holds the revisions of one key, as etcd's keyIndex: one or more
// generations, the last one empty while the key is deleted. For example
// put(1.0); put(2.0); tombstone(3.0); put(4.0) gives {1.0 2.0 3.0t} {4.0}.
type keyIndex struct {
	key      []byte
	head     uint64 // backend.KeyHead(key): the index orders by it first
	modified revision
	gens     []generation
	live     uint64 // liveHash of the current record; 0 while deleted
}

// newKeyIndex returns the empty keyIndex of a copy of key.
func newKeyIndex(key []byte) *keyIndex {
	return &keyIndex{key: bytes.Clone(key), head: backend.KeyHead(key)}
}

func (ki *keyIndex) isEmpty() bool {
	return len(ki.gens) == 1 && ki.gens[0].isEmpty()
}

// put appends a revision to the current generation (etcd keyIndex.put).
func (ki *keyIndex) put(rev revision, rec []byte) {
	if !rev.greater(ki.modified) {
		panic(fmt.Sprintf("mvcc: put of %q at %v not above %v", ki.key, rev, ki.modified))
	}
	if len(ki.gens) == 0 {
		ki.gens = append(ki.gens, generation{})
	}
	g := &ki.gens[len(ki.gens)-1]
	if len(g.revs) == 0 {
		g.created = rev.main
	}
	if cap(g.revs) == 0 {
		// A generation's revisions come one put at a time; start at
		// a few rather than grow through one and two. Four, not eight:
		// most generations end (a delete) within a few puts, and 8 cost
		// more bytes (BenchmarkWorld60) for the same instructions.
		g.revs = make([]revEntry, 0, 4)
	}
	g.revs = append(g.revs, revEntry{rev: rev, rec: rec})
	g.ver++
	ki.modified = rev
}

// tombstone ends the current generation at rev and opens an empty one
// (etcd keyIndex.tombstone). It fails if the key is already deleted.
func (ki *keyIndex) tombstone(rev revision) error {
	if len(ki.gens) == 0 || ki.gens[len(ki.gens)-1].isEmpty() {
		return fmt.Errorf("mvcc: tombstone of deleted key %q at %v", ki.key, rev)
	}
	ki.put(rev, nil)
	ki.gens = append(ki.gens, generation{})
	return nil
}

// restore starts a key restored from the key bucket at a record whose
// earlier revisions were compacted (etcd keyIndex.restore).
func (ki *keyIndex) restore(created int64, rev revision, ver int64, rec []byte) {
	ki.modified = rev
	revs := append(make([]revEntry, 0, 8), revEntry{rev: rev, rec: rec}) // room for the puts to come (see put)
	ki.gens = append(ki.gens, generation{ver: ver, created: created, revs: revs})
}

// restoreTombstone starts a key whose only remaining record is a tombstone;
// its creation is unknown (etcd keyIndex.restoreTombstone, issue 19179).
func (ki *keyIndex) restoreTombstone(rev revision) {
	ki.restore(0, rev, 1, nil)
	ki.gens = append(ki.gens, generation{})
}

// findGeneration returns the generation alive at rev, or nil if the key did
// not exist at rev (etcd keyIndex.findGeneration).
func (ki *keyIndex) findGeneration(rev int64) *generation {
	last := len(ki.gens) - 1
	for i := last; i >= 0; i-- {
		g := &ki.gens[i]
		if len(g.revs) == 0 {
			continue
		}
		if i != last && g.revs[len(g.revs)-1].rev.main <= rev {
			return nil // deleted at or before rev
		}
		if g.revs[0].rev.main <= rev {
			return g
		}
	}
	return nil
}

// get returns the version of the key visible at atRev: its entry, creation
// revision and version number (etcd keyIndex.get).
func (ki *keyIndex) get(atRev int64) (e *revEntry, created, ver int64, ok bool) {
	g := ki.findGeneration(atRev)
	if g.isEmpty() {
		return nil, 0, 0, false
	}
	n := g.lastAtOrBelow(atRev)
	if n < 0 {
		return nil, 0, 0, false
	}
	return &g.revs[n], g.created, g.ver - int64(len(g.revs)-n-1), true
}

// since returns the revisions with main >= rev, only the last one of each
// main revision (etcd keyIndex.since, for watchers).
func (ki *keyIndex) since(rev int64) []revision {
	from := revision{main: rev}
	gi := len(ki.gens) - 1
	for ; gi > 0; gi-- {
		g := &ki.gens[gi]
		if !g.isEmpty() && from.greater(revision{main: g.created}) {
			break
		}
	}
	var revs []revision
	var last int64
	for ; gi < len(ki.gens); gi++ {
		for _, e := range ki.gens[gi].revs {
			switch {
			case from.greater(e.rev):
			case e.rev.main == last:
				revs[len(revs)-1] = e.rev
			default:
				revs = append(revs, e.rev)
				last = e.rev.main
			}
		}
	}
	return revs
}

// doCompact finds the generation that a compaction at atRev keeps (the
// first one not deleted before atRev) and in it the newest revision at or
// below atRev, or -1 (etcd keyIndex.doCompact).
func (ki *keyIndex) doCompact(atRev int64) (genIdx, revIndex int) {
	for genIdx < len(ki.gens)-1 {
		g := &ki.gens[genIdx]
		if g.revs[len(g.revs)-1].rev.main >= atRev {
			break
		}
		genIdx++
	}
	return genIdx, ki.gens[genIdx].lastAtOrBelow(atRev)
}

// compact drops the revisions at or below atRev except the newest one, and
// the generations deleted before atRev; it returns the revision at or below
// atRev that stays, if any (etcd keyIndex.compact). With dropTomb, a
// tombstone left alone in its generation goes too: etcd before 3.5.16
// (issue 18089, fixed by PR 18274), the precondition of issue 17780.
func (ki *keyIndex) compact(atRev int64, dropTomb bool) (kept revision, ok bool) {
	genIdx, revIndex := ki.doCompact(atRev)
	g := &ki.gens[genIdx]
	if revIndex >= 0 {
		kept, ok = g.revs[revIndex].rev, true
		g.revs = dropFront(g.revs, revIndex)
	}
	if dropTomb && len(g.revs) == 1 && genIdx != len(ki.gens)-1 {
		ok = false
		genIdx++
	}
	ki.gens = dropFront(ki.gens, genIdx)
	return kept, ok
}

// dropFront drops the first n elements of s, moving the rest to the front
// of the same array, so that later appends reuse its capacity (a compaction
// keeps few revisions, the newest ones); the vacated tail is cleared so
// that the dropped records can be collected.
func dropFront[T any](s []T, n int) []T {
	if n == 0 {
		return s
	}
	k := copy(s, s[n:])
	clear(s[k:])
	return s[:k]
}

// keep returns the revision that a compaction at atRev would keep, leaving
// out a tombstone at exactly atRev so that old and new etcd hash alike
// (etcd keyIndex.keep, used by HashKV).
func (ki *keyIndex) keep(atRev int64) (revision, bool) {
	if ki.isEmpty() {
		return revision{}, false
	}
	genIdx, revIndex := ki.doCompact(atRev)
	g := &ki.gens[genIdx]
	if revIndex < 0 || (revIndex == len(g.revs)-1 && genIdx != len(ki.gens)-1) {
		return revision{}, false
	}
	return g.revs[revIndex].rev, true
}
