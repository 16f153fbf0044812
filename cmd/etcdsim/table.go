package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/sim"
)

// modeRow is one line of the detection table: a bug mode (or the correct
// model) over a range of seeds in its world.
type modeRow struct {
	world sim.BugWorld
	summary
	untilWall float64 // wall ms of seeds 1..k, k the first detecting seed
}

func (r *modeRow) add(res Result) {
	if r.failing == 0 {
		r.untilWall += res.WallMs
	}
	r.summary.add(res)
}

// topInvariant returns the invariant that fired first most often.
func (r *modeRow) topInvariant() string {
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

// cmdTable runs the correct model and every bug mode over the same seeds
// in its world, and prints the detection table (make run; with --markdown
// and --readme, the table in README.md).
func cmdTable(args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("table")
	seeds := fs.String("seeds", "1..40", "seed range A..B")
	parallel := fs.Int("parallel", runtime.NumCPU(), "worker processes")
	markdown := fs.Bool("markdown", false, "print a markdown table")
	readme := fs.String("readme", "", "replace the table between the detection-table markers of this file")
	if err := parseFlags(fs, args); err != nil {
		return 0, err
	}
	if fs.NArg() > 0 {
		return 0, usagef("table: unexpected argument %q", strings.Join(fs.Args(), " "))
	}
	sh, err := parseShard(*seeds, "1/1")
	if err != nil {
		return 0, err
	}
	if *parallel < 1 {
		return 0, usagef("table: --parallel must be positive")
	}
	start := time.Now()
	var rows []*modeRow
	for _, bw := range sim.BugWorlds() {
		row := &modeRow{world: bw}
		cfg := bw.Config(0)
		prog := newProgress(stderr, sh.count(), time.Now())
		err := farm(sh, cfg, *parallel, defaultSeedTimeout, func(r Result) error {
			prog.update(r)
			row.add(r)
			return nil
		})
		prog.clear()
		if err != nil {
			return 1, err
		}
		rows = append(rows, row)
	}
	text := renderTable(rows, *seeds, *markdown || *readme != "", time.Since(start))
	if *readme != "" {
		return 0, spliceReadme(*readme, text)
	}
	fmt.Fprint(stdout, text)
	return 0, nil
}

func renderTable(rows []*modeRow, seeds string, markdown bool, wall time.Duration) string {
	var b strings.Builder
	head := []string{"mode", "world", "seeds", "detected", "95% CI", "first invariant", "median sim time", "median wall time", "wall to 1st detection"}
	line := func(cells []string) {
		if markdown {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
		} else {
			fmt.Fprintf(&b, "%-24s %-26s %6s %16s %14s %-34s %15s %16s %21s\n", toAny(cells)...)
		}
	}
	line(head)
	if markdown {
		line([]string{"---", "---", "---:", "---:", "---:", "---", "---:", "---:", "---:"})
	}
	for _, r := range rows {
		lo, hi := wilson(r.failing, r.seeds, 0.95)
		cells := []string{r.world.Bug, r.world.String(), fmt.Sprint(r.seeds), pct(r.failing, r.seeds),
			fmt.Sprintf("%.1f–%.1f%%", 100*lo, 100*hi), r.topInvariant(), "-", "-", "-"}
		if r.failing > 0 {
			ms, _ := quantiles(r.simMs)
			mw, _ := quantiles(r.wallMs)
			cells[6], cells[7], cells[8] = fmtMs(ms), fmtMs(mw), fmtMs(r.untilWall)
		}
		line(cells)
	}
	fmt.Fprintf(&b, "\nseeds %s per mode, each in its world; made by `etcdsim table` in %.0fs wall.\n", seeds, wall.Seconds())
	return b.String()
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

const tableBegin, tableEnd = "<!-- detection-table -->", "<!-- /detection-table -->"

// spliceReadme replaces the text between the table markers of path.
func spliceReadme(path, table string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(raw)
	i, j := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		return usagef("table: %s has no %s ... %s markers", path, tableBegin, tableEnd)
	}
	s = s[:i+len(tableBegin)] + "\n" + table + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}
