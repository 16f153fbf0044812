package report

import (
	"fmt"
	"strings"

	"github.com/etcdsim/etcdsim/sim"
)

// legendEntry explains one kind of mark or label the pictures draw. Key is
// the mark's class (b-leader, p-crash, viol, …; accused for the lane the
// evidence names), Swatch the CSS class of its sample, Sym the sample's
// text.
type legendEntry struct{ Key, Swatch, Sym, Text string }

// legend is every entry the page can show, in the order it shows them.
var legend = []legendEntry{
	{"b-leader", "sw leader", "", "leader: “leader · term 5”, “leader t5” or “L5” as space allows"},
	{"b-follower", "sw follower", "", "follower: “follower · term 6”, “follower t6” or “F6”"},
	{"b-noleader", "sw noleader", "", "no leader known (a candidate, or a follower that has heard from none): “no leader · term 2”, “no leader t2” or “N2”"},
	{"b-down", "sw down", "", "down, from a crash to its restart"},
	{"b-pause", "sw pause", "", "paused: the process stops; what reaches it waits until it resumes"},
	{"p-crash", "sym crash", "✖", "crash (hover for its cause)"},
	{"p-restart", "sym restart", "▲", "restart from the crash image"},
	{"p-disk", "sym disk", "◆", "disk fault: the crash image's torn or lost writes, a slow disk"},
	{"b-partition", "sw partition", "", "partition, labelled by its groups: “partition (1 3) (2)”: members 1 and 3 reach each other, not member 2"},
	{"b-cut", "sw cut", "", "one-way cut: “cut m1->m2”: m1's messages to m2 are lost, m2's to m1 pass"},
	{"p-net", "sym net", "|", "a change of the network (partition, cut or heal)"},
	{"b-safety", "sw safety", "", "safety phase: faults and workload"},
	{"b-liveness", "sw liveness", "", "liveness phase: faults stop, everything heals, a write must commit"},
	{"b-phase", "sw phase", "", "another phase of the run"},
	{"t-commit", "sym commit", "|", "backend commit (row “commits”)"},
	{"t-apply", "sym apply", "|", "apply of a committed entry (row “applies”)"},
	{"t-apply-err", "sym applyerr", "|", "apply that returned an error"},
	{"p-other", "sym other", "■", "another event (hover for it)"},
	{"ev", "sw ev", "", "a request the evidence names (“c113”: client 113), over the lane of the member it went to, from its call to its return"},
	{"viol", "sym viol", "┃", "the violation: when the check failed"},
	{"win", "sw win", "", "the detail window, drawn zoomed in below"},
	{"accused", "sym accused", "", "the member the evidence names"}, // Sym: its lane's name
}

// legendFor returns the legend entries of the marks the views draw.
func legendFor(views []svgView) []legendEntry {
	used, accused := map[string]bool{}, ""
	mark := func(g glyph) {
		f := strings.Fields(g.Class)
		used[f[len(f)-1]] = true
	}
	for _, v := range views {
		for _, l := range v.Lanes {
			if l.Accused != "" {
				used["accused"], accused = true, l.Name
			}
			for _, g := range l.Glyphs {
				mark(g)
			}
		}
		for _, g := range v.Over {
			mark(g)
		}
	}
	var out []legendEntry
	for _, e := range legend {
		if e.Key == "accused" {
			e.Sym = accused + " ✖"
		}
		if used[e.Key] {
			out = append(out, e)
		}
	}
	return out
}

// ShrinkCommands returns the commands, in order, that shrink a failing
// run to its smallest failing plan, for etcdsim run as prog. etcdsim
// shrink reads a seed file: the run's own when it came from one, else the
// one a swarm of the run's seed alone writes into out/seeds (named
// BUG-SEED.seed, as swarm --out names it).
func ShrinkCommands(rep *sim.Report, prog, seedFile string) []string {
	if seedFile != "" {
		return []string{prog + " shrink " + seedFile}
	}
	seed := rep.Config.Seed
	world := strings.TrimSuffix(rep.ReplayLineFor(prog), " -v")
	world = strings.Replace(world, fmt.Sprintf(" replay --seed %d", seed), fmt.Sprintf(" swarm --seeds %d..%d", seed, seed), 1)
	file := fmt.Sprintf("out/seeds/%s-%d.seed", strings.ReplaceAll(rep.Config.Bugs.String(), ",", "+"), seed)
	return []string{world + " --out out/seeds", prog + " shrink " + file}
}
