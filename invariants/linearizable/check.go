package linearizable

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
)

// Op is one client request of the history, as the checker takes it.
type Op struct {
	// ClientID is the history identity: a client that gave up on a
	// request (Unknown) continues under a new one.
	ClientID int
	// Call and Return are simulated nanoseconds. Return is ignored when
	// Unknown; a Return before Call is read as Unknown too (a request still
	// outstanding when the run ended).
	Call, Return int64
	// Unknown marks a request whose outcome the client never learned: it
	// may have taken effect at any time after Call, or never.
	Unknown bool
	Req     *nodes.Request
	Result  nodes.Result
	// NoRev marks a result that carries no revisions (a history recorded
	// without them): its header revision (Result.Rev) and the create and
	// mod revisions of its key-values are not known. In any result, a
	// key-value's CreateRevision, ModRevision or Version of 0 is taken as
	// not reported: etcd never returns 0 for a key that exists.
	NoRev bool
	// Log, for a write whose outcome the client never learned (Unknown,
	// or answered with a code that leaves it open), is what the cluster's
	// committed log says of it, when the caller knows: see Fate.
	Log Fate
	// Committed is when a member first reported the write committed, the
	// moment from which every linearizable read sees it; LogResult what
	// applying it returned. Both only with Log == LogApplied.
	Committed int64
	LogResult nodes.Result
}

// Fate is what the committed log says of a write whose outcome its client
// never learned (as etcd's robustness tests learn it from the persisted
// requests and watch events).
type Fate uint8

const (
	// LogUnknown: the caller does not say; the write may have taken effect
	// at any moment after its call, or never.
	LogUnknown Fate = iota
	// LogNever: no entry committed by then carried the write, so no read of
	// the history can have seen it: it is left out.
	LogNever
	// LogApplied: an entry committed and applied carried the write. It
	// took effect once, between its call and Committed (the leader knew
	// it committed by then, so every read called later has a read index
	// at or past it), with LogResult's branch, revision and deletions; no
	// client saw LogResult's key-values, which are not checked. Applying
	// it refused it (a code other than OK) is the same as LogNever: it
	// changed nothing.
	LogApplied
)

// Annotation marks a window of simulated time in the visualization: a
// crash, a partition, a pause. Tag names the row it is drawn in.
type Annotation struct {
	Start, End  int64
	Tag         string
	Description string
}

// The names of the sub-checks, as Result.Failed reports them.
const (
	// CheckRevisionUnique: acknowledged writes that took a revision took
	// distinct ones.
	CheckRevisionUnique = "revision-unique"
	// CheckRevisionOrder: a write that took a revision took one above the
	// header revision of every request that returned before it was called.
	CheckRevisionOrder = "revision-order"
	// CheckReadRevision: a read (or a write that changed nothing) answered
	// with a header revision no lower than that of every request that
	// returned before it was called.
	CheckReadRevision = "read-revision"
	// CheckHeaderRevision: a reply's header revision is no higher than the
	// writes called before it returned can have reached: every write that
	// took a revision at or below it was called before the reply came.
	CheckHeaderRevision = "header-revision"
	// CheckKV: each key's history is linearizable against the KV model.
	CheckKV = "kv-model"
)

// Budget bounds the KV model's search. A search that runs out of it ends
// with Result.Unknown and its Reason, never with a pass or a failure it
// did not find.
type Budget struct {
	// Time is the wall-clock limit of the search, read with Now; 0 or a
	// nil Now: none. The caller hands the clock in: only sim and the
	// command line read the wall clock (TestOnlySimReadsTimeOrRandomness).
	Time time.Duration
	Now  func() time.Time
	// Memory is the most the search may keep (the configurations it
	// visited and its stack, estimated), in bytes; 0: DefaultMemory. Keys
	// are searched two at a time, each within half of it (all of it when
	// there is one key), so the outcome on a memory budget is
	// deterministic.
	Memory int64
}

// DefaultMemory is the search's memory budget when Budget.Memory is 0. The
// Go heap holding it is at most about twice as large.
const DefaultMemory = 256 << 20

// searchWorkers is how many keys are searched at once.
const searchWorkers = 2

func (b Budget) memory() int64 {
	if b.Memory > 0 {
		return b.Memory
	}
	return DefaultMemory
}

// Result is the verdict of Check.
type Result struct {
	// OK is false when a sub-check found a violation.
	OK bool
	// Unknown reports that the KV model search ran out of its budget
	// before it found a linearization of every key, and no sub-check
	// failed: the history is neither passed nor failed. OK stays true, so
	// that a caller reading OK alone never fails a history wrongly;
	// Reason says which budget and which key.
	Unknown bool
	Reason  string
	// TimedOut is Unknown, under the name older callers read.
	TimedOut bool
	// Failed names the sub-checks that failed, in the order of the
	// constants above.
	Failed []string
	// Partitions is the number of keys the KV model was split into; Ops
	// the number of requests checked (after dropping those that neither
	// changed nor showed anything).
	Partitions, Ops int
	// Detail is one line per failed sub-check, joined by "; ": the key and
	// the offending requests. Details holds the same lines, one per
	// failed sub-check.
	Detail  string
	Details []string
}

