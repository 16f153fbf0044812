package sim

import (
	"fmt"
	"maps"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/invariants/linearizable"
	"github.com/etcdsim/etcdsim/nodes"
)

// LinCheckpoint is how often a long run checks the history so far, so
// that a violation stops it near where it happened, and folds what it
// checked (see history.fold).
const LinCheckpoint = 60 * time.Second

// linearizableTimeout bounds porcupine's search; running out is reported
// as inconclusive, never as a failure.
const linearizableTimeout = 10 * time.Second

// linearizableOps converts the client history for the check, with the
// log's fates of the writes whose outcome their client never learned
// (see settled); a request still outstanding has an unknown outcome.
func linearizableOps(history []Op, fates map[uint64]fate) []linearizable.Op {
	ops := make([]linearizable.Op, len(history))
	for i := range history {
		settleInto(&ops[i], &history[i], fates)
	}
	return ops
}

// kept returns linearizable.Checked and Uncertain of o as settleInto
// converts it, without building the linearizable.Op (finish asks at every
// request).
func kept(o *Op) (checked, uncertain bool) {
	return linearizable.Kept(o.Req, o.Unknown || o.Return == 0, int64(o.Call), int64(o.Return), o.Result.Code)
}

// history is the client history of a run and its hookup to the oracle:
// it follows each write until its outcome is certain, settles open ones
// from the reference's apply of the committed log, keeps only what a
// check reads, and runs the linearizability check (porcupine) over it.
type history struct {
	*core
	ops        []Op
	emptied    int                  // finished requests of ops no check needs (see finish)
	linPrefix  *linearizable.Prefix // the history checked and folded (see fold)
	serialLast map[session]Op       // the last serializable read of each session folded
	timedOut   bool                 // porcupine ran out of time on some window
	wall       time.Duration        // wall time of the linearizability check
	leases     *invariants.Leases   // the lease checker, fed from the same history (nil: checks off)
	// fates holds the writes followed (see await) by request ID: those not
	// yet answered for certain nor seen committed (undecided: settled
	// false), and those the log settled while their outcome was open. One
	// map, not one for each, saves a write two of the map operations of
	// its life (see settle, finish).
	fates map[uint64]fate
}

func newHistory(c *core) *history {
	return &history{core: c, ops: make([]Op, 0, expectedOps(c.cfg)), fates: map[uint64]fate{}, serialLast: map[session]Op{}}
}

// expectedOps is the history's starting capacity: about the requests a
// window sends (three quarters of the offered rate reach an idle client
// under the fault swarm), so that appending the calls does not copy the
// history again and again as it grows (an Op is 160 bytes, and append
// grows a large slice by only a quarter). Capacity decides nothing.
func expectedOps(cfg Config) int {
	window := min(cfg.Duration, LinCheckpoint)
	return max(min(int(int64(cfg.Rate)*int64(window/time.Millisecond)/1000)*3/4, 1<<14), 0)
}

// add appends a request's call to the history and returns its index. A
// full history at least a quarter empty is compacted rather than grown
// (growing copies all of it into an array a quarter larger).
func (w *history) add(o Op, clients []*client) int {
	if len(w.ops) == cap(w.ops) && 4*w.emptied >= len(w.ops) {
		w.compact(clients)
	}
	w.ops = append(w.ops, o)
	return len(w.ops) - 1
}

// fate is what the committed log says of a write whose client had not
// learned its outcome for certain: when a member first reported the entry
// carrying it committed, and what applying it returned (settled: the log
// said; false for a write still undecided).
type fate struct {
	settled bool
	at      time.Duration
	res     nodes.Result
}

// await follows a write from its call until its outcome is certain: its
// client was answered with a code that decides it, or the log settled it.
func (w *history) await(req *nodes.Request) {
	if w.cfg.NoChecks {
		return // no check reads a fate, and the reference learns none
	}
	if followed(req) {
		w.fates[req.ID] = fate{}
	}
}

// followed reports whether await follows a request: a write, whose
// outcome the log can settle. Only these are ever undecided or have a
// fate.
func followed(req *nodes.Request) bool {
	switch req.Kind {
	case nodes.KindPut, nodes.KindDeleteRange, nodes.KindTxn:
		return true
	}
	return false
}

// settle is the reference applying a committed request (called as it
// appends the entry, which is when the first member reports it
// committed). A write still undecided then is settled: the linearizability
// check takes it as done between its call and now, with the apply's
// result, as etcd's robustness tests settle writes whose client got no
// answer from the persisted requests. One never settled by a check did not
// take effect before it (see linearizable.Fate).
func (w *history) settle(req *nodes.Request, res nodes.Result) {
	if f, ok := w.fates[req.ID]; !ok || f.settled {
		return
	}
	w.fates[req.ID] = fate{settled: true, at: w.q.Now(), res: nodes.Result{Code: res.Code, Rev: res.Rev, Deleted: res.Deleted, Succeeded: res.Succeeded}}
}

// settleInto converts a request for the check into lo, a zero Op, with
// its fate in the log when its outcome is open: settled by the log, or
// never committed. (Field by field: building an Op and copying it in
// wrote each of the history's Ops twice.) kept classifies o as converted
// here.
func settleInto(lo *linearizable.Op, o *Op, fates map[uint64]fate) {
	lo.ClientID, lo.Call, lo.Return = o.Proc, int64(o.Call), int64(o.Return)
	lo.Unknown, lo.Req, lo.Result = o.Unknown || o.Return == 0, o.Req, o.Result
	if !linearizable.Uncertain(lo) {
		return
	}
	if f := fates[o.Req.ID]; f.settled {
		lo.Log, lo.Committed, lo.LogResult = linearizable.LogApplied, int64(f.at), f.res
	} else {
		lo.Log = linearizable.LogNever
	}
}

