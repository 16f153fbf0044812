package swarm

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/sim"
)

// Row is one line of the detection table: a bug mode (or the correct
// model) over a range of seeds in its world.
type Row struct {
	World sim.BugWorld
	Summary
	UntilWall float64 // wall ms of the seeds up to the first detecting one
}

// Add counts one more result, in seed order.
func (r *Row) Add(res Result) {
	if r.Failing == 0 {
		r.UntilWall += res.WallMs
	}
	r.Summary.Add(res)
}

// topInvariant returns the invariant that fired first most often.
func (r *Row) topInvariant() string {
	names := r.byCount()
	if len(names) == 0 {
		return "-"
	}
	s := names[0]
	if len(names) > 1 {
		s += fmt.Sprintf(" (+%d more)", len(names)-1)
	}
	return s
}

// Table runs the seeds of sh for the correct model and every bug mode,
// each in its world (sim.BugWorlds), and returns one row per mode. Each
// mode shows its own Progress line on progress.
func Table(sh Shard, opt Options, progress io.Writer) ([]*Row, error) {
	var rows []*Row
	for _, bw := range sim.BugWorlds() {
		row := &Row{World: bw}
		prog := NewProgress(progress, sh.Count(), time.Now())
		err := Run(sh, bw.Config(0), opt, func(r Result) error {
			prog.Update(r)
			row.Add(r)
			return nil
		})
		prog.Clear()
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// TableStyle is how RenderTable lays the table out.
type TableStyle int

// The table styles: Narrow fits 100 columns (mode, world, detection rate,
// its interval, median simulated time and wall time to the first
// detection); Wide adds the seeds, the first invariant and the median wall
// time, in fixed-width columns; Markdown is Wide as a markdown table.
const (
	Narrow TableStyle = iota
	Wide
	Markdown
)

// RenderTable renders rows, the seeds they ran and the table's wall time.
func RenderTable(rows []*Row, seeds string, style TableStyle, wall time.Duration) string {
	var b strings.Builder
	if style == Narrow {
		renderNarrow(&b, rows)
	} else {
		renderWide(&b, rows, style == Markdown)
	}
	fmt.Fprintf(&b, "\nseeds %s per mode, each in its world; made by `etcdsim table` in %.0fs wall.\n", seeds, wall.Seconds())
	return b.String()
}

func renderNarrow(b *strings.Builder, rows []*Row) {
	mw, ww := len("mode"), len("world")
	for _, r := range rows {
		mw, ww = max(mw, len(r.World.Bug)), max(ww, len(r.World.String()))
	}
	line := func(mode, world, det, ci, sim, first string) {
		fmt.Fprintf(b, "%-*s %-*s %13s %11s %8s %8s\n", mw, mode, ww, world, det, ci, sim, first)
	}
	line("mode", "world", "detected", "95% CI", "sim time", "1st wall")
	for _, r := range rows {
		lo, hi := Wilson(r.Failing, r.Seeds, 0.95)
		sim, first := "-", "-"
		if r.Failing > 0 {
			ms, _ := Quantiles(r.simMs)
			sim, first = fmtMs(ms), fmtMs(r.UntilWall)
		}
		line(r.World.Bug, r.World.String(), pct(r.Failing, r.Seeds), fmt.Sprintf("%.1f–%.1f%%", 100*lo, 100*hi), sim, first)
	}
}

func renderWide(b *strings.Builder, rows []*Row, markdown bool) {
	head := []string{"mode", "world", "seeds", "detected", "95% CI", "first invariant", "median sim time", "median wall time", "wall to 1st detection"}
	line := func(cells []string) {
		if markdown {
			fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | "))
		} else {
			fmt.Fprintf(b, "%-24s %-30s %6s %16s %14s %-34s %15s %16s %21s\n", toAny(cells)...)
		}
	}
	line(head)
	if markdown {
		line([]string{"---", "---", "---:", "---:", "---:", "---", "---:", "---:", "---:"})
	}
	for _, r := range rows {
		lo, hi := Wilson(r.Failing, r.Seeds, 0.95)
		cells := []string{r.World.Bug, r.World.String(), fmt.Sprint(r.Seeds), pct(r.Failing, r.Seeds),
			fmt.Sprintf("%.1f–%.1f%%", 100*lo, 100*hi), r.topInvariant(), "-", "-", "-"}
		if r.Failing > 0 {
			ms, _ := Quantiles(r.simMs)
			mw, _ := Quantiles(r.wallMs)
			cells[6], cells[7], cells[8] = fmtMs(ms), fmtMs(mw), fmtMs(r.UntilWall)
		}
		line(cells)
	}
}

// toAny returns s as a list of arguments for Printf.
func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// The markers around the detection table in README.md.
const (
	TableBegin = "<!-- detection-table -->"
	TableEnd   = "<!-- /detection-table -->"
)

// ErrNoMarkers is SpliceTable's error for a document without the markers.
var ErrNoMarkers = errors.New("no " + TableBegin + " ... " + TableEnd + " markers")

// SpliceTable returns doc with the text between its table markers
// replaced by table.
func SpliceTable(doc, table string) (string, error) {
	i, j := strings.Index(doc, TableBegin), strings.Index(doc, TableEnd)
	if i < 0 || j < i {
		return "", ErrNoMarkers
	}
	return doc[:i+len(TableBegin)] + "\n" + table + doc[j:], nil
}
