package linearizable

import (
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// checkFromBuf is CheckFrom of ops, each request copied into the one
// buffer CheckFrom lends: a check that kept a returned Op would see it
// overwritten.
func checkFromBuf(ops []Op) Result {
	return CheckFrom(nil, len(ops), func(i int, buf *Op) *Op {
		*buf = ops[i]
		return buf
	}, Budget{})
}

// TestCheckFromIsCheck: checking a history converted one request at a
// time into one buffer gives Check's result, on the hand-made cases and
// on generated histories, some with a read mutated to fail.
func TestCheckFromIsCheck(t *testing.T) {
	for _, tt := range checkCases {
		if got, want := checkFromBuf(tt.ops), Check(tt.ops, Budget{}); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: CheckFrom = %v, Check = %v", tt.name, got, want)
		}
	}
	rapid.Check(t, func(t *rapid.T) {
		ops := generateMaybeFailing(t)
		if got, want := checkFromBuf(ops), Check(ops, Budget{}); !reflect.DeepEqual(got, want) {
			t.Fatalf("CheckFrom = %v, Check = %v", got, want)
		}
	})
}

// txnOf returns a hop's request as a txn, from its accessors.
func txnOf(h *hop) mvcc.TxnRequest {
	return mvcc.TxnRequest{Compares: h.compares(), Success: h.success(), Failure: h.failure()}
}

// TestHopTxn: a hop's request as a txn is its request's txn, or a txn
// without compares whose Success is the request's one op; a Prefix's
// detached copy has an empty one, and the hop it copied keeps its own.
func TestHopTxn(t *testing.T) {
	txn := cas(0, 0, 10, "a", 1, "2", true, 2)
	ops := []Op{put(0, 0, 10, "a", "1", 1), get(1, 20, 30, "a", 1), del(2, 40, 50, "a", "b", 1, 3), txn}
	wants := []mvcc.TxnRequest{
		{Success: []mvcc.Op{{Type: mvcc.OpPut, Key: []byte("a"), Value: []byte("1")}}},
		{Success: []mvcc.Op{{Type: mvcc.OpRange, Key: []byte("a")}}},
		{Success: []mvcc.Op{{Type: mvcc.OpDeleteRange, Key: []byte("a"), End: []byte("b")}}},
		txn.Req.Txn,
	}
	for i, want := range wants {
		h := classifyOp(ops, i)
		if got := txnOf(h); !reflect.DeepEqual(got, want) {
			t.Errorf("request %d: txn %+v, want %+v", i, got, want)
		}
		if d := detach(h); !reflect.DeepEqual(txnOf(d), mvcc.TxnRequest{}) || d.branch() != nil {
			t.Errorf("request %d: detached txn %+v", i, txnOf(d))
		}
		if got := txnOf(h); !reflect.DeepEqual(got, want) {
			t.Errorf("request %d: txn %+v after detach, want %+v", i, got, want)
		}
	}
}
