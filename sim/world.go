package sim

import (
	"fmt"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/network"
	"github.com/etcdsim/etcdsim/nodes"
)

// Event kinds of the world.
const (
	evTimer         EventKind = iota + 1 // a member's timer (Arg: life<<8 | nodes.TimerKind)
	evDeliver                            // a raft message reaches a member (Arg: the sender's ID)
	evRequest                            // a client request reaches a member (Arg: the client)
	evReply                              // a member's reply reaches a client (Node: the client)
	evTimeout                            // a client's request timer (Node: the client)
	evArrival                            // the workload's next arrival instant
	evFaultTick                          // the next fault tick
	evRestart                            // a crashed member restarts
	evResume                             // a paused member resumes
	evProbe                              // the liveness phase's probe write is (re)sent
	evLinCheck                           // a long run's linearizability checkpoint
	evReset                              // a client learns its member crashed (Arg: the request ID)
	evMark                               // nothing: ends a scenario's run at an exact time
	evForward                            // a forwarded request or its answer reaches a member (Arg: the sender's ID)
	evRemovedNotice                      // a removed member learns it from a peer (Arg: its life)
	evChurn                              // the membership operator's next look
)

var evNames = [...]string{"", "timer", "deliver", "request", "reply", "timeout", "arrival", "fault-tick", "restart", "resume", "probe", "lin-check", "reset", "mark",
	"forward", "removed-notice", "churn"}

