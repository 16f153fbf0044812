package swarm

import (
	"bytes"
	"math"
	"slices"
	"testing"
)

// TestWilsonInterval checks the 95% interval against values worked out by
// hand from the Wilson formula with z = 1.959963985 (for 0 of n its upper
// end is z²/(n+z²)).
func TestWilsonInterval(t *testing.T) {
	for _, tc := range []struct {
		k, n   int
		lo, hi float64
	}{
		{0, 10, 0, 0.2775328},
		{5, 10, 0.2365931, 0.7634069},
		{10, 10, 0.7224672, 1},
		{36, 100, 0.2727122, 0.4576460},
		{1, 1000, 0.0001765, 0.0056426},
		{0, 1000, 0, 0.0038268},
		{521, 1000, 0.4900164, 0.5518228},
		{1000, 1000, 0.9961732, 1},
		{1, 2, 0.0945312, 0.9054688},
		{0, 0, 0, 1},
	} {
		lo, hi := Wilson(tc.k, tc.n, 0.95)
		if math.Abs(lo-tc.lo) > 1e-6 || math.Abs(hi-tc.hi) > 1e-6 {
			t.Errorf("Wilson(%d, %d) = [%.7f, %.7f], want [%.7f, %.7f]", tc.k, tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
}

// TestQuantiles: the median of an odd count is the middle value, of an
// even count the lower middle one (empirical quantiles are values that
// occurred); the p90 is the smallest value with 90% at or below it.
func TestQuantiles(t *testing.T) {
	for _, tc := range []struct {
		xs        []float64
		median, p float64
	}{
		{[]float64{9, 1, 8, 2, 7, 3, 6, 4, 5, 10}, 5, 9},
		{[]float64{7}, 7, 7},
		{[]float64{3, 1, 2}, 2, 3},
		{[]float64{40, 10, 30, 20}, 20, 40},
		{[]float64{2.5, 0.5}, 0.5, 2.5},
		{[]float64{5, 1, 5, 1, 3}, 3, 5},
	} {
		in := slices.Clone(tc.xs)
		m, p := Quantiles(tc.xs)
		if m != tc.median || p != tc.p {
			t.Errorf("Quantiles(%v) = %v, %v; want %v, %v", in, m, p, tc.median, tc.p)
		}
		if !slices.Equal(in, tc.xs) {
			t.Errorf("Quantiles sorted its argument: %v", tc.xs)
		}
	}
}

func TestSummaryText(t *testing.T) {
	res := func(seed uint64, inv string, simMs, wallMs float64, kinds ...string) Result {
		r := Result{Seed: seed, Members: 3, Duration: "20s", Rate: 100, Workload: "default", Bug: "auth-ci", Invariant: inv, SimMs: simMs, WallMs: wallMs, FaultKinds: kinds}
		return r
	}
	var s Summary
	for _, r := range []Result{
		res(1, "", 20000, 10, "crash"),
		res(2, "commit-atomicity", 1500, 3, "crash", "disk.torn_write"),
		res(3, "equal-revisions", 2500, 4, "disk.torn_write"),
		res(4, "commit-atomicity", 3500, 5, "crash", "disk.torn_write"),
		res(5, "", 20000, 10),
	} {
		s.Add(r)
	}
	var b bytes.Buffer
	s.Write(&b)
	want := `seeds                    5       bug=auth-ci members=3
                                 duration=20s rate=100 workload=default
failing                  3       detection rate 60.0%, 95% CI [23.1%, 88.2%] (Wilson)
time to first violation  median  p90
  simulated              2.500s  3.500s
  wall                   4.0ms   5.0ms
invariant                seeds
  commit-atomicity       2
  equal-revisions        1
fault kind               in failing  in passing
  disk.torn_write        100.0% (3)  0.0% (0)
  crash                  66.7% (2)   50.0% (1)
`
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
	if s.Seeds != 5 || s.Failing != 3 {
		t.Errorf("%d seeds, %d failing; want 5 and 3", s.Seeds, s.Failing)
	}
}
