package mvcc

import (
	"errors"
	"fmt"
	"testing"
)

func TestTxn(t *testing.T) {
	// Setup: r2 a=1 | r3 b=2 lease 5.
	cmp := func(k, end string, target CompareTarget, result CompareResult, n int64, v string) Compare {
		c := Compare{Key: []byte(k), RangeEnd: bs(end), Target: target, Result: result, Value: bs(v)}
		c.Version, c.CreateRevision, c.ModRevision, c.Lease = n, n, n, n
		return c
	}
	yes, no := opPut("s", "yes"), opPut("f", "no")
	tests := []struct {
		name string
		req  TxnRequest
		want string
	}{
		{"value equal", TxnRequest{Compares: []Compare{cmp("a", "", CompareValue, CompareEqual, 0, "1")}, Success: []Op{yes}, Failure: []Op{no}},
			"ok=true r4 | put r4"},
		{"value on missing key fails", TxnRequest{Compares: []Compare{cmp("zz", "", CompareValue, CompareNotEqual, 0, "1")}, Success: []Op{yes}, Failure: []Op{no}},
			"ok=false r4 | put r4"},
		{"version of missing key is 0", TxnRequest{Compares: []Compare{cmp("zz", "", CompareVersion, CompareEqual, 0, "")}, Success: []Op{yes}},
			"ok=true r4 | put r4"},
		{"create less", TxnRequest{Compares: []Compare{cmp("a", "", CompareCreate, CompareLess, 3, "")}, Success: []Op{yes}},
			"ok=true r4 | put r4"},
		{"mod greater", TxnRequest{Compares: []Compare{cmp("b", "", CompareMod, CompareGreater, 3, "")}, Success: []Op{yes}},
			"ok=false r3"},
		{"lease equal", TxnRequest{Compares: []Compare{cmp("b", "", CompareLease, CompareEqual, 5, "")}, Success: []Op{yes}},
			"ok=true r4 | put r4"},
		{"value greater", TxnRequest{Compares: []Compare{cmp("b", "", CompareValue, CompareGreater, 0, "10")}, Success: []Op{yes}},
			"ok=true r4 | put r4"},
		{"range compare all hold", TxnRequest{Compares: []Compare{cmp("a", "c", CompareVersion, CompareEqual, 1, "")}, Success: []Op{yes}},
			"ok=true r4 | put r4"},
		{"range compare one fails", TxnRequest{Compares: []Compare{cmp("", "\x00", CompareValue, CompareEqual, 0, "1")}, Success: []Op{yes}},
			"ok=false r3"},
		{"all compares must hold", TxnRequest{Compares: []Compare{cmp("a", "", CompareVersion, CompareEqual, 1, ""), cmp("b", "", CompareVersion, CompareEqual, 2, "")},
			Success: []Op{yes}, Failure: []Op{opGet("a", "", 0)}}, "ok=false r3 | get [a=1 c2 m2 v1] n1 r3"},
		{"reads see earlier writes", TxnRequest{Success: []Op{opGet("k", "", 0), opPut("k", "1"), opGet("k", "", 0),
			opDel("b", ""), opGet("", "\x00", 0), opGet("a", "", 2)}},
			"ok=true r4 | get [] n0 r3 | put r4 | get [k=1 c4 m4 v1] n1 r4 | del 1 r4 | get [a=1 c2 m2 v1, k=1 c4 m4 v1] n2 r4 | get [a=1 c2 m2 v1] n1 r4 | leases b:5>0"},
		{"delete range in txn", TxnRequest{Success: []Op{opPut("c", "x"), opDel("a", "c")}},
			"ok=true r4 | put r4 | del 2 r4 | leases b:5>0"},
		{"delete missing only", TxnRequest{Success: []Op{opDel("zz", "")}}, "ok=true r3 | del 0 r3"},
		{"prev kvs", TxnRequest{Success: []Op{{Type: OpPut, Key: []byte("a"), Value: []byte("9"), PrevKV: true},
			{Type: OpPut, Key: []byte("n"), PrevKV: true}, {Type: OpDeleteRange, Key: []byte("b"), End: []byte("c"), PrevKV: true}}},
			"ok=true r4 | put r4 prev[a=1 c2 m2 v1] | put r4 | del 1 r4 prev[b=2 c3 m3 v1 l5] | leases b:5>0"},
		{"lease moves of puts", TxnRequest{Success: []Op{{Type: OpPut, Key: []byte("a"), Lease: 7}, {Type: OpPut, Key: []byte("b"), Lease: 5},
			{Type: OpPut, Key: []byte("n"), Lease: 3}}}, "ok=true r4 | put r4 | put r4 | put r4 | leases a:0>7 n:0>3"},
		{"lease moves of a put off its lease", TxnRequest{Success: []Op{opPut("b", "3")}}, "ok=true r4 | put r4 | leases b:5>0"},
		{"a key deleted twice moves once", TxnRequest{Success: []Op{opDel("b", ""), opDel("a", "c")}}, "ok=true r4 | del 1 r4 | del 1 r4 | leases b:5>0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.put("a", "1")
			e.putLease("b", "2", 5)
			if got := fmtTxn(e.txn(tt.req)); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestTxnRangeErrorsWriteNothing(t *testing.T) {
	e := newEnv(t, Options{})
	for i := 0; i < 5; i++ {
		e.put("a", "v")
	}
	if err := e.compactAll(4); err != nil {
		t.Fatal(err)
	}
	hash := e.s.KVHash()
	tests := []struct {
		rev  int64
		want error
	}{{3, ErrCompacted}, {7, ErrFutureRev}}
	for _, tt := range tests {
		_, err := e.s.Txn(e.m, TxnRequest{Success: []Op{opPut("b", "1"), opGet("a", "", tt.rev)}})
		if !errors.Is(err, tt.want) || e.s.Rev() != 6 || e.s.KVHash() != hash {
			t.Fatalf("rev %d: err %v, store rev %d", tt.rev, err, e.s.Rev())
		}
	}
	// The branch not taken is not checked.
	resp := e.txn(TxnRequest{Success: []Op{opPut("b", "1")}, Failure: []Op{opGet("a", "", 3)}})
	if got := fmtTxn(resp); got != "ok=true r7 | put r7" {
		t.Fatal(got)
	}
}

func TestValidateTxn(t *testing.T) {
	tests := []struct {
		name string
		ops  []Op
		ok   bool
	}{
		{"distinct puts", []Op{opPut("a", "1"), opPut("b", "1")}, true},
		{"put twice", []Op{opPut("a", "1"), opPut("a", "2")}, false},
		{"delete then put", []Op{opDel("a", ""), opPut("a", "1")}, false},
		{"put then delete", []Op{opPut("a", "1"), opDel("a", "")}, false},
		{"put inside deleted range", []Op{opPut("b", "1"), opDel("a", "c")}, false},
		{"put at range end", []Op{opPut("c", "1"), opDel("a", "c")}, true},
		{"put under from-key delete", []Op{opDel("a", "\x00"), opPut("b", "1")}, false},
		{"put below from-key delete", []Op{opDel("b", "\x00"), opPut("a", "1")}, true},
		{"deletes and ranges overlap", []Op{opDel("a", "c"), opDel("b", ""), opGet("a", "", 0), opPut("d", "")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, req := range []TxnRequest{{Success: tt.ops}, {Failure: tt.ops}} {
				err := ValidateTxn(req)
				if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrDuplicateKey)) {
					t.Fatalf("err %v, want ok=%v", err, tt.ok)
				}
				e := newEnv(t, Options{})
				if _, err := e.s.Txn(e.m, req); (err == nil) != tt.ok || e.s.Rev() != 1 && !tt.ok {
					t.Fatalf("txn err %v rev %d", err, e.s.Rev())
				}
			}
		})
	}
	// Then and else branches are checked apart: they never both run.
	if err := ValidateTxn(TxnRequest{Success: []Op{opPut("a", "1")}, Failure: []Op{opPut("a", "2")}}); err != nil {
		t.Fatal(err)
	}
}

// TestPutScratchIsOnePutTxn holds PutScratch to what TxnScratch does with
// a txn of that one put: the same revisions, lease moves, live view and
// key bucket, over puts and deletes of a few keys and leases.
func TestPutScratchIsOnePutTxn(t *testing.T) {
	a, b := newEnv(t, Options{}), newEnv(t, Options{})
	seed := uint64(1)
	next := func(n uint64) uint64 {
		seed = seed*6364136223846793005 + 1442695040888963407
		return (seed >> 33) % n
	}
	for i := range 3000 {
		k := []byte{'k', byte('a' + next(6))}
		if next(5) == 0 {
			a.s.TxnScratch(a.m, TxnRequest{Success: []Op{{Type: OpDeleteRange, Key: k}}}, true)
			b.s.TxnScratch(b.m, TxnRequest{Success: []Op{{Type: OpDeleteRange, Key: k}}}, true)
			continue
		}
		v, lease := []byte(fmt.Sprint(i)), int64(next(3))
		rev, moves := a.s.PutScratch(a.m, k, v, lease)
		resp, err := b.s.TxnScratch(b.m, TxnRequest{Success: []Op{{Type: OpPut, Key: k, Value: v, Lease: lease}}}, true)
		if err != nil || rev != resp.Rev || fmt.Sprint(moves) != fmt.Sprint(resp.LeaseMoves) {
			t.Fatalf("put %d: PutScratch r%d %v, TxnScratch r%d %v %v", i, rev, moves, resp.Rev, resp.LeaseMoves, err)
		}
	}
	if a.s.Rev() != b.s.Rev() || a.s.KVHash() != b.s.KVHash() || a.m.BucketHash(KeyBucket) != b.m.BucketHash(KeyBucket) {
		t.Fatalf("stores differ: r%d %x %x, r%d %x %x", a.s.Rev(), a.s.KVHash(), a.m.BucketHash(KeyBucket), b.s.Rev(), b.s.KVHash(), b.m.BucketHash(KeyBucket))
	}
}
