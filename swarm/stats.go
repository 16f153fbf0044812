package swarm

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/etcdsim/etcdsim/sim"
)

// Summary accumulates the statistics of a swarm (or of merged shards):
// the detection rate, the time to the first violation, which invariants
// fired, and which fault kinds the failing seeds had. Results are added
// in seed order; nothing it prints depends on map order.
type Summary struct {
	Seeds, Failing int // results added, and those of failing seeds

	configs       map[string]int // bug, members, duration, rate, workload
	invariants    map[string]int
	kindFail      map[string]int // fault kind -> failing seeds with it
	kindPass      map[string]int // fault kind -> passing seeds with it
	simMs, wallMs []float64      // failing seeds (sim: not worker crashes)
	// First are the first FirstFailing failing results, in the order added.
	First []Result
	// churn worlds: each seed's completed membership changes and snapshot
	// installs into members added at runtime; the operator's completed
	// operations and the simulated time they ran in; every completed
	// replace's duration (ms)
	changes, installs []float64
	operations        uint64
	churnMs           float64
	replaceMs         []float64
	// Coverage is the coverage probes of the results.
	Coverage Coverage
}

// FirstFailing is how many failing results a Summary keeps to name.
const FirstFailing = 10

// Add counts one more result.
func (s *Summary) Add(r Result) {
	if s.configs == nil {
		s.configs, s.invariants = map[string]int{}, map[string]int{}
		s.kindFail, s.kindPass = map[string]int{}, map[string]int{}
	}
	s.Seeds++
	s.Coverage.Add(r)
	s.configs[fmt.Sprintf("bug=%s members=%d duration=%s rate=%d workload=%s", r.Bug, r.Members, r.Duration, r.Rate, r.Workload)]++
	kinds := s.kindPass
	if r.Invariant != "" {
		s.Failing++
		s.invariants[r.Invariant]++
		if len(s.First) < FirstFailing {
			s.First = append(s.First, r)
		}
		kinds = s.kindFail
		s.wallMs = append(s.wallMs, r.WallMs)
		if !r.WorkerCrash {
			s.simMs = append(s.simMs, r.SimMs)
		}
	}
	for _, k := range r.FaultKinds {
		kinds[k]++
	}
	if r.Churn != 0 && !r.WorkerCrash {
		s.changes = append(s.changes, float64(r.MemberChanges))
		s.installs = append(s.installs, float64(r.NewInstalls))
		s.operations += r.Operations
		s.churnMs += r.SimMs
		s.replaceMs = append(s.replaceMs, r.ReplaceMs...)
	}
}

// Wilson returns the Wilson score interval of k successes in n trials at
// the given confidence (0.95 for 95%); [0, 1] when n is 0.
func Wilson(k, n int, confidence float64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	z := distuv.UnitNormal.Quantile(1 - (1-confidence)/2)
	p, nf := float64(k)/float64(n), float64(n)
	d := 1 + z*z/nf
	center := (p + z*z/(2*nf)) / d
	half := z / d * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return math.Max(0, center-half), math.Min(1, center+half)
}

// Quantiles returns the median and the 90th percentile of xs, which it
// leaves unsorted. They are empirical: each is a value that occurred, the
// smallest x with at least half (nine tenths) of xs at or below it, so the
// median of an even count is the lower of the middle two.
func Quantiles(xs []float64) (median, p90 float64) {
	x := slices.Clone(xs)
	sort.Float64s(x)
	return stat.Quantile(0.5, stat.Empirical, x, nil), stat.Quantile(0.9, stat.Empirical, x, nil)
}

// pct returns k of n as a percentage and the count, "-" when n is 0.
func pct(k, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%% (%d)", 100*float64(k)/float64(n), k)
}

// fmtMs returns milliseconds as ms below a second, else as seconds.
func fmtMs(v float64) string {
	if v < 1000 {
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.3fs", v/1000)
}

// Write prints the summary as a compact aligned table: seeds per world,
// the detection rate with its 95% Wilson interval and, when a seed failed,
// the median and p90 time to the first violation (simulated and wall),
// the invariants that fired and each fault kind's share of the failing
// and of the passing seeds.
func (s *Summary) Write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	for _, c := range sortedKeys(s.configs) {
		fmt.Fprintf(tw, "seeds\t%d\t%s\n", s.configs[c], strings.Replace(c, " duration=", "\n\t\tduration=", 1))
	}
	if s.Seeds == 0 {
		fmt.Fprintf(tw, "seeds\t0\n")
		return
	}
	lo, hi := Wilson(s.Failing, s.Seeds, 0.95)
	fmt.Fprintf(tw, "failing\t%d\tdetection rate %.1f%%, 95%% CI [%.1f%%, %.1f%%] (Wilson)\n",
		s.Failing, 100*float64(s.Failing)/float64(s.Seeds), 100*lo, 100*hi)
	if len(s.changes) > 0 {
		mc, pc := Quantiles(s.changes)
		mi, pi := Quantiles(s.installs)
		fmt.Fprintf(tw, "membership per seed\tmedian\tp90\n")
		fmt.Fprintf(tw, "  changes completed\t%.0f\t%.0f\n", mc, pc)
		fmt.Fprintf(tw, "  snapshot installs into new members\t%.0f\t%.0f\n", mi, pi)
		if len(s.replaceMs) > 0 {
			mr, pr := Quantiles(s.replaceMs)
			fmt.Fprintf(tw, "  replace duration (%d replaces)\t%s\t%s\n", len(s.replaceMs), fmtMs(mr), fmtMs(pr))
		}
		if s.churnMs > 0 {
			fmt.Fprintf(tw, "  operations per 100 simulated s\t%.2f\n", float64(s.operations)/s.churnMs*1e5)
		}
	}
	if s.Failing == 0 {
		return
	}
	fmt.Fprintf(tw, "time to first violation\tmedian\tp90\n")
	if len(s.simMs) > 0 {
		m, p := Quantiles(s.simMs)
		fmt.Fprintf(tw, "  simulated\t%s\t%s\n", fmtMs(m), fmtMs(p))
	}
	m, p := Quantiles(s.wallMs)
	fmt.Fprintf(tw, "  wall\t%s\t%s\n", fmtMs(m), fmtMs(p))
	fmt.Fprintf(tw, "invariant\tseeds\n")
	for _, inv := range s.byCount() {
		fmt.Fprintf(tw, "  %s\t%d\n", inv, s.invariants[inv])
	}
	fmt.Fprintf(tw, "fault kind\tin failing\tin passing\n")
	for _, k := range s.kinds() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", k, pct(s.kindFail[k], s.Failing), pct(s.kindPass[k], s.Seeds-s.Failing))
	}
}

// byCount returns the invariants that fired, most seeds first (ties by name).
func (s *Summary) byCount() []string {
	invs := sortedKeys(s.invariants)
	sort.SliceStable(invs, func(i, j int) bool { return s.invariants[invs[i]] > s.invariants[invs[j]] })
	return invs
}

// kinds returns the fault kinds seen, in the fault line's stable order
// (kinds this build does not know last, by name).
func (s *Summary) kinds() []string {
	order := map[string]int{}
	for i, k := range sim.FaultNames() {
		order[k] = i
	}
	seen := map[string]bool{}
	for k := range s.kindFail {
		seen[k] = true
	}
	for k := range s.kindPass {
		seen[k] = true
	}
	out := sortedKeys(seen)
	sort.SliceStable(out, func(i, j int) bool {
		oi, iok := order[out[i]]
		oj, jok := order[out[j]]
		if iok != jok {
			return iok
		}
		return iok && oi < oj
	})
	return out
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
