package sim

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/network"
	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/wal"
)

// clientBase is the network endpoint of client 0; a member's endpoint is
// its member ID.
const clientBase = 1000

// member is one etcd member across its lives: its member ID, its disk,
// and the process that runs on the disk, if one does. It models an etcd
// member as etcd's membership does (etcdserver/api/membership): the ID is
// the member's for good, the process comes and goes.
type member struct {
	id      uint64
	proc    *nodes.Member // the running process, or nil: down, or never started
	fs      *disk.FS
	replay  backend.ReplayCache // the backend's last replay, kept across lives
	walRead wal.ReplayCache     // the WAL's last read, kept across lives
	life    uint64              // incremented at each crash: stale timers are dropped
	removed bool                // removed from the cluster; its disk stays for forensics
	paused  bool
	// Membership churn: join marks a member added at runtime (it starts
	// from an empty data dir with the member list initial); upSince is when
	// its process started; client says whether clients may be sent to it
	// (a started voter: etcd's client auto-sync skips learners, #13853).
	join    bool
	initial []nodes.ClusterMember
	upSince time.Duration
	client  bool
	host    int     // its machine: its peer URL (peerURL)
	started bool    // a process ran on it
	pending bool    // made for an add that has not committed: not in the cluster
	held    []Event // events that reached a paused member
	drift   [2]int64
	slowTil time.Duration
	// stallTil holds the member's WAL fsyncs back until then (a scenario's
	// stall): their completion waits, its process runs on.
	stallTil time.Duration
	// passes counts each failpoint reached, over the member's lives (for
	// the driver: only points that can fire are counted); fired is the
	// pass at which the last one fired, down the down time a plan gave it.
	passes   [nodes.NumFailpoints]uint64
	fired    uint64
	down     time.Duration
	lastRole string // the role and term last put on the timeline
}

// pass counts one more pass of m through fp and returns its number.
func (m *member) pass(fp nodes.Failpoint) uint64 {
	m.passes[fp]++
	return m.passes[fp]
}

// cluster is the members of a world, their disks and their network. A
// member is known by its etcd member ID at the edges (plans, scenarios,
// raft messages, the network); inside, by its index in members, which an
// event's Node holds: a member never leaves that slice, IDs are never
// reused, so the index of an ID never changes.
type cluster struct {
	*core
	members   []*member
	index     []int32 // member ID -> index in members; -1: no such member
	net       *network.Net
	views     []invariants.View // the members that are up, by index
	durable   []invariants.View // each member's latest life, down or up: its stable log is on disk
	decoded   *nodes.Decoded    // one decoding of an entry for every member and the reference
	committed uint64            // the highest index any member committed
	streams   Streams
	opt       *options
	drv       driver
	onCrash   func(i int) // what a crash of member i does to its clients
	// clientUser is, for each cluster API request a client sent, the user
	// it acts as (for auth-decisions).
	clientUser map[uint64]string
	linkSince  map[[2]int]time.Duration // see linksChanged
	linkCut    map[[2]int]time.Duration // see linksChanged
	// membership: the world models membership (Config.Churn, or a
	// scenario's membership=1).
	membership bool
	onAdded    func(i int) // the operator's look at a member whose add committed, or nil
	// leases is the lease checker (nil: checks off), told when a member
	// proposes the revoke of a lease it found expired.
	leases *invariants.Leases
	// inCall: a call of member callee's process runs under the world's
	// loop (enter); crashed and panic are how the last such call that
	// panicked ended, for the loop to finish it (see afterCall).
	inCall  bool
	callee  int
	crashed string
	panic   any
	// freeReplies are replies their client has read (onReply), for the
	// next ones drain sends: one allocation per reply in flight, not per
	// reply.
	freeReplies []*nodes.Reply
}

// replyOf returns a copy of r for a reply event.
func (c *cluster) replyOf(r *nodes.Reply) *nodes.Reply {
	n := len(c.freeReplies)
	if n == 0 {
		cp := *r
		return &cp
	}
	cp := c.freeReplies[n-1]
	c.freeReplies[n-1] = nil
	c.freeReplies = c.freeReplies[:n-1]
	*cp = *r
	return cp
}

// freeReply takes back a reply event's reply once its client read it;
// nothing may hold it afterwards.
func (c *cluster) freeReply(r *nodes.Reply) {
	*r = nodes.Reply{}
	c.freeReplies = append(c.freeReplies, r)
}

