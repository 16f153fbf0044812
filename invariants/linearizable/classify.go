package linearizable

import (
	"math"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// effect is what the checker knows of a request's effect on the store.
type effect uint8

const (
	// effectDone: it happened once, between its call and its return, and
	// its result is known (or, for an observed unknown write, its branch
	// and revision are).
	effectDone effect = iota + 1
	// effectMaybe: it may have happened at any time after its call, or
	// never; its result is unknown.
	effectMaybe
)

// hop is one request kept for checking.
type hop struct {
	idx       int // index in the caller's history
	client    int
	call, ret int64 // ret is math.MaxInt64 while the outcome is unknown
	req       *nodes.Request
	res       result
	eff       effect
	read      bool       // a plain range
	pastRev   bool       // a range at a past revision: in the revision checks only
	tookRev   bool       // done, and took a new main revision
	observed  bool       // an unknown write seen by a read: res holds Succeeded and Rev
	settled   bool       // an unknown write the log settled: res is its apply result, unseen
	prefix    bool       // not a request: the states a Prefix carries (see Prefix.initOp)
	noRev     bool       // res.Rev is not known (Op.NoRev, or an unknown write a read without revisions saw)
	detached  bool       // a copy a Prefix keeps (see detach): its branches and compares are empty
	minRev    int64      // the least revision it could take, were it to write
	anon      string     // an unknown write no request can tell from others of its kind: the kind (see markAnonymous)
	top       *hop       // the done request with the highest revision returned before its call (orderRevisions)
	one       [1]mvcc.Op // the op of a put, delete-range or range (see setOne): no allocation of its own
}

// The request as a txn: a put, delete-range or range is one without
// compares whose Success branch is one. Its branches are read from the
// request rather than kept (72 bytes in each of a window's hops).

// compares returns the request's compares as a txn.
func (h *hop) compares() []mvcc.Compare {
	if h.isTxn() {
		return h.req.Txn.Compares
	}
	return nil
}

// success returns the Success branch of the request as a txn.
func (h *hop) success() []mvcc.Op {
	switch {
	case h.isTxn():
		return h.req.Txn.Success
	case h.req == nil || h.detached:
		return nil
	}
	return h.one[:]
}

// single returns the op of a put, delete-range or range, the request as a
// txn without compares or failure branch; nil for a txn (or none).
func (h *hop) single() *mvcc.Op {
	if h.req == nil || h.detached || h.req.Kind == nodes.KindTxn {
		return nil
	}
	return &h.one[0]
}

// failure returns the Failure branch of the request as a txn.
func (h *hop) failure() []mvcc.Op {
	if h.isTxn() {
		return h.req.Txn.Failure
	}
	return nil
}

// isTxn reports whether the hop's request is a txn, and not detached.
func (h *hop) isTxn() bool {
	return h.req != nil && h.req.Kind == nodes.KindTxn && !h.detached
}

// result is what the checker reads of a request's nodes.Result: a hop
// keeps it for every request of a window, so not the whole of it.
type result struct {
	Rev, Deleted int64
	KVs          []mvcc.KeyValue
	Succeeded    bool
}

func resultOf(r *nodes.Result) result {
	return result{Rev: r.Rev, Deleted: r.Deleted, KVs: r.KVs, Succeeded: r.Succeeded}
}

// hasRev reports whether the request is known to have taken a revision of
// its own: a done write that took one, or an unknown write a read saw.
func (h *hop) hasRev() bool { return (h.tookRev || h.observed) && !h.noRev }

// succeeded reports which branch a done request took.
func (h *hop) succeeded() bool {
	return h.req.Kind != nodes.KindTxn || h.res.Succeeded
}

// branch returns the ops of the branch a done request took.
func (h *hop) branch() []mvcc.Op {
	if h.succeeded() {
		return h.success()
	}
	return h.failure()
}

// classifyAll keeps the requests that change or show something of the KV
// state, of the n requests op returns (see CheckFrom), in their order,
// and reports whether every request is kvOnly. It reads each request
// once. The hops are cut from arrays of arenaChunk (a window's requests
// in a few allocations rather than one each).
func classifyAll(n int, op func(i int, buf *Op) *Op) (hops []*hop, allKVOnly bool) {
	allKVOnly = true
	hops = make([]*hop, 0, n)
	var slab []hop
	var buf Op
	for i := range n {
		buf = Op{}
		o := op(i, &buf)
		if o.Req != nil && !kvOnly(o.Req) {
			allKVOnly = false
		}
		if eff := keptEffect(o); eff != 0 {
			h := cut(&slab)
			classifyInto(h, o, i, eff)
			hops = append(hops, h)
		}
	}
	return hops, allKVOnly
}

// classifyOp returns the request ops[i] as classifyAll keeps it, or nil
// if it changes and shows nothing.
func classifyOp(ops []Op, i int) *hop {
	eff := keptEffect(&ops[i])
	if eff == 0 {
		return nil
	}
	h := new(hop)
	classifyInto(h, &ops[i], i, eff)
	return h
}

// classifyInto is classifyOp of o, request i, into h, a zero hop (its
// fields are set one by one: assigning a whole hop would write all of it
// again), eff being the request's keptEffect, not 0 (a request kept).
func classifyInto(h *hop, o *Op, i int, eff effect) {
	h.idx, h.client, h.call, h.ret, h.req, h.eff, h.noRev = i, o.ClientID, o.Call, o.Return, o.Req, eff, o.NoRev && eff == effectDone
	h.read = o.Req.Kind == nodes.KindRange
	h.pastRev = h.read && o.Req.Rev != 0
	setOne(o.Req, &h.one)
	switch {
	case eff == effectMaybe && o.Log == LogApplied:
		h.eff, h.settled, h.noRev = effectDone, true, false
		h.ret, h.res = max(o.Committed, o.Call), resultOf(&o.LogResult)
		h.tookRev = tookRevision(h)
	case eff == effectMaybe:
		h.ret = math.MaxInt64
	default:
		h.res = resultOf(&o.Result)
		h.tookRev = tookRevision(h)
	}
}

// keptEffect is classify, with an unknown write the log says never
// committed, or refused at apply, left out: it changed nothing. A
// request kept with effectMaybe whose Log is LogApplied is done (see
// classifyOp).
func keptEffect(o *Op) effect {
	eff := classify(o)
	if eff == effectMaybe && (o.Log == LogNever || o.Log == LogApplied && o.LogResult.Code != nodes.OK) {
		return 0
	}
	return eff
}

// Uncertain reports whether o is a write whose outcome its client never
// learned: what the committed log says of it (Op.Log) decides it.
func Uncertain(o *Op) bool { return classify(o) == effectMaybe }

// Kept returns Checked and Uncertain of the Op of the request req, called
// at call and answered at ret with code (unknown: its client never learned
// the outcome), without building the Op.
func Kept(req *nodes.Request, unknown bool, call, ret int64, code nodes.Code) (checked, uncertain bool) {
	eff := classifyReq(req, unknown || ret < call, code)
	return eff != 0, eff == effectMaybe
}

// classify decides what a request tells, or returns 0 to leave it out:
// serializable ranges (they may be stale by design), compaction and
// defragmentation (not part of the KV model), reads that failed or timed
// out (they show nothing), and writes refused with a code that proves they
// changed nothing.
func classify(o *Op) effect {
	return classifyReq(o.Req, o.Unknown || o.Return < o.Call, o.Result.Code)
}

// classifyReq is classify of a request r, open when its outcome is
// unknown (see Op.Unknown), answered with code.
func classifyReq(r *nodes.Request, open bool, code nodes.Code) effect {
	if r == nil {
		return 0
	}
	read := r.Kind == nodes.KindRange
	switch {
	case read && r.Serializable:
		return 0
	case !read && r.Kind != nodes.KindPut && r.Kind != nodes.KindDeleteRange && r.Kind != nodes.KindTxn:
		return 0
	case open:
		if read {
			return 0
		}
		return effectMaybe
	case code == nodes.OK:
		return effectDone
	case read || !mayHaveApplied(code):
		return 0
	}
	return effectMaybe
}

// mayHaveApplied reports whether a write answered with code c may still
// have changed the store. ErrNoLeader is raft dropping the proposal before
// it reached any log; ErrUnavailable a member that never proposed it (not
// serving clients yet, or not running: a refused connection). The apply-time refusals (compacted or future range
// revision in a txn, auth, lease, bad request) are answered after the
// entry applied without writing anything. ErrStopped (a member shutting
// down or defragmenting) and codes unknown to this package are taken as
// unknown outcomes, which is always sound.
func mayHaveApplied(c nodes.Code) bool {
	switch c {
	case nodes.ErrNoLeader, nodes.ErrUnavailable, nodes.ErrCompacted, nodes.ErrFutureRev,
		nodes.ErrAuthOld, nodes.ErrPermission, nodes.ErrUserEmpty,
		nodes.ErrLeaseNotFound, nodes.ErrAuthFailed, nodes.ErrBadRequest:
		return false
	}
	return true
}

// setOne sets one to the op of a put, delete-range or range: the Success
// branch of the request as a txn (see hop.success). A txn's is left empty.
func setOne(r *nodes.Request, one *[1]mvcc.Op) {
	switch r.Kind {
	case nodes.KindTxn:
	case nodes.KindPut:
		one[0] = mvcc.Op{Type: mvcc.OpPut, Key: r.Key, Value: r.Value, Lease: r.Lease}
	case nodes.KindDeleteRange:
		one[0] = mvcc.Op{Type: mvcc.OpDeleteRange, Key: r.Key, End: r.End}
	default:
		one[0] = mvcc.Op{Type: mvcc.OpRange, Key: r.Key, End: r.End, Range: mvcc.RangeOptions{
			Rev: r.Rev, Limit: r.Limit, KeysOnly: r.KeysOnly, CountOnly: r.CountOnly}}
	}
}

// tookRevision reports whether a done request took a new main revision:
// as etcd, only a write transaction that changed something does.
func tookRevision(h *hop) bool {
	if h.res.Deleted > 0 {
		return true
	}
	for _, op := range h.branch() {
		if op.Type == mvcc.OpPut {
			return true
		}
	}
	return false
}

// lastRange returns the index of the last range of ops, whose result a
// Result carries, or -1.
func lastRange(ops []mvcc.Op) int {
	for i := len(ops) - 1; i >= 0; i-- {
		if ops[i].Type == mvcc.OpRange {
			return i
		}
	}
	return -1
}

// plainRange reports whether a range's result is the full current state
// of its keys: at the current revision, no limit, not count-only.
func plainRange(op *mvcc.Op) bool {
	o := &op.Range
	return o.Rev == 0 && o.Limit <= 0 && !o.CountOnly
}

// shownKVs returns the key-values a done request's result shows as the
// current state of its last range's keys, and that range; nil if none.
func (h *hop) shownKVs() (*mvcc.Op, []mvcc.KeyValue) {
	if h.eff != effectDone || h.observed || h.settled {
		return nil, nil
	}
	ops := h.branch()
	i := lastRange(ops)
	if i < 0 || !plainRange(&ops[i]) {
		return nil, nil
	}
	return &ops[i], h.res.KVs
}
