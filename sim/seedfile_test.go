package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/nodes"
)

func TestSeedFileRoundTrip(t *testing.T) {
	f, _ := ParseFaults("disk.torn_write=1/2 crash=1/1000")
	rep := &Report{Config: Config{Seed: 42, Members: 3, Duration: 20 * time.Second, Rate: 100, Bugs: nodes.Bugs{AuthCI: true}},
		Faults: f, Violation: &invariants.Violation{Name: "commit-atomicity"}, Step: 77, TraceHash: 0xabc}
	sf := NewSeedFile(rep, "a test\nof two lines")
	text := sf.String()
	back, err := ParseSeedFile(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if back.String() != text {
		t.Fatalf("round trip:\n%s\n---\n%s", text, back.String())
	}
	if back.Expect != "fail:commit-atomicity" || back.Step != 77 || back.Trace != 0xabc || !back.Config.Bugs.AuthCI {
		t.Fatalf("fields lost: %+v", back)
	}
}

func TestSeedFileErrors(t *testing.T) {
	good := "seed: 1\nmembers: 3\nduration: 10s\nrate: 100\nbug: none\nfaults: none\nexpect: pass\nstep: 0\ntrace: 00\n"
	if _, err := ParseSeedFile(good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		strings.Replace(good, "bug: none", "bug: nonsense", 1),
		strings.Replace(good, "expect: pass", "expect: fail:no-such-invariant", 1),
		strings.Replace(good, "expect: pass", "expect: maybe", 1),
		strings.Replace(good, "seed: 1", "seed: x", 1),
		strings.Replace(good, "seed: 1\n", "", 1),
		good + "seed: 2\n",
		good + "colour: blue\n",
		good + "no colon here\n",
		strings.Replace(good, "members: 3", "members: 9", 1),
		strings.Replace(good, "faults: none", "faults: crash=2/1", 1),
	} {
		if _, err := ParseSeedFile(bad); err == nil {
			t.Fatalf("parsed:\n%s", bad)
		}
	}
}

func TestSeedFileWithPlan(t *testing.T) {
	cfg := Config{Seed: 2, Bugs: nodes.Bugs{AuthCI: true}, Duration: 20 * time.Second}
	sh, err := Shrink(cfg, 100)
	if err != nil {
		t.Fatal(err)
	}
	sf := NewSeedFile(sh.Report, "shrunk")
	back, err := ParseSeedFile(sf.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, sf)
	}
	if back.String() != sf.String() || back.Config.Plan == nil {
		t.Fatalf("plan lost:\n%s\n---\n%s", sf, back)
	}
	rep, err := Run(back.Config)
	if err != nil || !sf.Matches(rep) {
		t.Fatalf("replay of the file: %v %s %016x, recorded %s %016x", err, rep.Outcome(), rep.TraceHash, sf.Expect, sf.Trace)
	}
}

// TestSeedFileTraceFormat: a file without trace-format is format 1 and
// is reported as not comparable rather than matched; this build's files
// carry its format; an unknown format is an error.
func TestSeedFileTraceFormat(t *testing.T) {
	base := "seed: 1\nmembers: 3\nduration: 1s\nrate: 100\nbug: none\nfaults: none\nexpect: pass\nstep: 0\ntrace: 00000000000000ff\n"
	old, err := ParseSeedFile(base)
	if err != nil {
		t.Fatal(err)
	}
	if old.TraceFormat != 1 || old.FormatNote() == "" {
		t.Fatalf("a file without trace-format: format %d, note %q", old.TraceFormat, old.FormatNote())
	}
	if old.Matches(&Report{TraceHash: 0xff}) {
		t.Fatal("a format-1 file matched a run of this build")
	}
	cur, err := ParseSeedFile(base + fmt.Sprintf("trace-format: %d\n", TraceFormat))
	if err != nil || cur.FormatNote() != "" || !strings.Contains(cur.String(), fmt.Sprintf("trace-format: %d\n", TraceFormat)) {
		t.Fatalf("this build's format: %v %q\n%s", err, cur.FormatNote(), cur.String())
	}
	if _, err := ParseSeedFile(base + "trace-format: 99\n"); err == nil {
		t.Fatal("trace-format 99 accepted")
	}
}
