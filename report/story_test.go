package report

import (
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/invariants/linearizable"
	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/sim"
)

var (
	storyRE  = regexp.MustCompile(`(?s)<section class="story" id="story">.*?</section>`)
	chainRE  = regexp.MustCompile(`(?s)<ol class="chain" id="chain">.*?</ol>`)
	glyphRE  = regexp.MustCompile(`<g class="(?:[bpt] )?([a-z-]+)">`)
	legendRE = regexp.MustCompile(`data-legend="([a-z-]+)"`)
)

// storyOf returns the page's story block and its chain of events, and
// fails the test when either is missing.
func storyOf(t *testing.T, page string) (block, chain string) {
	t.Helper()
	block = storyRE.FindString(page)
	if block == "" {
		t.Fatal("the page has no story block")
	}
	chain = chainRE.FindString(block)
	if chain == "" {
		t.Fatalf("the story has no chain of events:\n%s", block)
	}
	return block, chain
}

// checkLegend requires a legend entry for every kind of mark the page's
// pictures draw, and for the lane the evidence names.
func checkLegend(t *testing.T, page string) {
	t.Helper()
	have := map[string]bool{}
	for _, m := range legendRE.FindAllStringSubmatch(page, -1) {
		have[m[1]] = true
	}
	used := map[string]bool{}
	for _, svg := range svgRE.FindAllString(page, -1) {
		for _, m := range glyphRE.FindAllStringSubmatch(svg, -1) {
			used[m[1]] = m[1] != "grid" && m[1] != "lanes" && m[1] != "axis" && m[1] != "lane"
		}
		used["accused"] = used["accused"] || strings.Contains(svg, `class="lanename accused"`)
	}
	for key, ok := range used {
		if ok && !have[key] {
			t.Errorf("the pictures draw %q marks, and the legend does not explain them", key)
		}
	}
	for key := range have {
		if !used[key] {
			t.Errorf("the legend explains %q, which no picture draws", key)
		}
	}
}

// authCITimeline is the end of auth-ci's seed 2, as its timeline has it:
// m1 applies entries 5..8 (the last a user-add), then a backend commit
// persists consistent index 7; before them, m1 crashed (with a torn
// write) and restarted.
func authCITimeline() []sim.Mark {
	ms := time.Millisecond
	apply := func(at time.Duration, index uint64, entry string) sim.Mark {
		return sim.Mark{At: at, Member: 1, Kind: sim.MarkApply, Index: index, Entry: entry, Detail: fmt.Sprintf("index %d %s ok rev=1", index, entry)}
	}
	return []sim.Mark{
		{At: 0, Member: 1, Kind: sim.MarkRole, Role: sim.RoleNone, Term: 1, Detail: "no leader term 1"},
		{At: 10 * ms, Member: 2, Kind: sim.MarkRole, Role: sim.RoleLeader, Term: 2, Detail: "leader term 2"},
		{At: 300 * ms, Member: 1, Kind: sim.MarkCrash, Detail: "fault"},
		{At: 300 * ms, Member: 1, Kind: sim.MarkDisk, Detail: "wal: torn write"},
		{At: 900 * ms, Member: 1, Kind: sim.MarkRestart, Detail: "restart from its crash image"},
		{At: 1000 * ms, Member: 1, Kind: sim.MarkCommit, Index: 4, Detail: "backend commit, consistent index 4"},
		apply(2029*ms, 5, "publish"), apply(2078*ms, 6, "publish"), apply(2081*ms, 7, "publish"), apply(2167*ms, 8, "user-add"),
		{At: 2200 * ms, Member: 1, Kind: sim.MarkCommit, Index: 7, Detail: "backend commit, consistent index 7"},
	}
}

