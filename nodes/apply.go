package nodes

import (
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3/raftpb"
)

// applier is etcd's apply loop (EtcdServer.applyAll/applyEntries): it
// applies committed entries one per event, so that a backend commit or a
// crash can fall between any two of them; a run of entries already in the
// backend (at or below the consistent index) is applied in one event
// (applySkipped).
type applier struct {
	q        []item // q[head:] waits to be applied
	head     int
	queuedTo uint64        // the highest index ever queued
	held     []item        // waiting for the WAL fsync (one voter #14370; snapshots)
	armed    bool          // a TimerApply is set
	blocked  bool          // defrag holds the backend
	locked   *raftpb.Entry // ci-before-lock: CI set, effects not yet applied
	// installing is the received snapshot being applied: the apply loop
	// is busy with it until its TimerApplySnap (applySnapshotCost).
	installing *raftpb.Snapshot
	// snapSends are MsgSnaps raft asked for while a snapshot is applied:
	// etcd's raft loop hands a MsgSnap to msgSnapC, and the apply
	// goroutine merges it with the backend only after its current job.
	snapSends []*raftpb.Message

	applied     uint64
	appliedTerm uint64 // the term of the entry at applied
	// The consistent index as etcd v3.5.5+ keeps it: apply sets the
	// applying index; the apply's backend lock promotes it to ci
	// (LockInsideApply, #13854); a deferred step advances ci even when the
	// apply took no lock (#13942, #14419); the pre-commit hook writes ci
	// and ciTerm into every commit (#14730).
	ci, ciTerm              uint64
	applyingIdx, applyingTm uint64
}

// item is one unit of apply work: an entry, or a raft snapshot to install.
type item struct {
	e    *raftpb.Entry
	snap *raftpb.Snapshot
}

func (a *applier) push(it item, wait bool) {
	if wait {
		a.held = append(a.held, it)
	} else {
		a.q = append(a.q, it)
	}
}

func (a *applier) enqueue(m *Member, ents []*raftpb.Entry, wait bool) {
	// A restart's first Readies hand back thousands of entries: grow the
	// queue once, not by doubling.
	if wait {
		a.held = slices.Grow(a.held, len(ents))
	} else {
		a.q = slices.Grow(a.q, len(ents))
	}
	for _, e := range ents {
		if e.GetIndex() <= a.queuedTo {
			continue // already queued early (ack-before-wal-sync)
		}
		a.queuedTo = e.GetIndex()
		a.push(item{e: e}, wait)
	}
	if o := m.cfg.Observer; o != nil && len(ents) > 0 {
		o.Committed(m, ents)
	}
	a.arm(m)
}

func (a *applier) walSynced(m *Member) {
	if len(a.held) > 0 {
		a.q = append(a.q, a.held...)
		a.held = a.held[:0]
	}
	a.arm(m)
}

// arm sets the apply timer: an apply costs tens of microseconds of CPU.
func (a *applier) arm(m *Member) {
	if a.armed || a.blocked || a.locked != nil || a.installing != nil || a.head == len(a.q) {
		return
	}
	a.armed = true
	m.timer(time.Duration(5+m.cfg.Rand.IntN(45))*time.Microsecond, TimerApply)
}

func (m *Member) applyNext() {
	a := &m.apply
	a.armed = false
	if a.blocked || a.locked != nil || a.installing != nil || a.head == len(a.q) {
		return
	}
	it := a.q[a.head]
	a.q[a.head] = item{}
	a.head++
	if a.head == len(a.q) { // empty: reuse the array from its start
		a.q, a.head = a.q[:0], 0
	}
	if it.snap != nil {
		m.beginApplySnapshot(it.snap)
		return
	}
	if m.replayed(it.e) {
		m.applyEntry(it.e)
	} else {
		m.failpoint(FPBeforeApply)
		m.applyEntry(it.e)
		m.failpoint(FPAfterApply)
	}
	m.applySkipped()
	a.arm(m)
}

// replayed reports whether e is a normal entry at or below the consistent
// index: one the backend already holds, which the apply skips.
func (m *Member) replayed(e *raftpb.Entry) bool {
	return e.GetType() == raftpb.EntryNormal && e.GetIndex() <= m.apply.ci
}

