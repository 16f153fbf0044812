package nodes

import (
	"cmp"
	"errors"
	"math/rand/v2"
	"time"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/wal"
)

// Config describes one member. Its zero durations and limits take etcd's
// defaults.
type Config struct {
	ID        uint64
	Life      uint64   // how many times this member started before (request IDs stay unique)
	Peers     []uint64 // the voters the cluster bootstraps with
	Bugs      Bugs
	Rand      *rand.Rand // the member's own stream: disk latency, apply cost
	Latency   disk.Latency
	Failpoint func(Failpoint) bool // nil: never crash at a failpoint
	// Armed, when set, holds the points at which Failpoint may answer
	// yes: the member asks it at no other (a pass costs a call, several
	// per event). The world may change the set while the member runs.
	// nil: every point.
	Armed *FailpointSet
	// Now is the member's own monotonic clock since it started (what etcd
	// reads with time.Now), handed in by the world: it drifts as the
	// member's ticks do and runs on while its process is paused. The
	// lessor reads it. nil: the tick clock.
	Now      func() time.Duration
	Observer Observer     // nil: nobody watches
	Probes   *ProbeCounts // the world's coverage probes (nil: not counted)
	Decoded  *Decoded     // shared decodings of entries (nil: decode each time)
	// BackendCache outlives the member's lives on one machine: a restart
	// replays only the backend commits since the last open, or since the
	// process ended (Ended), that the crash kept (nil: all).
	BackendCache *backend.ReplayCache
	WALCache     *wal.ReplayCache

	TickInterval         time.Duration // raft tick (etcd --heartbeat-interval 100ms)
	ElectionTicks        int           // --election-timeout / --heartbeat-interval, rounded down (etcd 10)
	BatchInterval        time.Duration // backend commit period (etcd 100ms)
	BatchLimit           int           // pending writes that force a commit (etcd 10000)
	CompactionBatchLimit int           // revisions deleted per compaction batch (etcd 1000)
	CompactionInterval   time.Duration // pause between compaction batches (etcd 10ms)
	SnapshotCount        uint64        // applied entries between snapshots (etcd --snapshot-count)
	SnapshotCatchUp      uint64        // entries kept after a snapshot for slow followers (etcd 5000)

	// Membership switches the membership model on (the world does in worlds
	// that churn membership): bootstrap entries carrying their members, the
	// members buckets, conf changes validated and applied as etcd does, the
	// cluster API, learners and removal. Without it membership is the fixed
	// bootstrap configuration, as before, and nothing of it is written.
	Membership bool
	// Join: the member was added to a running cluster and starts from an
	// empty data dir with no peers (--initial-cluster-state=existing).
	Join bool
	// Initial is --initial-cluster: the members a new cluster bootstraps
	// with, or the member list a joining member was added with; the
	// member's own entry gives its peer URL.
	Initial []ClusterMember
	// Transport says how long each peer link has been up (nil: never).
	Transport       Transport
	WALSegmentBytes int64 // the WAL's segment size (etcd 64 MB; 0: wal.DefaultSegmentBytes)
}

func (c *Config) defaults() {
	c.TickInterval = cmp.Or(c.TickInterval, 100*time.Millisecond)
	c.ElectionTicks = cmp.Or(c.ElectionTicks, 10)
	c.BatchInterval = cmp.Or(c.BatchInterval, 100*time.Millisecond)
	c.BatchLimit = cmp.Or(c.BatchLimit, 10000)
	c.CompactionBatchLimit = cmp.Or(c.CompactionBatchLimit, 1000)
	c.CompactionInterval = cmp.Or(c.CompactionInterval, 10*time.Millisecond)
	c.SnapshotCount = cmp.Or(c.SnapshotCount, 10000)
	c.SnapshotCatchUp = cmp.Or(c.SnapshotCatchUp, 500)
	if c.Armed == nil {
		c.Armed = &everyFailpoint
	}
}

