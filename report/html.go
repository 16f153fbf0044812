package report

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/invariants/linearizable"
	"github.com/etcdsim/etcdsim/sim"
)

// DefaultWindow is the detail window of a failing run when Options.Window is
// zero: the last five seconds of simulated time before the violation.
const DefaultWindow = 5 * time.Second

// MaxTicks is the most backend commit and apply ticks one picture draws;
// past it they are left out (and the page says so).
const MaxTicks = 2000

// maxRows is the most rows the table of marks keeps (the latest ones).
const maxRows = 1500

// Options shape the page. The zero value is the default page.
type Options struct {
	// Window is the span of simulated time before the violation in which
	// commits and applies are drawn and marks are listed (default 5s).
	Window time.Duration
	// LinearizabilityHTML, when set, is the path or URL of porcupine's
	// visualization of the client history; the page of a linearizability
	// failure links to it (other pages do not).
	LinearizabilityHTML string
	// Replay is the command shown to replay the run (default: its
	// ReplayLine, which a run of a seed file's plan cannot use).
	Replay string
	// Shrink is the commands, in order, that shrink a failing run to its
	// smallest failing plan (default: ShrinkCommands for a run of no seed
	// file).
	Shrink []string
}

func (o Options) validate() error {
	if o.Window < 0 {
		return fmt.Errorf("report: window %v is negative", o.Window)
	}
	return nil
}

// WriteHTML writes rep as one self-contained HTML page to w: the header and
// verdict, a lane per member and one for the cluster over simulated time,
// the violation, and a table of the marks around it (see the package doc).
// The run must have kept its timeline (sim.Config.Timeline); without it the
// page has the header and empty lanes.
func WriteHTML(w io.Writer, rep *sim.Report, opts Options) error {
	if rep == nil {
		return fmt.Errorf("report: nil report")
	}
	if err := opts.validate(); err != nil {
		return err
	}
	if opts.Window == 0 {
		opts.Window = DefaultWindow
	}
	p := buildPage(rep, opts)
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, p); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ---- the model: the timeline folded into bands and points ----

// band is an interval on one row of a lane.
type band struct {
	member   int // 1..N, or 0 for the cluster lane
	from, to time.Duration
	kind     string   // leader, follower, noleader, down, pause, partition, cut, safety, liveness, phase
	labels   []string // the label, then shorter ones to try when it does not fit
	detail   string
	title    string   // set when the band closes
	role     sim.Role // a role band's role and term
	term     uint64
}

// point is an instant on one lane.
type point struct {
	member int
	at     time.Duration
	kind   string // crash, restart, disk, net, other
	title  string
}

// open is a band that has started and not yet ended.
type open struct {
	ok bool
	b  band
}

type laneState struct{ role, down, pause open }

type model struct {
	members   int
	end       time.Duration
	marks     []sim.Mark // sorted by time
	bands     []band
	points    []point
	ticks     []sim.Mark // commits and applies
	violation *sim.Mark  // Member 0, Kind "violation", Detail the evidence
	vname     string
	evidence  []sim.Op // the requests a linearizability evidence names

	lanes  []laneState // index 0 unused
	net    open
	groups string   // the current partition, "(1 3) (2)"
	cuts   []string // the current one-way cuts, "m1->m2"
	phase  open
}

func buildModel(rep *sim.Report) *model {
	m := &model{members: rep.Config.WithDefaults().Members, end: rep.End, marks: slices.Clone(rep.Timeline)}
	slices.SortStableFunc(m.marks, func(a, b sim.Mark) int { return cmp.Compare(a.At, b.At) })
	for _, mk := range m.marks {
		m.members = max(m.members, mk.Member)
		m.end = max(m.end, mk.At)
	}
	if v := rep.Violation; v != nil {
		m.violation = &sim.Mark{At: rep.At, Member: int(v.Member), Kind: sim.MarkViolation, Detail: v.Detail}
		m.vname = string(v.Name)
		m.evidence = rep.EvidenceOps()
		m.end = max(m.end, rep.At)
	}
	m.lanes = make([]laneState, m.members+1)
	m.phase = open{ok: true, b: band{kind: "safety", labels: []string{"safety phase", "safety"}, detail: "safety phase: faults and workload"}}
	for _, mk := range m.marks {
		m.add(mk)
	}
	for i := range m.lanes {
		ls := &m.lanes[i]
		m.finish(&ls.role, m.end)
		m.finish(&ls.down, m.end)
		m.finish(&ls.pause, m.end)
	}
	m.finish(&m.net, m.end)
	m.finish(&m.phase, m.end)
	return m
}

// Annotations returns the fault windows of a run for porcupine's view of
// its history (linearizable.Visualize): each member's down time and
// pauses, the network's partitions and cuts, and the violation — the
// bands the timeline page draws.
func Annotations(rep *sim.Report) []linearizable.Annotation {
	m := buildModel(rep)
	var notes []linearizable.Annotation
	for _, b := range m.bands {
		tag := b.kind
		switch b.kind {
		case "down":
			tag = fmt.Sprintf("m%d down", b.member)
		case "pause":
			tag = fmt.Sprintf("m%d paused", b.member)
		case "partition", "cut":
		default:
			continue
		}
		notes = append(notes, linearizable.Annotation{Start: int64(b.from), End: int64(b.to), Tag: tag, Description: b.detail})
	}
	if v := m.violation; v != nil {
		notes = append(notes, linearizable.Annotation{Start: int64(v.At), End: int64(v.At), Tag: "violation", Description: m.vname + ": " + v.Detail})
	}
	return notes
}

