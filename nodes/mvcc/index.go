package mvcc

import (
	"bytes"
	"slices"

	"github.com/google/btree"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// treeIndex maps keys to their keyIndex in a B-tree ordered by key (etcd's
// treeIndex).
type treeIndex struct {
	tree *btree.BTreeG[*keyIndex]
	// byKey holds the keyIndexes of the tree by key: a lookup of one key
	// (etcd's treeIndex.Get and KeyIndex, a descent of its B-tree) is a
	// map access here, a third of a descent's instructions; the tree stays
	// for what needs the order (ranges, compaction). insert and compact,
	// the only writers of the tree, keep the two the same.
	byKey map[string]*keyIndex
	// A reused search item, so that scans do not allocate: the B-tree
	// reads the pivot during the whole of a scan; scans do not nest.
	pivot keyIndex
	// last is the keyIndex lookup found last, or the one inserted last: an
	// apply looks its key up several times (a txn's compare, its put and
	// its range of one key; the put's previous version). It is always in
	// the tree: compact forgets it before it removes keys.
	last *keyIndex
}

func lessKeyIndex(a, b *keyIndex) bool {
	if a.head != b.head {
		return a.head < b.head
	}
	return bytes.Compare(a.key, b.key) < 0
}

func newTreeIndex() *treeIndex {
	return &treeIndex{tree: btree.NewG(32, lessKeyIndex), byKey: make(map[string]*keyIndex)}
}

// lookup returns the keyIndex of key, or nil.
func (ti *treeIndex) lookup(key []byte) *keyIndex {
	if ki := ti.last; ki != nil && bytes.Equal(ki.key, key) {
		return ki
	}
	ki := ti.byKey[string(key)]
	if ki != nil {
		ti.last = ki
	}
	return ki
}

func (ti *treeIndex) insert(ki *keyIndex) {
	ti.tree.ReplaceOrInsert(ki)
	ti.byKey[string(ki.key)] = ki
	ti.last = ki
}

// visit calls fn on the keys in [key, end) in order until fn returns false;
// a nil end means no upper bound.
func (ti *treeIndex) visit(key, end []byte, fn func(ki *keyIndex) bool) {
	ti.pivot.key, ti.pivot.head = key, backend.KeyHead(key)
	ti.tree.AscendGreaterOrEqual(&ti.pivot, func(ki *keyIndex) bool {
		if end != nil && bytes.Compare(ki.key, end) >= 0 {
			return false
		}
		return fn(ki)
	})
	ti.pivot.key = nil
}

func compareRev(a, b revision) int {
	switch {
	case a.less(b):
		return -1
	case b.less(a):
		return 1
	}
	return 0
}

// compact compacts every key at rev, removes the keys left empty, and
// returns the revisions at or below rev that stay, sorted (etcd
// treeIndex.Compact; a sorted slice instead of a map keeps it deterministic
// and lets the batches merge it with the bucket in one pass).
func (ti *treeIndex) compact(rev int64, dropTomb bool) []revision {
	keep := make([]revision, 0, ti.tree.Len()) // at most one a key
	var empty []*keyIndex
	ti.tree.Ascend(func(ki *keyIndex) bool {
		if r, ok := ki.compact(rev, dropTomb); ok {
			keep = append(keep, r)
		}
		if ki.isEmpty() {
			empty = append(empty, ki)
		}
		return true
	})
	if len(empty) > 0 {
		ti.last = nil
	}
	for _, ki := range empty {
		ti.tree.Delete(ki)
		delete(ti.byKey, string(ki.key))
	}
	slices.SortFunc(keep, compareRev)
	return keep
}

// keep returns, sorted, the revisions at or below rev that a compaction at
// rev would keep (etcd treeIndex.Keep).
func (ti *treeIndex) keep(rev int64) []revision {
	keep := make([]revision, 0, ti.tree.Len()) // at most one a key
	ti.tree.Ascend(func(ki *keyIndex) bool {
		if r, ok := ki.keep(rev); ok {
			keep = append(keep, r)
		}
		return true
	})
	slices.SortFunc(keep, compareRev)
	return keep
}

// keepSet answers "is this revision kept?" for revisions asked in
// ascending order, by walking a sorted slice.
type keepSet struct {
	revs []revision
	i    int
}

func (k *keepSet) has(r revision) bool {
	for k.i < len(k.revs) && k.revs[k.i].less(r) {
		k.i++
	}
	return k.i < len(k.revs) && k.revs[k.i] == r
}
