package nodes

import (
	"encoding/binary"
	"slices"
	"time"

	"go.etcd.io/raft/v3"
)

// readLoop is etcd's linearizable read loop (server/etcdserver/read:
// LinearizableReadNotify, LinearizableReadLoop, requestCurrentIndex). A
// member confirms one read index at a time, for every read that arrived
// before that round began:
//
//   - a read joins the waiting reads (etcd's current notifier) and wakes the
//     loop; an idle loop starts a round at once, a busy one when its round
//     ends (the loop's waitC holds the wake-up);
//   - a round takes the waiting reads and sends a ReadIndex with a fresh
//     request ID; it sends again, with another fresh ID, readIndexRetry
//     after its last send without an answer and when the member applies a
//     leader's first (empty) entry of a term, and accepts the answer to any
//     of its IDs (etcd #20418's fix: no ID is reused across sends);
//   - a new leader before the answer fails the round's reads with
//     ErrLeaderChanged, checked before the answer when both come in one
//     Ready (#20418's other fix); no answer within ReqTimeout fails them
//     with ErrTimeout;
//   - once answered, the round waits until the apply loop reaches the
//     index, then serves its reads, and the next round may start.
//
// The retry is a timer of its own on the member's clock, as etcd's is: at
// the member's ticks it would meet raft's elections, which tick too, and
// a lone voter elected at a tick would answer a retry sent in the same
// instant before its first commit. ReqTimeout is checked at the ticks.
type readLoop struct {
	waiting   []pendingRead // reads for the next round
	round     []pendingRead // the reads of the round in flight
	active    bool          // a round is in flight
	confirmed bool          // its ReadIndex was answered, at index
	index     uint64
	ids       []uint64      // the request IDs the round sent, one per send
	started   time.Duration // the member's clock at the round's start
	timers    int           // retry timers set and not yet fired
}

// pendingRead is a linearizable read (a range, the member list, or a
// leader's keep-alive ensuring its leadership) waiting for its round.
type pendingRead struct {
	client int
	req    *Request
	since  time.Duration // the member's clock when it was submitted
}

// readIndexRetry is etcd's readIndexRetryTime: how long a round waits for
// the answer to its ReadIndex before it sends another.
const readIndexRetry = 500 * time.Millisecond

// readTimeout is how long a read waits for a round that has its index: the
// client has long given up by then (etcd's read waits on its context),
// and the member forgets it.
const readTimeout = 5 * time.Second

// linearizableRead is LinearizableReadNotify: the read waits for the next
// round, which starts now if none is in flight.
func (m *Member) linearizableRead(client int, req *Request) {
	rl := &m.reads
	rl.waiting = append(rl.waiting, pendingRead{client: client, req: req, since: m.clock})
	if !rl.active {
		m.startRound()
	}
}

// startRound begins a round with the waiting reads, if there are any.
func (m *Member) startRound() {
	rl := &m.reads
	if len(rl.waiting) == 0 {
		return
	}
	rl.round, rl.waiting = rl.waiting, rl.round[:0]
	rl.active, rl.confirmed, rl.index = true, false, 0
	rl.ids = rl.ids[:0]
	rl.started = m.clock
	m.stats.ReadRounds++
	m.sendReadIndex()
}

// sendReadIndex is sendReadIndex: a ReadIndex with a fresh request ID from
// the member's generator (etcd's reqIDGen.Next()).
func (m *Member) sendReadIndex() {
	rl := &m.reads
	id := m.internalID()
	rl.ids = append(rl.ids, id)
	rl.timers++
	m.timer(readIndexRetry, TimerReadRetry)
	m.stats.ReadIndexes++
	m.node().ReadIndex(binary.BigEndian.AppendUint64(nil, id))
}

// readStates takes a Ready's read states. etcd's raft loop hands the read
// loop only the last of them; it confirms the round if it answers one of
// the round's sends, and is ignored otherwise (an earlier round's).
func (m *Member) readStates(rs []raft.ReadState) {
	rl := &m.reads
	if len(rs) == 0 || !rl.active || rl.confirmed {
		return
	}
	s := rs[len(rs)-1]
	if len(s.RequestCtx) != 8 || !slices.Contains(rl.ids, binary.BigEndian.Uint64(s.RequestCtx)) {
		return
	}
	rl.confirmed, rl.index = true, s.Index
	m.serveReads()
}

// serveReads ends a confirmed round once the apply loop has reached its
// index: every read of the round is served, and the next round starts.
func (m *Member) serveReads() {
	rl := &m.reads
	if !rl.active || !rl.confirmed || rl.index > m.apply.applied {
		return
	}
	for _, r := range rl.round {
		if r.req.Kind == KindLeaseKeepAlive {
			m.renewConfirmed(r.client, r.req)
			continue
		}
		m.probe(ProbeReadIndex)
		m.reply(r.client, r.req.ID, m.serveRead(r.req))
	}
	m.endRound()
}

// failRound ends an unconfirmed round: its reads are answered code, and
// its keep-alives that the member could not ensure its leadership
// (ErrNotPrimary, a not-leader answer).
func (m *Member) failRound(code Code) {
	for _, r := range m.reads.round {
		c := code
		if r.req.Kind == KindLeaseKeepAlive {
			c = ErrNotLeader
		}
		m.reply(r.client, r.req.ID, Result{Code: c})
	}
	m.endRound()
}

// endRound clears the round in flight and starts the next.
func (m *Member) endRound() {
	rl := &m.reads
	clear(rl.round)
	rl.round = rl.round[:0]
	rl.active, rl.confirmed = false, false
	m.startRound()
}

// leaderChanged is the leaderChanged notification: raft reported a leader
// other than the one it reported last (etcd's raft loop, newLeader).
func (m *Member) leaderChanged() {
	if m.reads.active && !m.reads.confirmed {
		m.failRound(ErrLeaderChanged)
	}
}

// firstCommitInTerm is the firstCommitInTerm notification (applyEntryNormal
// of an empty entry): an unanswered round sends again at once.
func (m *Member) firstCommitInTerm() {
	if m.reads.active && !m.reads.confirmed {
		m.sendReadIndex()
	}
}

// readRetry is the retry timer: the latest send of a round still
// unanswered is followed by another (retryTimer.Reset at each send: an
// earlier send's timer, firing first, finds a later one set and does
// nothing).
func (m *Member) readRetry() {
	rl := &m.reads
	rl.timers--
	if rl.timers == 0 && rl.active && !rl.confirmed {
		m.sendReadIndex()
	}
}

// readTick runs the loop's timeout at a tick: an unanswered round fails
// with ErrTimeout after ReqTimeout; reads that have waited readTimeout for
// a confirmed round, or for the next one, are forgotten.
func (m *Member) readTick() {
	rl := &m.reads
	if rl.active && !rl.confirmed && m.clock-rl.started >= m.reqTimeout() {
		m.failRound(ErrTimeout)
	}
	if rl.active && rl.confirmed {
		rl.round = m.forgetOld(rl.round)
	}
	rl.waiting = m.forgetOld(rl.waiting)
}

// forgetOld drops the reads that have waited readTimeout.
func (m *Member) forgetOld(reads []pendingRead) []pendingRead {
	kept := reads[:0]
	for _, r := range reads {
		if m.clock-r.since < readTimeout {
			kept = append(kept, r)
		}
	}
	clear(reads[len(kept):])
	return kept
}
