package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/sim"
)

// -report.out and -report.cleanout write the pages the tests render, for
// people and for scripts/render-check.sh (make html-check):
//
//	go test ./report -run 'TestWrite' -args -report.out=/tmp/fail.html -report.cleanout=/tmp/clean.html
//
// -report.linout writes the page of the corpus's first linearizability
// failure (TestWindowOfACorpusSeed).
var (
	outFile   = flag.String("report.out", "", "write the failing run's page (TestWriteFailurePage) to this file")
	cleanFile = flag.String("report.cleanout", "", "write the clean run's page (TestWriteCleanPage) to this file")
	linFile   = flag.String("report.linout", "", "write the corpus's first linearizability failure's page (TestWindowOfACorpusSeed) to this file")
)

// failingConfig starts the search for a world that breaks: ci-before-lock,
// from seed 1, 20 s of simulated time.
var failingConfig = sim.Config{Seed: 1, Bugs: nodes.Bugs{CIBeforeLock: true}, Timeline: true, Duration: 20 * time.Second}

// cleanConfig is the correct model over 20 s: a partition, a one-way cut,
// slow disks, the liveness phase, and more than MaxTicks commits and applies.
var cleanConfig = sim.Config{Seed: 2, Timeline: true, Duration: 20 * time.Second}

func runWorld(t *testing.T, cfg sim.Config) *sim.Report {
	t.Helper()
	rep, err := sim.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// render writes the page twice and requires the same bytes.
func render(t *testing.T, rep *sim.Report, opts Options, out string) string {
	t.Helper()
	var a, b bytes.Buffer
	if err := WriteHTML(&a, rep, opts); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&b, rep, opts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two renders of the same report differ")
	}
	if out != "" {
		if err := os.WriteFile(out, a.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", out, a.Len())
	}
	return a.String()
}

var (
	svgRE   = regexp.MustCompile(`(?s)<svg .*?</svg>`)
	laneRE  = regexp.MustCompile(`<g class="lane" id="[a-z]+-lane-[a-z0-9]+" data-lane="(m\d+|cluster)">`)
	titleRE = regexp.MustCompile(`<title>[^<]+</title>`)
	// markRE matches a mark of a lane (a bar, a point or a tick) and its
	// contents, whose first element is its hover title.
	markRE = regexp.MustCompile(`(?s)<g class="[bpt] [^"]*">(.*?)</g>`)
)

// wellFormed parses s strictly as XML: every element closed and nested,
// attributes quoted, only XML's entities.
func wellFormed(t *testing.T, what, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed: %v", what, err)
		}
		switch tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 {
		t.Fatalf("%s: %d elements left open", what, depth)
	}
}