// TestStoryOfABugMode: the top of a commit-atomicity failure of auth-ci
// tells what broke, the chain on the accused member (its crash, restart,
// applies and the backend commit with the index it persisted), what the
// invariant means, and the bug mode's issue and mechanism.
func TestStoryOfABugMode(t *testing.T) {
	bugs, _ := nodes.ParseBugs("auth-ci")
	v := &invariants.Violation{Name: invariants.CommitAtomicity, Member: 1, Detail: "m1 backend at consistent index 7: meta/auth/lease state differs from the reference (34cd vs 0)"}
	rep := &sim.Report{Config: sim.Config{Seed: 2, Members: 3, Bugs: bugs}, Timeline: authCITimeline(), Step: 1264, At: 2200 * time.Millisecond, End: 2200 * time.Millisecond, Violation: v}
	page := render(t, rep, Options{}, "")
	wellFormed(t, "the page", page)
	block, chain := storyOf(t, page)
	bug := nodes.Catalog()[0]
	if bug.Name != "auth-ci" {
		t.Fatalf("the catalog's first mode is %s", bug.Name)
	}
	for _, s := range []string{
		template.HTMLEscapeString(v.Detail), "on m1 at step 1264", invariants.CommitAtomicity.Description(),
		">auth-ci<", template.HTMLEscapeString(bug.Issue), template.HTMLEscapeString(bug.Mechanism),
	} {
		if !strings.Contains(block, s) {
			t.Errorf("the story lacks %q:\n%s", s, block)
		}
	}
	for _, s := range []string{
		"crashed (fault); its crash image: wal: torn write", "restarted from its crash image",
		"backend commit persisted consistent index 4", "applied indexes 5–8 (publish, user-add)",
		"backend commit persisted consistent index 7 (it had applied up to index 8)",
	} {
		if !strings.Contains(chain, s) {
			t.Errorf("the chain lacks %q:\n%s", s, chain)
		}
	}
	if strings.Index(chain, "index 4") > strings.Index(chain, "index 7") {
		t.Error("the chain is not in time order")
	}
	checkLegend(t, page)
}

// TestStoryOfTheCorrectModel: a failure of the correct model says that no
// bug mode was on, and names no historical bug.
func TestStoryOfTheCorrectModel(t *testing.T) {
	v := &invariants.Violation{Name: invariants.RestartClean, Member: 1, Detail: "m1 cannot restart from its crash image: torn"}
	rep := &sim.Report{Config: sim.Config{Seed: 2, Members: 3}, Timeline: authCITimeline(), At: 2200 * time.Millisecond, Violation: v}
	block, _ := storyOf(t, render(t, rep, Options{}, ""))
	rep.Violation.Member = 3 // a member with no marks
	if page := render(t, rep, Options{}, ""); !strings.Contains(page, "crashes and restarts before the violation: the timeline has none.") {
		t.Error("an empty chain is not said to be empty")
	}
	if !strings.Contains(block, "No bug mode") || strings.Contains(block, "The bug mode") || !strings.Contains(block, invariants.RestartClean.Description()) {
		t.Errorf("the correct model's story:\n%s", block)
	}
}

