package nodes

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// TestDecodeRequestFastPaths decodes random requests, and random damage
// to them, with the decoder's fast paths and without them: the same
// request (capacities of the byte fields included) and the same error.
func TestDecodeRequestFastPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	bs := func() []byte {
		switch r.IntN(4) {
		case 0:
			return nil
		case 1:
			return []byte("k")
		case 2:
			return make([]byte, 127)
		}
		return make([]byte, 128+r.IntN(300))
	}
	num := func() int64 {
		if r.IntN(2) == 0 {
			return 0
		}
		return r.Int64N(1<<40) - 1<<39
	}
	str := func() string { return string(bs()) }
	ops := func() []mvcc.Op {
		var o []mvcc.Op
		for range r.IntN(4) {
			o = append(o, mvcc.Op{Type: mvcc.OpType(r.IntN(3)), Key: bs(), End: bs(), Value: bs(), Lease: num(), PrevKV: r.IntN(2) == 0})
		}
		return o
	}
	for round := range 30000 {
		req := &Request{ID: r.Uint64(), Kind: Kind(r.IntN(40)), Key: bs(), End: bs(), Value: bs(),
			Lease: num(), Rev: num(), TTL: num(), Serializable: r.IntN(4) == 0,
			Name: str(), Role: str(), Password: str(), Perm: uint8(r.IntN(3)), User: str(), AuthRevision: uint64(num() & 0xffff)}
		if r.IntN(3) == 0 {
			req.Kind = KindTxn
			for range r.IntN(3) {
				req.Txn.Compares = append(req.Txn.Compares, mvcc.Compare{Key: bs(), Value: bs(), Version: num()})
			}
			req.Txn.Success, req.Txn.Failure = ops(), ops()
		}
		if r.IntN(4) == 0 {
			req.Limit = num()
		}
		if r.IntN(8) == 0 {
			req.MemberID, req.PeerURL = r.Uint64(), str()
		}
		p := req.Encode()
		switch r.IntN(4) {
		case 1:
			p = p[:r.IntN(len(p)+1)]
		case 2:
			p[r.IntN(len(p))] = byte(r.IntN(256))
		case 3:
			for i := range r.IntN(len(p) + 1) {
				p[i] = byte(r.IntN(3))
			}
		}
		got, gerr := DecodeRequest(p)
		fastPaths = false
		want, werr := DecodeRequest(p)
		fastPaths = true
		if gerr != werr {
			t.Fatalf("round %d: %x: error %v, the reference says %v", round, p, gerr, werr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: %x: decoded %+v, the reference %+v", round, p, got, want)
		}
		if cap(got.Key) != cap(want.Key) || cap(got.End) != cap(want.End) || cap(got.Value) != cap(want.Value) {
			t.Fatalf("round %d: %x: capacities differ", round, p)
		}
	}
}