// lanes returns the lane names of one picture, in order.
func lanes(svg string) []string {
	var out []string
	for _, m := range laneRE.FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestWriteFailurePage(t *testing.T) {
	// The first seed from failingConfig's up that breaks after a crash, a
	// restart and a pause, with the crash in the detail window: the
	// model's changes move which seeds do, never whether some do.
	var rep *sim.Report
	for cfg := failingConfig; cfg.Seed < failingConfig.Seed+200; cfg.Seed++ {
		if rep = runWorld(t, cfg); rep.Violation != nil && eventful(rep) {
			break
		}
	}
	if rep.Violation == nil || !eventful(rep) {
		t.Fatalf("no seed of %d..%d breaks after a crash, a restart and a pause", failingConfig.Seed, failingConfig.Seed+199)
	}
	page := render(t, rep, Options{LinearizabilityHTML: "porcupine.html"}, *outFile)
	wellFormed(t, "the page", page)
	svgs := svgRE.FindAllString(page, -1)
	if len(svgs) != 2 {
		t.Fatalf("want an overview and a detail picture, got %d <svg>", len(svgs))
	}
	want := []string{"m1", "m2", "m3", "cluster"}
	for i, svg := range svgs {
		wellFormed(t, fmt.Sprintf("picture %d", i), svg)
		if got := lanes(svg); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("picture %d lanes = %v, want %v", i, got, want)
		}
		if !strings.Contains(svg, `class="viol"`) {
			t.Errorf("picture %d has no violation line", i)
		}
	}
	for _, s := range []string{
		`id="verdict">FAIL ` + string(rep.Violation.Name) + `<`,
		template.HTMLEscapeString(rep.Violation.Detail),
		template.HTMLEscapeString(rep.ReplayLine()),
		template.HTMLEscapeString(strings.Split(rep.Header(), "\n")[0]),
		`Detail window: the last 5s before the violation`,
	} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if strings.Contains(page, `href="porcupine.html"`) || strings.Contains(page, `id="linearizability"`) {
		t.Errorf("a %s failure links to porcupine's page of the history", rep.Violation.Name)
	}
	checkStoryAndNext(t, rep, page)
	checkLegend(t, page)
	for _, class := range []string{"b b-leader", "b b-follower", "b b-down", "b b-pause", "p p-crash", "p p-restart", "p p-disk", "t t-commit", "t t-apply"} {
		if !strings.Contains(svgs[0]+svgs[1], `<g class="`+class+`">`) {
			t.Errorf("pictures lack a %q mark", class)
		}
	}
	if id := rep.Violation.Member; id == 0 || !strings.Contains(svgs[0], fmt.Sprintf("evidence names m%d</title>m%d ✖", id, id)) {
		t.Errorf("the lane the evidence names (m%d) is not marked", id)
	}
	if strings.Contains(svgs[0], "t t-apply") {
		t.Error("the overview draws applies; only the detail window should")
	}
	marks := markRE.FindAllStringSubmatch(svgs[1], -1)
	if len(marks) < 20 {
		t.Errorf("detail picture has %d marks, want the window's events", len(marks))
	}
	for _, m := range marks {
		if !strings.HasPrefix(m[1], "<title>") {
			t.Errorf("a %q mark of the detail picture has no hover title", m[0][:min(len(m[0]), 60)])
			break
		}
	}
	if !strings.Contains(page, `<td>crash</td>`) || !strings.Contains(page, `<td>violation</td>`) {
		t.Error("the table of marks lacks the crash or the violation")
	}
}

// checkStoryAndNext requires the story of a bug mode's failure (the
// invariant's description, the mode's issue and mechanism) and the shrink
// command at the bottom of the page.
func checkStoryAndNext(t *testing.T, rep *sim.Report, page string) {
	t.Helper()
	block, _ := storyOf(t, page)
	bug := bugModes(rep.Config.Bugs)[0]
	for _, s := range []string{rep.Violation.Name.Description(), bug.Name, bug.Issue, bug.Mechanism} {
		if !strings.Contains(block, template.HTMLEscapeString(s)) {
			t.Errorf("the story lacks %q", s)
		}
	}
	if next := strings.Index(page, `id="next"`); next < strings.Index(page, `id="marks"`) || !strings.Contains(page[next:], "go run ./cmd/etcdsim shrink ") {
		t.Error("the page does not end with the shrink command")
	}
}

// eventful reports whether a failing run crashed, restarted and paused a
// member, with a crash within the detail window before the violation, and
// ran longer than the window (so that the page has two pictures).
func eventful(rep *sim.Report) bool {
	kinds := map[sim.MarkKind]bool{}
	for _, m := range rep.Timeline {
		kinds[m.Kind] = true
		if m.Kind == sim.MarkCrash && m.At >= rep.At-DefaultWindow {
			kinds["recent-crash"] = true
		}
	}
	return kinds[sim.MarkCrash] && kinds[sim.MarkRestart] && kinds[sim.MarkPause] && kinds["recent-crash"] && kinds[sim.MarkDisk] && rep.At > DefaultWindow
}