// staleRead is a linearizability failure at the end of a 60 s run whose
// evidence names a put at m2 and a later range at m1 near 23.5 s, while a
// partition cut m1 off and m2 led a newer term.
func staleRead(t *testing.T) *sim.Report {
	t.Helper()
	s, ms := time.Second, time.Millisecond
	put := sim.Op{Proc: 113, Member: 2, Req: &nodes.Request{Kind: nodes.KindPut, Key: []byte("k11"), Value: []byte("v768")},
		Call: 23340 * ms, Return: 23346 * ms, Result: nodes.Result{Rev: 341}}
	get := sim.Op{Proc: 115, Member: 1, Req: &nodes.Request{Kind: nodes.KindRange, Key: []byte("k04")},
		Call: 23710 * ms, Return: 23712 * ms, Result: nodes.Result{Rev: 340}}
	history := []sim.Op{put, get}
	lops := []linearizable.Op{
		{ClientID: put.Proc, Call: int64(put.Call), Return: int64(put.Return), Req: put.Req, Result: put.Result},
		{ClientID: get.Proc, Call: int64(get.Call), Return: int64(get.Return), Req: get.Req, Result: get.Result},
	}
	res := linearizable.Check(lops, linearizable.Budget{})
	if res.OK {
		t.Fatal("the stale read passed the check")
	}
	tl := []sim.Mark{
		{At: 4812 * ms, Member: 1, Kind: sim.MarkRole, Role: sim.RoleLeader, Term: 3, Detail: "leader term 3"},
		{At: 21820 * ms, Kind: sim.MarkNet, Net: sim.NetPartition, State: "(1) (2 3)", Detail: "partition (1) (2 3)"},
		{At: 23312 * ms, Member: 2, Kind: sim.MarkRole, Role: sim.RoleLeader, Term: 4, Detail: "leader term 4"},
		{At: 23800 * ms, Member: 1, Kind: sim.MarkRole, Role: sim.RoleNone, Term: 3, Detail: "no leader term 3"},
		{At: 28580 * ms, Kind: sim.MarkNet, Net: sim.NetHeal, Detail: "heal"},
		{At: 59 * s, Member: 3, Kind: sim.MarkApply, Index: 9, Entry: "put", Detail: "index 9 put ok rev=9"},
	}
	return &sim.Report{Config: sim.Config{Seed: 9, Members: 3, Bugs: nodes.Bugs{StaleRead: true}}, Timeline: tl, History: history,
		Step: 39032, At: 60200 * ms, End: 60200 * ms, Violation: &invariants.Violation{Name: invariants.Linearizable, Detail: res.Detail}}
}

// TestWindowOnTheEvidence: the detail window of a linearizability failure
// is centred on the requests its evidence names, not on the end of the
// run where the check ran; they are drawn there, on their members' lanes,
// and the chain names them with the partition and the leaders around them.
func TestWindowOnTheEvidence(t *testing.T) {
	rep := staleRead(t)
	page := render(t, rep, Options{LinearizabilityHTML: "history.html"}, "")
	wellFormed(t, "the page", page)
	mid := (rep.History[0].Call + rep.History[1].Return) / 2
	span := sim.FormatTime(mid-DefaultWindow/2) + " – " + sim.FormatTime(mid+DefaultWindow/2)
	if !strings.Contains(page, "Detail window around the requests the evidence names, "+span) {
		t.Errorf("the detail window is not %s, centred on the evidence", span)
	}
	svgs := svgRE.FindAllString(page, -1)
	if len(svgs) != 2 {
		t.Fatalf("want an overview and a detail picture, got %d", len(svgs))
	}
	if strings.Contains(svgs[1], `class="viol"`) {
		t.Error("the detail window draws the violation at the end of the run")
	}
	for _, s := range []string{"c113 put k11=v768", "c115 range k04"} {
		if !strings.Contains(svgs[1], s) {
			t.Errorf("the detail picture does not name the request %q", s)
		}
	}
	_, chain := storyOf(t, page)
	for _, s := range []string{"c113 → m2</b> put k11=v768 → ok rev=341", "c115 → m1</b> range k04 → ok rev=340",
		"partition (1) (2 3) until 28.580000s", "m1</b> leader of term 3 until 23.800000s", "m2</b> leader of term 4 until the end"} {
		if !strings.Contains(chain, s) {
			t.Errorf("the chain lacks %q:\n%s", s, chain)
		}
	}
	if !strings.Contains(page, `href="history.html"`) {
		t.Error("a linearizability failure does not link to porcupine's page")
	}
	checkLegend(t, page)
}

