package sim

import (
	"fmt"
	"time"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/nodes"
)

// onTimer fires a member's timer, unless it belongs to an earlier life.
func (c *cluster) onTimer(e *Event) {
	m := c.members[e.Node]
	if m.proc == nil || e.Arg>>8 != m.life {
		return // a timer of an earlier life
	}
	if m.paused {
		m.held = append(m.held, *e)
		return
	}
	k := nodes.TimerKind(e.Arg & 0xff)
	if k == nodes.TimerWALSync && c.q.Now() < m.stallTil {
		c.q.At(m.stallTil, *e)
		return
	}
	c.trace(e, uint64(k), 0, func() string { return fmt.Sprintf("m%d %s", m.id, k) })
	c.enter(e.Node).Fire(k)
	c.called(e.Node)
}

// onDeliver hands a raft message to its member, if the network still
// links the two when it arrives.
func (c *cluster) onDeliver(e *Event) {
	m := c.members[e.Node]
	msg := e.Data.(*raftpb.Message)
	from := int(e.Arg)
	if m.proc == nil || !c.net.Deliverable(from, int(m.id)) {
		return
	}
	if m.paused {
		m.held = append(m.held, *e)
		return
	}
	c.trace(e, uint64(msg.GetType())<<16|e.Arg, msg.GetTerm()<<32^msg.GetIndex(), func() string {
		return fmt.Sprintf("m%d->m%d %s term=%d log=%d/%d commit=%d entries=%d", from, m.id,
			msg.GetType(), msg.GetTerm(), msg.GetLogTerm(), msg.GetIndex(), msg.GetCommit(), len(msg.Entries))
	})
	c.enter(e.Node).Step(msg)
	c.called(e.Node)
}

// onRequest is a client request reaching its member.
func (c *cluster) onRequest(e *Event) {
	m := c.members[e.Node]
	req := e.Data.(*nodes.Request)
	if m.proc == nil {
		// The member's process is down but its machine is up: the
		// connection is refused (gRPC Unavailable), and the request
		// never reached etcd. A partitioned client hears nothing and
		// times out.
		if ts := c.net.Send(c.q.Now(), int(m.id), clientBase+int(e.Arg)); len(ts) > 0 {
			r := &nodes.Reply{Client: int(e.Arg), ID: req.ID, Result: nodes.Result{Code: nodes.ErrUnavailable}}
			c.q.At(ts[0], Event{Kind: evReply, Node: int(e.Arg), Arg: m.id, Data: r})
		}
		return
	}
	if m.paused {
		m.held = append(m.held, *e)
		return
	}
	c.trace(e, req.ID, uint64(req.Kind), func() string {
		return fmt.Sprintf("c%d->m%d %s %s #%d", e.Arg, m.id, req.Kind, req.Key, req.ID)
	})
	c.enter(e.Node).Submit(int(e.Arg), req)
	c.called(e.Node)
}

// crash kills member i's process: its memory is gone, its disk keeps a
// crash image. It restarts after down, unless down < 0 or the world heals.
func (c *cluster) crash(i int, why string, down time.Duration) {
	m := c.members[i]
	if m.proc == nil {
		return
	}
	c.stats.Crashes++
	c.kill(i, why)
	if down >= 0 && !c.healing {
		c.q.After(down, Event{Kind: evRestart, Node: i})
	}
}

// kill ends member i's process: its memory is gone, its disk keeps a
// crash image.
func (c *cluster) kill(i int, why string) {
	m := c.members[i]
	if m.proc == nil {
		return
	}
	c.stats.absorb(m.proc.Stats())
	c.onCrash(i)
	m.proc.Dying()
	m.proc.Ended()
	m.proc, c.views[i] = nil, nil
	m.fs = m.fs.Crash()
	c.diskProbes(m.fs)
	m.life++
	m.paused, m.held = false, nil
	c.tr.Add(c.q.Now(), 0xf0, i, m.life, 0, func() string {
		return fmt.Sprintf("m%d crash (%s) %v", m.id, why, m.fs.CrashLog())
	})
	c.mark(int(m.id), MarkCrash, why)
	for _, l := range m.fs.CrashLog() {
		c.mark(int(m.id), MarkDisk, l)
	}
	m.lastRole = ""
}