// String names the event kind.
func (k EventKind) String() string {
	if int(k) < len(evNames) {
		return evNames[k]
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// world is one simulated world: a thin composition of its parts, stepped
// by one loop. The parts each have one job: the cluster runs the members,
// the workload runs the clients, the fault schedule carries out faults,
// the history feeds the oracle; the driver decides what comes next.
type world struct {
	*core
	streams Streams
	opt     options
	cl      *cluster
	wl      *workload
	faults  *faultSched
	hist    *history
	drv     driver
	watch   watcher  // per-event hooks of a scenario, or nil
	churn   *churner // the membership operator (Config.Churn), or nil
}

// watcher sees every event of a world before and after it runs (a
// scenario, which reports what happened).
type watcher interface {
	before(e Event)
	after(e Event)
}

// newWorld builds the world of cfg, with the driver cfg implies (its plan,
// or its seed's draws); nothing runs until begin.
func newWorld(cfg Config) *world {
	cfg.defaults()
	s := NewStreams(cfg.Seed)
	c := &core{cfg: cfg, tr: NewTrace(cfg.Trace), stopAt: cfg.MaxSteps}
	w := &world{core: c, streams: s}
	rngFault := s.Fork("faults")
	w.opt = drawOptions(cfg, s, rngFault)
	c.chk = invariants.NewChecker(cfg.Members)
	c.chk.Off = cfg.NoChecks
	c.chk.Ref = invariants.NewReferenceFor(cfg.Bugs)
	w.hist = newHistory(c)
	w.cl = &cluster{core: c, streams: s, opt: &w.opt, decoded: new(nodes.Decoded)}
	c.chk.Ref.Decoded = w.cl.decoded
	c.chk.Ref.Applied = w.hist.applied
	if !cfg.NoChecks {
		w.hist.leases = c.chk.NewLeases(leaseBound(w.opt.drift))
		w.cl.leases = w.hist.leases
	}
	w.cl.net = network.New(s.Fork("network"), w.opt.netConfig())
	for i := range cfg.Members {
		w.cl.add(w.opt.drift[i], w.opt.diskFaults())
	}
	w.wl = newWorkload(c, w.cl, w.hist, &w.opt, s.Fork("workload"))
	w.wl.more = s.Fork("workload/more")
	w.cl.onCrash = w.wl.reset
	w.faults = &faultSched{core: c, cl: w.cl, f: &w.opt.faults, rng: rngFault, stopRng: s.Fork("faults/stop/tick")}
	w.setDriver(newDriver(w))
	if cfg.Churn > 0 || cfg.Plan.membership() || w.opt.clusterAPI {
		w.enableMembership()
	}
	if cfg.Churn > 0 {
		w.churn = newChurner(w)
		w.wl.churn = w.churn
	}
	return w
}

// enableMembership makes the world model membership: its members, the
// reference and the checks follow it.
func (w *world) enableMembership() {
	voters := make([]uint64, w.cfg.Members)
	for i := range voters {
		voters[i] = uint64(i + 1)
	}
	w.chk.Ref.EnableMembership(voters)
	w.cl.clientUser = map[uint64]string{}
	w.cl.membership = true
	w.chk.Ref.ConfApplied = w.cl.onConf
	w.cl.linksChanged()
}

// setDriver makes d decide what the world does next.
func (w *world) setDriver(d driver) {
	w.drv, w.cl.drv = d, d
}

// begin starts the members and schedules the driver's first events.
func (w *world) begin() {
	w.tr.Note("%s", w.header().Header())
	for i := range w.cl.members {
		w.cl.start(i, false)
	}
	w.drv.begin(w)
	if w.cfg.Duration > LinCheckpoint {
		w.q.After(LinCheckpoint, Event{Kind: evLinCheck})
	}
}

// run runs the safety phase, then the liveness phase and the final
// linearizability check.
func (w *world) run() {
	w.begin()
	w.loop(w.cfg.Duration)
	if w.chk.Violation() != nil || w.stopped() {
		return
	}
	w.liveness()
	w.hist.check(false, w.wl.clients)
}

// loop pops events until the time limit, a violation (unless lenient) or
// the step limit.
func (w *world) loop(until time.Duration) {
	for {
		e, slot, panicked := w.steps(until)
		if !panicked {
			return
		}
		// A member's call panicked in e: end the call as call would have,
		// then the event.
		w.cl.afterCall(w.cl.callee, w.cl.crashed, w.cl.panic)
		w.cl.crashed, w.cl.panic = "", nil
		w.finish(e)
		w.q.release(slot)
	}
}

// steps runs loop's events until it ends, or until a member's call that
// an event handler started with cluster.enter panics: it then returns
// that event, its queue slot and true. Its one deferred recover guards
// the calls of every event, instead of a guard per event; a panic outside
// a member's call goes on up (to Run). Each event is read in its queue
// slot (Queue.take), freed after it ran.
func (w *world) steps(until time.Duration) (e *Event, slot int32, panicked bool) {
	defer func() {
		if !w.cl.inCall {
			return
		}
		if r := recover(); r != nil { // nil: a Goexit, no panic
			w.cl.panicked(r)
			panicked = true
		}
	}()
	for (w.chk.Violation() == nil || w.lenient) && !w.stopped() {
		at, ok := w.q.Peek()
		if !ok || at > until {
			return nil, 0, false
		}
		e, slot = w.q.take()
		w.step++
		if w.watch != nil {
			w.watch.before(*e)
		}
		w.dispatch(e)
		if w.watch != nil {
			w.watch.after(*e)
		}
		if w.cfg.SampleMemory && w.step%20000 == 0 {
			w.sampleMemory()
		}
		w.q.release(slot)
	}
	return nil, 0, false
}

// finish ends event e's step as steps does after a panicked call. steps
// keeps these lines in its own body rather than calling finish: the call
// is not inlined, and it cost 0.3% of a world's instructions per event.
func (w *world) finish(e *Event) {
	if w.watch != nil {
		w.watch.after(*e)
	}
	if w.cfg.SampleMemory && w.step%20000 == 0 {
		w.sampleMemory()
	}
}

// dispatch runs one event on the part it is for.
func (w *world) dispatch(e *Event) {
	switch e.Kind {
	case evTimer:
		w.cl.onTimer(e)
	case evDeliver:
		w.cl.onDeliver(e)
	case evRequest:
		w.cl.onRequest(e)
	case evReply:
		w.wl.onReply(e)
	case evTimeout:
		w.wl.onTimeout(e)
	case evArrival:
		w.onArrival()
	case evFaultTick:
		w.onFaultTick()
	case evRestart:
		w.trace(e, 0, 0, func() string { return fmt.Sprintf("m%d restart", w.cl.members[e.Node].id) })
		w.cl.start(e.Node, true)
	case evResume:
		w.cl.resume(e.Node)
	case evProbe:
		w.wl.onProbe()
	case evReset:
		w.wl.onReset(e)
	case evLinCheck:
		w.hist.check(true, w.wl.clients)
		w.q.After(LinCheckpoint, Event{Kind: evLinCheck})
	case evForward:
		w.cl.onForward(e)
	case evRemovedNotice:
		w.cl.onRemovedNotice(e)
	case evChurn:
		w.churn.onTick()
	}
}

// onArrival is an arrival instant of the open-loop workload: Rate
// requests per simulated second across the cluster; the driver decides
// what is sent.
func (w *world) onArrival() {
	if w.healing || w.cfg.Rate == 0 {
		return
	}
	w.q.After(time.Second/time.Duration(w.cfg.Rate), Event{Kind: evArrival})
	w.drv.arrive(w)
}

// onFaultTick is a fault tick: the driver decides the faults.
func (w *world) onFaultTick() {
	if w.healing {
		return
	}
	w.q.After(FaultTick, Event{Kind: evFaultTick})
	w.drv.tick(w)
}

// header is the report of the options, before anything ran.
func (w *world) header() *Report {
	r := &Report{Config: w.cfg, Faults: w.opt.faults, Failpoints: w.opt.failpoints, Mix: w.opt.mix(), Clocks: w.opt.clocks()}
	if w.churn != nil {
		r.Churn = w.churn.knobs()
	}
	return r
}
