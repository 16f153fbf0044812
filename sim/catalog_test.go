package sim

import (
	"os"
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/nodes"
)

// TestCatalogsAgree: every bug mode is caught by invariants of the
// catalog, every catalog entry has a description, and the package docs
// name every invariant and fault kind.
func TestCatalogsAgree(t *testing.T) {
	for _, b := range nodes.Catalog() {
		for _, name := range strings.Split(b.CaughtBy, ", ") {
			if !invariants.Known(name) {
				t.Errorf("bug mode %s is caught by %q, not an invariant", b.Name, name)
			}
		}
	}
	invDoc := read(t, "../invariants/doc.go")
	for _, in := range invariants.Catalog {
		if in.Description == "" || !strings.Contains(invDoc, string(in.Name)) {
			t.Errorf("invariant %s: no description, or invariants/doc.go does not name it", in.Name)
		}
	}
	simDoc := read(t, "doc.go")
	for _, rf := range ratioFields {
		if rf.desc == "" || !strings.Contains(simDoc, string(rf.name)) {
			t.Errorf("fault kind %s: no description, or sim/doc.go does not name it", rf.name)
		}
	}
	for fp := nodes.Failpoint(1); fp < nodes.NumFailpoints; fp++ {
		if fp.Description() == "" {
			t.Errorf("failpoint %s has no description", fp)
		}
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
