package mvcc

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// checkIndexByKey fails unless the index's map holds exactly the tree's
// keyIndexes and lookup finds, for every key asked, what a descent of the
// tree finds.
func checkIndexByKey(t *testing.T, ti *treeIndex, keys [][]byte, step int) {
	t.Helper()
	if len(ti.byKey) != ti.tree.Len() {
		t.Fatalf("step %d: map has %d keys, tree %d", step, len(ti.byKey), ti.tree.Len())
	}
	ti.tree.Ascend(func(ki *keyIndex) bool {
		if got := ti.byKey[string(ki.key)]; got != ki {
			t.Fatalf("step %d: map has %p for %q, tree %p", step, got, ki.key, ki)
		}
		return true
	})
	for _, k := range keys {
		want, _ := ti.tree.Get(&keyIndex{key: k, head: newKeyIndex(k).head})
		if got := ti.lookup(k); got != want {
			t.Fatalf("step %d: lookup(%q) = %p, tree descent %p", step, k, got, want)
		}
	}
}

// TestIndexByKeyMatchesTree runs thousands of random puts, deletes, txns,
// compactions (which remove emptied keys) and restores, and checks after
// each that the index's map answers as its tree does, the keys that never
// existed included.
func TestIndexByKeyMatchesTree(t *testing.T) {
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, 7))
		e := newEnv(t, Options{DropCompactedTombstone: seed%2 == 1})
		var keys [][]byte
		for i := range 12 {
			keys = append(keys, fmt.Appendf(nil, "k%d", i))
		}
		keys = append(keys, []byte{}, []byte("absent"), []byte("k"))
		key := func() string { return string(keys[r.IntN(10)]) }
		for step := range 3000 {
			switch n := r.IntN(100); {
			case n < 45:
				e.put(key(), fmt.Sprint(step))
			case n < 65:
				e.del(key(), "")
			case n < 70:
				e.del("k3", "k7")
			case n < 85:
				k := []byte(key())
				e.txn(TxnRequest{
					Compares: []Compare{{Key: k, Target: CompareVersion, Result: CompareGreater}},
					Success:  []Op{{Type: OpDeleteRange, Key: k}, {Type: OpRange, Key: []byte(key())}},
					Failure:  []Op{{Type: OpPut, Key: k, Value: []byte("v")}},
				})
			case n < 95:
				if rev := e.s.Rev() - int64(r.IntN(5)); rev > e.s.CompactRev() {
					if err := e.compactAll(rev); err != nil {
						t.Fatalf("step %d: compact at %d: %v", step, rev, err)
					}
				}
			default:
				s, job, err := Restore(e.m, RestoreOptions{Options: e.s.opts})
				if err != nil {
					t.Fatalf("step %d: restore: %v", step, err)
				}
				if job != nil {
					job.Run(e.m)
				}
				e.s = s
			}
			checkIndexByKey(t, e.s.index, keys, step)
		}
	}
}

// TestTakePiecesApart fills pieces of every size from a store's slabs and
// checks that none shares bytes with another, even when one is appended
// to past its capacity: each is a record the backend and the index keep.
func TestTakePiecesApart(t *testing.T) {
	s := New()
	r := rand.New(rand.NewPCG(1, 2))
	var pieces [][]byte
	for i := range 2000 {
		n := 1 + r.IntN(2*maxPiece)
		p := s.take(n)
		if len(p) != 0 || cap(p) != n {
			t.Fatalf("take(%d) = len %d cap %d", n, len(p), cap(p))
		}
		for range n {
			p = append(p, byte(i))
		}
		if i%7 == 0 {
			_ = append(p, 0xff) // past its capacity: must copy
		}
		pieces = append(pieces, p)
	}
	for i, p := range pieces {
		for _, c := range p {
			if c != byte(i) {
				t.Fatalf("piece %d holds %d: written by another", i, c)
			}
		}
	}
}