// String returns a one-line summary of r.
func (r Result) String() string {
	if r.OK {
		if r.Unknown {
			return "unknown: " + r.Reason
		}
		return "linearizable"
	}
	return "not linearizable: " + r.Detail
}

// violation is one failed sub-check.
type violation struct {
	check, detail string
	idx           int // the request it names first, where several could be named
}

// Check checks that the history ops is linearizable against etcd's KV
// API: first the global revision sub-checks, then the per-key KV model,
// whose search gives up at the budget b (its memory, DefaultMemory when 0,
// and its wall-clock time, if any). The verdict is deterministic unless
// the time limit is reached.
func Check(ops []Op, b Budget) Result { return CheckAfter(nil, ops, b) }

// CheckAfter is Check of the rest of a history after the prefix p (see
// Prefix; nil: from the start): ops are the requests not folded into p,
// in call order.
func CheckAfter(p *Prefix, ops []Op, b Budget) Result { return CheckBudget(p, ops, b) }

// CheckBudget is CheckAfter within the budget b.
func CheckBudget(p *Prefix, ops []Op, b Budget) Result {
	return checkHistory(prepare(p, ops), b)
}

// CheckFrom is CheckAfter of a history of n requests that op returns one
// at a time, so that the caller need not build the whole history as Ops:
// op(i, buf) returns request i, converted into buf (a zero Op) or not.
// The check reads each request once and keeps none of the returned
// Ops, only what they point to.
func CheckFrom(p *Prefix, n int, op func(i int, buf *Op) *Op, b Budget) Result {
	return checkHistory(prepareFrom(p, n, op), b)
}

// checkHistory checks a prepared history.
func checkHistory(h *history, b Budget) Result {
	res := Result{OK: true, Ops: len(h.hops), Partitions: len(h.parts)}
	// From here on each request is reached through the partitions of its
	// keys only, so that checkKV can let go of a key's requests once it is
	// searched (see checkKV).
	h.hops = nil
	vs := h.revisionViolations
	v, out, key := checkKV(h, b)
	if v != nil {
		vs = append(vs, *v)
	}
	if len(vs) == 0 && out != searchOK {
		res.Unknown, res.TimedOut, res.Reason = true, true, describeBudget(out, key, b, len(h.parts))
	}
	details := make([]string, 0, len(vs))
	for _, v := range vs {
		res.OK = false
		res.Failed = append(res.Failed, v.check)
		details = append(details, v.check+": "+v.detail)
	}
	res.Detail, res.Details = strings.Join(details, "; "), details
	return res
}

// history is a history ready for checking.
type history struct {
	hops               []*hop // the requests kept, in the caller's order
	keys               []string
	parts              []partition // one per key, in key order; each built (see build) when it is searched
	revisionViolations []violation
	prefix             *Prefix
	u                  *unknowns
}

// build projects partition i (see the function build).
func (h *history) build(i int) { build(h.parts, i, h.prefix, h.u) }

// buildAll projects every partition.
func (h *history) buildAll() {
	for i := range h.parts {
		h.build(i)
	}
}

// prepare classifies the requests, runs the revision sub-checks (which
// also bound the revision of every unknown write), learns the outcome of
// unknown writes that a read saw, leaves out those no one can have seen,
// and projects the history onto each key. After a prefix p, requests
// called before its cut are taken as called at it, the revision checks
// start from its top request, and each key it wrote starts from the
// states it carries (an operation before all others that sets them).
func prepare(p *Prefix, ops []Op) *history {
	return prepareFrom(p, len(ops), func(i int, _ *Op) *Op { return &ops[i] })
}

// prepareFrom is prepare of the n requests op returns (see CheckFrom).
func prepareFrom(p *Prefix, n int, op func(i int, buf *Op) *Op) *history {
	if p == nil {
		p = &Prefix{}
	}
	hops, allKVOnly := classifyAll(n, op)
	h := &history{hops: hops}
	for _, x := range h.hops {
		x.call = max(x.call, p.At)
	}
	h.revisionViolations = checkRevisions(h.hops, p.top, allKVOnly)
	floor := topRev(p.top)
	if slices.ContainsFunc(h.hops, func(x *hop) bool { return x.eff == effectMaybe }) {
		floor = max(floor, historyFloor(allKVOnly, h.hops))
		markAnonymous(h.hops)
	}
	u := newUnknowns(h.hops, floor)
	h.hops = dropUnseeable(h.hops, u.gaps)
	h.keys = p.universe(h.hops)
	h.parts = project(h.hops, h.keys, u)
	h.prefix, h.u = p, u
	return h
}

// describeBudget says which budget a search ran out of, on which key.
func describeBudget(out outcome, key string, b Budget, keys int) string {
	if out == searchTime {
		return fmt.Sprintf("the search ran out of its time budget (%s) on key %s", b.Time, show([]byte(key)))
	}
	share := b.memory()
	if keys > 1 {
		share = max(share/searchWorkers, 1)
	}
	return fmt.Sprintf("the search ran out of its memory budget (%s, %s for key %s)",
		mib(b.memory()), mib(share), show([]byte(key)))
}

// mib renders a byte count in MiB, or in bytes below one.
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%d MiB", n>>20)
}
