package nodes

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// refBytes, refStr, refDecodeOps and refDecodeRequest are the decoder as
// it was before its fast paths (every field through u), kept to check
// that the fast paths decode every input, good or bad, the same.
func (d *dec) refBytes() []byte {
	n := d.u()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	if n == 0 {
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *dec) refStr() string { return string(d.refBytes()) }

func refDecodeOps(d *dec, spare []mvcc.Op) ([]mvcc.Op, []mvcc.Op) {
	n := d.u()
	if n == 0 || n > uint64(len(d.b)) {
		return nil, spare
	}
	var ops []mvcc.Op
	if n <= uint64(len(spare)) {
		ops, spare = spare[:n:n], spare[n:]
	} else {
		ops = make([]mvcc.Op, n)
	}
	for i := range ops {
		o := &ops[i]
		o.Type = mvcc.OpType(d.u())
		o.Key, o.End, o.Value = d.refBytes(), d.refBytes(), d.refBytes()
		o.Lease = d.i()
		o.PrevKV = d.bool()
		o.Range.Rev, o.Range.Limit = d.i(), d.i()
		o.Range.CountOnly, o.Range.KeysOnly = d.bool(), d.bool()
	}
	return ops, spare
}

func refDecodeRequest(p []byte) (*Request, error) {
	d := dec{b: p}
	id, kind := d.u(), Kind(d.u())
	var r *Request
	var blk *txnBlock
	if kind == KindTxn {
		blk = new(txnBlock)
		r = &blk.r
	} else {
		r = new(Request)
	}
	r.ID, r.Kind = id, kind
	r.Key, r.End, r.Value = d.refBytes(), d.refBytes(), d.refBytes()
	r.Lease, r.Rev, r.TTL = d.i(), d.i(), d.i()
	r.Serializable = d.bool()
	r.Name, r.Role, r.Password = d.refStr(), d.refStr(), d.refStr()
	r.Perm = uint8(d.u())
	var spare []mvcc.Op
	if blk != nil {
		spare = blk.ops[:]
	}
	if n := d.u(); n > 0 && n <= uint64(len(d.b)) {
		if blk != nil && n <= uint64(len(blk.cmp)) {
			r.Txn.Compares = blk.cmp[:n:n]
		} else {
			r.Txn.Compares = make([]mvcc.Compare, n)
		}
		for i := range r.Txn.Compares {
			c := &r.Txn.Compares[i]
			c.Key, c.RangeEnd = d.refBytes(), d.refBytes()
			c.Target, c.Result = mvcc.CompareTarget(d.u()), mvcc.CompareResult(d.u())
			c.Version, c.CreateRevision, c.ModRevision, c.Lease = d.i(), d.i(), d.i(), d.i()
			c.Value = d.refBytes()
		}
	}
	r.Txn.Success, spare = refDecodeOps(&d, spare)
	r.Txn.Failure, _ = refDecodeOps(&d, spare)
	r.User = d.refStr()
	r.AuthRevision = d.u()
	if d.err == nil && len(d.b) != 0 {
		r.Limit, r.KeysOnly, r.CountOnly = d.i(), d.bool(), d.bool()
	}
	if d.err == nil && len(d.b) != 0 {
		r.MemberID, r.PeerURL, r.Learner = d.u(), d.refStr(), d.bool()
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errShort
	}
	return r, d.err
}

// TestDecodeRequestFastPaths decodes random requests, and random damage
// to them, with DecodeRequest and the reference decoder: the same
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
		want, werr := refDecodeRequest(p)
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