// Observer is told what a member does, for the invariants. It must not
// call back into the member.
type Observer interface {
	// Committed: entries handed from a Ready to the applier.
	Committed(m *Member, ents []*raftpb.Entry)
	// Applied: the member applied (or skipped, below its consistentIndex)
	// entry index; out is set when it ran the request, and is valid only
	// during the call.
	Applied(m *Member, index uint64, out *Outcome)
	// DurableCommit: a backend commit became durable.
	DurableCommit(m *Member)
	// WALSynced: entries and HardState of a Ready are on stable storage.
	WALSynced(m *Member, hs *raftpb.HardState, lastIndex uint64)
	// SnapshotInstalled: the member replaced its backend with a snapshot's.
	SnapshotInstalled(m *Member)
	// Sending: the member hands a raft message to its transport (etcd's
	// transport.Send), before anything else it does in the same call.
	Sending(m *Member, msg *raftpb.Message)
	// Refused: the member refused req on auth grounds before proposing it
	// (the admin check of the cluster API), judging req.User at its auth
	// revision (m.AuthRevision()).
	Refused(m *Member, req *Request, code Code)
	// RevokeProposed: the member, leading, proposed req, a revoke of a
	// lease its lessor found expired (revokeExpired), with an internal
	// request ID; raft took the proposal.
	RevokeProposed(m *Member, req *Request)
}

// Outcome is the apply result of one entry, compared across members.
type Outcome struct {
	Kind      Kind
	Code      Code
	Rev       int64
	Deleted   int64
	Count     int64
	TTL       int64
	Succeeded bool
	Digest    uint64 // hash of the whole response, key-values included
}

// OutcomeOf is the outcome of applying a request of kind kind that
// returned res.
func OutcomeOf(kind Kind, res *Result) Outcome {
	return Outcome{Kind: kind, Code: res.Code, Rev: res.Rev, Deleted: res.Deleted, Count: res.Count,
		TTL: res.TTL, Succeeded: res.Succeeded, Digest: res.Digest()}
}

// TimerKind is the kind of a timer a member asks the world to set.
type TimerKind uint8

// The member's timers.
const (
	TimerTick TimerKind = iota + 1
	TimerWALSync
	TimerApply
	TimerApplyLocked
	TimerCommit
	TimerCompactStep
	TimerDefragRename
	TimerStop      // a removed member stops (etcd's stopWithDelay)
	TimerApplySnap // a received snapshot's apply ends (applySnapshotCost)
	TimerReadRetry // the read loop's retry timer (readIndexRetryTime), on the member's clock
)

var timerNames = [...]string{"", "tick", "wal-sync", "apply", "apply-locked", "commit", "compact-step", "defrag-rename", "stop", "apply-snap", "read-retry"}

func (k TimerKind) String() string { return timerNames[k] }

// Timer asks the world to call Fire(Kind) After from now.
type Timer struct {
	After time.Duration
	Kind  TimerKind
}

// Reply is an answer to a client.
type Reply struct {
	Client int
	ID     uint64
	Result Result
	Index  uint64 // the raft index of the applied request (0 for local reads)
	Term   uint64
}

// Output is what a member wants done after a call: messages to send,
// replies to clients, timers to set. The world drains it after each call.
type Output struct {
	Msgs    []*raftpb.Message
	Replies []Reply
	Timers  []Timer
	// Forwards are requests to peers and answers to them (a promote sent
	// to the leader over the peer channel).
	Forwards []Forward
	// Rejected are peers whose messages the member refused because they
	// were removed from the cluster (etcd answers 403 or 410, and the
	// removed member stops when it learns it).
	Rejected []uint64
	// Stop is why the member stops itself, or "".
	Stop string
}