// finish ends a client's request in the history. A write answered for
// certain is no longer followed (see await). A request that no check can
// need is dropped (its slot emptied, the history compacted once half of it
// is empty), so that the history grows only by what the checks read:
// every output made from it (the verdict, its detail, the visualization)
// is the same without them. What the checks read: what the
// linearizability check uses, and the serializable reads that
// serializableMonotonic compares.
func (w *history) finish(c *client, clients []*client) {
	o := &w.ops[c.op]
	w.observeLeases(o)
	checked, uncertain := kept(o)
	if !uncertain && followed(o.Req) {
		delete(w.fates, o.Req.ID)
	}
	if checked || serializableRead(o) || keepWholeHistory {
		return
	}
	*o = Op{}
	w.emptied++
	if w.emptied >= 1024 && 2*w.emptied >= len(w.ops) {
		w.compact(clients)
	}
}

// keepWholeHistory keeps every request in the history (a test switch).
var keepWholeHistory bool

// compact moves the requests kept to the front of the history,
// in order, and follows the clients' requests still in flight (never
// emptied: only finished ones are).
func (w *history) compact(clients []*client) {
	n := 0
	for i := range w.ops {
		o := &w.ops[i]
		if o.Req == nil {
			continue
		}
		if c := clients[o.Client]; c.req != nil && c.op == i {
			c.op = n
		}
		w.ops[n] = *o
		n++
	}
	clear(w.ops[n:])
	w.ops = w.ops[:n]
	w.emptied = 0
}

// check is the invariant linearizable, run over the client
// history at the end of the run and at every checkpoint of a long one
// (etcd's robustness tests judge etcd the same way). Requests still in
// flight at a checkpoint count as unknown outcomes then, settled by the
// log as far as it goes. After a checkpoint's check, what ended before a
// cut is folded into the prefix and dropped (see fold), so that
// each check reads one window and a run's memory stays flat.
func (w *history) check(checkpoint bool, clients []*client) {
	if w.cfg.NoChecks || w.chk.Violation() != nil {
		return
	}
	start := time.Now()
	defer func() { w.wall += time.Since(start) }()
	// The check converts one request at a time (no converted copy of the
	// history: a window's worth of Ops, 248 bytes each); fold converts the
	// history it folds.
	res := linearizable.CheckFrom(w.linPrefix, len(w.ops), func(i int, buf *linearizable.Op) *linearizable.Op {
		settleInto(buf, &w.ops[i], w.fates)
		return buf
	}, linearizable.Budget{Time: linearizableTimeout, Now: time.Now})
	w.timedOut = w.timedOut || res.TimedOut
	if !res.OK {
		w.chk.Fail(invariants.Linearizable, res.Detail)
		return
	}
	if d := serializableMonotonic(w.ops, w.serialLast); d != "" {
		w.chk.Fail(invariants.Linearizable, d)
		return
	}
	if checkpoint && !res.TimedOut && !keepWholeHistory {
		w.fold(linearizableOps(w.ops, w.fates), clients)
	}
}

// fold folds the requests that ended before a cut into the
// linearizability prefix and drops them from the history, ops being the
// history as just checked. A cut never passes a request in flight, and a
// write still undecided stays (linearizable.Pending). The last
// serializable read of each client session folded is kept for
// serializableMonotonic.
func (w *history) fold(ops []linearizable.Op, clients []*client) {
	upTo, k := int64(w.q.Now()), len(ops)
	for _, c := range clients {
		if c.req != nil {
			k = min(k, c.op)
		}
	}
	if k < len(ops) {
		upTo = min(upTo, ops[k].Call)
	}
	p, n := w.linPrefix.Fold(ops[:k], upTo)
	if n == 0 {
		return
	}
	w.linPrefix = p
	for i := range n {
		o := &w.ops[i]
		if o.Req == nil || linearizable.Pending(&ops[i]) {
			continue
		}
		delete(w.fates, o.Req.ID)
		if serializableRead(o) {
			w.serialLast[session{o.Proc, o.Member}] = *o
		}
		*o = Op{}
	}
	w.compact(clients) // the requests in flight are at or after k: never emptied
	procs := map[int]bool{}
	for _, c := range clients {
		procs[c.proc] = true
	}
	maps.DeleteFunc(w.serialLast, func(s session, _ Op) bool { return !procs[s.proc] })
}

// session is one client identity reading from one member.
type session struct {
	proc   int
	member uint64
}

func serializableRead(o *Op) bool {
	return o.Req != nil && o.Req.Kind == nodes.KindRange && o.Req.Serializable && !o.Unknown && o.Return != 0 && o.Result.Code == nodes.OK
}

// serializableMonotonic checks what serializable ranges promise, which is
// not linearizability: one client reading from one member never sees the
// revision go back. (A restarted member serves again only once its publish
// is applied, by when it has applied at least what it served before.)
// folded holds each session's last read of the history already folded.
func serializableMonotonic(history []Op, folded map[session]Op) string {
	last := map[session]*Op{}
	for k, o := range folded {
		last[k] = &o
	}
	for i := range history {
		o := &history[i]
		if !serializableRead(o) {
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
// windows of report.Annotations). A long run's history is its last window:
// each key opens with the states the folded history left it in.
func LinearizabilityHTML(rep *Report, path string, notes []linearizable.Annotation) error {
	return linearizable.VisualizeAfter(rep.linPrefix, linearizableOps(rep.History, rep.fates), path, notes)
}
