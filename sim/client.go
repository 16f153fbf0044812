package sim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// RequestTimeout is how long a client waits for an answer before it
// counts the request's outcome as unknown and moves on.
const RequestTimeout = 2 * time.Second

// client is one simulated etcd client: one request at a time, sent to one
// member, retried on another member after an error or a timeout, as
// etcd's client balancer does.
type client struct {
	idx     int
	proc    int // the history identity; a new one after an unknown outcome
	target  int // the member slot it talks to
	req     *nodes.Request
	op      int // index of the request's history record
	lastRev int64
	// lastDelete: the last request was an acknowledged delete, so lastRev
	// is its tombstone's revision.
	lastDelete bool
	user       string           // the user it acts as (auth on)
	script     []*nodes.Request // requests to send first (root's auth setup)
	scripted   *nodes.Request   // the script request in flight, retried until answered
	deadline   time.Duration    // when the request in flight times out
	timerSet   bool             // a timeout event is pending for this client
	operator   bool             // the membership operator's client (churn)
	patient    bool             // its next request waits patientTimeout, not RequestTimeout
}

// retryScript puts a script request that got no definite answer back at
// the head of the script, as a new request.
func (c *client) retryScript() {
	if c.scripted == nil {
		return
	}
	again := *c.scripted
	again.ID = 0
	c.script = append([]*nodes.Request{&again}, c.script...)
}

// Op is one request in the client history: what was asked, when, and
// what came back. Unknown marks a request whose outcome the client never
// learned (a timeout): it may or may not have taken effect.
type Op struct {
	Proc    int
	Client  int
	Member  uint64
	Req     *nodes.Request
	Call    time.Duration
	Return  time.Duration
	Result  nodes.Result
	Unknown bool
}

// keyspace is small, so that requests conflict.
const keyspace = 16

// key returns the name of key i, "k00".."k16". The names are made once and
// shared by every request: nothing writes into a request's key (the
// members decode their own copies), and a full slice makes an append copy.
func key(i int) []byte { return keyNames[i] }

var keyNames = func() (ks [keyspace + 1][]byte) {
	for i := range ks {
		ks[i] = strconv.AppendInt([]byte{'k', '0' + byte(i/10%10)}, int64(i%10), 10)
		ks[i] = ks[i][:len(ks[i]):len(ks[i])]
	}
	return ks
}()

// workload is the clients of a world and what they ask: who is idle, the
// request each draws next (the default mix, auth, leases, compaction),
// and how each request ends (a reply, a timeout, a reset), into the
// history. It decides nothing of when: the driver says when a request is
// sent and by whom.
type workload struct {
	*core
	cl        *cluster
	hist      *history
	opt       *options
	clients   []*client
	rng       *rand.Rand // the stream "workload"
	nextID    uint64     // the last request ID
	leases    []int64    // recently granted lease IDs
	nextLease int64
	idleN     int      // the clients idle() may pick: no request in flight, not the operator
	probe     *probe   // the liveness phase's write, or nil
	churn     *churner // the membership operator, or nil

	// The further request shapes (workload_full.go): their stream
	// ("workload/more"), each key's mod revision last seen, whether root
	// disabled auth, and the passwords root gave.
	more      *rand.Rand
	modRev    [keyspace]int64
	authOff   bool
	passwords map[string]string
	lastGrant grant // the last lease grant acknowledged
}

// grant is an acknowledged lease grant: its lease, TTL and when.
type grant struct {
	id, ttl int64
	at      time.Duration
}

// newWorkload makes the clients the options ask for; client i talks to
// member i modulo the cluster at first. With auth on, clients act as the
// users in turn, and client 0 (root) sets auth up first.
func newWorkload(c *core, cl *cluster, h *history, opt *options, rng *rand.Rand) *workload {
	wl := &workload{core: c, cl: cl, hist: h, opt: opt, rng: rng, passwords: map[string]string{}, idleN: opt.clients}
	for i := range opt.clients {
		wl.clients = append(wl.clients, &client{idx: i, proc: i, target: i % len(cl.members)})
		cl.net.Join(clientBase + i)
	}
	if opt.authOn {
		for i, c := range wl.clients {
			c.user = authUsers[i%len(authUsers)]
		}
		wl.clients[0].script = authSetup()
	}
	return wl
}

