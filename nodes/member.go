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
	Observer  Observer             // nil: nobody watches
	Probes    *ProbeCounts         // the world's coverage probes (nil: not counted)
	Decoded   *Decoded             // shared decodings of entries (nil: decode each time)
	// BackendCache outlives the member's lives on one machine: a restart
	// replays only the backend commits since the last one (nil: all).
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
	WALSegmentBytes      int64         // the WAL's segment size (etcd 64 MB; 0: wal.DefaultSegmentBytes)
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
}

// Outcome is the apply result of one entry, compared across members.
type Outcome struct {
	Kind   Kind
	Code   Code
	Rev    int64
	Digest uint64 // hash of the response
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
)

var timerNames = [...]string{"", "tick", "wal-sync", "apply", "apply-locked", "commit", "compact-step", "defrag-rename"}

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
}

// Stats counts what a member did in its current life.
type Stats struct {
	Readies, Applied, Commits, Defrags, Compactions, LeaderChanges uint64
	Snapshots, SnapshotsApplied                                    uint64
}

// Member is one etcd-like member: a raft.RawNode over a MemoryStorage
// rebuilt from its WAL, the Ready loop of etcd's raftNode.start, the apply
// loop of EtcdServer.applyAll, and a batched backend. The world drives it
// through Tick, Step, Submit and Fire; it never schedules anything itself.
type Member struct {
	cfg     Config
	fs      *disk.FS
	rn      *raft.RawNode
	storage *raft.MemoryStorage
	wal     *wal.WAL
	be      *backend.Backend
	state   *State

	rd        raft.Ready // the Ready being persisted
	inReady   bool
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
	published   bool // its publish request was applied: it serves clients

	waiters map[uint64]waiter // request ID -> client, for replies after apply
	outcome Outcome           // the last apply's, lent to the observer
	reads   []pendingRead
	out     Output
	stats   Stats
}

// ErrBoot wraps every failure to start a member from its disk.
var ErrBoot = errors.New("nodes: member cannot start")

// ID returns the member's raft ID.
func (m *Member) ID() uint64 { return m.cfg.ID }

// FS returns the member's disk.
func (m *Member) FS() *disk.FS { return m.fs }

// Out returns the pending output; the world resets it with ResetOutput.
func (m *Member) Out() *Output { return &m.out }

// ResetOutput empties the output, keeping its storage.
func (m *Member) ResetOutput() {
	clear(m.out.Msgs)
	m.out.Msgs = m.out.Msgs[:0]
	m.out.Replies = m.out.Replies[:0]
	m.out.Timers = m.out.Timers[:0]
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
	m.rn.Tick()
	m.revokeExpired()
	m.publish()
	if len(m.reads) > 0 {
		m.expireReads()
	}
	if m.clock%readTimeout < m.cfg.TickInterval { // the tick that crosses a multiple of readTimeout
		m.expireWaiters()
	}
	m.timer(m.cfg.TickInterval, TimerTick)
	m.pump()
}

// Step delivers a raft message from a peer.
func (m *Member) Step(msg *raftpb.Message) {
	if msg.GetType() == raftpb.MsgSnap {
		msg = m.receiveSnapshot(msg)
	}
	// Errors are raft's to ignore (a message from an unknown peer, a
	// proposal dropped for want of a leader): etcd drops them too.
	_ = m.rn.Step(msg)
	m.pump()
}

// Fire runs the timer k.
func (m *Member) Fire(k TimerKind) {
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
	}
	m.pump()
}
