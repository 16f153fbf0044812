package sim

import (
	"flag"
	"fmt"
	"sort"
	"testing"
	"time"
)

var (
	flagSoakSeeds    = flag.Int("soak.seeds", 100, "seeds per cluster size in TestSoak")
	flagSoakMembers  = flag.String("soak.members", "1,3,5", "cluster sizes of TestSoak")
	flagSoakDuration = flag.Duration("soak.duration", 60*time.Second, "simulated time of each TestSoak world")
)

// TestSoak runs the correct model over many seeds with each seed's swarm
// of in-model faults, and requires zero violations. It reports the median
// work per run, so that a clean result is not a quiet world.
func TestSoak(t *testing.T) {
	var sizes []int
	for _, f := range splitComma(*flagSoakMembers) {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil {
			t.Fatalf("bad -soak.members %q", *flagSoakMembers)
		}
		sizes = append(sizes, n)
	}
	seeds := *flagSoakSeeds
	if testing.Short() {
		seeds = min(seeds, 20)
	}
	for _, n := range sizes {
		var runs []Stats
		for s := 1; s <= seeds; s++ {
			rep, err := Run(Config{Seed: uint64(s), Members: n, Duration: *flagSoakDuration})
			if err != nil {
				t.Fatal(err)
			}
			if v := rep.Violation; v != nil {
				t.Fatalf("FAIL %s at step %d t=%s: %s\nreplay: %s", v.Name, rep.Step, FormatTime(rep.At), v.Detail, rep.ReplayLine())
			}
			runs = append(runs, rep.Stats)
		}
		t.Logf("members=%d seeds=%d clean; median per run: %s", n, seeds, medians(runs))
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// medians prints the median of each count over the runs.
func medians(runs []Stats) string {
	med := func(get func(Stats) uint64) uint64 {
		v := make([]uint64, len(runs))
		for i, r := range runs {
			v[i] = get(r)
		}
		sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
		return v[len(v)/2]
	}
	return fmt.Sprintf("committed=%d acked=%d crashes=%d restarts=%d backend-commits=%d leader-changes=%d partitions=%d failpoint-crashes=%d timeouts=%d snapshots=%d installs=%d compactions=%d defrags=%d",
		med(func(s Stats) uint64 { return s.Committed }), med(func(s Stats) uint64 { return s.Acked }),
		med(func(s Stats) uint64 { return s.Crashes }), med(func(s Stats) uint64 { return s.Restarts }),
		med(func(s Stats) uint64 { return s.Commits }), med(func(s Stats) uint64 { return s.LeaderChanges }),
		med(func(s Stats) uint64 { return s.Partitions }), med(func(s Stats) uint64 { return s.Failpoints }),
		med(func(s Stats) uint64 { return s.Timeouts }), med(func(s Stats) uint64 { return s.Snapshots }),
		med(func(s Stats) uint64 { return s.Installs }), med(func(s Stats) uint64 { return s.Compactions }),
		med(func(s Stats) uint64 { return s.Defrags }))
}