// TestWindowOfACorpusSeed: the same on the first linearizability seed of
// the corpus, run for real.
func TestWindowOfACorpusSeed(t *testing.T) {
	files, _ := filepath.Glob("../seeds/*.seed")
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil || !strings.Contains(string(text), "expect: fail:linearizable") {
			continue
		}
		sf, err := sim.ParseSeedFile(string(text))
		if err != nil {
			t.Fatal(err)
		}
		cfg := sf.Config
		cfg.Timeline = true
		rep := runWorld(t, cfg)
		ops := rep.EvidenceOps()
		if len(ops) == 0 {
			t.Fatalf("%s: the evidence names no request of the history", f)
		}
		file := "seeds/" + filepath.Base(f) // as from the repository's root
		page := render(t, rep, Options{LinearizabilityHTML: "history.html", Replay: "go run ./cmd/etcdsim replay " + file + " -v",
			Shrink: ShrinkCommands(rep, "go run ./cmd/etcdsim", file)}, *linFile)
		m := regexp.MustCompile(`Detail window around the requests the evidence names, ([0-9.]+)s – ([0-9.]+)s`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s: the detail window is not centred on the evidence", f)
		}
		from, _ := time.ParseDuration(m[1] + "s")
		to, _ := time.ParseDuration(m[2] + "s")
		for _, o := range ops {
			if o.Call < from || o.Call > to+time.Millisecond {
				t.Errorf("%s: request called at %v is outside the window %v – %v", f, o.Call, from, to)
			}
		}
		checkLegend(t, page)
		return
	}
	t.Skip("no linearizability seed in the corpus")
}

// TestShortRunDrawnOnce: a failing run no longer than the detail window is
// drawn once, with its commits and applies, not twice.
func TestShortRunDrawnOnce(t *testing.T) {
	v := &invariants.Violation{Name: invariants.CommitAtomicity, Member: 1, Detail: "m1 backend at consistent index 7"}
	rep := &sim.Report{Config: sim.Config{Seed: 2, Members: 3}, Timeline: authCITimeline(), At: 2200 * time.Millisecond, End: 2200 * time.Millisecond, Violation: v}
	page := render(t, rep, Options{}, "")
	svgs := svgRE.FindAllString(page, -1)
	if len(svgs) != 1 {
		t.Fatalf("a run shorter than the window is drawn %d times", len(svgs))
	}
	for _, s := range []string{`class="t t-apply"`, `class="t t-commit"`, `class="viol"`} {
		if !strings.Contains(svgs[0], `<g `+s) {
			t.Errorf("the one picture lacks %s", s)
		}
	}
	if strings.Contains(page, "Detail window") || strings.Contains(page, `class="win"`) {
		t.Error("a run shorter than the window has a detail window")
	}
	if !strings.Contains(page, "drawn once") {
		t.Error("the picture does not say why it is the only one")
	}
}

// TestNoPorcupineLink: only a linearizability failure links to porcupine's
// page of the history, whatever the options say.
func TestNoPorcupineLink(t *testing.T) {
	rep := staleRead(t)
	rep.Violation = &invariants.Violation{Name: invariants.EqualRevisions, Member: 1, Detail: "m1 at index 9: rev=3"}
	page := render(t, rep, Options{LinearizabilityHTML: "history.html"}, "")
	if strings.Contains(page, "history.html") || strings.Contains(page, "porcupine") {
		t.Error("an equal-revisions failure links to porcupine's page")
	}
	if strings.Contains(page, "around the requests the evidence names") {
		t.Error("an equal-revisions failure is centred on requests")
	}
}

// TestLivenessChain: a liveness failure's chain is what each member was
// doing at the end.
func TestLivenessChain(t *testing.T) {
	s := time.Second
	tl := []sim.Mark{
		{At: 0, Member: 1, Kind: sim.MarkRole, Role: sim.RoleFollower, Term: 2, Detail: "follower term 2"},
		{At: 0, Member: 2, Kind: sim.MarkRole, Role: sim.RoleNone, Term: 2, Detail: "no leader term 2"},
		{At: 5 * s, Member: 2, Kind: sim.MarkCrash, Detail: "fault"},
		{At: 50 * s, Kind: sim.MarkPhase, State: "liveness", Detail: "liveness phase: faults stop, everything heals"},
		{At: 50 * s, Kind: sim.MarkNet, Net: sim.NetHeal, Detail: "heal"},
	}
	rep := &sim.Report{Config: sim.Config{Seed: 1, Members: 2}, Timeline: tl, At: 70 * s, End: 70 * s,
		Violation: &invariants.Violation{Name: invariants.Liveness, Detail: "after 20s of healing: no leader"}}
	_, chain := storyOf(t, render(t, rep, Options{}, ""))
	for _, s := range []string{"m1</b> follows a leader in term 2 until the end", "m2</b> down after crash (fault) until the end", "liveness phase: faults stop, everything heals until the end"} {
		if !strings.Contains(chain, s) {
			t.Errorf("the chain lacks %q:\n%s", s, chain)
		}
	}
}

