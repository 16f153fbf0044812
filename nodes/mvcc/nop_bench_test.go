package mvcc

import "testing"

type nopTx struct{}

func (nopTx) Get(string, []byte) ([]byte, bool)                   { return nil, false }
func (nopTx) Range(string, []byte, []byte, func(k, v []byte) bool) {}
func (nopTx) Put(string, []byte, []byte)                          {}
func (nopTx) Delete(string, []byte)                               {}

func BenchmarkPutNop(b *testing.B) {
	keys, value := benchKeys(1000), make([]byte, 100)
	s := New()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Put(nopTx{}, keys[i%len(keys)], value, 0)
		if i%10000 == 9999 {
			s.index.compact(s.currentRev, false)
		}
	}
}
