package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
)

// churner is the membership workload of a world with churn (Config.Churn):
// an operator who changes the membership one operation at a time through
// the cluster API, as an administrator scaling the cluster and as etcd's
// robustness failpoint memberReplace do, steering toward Churn voters. It
// sends through its own client (as root when auth is on) to a random
// member that serves clients, tries a refused request again at its next
// look, and follows what the committed log says (the reference's
// membership): an add it sent is resent, with the same member, until the
// log has it or refuses it for good.
type churner struct {
	*core
	cl  *cluster
	wl  *workload
	rng *rand.Rand // the stream "membership"
	// mistakes is the stream "membership/mistakes" (churn_errpaths.go).
	mistakes *rand.Rand
	client   *client
	op       *churnOp
	next     time.Duration   // no new operation before
	pause    time.Duration   // the seed's pause between operations
	late     time.Duration   // the seed's delay of a late voter's start
	replaces []time.Duration // how long each completed replace took (Report.Replaces)
}

// churnTick is how often the operator looks at the cluster.
const churnTick = 100 * time.Millisecond

// opKind is an operation of the operator.
type opKind uint8

const (
	opGrow       opKind = iota + 1 // add a learner, start it, promote it
	opShrink                       // remove a voter
	opReplace                      // remove a voter, stop it, add a voter at its peer URL, start it
	opLearnerOut                   // add a learner, start it, remove it
	opLateVoter                    // add a voter that starts late (etcd's quorum-1 window)
)

var opNames = [...]string{"", "grow", "shrink", "replace", "learner-out", "late-voter"}

// churnOp is the operation in progress.
type churnOp struct {
	kind    opKind
	victim  uint64        // shrink, replace: the voter removed
	id      uint64        // the member added (0: not made yet)
	host    int           // its machine (peer URL)
	startAt time.Duration // when its process starts (0: once its add commits)
	update  bool          // grow: a MemberUpdate of the learner before its promotion
	listed  bool          // a replace listed the members first
	added   bool          // its add committed
	began   time.Duration
	wait    time.Duration // no request before
	last    string        // the last answer to its requests
	sent    nodes.Kind    // the kind of its last request
	errs    churnErrs     // the operator's mistakes drawn for it (churn_errpaths.go)
}

// String names the operation and the members it is about.
func (op *churnOp) String() string {
	s := opNames[op.kind]
	if op.victim != 0 {
		s += fmt.Sprintf(" of m%d", op.victim)
	}
	if op.id != 0 {
		s += fmt.Sprintf(" with m%d", op.id)
	}
	return s
}

// newChurner makes the operator of a world with churn and schedules its
// first look.
func newChurner(w *world) *churner {
	rng := w.streams.Fork("membership")
	knobs := w.streams.Fork("membership/swarm")
	ch := &churner{core: w.core, cl: w.cl, wl: w.wl, rng: rng, mistakes: w.streams.Fork("membership/mistakes"),
		pause: []time.Duration{time.Second, 3 * time.Second, 10 * time.Second}[knobs.IntN(3)],
		late:  []time.Duration{2 * time.Second, 5 * time.Second, 10 * time.Second}[knobs.IntN(3)],
	}
	c := &client{idx: len(w.wl.clients), proc: len(w.wl.clients), operator: true}
	if w.opt.authOn {
		c.user = "root"
	}
	w.wl.clients = append(w.wl.clients, c)
	w.cl.net.Join(clientBase + c.idx)
	ch.client = c
	w.cl.onAdded = ch.onAdded
	w.q.After(churnTick, Event{Kind: evChurn})
	return ch
}

// knobs describes what the seed drew for the operator.
func (ch *churner) knobs() string {
	return fmt.Sprintf("voters=%d pause=%s late-start=%s", ch.cfg.Churn, ch.pause, ch.late)
}

// onTick is the operator's look: it starts an operation when none runs
// (not in the liveness phase, which only lets the one running finish),
// and takes the next step of the one running.
func (ch *churner) onTick() {
	if ch.op == nil && (ch.healing || ch.q.Now() < ch.next) {
		if !ch.healing {
			ch.q.After(churnTick, Event{Kind: evChurn})
		}
		return
	}
	ch.q.After(churnTick, Event{Kind: evChurn})
	if ch.op == nil {
		ch.op = ch.plan()
		ch.noteOn(0, MarkMember, fmt.Sprintf("membership: %s begins (voters %v)", ch.op, ch.voters()))
	}
	if ch.step(ch.op) {
		if i, ok := ch.cl.byID(ch.op.id); ok && ch.op.kind != opLearnerOut {
			ch.cl.members[i].client = true // a started voter: clients may use it
		}
		ch.noteOn(0, MarkMember, fmt.Sprintf("membership: %s done (voters %v)", ch.op, ch.voters()))
		ch.stats.Operations++
		if ch.op.kind == opReplace {
			ch.replaces = append(ch.replaces, ch.q.Now()-ch.op.began)
		}
		ch.op = nil
		ch.next = ch.q.Now() + ch.pause/2 + time.Duration(ch.rng.Int64N(int64(ch.pause)))
	}
}