// TestShrinkCommands: shrink reads a seed file: the run's own, or the one
// a swarm of its seed writes, named as swarm --out names it.
func TestShrinkCommands(t *testing.T) {
	bugs, _ := nodes.ParseBugs("auth-ci")
	rep := &sim.Report{Config: sim.Config{Seed: 2, Bugs: bugs, Members: 5}}
	if got := ShrinkCommands(rep, "etcdsim", "x/auth-ci-2.seed"); fmt.Sprint(got) != "[etcdsim shrink x/auth-ci-2.seed]" {
		t.Errorf("with a seed file: %q", got)
	}
	got := ShrinkCommands(rep, "etcdsim", "")
	if len(got) != 2 || !strings.HasPrefix(got[0], "etcdsim swarm --seeds 2..2 --bug auth-ci --members 5") ||
		!strings.HasSuffix(got[0], " --out out/seeds") || got[1] != "etcdsim shrink out/seeds/auth-ci-2.seed" {
		t.Errorf("without a seed file: %q", got)
	}
	rep.Config.Bugs = nodes.Bugs{}
	if got := ShrinkCommands(rep, "etcdsim", ""); got[1] != "etcdsim shrink out/seeds/none-2.seed" {
		t.Errorf("the correct model: %q", got)
	}
	rep.Violation = &invariants.Violation{Name: invariants.Liveness}
	page := render(t, rep, Options{Shrink: []string{"etcdsim shrink f.seed"}, Replay: "etcdsim replay f.seed -v"}, "")
	next := regexp.MustCompile(`(?s)<section id="next">.*?</section>`).FindString(page)
	if !strings.Contains(next, "etcdsim shrink f.seed") || !strings.Contains(next, "etcdsim replay f.seed -v") {
		t.Errorf("the page does not end with the shrink and replay commands:\n%s", next)
	}
}

// TestAckedChain: an acknowledgement that was not durable is told by the
// acknowledging member's applies and the other members' crashes and
// restarts, which lost what they had not synced.
func TestAckedChain(t *testing.T) {
	ms := time.Millisecond
	tl := []sim.Mark{
		{At: 100 * ms, Member: 2, Kind: sim.MarkCrash, Detail: "fault"},
		{At: 200 * ms, Member: 1, Kind: sim.MarkApply, Index: 4, Entry: "put", Detail: "index 4 put ok rev=2"},
		{At: 300 * ms, Member: 3, Kind: sim.MarkCrash, Detail: "fault"},
		{At: 400 * ms, Member: 2, Kind: sim.MarkRestart, Detail: "restart from its crash image"},
	}
	rep := &sim.Report{Config: sim.Config{Seed: 1, Members: 3}, Timeline: tl, At: 500 * ms, End: 500 * ms,
		Violation: &invariants.Violation{Name: invariants.AckedDurable, Member: 1, Detail: "m1 acknowledged index 4 (term 2) durable on 1 of 3 voters"}}
	_, chain := storyOf(t, render(t, rep, Options{}, ""))
	want := []string{"m2</b> crashed (fault)", "m1</b> applied index 4 (put)", "m3</b> crashed (fault)", "m2</b> restarted"}
	last := -1
	for _, s := range want {
		i := strings.Index(chain, s)
		if i < 0 || i < last {
			t.Errorf("the chain lacks %q, or not in time order:\n%s", s, chain)
		}
		last = i
	}
}