// memberKinds are the kinds that belong on a member's lane.
var memberKinds = []sim.MarkKind{sim.MarkRole, sim.MarkCrash, sim.MarkRestart, sim.MarkPause, sim.MarkResume, sim.MarkDisk, sim.MarkCommit, sim.MarkApply}

// add folds one mark into the model.
func (m *model) add(mk sim.Mark) {
	if mk.Member <= 0 && slices.Contains(memberKinds, mk.Kind) {
		m.points = append(m.points, point{at: mk.At, kind: "other", title: markTitle(mk)})
		return
	}
	switch mk.Kind {
	case sim.MarkRole, sim.MarkCrash, sim.MarkRestart, sim.MarkPause, sim.MarkResume:
		m.addLife(mk, &m.lanes[mk.Member])
	case sim.MarkDisk:
		m.addDisk(mk)
	case sim.MarkCommit, sim.MarkApply:
		m.ticks = append(m.ticks, mk)
	case sim.MarkNet:
		m.addNet(mk)
	case sim.MarkPhase:
		m.addPhase(mk)
	case sim.MarkViolation:
		if m.violation == nil {
			m.points = append(m.points, point{member: mk.Member, at: mk.At, kind: "other", title: markTitle(mk)})
		}
	default:
		m.points = append(m.points, point{member: mk.Member, at: mk.At, kind: "other", title: markTitle(mk)})
	}
}

// addLife folds a member's role, crash, restart, pause and resume marks.
func (m *model) addLife(mk sim.Mark, ls *laneState) {
	at, id := mk.At, mk.Member
	switch mk.Kind {
	case sim.MarkRole:
		m.finish(&ls.role, at)
		kind, labels := roleLabels(mk.Role, mk.Term)
		ls.role = open{ok: true, b: band{member: id, from: at, kind: kind, labels: labels, detail: mk.Detail, role: mk.Role, term: mk.Term}}
	case sim.MarkCrash:
		m.finish(&ls.role, at)
		m.finish(&ls.pause, at)
		if !ls.down.ok {
			ls.down = open{ok: true, b: band{member: id, from: at, kind: "down", labels: []string{"down", ""}, detail: "down after crash (" + mk.Detail + ")"}}
		}
		m.points = append(m.points, point{member: id, at: at, kind: "crash", title: markTitle(mk)})
	case sim.MarkRestart:
		m.finish(&ls.down, at)
		m.points = append(m.points, point{member: id, at: at, kind: "restart", title: markTitle(mk)})
	case sim.MarkPause:
		m.finish(&ls.pause, at)
		ls.pause = open{ok: true, b: band{member: id, from: at, kind: "pause", labels: []string{"paused", ""}, detail: mk.Detail}}
	case sim.MarkResume:
		if !ls.pause.ok {
			m.points = append(m.points, point{member: id, at: at, kind: "other", title: markTitle(mk)})
		}
		m.finish(&ls.pause, at)
	}
}

// addDisk adds a disk fault; the lines of one crash image share a point.
func (m *model) addDisk(mk sim.Mark) {
	for i := len(m.points) - 1; i >= 0 && m.points[i].at == mk.At; i-- {
		if p := &m.points[i]; p.member == mk.Member && p.kind == "disk" {
			p.title += "\n" + mk.Detail
			return
		}
	}
	m.points = append(m.points, point{member: mk.Member, at: mk.At, kind: "disk", title: markTitle(mk)})
}

// addNet follows the network's state: a partition replaces the groups, a
// cut adds a one-way cut, a heal removes both.
func (m *model) addNet(mk sim.Mark) {
	switch mk.Net {
	case sim.NetHeal:
		m.groups, m.cuts = "", nil
	case sim.NetPartition:
		m.groups = mk.State
	case sim.NetCut:
		if !slices.Contains(m.cuts, mk.State) {
			m.cuts = append(m.cuts, mk.State)
		}
	default:
		m.points = append(m.points, point{at: mk.At, kind: "other", title: markTitle(mk)})
		return
	}
	m.points = append(m.points, point{at: mk.At, kind: "net", title: markTitle(mk)})
	m.netState(mk.At)
}

// netState closes the network band and opens one for the current state.
func (m *model) netState(at time.Duration) {
	m.finish(&m.net, at)
	var parts []string
	kind := "cut"
	if m.groups != "" {
		parts = append(parts, "partition "+m.groups)
		kind = "partition"
	}
	if len(m.cuts) > 0 {
		parts = append(parts, "cut "+strings.Join(m.cuts, " "))
	}
	if len(parts) == 0 {
		return
	}
	full := strings.Join(parts, "; ")
	short := strings.ReplaceAll(full, "partition ", "")
	m.net = open{ok: true, b: band{from: at, kind: kind, labels: []string{full, short, kind, ""}, detail: full}}
}

// addPhase starts a new phase.
func (m *model) addPhase(mk sim.Mark) {
	m.finish(&m.phase, mk.At)
	name, short := mk.State+" phase", mk.State
	kind := "phase"
	if mk.State == "liveness" {
		kind = "liveness"
	}
	m.phase = open{ok: true, b: band{from: mk.At, kind: kind, labels: []string{name, short, short[:min(len(short), 4)], ""}, detail: mk.Detail}}
}

