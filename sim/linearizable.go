package sim

import (
	"fmt"
	"time"

	"github.com/etcdsim/etcdsim/invariants/linearizable"
	"github.com/etcdsim/etcdsim/nodes"
)

// LinCheckpoint is when a long run first checks the history so far (then
// at 4×, 16×, … that time), so that a violation stops it nearer to where it
// happened than the end.
const LinCheckpoint = 60 * time.Second

// linearizableTimeout bounds porcupine's search; running out is reported
// as inconclusive, never as a failure.
const linearizableTimeout = 10 * time.Second

// linearizableOps converts the client history; a request still outstanding
// at the end has an unknown outcome.
func linearizableOps(history []Op) []linearizable.Op {
	ops := make([]linearizable.Op, len(history))
	for i := range history {
		ops[i] = linearizableOp(&history[i])
	}
	return ops
}

func linearizableOp(o *Op) linearizable.Op {
	return linearizable.Op{ClientID: o.Proc, Call: int64(o.Call), Return: int64(o.Return),
		Unknown: o.Unknown || o.Return == 0, Req: o.Req, Result: o.Result}
}

// checked reports whether a check can need a finished request: the
// linearizability check uses it, or it is a serializable read that
// serializableMonotonic compares.
func checked(o *Op) bool {
	if lo := linearizableOp(o); linearizable.Checked(&lo) {
		return true
	}
	return o.Req.Kind == nodes.KindRange && o.Req.Serializable && !o.Unknown && o.Result.Code == nodes.OK
}

// finish ends a client's request in the history. One that no check can
// need is dropped (its slot emptied, the history compacted once half of it
// is empty), so that the history grows only by what the checks read:
// every output made from it (the verdict, its detail, the visualization)
// is the same without them.
func (w *world) finish(c *client) {
	o := &w.history[c.op]
	if checked(o) || keepWholeHistory {
		return
	}
	*o = Op{}
	w.emptied++
	if w.emptied >= 1024 && 2*w.emptied >= len(w.history) {
		w.compactHistory()
	}
}

// keepWholeHistory keeps every request in the history (a test switch).
var keepWholeHistory bool

// compactHistory moves the requests kept to the front of the history,
// in order, and follows the clients' requests still in flight (never
// emptied: only finished ones are).
func (w *world) compactHistory() {
	n := 0
	for i := range w.history {
		o := &w.history[i]
		if o.Req == nil {
			continue
		}
		if c := w.clients[o.Client]; c.req != nil && c.op == i {
			c.op = n
		}
		w.history[n] = *o
		n++
	}
	clear(w.history[n:])
	w.history = w.history[:n]
	w.emptied = 0
}

// checkLinearizable is the invariant linearizable, run over the whole
// client history at the end of the run, and at checkpoints of a long one
// (etcd's robustness tests judge etcd the same way). Requests still in
// flight at a checkpoint count as unknown outcomes then.
func (w *world) checkLinearizable() {
	if w.cfg.NoChecks || w.chk.Violation() != nil {
		return
	}
	start := time.Now()
	res := linearizable.Check(linearizableOps(w.history), linearizableTimeout)
	w.linWall += time.Since(start)
	w.linTimedOut = w.linTimedOut || res.TimedOut
	if !res.OK {
		w.chk.Fail("linearizable", res.Detail)
		return
	}
	if d := serializableMonotonic(w.history); d != "" {
		w.chk.Fail("linearizable", d)
	}
}

// serializableMonotonic checks what serializable ranges promise, which is
// not linearizability: one client reading from one member never sees the
// revision go back. (A restarted member serves again only once its publish
// is applied, by when it has applied at least what it served before.)
func serializableMonotonic(history []Op) string {
	type session struct {
		proc   int
		member uint64
	}
	last := map[session]*Op{}
	for i := range history {
		o := &history[i]
		if o.Req == nil || o.Req.Kind != nodes.KindRange || !o.Req.Serializable || o.Unknown || o.Return == 0 || o.Result.Code != nodes.OK {
			continue
		}
		k := session{o.Proc, o.Member}
		if p := last[k]; p != nil && o.Result.Rev < p.Result.Rev {
			return fmt.Sprintf("serializable reads of client %d from m%d went back in revision: %d at %s, then %d at %s",
				o.Proc, o.Member, p.Result.Rev, FormatTime(p.Call), o.Result.Rev, FormatTime(o.Call))
		}
		last[k] = o
	}
	return ""
}

// LinearizabilityHTML writes porcupine's visualization of a run's client
// history to path, with notes drawn as rows of their own (the fault
// windows of report.Annotations).
func LinearizabilityHTML(rep *Report, path string, notes []linearizable.Annotation) error {
	return linearizable.Visualize(linearizableOps(rep.History), path, notes)
}
