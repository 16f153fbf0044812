package sim

import (
	"time"

	"github.com/etcdsim/etcdsim/invariants/linearizable"
)

// linearizableTimeout bounds porcupine's search; running out is reported
// as inconclusive, never as a failure.
const linearizableTimeout = 10 * time.Second

// linearizableOps converts the client history; a request still outstanding
// at the end has an unknown outcome.
func linearizableOps(history []Op) []linearizable.Op {
	ops := make([]linearizable.Op, len(history))
	for i := range history {
		o := &history[i]
		ops[i] = linearizable.Op{ClientID: o.Proc, Call: int64(o.Call), Return: int64(o.Return),
			Unknown: o.Unknown || o.Return == 0, Req: o.Req, Result: o.Result}
	}
	return ops
}

// checkLinearizable is the invariant linearizable, run at the end of the
// run over the whole client history (etcd's robustness tests judge etcd
// the same way).
func (w *world) checkLinearizable() {
	if w.cfg.NoChecks || w.chk.Violation() != nil {
		return
	}
	start := time.Now()
	res := linearizable.Check(linearizableOps(w.history), linearizableTimeout)
	w.linWall = time.Since(start)
	w.linTimedOut = res.TimedOut
	if !res.OK {
		w.chk.Fail("linearizable", res.Detail)
	}
}

// LinearizabilityHTML writes porcupine's visualization of a run's client
// history to path, with its crash and partition windows as annotations.
func LinearizabilityHTML(rep *Report, path string) error {
	var notes []linearizable.Annotation
	for _, m := range rep.Timeline {
		switch m.Kind {
		case MarkCrash, MarkRestart, MarkNet, MarkPause, MarkViolation:
			notes = append(notes, linearizable.Annotation{Start: int64(m.At), End: int64(m.At), Tag: m.Kind, Description: m.Detail})
		}
	}
	return linearizable.Visualize(linearizableOps(rep.History), path, notes)
}
