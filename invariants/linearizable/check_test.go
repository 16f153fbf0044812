package linearizable

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// Helpers for hand-written histories; times are plain integers.

func put(c int, call, ret int64, k, v string, rev int64) Op {
	return Op{ClientID: c, Call: call, Return: ret,
		Req:    &nodes.Request{Kind: nodes.KindPut, Key: []byte(k), Value: []byte(v)},
		Result: nodes.Result{Rev: rev}}
}

func get(c int, call, ret int64, k string, rev int64, kvs ...mvcc.KeyValue) Op {
	return Op{ClientID: c, Call: call, Return: ret,
		Req:    &nodes.Request{Kind: nodes.KindRange, Key: []byte(k)},
		Result: nodes.Result{Rev: rev, KVs: kvs, Count: int64(len(kvs))}}
}

func del(c int, call, ret int64, k, end string, deleted, rev int64) Op {
	r := &nodes.Request{Kind: nodes.KindDeleteRange, Key: []byte(k)}
	if end != "" {
		r.End = []byte(end)
	}
	return Op{ClientID: c, Call: call, Return: ret, Req: r, Result: nodes.Result{Rev: rev, Deleted: deleted}}
}

// cas is the workload's txn: if k's version is ver, put k=v, else read k.
func cas(c int, call, ret int64, k string, ver int64, v string, ok bool, rev int64, kvs ...mvcc.KeyValue) Op {
	return Op{ClientID: c, Call: call, Return: ret,
		Req: &nodes.Request{Kind: nodes.KindTxn, Txn: mvcc.TxnRequest{
			Compares: []mvcc.Compare{{Key: []byte(k), Target: mvcc.CompareVersion, Result: mvcc.CompareEqual, Version: ver}},
			Success:  []mvcc.Op{{Type: mvcc.OpPut, Key: []byte(k), Value: []byte(v)}},
			Failure:  []mvcc.Op{{Type: mvcc.OpRange, Key: []byte(k)}},
		}},
		Result: nodes.Result{Rev: rev, Succeeded: ok, KVs: kvs}}
}

func kv(k, v string, create, mod, ver int64) mvcc.KeyValue {
	return mvcc.KeyValue{Key: []byte(k), Value: []byte(v), CreateRevision: create, ModRevision: mod, Version: ver}
}

func unknown(o Op) Op {
	o.Unknown, o.Return, o.Result = true, 0, nodes.Result{}
	return o
}

func code(o Op, c nodes.Code) Op {
	o.Result = nodes.Result{Code: c}
	return o
}

// committed is an unknown write the log settled: first known committed at
// at, applied with rev (and deleted, for a delete).
func committed(o Op, at, rev int64) Op {
	res := o.Result
	o = unknown(o)
	o.Log, o.Committed, o.LogResult = LogApplied, at, nodes.Result{Rev: rev, Deleted: res.Deleted, Succeeded: res.Succeeded}
	return o
}

// never is an unknown write no committed entry carried.
func never(o Op) Op {
	o = unknown(o)
	o.Log = LogNever
	return o
}

func serializable(o Op) Op {
	o.Req.Serializable = true
	return o
}

func withLease(o Op, lease int64) Op {
	o.Req.Lease = lease
	return o
}

