package sim

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/nodes"
)

// MemoryLimit is the soft heap limit during a run (runtime/debug): the
// collector runs rarely below it and as often as needed near it.
const MemoryLimit = 192 << 20

// gcPercent and memoryLimit are the collector's settings during a run; a
// benchmark may switch the collector off to count only the world's work.
var gcPercent, memoryLimit int64 = 400, MemoryLimit

// Run runs one world to its end or its first violation. A panic inside the
// world is a failing report (invariant "panic"), never a crash of the
// caller. Only one run owns the process at a time (see runMu).
func Run(cfg Config) (rep *Report, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := newWorld(cfg)
	var liveHeap uint64
	var liveHeapWall time.Duration
	WithSeededCryptoRand(w.streams.Fork("raft/jitter"), func() {
		// A world allocates at a steady rate and keeps a modest live heap:
		// collecting less often buys about a fifth of the run time.
		defer debug.SetGCPercent(debug.SetGCPercent(int(gcPercent)))
		// ... but not past a soft limit, so that long runs stay small.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit))
		defer func() {
			if r := recover(); r != nil {
				w.chk.Panicked(0, fmt.Sprintf("%v\n%s", r, debug.Stack()))
			}
		}()
		w.run()
		if cfg.SampleMemory {
			start := time.Now()
			w.sampleMemory()
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			liveHeap, liveHeapWall = ms.HeapAlloc, time.Since(start)
		}
	})
	rep = w.report()
	rep.LiveHeap, rep.liveHeapWall = liveHeap, liveHeapWall
	return rep, nil
}

func (w *world) report() *Report {
	cfg := w.cfg
	rep := &Report{Config: cfg, Faults: w.faults, Failpoints: w.fpList, Mix: w.mix(), Violation: w.chk.Violation(),
		Steps: w.step, End: w.q.Now(), TraceHash: w.tr.Hash(), Stats: w.stats}
	if rep.Violation != nil {
		rep.Step, rep.At = w.step, w.q.Now()
	}
	rep.Stats.Committed = w.committed
	rep.Stats.Unchecked = uint64(w.chk.Unchecked)
	rep.PeakHeap = w.peakHeap
	if v := rep.Violation; v != nil {
		w.mark(0, MarkViolation, v.Name+": "+v.Detail)
	}
	rep.Timeline = w.timeline
	w.compactHistory()
	rep.History, rep.LinearizabilityTimedOut, rep.LinearizabilityWall = w.history, w.linTimedOut, w.linWall
	rep.fates, rep.linPrefix = w.fates, w.linPrefix
	rep.Plan = w.plan
	if w.plan == nil && w.cfg.RecordPlan {
		rep.Plan = &w.recorded
	}
	for _, sl := range w.slots {
		if sl.m != nil {
			rep.Stats.absorb(sl.m.Stats())
		}
	}
	return rep
}

func (w *world) run() {
	w.tr.Note("%s", (&Report{Config: w.cfg, Faults: w.faults, Failpoints: w.fpList, Mix: w.mix()}).Header())
	for i := range w.slots {
		w.start(i, false)
	}
	w.q.After(0, Event{Kind: evArrival})
	if w.tickedFaults() {
		w.q.After(FaultTick, Event{Kind: evFaultTick})
	}
	if w.cfg.Duration > LinCheckpoint {
		w.q.After(LinCheckpoint, Event{Kind: evLinCheck})
	}
	w.loop(w.cfg.Duration)
	if w.chk.Violation() != nil || w.stopped() {
		return
	}
	w.liveness()
	w.checkLinearizable(false)
}

// mix describes the workload knobs the seed drew.
func (w *world) mix() string {
	return fmt.Sprintf("auth=%v auth-churn=%s leases=%v snapshot-count=%d compaction-batch=%d clients=%d",
		w.authOn, w.authChurn, w.leasesOn, w.snapCount, w.compactBatch, len(w.clients))
}

func (w *world) sampleMemory() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.peakHeap = max(w.peakHeap, ms.HeapInuse)
}

func (w *world) stopped() bool { return w.stopAt != 0 && w.step >= w.stopAt }

// loop pops events until the time limit, a violation or the step limit.
func (w *world) loop(until time.Duration) {
	for w.chk.Violation() == nil && !w.stopped() {
		at, ok := w.q.Peek()
		if !ok || at > until {
			return
		}
		e, _ := w.q.Pop()
		w.step++
		w.dispatch(e)
		if w.cfg.SampleMemory && w.step%20000 == 0 {
			w.sampleMemory()
		}
	}
}

