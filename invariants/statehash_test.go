package invariants

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/auth"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// stateHashRecomputed is StateHash and MetaIndex as first written: every
// excluded record hashed afresh from its bytes.
func stateHashRecomputed(m *backend.Mem) (key, other, ci uint64) {
	m.EachBucket(func(name string, sum uint64) {
		if name == mvcc.KeyBucket {
			key = sum
		} else {
			other += sum
		}
	})
	for _, k := range excluded {
		if v, ok := m.Get(mvcc.MetaBucket, k); ok {
			other -= backend.RecordHash(mvcc.MetaBucket, k, v)
		}
	}
	return key, other, MetaIndex(m)
}

// TestStateHashCIMatchesRecomputation proves stateHashCI, which reads the
// record hashes the store kept and the consistent index from the same
// lookup, equal to hashing the excluded records afresh and reading the
// consistent index apart, over 2,000 random stores whose meta bucket
// holds, lacks, rewrites and deletes each excluded record (a consistent
// index of every length, not only 8 bytes), and clones of them.
func TestStateHashCIMatchesRecomputation(t *testing.T) {
	buckets := []string{mvcc.MetaBucket, mvcc.KeyBucket, auth.AuthBucket, auth.UsersBucket, auth.RolesBucket, "lease", "members"}
	keys := append([][]byte{[]byte("a"), []byte("scheduledCompactRev")}, excluded...)
	for seed := uint64(1); seed <= 2000; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		m := backend.NewMem()
		for n := 0; n < 40; n++ {
			b := buckets[r.IntN(len(buckets))]
			k := keys[r.IntN(len(keys))]
			switch r.IntN(4) {
			case 0:
				m.Delete(b, k)
			case 1:
				v := make([]byte, 8)
				binary.BigEndian.PutUint64(v, r.Uint64())
				m.Put(b, k, v)
			default:
				m.Put(b, k, []byte(fmt.Sprint(r.IntN(1000)))[:r.IntN(4)])
			}
			if r.IntN(10) == 0 {
				m = m.Clone()
			}
			gk, go_, gci := stateHashCI(m)
			wk, wo, wci := stateHashRecomputed(m)
			if gk != wk || go_ != wo || gci != wci {
				t.Fatalf("seed %d write %d: stateHashCI (%x %x %d), recomputed (%x %x %d)", seed, n, gk, go_, gci, wk, wo, wci)
			}
			if _, _, ga, _ := stateHashes(m); ga != AuthHash(m) {
				t.Fatalf("seed %d write %d: stateHashes' auth hash %x, AuthHash %x", seed, n, ga, AuthHash(m))
			}
			if sk, so := StateHash(m); sk != wk || so != wo {
				t.Fatalf("seed %d write %d: StateHash (%x %x), recomputed (%x %x)", seed, n, sk, so, wk, wo)
			}
		}
	}
}

// TestReferenceOtherHashMatchesStateHash proves the reference's records,
// whose excluded meta records it hashes again only after a write to the
// meta bucket (a compaction), equal to StateHash of its state after each
// entry, over compactions scheduled and finished.
func TestReferenceOtherHashMatchesStateHash(t *testing.T) {
	ref := NewReference()
	ents := append(std(), entry(2, 8, put(7, "a", "3")), entry(2, 9, compact(8, 6)), entry(2, 10, del(9, "a")), entry(2, 11, compact(10, 7)))
	for _, e := range ents {
		if err := ref.Append(e); err != nil {
			t.Fatal(err)
		}
		rec, _ := ref.At(e.GetIndex())
		key, other := StateHash(ref.mem)
		if rec.KeyHash != key || rec.Other != other || rec.AuthData != AuthHash(ref.mem) {
			t.Fatalf("index %d: record (%x %x %x), state (%x %x %x)", e.GetIndex(), rec.KeyHash, rec.Other, rec.AuthData, key, other, AuthHash(ref.mem))
		}
	}
	if excl, _ := metaExcluded(ref.mem); excl == 0 {
		t.Fatal("no compaction finished: the test covers no excluded record")
	}
}
