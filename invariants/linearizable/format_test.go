package linearizable

import (
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func readString(t *testing.T, text string) []Op {
	t.Helper()
	ops, err := ReadHistory(strings.NewReader(text), "test.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return ops
}

func TestReadHistoryExample(t *testing.T) {
	f, err := os.Open("testdata/example.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ops, err := ReadHistory(f, "example.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 7 || !ops[2].Unknown || !ops[6].NoRev || ops[5].Result.Code.String() != "no-leader" {
		t.Fatalf("read %d requests: %+v", len(ops), ops)
	}
	if res := Check(ops, Budget{}); !res.OK || res.Unknown {
		t.Fatalf("example: %v", res)
	}
}

// formatCases are hand-made histories in the JSON-lines format and the
// sub-checks that must fail on each (none: linearizable).
var formatCases = []struct {
	name, text string
	failed     []string
}{
	{"no revisions, legal", `
{"client":0,"call":0,"return":10,"op":"put","key":"a","value":"1"}
{"client":1,"call":5,"op":"put","key":"a","value":"2"}
{"client":2,"call":20,"return":30,"op":"range","key":"a","kvs":[{"key":"a","value":"2","ver":2}]}
{"client":0,"call":40,"return":50,"op":"range","key":"a","kvs":[{"key":"a","value":"2","ver":2}]}`, nil},
	{"no revisions, stale read", `
{"client":0,"call":0,"return":10,"op":"put","key":"a","value":"1"}
{"client":0,"call":20,"return":30,"op":"put","key":"a","value":"2"}
{"client":1,"call":40,"return":50,"op":"range","key":"a","kvs":[{"key":"a","value":"1"}]}`, []string{CheckKV}},
	{"no revisions, a version no write count explains", `
{"client":0,"call":0,"return":10,"op":"put","key":"a","value":"1"}
{"client":1,"call":5,"op":"put","key":"a","value":"2"}
{"client":0,"call":20,"return":30,"op":"put","key":"a","value":"3"}
{"client":2,"call":40,"return":50,"op":"range","key":"a","kvs":[{"key":"a","value":"3","ver":4}]}`, []string{CheckKV}},
	{"unknown writes make the version", `
{"client":0,"call":0,"return":10,"op":"put","key":"a","value":"1"}
{"client":1,"call":5,"op":"put","key":"a","value":"2"}
{"client":3,"call":6,"op":"put","key":"a","value":"4"}
{"client":0,"call":20,"return":30,"op":"put","key":"a","value":"3"}
{"client":2,"call":40,"return":50,"op":"range","key":"a","kvs":[{"key":"a","value":"3","ver":4}]}`, nil},
	{"a txn's compare decides its branch", `
{"client":0,"call":0,"return":10,"op":"put","key":"a","value":"1","rev":2}
{"client":1,"call":20,"return":30,"op":"txn","compare":[{"key":"a","target":"value","result":"=","value":"1"}],"success":[{"op":"put","key":"b","value":"x"}],"succeeded":false,"rev":2}`, []string{CheckKV}},
	{"multi-key range at one revision", `
{"client":0,"call":0,"return":10,"op":"put","key":"a","value":"1","rev":2}
{"client":1,"call":20,"return":30,"op":"put","key":"b","value":"1","rev":3}
{"client":2,"call":40,"return":50,"op":"range","key":"a","end":"c","rev":3,"kvs":[{"key":"a","value":"1","create":2,"mod":2,"ver":1},{"key":"b","value":"1","create":3,"mod":3,"ver":1}]}`, nil},
}

func TestFormatCases(t *testing.T) {
	for _, tt := range formatCases {
		t.Run(tt.name, func(t *testing.T) {
			res := Check(readString(t, tt.text), Budget{})
			if res.OK != (len(tt.failed) == 0) || !slices.Equal(res.Failed, tt.failed) || res.Unknown {
				t.Fatalf("Check = %v, failed %v; want failed %v\n%s", res.OK, res.Failed, tt.failed, res)
			}
		})
	}
}

func TestReadHistoryErrors(t *testing.T) {
	for _, tt := range []struct{ text, want string }{
		{`{"client":0,"call":0,"return":1,"op":"put","key":"a"}` + "\n" + `{"client":0,"call":0,"op":"get"}`, `test.jsonl:2: unknown "op" "get"`},
		{"\n\n{\"call\":1,\"op\":\"put\"}", `test.jsonl:3: no "client"`},
		{`{"client":0,"call":5,"return":1,"op":"put"}`, `test.jsonl:1: "return" 1 is before "call" 5`},
		{`{"client":0,"call":5,"op":"put","colour":1}`, `test.jsonl:1: not a request: json: unknown field "colour"`},
		{`{"client":0,"call":5,"op":"txn","compare":[{"key":"a","target":"mod","result":"="}]}`, `test.jsonl:1: compare: a mod compare needs a "number"`},
		{`not json`, `test.jsonl:1: not a request`},
	} {
		_, err := ReadHistory(strings.NewReader(tt.text), "test.jsonl")
		var ie *InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ReadHistory(%q) = %v; want %q", tt.text, err, tt.want)
		}
	}
}

func TestEtcdReport(t *testing.T) {
	ops, err := ReadEtcdReport("testdata/etcd-report")
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 4 || !ops[1].Unknown && ops[1].Return != 1<<63-1 {
		t.Fatalf("read %+v", ops)
	}
	if res := Check(ops, Budget{}); !res.OK || res.Unknown {
		t.Fatalf("report: %v", res)
	}
	ops[3].Result.KVs = slices.Clone(ops[3].Result.KVs)
	ops[3].Result.KVs[0].Version = 3
	if res := Check(ops, Budget{}); res.OK || !slices.Contains(res.Failed, CheckKV) {
		t.Fatalf("a version no write explains passed: %v", res)
	}
}

// stripRevisions makes a generated history one recorded without
// revisions.
func stripRevisions(ops []Op) {
	for i := range ops {
		ops[i].NoRev = true
		kvs := slices.Clone(ops[i].Result.KVs)
		for j := range kvs {
			kvs[j].ModRevision, kvs[j].CreateRevision = 0, 0
		}
		ops[i].Result.KVs = kvs
	}
}

// TestThousandsOfUnknownWrites checks, within a small budget, a legal
// history of 6,000 requests on one key, 30% of whose writes have unknown
// outcomes (about 700), with and without revisions: the previous checker
// passed 3 GiB on it.
func TestThousandsOfUnknownWrites(t *testing.T) {
	spec := benchSpec
	spec.keys, spec.unknown = 1, 30
	for _, revs := range []bool{true, false} {
		ops := generate(rand.New(rand.NewPCG(1, 2)), spec)
		if !revs {
			stripRevisions(ops)
		}
		unknown := 0
		for _, o := range ops {
			unknown += b2i(o.Unknown)
		}
		start := time.Now()
		res := CheckBudget(nil, ops, Budget{Time: time.Minute, Memory: 64 << 20})
		if !res.OK || res.Unknown || unknown < 500 {
			t.Fatalf("revisions %v, %d unknown writes: %v", revs, unknown, res)
		}
		t.Logf("revisions %v: %d requests, %d unknown writes, checked in %v", revs, len(ops), unknown, time.Since(start))
	}
}

func TestBudgetRunsOut(t *testing.T) {
	spec := benchSpec
	spec.ops, spec.keys, spec.unknown = 500, 2, 30
	ops := generate(rand.New(rand.NewPCG(1, 2)), spec)
	res := CheckBudget(nil, ops, Budget{Memory: 1})
	if !res.OK || !res.Unknown || len(res.Failed) != 0 || !strings.Contains(res.Reason, "memory budget") {
		t.Fatalf("a 1-byte budget: %v", res)
	}
	if !strings.HasPrefix(res.String(), "unknown: the search ran out of its memory budget") {
		t.Fatalf("String() = %q", res.String())
	}
}
