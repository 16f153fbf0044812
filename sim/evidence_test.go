package sim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/invariants/linearizable"
	"github.com/etcdsim/etcdsim/nodes"
)

// TestEvidenceOps: the requests a linearizability evidence names are found
// in the history, as the checker and serializableMonotonic print them.
func TestEvidenceOps(t *testing.T) {
	s := time.Second
	put := Op{Proc: 113, Member: 2, Req: &nodes.Request{Kind: nodes.KindPut, Key: []byte("k1"), Value: []byte("v1")},
		Call: 23 * s, Return: 23*s + 5*time.Millisecond, Result: nodes.Result{Rev: 2}}
	get := Op{Proc: 115, Member: 1, Req: &nodes.Request{Kind: nodes.KindRange, Key: []byte("k1")},
		Call: 24 * s, Return: 24*s + 2*time.Millisecond, Result: nodes.Result{Rev: 1}}
	other := Op{Proc: 7, Member: 3, Req: &nodes.Request{Kind: nodes.KindRange, Key: []byte("k2")},
		Call: 20 * s, Return: 20*s + time.Millisecond, Result: nodes.Result{Rev: 1}}
	history := []Op{other, put, get}
	res := linearizable.Check(linearizableOps(history, nil), linearizable.Budget{})
	if res.OK {
		t.Fatal("a read that missed an earlier write passed")
	}
	rep := &Report{History: history, Violation: &invariants.Violation{Name: invariants.Linearizable, Detail: res.Detail}}
	got := rep.EvidenceOps()
	if len(got) != 2 || got[0].Req != put.Req || got[1].Req != get.Req {
		t.Fatalf("evidence %q: got %v, want the put and the range", res.Detail, got)
	}

	read := func(call time.Duration, rev int64) Op {
		return Op{Proc: 1, Member: 1, Req: &nodes.Request{Kind: nodes.KindRange, Serializable: true},
			Call: call, Return: call + time.Millisecond, Result: nodes.Result{Rev: rev}}
	}
	history = []Op{read(s, 5), read(2*s, 5), read(3*s, 4)}
	rep.History = history
	rep.Violation.Detail = serializableMonotonic(history, nil)
	if got := rep.EvidenceOps(); len(got) != 2 || got[0].Req != history[1].Req || got[1].Req != history[2].Req {
		t.Fatalf("evidence %q: got %v, want the last two reads", rep.Violation.Detail, got)
	}
	rep.Violation.Name = invariants.CommitAtomicity
	if got := rep.EvidenceOps(); got != nil {
		t.Fatalf("another invariant's evidence names requests: %v", got)
	}
}

// TestEvidenceOpsOfACorpusSeed: the first linearizability seed of the
// corpus names requests that are in its history, before the end of the run.
func TestEvidenceOpsOfACorpusSeed(t *testing.T) {
	files, _ := filepath.Glob("../seeds/*.seed")
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(text), "expect: fail:linearizable") {
			continue
		}
		sf, err := ParseSeedFile(string(text))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := Run(sf.Config)
		if err != nil {
			t.Fatal(err)
		}
		ops := rep.EvidenceOps()
		t.Logf("%s: %s: %d requests", f, rep.Violation.Detail, len(ops))
		if len(ops) == 0 {
			t.Fatalf("%s: no request of the history matches the evidence %q", f, rep.Violation.Detail)
		}
		for _, o := range ops {
			if o.Call <= 0 || o.Call > rep.At {
				t.Errorf("%s: request called at %v, the run ended at %v", f, o.Call, rep.At)
			}
		}
		return
	}
	t.Skip("no linearizability seed in the corpus")
}