// stop shuts member i's process down cleanly (etcd's clean shutdown,
// nodes.Member.Stop): its clients' requests in flight end with unknown
// outcomes, as at a crash, but the machine stays up and its disk keeps
// everything (disk.FS.Exit). etcd's server/verify then runs on what the
// member left (nodes.Verify, invariant server-verify). It restarts after
// down, unless down < 0 or the world heals.
func (c *cluster) stop(i int, down time.Duration) {
	m := c.members[i]
	if m.proc == nil {
		return
	}
	bootCI := m.proc.BootConsistentIndex()
	if _, panicked := guard(func() { m.proc.Stop() }); panicked != nil {
		c.chk.Panicked(m.id, panicked)
	}
	c.stats.absorb(m.proc.Stats())
	c.onCrash(i)
	m.proc.Ended()
	m.proc, c.views[i] = nil, nil
	m.fs = m.fs.Exit()
	m.life++
	m.paused, m.held, m.lastRole = false, nil, ""
	c.noteOn(int(m.id), MarkCrash, fmt.Sprintf("m%d graceful stop", m.id))
	if !c.chk.Off {
		bc, wc := &m.replay, &m.walRead
		if noReplayCache {
			bc, wc = nil, nil
		}
		c.chk.Stopped(m.id, nodes.VerifyCached(m.fs, bootCI, bc, wc))
	}
	if down >= 0 && !c.healing {
		c.q.After(down, Event{Kind: evRestart, Node: i})
	}
}

// pause stops member i's process for d: what reaches it waits.
func (c *cluster) pause(i int, d time.Duration) {
	m := c.members[i]
	m.paused = true
	c.q.After(d, Event{Kind: evResume, Node: i})
	c.noteOn(int(m.id), MarkPause, fmt.Sprintf("pause m%d for %s", m.id, d))
}

// resume lets a paused member go on with what reached it meanwhile.
func (c *cluster) resume(i int) {
	m := c.members[i]
	if !m.paused {
		return
	}
	m.paused = false
	c.mark(int(m.id), MarkResume, "resumes")
	held := m.held
	m.held = nil
	for _, e := range held {
		c.q.After(0, e)
	}
}

// memberConfig is the configuration member i's next life starts with.
func (c *cluster) memberConfig(i int) nodes.Config {
	m := c.members[i]
	// The voters of --initial-cluster: a member bootstraps with them.
	peers := make([]uint64, 0, c.cfg.Members)
	for id := range c.cfg.Members {
		peers = append(peers, uint64(id+1))
	}
	cfg := nodes.Config{
		ID:        m.id,
		Life:      m.life,
		Peers:     peers,
		Bugs:      c.cfg.Bugs,
		Rand:      c.streams.Fork(fmt.Sprintf("member/m%d/life%d", m.id, m.life)),
		Latency:   defaultLatency,
		Failpoint: c.drv.failpoint(m),
		Armed:     c.drv.armedSet(),
		Observer:  (*observer)(c),
		Probes:    &c.probes,
		Decoded:   c.decoded,

		SnapshotCount:        c.opt.snapCount,
		SnapshotCatchUp:      c.opt.timing.catchUp,
		CompactionBatchLimit: c.opt.compactBatch,
		TickInterval:         c.opt.timing.tick,
		ElectionTicks:        c.opt.timing.electionTicks,
		WALSegmentBytes:      c.opt.timing.walSegment,
	}
	if !noReplayCache {
		cfg.BackendCache, cfg.WALCache = &m.replay, &m.walRead
	}
	if !lessorTickClock {
		cfg.Now = c.localClock(m)
	}
	if c.membership {
		c.membershipConfig(i, &cfg)
	}
	return cfg
}

// localClock returns the monotonic clock of member m's next life: the
// time since it starts, at the rate of its drift (its ticks come every
// TickInterval of it), running on while it is paused.
func (c *cluster) localClock(m *member) func() time.Duration {
	start, num, den := c.q.Now(), m.drift[1], m.drift[0]
	return func() time.Duration { return time.Duration(int64(c.q.Now()-start) * num / den) }
}