// add makes a member with the next member ID, an empty disk and no
// process yet; the network learns its endpoint.
func (c *cluster) add(drift [2]int64, faults disk.Faults) *member {
	id := uint64(len(c.index))
	if id == 0 {
		id, c.index = 1, []int32{-1} // member IDs start at 1
	}
	m := &member{id: id, drift: drift, client: true, host: int(id)}
	m.fs = disk.New(c.streams.Fork(fmt.Sprintf("disk/m%d", id)), faults)
	c.index = append(c.index, int32(len(c.members)))
	c.members = append(c.members, m)
	c.views = append(c.views, nil)
	c.durable = append(c.durable, nil)
	c.net.Join(int(id))
	c.linksChanged()
	return m
}

// remove takes member i out of the cluster for good: its process stops,
// its disk stays readable.
func (c *cluster) remove(i int) {
	c.crash(i, "removed", -1)
	c.members[i].removed = true
}

// byID returns the index of the member with ID id.
func (c *cluster) byID(id uint64) (int, bool) {
	if id >= uint64(len(c.index)) || c.index[id] < 0 {
		return 0, false
	}
	return int(c.index[id]), true
}

// ids returns the IDs of the members that are not removed.
func (c *cluster) ids() []int {
	var out []int
	for _, m := range c.members {
		if !m.removed {
			out = append(out, int(m.id))
		}
	}
	return out
}

// next returns the member after i that is not removed and that clients
// are sent to, in join order (a client's next member, as etcd's client
// balancer moves on).
func (c *cluster) next(i int) int {
	for k := 1; k <= len(c.members); k++ {
		if j := (i + k) % len(c.members); !c.members[j].removed && c.members[j].client {
			return j
		}
	}
	return i
}

// start boots member i: the first time on an empty disk, then from the
// crash image its disk kept.
func (c *cluster) start(i int, restart bool) {
	m := c.members[i]
	if m.proc != nil || m.removed {
		return
	}
	if c.membership && !m.started {
		restart = false // a joining member's first start
	}
	var p *nodes.Member
	var err error
	crashed, panicked := guard(func() { p, err = nodes.Start(c.memberConfig(i), m.fs) })
	if panicked != nil {
		err = fmt.Errorf("panic: %v", panicked)
	}
	if crashed != "" {
		// Died at a failpoint while starting: crash again, restart later.
		c.stats.Failpoints++
		c.stats.Crashes++
		c.probes.Hit(nodes.ProbeRestartCrash)
		m.fs = m.fs.Crash()
		c.diskProbes(m.fs)
		m.life++
		c.noteOn(int(m.id), MarkCrash, fmt.Sprintf("m%d crash while starting (failpoint %s)", m.id, crashed))
		if down := c.drv.downFor(m, crashed); down >= 0 {
			c.q.After(down, Event{Kind: evRestart, Node: i})
		}
		return
	}
	if err != nil {
		c.probes.Hit(nodes.ProbeRestartFailed)
		if errors.Is(err, wal.ErrCRCMismatch) {
			c.probes.Hit(nodes.ProbeRestartCRCMismatch)
		}
		c.chk.RestartFailed(m.id, err)
		return
	}
	m.proc, m.upSince, m.started = p, c.q.Now(), true
	c.views[i], c.durable[i] = p, p
	if restart {
		c.stats.Restarts++
		c.mark(int(m.id), MarkRestart, "restart from its crash image")
		c.chk.Restarted(p)
	}
	c.drain(i)
}

// guard runs fn and recovers what it panics with: the failpoint a member
// died at (nodes.Crashed), or anything else, with its stack.
func guard(fn func()) (crashed string, panicked any) {
	return guardOn(func(*nodes.Member) { fn() }, nil)
}

// guardOn is guard of fn(p): it guards the member calls that run outside
// the loop's recover (cluster.call, and starts and stops through guard).
func guardOn(fn func(*nodes.Member), p *nodes.Member) (crashed string, panicked any) {
	defer func() {
		if r := recover(); r != nil {
			crashed, panicked = recovered(r)
		}
	}()
	fn(p)
	return "", nil
}

// recovered sorts what a member's call panicked with: the failpoint it
// died at (nodes.Crashed), or anything else, with the stack of the panic
// (it must run in the deferred function that recovered).
func recovered(r any) (crashed string, panicked any) {
	if c, ok := r.(nodes.Crashed); ok {
		return c.Point, nil
	}
	return "", fmt.Sprintf("%v\n%s", r, debug.Stack())
}

