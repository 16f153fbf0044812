package nodes

import "testing"

// TestProbeCatalog checks that every probe has one name of its own, that
// names parse back, and that a probe outside the catalog is not valid.
func TestProbeCatalog(t *testing.T) {
	seen := map[string]Probe{}
	for _, p := range Probes() {
		name := p.String()
		if name == "" || name[len(name)-1] == '/' {
			t.Fatalf("probe %d has no name: %q", p, name)
		}
		if q, dup := seen[name]; dup {
			t.Fatalf("probes %d and %d are both %q", q, p, name)
		}
		seen[name] = p
		if q, ok := ParseProbe(name); !ok || q != p {
			t.Fatalf("ParseProbe(%q) = %d, %v; want %d", name, q, ok, p)
		}
	}
	if _, ok := ParseProbe("snap/sned"); ok {
		t.Fatal("a misspelt probe parses")
	}
	if Probe(NumProbes).Valid() {
		t.Fatal("a probe past the catalog is valid")
	}
	for _, name := range requiredProbes {
		if _, ok := seen[name]; !ok {
			t.Fatalf("required probe %q is not in the catalog", name)
		}
	}
	for name, s := range scopes {
		p, ok := seen[name]
		if !ok {
			t.Fatalf("scoped probe %q is not in the catalog", name)
		}
		if Required(p) || s.Scope == ScopeDefault || s.Reason == "" {
			t.Fatalf("scoped probe %q: required, of the default scope, or without a reason", name)
		}
	}
}

// TestProbeCounting checks that a member's probes reach the counts it was
// given, and that a nil ProbeCounts counts nothing.
func TestProbeCounting(t *testing.T) {
	var c ProbeCounts
	m := &Member{cfg: Config{Probes: &c}}
	m.probe(ProbeSnapSend)
	m.probe(ProbeSnapSend)
	if c[ProbeSnapSend] != 2 {
		t.Fatalf("snap/send counted %d times, want 2", c[ProbeSnapSend])
	}
	(*ProbeCounts)(nil).Hit(ProbeSnapSend)
	if got := FileKind("0000000000000001-0000000000000000.wal"); FileKindNames[got] != "wal" {
		t.Fatalf("a WAL segment is of kind %s", FileKindNames[got])
	}
	for name, want := range map[string]string{"snap-0000000000000064.snap.db": "snapdb", "db": "backend",
		"0000000000000002-0000000000000064.snap": "snap", "db.defrag": "backend"} {
		if got := FileKindNames[FileKind(name)]; got != want {
			t.Fatalf("FileKind(%q) = %s, want %s", name, got, want)
		}
	}
}