// Stats counts what a member did in its current life.
type Stats struct {
	Readies, Applied, Commits, Defrags, Compactions, LeaderChanges uint64
	Snapshots, SnapshotsApplied                                    uint64
	// ReadRounds counts the read loop's rounds, ReadIndexes the ReadIndex
	// requests they sent (one per round unless retried).
	ReadRounds, ReadIndexes uint64
}

// Member is one etcd-like member: a raft.RawNode over a MemoryStorage
// rebuilt from its WAL, the Ready loop of etcd's raftNode.start, the apply
// loop of EtcdServer.applyAll, and a batched backend. The world drives it
// through Tick, Step, Submit and Fire; it never schedules anything itself.
type Member struct {
	cfg     Config
	fs      *disk.FS
	rn      *raft.RawNode
	storage *memStorage
	wal     *wal.WAL
	be      *backend.Backend
	state   *State

	rd      raft.Ready // the Ready being persisted
	inReady bool
	// idle: raft's last HasReady answered false and the member has not
	// called raft since but for its getters (node): HasReady, which reads
	// raft's own state and never its Storage, would answer false again.
	idle      bool
	mustSync  bool
	prevHS    *raftpb.HardState // the last HardState handed to the WAL
	lead      uint64
	islead    bool // leader as of the last Ready's SoftState (etcd's raftNode islead)
	confVote  int  // voters in the current configuration
	confState *raftpb.ConfState
	snapIndex uint64 // the index of the newest snapshot saved or installed
	snapDBCI  uint64 // the consistent index of the last snapshot database opened

	apply   applier
	commits commitLoop

	clock       time.Duration // ticks times TickInterval: the lessor's clock
	internalSeq uint64
	published   bool          // its publish request was applied: it serves clients
	nextPublish time.Duration // the clock at which publish proposes (again)
	stopping    bool          // a clean shutdown is running (Stop): no failpoint fires
	bootCI      uint64        // the consistent index this life started with

	confDigest   uint64 // ConfDigest(confState)
	confAhead    uint64 // a snapshot raft restored whose configuration it holds before the apply loop installs it (stepSnapshot), or 0
	bootSnapData []byte // the data of the snapshot boot loaded
	waitApply    uint64 // a follower's Ready waits for the apply of this index (etcd's notifyc)

	forwards     []forward     // promotes forwarded to the leader
	promoteWaits []promoteWait // promotes waiting for the apply loop

	waiters    map[uint64]waiter // request ID -> client, for replies after apply
	outcome    Outcome           // the last apply's, lent to the observer
	reads      readLoop          // linearizable reads (etcd's linearizableReadLoop)
	renewWaits []renewWait       // keep-alives waiting for the apply loop (waitAppliedIndex)
	lastTick   time.Duration     // the member's clock at its last tick (etcd's latestTickTs)
	out        Output
	stats      Stats
}

// ErrBoot wraps every failure to start a member from its disk.
var ErrBoot = errors.New("nodes: member cannot start")

// ID returns the member's raft ID.
func (m *Member) ID() uint64 { return m.cfg.ID }

// FS returns the member's disk.
func (m *Member) FS() *disk.FS { return m.fs }

// WALTail returns the name of the WAL segment the member appends to.
func (m *Member) WALTail() string { return m.wal.Tail() }

// Out returns the pending output; the world resets it with ResetOutput.
func (m *Member) Out() *Output { return &m.out }

// ResetOutput empties the output, keeping its storage.
func (m *Member) ResetOutput() {
	clear(m.out.Msgs)
	m.out.Msgs = m.out.Msgs[:0]
	m.out.Replies = m.out.Replies[:0]
	m.out.Timers = m.out.Timers[:0]
	if len(m.out.Forwards) > 0 || len(m.out.Rejected) > 0 {
		clear(m.out.Forwards)
		m.out.Forwards = m.out.Forwards[:0]
		m.out.Rejected = m.out.Rejected[:0]
	}
}

func (m *Member) timer(after time.Duration, k TimerKind) {
	m.out.Timers = append(m.out.Timers, Timer{After: after, Kind: k})
}

