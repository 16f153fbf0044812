package sim

import (
	"slices"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/prob"
)

// A driver decides what a world does next beyond what its mechanisms do
// on their own: which client sends what at each arrival instant, which
// faults happen at each fault tick, whether a member dies when it passes
// a failpoint, and how long a dead member stays down. Three drivers
// exist: seeded (the seed's draws, recording the plan they make),
// planned (a Plan, from a seed file, a shrink or rapid) and a Scenario
// (a script, one command at a time). The world never asks which one
// it has.
//
// A driver is asked at arrival instants and fault ticks, not per event;
// its failpoint function is handed to each member life once.
type driver interface {
	// begin schedules the driver's first arrival and fault tick, if any.
	begin(w *world)
	// arrive is an arrival instant: send what is due.
	arrive(w *world)
	// tick is a fault tick: carry out the faults that are due.
	tick(w *world)
	// failpoint returns member m's answer to "do I die here?", asked at
	// every pass through a failpoint (nodes.Config.Failpoint) in armed.
	failpoint(m *member) func(nodes.Failpoint) bool
	// armedSet is the points at which failpoint may answer yes, kept up to
	// date (nodes.Config.Armed), or nil: any.
	armedSet() *nodes.FailpointSet
	// downFor is how long m, dead at point, stays down (< 0: until a
	// restart by hand).
	downFor(m *member, point string) time.Duration
	// plan is the plan the run followed or recorded (Report.Plan), or nil.
	plan() *Plan
}

// newDriver returns the driver of a world's Config: its plan, or its seed.
func newDriver(w *world) driver {
	if w.cfg.Plan != nil {
		return newPlanned(w.cfg.Plan, w.faults)
	}
	if w.cfg.RecordPlan {
		w.rec = &Plan{}
	}
	d := &seeded{fs: w.faults, opt: &w.opt, rate: w.opt.fpRate, path: slices.Clone(w.opt.pathArmed)}
	d.rated()
	return d
}

// startWorkload schedules the first arrival at once, and the first fault
// tick if the driver has faults to give at ticks.
func startWorkload(w *world, ticked bool) {
	w.q.After(0, Event{Kind: evArrival})
	if ticked {
		w.q.After(FaultTick, Event{Kind: evFaultTick})
	}
}

// seeded is the driver of a seeded run: every decision is a draw from the
// seed's streams ("workload" for requests, "faults" for faults).
type seeded struct {
	fs  *faultSched
	opt *options
	// rate is, per pass through each failpoint, the chance to crash there:
	// the options', but a point of a received snapshot's path that fired
	// is off for the rest of the run, and the points still on share the
	// path (oneShot).
	rate [nodes.NumFailpoints]prob.Ratio
	path []nodes.Failpoint  // the path's points switched on that have not fired, in pass order
	on   nodes.FailpointSet // the points whose rate is not zero
}

// rated updates on after a change of rate.
func (d *seeded) rated() {
	d.on = 0
	for fp, r := range d.rate {
		if !r.Zero() {
			d.on = d.on.With(nodes.Failpoint(fp))
		}
	}
}

func (d *seeded) armedSet() *nodes.FailpointSet { return &d.on }

func (d *seeded) begin(w *world) { startWorkload(w, d.fs.ticked()) }

// arrive gives a request of the mix to a random idle client; with every
// client waiting, the arrival is dropped.
func (d *seeded) arrive(w *world) {
	c := w.wl.idle()
	if c == nil {
		w.stats.Dropped++
		return
	}
	req := w.wl.genRequest(c)
	if w.rec != nil {
		template := *req
		w.record(Step{Kind: StepRequest, Client: c.idx, Member: int(w.cl.members[c.target].id), Req: &template, Patient: c.patient})
	}
	w.wl.issue(c, req)
}

// tick draws the faults of a fault tick; while a snapshot-path point
// that the blackhole triggers is switched on, the blackhole starts as soon
// as it may (snapshotTrigger).
func (d *seeded) tick(*world) { d.fs.draw(d.opt.pathTrigger && len(d.path) > 0) }

// failpoint is the second level of two-level activation: a point the
// options switched on fires at its rate. Only points that can fire count
// their passes, in a seeded run and in its plan alike, so the numbers
// agree.
func (d *seeded) failpoint(m *member) func(nodes.Failpoint) bool {
	return func(fp nodes.Failpoint) bool {
		if d.fs.healing {
			return false
		}
		r := d.rate[fp]
		if r.Zero() {
			return false // never fires: its passes need no counting (not in on)
		}
		pass := m.pass(fp)
		fire := r.Hit(d.fs.rng)
		if fire {
			m.fired = pass
			d.oneShot(fp)
		}
		return fire
	}
}

