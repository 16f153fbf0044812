package mvcc

import (
	"fmt"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

func benchKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key/%06d", i))
	}
	return keys
}

// BenchmarkPut puts 100-byte values over 1000 keys into a backend.Mem.
func BenchmarkPut(b *testing.B) {
	keys, value := benchKeys(1000), make([]byte, 100)
	s, m := New(), backend.NewMem()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Put(m, keys[i%len(keys)], value, 0)
	}
}

// BenchmarkPutCompacted is BenchmarkPut with a compaction every 10000
// puts, as a long run keeps the history short.
func BenchmarkPutCompacted(b *testing.B) {
	keys, value := benchKeys(1000), make([]byte, 100)
	s, m := New(), backend.NewMem()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Put(m, keys[i%len(keys)], value, 0)
		if i%10000 == 9999 {
			j, err := s.Compact(m, s.Rev())
			if err != nil {
				b.Fatal(err)
			}
			j.Run(m)
		}
	}
}

func BenchmarkTxn(b *testing.B) {
	keys, value := benchKeys(1000), make([]byte, 100)
	s, m := New(), backend.NewMem()
	for _, k := range keys {
		s.Put(m, k, value, 0)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := keys[i%len(keys)]
		req := TxnRequest{
			Compares: []Compare{{Key: k, Target: CompareMod, Result: CompareGreater}},
			Success:  []Op{{Type: OpPut, Key: k, Value: value}},
			Failure:  []Op{{Type: OpRange, Key: k}},
		}
		if _, err := s.Txn(m, req); err != nil {
			b.Fatal(err)
		}
	}
}

func rangeStore(b *testing.B) ([][]byte, *Store) {
	keys, s, m := benchKeys(1000), New(), backend.NewMem()
	for round := range 3 {
		for _, k := range keys {
			s.Put(m, k, []byte(fmt.Sprint(round)), 0)
		}
	}
	return keys, s
}

// BenchmarkRange reads one key at the current revision.
func BenchmarkRange(b *testing.B) {
	keys, s := rangeStore(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if rr, err := s.Range(keys[i%len(keys)], nil, RangeOptions{}); err != nil || len(rr.KVs) != 1 {
			b.Fatal(rr, err)
		}
	}
}

// BenchmarkRange100 reads 100 consecutive keys at an old revision.
func BenchmarkRange100(b *testing.B) {
	keys, s := rangeStore(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		start := keys[i%900]
		rr, err := s.Range(start, keys[i%900+100], RangeOptions{Rev: 1500})
		if err != nil || len(rr.KVs) != 100 {
			b.Fatal(len(rr.KVs), err)
		}
	}
}

// nopTx is a backend that keeps nothing, to time the store alone.
type nopTx struct{}

func (nopTx) Get(string, []byte) ([]byte, bool)                    { return nil, false }
func (nopTx) Range(string, []byte, []byte, func(k, v []byte) bool) {}
func (nopTx) Put(string, []byte, []byte)                           {}
func (nopTx) Delete(string, []byte)                                {}

// BenchmarkPutNoBackend is BenchmarkPutCompacted without the backend's
// cost: encoding, the key index and the live hash only.
func BenchmarkPutNoBackend(b *testing.B) {
	keys, value := benchKeys(1000), make([]byte, 100)
	s := New()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Put(nopTx{}, keys[i%len(keys)], value, 0)
		if i%10000 == 9999 {
			if _, err := s.Compact(nopTx{}, s.Rev()); err != nil {
				b.Fatal(err)
			}
		}
	}
}