// call runs f on member i, turning a failpoint crash into a crash of the
// member and any other panic into a violation, then drains its output and
// runs the per-step checks.
func (c *cluster) call(i int, f func(p *nodes.Member)) {
	crashed, panicked := guardOn(f, c.members[i].proc)
	c.afterCall(i, crashed, panicked)
}

// enter starts a call of member i's process under the world's loop: the
// loop's one deferred recover (world.steps) guards it instead of a guard
// per event, and a panic ends the call as call's guard would (see
// panicked). The caller calls the process, then called(i).
func (c *cluster) enter(i int) *nodes.Member {
	c.inCall, c.callee = true, i
	return c.members[i].proc
}

// called ends a call that enter started and returned normally.
func (c *cluster) called(i int) {
	c.inCall = false
	c.afterCall(i, "", nil)
}

// panicked ends a call that enter started and that panicked with r; it
// runs in the loop's deferred function.
func (c *cluster) panicked(r any) {
	c.inCall = false
	c.crashed, c.panic = recovered(r)
}

// afterCall is what follows a call of member i: a failpoint crash crashes
// the member, any other panic is a violation; then its output is drained
// and the per-step checks run.
func (c *cluster) afterCall(i int, crashed string, panicked any) {
	m := c.members[i]
	if panicked != nil {
		c.chk.Panicked(m.id, panicked)
	}
	if crashed != "" {
		c.stats.Failpoints++
		down := c.drv.downFor(m, crashed)
		c.crash(i, "failpoint "+crashed, down)
		return
	}
	c.drain(i)
	if m.proc == nil {
		return // it stopped: removed from the cluster
	}
	if !c.chk.Off { // (Step would return at once: not even its call)
		c.chk.Step(m.proc)
	}
	if c.cfg.Timeline {
		c.markRole(i)
	}
}

// drain carries out what member i asked for: its timers, its messages
// (through the network) and its replies (to their clients).
func (c *cluster) drain(i int) {
	m := c.members[i]
	out := m.proc.Out()
	now := c.q.Now()
	for _, t := range out.Timers {
		after := t.After
		switch t.Kind {
		case nodes.TimerTick, nodes.TimerReadRetry: // the member's clock
			after = time.Duration(int64(after) * m.drift[0] / m.drift[1])
		case nodes.TimerWALSync, nodes.TimerDefragRename:
			if now < m.slowTil {
				after *= 20
			}
		}
		c.q.After(after, Event{Kind: evTimer, Node: i, Arg: m.life<<8 | uint64(t.Kind)})
	}
	c.stats.Messages += uint64(len(out.Msgs))
	for _, msg := range out.Msgs {
		to := msg.GetTo()
		ts := c.net.Send(now, int(m.id), int(to))
		if msg.GetType() == raftpb.MsgProp && len(ts) > 1 {
			// etcd's transport (TCP streams) never duplicates a forwarded
			// proposal, and raft does not deduplicate proposals: a copy
			// would be a second client request. Raft's own messages may be
			// duplicated; the protocol absorbs that.
			ts = ts[:1]
		}
		for _, at := range ts {
			c.q.At(at, Event{Kind: evDeliver, Node: int(c.index[to]), Arg: m.id, Data: msg})
		}
	}
	for k := range out.Replies {
		r := &out.Replies[k]
		if r.Index > 0 && !c.chk.Off {
			c.chk.Acked(m.proc, *r, c.durable)
		}
		if r.Client < 0 {
			continue
		}
		if ts := c.net.Send(now, int(m.id), clientBase+r.Client); len(ts) > 0 {
			c.q.At(ts[0], Event{Kind: evReply, Node: r.Client, Arg: m.id, Data: c.replyOf(r)})
		}
	}
	if len(out.Forwards) > 0 {
		c.sendForwards(i, out.Forwards)
	}
	if len(out.Rejected) > 0 {
		c.sendRejections(i, out.Rejected)
	}
	stop := out.Stop
	out.Stop = ""
	m.proc.ResetOutput()
	if stop != "" {
		c.stopRemoved(i, stop)
	}
}

func (o *observer) RevokeProposed(_ *nodes.Member, req *nodes.Request) {
	if o.leases != nil {
		o.leases.Proposed(req.ID, req.Lease, o.q.Now())
	}
}

func (o *observer) Refused(m *nodes.Member, req *nodes.Request, code nodes.Code) {
	if user, ok := o.clientUser[req.ID]; ok {
		o.chk.AuthDecision(m.ID(), req.ID, req.Kind.String(), user, m.AuthRevision(), code)
	}
}