func (w *world) dispatch(e Event) {
	switch e.Kind {
	case evTimer:
		w.onTimer(e)
	case evDeliver:
		w.onDeliver(e)
	case evRequest:
		w.onRequest(e)
	case evReply:
		w.onReply(e)
	case evTimeout:
		w.onTimeout(e)
	case evArrival:
		w.onArrival()
	case evFaultTick:
		w.onFaultTick()
	case evRestart:
		w.trace(e, 0, 0, func() string { return fmt.Sprintf("m%d restart", e.Node+1) })
		w.start(e.Node, true)
	case evResume:
		w.resume(e.Node)
	case evProbe:
		w.onProbe(e)
	case evReset:
		w.onReset(e)
	case evLinCheck:
		w.checkLinearizable(true)
		w.q.After(LinCheckpoint, Event{Kind: evLinCheck})
	}
}

func (w *world) trace(e Event, a, b uint64, line func() string) {
	w.tr.Add(e.At, uint8(e.Kind), e.Node, a, b, line)
}

// start boots member i: the first time on an empty disk, then from the
// crash image its disk kept.
func (w *world) start(i int, restart bool) {
	sl := w.slots[i]
	if sl.m != nil {
		return
	}
	var m *nodes.Member
	var err error
	crashed, panicked := guard(func() { m, err = nodes.Start(w.memberConfig(sl), sl.fs) })
	if panicked != nil {
		err = fmt.Errorf("panic: %v", panicked)
	}
	if crashed != "" {
		// Died at a failpoint while starting: crash again, restart later.
		w.stats.Failpoints++
		w.stats.Crashes++
		sl.fs = sl.fs.Crash()
		sl.life++
		w.noteOn(int(sl.id), MarkCrash, fmt.Sprintf("m%d crash while starting (failpoint %s)", sl.id, crashed))
		if down := w.failpointDown(sl, crashed); down >= 0 {
			w.q.After(down, Event{Kind: evRestart, Node: i})
		}
		return
	}
	if err != nil {
		w.chk.RestartFailed(sl.id, err)
		return
	}
	sl.m = m
	w.views[i], w.durable[i] = m, m
	if restart {
		w.stats.Restarts++
		w.mark(int(sl.id), MarkRestart, "restart from its crash image")
		w.chk.Restarted(m)
	}
	w.drain(i)
}

// guard runs fn and recovers what it panics with: the failpoint a member
// died at (nodes.Crashed), or anything else, with its stack.
func guard(fn func()) (crashed string, panicked any) {
	defer func() {
		if r := recover(); r != nil {
			if c, ok := r.(nodes.Crashed); ok {
				crashed = c.Point
				return
			}
			panicked = fmt.Sprintf("%v\n%s", r, debug.Stack())
		}
	}()
	fn()
	return "", nil
}

// call runs f on member i, turning a failpoint crash into a crash of the
// member and any other panic into a violation, then drains its output and
// runs the per-step checks.
func (w *world) call(i int, f func(m *nodes.Member)) {
	sl := w.slots[i]
	crashed, panicked := guard(func() { f(sl.m) })
	if panicked != nil {
		w.chk.Panicked(sl.id, panicked)
	}
	if crashed != "" {
		w.stats.Failpoints++
		down := w.failpointDown(sl, crashed)
		w.crash(i, "failpoint "+crashed, down)
		return
	}
	w.drain(i)
	w.chk.Step(sl.m)
	w.markRole(i)
}

// drain carries out what member i asked for.
func (w *world) drain(i int) {
	sl := w.slots[i]
	out := sl.m.Out()
	now := w.q.Now()
	for _, t := range out.Timers {
		after := t.After
		switch t.Kind {
		case nodes.TimerTick:
			after = time.Duration(int64(after) * sl.drift[0] / sl.drift[1])
		case nodes.TimerWALSync, nodes.TimerDefragRename:
			if now < sl.slowTil {
				after *= 20
			}
		}
		w.q.After(after, Event{Kind: evTimer, Node: i, Arg: sl.life<<8 | uint64(t.Kind)})
	}
	w.stats.Messages += uint64(len(out.Msgs))
	for _, msg := range out.Msgs {
		to := int(msg.GetTo())
		ts := w.net.Send(now, int(sl.id), to)
		if msg.GetType() == raftpb.MsgProp && len(ts) > 1 {
			// etcd's transport (TCP streams) never duplicates a forwarded
			// proposal, and raft does not deduplicate proposals: a copy
			// would be a second client request. Raft's own messages may be
			// duplicated; the protocol absorbs that.
			ts = ts[:1]
		}
		for _, at := range ts {
			w.q.At(at, Event{Kind: evDeliver, Node: to - 1, Arg: sl.id, Data: msg})
		}
	}
	for k := range out.Replies {
		r := out.Replies[k]
		if r.Index > 0 {
			w.chk.Acked(sl.m, r, w.durable)
		}
		if r.Client < 0 {
			continue
		}
		if ts := w.net.Send(now, int(sl.id), clientBase+r.Client); len(ts) > 0 {
			w.q.At(ts[0], Event{Kind: evReply, Node: r.Client, Arg: sl.id, Data: &r})
		}
	}
	sl.m.ResetOutput()
}