func (m *Member) raftConfig(applied uint64) *raft.Config {
	return &raft.Config{
		ID:                        m.cfg.ID,
		ElectionTick:              m.cfg.ElectionTicks, // etcd: ElectionMs / TickMs, 1000/100 by default
		HeartbeatTick:             1,
		Storage:                   m.storage,
		Applied:                   applied,
		MaxSizePerMsg:             1 << 20,
		MaxInflightMsgs:           512,
		MaxUncommittedEntriesSize: 1 << 30,
		CheckQuorum:               true,
		PreVote:                   true,
		Logger:                    QuietLogger{},
	}
}

// Tick advances raft's logical clock by one tick.
func (m *Member) Tick() {
	m.clock += m.cfg.TickInterval
	m.lastTick = m.now() // raftNode.tick's latestTickTs
	m.node().Tick()
	m.revokeExpired()
	m.publish()
	m.monitorVersion()
	if m.reads.active || len(m.reads.waiting) > 0 {
		m.readTick()
	}
	if len(m.renewWaits) > 0 {
		m.releaseRenews()
	}
	if len(m.waiters) > 0 {
		m.expireWaiters()
	}
	if len(m.forwards) > 0 {
		m.retryForwards()
	}
	if len(m.promoteWaits) > 0 {
		m.releasePromotes()
	}
	m.timer(m.cfg.TickInterval, TimerTick)
	m.pump()
}

// Step delivers a raft message from a peer. A member removed from the
// cluster is refused (etcd's Process answers 403, the stream handler 410).
func (m *Member) Step(msg *raftpb.Message) {
	if m.cfg.Membership && m.state.Cluster.IsIDRemoved(msg.GetFrom()) {
		m.out.Rejected = append(m.out.Rejected, msg.GetFrom())
		return
	}
	m.probeInstalling()
	if msg.GetType() == raftpb.MsgSnap {
		m.stepSnapshot(m.receiveSnapshot(msg))
	} else {
		// Errors are raft's to ignore (a message from an unknown peer, a
		// proposal dropped for want of a leader): etcd drops them too.
		_ = m.node().Step(msg)
	}
	m.pump()
}

// stepSnapshot steps a received MsgSnap. Raft restores a snapshot above
// its commit at once, configuration included (raft.restore), while the
// apply loop may still be applying committed entries below it: etcd's
// node.run steps what arrives while the apply goroutine works through an
// earlier Ready, whose conf changes then reach raft's restored
// configuration (ApplyConfChange). Until the apply loop installs that
// snapshot, raft's configuration is the snapshot's, not the applied
// index's: confAhead says so. Raft's configuration changes during the
// step only if it restored; a restore to the configuration it had changes
// nothing the apply loop sees.
func (m *Member) stepSnapshot(msg *raftpb.Message) {
	if !m.cfg.Membership {
		_ = m.node().Step(msg)
		return
	}
	before := m.raftConfDigest()
	_ = m.node().Step(msg)
	if m.raftConfDigest() != before {
		m.confAhead = msg.GetSnapshot().GetMetadata().GetIndex()
	}
}

// Fire runs the timer k.
func (m *Member) Fire(k TimerKind) {
	if k != TimerApplySnap {
		m.probeInstalling()
	}
	switch k {
	case TimerTick:
		m.Tick()
		return
	case TimerWALSync:
		m.finishReady()
	case TimerApply:
		m.applyNext()
	case TimerApplyLocked:
		m.applyLocked()
	case TimerCommit:
		m.periodicCommit()
	case TimerCompactStep:
		m.compactStep()
	case TimerDefragRename:
		m.defragRename()
	case TimerStop:
		m.out.Stop = "the member has been permanently removed from the cluster"
	case TimerApplySnap:
		m.finishApplySnapshot()
	case TimerReadRetry:
		m.readRetry()
	}
	m.pump()
}