// defaultLatency is a datacenter SSD: writes in microseconds, fsync in
// about a millisecond.
var defaultLatency = disk.Latency{
	Read:    disk.Range{Min: 5 * time.Microsecond, Max: 50 * time.Microsecond},
	Write:   disk.Range{Min: 10 * time.Microsecond, Max: 100 * time.Microsecond},
	Sync:    disk.Range{Min: 300 * time.Microsecond, Max: 3 * time.Millisecond},
	SyncDir: disk.Range{Min: 300 * time.Microsecond, Max: 2 * time.Millisecond},
	Meta:    disk.Range{Min: 10 * time.Microsecond, Max: 100 * time.Microsecond},
}

// noReplayCache makes every restart, and every verify of a stopped
// member's data, read its whole WAL and replay its whole backend (a test
// compares the two).
var noReplayCache bool

// lessorTickClock hands members no clock, so that their lessors read the
// tick clock, which stands still between ticks and while paused: the model
// before lease-semantics found it renewing and granting leases up to a
// tick early (a test shows the check catching it).
var lessorTickClock bool

// leader returns the member ID that some up member believes leads (the
// one with the highest term), or 0.
func (c *cluster) leader() int {
	var lead, term uint64
	for _, m := range c.members {
		if m.proc == nil {
			continue
		}
		if t, _, l, _, _ := m.proc.RaftStatus(); l != 0 && t > term {
			lead, term = l, t
		}
	}
	return int(lead)
}

// markRole records a member's role or term when it changed.
func (c *cluster) markRole(i int) {
	if !c.cfg.Timeline {
		return
	}
	m := c.members[i]
	if m.proc == nil {
		return
	}
	term, _, lead, leader, _ := m.proc.RaftStatus()
	role := RoleFollower
	switch {
	case leader:
		role = RoleLeader
	case lead == 0:
		role = RoleNone
	}
	now := fmt.Sprintf("%s term %d", role, term)
	if now != m.lastRole {
		m.lastRole = now
		c.markAs(Mark{Member: int(m.id), Kind: MarkRole, Detail: now, Role: role, Term: term})
	}
}

// observer adapts the cluster to nodes.Observer, forwarding to the checks.
// The checker's methods return at once when it is Off; those not inlined
// here (Sending, WALSynced, DurableCommit) are not even called then.
type observer cluster

func (o *observer) Committed(m *nodes.Member, ents []*raftpb.Entry) {
	if last := ents[len(ents)-1].GetIndex(); last > o.committed {
		o.committed = last
	}
	o.chk.Committed(m, ents)
}

func (o *observer) Applied(m *nodes.Member, index uint64, out *nodes.Outcome) {
	o.chk.Applied(m, index, out)
	if o.cfg.Timeline && out != nil {
		o.markAs(Mark{Member: int(m.ID()), Kind: MarkApply, Detail: fmt.Sprintf("index %d %s %s rev=%d", index, out.Kind, out.Code, out.Rev),
			Index: index, Entry: out.Kind.String(), Failed: out.Code != nodes.OK})
	}
}

func (o *observer) DurableCommit(m *nodes.Member) {
	if !o.chk.Off {
		o.chk.DurableCommit(m)
	}
	if o.cfg.Timeline {
		ci := invariants.MetaIndex(m.Backend())
		o.markAs(Mark{Member: int(m.ID()), Kind: MarkCommit, Detail: fmt.Sprintf("backend commit, consistent index %d", ci), Index: ci})
	}
}

func (o *observer) SnapshotInstalled(m *nodes.Member) {
	o.chk.SnapshotInstalled(m)
	if o.cfg.Timeline {
		ci := invariants.MetaIndex(m.Backend())
		o.markAs(Mark{Member: int(m.ID()), Kind: MarkSnapshot, Detail: fmt.Sprintf("snapshot database installed, consistent index %d", ci), Index: ci})
	}
	if i, ok := (*cluster)(o).byID(m.ID()); ok && o.members[i].join {
		o.stats.NewInstalls++
	}
}

func (o *observer) WALSynced(m *nodes.Member, hs *raftpb.HardState, _ uint64) {
	if !o.chk.Off {
		o.chk.WALSynced(m, hs)
	}
}

func (o *observer) Sending(m *nodes.Member, msg *raftpb.Message) {
	if !o.chk.Off {
		o.chk.Sending(m, msg)
	}
}

var _ invariants.View = (*nodes.Member)(nil)