func TestWriteCleanPage(t *testing.T) {
	// The first seed from cleanConfig's up whose clean run has a partition
	// and more commits and applies than MaxTicks: which seeds do moves
	// with the model, never whether some do.
	var rep *sim.Report
	for cfg := cleanConfig; cfg.Seed < cleanConfig.Seed+100; cfg.Seed++ {
		if rep = runWorld(t, cfg); rep.Violation != nil {
			t.Fatalf("the correct model failed: %v", rep.Violation)
		}
		if partitioned(rep) && ticks(rep) > MaxTicks {
			break
		}
	}
	if !partitioned(rep) || ticks(rep) <= MaxTicks {
		t.Fatalf("no clean run of seeds %d..%d has a partition and more than %d ticks", cleanConfig.Seed, cleanConfig.Seed+99, MaxTicks)
	}
	page := render(t, rep, Options{}, *cleanFile)
	wellFormed(t, "the page", page)
	svgs := svgRE.FindAllString(page, -1)
	if len(svgs) != 1 {
		t.Fatalf("a clean run has one picture, got %d", len(svgs))
	}
	if got := lanes(svgs[0]); fmt.Sprint(got) != "[m1 m2 m3 cluster]" {
		t.Errorf("lanes = %v", got)
	}
	for _, s := range []string{`id="verdict">clean`, template.HTMLEscapeString(rep.ReplayLine()), "b b-leader", "b b-partition", "b b-liveness", "p p-net", "left out (more than 2000)"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	for _, s := range []string{`class="viol"`, "t t-apply", "Detail window", `id="linearizability"`, `id="story"`, `id="shrink"`} {
		if strings.Contains(page, s) {
			t.Errorf("clean page has %q", s)
		}
	}
	checkLegend(t, page)
}

func partitioned(rep *sim.Report) bool {
	for _, m := range rep.Timeline {
		if m.Kind == sim.MarkNet && strings.HasPrefix(m.Detail, "partition") {
			return true
		}
	}
	return false
}

func ticks(rep *sim.Report) (n int) {
	for _, m := range rep.Timeline {
		if m.Kind == sim.MarkCommit || m.Kind == sim.MarkApply {
			n++
		}
	}
	return n
}

// TestSyntheticTimeline draws a hand-made timeline with the edges a run can
// leave: a crash with no restart, a pause cut short by a crash, a partition
// never healed, marks of unknown kinds and of member 0, a member beyond
// Config.Members, and too many applies for the window.
func TestSyntheticTimeline(t *testing.T) {
	ms := time.Millisecond
	tl := []sim.Mark{
		{At: 0, Member: 1, Kind: sim.MarkRole, Detail: "leader term 2", Role: sim.RoleLeader, Term: 2},
		{At: 0, Member: 2, Kind: sim.MarkRole, Detail: "follower term 2", Role: sim.RoleFollower, Term: 2},
		{At: 100 * ms, Member: 2, Kind: sim.MarkPause, Detail: "pause m2 for 2s"},
		{At: 200 * ms, Member: 2, Kind: sim.MarkCrash, Detail: "fault"},
		{At: 200 * ms, Member: 2, Kind: sim.MarkDisk, Detail: "wal: torn <write> & \"more\""},
		{At: 200 * ms, Member: 2, Kind: sim.MarkDisk, Detail: "wal: size 10 -> 5"},
		{At: 300 * ms, Member: 0, Kind: sim.MarkNet, Detail: "partition (1) (2 3)", Net: sim.NetPartition, State: "(1) (2 3)"},
		{At: 350 * ms, Member: 0, Kind: sim.MarkNet, Detail: "cut m1->m3", Net: sim.NetCut, State: "m1->m3"},
		{At: 400 * ms, Member: 0, Kind: sim.MarkCrash, Detail: "no member"},
		{At: 500 * ms, Member: 4, Kind: "liveness", Detail: "unknown kind"},
		{At: 600 * ms, Member: 3, Kind: sim.MarkResume, Detail: "resumes without a pause"},
	}
	for i := range 3000 {
		tl = append(tl, sim.Mark{At: time.Second + time.Duration(i)*ms, Member: 1 + i%3, Kind: sim.MarkApply, Detail: fmt.Sprintf("index %d put ok rev=%d", i, i)})
	}
	tl = append(tl, sim.Mark{At: 4 * time.Second, Member: 1, Kind: sim.MarkCommit, Detail: "backend commit, consistent index 9"})
	rep := &sim.Report{Config: sim.Config{Seed: 9, Members: 3}, Timeline: tl, End: 5 * time.Second, At: 5 * time.Second,
		Violation: &invariants.Violation{Name: invariants.EqualRevisions, Member: 1, Detail: "m1 rev=3 <vs> m2 rev=4"}}
	page := render(t, rep, Options{Window: 4 * time.Second}, "")
	wellFormed(t, "the page", page)
	checkLegend(t, page)
	svgs := svgRE.FindAllString(page, -1)
	if got := lanes(svgs[1]); fmt.Sprint(got) != "[m1 m2 m3 m4 cluster]" {
		t.Errorf("lanes = %v", got)
	}
	for _, s := range []string{
		"Detail window: the last 4s", "m1 rev=3 &lt;vs&gt; m2 rev=4", "torn &lt;write&gt; &amp; &#34;more&#34;\nwal: size 10 -&gt; 5",
		"1 commits drawn; the 3000 applies are left out", "m2 down after crash (fault)\n0.200000s – 5.000000s",
		"m2 pause m2 for 2s\n0.100000s – 0.200000s", "cluster partition (1) (2 3); cut m1-&gt;m3\n0.350000s – 5.000000s",
		"t=0.400000s cluster crash: no member", "t=0.500000s m4 liveness: unknown kind", "3000 commits and applies are not listed",
	} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

func TestOptions(t *testing.T) {
	rep := &sim.Report{Config: sim.Config{Seed: 1}, Violation: &invariants.Violation{Name: invariants.Linearizable, Detail: "no order fits"}}
	if err := WriteHTML(io.Discard, rep, Options{Window: -time.Second}); err == nil {
		t.Error("a negative window is accepted")
	}
	if err := WriteHTML(io.Discard, nil, Options{}); err == nil {
		t.Error("a nil report is accepted")
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, rep, Options{LinearizabilityHTML: "file:///tmp/lin.html"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`href="file:///tmp/lin.html"`, "kept no timeline", `data-lane="m3"`} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("page lacks %q", s)
		}
	}
	b.Reset()
	if err := WriteHTML(&b, rep, Options{LinearizabilityHTML: "javascript:alert(1)"}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "javascript:") {
		t.Error("a javascript: link reaches the page")
	}
}

func TestAxis(t *testing.T) {
	for _, c := range []struct {
		span, step time.Duration
		label      string
	}{
		{time.Second, 100 * time.Millisecond, "0.1s"},
		{5 * time.Second, 500 * time.Millisecond, "0.5s"},
		{8 * time.Second, 500 * time.Millisecond, "0.5s"},
		{20 * time.Second, 2 * time.Second, "2s"},
		{90 * time.Second, 10 * time.Second, "10s"},
		{time.Hour, 5 * time.Minute, "300s"},
	} {
		step := axisStep(c.span)
		if step != c.step || axisLabel(step, step) != c.label {
			t.Errorf("span %v: step %v label %q, want %v %q", c.span, step, axisLabel(step, step), c.step, c.label)
		}
	}
}

// TestAnnotations: porcupine's rows are the page's fault bands: a member's
// down time from its crash mark to its restart, the network's states up to
// the liveness phase's heal, and the violation at its time.
func TestAnnotations(t *testing.T) {
	rep := runWorld(t, cleanConfig)
	var heal, liveness time.Duration
	for _, mk := range rep.Timeline {
		if mk.Kind == sim.MarkNet && mk.Detail == "heal" {
			heal = mk.At
		}
		if mk.Kind == sim.MarkPhase && strings.HasPrefix(mk.Detail, "liveness") {
			liveness = mk.At
		}
	}
	if liveness == 0 || heal != liveness {
		t.Fatalf("liveness phase at %v, last heal at %v: the liveness phase marks its heal", liveness, heal)
	}
	kinds := map[string]int{}
	for _, a := range Annotations(rep) {
		switch {
		case a.End < a.Start:
			t.Errorf("%+v ends before it starts", a)
		case (a.Tag == "partition" || a.Tag == "cut") && a.End > int64(heal):
			t.Errorf("%+v is still open after the liveness heal at %v", a, heal)
		}
		kind := a.Tag
		if strings.HasPrefix(kind, "m") {
			_, kind, _ = strings.Cut(kind, " ")
		}
		kinds[kind]++
	}
	if kinds["down"] == 0 || kinds["partition"]+kinds["cut"] == 0 {
		t.Errorf("clean run's annotations by kind: %v; want down and network windows", kinds)
	}
	var failing *sim.Report
	for cfg := failingConfig; cfg.Seed < failingConfig.Seed+200; cfg.Seed++ {
		if failing = runWorld(t, cfg); failing.Violation != nil {
			break
		}
	}
	notes := Annotations(failing)
	if last := notes[len(notes)-1]; failing.Violation == nil || last.Tag != "violation" || last.Start != int64(failing.At) ||
		!strings.HasPrefix(last.Description, string(failing.Violation.Name)+": ") {
		t.Errorf("failing run: last annotation %+v, violation %v at %v", last, failing.Violation, failing.At)
	}
}