// plan draws the next operation: toward the target number of voters, or
// one that keeps it.
func (ch *churner) plan() *churnOp {
	voters, now := ch.voters(), ch.q.Now()
	op := &churnOp{began: now}
	if id, ok := ch.strayLearner(); ok {
		op.kind, op.victim = opShrink, id
		return op
	}
	defer ch.drawErrs(op)
	switch n := len(voters); {
	case n < ch.cfg.Churn:
		op.kind = []opKind{opGrow, opGrow, opGrow, opLateVoter}[ch.rng.IntN(4)]
	case n > ch.cfg.Churn:
		op.kind = opShrink
	case n == 1:
		op.kind = []opKind{opGrow, opLearnerOut}[ch.rng.IntN(2)]
	default:
		op.kind = []opKind{opReplace, opReplace, opLearnerOut, opGrow, opShrink}[ch.rng.IntN(5)]
	}
	op.update = op.kind == opGrow && (ch.rng.IntN(2) == 0 || ch.cfg.Workload == "reconfig")
	if op.kind == opShrink || op.kind == opReplace {
		op.victim = voters[ch.rng.IntN(len(voters))]
	}
	return op
}

// voters returns the voters of the committed configuration.
func (ch *churner) voters() []uint64 {
	cs := ch.chk.Ref.ConfState()
	v := slices.Clone(cs.GetVoters())
	slices.Sort(v)
	return v
}

// inCluster returns the committed membership's record of member id.
func (ch *churner) inCluster(id uint64) (nodes.ClusterMember, bool) {
	for _, m := range ch.chk.Ref.Members() {
		if m.ID == id {
			return m, true
		}
	}
	return nodes.ClusterMember{}, false
}

// onAdded is told of a member whose add committed: one the operator no
// longer waits for (an add it gave up on, committed after all) it starts
// at once, as an operator who finds it in the member list would.
func (ch *churner) onAdded(i int) {
	if ch.op == nil || ch.op.id != ch.cl.members[i].id {
		ch.q.After(0, Event{Kind: evRestart, Node: i})
	}
}

// step takes the next step of op and reports whether it is done.
func (ch *churner) step(op *churnOp) bool {
	if ch.client.req != nil || ch.q.Now() < op.wait {
		return false // waiting for an answer, or backing off
	}
	if ch.errStep(op) {
		return false
	}
	if !op.listed && op.kind == opReplace {
		// A replace begins with a look at the members, as robustness's
		// memberReplace begins with a MemberList: one try, whatever it says.
		op.listed = true
		ch.send(op, nodes.KindMemberList, 0, "", false)
		return false
	}
	switch op.kind {
	case opShrink:
		return ch.removeStep(op.victim)
	case opReplace:
		if !ch.removeStep(op.victim) {
			return false
		}
		if op.id == 0 {
			ch.stopVictim(op.victim)
		}
		return ch.addStep(op, false) && ch.started(op.id)
	case opLateVoter:
		return ch.addStep(op, false) && ch.started(op.id)
	case opLearnerOut:
		return ch.learnerOutStep(op)
	}
	if !ch.addStep(op, true) {
		return false
	}
	m, _ := ch.inCluster(op.id)
	switch {
	case op.update:
		op.update = false
		ch.send(op, nodes.KindMemberUpdate, op.id, m.PeerURLs[0], false)
		return false
	case m.IsLearner:
		ch.send(op, nodes.KindMemberPromote, op.id, "", false)
		return false
	}
	return true
}

// learnerOutStep adds a learner, lets it catch up for a second, and
// removes it.
func (ch *churner) learnerOutStep(op *churnOp) bool {
	if op.added {
		i, _ := ch.cl.byID(op.id)
		if m := ch.cl.members[i]; m.proc != nil && ch.q.Now()-m.upSince < time.Second {
			return false
		}
		return ch.removeStep(op.id)
	}
	return ch.addStep(op, true)
}