// finish closes an open band at time at and keeps it.
func (m *model) finish(o *open, at time.Duration) {
	if !o.ok {
		return
	}
	b := o.b
	b.to = max(at, b.from)
	who := "cluster"
	if b.member > 0 {
		who = "m" + strconv.Itoa(b.member)
	}
	b.title = fmt.Sprintf("%s %s\n%s – %s (%s)", who, b.detail, fmtT(b.from), fmtT(b.to), sim.FormatTime(b.to-b.from))
	m.bands = append(m.bands, b)
	o.ok = false
}

// roleLabels gives a role and term a band kind and its labels.
func roleLabels(role sim.Role, t uint64) (string, []string) {
	term := strconv.FormatUint(t, 10)
	switch role {
	case sim.RoleLeader:
		return "leader", []string{"leader · term " + term, "leader t" + term, "L" + term, ""}
	case sim.RoleFollower:
		return "follower", []string{"follower · term " + term, "follower t" + term, "F" + term, ""}
	}
	return "noleader", []string{"no leader · term " + term, "no leader t" + term, "N" + term, ""}
}

func markTitle(mk sim.Mark) string {
	who := "cluster"
	if mk.Member > 0 {
		who = "m" + strconv.Itoa(mk.Member)
	}
	return fmt.Sprintf("t=%s %s %s: %s", fmtT(mk.At), who, mk.Kind, mk.Detail)
}

// fmtT prints a simulated time to the microsecond: "8.494195s".
func fmtT(d time.Duration) string {
	us := d.Microseconds()
	return fmt.Sprintf("%d.%06ds", us/1e6, us%1e6)
}

// ---- the picture: a view of the model over a span of time ----

// Geometry of a picture, in SVG user units (pixels at 100 %).
const (
	svgW    = 1500
	gutter  = 104 // lane names and row captions on the left
	padR    = 16
	axisTop = 34 // the violation label, then the axis labels
	laneGap = 4

	roleY, roleH = 5, 20  // a member lane: its role bands
	evY, evH     = 28, 14 // crashes, restarts, pauses, disk faults
	tickY, tickH = 45, 20 // commits (upper half) and applies (lower half)
	netY, netH   = 5, 18  // the cluster lane: the network
	phY, phH     = 26, 13 // and the phases
)

// view is one picture: the span it shows and what it draws.
type view struct {
	id       string
	from, to time.Duration
	ticks    []sim.Mark // drawn as ticks (already filtered to the span)
	tickRows bool       // the lanes have rows for commits and applies
	window   *[2]time.Duration
}

func (v view) x(t time.Duration) float64 {
	span := max(v.to-v.from, time.Millisecond)
	return gutter + float64(t-v.from)/float64(span)*float64(svgW-gutter-padR)
}

// glyph is one mark of the picture: a group with its hover title and one
// shape (rectangle, line or path), maybe with a label.
type glyph struct {
	Class, Title string
	Rect         *rect
	Line         *line
	Path         string
	Label        *label
}

type rect struct{ X, Y, W, H string }
type line struct{ X1, Y1, X2, Y2 string }
type label struct{ X, Y, Anchor, Text string }

type laneView struct {
	ID, Name       string
	Y, H, W, NameY string
	Alt            bool
	Accused        string  // set on the lane the evidence names
	Rows           []label // row captions in the gutter
	Glyphs         []glyph
}