// checkCases are small hand-written histories and the sub-checks that
// must fail on each (none: linearizable).
var checkCases = []struct {
	name   string
	ops    []Op
	failed []string
}{
	{"empty", nil, nil},
	{"sequential", []Op{
		put(0, 0, 10, "a", "1", 1), get(0, 20, 30, "a", 1, kv("a", "1", 1, 1, 1)),
		put(0, 40, 50, "a", "2", 2), get(1, 60, 70, "a", 2, kv("a", "2", 1, 2, 2)),
		del(1, 80, 90, "a", "", 1, 3), get(0, 100, 110, "a", 3),
	}, nil},
	{"read concurrent with put sees either", []Op{
		put(0, 0, 50, "a", "1", 1), get(1, 10, 20, "a", 0), get(2, 30, 40, "a", 1, kv("a", "1", 1, 1, 1)),
	}, nil},
	{"stale read", []Op{
		put(0, 0, 10, "a", "1", 1), get(1, 20, 30, "a", 1),
	}, []string{CheckKV}},
	{"stale read with a stale header", []Op{
		put(0, 0, 10, "a", "1", 1), get(1, 20, 30, "a", 0),
	}, []string{CheckReadRevision, CheckKV}},
	{"lost acknowledged write", []Op{
		put(0, 0, 10, "a", "1", 1), put(1, 20, 30, "b", "1", 2), get(1, 40, 50, "a", 2),
	}, []string{CheckKV}},
	{"lost acknowledged write, revision reused (#14370)", []Op{
		put(0, 0, 10, "a", "1", 1), put(1, 20, 30, "b", "1", 1), get(1, 40, 50, "a", 1),
	}, []string{CheckRevisionUnique, CheckRevisionOrder, CheckKV}},
	{"revision reuse", []Op{
		put(0, 0, 10, "a", "1", 1), put(1, 5, 15, "b", "1", 1),
	}, []string{CheckRevisionUnique}},
	{"revision regress after a crash (#17780)", []Op{
		put(0, 0, 10, "a", "1", 5), put(1, 20, 30, "b", "1", 3),
	}, []string{CheckRevisionOrder}},
	{"txn compare outcome impossible", []Op{
		put(0, 0, 10, "a", "1", 1), cas(1, 20, 30, "a", 1, "2", false, 1, kv("a", "1", 1, 1, 1)),
	}, []string{CheckKV}},
	{"txn compare outcomes possible", []Op{
		put(0, 0, 10, "a", "1", 1), cas(1, 20, 30, "a", 1, "2", true, 2),
		cas(0, 40, 50, "a", 1, "3", false, 2, kv("a", "2", 1, 2, 2)),
	}, nil},
	{"unknown write seen later", []Op{
		unknown(put(0, 0, 10, "a", "1", 1)), get(1, 50, 60, "a", 1, kv("a", "1", 1, 1, 1)),
	}, nil},
	{"unknown write seen later, value not unique", []Op{
		unknown(put(0, 0, 10, "a", "1", 1)), unknown(put(2, 5, 10, "a", "1", 1)),
		get(1, 50, 60, "a", 2, kv("a", "1", 1, 2, 2)),
	}, nil},
	{"unknown write never seen", []Op{
		unknown(put(0, 0, 10, "a", "1", 1)), get(1, 50, 60, "a", 0), put(1, 70, 80, "a", "2", 1),
		get(1, 90, 100, "a", 1, kv("a", "2", 1, 1, 1)),
	}, nil},
	{"unknown write seen before its call", []Op{
		get(1, 0, 10, "a", 1, kv("a", "1", 1, 1, 1)), unknown(put(0, 20, 30, "a", "1", 1)),
	}, []string{CheckKV}},
	{"unknown write below the revision of a returned write", []Op{
		put(0, 0, 10, "b", "1", 5), unknown(put(1, 20, 30, "a", "1", 0)),
		get(1, 40, 50, "a", 5, kv("a", "1", 4, 4, 1)),
	}, []string{CheckKV}},
	{"unknown write seen at a revision another write took", []Op{
		put(0, 0, 10, "b", "1", 1), unknown(put(1, 5, 10, "a", "1", 0)),
		get(1, 40, 50, "a", 1, kv("a", "1", 1, 1, 1)),
	}, []string{CheckRevisionUnique}},
	{"unknown writes no one can have seen are left out", []Op{
		put(0, 0, 10, "a", "1", 1), unknown(put(1, 20, 30, "a", "2", 0)), unknown(del(2, 25, 30, "a", "", 0, 0)),
		get(0, 40, 50, "a", 1, kv("a", "1", 1, 1, 1)), put(0, 60, 70, "a", "3", 2),
		get(0, 80, 90, "a", 2, kv("a", "3", 1, 2, 2)),
	}, nil},
	{"unknown write fills a revision gap", []Op{
		put(0, 0, 10, "a", "1", 1), unknown(put(1, 20, 30, "a", "2", 0)),
		put(0, 60, 70, "a", "3", 3), get(0, 80, 90, "a", 3, kv("a", "3", 1, 3, 3)),
	}, nil},
	{"unknown write with no revision gap left", []Op{
		put(0, 0, 10, "a", "1", 1), unknown(put(1, 20, 30, "a", "2", 0)),
		put(0, 60, 70, "a", "3", 2), get(0, 80, 90, "a", 2, kv("a", "3", 1, 2, 3)),
	}, []string{CheckKV}},
	{"committed unknown write seen", []Op{
		committed(put(0, 0, 10, "a", "1", 1), 15, 1), get(1, 20, 30, "a", 1, kv("a", "1", 1, 1, 1)),
	}, nil},
	{"committed unknown write missed by a read called after its commit", []Op{
		committed(put(0, 0, 10, "a", "1", 1), 15, 1), put(2, 1, 5, "b", "1", 2), get(1, 20, 30, "a", 2),
	}, []string{CheckKV}},
	{"committed unknown write missed by a read called before its commit", []Op{
		committed(put(0, 0, 10, "a", "1", 1), 25, 2), put(2, 1, 5, "b", "1", 1), get(1, 20, 30, "a", 1),
	}, nil},
	{"committed unknown write missed by a read served at or above its revision", []Op{
		committed(put(0, 0, 10, "a", "1", 1), 25, 1), put(2, 1, 5, "b", "1", 2), get(1, 20, 30, "a", 2),
	}, []string{CheckKV}},
	{"multi-key range not at one revision", []Op{
		put(0, 0, 10, "a", "1", 1), put(1, 0, 50, "b", "1", 2), put(2, 0, 50, "a", "2", 3),
		{ClientID: 3, Call: 5, Return: 60, Req: &nodes.Request{Kind: nodes.KindRange, Key: []byte("a"), End: []byte("c")},
			Result: nodes.Result{Rev: 3, KVs: []mvcc.KeyValue{kv("a", "1", 1, 1, 1), kv("b", "1", 2, 2, 1)}}},
	}, []string{CheckKV}},
	{"committed unknown write at another's revision", []Op{
		committed(put(0, 0, 10, "a", "1", 1), 15, 1), put(1, 20, 30, "b", "1", 1),
	}, []string{CheckRevisionUnique, CheckRevisionOrder}},
	{"committed unknown delete, count exact", []Op{
		put(0, 0, 10, "a", "1", 1), committed(del(1, 20, 30, "a", "", 1, 2), 25, 2), get(0, 40, 50, "a", 2),
	}, nil},
	{"committed unknown txn took the branch the log says", []Op{
		put(0, 0, 10, "a", "1", 1), committed(cas(1, 20, 30, "a", 1, "2", false, 1), 25, 1),
		get(0, 40, 50, "a", 1, kv("a", "1", 1, 1, 1)),
	}, []string{CheckKV}},
	{"uncommitted unknown write seen", []Op{
		never(put(0, 0, 10, "a", "1", 1)), get(1, 20, 30, "a", 1, kv("a", "1", 1, 1, 1)),
	}, []string{CheckKV}},
	{"committed unknown write refused at apply left out", []Op{
		put(0, 0, 10, "a", "1", 1), func() Op {
			o := committed(put(1, 20, 30, "a", "2", 1), 25, 1)
			o.LogResult.Code = nodes.ErrPermission
			return o
		}(), put(2, 40, 50, "b", "1", 2), get(0, 60, 70, "a", 2, kv("a", "1", 1, 1, 1)),
	}, nil},
	{"uncommitted unknown write left out", []Op{
		put(0, 0, 10, "a", "1", 1), never(put(1, 20, 30, "a", "2", 1)), get(0, 40, 50, "a", 1, kv("a", "1", 1, 1, 1)),
	}, nil},
	{"write refused with no-leader seen", []Op{
		code(put(0, 0, 10, "a", "1", 1), nodes.ErrNoLeader), get(1, 20, 30, "a", 1, kv("a", "1", 1, 1, 1)),
	}, []string{CheckKV}},
	{"write answered stopped seen", []Op{
		code(put(0, 0, 10, "a", "1", 1), nodes.ErrStopped), get(1, 20, 30, "a", 1, kv("a", "1", 1, 1, 1)),
	}, nil},
	{"outstanding write at the end", []Op{
		{ClientID: 0, Call: 20, Req: &nodes.Request{Kind: nodes.KindPut, Key: []byte("a"), Value: []byte("1")}},
		get(1, 30, 40, "a", 1, kv("a", "1", 1, 1, 1)),
	}, nil},
	{"serializable stale read is not checked", []Op{
		put(0, 0, 10, "a", "1", 1), serializable(get(1, 20, 30, "a", 0)),
	}, nil},
	{"multi-key delete", []Op{
		put(0, 0, 10, "a", "1", 1), put(0, 20, 30, "b", "1", 2), del(1, 40, 50, "a", "c", 2, 3),
		get(0, 60, 70, "b", 3), get(0, 60, 70, "a", 3),
	}, nil},
	{"multi-key delete that missed a live key", []Op{
		put(0, 0, 10, "a", "1", 1), del(1, 40, 50, "a", "c", 0, 1),
	}, []string{CheckKV}},
	{"version skipped", []Op{
		put(0, 0, 10, "a", "1", 1), get(1, 20, 30, "a", 1, kv("a", "1", 1, 1, 2)),
	}, []string{CheckKV}},
	{"mod revision above the header", []Op{
		put(0, 0, 10, "a", "1", 3), get(1, 20, 30, "a", 3, kv("a", "1", 3, 4, 1)),
	}, []string{CheckKV}},
	{"header revision above what the writes called before the reply can reach", []Op{
		put(0, 0, 10, "a", "1", 1), get(1, 20, 30, "a", 3, kv("a", "1", 1, 1, 1)),
	}, []string{CheckHeaderRevision}},
	{"header revision reached by an overlapping unknown write", []Op{
		put(0, 0, 10, "a", "1", 1), unknown(put(2, 15, 0, "b", "1", 0)), get(1, 20, 30, "a", 2, kv("a", "1", 1, 1, 1)),
	}, nil},
	{"header revision reached by an unknown write called after the reply", []Op{
		put(0, 0, 10, "a", "1", 1), get(1, 20, 30, "a", 2, kv("a", "1", 1, 1, 1)), unknown(put(2, 35, 0, "b", "1", 0)),
	}, []string{CheckHeaderRevision}},
	{"leased key expires", []Op{
		withLease(put(0, 0, 10, "a", "1", 1), 7), get(1, 20, 30, "a", 2),
	}, nil},
}