// oneShot switches fp off once it fired if it is a point of a received
// snapshot's path that the swarm switched on, and shares the path among
// the points still on (sharePath; one alone fires at its least rate).
// Robustness's goPanicFailpoint fires once: Inject arms it over gofail's
// HTTP endpoint on a running member and waits for that member to die
// there; the member restarts without it. A path point is passed once an
// install, and a run has a few: one that fired again would take from the
// others the installs they need to fire (issue 17: an armed point fires
// in most runs that arm it).
func (d *seeded) oneShot(fp nodes.Failpoint) {
	i := slices.Index(d.path, fp)
	if i < 0 {
		return
	}
	d.path = slices.Delete(d.path, i, i+1)
	d.rate[fp] = prob.Never
	for _, p := range d.path {
		d.rate[p] = leastFire(p)
	}
	sharePath(&d.rate, d.path)
	d.rated()
}

// downFor draws the down time and records the failpoint step.
func (d *seeded) downFor(m *member, point string) time.Duration {
	down := d.fs.restartDelay()
	d.fs.record(Step{Kind: StepFailpoint, Member: int(m.id), Point: point, Pass: m.fired, For: down})
	return down
}

func (d *seeded) plan() *Plan { return d.fs.rec }

// planned is the driver of a run that follows a Plan: requests at the
// arrival instants and faults at the fault ticks the plan gives, a member
// dies at the pass through a failpoint the plan names. The timing noise
// inside the world still comes from the seed.
type planned struct {
	p       *Plan // sorted by time
	req     int   // the next request step
	fault   int   // the next fault step
	byPoint [nodes.NumFailpoints][]Step
	on      nodes.FailpointSet // the points of byPoint
	fs      *faultSched
}

func newPlanned(p *Plan, fs *faultSched) *planned {
	d := &planned{p: sortedPlan(p), fs: fs}
	for _, st := range d.p.Steps {
		// A step at a point no member has never fires.
		if fp, ok := nodes.ParseFailpoint(st.Point); ok && st.Kind == StepFailpoint {
			d.byPoint[fp] = append(d.byPoint[fp], st)
			d.on = d.on.With(fp)
		}
	}
	return d
}

// begin schedules fault ticks only if the plan holds a fault for them.
func (d *planned) begin(w *world) {
	ticked := false
	for _, s := range d.p.Steps {
		ticked = ticked || s.Kind != StepRequest && s.Kind != StepFailpoint
	}
	startWorkload(w, ticked)
}

// arrive sends the plan's requests that are due; a request whose client
// still waits for an answer is dropped (a shrunk plan may shift what
// happens when).
func (d *planned) arrive(w *world) {
	now := w.q.Now()
	for ; d.req < len(d.p.Steps); d.req++ {
		s := &d.p.Steps[d.req]
		if s.Kind != StepRequest {
			continue
		}
		if s.At > now {
			return
		}
		c := w.wl.clients[s.Client]
		if c.req != nil {
			continue
		}
		req := *s.Req
		target, ok := w.cl.byID(uint64(s.Member))
		if !ok {
			continue // a member that never joined this run (a shrunk plan)
		}
		c.target, c.patient = target, s.Patient
		w.wl.issue(c, &req)
	}
}

// tick carries out the plan's faults that are due.
func (d *planned) tick(w *world) {
	now := w.q.Now()
	for ; d.fault < len(d.p.Steps); d.fault++ {
		s := &d.p.Steps[d.fault]
		if s.Kind == StepRequest || s.Kind == StepFailpoint {
			continue
		}
		if s.At > now {
			return
		}
		d.apply(w, s)
	}
}

// apply carries out one fault step.
func (d *planned) apply(w *world, s *Step) {
	i, ok := w.cl.byID(uint64(s.Member))
	if !ok && s.Kind != StepPartition && s.Kind != StepHeal && s.Kind != StepCut {
		// A member that never joined this run (a shrunk plan).
		return
	}
	switch s.Kind {
	case StepCrash:
		d.fs.crash(i, "plan", s.For)
	case StepPartition:
		d.fs.partition(s.Groups)
	case StepHeal:
		d.fs.heal()
	case StepCut:
		d.fs.cut(s.Member, s.To)
	case StepPause:
		d.fs.pause(i, s.For)
	case StepSlowDisk:
		d.fs.slow(i, s.For)
	case StepStop:
		d.fs.stop(i, s.For)
	case StepStart:
		w.cl.startJoined(i)
	}
}

// failpoint fires at the passes the plan names for the member.
func (d *planned) failpoint(m *member) func(nodes.Failpoint) bool {
	return func(fp nodes.Failpoint) bool {
		if d.fs.healing {
			return false
		}
		steps := d.byPoint[fp]
		if len(steps) == 0 {
			return false
		}
		pass := m.pass(fp)
		for _, s := range steps {
			if s.Member == int(m.id) && s.Pass == pass {
				m.down = s.For
				return true
			}
		}
		return false
	}
}

func (d *planned) armedSet() *nodes.FailpointSet { return &d.on }

func (d *planned) downFor(m *member, _ string) time.Duration { return m.down }

func (d *planned) plan() *Plan { return d.p }