type svgView struct {
	ID, Heading, Note string
	W, H              int
	Grid              []glyph
	Lanes             []laneView
	Over              []glyph
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
func itoa(v int) string   { return strconv.Itoa(v) }

// render draws the model over one view.
func (m *model) render(v view, heading, note string) svgView {
	laneH := roleY + roleH + 3 + evH + 6
	if v.tickRows {
		laneH = tickY + tickH + 4
	}
	sv := svgView{ID: v.id, Heading: heading, Note: note, W: svgW}
	y := axisTop
	for id := 1; id <= m.members; id++ {
		sv.Lanes = append(sv.Lanes, m.memberLane(v, id, y, laneH))
		y += laneH + laneGap
	}
	for _, o := range m.evidence {
		if o.Member >= 1 && int(o.Member) <= m.members && o.Call <= v.to && max(o.Return, o.Call) >= v.from {
			sv.Over = append(sv.Over, evidenceGlyph(v, o, axisTop+(int(o.Member)-1)*(laneH+laneGap), laneH))
		}
	}
	sv.Lanes = append(sv.Lanes, m.clusterLane(v, y))
	y += phY + phH + 6
	bottom := y
	if v.window != nil {
		y += 18
	}
	sv.H = y + 4
	sv.Grid = axis(v, bottom)
	if v.window != nil {
		sv.Over = append(sv.Over, windowGlyph(v, bottom))
	}
	if m.violation != nil && m.violation.At >= v.from && m.violation.At <= v.to {
		sv.Over = append(sv.Over, m.violationGlyph(v, bottom))
	}
	return sv
}

func (m *model) memberLane(v view, id, y, h int) laneView {
	name := "m" + itoa(id)
	lv := laneView{ID: v.id + "-lane-" + name, Name: name, Y: itoa(y), H: itoa(h), W: itoa(svgW), NameY: itoa(y + roleY + roleH - 4), Alt: id%2 == 0}
	if m.violation != nil && m.violation.Member == id {
		lv.Accused = "the violation's evidence names " + name
	}
	lv.Rows = []label{{X: itoa(gutter - 6), Y: itoa(y + roleY + 14), Anchor: "end", Text: "role"}, {X: itoa(gutter - 6), Y: itoa(y + evY + 11), Anchor: "end", Text: "faults"}}
	for _, b := range m.bands {
		if b.member != id {
			continue
		}
		switch b.kind {
		case "pause":
			lv.addBand(v, b, y+evY, evH)
		default:
			lv.addBand(v, b, y+roleY, roleH)
		}
	}
	crashAt := time.Duration(-1)
	for _, p := range m.points {
		if p.member != id || p.at < v.from || p.at > v.to {
			continue
		}
		g := pointGlyph(v, p, y, 0)
		if p.kind == "crash" {
			crashAt = p.at
		} else if p.kind == "disk" && p.at == crashAt {
			g = pointGlyph(v, p, y, 10) // the crash image's faults: beside the cross
		}
		lv.Glyphs = append(lv.Glyphs, g)
	}
	if v.tickRows {
		lv.Rows = append(lv.Rows, label{X: itoa(gutter - 6), Y: itoa(y + tickY + 8), Anchor: "end", Text: "commits"}, label{X: itoa(gutter - 6), Y: itoa(y + tickY + tickH), Anchor: "end", Text: "applies"})
		for _, t := range v.ticks {
			if t.Member == id {
				lv.Glyphs = append(lv.Glyphs, tickGlyph(v, t, y))
			}
		}
	}
	return lv
}

func (m *model) clusterLane(v view, y int) laneView {
	lv := laneView{ID: v.id + "-lane-cluster", Name: "cluster", Y: itoa(y), H: itoa(phY + phH + 4), W: itoa(svgW), NameY: itoa(y + netY + 13), Alt: true}
	lv.Rows = []label{{X: itoa(gutter - 6), Y: itoa(y + netY + 13), Anchor: "end", Text: "network"}, {X: itoa(gutter - 6), Y: itoa(y + phY + 10), Anchor: "end", Text: "phase"}}
	for _, b := range m.bands {
		if b.member != 0 {
			continue
		}
		if b.kind == "partition" || b.kind == "cut" {
			lv.addBand(v, b, y+netY, netH)
		} else {
			lv.addBand(v, b, y+phY, phH)
		}
	}
	for _, p := range m.points {
		if p.member == 0 && p.at >= v.from && p.at <= v.to {
			lv.Glyphs = append(lv.Glyphs, pointGlyph(v, p, y+netY-evY+2, 0))
		}
	}
	return lv
}

// addBand draws a band clipped to the view, with the longest label that fits.
func (lv *laneView) addBand(v view, b band, y, h int) {
	if b.to < v.from || b.from > v.to {
		return
	}
	x0, x1 := v.x(max(b.from, v.from)), v.x(min(b.to, v.to))
	w := max(x1-x0, 1)
	g := glyph{Class: "b b-" + b.kind, Title: b.title, Rect: &rect{X: f1(x0), Y: itoa(y), W: f1(w), H: itoa(h)}}
	for _, l := range b.labels {
		if l != "" && textWidth(l) <= w-6 {
			g.Label = &label{X: f1(x0 + 3), Y: itoa(y + h/2 + 4), Anchor: "start", Text: l}
			break
		}
	}
	lv.Glyphs = append(lv.Glyphs, g)
}

// textWidth estimates the width of a label at 11px.
func textWidth(s string) float64 { return float64(len([]rune(s)))*6.4 + 2 }

// pointGlyph draws a crash, restart, disk fault or other instant; y is the
// top of the lane, dx a shift to the right so as not to hide another mark.
func pointGlyph(v view, p point, y int, dx float64) glyph {
	x := v.x(p.at) + dx
	cy := float64(y + evY + evH/2)
	g := glyph{Class: "p p-" + p.kind, Title: p.title}
	switch p.kind {
	case "crash":
		g.Line = &line{X1: f1(x), Y1: itoa(y + roleY), X2: f1(x), Y2: itoa(y + evY + evH)}
		g.Path = fmt.Sprintf("M%s %sL%s %sM%s %sL%s %s", f1(x-5), f1(cy-5), f1(x+5), f1(cy+5), f1(x+5), f1(cy-5), f1(x-5), f1(cy+5))
	case "restart":
		g.Path = fmt.Sprintf("M%s %sL%s %sL%s %sZ", f1(x), f1(cy-6), f1(x+6), f1(cy+5), f1(x-6), f1(cy+5))
	case "disk":
		g.Path = fmt.Sprintf("M%s %sL%s %sL%s %sL%s %sZ", f1(x), f1(cy-5), f1(x+5), f1(cy), f1(x), f1(cy+5), f1(x-5), f1(cy))
	case "net":
		g.Line = &line{X1: f1(x), Y1: f1(cy - 9), X2: f1(x), Y2: f1(cy + 9)}
	default:
		g.Path = fmt.Sprintf("M%s %sL%s %sL%s %sL%s %sZ", f1(x-4), f1(cy-4), f1(x+4), f1(cy-4), f1(x+4), f1(cy+4), f1(x-4), f1(cy+4))
	}
	return g
}

// tickGlyph draws a backend commit (upper half) or an apply (lower half;
// darker when the apply failed).
func tickGlyph(v view, t sim.Mark, y int) glyph {
	x := f1(v.x(t.At))
	if t.Kind == sim.MarkCommit {
		return glyph{Class: "t t-commit", Title: markTitle(t), Line: &line{X1: x, Y1: itoa(y + tickY), X2: x, Y2: itoa(y + tickY + 9)}}
	}
	class := "t t-apply"
	if t.Failed {
		class = "t t-apply-err"
	}
	return glyph{Class: class, Title: markTitle(t), Line: &line{X1: x, Y1: itoa(y + tickY + 11), X2: x, Y2: itoa(y + tickY + tickH)}}
}

// axisSteps are the tick spacings the time axis picks from.
var axisSteps = []time.Duration{
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour,
}

// axisStep picks the smallest step that puts at most 16 ticks on span.
func axisStep(span time.Duration) time.Duration {
	for _, s := range axisSteps {
		if span/s <= 16 {
			return s
		}
	}
	return 2 * time.Hour
}

// axisLabel prints a tick: whole seconds, or tenths under a second's step.
func axisLabel(t, step time.Duration) string {
	if step < time.Second {
		return strconv.FormatFloat(t.Seconds(), 'f', 1, 64) + "s"
	}
	return strconv.FormatInt(int64(t/time.Second), 10) + "s"
}

// axis draws the time axis labels and grid lines down to bottom.
func axis(v view, bottom int) []glyph {
	step := axisStep(v.to - v.from)
	var out []glyph
	for t := (v.from + step - 1) / step * step; t <= v.to; t += step {
		x := f1(v.x(t))
		out = append(out, glyph{Class: "grid", Title: "t=" + axisLabel(t, step),
			Line:  &line{X1: x, Y1: itoa(axisTop - 6), X2: x, Y2: itoa(bottom)},
			Label: &label{X: x, Y: itoa(axisTop - 10), Anchor: "middle", Text: axisLabel(t, step)}})
	}
	return out
}

// windowGlyph shades the detail window on the overview.
func windowGlyph(v view, bottom int) glyph {
	w := *v.window
	x0, x1 := v.x(max(w[0], v.from)), v.x(min(w[1], v.to))
	text := "detail window " + sim.FormatTime(w[0]) + " – " + sim.FormatTime(w[1])
	anchor, lx := "end", x1-8
	if textWidth(text) > x1-8-gutter {
		anchor, lx = "start", x0+4
	}
	return glyph{Class: "win", Title: "the detail window below: " + fmtT(w[0]) + " – " + fmtT(w[1]),
		Rect:  &rect{X: f1(x0), Y: itoa(axisTop - 4), W: f1(max(x1-x0, 1)), H: itoa(bottom - axisTop + 16)},
		Label: &label{X: f1(lx), Y: itoa(bottom + 13), Anchor: anchor, Text: text}}
}

// evidenceGlyph draws a request the evidence names as a box over its
// member's lane from its call to its return (at least 3 units wide), named
// beside it in a zoomed-in view; top and h are the lane's.
func evidenceGlyph(v view, o sim.Op, top, h int) glyph {
	end := max(o.Return, o.Call)
	x0, x1 := v.x(max(o.Call, v.from)), v.x(min(end, v.to))
	x1 = max(x1, x0+3)
	e := opEvent(o)
	g := glyph{Class: "ev", Title: fmt.Sprintf("%s %s\n%s\na request the evidence names", e.Who, e.What, e.T),
		Rect: &rect{X: f1(x0), Y: itoa(top + 1), W: f1(x1 - x0), H: itoa(h - 2)}}
	if v.tickRows {
		text := fmt.Sprintf("c%d %s", o.Proc, describeOp(o))
		anchor, lx := "start", x1+4
		if lx+textWidth(text) > svgW-padR {
			anchor, lx = "end", x0-4
		}
		g.Label = &label{X: f1(lx), Y: itoa(top + evY + 11), Anchor: anchor, Text: text}
	}
	return g
}

// violationGlyph draws the violation as a red line across every lane.
func (m *model) violationGlyph(v view, bottom int) glyph {
	x := v.x(m.violation.At)
	text := "✖ " + m.vname + " at t=" + sim.FormatTime(m.violation.At)
	anchor, lx := "end", x-4
	if textWidth(text) > x-gutter {
		anchor, lx = "start", x+4
	}
	return glyph{Class: "viol", Title: fmt.Sprintf("t=%s violation %s: %s", fmtT(m.violation.At), m.vname, m.violation.Detail),
		Line:  &line{X1: f1(x), Y1: "2", X2: f1(x), Y2: itoa(bottom)},
		Label: &label{X: f1(lx), Y: "12", Anchor: anchor, Text: text}}
}

// ---- the page ----

type row struct{ T, Member, Kind, Detail string }

type page struct {
	Title, Verdict          string
	Failed                  bool
	Story                   *story
	Header, Stats, Replay   string
	Shrink                  []string
	LinHTML                 any // string, or template.URL for a file: URL
	Legend                  []legendEntry
	Views                   []svgView
	TableHeading, TableNote string
	Rows                    []row
}

func buildPage(rep *sim.Report, opts Options) *page {
	m := buildModel(rep)
	p := &page{Header: rep.Header(), Stats: fmt.Sprintf("%s trace=%016x", rep.StatsLine(), rep.TraceHash), Replay: cmp.Or(opts.Replay, rep.ReplayLine())}
	seed := fmt.Sprintf("seed %d", rep.Config.Seed)
	if m.violation == nil {
		p.Title, p.Verdict = "etcdsim "+seed+": clean", "clean: no invariant broke"
		p.Views = append(p.Views, m.cleanView())
		p.TableHeading = "Marks of the run"
		few := len(m.ticks) <= MaxTicks
		p.Rows, p.TableNote = m.rows(0, m.end, few, few)
		if len(rep.Timeline) == 0 {
			p.TableNote = "The run kept no timeline (sim.Config.Timeline was off)."
		}
	} else {
		p.Failed = true
		p.Title = "etcdsim " + seed + ": FAIL " + m.vname
		p.Verdict, p.Story = "FAIL "+m.vname, m.story(rep)
		p.Shrink = opts.Shrink
		if len(p.Shrink) == 0 {
			p.Shrink = ShrinkCommands(rep, "go run ./cmd/etcdsim", "")
		}
		if m.vname == string(invariants.Linearizable) {
			p.LinHTML = linkTo(opts.LinearizabilityHTML)
		}
		p.failureViews(m, opts.Window)
	}
	p.Legend = legendFor(p.Views)
	return p
}

// failureViews draws a failing run: the whole run with the detail window
// shaded, then the window zoomed in with every commit and apply, and the
// table of the window's marks; or, when the window holds the whole run,
// the run once with every commit and apply.
func (p *page) failureViews(m *model, w time.Duration) {
	from, to, centred := m.detailSpan(w)
	ticks, commits, applies, tnote := m.windowTicks(from, to)
	span := sim.FormatTime(from) + " – " + sim.FormatTime(to)
	p.TableHeading = "Marks in the detail window, " + span
	if from == 0 && to >= m.end {
		tnote = strings.Replace(tnote, "in the window", "in the run", 1)
		p.Views = append(p.Views, m.render(view{id: "overview", from: 0, to: m.end, ticks: ticks, tickRows: true}, "The whole run, 0 – "+sim.FormatTime(m.end),
			fmt.Sprintf("The run is no longer than the detail window (%s), so it is drawn once, with every backend commit (navy, upper row) and apply (grey, lower row; dark red when the apply failed). %s Hover over any mark for its time and detail.", w, tnote)))
		p.TableHeading = "Marks of the run"
		p.Rows, p.TableNote = m.rows(0, m.end, commits, applies)
		return
	}
	win := [2]time.Duration{from, to}
	p.Views = append(p.Views, m.render(view{id: "overview", from: 0, to: m.end, window: &win}, "The whole run, 0 – "+sim.FormatTime(m.end),
		"Roles, crashes, pauses, disk faults and the network over the whole run; the shaded span is the detail window below. Hover over any mark for its time and detail."))
	heading := fmt.Sprintf("Detail window: the last %s before the violation, %s", w, span)
	if centred {
		heading = "Detail window around the requests the evidence names, " + span
	}
	p.Views = append(p.Views, m.render(view{id: "detail", from: from, to: to, ticks: ticks, tickRows: true}, heading,
		"The same lanes zoomed in, with every backend commit (navy, upper) and apply (grey, lower; dark red when the apply failed). "+tnote))
	p.Rows, p.TableNote = m.rows(from, to, commits, applies)
}

// cleanView draws a clean run whole, with ticks when there are few enough.
func (m *model) cleanView() svgView {
	v := view{id: "overview", from: 0, to: m.end}
	note := fmt.Sprintf("Roles, crashes, pauses, disk faults and the network over the whole run. The %d backend commits and applies are left out (more than %d).", len(m.ticks), MaxTicks)
	if len(m.ticks) <= MaxTicks {
		v.ticks, v.tickRows = m.ticks, true
		note = fmt.Sprintf("The whole run with all %d backend commits and applies.", len(m.ticks))
	}
	return m.render(v, "The whole run, 0 – "+sim.FormatTime(m.end), note+" Hover over any mark for its time and detail.")
}

// windowTicks returns the ticks to draw in the window: all of them, or only
// the commits when there are too many, or none; whether commits and
// applies are drawn (and so listed in the table); and a note saying which.
func (m *model) windowTicks(from, to time.Duration) (ticks []sim.Mark, commitsShown, appliesShown bool, note string) {
	var all, commits []sim.Mark
	for _, t := range m.ticks {
		if t.At >= from && t.At <= to {
			all = append(all, t)
			if t.Kind == sim.MarkCommit {
				commits = append(commits, t)
			}
		}
	}
	switch {
	case len(all) <= MaxTicks:
		return all, true, true, fmt.Sprintf("%d commits and applies in the window.", len(all))
	case len(commits) <= MaxTicks:
		return commits, true, false, fmt.Sprintf("%d commits drawn; the %d applies are left out (more than %d ticks).", len(commits), len(all)-len(commits), MaxTicks)
	}
	return nil, false, false, fmt.Sprintf("The %d commits and applies are left out (more than %d).", len(all), MaxTicks)
}

// rows lists the marks in [from, to] for the table, the latest maxRows;
// commits and applies only when the picture draws them.
func (m *model) rows(from, to time.Duration, commits, applies bool) ([]row, string) {
	var out []row
	skipped := 0
	for _, mk := range m.marks {
		if mk.At < from || mk.At > to {
			continue
		}
		if !commits && mk.Kind == sim.MarkCommit || !applies && mk.Kind == sim.MarkApply {
			skipped++
			continue
		}
		who := "cluster"
		if mk.Member > 0 {
			who = "m" + itoa(mk.Member)
		}
		out = append(out, row{T: fmtT(mk.At), Member: who, Kind: string(mk.Kind), Detail: mk.Detail})
	}
	var notes []string
	if skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d commits and applies are not listed (too many to draw).", skipped))
	}
	if len(out) > maxRows {
		notes = append(notes, fmt.Sprintf("The first %d rows are not listed; these are the last %d.", len(out)-maxRows, maxRows))
		out = out[len(out)-maxRows:]
	}
	return out, strings.Join(notes, " ")
}

