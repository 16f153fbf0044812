package linearizable

import (
	"bufio"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// TestWriteGeneratedHistory writes a generated legal history in the
// JSON-lines format when LIN_GEN names the file (the figures of
// docs/check-format.md): LIN_GEN_OPS requests (6,000) on LIN_GEN_KEYS keys
// (16), a request every 10 ms, LIN_GEN_UNKNOWN percent of the writes
// timing out (30), with revisions unless LIN_GEN_NOREV is set.
func TestWriteGeneratedHistory(t *testing.T) {
	path := os.Getenv("LIN_GEN")
	if path == "" {
		t.Skip("LIN_GEN not set")
	}
	spec := benchSpec
	spec.ops, spec.keys, spec.unknown = envInt("LIN_GEN_OPS", 6000), envInt("LIN_GEN_KEYS", 16), envInt("LIN_GEN_UNKNOWN", 30)
	ops := generate(rand.New(rand.NewPCG(1, 2)), spec)
	if os.Getenv("LIN_GEN_NOREV") != "" {
		stripRevisions(ops)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range ops {
		b, err := json.Marshal(toLine(&ops[i]))
		if err != nil {
			t.Fatal(err)
		}
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// toLine converts a generated request to the format's line.
func toLine(o *Op) map[string]any {
	r := o.Req
	m := map[string]any{"client": o.ClientID, "call": o.Call, "op": r.Kind.String()}
	reqFields(m, mvcc.Op{Key: r.Key, End: r.End, Value: r.Value})
	if r.Kind == nodes.KindTxn {
		var cmps []map[string]any
		for _, c := range r.Txn.Compares {
			cm := map[string]any{"key": string(c.Key), "target": [...]string{"version", "create", "mod", "value", "lease"}[c.Target], "result": resultNames[c.Result]}
			cm["number"] = []int64{c.Version, c.CreateRevision, c.ModRevision, 0, c.Lease}[c.Target]
			cmps = append(cmps, cm)
		}
		m["compare"], m["success"], m["failure"] = cmps, opsLines(r.Txn.Success), opsLines(r.Txn.Failure)
	}
	if o.Unknown {
		return m
	}
	m["return"] = o.Return
	if o.Result.Code != nodes.OK {
		m["error"] = o.Result.Code.String()
		return m
	}
	if !o.NoRev {
		m["rev"] = o.Result.Rev
	}
	var kvs []map[string]any
	for _, kv := range o.Result.KVs {
		kvs = append(kvs, map[string]any{"key": string(kv.Key), "value": string(kv.Value),
			"create": kv.CreateRevision, "mod": kv.ModRevision, "ver": kv.Version})
	}
	m["kvs"], m["deleted"], m["succeeded"] = kvs, o.Result.Deleted, o.Result.Succeeded || r.Kind != nodes.KindTxn
	return m
}

func reqFields(m map[string]any, op mvcc.Op) {
	m["key"] = string(op.Key)
	if len(op.End) > 0 {
		m["end"] = string(op.End)
	}
	if len(op.Value) > 0 {
		m["value"] = string(op.Value)
	}
}

func opsLines(ops []mvcc.Op) []map[string]any {
	var out []map[string]any
	for _, op := range ops {
		m := map[string]any{"op": [...]string{"", "range", "put", "delete"}[op.Type]}
		reqFields(m, op)
		out = append(out, m)
	}
	return out
}