func (w *world) onTimer(e Event) {
	sl := w.slots[e.Node]
	if sl.m == nil || e.Arg>>8 != sl.life {
		return // a timer of an earlier life
	}
	if sl.paused {
		sl.held = append(sl.held, e)
		return
	}
	k := nodes.TimerKind(e.Arg & 0xff)
	w.trace(e, uint64(k), 0, func() string { return fmt.Sprintf("m%d %s", sl.id, k) })
	w.call(e.Node, func(m *nodes.Member) { m.Fire(k) })
}

func (w *world) onDeliver(e Event) {
	sl := w.slots[e.Node]
	msg := e.Data.(*raftpb.Message)
	from := int(e.Arg)
	if sl.m == nil || !w.net.Deliverable(from, int(sl.id)) {
		return
	}
	if sl.paused {
		sl.held = append(sl.held, e)
		return
	}
	w.trace(e, uint64(msg.GetType())<<16|e.Arg, msg.GetTerm()<<32^msg.GetIndex(), func() string {
		return fmt.Sprintf("m%d->m%d %s term=%d log=%d/%d commit=%d entries=%d", from, sl.id,
			msg.GetType(), msg.GetTerm(), msg.GetLogTerm(), msg.GetIndex(), msg.GetCommit(), len(msg.Entries))
	})
	w.call(e.Node, func(m *nodes.Member) { m.Step(msg) })
}

// crash kills member i: its memory is gone, its disk keeps a crash image.
func (w *world) crash(i int, why string, down time.Duration) {
	sl := w.slots[i]
	if sl.m == nil {
		return
	}
	w.stats.Crashes++
	w.stats.absorb(sl.m.Stats())
	w.resetClients(i)
	sl.m, w.views[i] = nil, nil
	sl.fs = sl.fs.Crash()
	sl.life++
	sl.paused, sl.held = false, nil
	w.tr.Add(w.q.Now(), 0xf0, i, sl.life, 0, func() string {
		return fmt.Sprintf("m%d crash (%s) %v", sl.id, why, sl.fs.CrashLog())
	})
	w.mark(int(sl.id), MarkCrash, why)
	for _, l := range sl.fs.CrashLog() {
		w.mark(int(sl.id), MarkDisk, l)
	}
	sl.lastRole = ""
	if down >= 0 && !w.healing {
		w.q.After(down, Event{Kind: evRestart, Node: i})
	}
}

func (w *world) resume(i int) {
	sl := w.slots[i]
	if !sl.paused {
		return
	}
	sl.paused = false
	w.mark(int(sl.id), MarkResume, "resumes")
	held := sl.held
	sl.held = nil
	for _, e := range held {
		w.q.After(0, e)
	}
}

// observer adapts the world to nodes.Observer, forwarding to the checks.
type observer world

func (o *observer) Committed(m *nodes.Member, ents []*raftpb.Entry) {
	if last := ents[len(ents)-1].GetIndex(); last > o.committed {
		o.committed = last
	}
	o.chk.Committed(m, ents)
}

func (o *observer) Applied(m *nodes.Member, index uint64, out *nodes.Outcome) {
	o.chk.Applied(m, index, out)
	if o.cfg.Timeline && out != nil {
		(*world)(o).mark(int(m.ID()), MarkApply, fmt.Sprintf("index %d %s %s rev=%d", index, out.Kind, out.Code, out.Rev))
	}
}

func (o *observer) DurableCommit(m *nodes.Member) {
	o.chk.DurableCommit(m)
	if o.cfg.Timeline {
		(*world)(o).mark(int(m.ID()), MarkCommit, fmt.Sprintf("backend commit, consistent index %d", invariants.MetaIndex(m.Backend())))
	}
}

func (o *observer) SnapshotInstalled(m *nodes.Member) {
	o.chk.SnapshotInstalled(m)
}

func (o *observer) WALSynced(m *nodes.Member, hs *raftpb.HardState, _ uint64) {
	o.chk.WALSynced(m, hs)
}

var _ invariants.View = (*nodes.Member)(nil)
