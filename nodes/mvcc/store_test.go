package mvcc

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// rangeHistory writes:
// r2 a=1 | r3 b=1 lease 7 | r4 a=2 | r5 del a | r6 a=3 | r7 txn{c=1 del b} | r8 c=2 | r9 ab=x
func rangeHistory(t testing.TB) *env {
	e := newEnv(t, Options{})
	e.put("a", "1")
	e.putLease("b", "1", 7)
	e.put("a", "2")
	e.del("a", "")
	e.put("a", "3")
	e.txn(TxnRequest{Success: []Op{opPut("c", "1"), opDel("b", "")}})
	e.put("c", "2")
	e.put("ab", "x")
	return e
}

func TestRange(t *testing.T) {
	e := rangeHistory(t)
	tests := []struct {
		name, key, end string
		o              RangeOptions
		want           string
	}{
		{"single current", "a", "", RangeOptions{}, "[a=3 c6 m6 v1] n1 r9"},
		{"single recreated", "a", "", RangeOptions{Rev: 6}, "[a=3 c6 m6 v1] n1 r9"},
		{"single deleted", "a", "", RangeOptions{Rev: 5}, "[] n0 r9"},
		{"single second version", "a", "", RangeOptions{Rev: 4}, "[a=2 c2 m4 v2] n1 r9"},
		{"single first version", "a", "", RangeOptions{Rev: 3}, "[a=1 c2 m2 v1] n1 r9"},
		{"before creation", "a", "", RangeOptions{Rev: 1}, "[] n0 r9"},
		{"missing key", "zz", "", RangeOptions{}, "[] n0 r9"},
		{"put in txn", "c", "", RangeOptions{Rev: 7}, "[c=1 c7 m7 v1] n1 r9"},
		{"deleted in txn", "b", "", RangeOptions{Rev: 7}, "[] n0 r9"},
		{"lease kept", "b", "", RangeOptions{Rev: 6}, "[b=1 c3 m3 v1 l7] n1 r9"},
		{"range", "a", "c", RangeOptions{}, "[a=3 c6 m6 v1, ab=x c9 m9 v1] n2 r9"},
		{"range old", "a", "c", RangeOptions{Rev: 6}, "[a=3 c6 m6 v1, b=1 c3 m3 v1 l7] n2 r9"},
		{"from key", "ab", "\x00", RangeOptions{}, "[ab=x c9 m9 v1, c=2 c7 m8 v2] n2 r9"},
		{"all keys", "", "\x00", RangeOptions{}, "[a=3 c6 m6 v1, ab=x c9 m9 v1, c=2 c7 m8 v2] n3 r9"},
		{"limit counts all", "", "\x00", RangeOptions{Limit: 1}, "[a=3 c6 m6 v1] n3 r9"},
		{"count only", "", "\x00", RangeOptions{CountOnly: true}, "[] n3 r9"},
		{"keys only", "b", "", RangeOptions{Rev: 3, KeysOnly: true}, "[b= c3 m3 v1] n1 r9"},
		{"end before key", "c", "a", RangeOptions{}, "[] n0 r9"},
		{"future", "a", "", RangeOptions{Rev: 10}, "err: " + ErrFutureRev.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.rng(tt.key, tt.end, tt.o); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestWriteRevisions(t *testing.T) {
	type step struct {
		do   func(e *env) (n, rev int64)
		n    int64 // deleted, for deletes
		rev  int64
		what string
	}
	put := func(k string) func(e *env) (int64, int64) {
		return func(e *env) (int64, int64) { return 0, e.put(k, "v") }
	}
	del := func(k, end string) func(e *env) (int64, int64) {
		return func(e *env) (int64, int64) { return e.del(k, end) }
	}
	txn := func(ops ...Op) func(e *env) (int64, int64) {
		return func(e *env) (int64, int64) { return 0, e.txn(TxnRequest{Success: ops}).Rev }
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"puts take one revision each", []step{{put("a"), 0, 2, ""}, {put("a"), 0, 3, ""}, {put("b"), 0, 4, ""}}},
		{"delete of a missing key does not bump", []step{{del("a", ""), 0, 1, ""}, {put("a"), 0, 2, ""},
			{del("a", ""), 1, 3, ""}, {del("a", ""), 0, 3, ""}}},
		{"delete range is one revision", []step{{put("a"), 0, 2, ""}, {put("b"), 0, 3, ""}, {put("c"), 0, 4, ""},
			{del("a", "c"), 2, 5, ""}, {del("", "\x00"), 1, 6, ""}, {del("", "\x00"), 0, 6, ""}}},
		{"read-only txn does not bump", []step{{put("a"), 0, 2, ""}, {txn(opGet("a", "", 0)), 0, 2, ""},
			{txn(opDel("zz", "")), 0, 2, ""}, {txn(), 0, 2, ""}}},
		{"txn writes share one revision", []step{{put("c"), 0, 2, ""}, {txn(opPut("a", "1"), opPut("b", "1"), opDel("c", ""), opPut("d", "2")), 0, 3, ""},
			{put("a"), 0, 4, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			for i, st := range tt.steps {
				n, rev := st.do(e)
				if n != st.n || rev != st.rev || e.s.Rev() != st.rev {
					t.Fatalf("step %d: got n=%d rev=%d store=%d, want n=%d rev=%d", i, n, rev, e.s.Rev(), st.n, st.rev)
				}
			}
		})
	}
}

func TestTxnOwnWritesAndSubRevisions(t *testing.T) {
	e := newEnv(t, Options{})
	e.put("c", "1")
	resp := e.txn(TxnRequest{Success: []Op{opPut("a", "1"), opPut("b", "1"), opDel("c", ""), opPut("d", "2")}})
	if resp.Rev != 3 {
		t.Fatalf("rev %d", resp.Rev)
	}
	var keys []string
	e.m.Range(KeyBucket, nil, nil, func(k, _ []byte) bool {
		rev, tomb, err := parseRevBytes(k)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, fmtRev(rev, tomb))
		return true
	})
	if got, want := fmtStrings(keys), "[2.0 3.0 3.1 3.2t 3.3]"; got != want {
		t.Fatalf("key bucket %s, want %s", got, want)
	}
	if got, want := e.rng("a", "\x00", RangeOptions{}), "[a=1 c3 m3 v1, b=1 c3 m3 v1, d=2 c3 m3 v1] n3 r3"; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func TestBucketKeyEncoding(t *testing.T) {
	k := appendRevBytes(nil, revision{main: 0x0102, sub: 3}, true)
	want := []byte{0, 0, 0, 0, 0, 0, 1, 2, '_', 0, 0, 0, 0, 0, 0, 0, 3, 't'}
	if string(k) != string(want) {
		t.Fatalf("got %x want %x", k, want)
	}
	rev, tomb, err := parseRevBytes(k)
	if err != nil || !tomb || rev != (revision{0x0102, 3}) {
		t.Fatalf("parse: %v %v %v", rev, tomb, err)
	}
	for _, bad := range [][]byte{k[:16], append(k[:17:17], 'x'), append([]byte{}, k[:8]...)} {
		if _, _, err := parseRevBytes(bad); err == nil {
			t.Errorf("parse %x: no error", bad)
		}
	}
	kv := KeyValue{Key: []byte("k"), CreateRevision: 2, ModRevision: 5, Version: 3, Value: []byte("v"), Lease: -4}
	got, err := decodeRecord(appendRecord(nil, &kv))
	if err != nil || fmtKV(got) != fmtKV(kv) {
		t.Fatalf("record round trip: %s %v", fmtKV(got), err)
	}
	if _, err := decodeRecord([]byte{0, 0, 0, 9}); err == nil {
		t.Fatal("short record decoded")
	}
}

func TestKVHashFollowsLiveView(t *testing.T) {
	a, b := newEnv(t, Options{}), newEnv(t, Options{})
	a.put("x", "1")
	a.put("y", "1")
	b.put("y", "1")
	b.put("x", "1")
	if a.s.KVHash() == b.s.KVHash() {
		t.Fatal("different revisions, same hash") // mod revisions differ
	}
	c := newEnv(t, Options{})
	c.txn(TxnRequest{Success: []Op{opPut("x", "1"), opPut("y", "1")}})
	d := newEnv(t, Options{})
	d.txn(TxnRequest{Success: []Op{opPut("y", "1"), opPut("x", "1")}})
	if c.s.KVHash() != d.s.KVHash() {
		t.Fatal("same live view, different hash")
	}
	c.put("z", "1")
	c.del("z", "")
	d.put("q", "1")
	d.del("q", "")
	if c.s.KVHash() != d.s.KVHash() {
		t.Fatal("deleted keys still hashed")
	}
	e := newEnv(t, Options{})
	if e.s.KVHash() != 0 || e.s.Rev() != 1 || e.s.CompactRev() != -1 {
		t.Fatal("new store not empty at revision 1")
	}
}

func TestCompactErrors(t *testing.T) {
	e := rangeHistory(t) // rev 9
	if err := e.compactAll(10); !errors.Is(err, ErrFutureRev) {
		t.Fatalf("compact future: %v", err)
	}
	if err := e.compactAll(5); err != nil {
		t.Fatal(err)
	}
	for _, rev := range []int64{5, 3} {
		if err := e.compactAll(rev); !errors.Is(err, ErrCompacted) {
			t.Fatalf("compact %d again: %v", rev, err)
		}
	}
	if _, err := e.s.Range([]byte("a"), nil, RangeOptions{Rev: 4}); !errors.Is(err, ErrCompacted) {
		t.Fatalf("range below compaction: %v", err)
	}
	if got, want := e.rng("a", "\x00", RangeOptions{Rev: 5}), "[b=1 c3 m3 v1 l7] n1 r9"; got != want {
		t.Fatalf("range at compaction: %s, want %s", got, want)
	}
	if _, _, err := e.s.HashByRev(e.m, 4); !errors.Is(err, ErrCompacted) {
		t.Fatalf("hash below compaction: %v", err)
	}
	if _, _, err := e.s.HashByRev(e.m, 10); !errors.Is(err, ErrFutureRev) {
		t.Fatalf("hash future: %v", err)
	}
	// A txn whose Range cannot be served fails before writing anything.
	for _, rev := range []int64{4, 10} {
		_, err := e.s.Txn(e.m, TxnRequest{Success: []Op{opPut("z", "1"), opGet("a", "", rev)}})
		if err == nil || e.s.Rev() != 9 || e.rng("z", "", RangeOptions{}) != "[] n0 r9" {
			t.Fatalf("txn with range at %d: err %v rev %d", rev, err, e.s.Rev())
		}
	}
	if got := e.s.ScheduledCompactRev(); got != 5 || e.s.FinishedCompactRev() != 5 {
		t.Fatalf("markers %d %d", got, e.s.FinishedCompactRev())
	}
}

func TestKeyIndexSince(t *testing.T) {
	// put(2.0) put(3.0) put(3.1) tombstone(4.0) put(5.0), etcd's example shape.
	ki := &keyIndex{key: []byte("k")}
	ki.put(revision{2, 0}, []byte("r"))
	ki.put(revision{3, 0}, []byte("r"))
	ki.put(revision{3, 1}, []byte("r"))
	if err := ki.tombstone(revision{4, 0}); err != nil {
		t.Fatal(err)
	}
	if err := ki.tombstone(revision{4, 1}); err == nil {
		t.Fatal("tombstone of a deleted key")
	}
	ki.put(revision{5, 0}, []byte("r"))
	tests := []struct {
		rev  int64
		want string
	}{{1, "[{2 0} {3 1} {4 0} {5 0}]"}, {3, "[{3 1} {4 0} {5 0}]"}, {5, "[{5 0}]"}, {6, "[]"}}
	for _, tt := range tests {
		if got := fmt.Sprint(ki.since(tt.rev)); got != tt.want {
			t.Errorf("since(%d) = %s, want %s", tt.rev, got, tt.want)
		}
	}
}

func TestRestoreRejectsCorruptRecords(t *testing.T) {
	tests := []struct {
		name string
		put  func(m *backend.Mem)
	}{
		{"short key", func(m *backend.Mem) { m.Put(KeyBucket, []byte("12345"), nil) }},
		{"short record", func(m *backend.Mem) { m.Put(KeyBucket, appendRevBytes(nil, revision{2, 0}, false), []byte{1}) }},
		{"bad meta", func(m *backend.Mem) { m.Put(MetaBucket, finishedCompactKey, []byte("x")) }},
	}
	for _, tt := range tests {
		name, put := tt.name, tt.put
		m := backend.NewMem()
		put(m)
		if _, _, err := Restore(m, RestoreOptions{}); err == nil || !strings.HasPrefix(err.Error(), "mvcc: ") {
			t.Errorf("%s: err %v", name, err)
		}
	}
}