// applySkipped applies, in the same event, the run of normal entries at
// the head of the queue that are at or below the consistent index: the
// entries a restarted member's first Readies hand back although its
// backend holds them. etcd's apply loop (EtcdServer.apply) walks them
// without yielding: shouldApplyV3 is false, applyEntryNormal does only
// the v2store part and returns without touching the backend, so they cost
// it almost nothing. Each is reported to the observer one by one, so every
// per-entry check still runs. The apply failpoints are not passed:
// etcd's beforeApplyOneEntryNormal fires for these entries too, but a
// skipped entry writes nothing, so a crash at any of them leaves the disk
// a crash at the restart leaves (restart/crash), and a per-pass rate met
// at each of thousands of replayed entries turned an armed point into a
// crash loop in long worlds (seed 1 at 600 s: 762 of its 825 crashes at
// afterApply, most inside the replay, and its cost per committed entry
// seven times the 60 s one's). A conf change
// is not part of the run: etcd 3.6 applies it to raft and to the
// membership even below the consistent index (applyConfChange), and the
// model keeps it its own event, as every entry above the consistent index.
func (m *Member) applySkipped() {
	a := &m.apply
	for !a.blocked && a.locked == nil && a.head < len(a.q) {
		e := a.q[a.head].e
		if e == nil || e.GetType() != raftpb.EntryNormal || e.GetIndex() > a.ci {
			return
		}
		a.q[a.head] = item{}
		a.head++
		if a.head == len(a.q) {
			a.q, a.head = a.q[:0], 0
		}
		m.applyEntry(e)
	}
}

func (m *Member) applyEntry(e *raftpb.Entry) {
	a := &m.apply
	idx := e.GetIndex()
	if e.GetType() != raftpb.EntryNormal {
		m.applyConfChange(e)
		return
	}
	if idx <= a.ci {
		// Already in the backend: etcd's shouldApplyV3 is false.
		if m.cfg.Membership && len(e.Data) > 0 {
			m.replayV2(e)
		}
		m.probe(ProbeApplySkip)
		m.finishApply(e, nil, nil)
		return
	}
	if m.cfg.Bugs.CIBeforeLock {
		// v3.5.0-3.5.2 (#13766): SetConsistentIndex before the apply; the
		// effects land when the apply takes the backend lock, later.
		a.ci, a.ciTerm = idx, e.GetTerm()
		if len(e.Data) == 0 {
			m.finishApply(e, nil, nil)
			return
		}
		a.locked = e
		m.timer(time.Duration(20+m.cfg.Rand.IntN(480))*time.Microsecond, TimerApplyLocked)
		return
	}
	a.applyingIdx, a.applyingTm = idx, e.GetTerm()
	var req *Request
	var res Result
	if len(e.Data) > 0 {
		req, res = m.execute(e)
	}
	if a.ci < idx && !m.authSkipsCI(req) { // the deferred advance of applyEntryNormal (#14419)
		a.ci, a.ciTerm = idx, e.GetTerm()
	}
	m.finishApply(e, req, &res)
}

// authSkipsCI is the bug mode auth-ci (#11651, etcd <= 3.4.7): the
// consistent index was saved only by MVCC write transactions, so an auth
// mutation reached the backend without it, and a restart applied it again.
func (m *Member) authSkipsCI(req *Request) bool {
	return m.cfg.Bugs.AuthCI && req != nil && req.Kind.IsAuth()
}

// applyLocked is the second half of an apply under ci-before-lock.
func (m *Member) applyLocked() {
	e := m.apply.locked
	if e == nil {
		return
	}
	m.apply.locked = nil
	req, res := m.execute(e)
	m.finishApply(e, req, &res)
	m.apply.arm(m)
}

// lockInsideApply is etcd's batchTx.LockInsideApply: taking the backend
// lock inside an apply promotes the applying index to the consistent index,
// so a commit can only see the index together with the entry's effects.
func (m *Member) lockInsideApply() {
	a := &m.apply
	if !m.cfg.Bugs.CIBeforeLock && a.applyingIdx > a.ci {
		a.ci, a.ciTerm = a.applyingIdx, a.applyingTm
	}
}

func (m *Member) execute(e *raftpb.Entry) (*Request, Result) {
	req, err := m.cfg.Decoded.Decode(e.Data)
	if err != nil {
		return nil, Result{Code: ErrBadRequest, Rev: m.state.KV.Rev()}
	}
	if !m.authSkipsCI(req) {
		m.lockInsideApply()
	}
	res, job := m.state.Apply(m.be, req)
	m.unlock()
	if job != nil {
		m.startCompaction(job)
	}
	return req, res
}