// idle returns a random client with no request in flight, or nil
// when every client waits for an answer (the arrival is then dropped).
func (w *workload) idle() *client {
	if w.idleN == 0 {
		return nil
	}
	k := w.rng.IntN(w.idleN)
	for _, c := range w.clients {
		if c.req == nil && !c.operator {
			if k == 0 {
				return c
			}
			k--
		}
	}
	panic("unreachable")
}

// setReq sets the request client c has in flight (nil: none), keeping
// the count of idle clients.
func (w *workload) setReq(c *client, req *nodes.Request) {
	if !c.operator && (c.req == nil) != (req == nil) {
		if req == nil {
			w.idleN++
		} else {
			w.idleN--
		}
	}
	c.req = req
}

// issue sends req from client c to the member it talks to.
func (w *workload) issue(c *client, req *nodes.Request) {
	w.nextID++
	req.ID = w.nextID
	w.setReq(c, req)
	now := w.q.Now()
	c.op = w.hist.add(Op{Proc: c.proc, Client: c.idx, Member: w.cl.members[c.target].id, Req: req, Call: now}, w.clients)
	w.stats.Requests++
	w.hist.await(req)
	if req.Kind.IsMember() && w.cl.membership {
		w.cl.clientUser[req.ID] = req.User
		if req.Kind == nodes.KindMemberAdd {
			w.cl.ensureMember(req.MemberID)
		}
	}
	if ts := w.cl.net.Send(now, clientBase+c.idx, int(w.cl.members[c.target].id)); len(ts) > 0 {
		w.q.At(ts[0], Event{Kind: evRequest, Node: c.target, Arg: uint64(c.idx), Data: req})
	}
	// One timer per client, not per request: it fires at the deadline of
	// the request in flight then, and moves on to the next one's.
	c.deadline = now + RequestTimeout
	if c.patient {
		c.deadline, c.patient = now+patientTimeout, false
	}
	if !c.timerSet {
		c.timerSet = true
		w.q.At(c.deadline, Event{Kind: evTimeout, Node: c.idx})
	}
}

// genRequest draws the default mix: writes, txns, reads, and a little
// compaction and defragmentation.
func (w *workload) genRequest(c *client) *nodes.Request {
	req := w.genKind(c)
	req.User = c.user
	return req
}

func (w *workload) genKind(c *client) *nodes.Request {
	r := w.rng
	k := key(r.IntN(keyspace))
	if len(c.script) > 0 {
		req := c.script[0]
		c.script = c.script[1:]
		c.scripted = req
		return req
	}
	if w.cfg.Workload == "compaction" {
		return w.genCompaction(c, k)
	}
	if c.user == "root" && w.opt.authChurn.Hit(r) {
		return w.genAuthChange()
	}
	if req := w.genMore(c, k); req != nil {
		return req
	}
	if w.opt.leasesOn && r.IntN(10) == 0 {
		if req, ok := w.genLease(k); ok {
			return req
		}
	}
	switch p := r.IntN(1000); {
	case p < 400:
		return w.put(k)
	case p < 480:
		if r.IntN(10) == 0 {
			return &nodes.Request{Kind: nodes.KindDeleteRange, Key: k, End: key(r.IntN(keyspace) + 1)}
		}
		return &nodes.Request{Kind: nodes.KindDeleteRange, Key: k}
	case p < 650:
		return w.genTxn(k, w.value())
	case p < 990:
		return &nodes.Request{Kind: nodes.KindRange, Key: k, Serializable: r.IntN(5) == 0}
	case p < 996:
		rev := c.lastRev - int64(r.IntN(20))
		if rev < 1 {
			rev = 1
		}
		return &nodes.Request{Kind: nodes.KindCompact, Rev: rev}
	default:
		return &nodes.Request{Kind: nodes.KindDefrag}
	}
}

