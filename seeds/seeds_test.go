package seeds

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/sim"
)

var (
	generate = flag.Bool("generate", false, "search seeds for every bug mode and rewrite the corpus")
	perMode  = flag.Int("generate.count", 3, "seeds to record per bug mode")
	maxSeed  = flag.Uint64("generate.max", 400, "highest seed to try per bug mode")
)

func files(t *testing.T) []string {
	names, err := filepath.Glob("*.seed")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// TestSeeds replays the corpus.
func TestSeeds(t *testing.T) {
	names := files(t)
	if len(names) == 0 {
		t.Fatal("no seed files")
	}
	for _, name := range names {
		t.Run(strings.TrimSuffix(name, ".seed"), func(t *testing.T) {
			t.Parallel()
			replay(t, name)
		})
	}
}

func replay(t *testing.T, name string) {
	text, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	sf, err := sim.ParseSeedFile(string(text))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if note := sf.FormatNote(); note != "" {
		t.Fatalf("%s: %s", name, note)
	}
	rep := run(t, sf.Config)
	if got := rep.Outcome(); !sf.Matches(rep) {
		t.Fatalf("%s: got %s at step %d trace %016x; recorded %s at step %d trace %016x (if the model changed on purpose: make seeds)\n%s",
			name, got, rep.Step, rep.TraceHash, sf.Expect, sf.Step, sf.Trace, detail(rep))
	}
	if sf.Config.Bugs == (nodes.Bugs{}) {
		return
	}
	clean := sf.Config
	clean.Bugs = nodes.Bugs{}
	if rep := run(t, clean); rep.Violation != nil {
		t.Fatalf("%s: with the bug mode off the seed still fails: %s", name, detail(rep))
	}
}

func run(t *testing.T, cfg sim.Config) *sim.Report {
	rep, err := sim.Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func detail(rep *sim.Report) string {
	if v := rep.Violation; v != nil {
		return fmt.Sprintf("FAIL %s: %s\nreplay: %s", v.Name, v.Detail, rep.ReplayLine())
	}
	return "PASS"
}

// TestGenerate searches seeds for each bug mode and rewrites the corpus.
func TestGenerate(t *testing.T) {
	if !*generate {
		t.Skip("run with -generate to search seeds and rewrite the corpus")
	}
	for _, old := range files(t) {
		os.Remove(old)
	}
	for _, m := range sim.BugWorlds() {
		if m.Bug == "none" {
			continue
		}
		found := 0
		for _, seed := range candidates(m) {
			if found == *perMode {
				break
			}
			cfg := m.Config(seed)
			rep := run(t, cfg)
			if rep.Violation == nil {
				continue
			}
			clean := cfg
			clean.Bugs = nodes.Bugs{}
			if run(t, clean).Violation != nil {
				continue
			}
			found++
			how := "found searching from seed 1"
			if slices.Contains(m.Known, seed) {
				how = "reported for the mode"
			}
			desc := fmt.Sprintf("%s: the %s failing seed, %s (make seeds)\n%s", m.Bug, ordinal(found), how, rep.Violation.Detail)
			sf := sim.NewSeedFile(rep, desc)
			name := fmt.Sprintf("%s-%d.seed", m.Bug, seed)
			if err := os.WriteFile(name, []byte(sf.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s at step %d", name, rep.Outcome(), rep.Step)
		}
		switch {
		case found == 0 && m.Scenario != "":
			t.Logf("%s: no failing seed in 1..%d, none recorded; the mode is reproduced by its scenario %s, not by seeds",
				m.Bug, *maxSeed, m.Scenario)
		case found < *perMode && len(m.Known) == 0 && m.Scenario == "":
			t.Errorf("%s: only %d failing seeds in 1..%d", m.Bug, found, *maxSeed)
		}
	}
}

// candidates are the seeds to try for a mode: those reported for it,
// then 1..generate.max.
func candidates(m sim.BugWorld) []uint64 {
	out := append([]uint64{}, m.Known...)
	for seed := uint64(1); seed <= *maxSeed; seed++ {
		out = append(out, seed)
	}
	return out
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "first"
	case 2:
		return "second"
	case 3:
		return "third"
	}
	return fmt.Sprintf("%dth", n)
}

var coverageSeeds = flag.Uint64("generate.coverage", 200, "default seeds to search for the first to hit each rare probe")

// TestGenerateCoverage keeps, for each coverage probe that at most one
// default seed in twenty hits, the first seed of 1..generate.coverage that
// hits it, as a passing seed file (coverage-N.seed): the corpus then
// replays the rare states the swarm reached, and the correct model must
// stay clean in them. It runs after TestGenerate (make seeds).
func TestGenerateCoverage(t *testing.T) {
	if !*generate {
		t.Skip("run with -generate to search seeds and rewrite the corpus")
	}
	world := sim.BugWorlds()[0] // the correct model in the default world
	var first [nodes.NumProbes]uint64
	var seeds [nodes.NumProbes]uint64
	reps := map[uint64]*sim.Report{}
	for seed := uint64(1); seed <= *coverageSeeds; seed++ {
		rep := run(t, world.Config(seed))
		for p, n := range rep.Probes {
			if n > 0 {
				seeds[p]++
				if first[p] == 0 {
					first[p], reps[seed] = seed, rep
				}
			}
		}
	}
	kept := map[uint64][]string{}
	for _, p := range nodes.Probes() {
		if s := first[p]; s != 0 && seeds[p]*20 <= *coverageSeeds && reps[s].Violation == nil {
			kept[s] = append(kept[s], p.String())
		}
	}
	for _, seed := range slices.Sorted(maps.Keys(kept)) {
		desc := fmt.Sprintf("coverage: the first default seed in 1..%d to hit %s (make seeds)",
			*coverageSeeds, strings.Join(kept[seed], ", "))
		name := fmt.Sprintf("coverage-%d.seed", seed)
		if err := os.WriteFile(name, []byte(sim.NewSeedFile(reps[seed], desc).String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", name, strings.Join(kept[seed], ", "))
	}
}
