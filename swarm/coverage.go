package swarm

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/sim"
)

// ProbeHits is what a swarm saw of one coverage probe: the seeds that hit
// it, its hits over all of them, and the first seed that hit it.
type ProbeHits struct {
	Probe nodes.Probe
	Seeds int
	Hits  uint64
	First uint64 // 0: never hit
}

// Coverage accumulates the coverage probes of a swarm's results (a
// result's Probes), in seed order; seeds of other worlds count alike.
type Coverage struct {
	Seeds int
	hits  [nodes.NumProbes]ProbeHits
}

// Add counts the probes of one result.
func (c *Coverage) Add(r Result) {
	c.Seeds++
	for name, n := range r.Probes {
		p, ok := nodes.ParseProbe(name)
		if !ok || n == 0 {
			continue // a probe this build does not know
		}
		h := &c.hits[p]
		if h.Seeds == 0 {
			h.First = r.Seed
		}
		h.Seeds++
		h.Hits += uint64(n)
	}
}

// Probes returns every probe this build knows with what the swarm saw of
// it, in the probes' stable order.
func (c *Coverage) Probes() []ProbeHits {
	var out []ProbeHits
	for _, p := range nodes.Probes() {
		h := c.hits[p]
		h.Probe = p
		out = append(out, h)
	}
	return out
}

// Hits returns what the swarm saw of probe p.
func (c *Coverage) Hits(p nodes.Probe) ProbeHits {
	h := c.hits[p]
	h.Probe = p
	return h
}

// Rarest returns the n probes hit by the fewest seeds (at least one), the
// fewest first, ties in stable order.
func (c *Coverage) Rarest(n int) []ProbeHits {
	var hit []ProbeHits
	for _, h := range c.Probes() {
		if h.Seeds > 0 {
			hit = append(hit, h)
		}
	}
	sort.SliceStable(hit, func(i, j int) bool { return hit[i].Seeds < hit[j].Seeds })
	return hit[:min(n, len(hit))]
}

// Missed returns the probes no seed hit, in stable order; with required,
// only those nodes.Required marks.
func (c *Coverage) Missed(required bool) []nodes.Probe {
	var out []nodes.Probe
	for _, h := range c.Probes() {
		if h.Seeds == 0 && (!required || nodes.Required(h.Probe)) {
			out = append(out, h.Probe)
		}
	}
	return out
}

// WriteSummary prints how many probes the swarm hit, the required ones it
// missed, and the ten rarest with their rates.
func (c *Coverage) WriteSummary(w io.Writer) {
	all := c.Probes()
	missed, req := c.Missed(false), c.Missed(true)
	// Required means required of the default 3-member swarm: a world of one
	// member, say, sends no snapshots and so misses the snap/ ones rightly.
	fmt.Fprintf(w, "coverage: %d of %d probes hit in %d seeds; %d of those the default 3-member swarm must hit missed\n",
		len(all)-len(missed), len(all), c.Seeds, len(req))
	for _, p := range req {
		fmt.Fprintf(w, "  missed (required of the default swarm): %s\n", p)
	}
	if len(missed) > 0 {
		var n [3]int
		var dflt []nodes.Probe
		for _, p := range missed {
			s, _ := nodes.ProbeScope(p)
			n[s]++
			if s == nodes.ScopeDefault {
				dflt = append(dflt, p)
			}
		}
		fmt.Fprintf(w, "never hit: %d of the default scope, %d churn-only, %d failure-path (--coverage: the scope column)\n",
			n[nodes.ScopeDefault], n[nodes.ScopeChurn], n[nodes.ScopeFailure])
		for _, p := range dflt {
			fmt.Fprintf(w, "  never hit: %s\n", p)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "rarest probes\tseeds\trate\thits\tfirst seed\n")
	for _, h := range c.Rarest(10) {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%d\t%d\n", h.Probe, h.Seeds, rate(h.Seeds, c.Seeds), h.Hits, h.First)
	}
	tw.Flush()
}

// Write prints the whole coverage table: each probe, the seeds that hit
// it and their share, its hits, the first seed that hit it, whether it is
// required, and its scope when the default swarm does not reach it
// (nodes.ProbeScope: churn, failure), with the reason; last, the count of
// probes of the default scope that no seed hit.
func (c *Coverage) Write(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "probe\tseeds\trate\thits\tfirst\trequired\tscope\n")
	dflt, missed := 0, 0
	for _, h := range c.Probes() {
		req := ""
		if nodes.Required(h.Probe) {
			req = "yes"
		}
		scope, why := nodes.ProbeScope(h.Probe)
		where := scope.String()
		if why != "" {
			where += ": " + why
		}
		if scope == nodes.ScopeDefault {
			dflt++
			if h.Seeds == 0 {
				missed++
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%s\t%s\n", h.Probe, h.Seeds, rate(h.Seeds, c.Seeds), h.Hits, h.First, req, where)
	}
	tw.Flush()
	fmt.Fprintf(w, "default scope: %d of %d probes hit in %d seeds\n", dflt-missed, dflt, c.Seeds)
}

// rate returns k of n as a percentage.
func rate(k, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(k)/float64(n))
}

// probeMap returns the probes a run hit, by name (JSON sorts the keys).
func probeMap(c *nodes.ProbeCounts) map[string]uint32 {
	out := map[string]uint32{}
	for _, p := range nodes.Probes() {
		if c[p] > 0 {
			out[p.String()] = c[p]
		}
	}
	return out
}

// reportProbes is the probes of a report, for its Result.
func reportProbes(rep *sim.Report) map[string]uint32 { return probeMap(&rep.Probes) }