// value returns the value the request being drawn writes: "v" and the ID
// it will be issued with. Only the shapes that write ask for it.
func (w *workload) value() []byte { return w.appendValue(make([]byte, 0, 21)) }

// appendValue appends the value to dst and returns it without its spare
// capacity, so that nothing can append into the bytes after it.
func (w *workload) appendValue(dst []byte) []byte {
	val := strconv.AppendUint(append(dst, 'v'), w.nextID+1, 10)
	return val[:len(val):len(val)]
}

// put returns a put of the value to k, the request and the value's bytes
// in one allocation.
func (w *workload) put(k []byte) *nodes.Request {
	p := new(struct {
		req nodes.Request
		val [21]byte
	})
	p.req = nodes.Request{Kind: nodes.KindPut, Key: k, Value: w.appendValue(p.val[:0])}
	return &p.req
}

// genCompaction is the mix of etcd #17780's reproduction (robustness
// scenario Issue17780, one client): puts and deletes, and after a delete,
// often a compaction at the tombstone's revision, the newest of the store.
func (w *workload) genCompaction(c *client, k []byte) *nodes.Request {
	r := w.rng
	if c.lastDelete && r.IntN(2) == 0 {
		return &nodes.Request{Kind: nodes.KindCompact, Rev: c.lastRev}
	}
	switch p := r.IntN(100); {
	case p < 40:
		return w.put(k)
	case p < 90:
		return &nodes.Request{Kind: nodes.KindDeleteRange, Key: k}
	}
	return &nodes.Request{Kind: nodes.KindRange, Key: k}
}

// genTxn draws a compare-and-swap: if the key's version (or value) is as
// last seen, put; else read it. The request and its three one-element
// slices are one allocation.
func (w *workload) genTxn(k, val []byte) *nodes.Request {
	r := w.rng
	cmp := mvcc.Compare{Key: k, Target: mvcc.CompareVersion, Result: mvcc.CompareEqual, Version: int64(r.IntN(3))}
	if r.IntN(2) == 0 {
		cmp = mvcc.Compare{Key: k, Target: mvcc.CompareMod, Result: mvcc.CompareLess, ModRevision: int64(r.IntN(200))}
	}
	t := &struct {
		req nodes.Request
		cmp [1]mvcc.Compare
		ops [2]mvcc.Op
	}{cmp: [1]mvcc.Compare{cmp}, ops: [2]mvcc.Op{{Type: mvcc.OpPut, Key: k, Value: val}, {Type: mvcc.OpRange, Key: k}}}
	t.req = nodes.Request{Kind: nodes.KindTxn, Txn: mvcc.TxnRequest{
		Compares: t.cmp[:],
		Success:  t.ops[0:1:1],
		Failure:  t.ops[1:2:2],
	}}
	return &t.req
}

// onReply is a member's answer reaching its client; the reply goes back to
// the cluster's free list after.
func (w *workload) onReply(e *Event) {
	r := e.Data.(*nodes.Reply)
	w.answered(e, r)
	w.cl.freeReply(r)
}