func TestCheck(t *testing.T) {
	for _, tt := range checkCases {
		t.Run(tt.name, func(t *testing.T) {
			res := Check(tt.ops, Budget{})
			if res.OK != (len(tt.failed) == 0) || !slices.Equal(res.Failed, tt.failed) {
				t.Fatalf("Check = %v, failed %v; want failed %v\n%s", res.OK, res.Failed, tt.failed, res.Detail)
			}
			if !res.OK && strings.Count(res.Detail, "\n") != 0 {
				t.Fatalf("Detail is not one line: %q", res.Detail)
			}
			t.Log(res.String())
		})
	}
}

func TestDetailNamesKeyAndRequest(t *testing.T) {
	res := Check([]Op{put(0, 0, 10, "k03", "v1", 1), get(4, 20, 30, "k03", 1)}, Budget{})
	for _, want := range []string{"kv-model: key k03", "c4 range k03 -> [] rev=1", "c0 put k03=v1 -> rev=1"} {
		if !strings.Contains(res.Detail, want) {
			t.Errorf("Detail %q lacks %q", res.Detail, want)
		}
	}
}

func TestVisualize(t *testing.T) {
	path := t.TempDir() + "/history.html"
	ops := []Op{put(0, 0, 10, "a", "1", 1), get(1, 20, 30, "a", 1), unknown(put(2, 5, 0, "b", "1", 0))}
	err := Visualize(ops, path, []Annotation{{Start: 12, End: 18, Tag: "m2", Description: "crash m2"}})
	if err != nil {
		t.Fatal(err)
	}
	pageShows(t, path, "crash m2", "c1 range a")
}

// pageShows fails t unless the visualization at path holds every want.
func pageShows(t *testing.T, path string, wants ...string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range wants {
		if !strings.Contains(string(b), want) {
			t.Errorf("visualization lacks %q", want)
		}
	}
}

func TestInRangeMatchesMVCC(t *testing.T) {
	vals := [][]byte{nil, {}, {0}, []byte("a"), []byte("k0"), []byte("k00"), []byte("k01"), []byte("k1"), []byte("k10"), []byte("z"), {0xff}, {0, 0}}
	for _, k := range vals {
		for _, key := range vals {
			for _, end := range vals {
				if got, want := mvcc.InRangeString(string(k), key, end), mvcc.InRange(k, key, end); got != want {
					t.Errorf("InRangeString(%q, %q, %q) = %v; mvcc.InRange says %v", k, key, end, got, want)
				}
			}
		}
	}
}