// addStep adds a member for op (a learner or a voter) and starts its
// process once the add committed (later for a late voter); it reports
// whether the member is in the cluster with its process started.
func (ch *churner) addStep(op *churnOp, learner bool) bool {
	if op.id == 0 {
		ch.makeMember(op)
	}
	i, _ := ch.cl.byID(op.id)
	m := ch.cl.members[i]
	if _, ok := ch.inCluster(op.id); !ok {
		ch.send(op, nodes.KindMemberAdd, op.id, peerURL(op.host), learner)
		return false
	}
	op.added = true
	if op.startAt == 0 {
		op.startAt = ch.q.Now()
		if op.kind == opLateVoter {
			op.startAt += ch.late
		}
	}
	if !m.started && ch.q.Now() >= op.startAt {
		ch.cl.start(i, false)
	}
	return m.started && op.kind != opLearnerOut
}

// makeMember makes the slot of the member op adds: a new ID, an empty
// disk, no process; a replacement takes the removed member's machine.
func (ch *churner) makeMember(op *churnOp) {
	m := ch.cl.add([2]int64{1, 1}, ch.cl.opt.diskFaults())
	m.join, m.client, m.pending = true, false, true
	op.id, op.host = m.id, int(m.id)
	if op.kind == opReplace {
		vi, _ := ch.cl.byID(op.victim)
		op.host = ch.cl.members[vi].host
	}
	m.host = op.host
}

// removeStep removes member id and reports whether its removal committed.
func (ch *churner) removeStep(id uint64) bool {
	if _, ok := ch.inCluster(id); !ok {
		return true
	}
	ch.send(ch.op, nodes.KindMemberRemove, id, "", false)
	return false
}

// stopVictim kills a replaced member's process if it still runs, and
// keeps its data dir, as memberReplace kills it and moves on with a fresh
// data dir for the new member.
func (ch *churner) stopVictim(id uint64) {
	if i, ok := ch.cl.byID(id); ok && ch.cl.members[i].proc != nil {
		ch.cl.stopRemoved(i, "killed by the operator after its removal")
	}
}

// started reports whether member id's publish is in the committed
// membership (etcd's IsStarted).
func (ch *churner) started(id uint64) bool {
	m, ok := ch.inCluster(id)
	return ok && m.IsStarted()
}

// send sends one cluster API request to a random member that serves
// clients: the operator's clientv3, given every member's endpoint, sends
// over a ready connection (its balancer picks among READY
// sub-connections), and etcd accepts a client connection only once it is
// ready (serveCtx.serve waits for ReadyNotify). With none serving, the
// request waits for the operator's next look.
func (ch *churner) send(op *churnOp, kind nodes.Kind, id uint64, url string, learner bool) {
	up := ch.serving()
	if len(up) == 0 {
		return
	}
	c := ch.client
	c.target = up[ch.rng.IntN(len(up))]
	req := &nodes.Request{Kind: kind, MemberID: id, PeerURL: url, Learner: learner, User: c.user}
	op.sent = kind
	ch.wl.issue(c, req)
}

// serving returns the indexes of the members that serve clients.
func (ch *churner) serving() []int {
	var up []int
	for i, m := range ch.cl.members {
		if m.proc != nil && !m.removed && m.proc.Serving() {
			up = append(up, i)
		}
	}
	return up
}

// done is told how a request of the operator ended (code, or unknown).
// A refusal is tried again at the operator's next look, as robustness's
// memberReplace loops on MemberAdd with no pause until it succeeds; a
// learner not ready yet, or an unknown outcome, after 300 ms.
func (ch *churner) done(code nodes.Code, unknown bool) {
	if ch.op == nil {
		return
	}
	ch.op.last = code.String()
	if unknown {
		ch.op.last = "no answer"
	}
	if !unknown && code == nodes.OK && ch.op.sent == nodes.KindMemberAdd {
		ch.op.errs.addOK = true
	}
	if unknown || code == nodes.ErrLearnerNotReady {
		ch.op.wait = ch.q.Now() + 300*time.Millisecond
	}
}

// settled returns "" once the membership is settled for the liveness
// phase, else why not: the operation in progress finished (every learner
// it started promoted or removed, as it intended), and every member that
// runs holds the committed configuration and member list.
func (ch *churner) settled() string {
	if op := ch.op; op != nil {
		return fmt.Sprintf("membership: %s has not finished (committed voters %v; its last request: %s)", op, ch.voters(), op.last)
	}
	want := nodes.ConfDigest(ch.chk.Ref.ConfState())
	for _, m := range ch.cl.members {
		if m.removed || m.pending || m.proc == nil {
			continue
		}
		if m.proc.ConfDigest() != want {
			return fmt.Sprintf("membership: m%d's raft configuration %s is not the committed one", m.id, m.proc.ConfString())
		}
		if d, err := nodes.MembersDigest(m.proc.Backend()); err != nil || d != want {
			return fmt.Sprintf("membership: m%d's members bucket is not the committed configuration", m.id)
		}
	}
	return ""
}