func (m *Member) finishApply(e *raftpb.Entry, req *Request, res *Result) {
	a := &m.apply
	a.applied, a.appliedTerm = e.GetIndex(), e.GetTerm()
	m.stats.Applied++
	var out *Outcome
	if req != nil {
		// ReadyNotify waits for this life's own publish request, not one
		// replayed from an earlier life's log.
		if req.Kind == KindPublish && req.ID&^0xffffffff == m.idPrefix() {
			m.published = true
		}
		// The member's own slot: observers read it during the call only.
		m.outcome = OutcomeOf(req.Kind, res)
		out = &m.outcome
		if w, ok := m.waiters[req.ID]; ok {
			delete(m.waiters, req.ID)
			m.out.Replies = append(m.out.Replies, Reply{Client: w.client, ID: req.ID, Result: *res, Index: e.GetIndex(), Term: e.GetTerm()})
		}
	}
	if o := m.cfg.Observer; o != nil {
		o.Applied(m, e.GetIndex(), out)
	}
	if len(e.Data) == 0 && e.GetType() == raftpb.EntryNormal {
		m.firstCommitInTerm() // applyEntryNormal's firstCommitInTerm.Notify
	}
	if m.be.Pending() >= m.cfg.BatchLimit {
		m.commit()
	}
	m.serveReads()
	if len(m.renewWaits) > 0 {
		m.releaseRenews()
	}
	m.maybeSnapshot()
	if len(m.promoteWaits) > 0 {
		m.releasePromotes()
	}
	if m.waitApply != 0 && a.applied >= m.waitApply {
		m.finishWaited()
	}
}

func (m *Member) applyConfChange(e *raftpb.Entry) {
	var cc raftpb.ConfChange
	if e.GetType() == raftpb.EntryConfChange {
		if err := proto.Unmarshal(e.Data, &cc); err != nil {
			panic(err)
		}
		if m.cfg.Membership {
			m.applyMembership(e, &cc)
		} else {
			m.setConfState(m.node().ApplyConfChange(&cc))
		}
	}
	a := &m.apply
	if a.ci < e.GetIndex() {
		a.ci, a.ciTerm = e.GetIndex(), e.GetTerm()
	}
	m.finishApply(e, nil, nil)
}

// setConfState records raft's configuration after a change.
func (m *Member) setConfState(cs *raftpb.ConfState) {
	m.confVote = len(cs.GetVoters())
	m.confState = cs
	if m.cfg.Membership {
		m.confDigest = ConfDigest(cs)
	}
}

// applyMembership is etcd's applyConfChange: the membership validates and
// takes the change (its backend part only above the consistent index,
// under the apply's lock), raft takes it or, refused, an empty change; the
// proposer learns the outcome, and a member that removed itself stops a
// second later (stopWithDelay).
func (m *Member) applyMembership(e *raftpb.Entry, cc *raftpb.ConfChange) {
	a := &m.apply
	v3 := e.GetIndex() > a.ci
	if v3 {
		a.applyingIdx, a.applyingTm = e.GetIndex(), e.GetTerm()
	}
	err := m.state.Cluster.ApplyConfChange(m.be, cc, v3, m.lockInsideApply)
	m.unlock()
	if err != nil {
		cc.NodeId = new(uint64(0))
	}
	m.setConfState(m.node().ApplyConfChange(cc))
	if w, ok := m.waiters[cc.GetId()]; ok {
		delete(m.waiters, cc.GetId())
		res := Result{Code: OK, Rev: m.state.KV.Rev(), Members: m.state.Cluster.Members()}
		if err != nil {
			res = Result{Code: memberCode(err), Rev: m.state.KV.Rev()}
		}
		m.answer(w.client, w.peer, cc.GetId(), res)
	}
	if err == nil && cc.GetType() == raftpb.ConfChangeRemoveNode && cc.GetNodeId() == m.cfg.ID {
		m.timer(time.Second, TimerStop)
	}
}

// replayV2 applies an entry at or below the consistent index to the v2
// copy of the membership only (etcd's ApplyV2storeOnly): a publish, a
// cluster version.
func (m *Member) replayV2(e *raftpb.Entry) {
	req, err := m.cfg.Decoded.Decode(e.Data)
	switch {
	case err != nil:
	case req.Kind == KindPublish && req.MemberID != 0:
		m.state.Cluster.UpdateAttributes(m.be, req.MemberID, req.Name, []string{req.PeerURL}, false, func() {})
		m.unlock()
	case req.Kind == KindClusterVersion:
		m.state.Cluster.SetVersion(m.be, req.Name, false)
		m.unlock()
	}
}