// linkTo returns the link to porcupine's page: a path or http(s) URL as is
// (html/template checks it), a file: URL trusted, since the caller named it.
func linkTo(s string) any {
	if s == "" {
		return nil
	}
	if strings.HasPrefix(s, "file:") {
		return template.URL(s)
	}
	return s
}

var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

// pageHTML is the page; it is also well-formed XML (every element closed,
// only XML's own entities), which the tests check.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<title>{{.Title}}</title>
<style>` + pageCSS + `</style>
</head>
<body>
<header>
<h1 class="{{if .Failed}}fail{{else}}clean{{end}}" id="verdict">{{.Verdict}}</h1>
{{with .Story}}<section class="story" id="story">
<p class="what"><span class="k">What broke</span> <span class="evidence" id="evidence">{{.Evidence}}</span> <span class="where" id="where">— {{.Where}}</span></p>
{{if .Chain}}<p class="chainhead">{{.ChainHead}}</p>
<ol class="chain" id="chain">{{range .Chain}}<li><span class="at">{{.T}}</span> <b>{{.Who}}</b> {{.What}}</li>{{end}}</ol>
{{else}}<p class="chainhead">{{.ChainHead}}</p>
{{end}}<p id="invariant"><span class="k">The invariant</span> <b>{{.Invariant}}</b>: {{.Meaning}}</p>
{{range .Bugs}}<p class="bug"><span class="k">The bug mode</span> <b>{{.Name}}</b> puts back etcd's historical bug [{{.Issue}}]: {{.Mechanism}}</p>
{{end}}{{if .Correct}}<p class="bug"><span class="k">No bug mode</span> the correct model broke this invariant: a defect of etcdsim's model, or of etcd itself (docs/findings.md has the findings so far)</p>
{{end}}</section>
{{end}}{{if .LinHTML}}<p class="lin">Linearizability: <a id="linearizability" href="{{.LinHTML}}">porcupine's visualization of the client history</a></p>
{{end}}<pre class="hdr" id="run-header">{{.Header}}</pre>
<p class="stats">{{.Stats}}</p>
</header>
<div class="legend" id="legend">{{range .Legend}}
<span class="lg" data-legend="{{.Key}}"><span class="{{.Swatch}}">{{.Sym}}</span>{{.Text}}</span>{{end}}
</div>
{{range .Views}}<section class="view" id="{{.ID}}">
<h2>{{.Heading}}</h2>
<p class="note">{{.Note}}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img">
<g class="lanes">{{range .Lanes}}
<g class="lane" id="{{.ID}}" data-lane="{{.Name}}"><rect class="lanebg{{if .Alt}} alt{{end}}" x="0" y="{{.Y}}" width="{{.W}}" height="{{.H}}"/><text class="lanename{{if .Accused}} accused{{end}}" x="8" y="{{.NameY}}">{{if .Accused}}<title>{{.Accused}}</title>{{end}}{{.Name}}{{if .Accused}} ✖{{end}}</text>{{range .Rows}}<text class="rowname" x="{{.X}}" y="{{.Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>{{end}}
{{range .Glyphs}}{{template "glyph" .}}
{{end}}</g>{{end}}
</g>
<g class="axis">{{range .Grid}}{{template "glyph" .}}{{end}}</g>
{{range .Over}}{{template "glyph" .}}
{{end}}</svg>
</section>
{{end}}<section id="marks">
<h2>{{.TableHeading}}</h2>
{{if .TableNote}}<p class="note">{{.TableNote}}</p>
{{end}}<table>
<thead><tr><th>t</th><th>member</th><th>kind</th><th>detail</th></tr></thead>
<tbody>
{{range .Rows}}<tr class="k-{{.Kind}}"><td>{{.T}}</td><td>{{.Member}}</td><td>{{.Kind}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody>
</table>
</section>
<section id="next">
<h2>Next</h2>
{{if .Shrink}}<p>Shrink it to the smallest plan of requests and faults that still fails the same way{{if gt (len .Shrink) 1}} (shrink reads a seed file; the first command writes one){{end}}:</p>
<pre class="cmd" id="shrink">{{range .Shrink}}{{.}}
{{end}}</pre>
{{end}}<p>Replay it and print the trace, one line per event:</p>
<pre class="cmd"><code id="replay">{{.Replay}}</code></pre>
</section>
</body>
</html>
{{define "glyph"}}<g class="{{.Class}}"><title>{{.Title}}</title>{{with .Rect}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}"/>{{end}}{{with .Line}}<line x1="{{.X1}}" y1="{{.Y1}}" x2="{{.X2}}" y2="{{.Y2}}"/>{{end}}{{with .Path}}<path d="{{.}}"/>{{end}}{{with .Label}}<text x="{{.X}}" y="{{.Y}}" text-anchor="{{.Anchor}}">{{.Text}}</text>{{end}}</g>{{end}}`

const pageCSS = `
body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:14px 20px;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:0 0 6px}
h1.fail{color:#b71c1c}
h1.clean{color:#1b5e20}
h2{font-size:15px;margin:18px 0 2px}
p{margin:4px 0}
.story{background:#fff8f7;border-left:5px solid #c62828;padding:6px 12px;margin:6px 0 8px}
.story p{margin:3px 0}
.story .k{display:inline-block;min-width:104px;color:#555;font-weight:600}
.evidence{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#fdecea;padding:1px 6px}
.chainhead{color:#555}
ol.chain{margin:2px 0 4px;padding:0 0 0 104px;list-style:none}
ol.chain li{display:inline}
ol.chain li+li::before{content:" → ";color:#c62828;font-weight:bold}
ol.chain .at{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;color:#555}
.bug b,#invariant b{color:#b71c1c}
.where,.stats,.note{color:#555}
pre.hdr{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f4f5f7;padding:6px 10px;margin:6px 0;white-space:pre-wrap}
pre.cmd{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f4f5f7;padding:6px 10px;margin:4px 0 8px;white-space:pre-wrap}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f4f5f7;padding:2px 6px}
pre.cmd code{font:inherit;padding:0}
.legend{margin:10px 0 0;color:#333;display:flex;flex-wrap:wrap;gap:3px 18px}
.legend .lg{max-width:100%}
.legend .sw{display:inline-block;width:14px;height:11px;margin:0 5px 0 0;vertical-align:-1px;border:1px solid #0003}
.legend .sym{display:inline-block;margin:0 5px 0 0;font-weight:bold}
.sw.leader{background:#1b7f3b}.sw.follower{background:#a8cbed}.sw.noleader{background:#f3d27a}
.sw.down{background:#f8d0d3;border:1px dashed #c62828}.sw.pause{background:#b39ddb}
.sw.partition{background:#ffb74d}.sw.cut{background:#fff59d}
.sw.safety{background:#e3e6ea}.sw.liveness{background:#b2dfdb}.sw.phase{background:#d7ccc8}
.sw.ev{background:#ff17441f;border:1.5px solid #c51162}.sw.win{background:#d500000d;border:1px dashed #d50000}
.sym.crash{color:#d32f2f}.sym.restart{color:#2e7d32}.sym.disk{color:#ef6c00}.sym.net{color:#5d4037}.sym.other{color:#607d8b}
.sym.commit{color:#1a237e}.sym.apply{color:#888}.sym.applyerr{color:#b71c1c}.sym.viol{color:#d50000}.sym.accused{color:#d50000}
svg{display:block;max-width:100%;height:auto;margin-top:4px}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;font-size:11px}
.lanebg{fill:#fbfbfc}.lanebg.alt{fill:#f1f4f8}
.lanename{font-size:15px;font-weight:bold;fill:#222}
.lanename.accused{fill:#d50000}
.rowname{font-size:9px;fill:#888}
.lane[data-lane=cluster] .lanename{font-size:12px}
.b rect{stroke:#fff;stroke-width:.5}
.b text{pointer-events:none}
.b-leader rect{fill:#1b7f3b}.b-leader text{fill:#fff;font-weight:600}
.b-follower rect{fill:#a8cbed}.b-follower text{fill:#0d2b4d}
.b-noleader rect{fill:#f3d27a}.b-noleader text{fill:#4d3800}
.b-down rect{fill:#f8d0d3;stroke:#c62828;stroke-dasharray:3 2;stroke-width:1}.b-down text{fill:#b71c1c;font-weight:600}
.b-pause rect{fill:#b39ddb}.b-pause text{fill:#2a0d5e}
.b-partition rect{fill:#ffb74d}.b-partition text{fill:#4a2800}
.b-cut rect{fill:#fff59d}.b-cut text{fill:#4a4000}
.b-safety rect{fill:#e3e6ea}.b-safety text{fill:#444}
.b-liveness rect{fill:#b2dfdb}.b-liveness text{fill:#004d40}
.b-phase rect{fill:#d7ccc8}.b-phase text{fill:#3e2723}
.p-crash line{stroke:#d32f2f;stroke-width:2}.p-crash path{stroke:#d32f2f;stroke-width:2.5;fill:none}
.p-restart path{fill:#2e7d32;stroke:#fff;stroke-width:.8}
.p-disk path{fill:#ef6c00;stroke:#fff;stroke-width:.8}
.p-net line{stroke:#5d4037;stroke-width:2}
.p-other path{fill:#607d8b}
.t line{stroke-width:1.2}.t-commit line{stroke:#1a237e}.t-apply line{stroke:#999}.t-apply-err line{stroke:#b71c1c}
.grid line{stroke:#0000001a;stroke-width:1}
.grid text{fill:#555}
.win rect{fill:#d500000d;stroke:#d50000;stroke-width:1;stroke-dasharray:5 3}
.win text{fill:#b71c1c;font-size:11px}
.ev rect{fill:#ff17441f;stroke:#c51162;stroke-width:1.5}
.ev text{fill:#880e4f;font-weight:bold}
.viol line{stroke:#d50000;stroke-width:2.5}
.viol text{fill:#d50000;font-weight:bold;font-size:12px}
table{border-collapse:collapse;margin-top:6px;font-size:12px}
th,td{padding:2px 10px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
th{background:#f4f5f7;position:sticky;top:0}
td:first-child{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:nowrap}
tr.k-crash td,tr.k-violation td{color:#b71c1c;font-weight:600}
tr.k-restart td{color:#1b5e20}
tr.k-disk td{color:#bf360c}
tr.k-role td{color:#1b4f72}
tr.k-network td,tr.k-phase td{color:#4e342e}
tr.k-commit td,tr.k-apply td{color:#888}
`