// answered is the reply r reaching its client.
func (w *workload) answered(e *Event, r *nodes.Reply) {
	c := w.clients[e.Node]
	if c.req == nil || c.req.ID != r.ID {
		return // a late answer to a request already given up on
	}
	w.trace(e, r.ID, uint64(r.Result.Code), func() string {
		return fmt.Sprintf("m%d->c%d %s rev=%d #%d", e.Arg, c.idx, r.Result.Code, r.Result.Rev, r.ID)
	})
	op := &w.hist.ops[c.op]
	op.Return, op.Result = w.q.Now(), r.Result
	w.replyProbes(c.req.Kind, r.Result.Code)
	w.learn(c.req, &r.Result)
	c.lastDelete = false
	if r.Result.Code == nodes.OK {
		w.stats.Acked++
		if r.Result.Rev > c.lastRev {
			c.lastRev = r.Result.Rev
		}
		c.lastDelete = c.req.Kind == nodes.KindDeleteRange && r.Result.Deleted > 0
	} else if movesOn(r.Result.Code) {
		c.target = w.cl.next(c.target)
		c.retryScript()
	}
	c.scripted = nil
	w.setReq(c, nil)
	w.hist.finish(c, w.clients)
	if w.probe != nil && w.probe.client == c.idx {
		w.probeDone(r)
	}
	if c.operator {
		w.churn.done(r.Result.Code, false)
	}
}

// movesOn reports whether an answer sends its client to the next member:
// one that cannot serve now (no leader, stopping, not the leader,
// unavailable, a leader change under a read: gRPC Unavailable, which
// clientv3's retry moves to another endpoint), and a learner's refusal,
// as clientv3's isSafeRetry retries ErrGRPCNotSupportedForLearner on
// another endpoint (a member that has not yet applied its promotion, or a
// learner removed before it heard, would hold its clients for ever).
func movesOn(c nodes.Code) bool {
	switch c {
	case nodes.ErrNoLeader, nodes.ErrStopped, nodes.ErrNotLeader, nodes.ErrUnavailable, nodes.ErrNotSupportedForLearner, nodes.ErrLeaderChanged:
		return true
	}
	return false
}

// onTimeout is a client's request timer.
func (w *workload) onTimeout(e *Event) {
	c := w.clients[e.Node]
	c.timerSet = false
	if c.req == nil {
		return
	}
	if now := w.q.Now(); c.deadline > now {
		c.timerSet = true
		w.q.At(c.deadline, Event{Kind: evTimeout, Node: c.idx})
		return
	}
	id := c.req.ID
	w.trace(e, id, 0, func() string { return fmt.Sprintf("c%d timeout #%d", c.idx, id) })
	w.stats.Timeouts++
	w.giveUp(c)
}

// reset is the crash of member i as its clients see it: the
// connection of every request in flight to it is reset, and the client
// learns at once (after the network's delay) that the outcome is unknown,
// instead of waiting for its timeout.
func (w *workload) reset(i int) {
	now := w.q.Now()
	for _, c := range w.clients {
		if c.req == nil || c.target != i {
			continue
		}
		if ts := w.cl.net.Send(now, int(w.cl.members[i].id), clientBase+c.idx); len(ts) > 0 {
			w.q.At(ts[0], Event{Kind: evReset, Node: c.idx, Arg: c.req.ID})
		}
	}
}

// onReset is a client learning that its member crashed.
func (w *workload) onReset(e *Event) {
	c := w.clients[e.Node]
	if c.req == nil || c.req.ID != e.Arg {
		return
	}
	w.trace(e, e.Arg, 0, func() string { return fmt.Sprintf("c%d connection reset #%d", c.idx, e.Arg) })
	w.stats.Resets++
	w.giveUp(c)
}

// giveUp ends the client's request with an unknown outcome: it may or may
// not take effect. The client goes on as a new identity, on the next member.
func (w *workload) giveUp(c *client) {
	op := &w.hist.ops[c.op]
	op.Unknown = true
	w.probes.Hit(nodes.RequestProbe(c.req.Kind, nodes.OutcomeUnknown))
	w.setReq(c, nil)
	w.hist.finish(c, w.clients)
	c.proc = len(w.clients) + int(w.stats.Timeouts+w.stats.Resets) // a new identity
	c.target = w.cl.next(c.target)
	c.retryScript()
	c.scripted = nil
	if w.probe != nil && w.probe.client == c.idx {
		w.q.After(0, Event{Kind: evProbe})
	}
	if c.operator {
		w.churn.done(0, true)
	}
}
