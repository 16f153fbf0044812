package swarm

import (
	"errors"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/sim"
)

// TestRenderTable: a row's detection rate, its Wilson interval (3 of 4:
// 30.1–95.4%, worked out by hand), top invariant, the medians of the
// detecting seeds (3000 of 900, 3000, 5000 ms simulated; 40 of 20, 40,
// 80 ms wall) and the wall time up to and including the first detecting
// seed (10 + 20 ms); a clean row has dashes.
func TestRenderTable(t *testing.T) {
	clean := &Row{World: sim.BugWorld{Bug: "none", Members: 3, Workload: "default", Rate: 100}}
	buggy := &Row{World: sim.BugWorld{Bug: "auth-ci", Members: 1, Workload: "compaction", Rate: 10}}
	for i, r := range []Result{
		{Bug: "auth-ci", WallMs: 10},
		{Bug: "auth-ci", WallMs: 20, SimMs: 3000, Invariant: "commit-atomicity"},
		{Bug: "auth-ci", WallMs: 40, SimMs: 900, Invariant: "equal-revisions"},
		{Bug: "auth-ci", WallMs: 80, SimMs: 5000, Invariant: "commit-atomicity"},
	} {
		buggy.Add(r)
		if i < 2 {
			clean.Add(Result{Bug: "none", WallMs: 1})
		}
	}
	want := "| mode | world | seeds | detected | 95% CI | first invariant | median sim time | median wall time | wall to 1st detection |\n" +
		"| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n" +
		"| none | 3 members, default | 2 | 0.0% (0) | 0.0–65.8% | - | - | - | - |\n" +
		"| auth-ci | 1 member, compaction @10/s | 4 | 75.0% (3) | 30.1–95.4% | commit-atomicity (+1 more) | 3.000s | 40.0ms | 30.0ms |\n" +
		"\nseeds 1..4 per mode, each in its world; made by `etcdsim table` in 2s wall.\n"
	if got := RenderTable([]*Row{clean, buggy}, "1..4", Markdown, 1600*time.Millisecond); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestSpliceTable(t *testing.T) {
	doc := "intro\n" + TableBegin + "\nold\n" + TableEnd + "\nrest\n"
	got, err := SpliceTable(doc, "new\n")
	if want := "intro\n" + TableBegin + "\nnew\n" + TableEnd + "\nrest\n"; err != nil || got != want {
		t.Errorf("spliced %q (%v), want %q", got, err, want)
	}
	for _, bad := range []string{"none", TableEnd + TableBegin, TableBegin} {
		if _, err := SpliceTable(bad, "x"); !errors.Is(err, ErrNoMarkers) {
			t.Errorf("SpliceTable(%q): %v", bad, err)
		}
	}
}
