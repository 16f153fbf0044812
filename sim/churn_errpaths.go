package sim

import (
	"time"

	"github.com/etcdsim/etcdsim/nodes"
)

// The operator's mistakes: requests an operator sends in the middle of an
// operation that etcd refuses because of the state the operation is in,
// and that cannot change the membership when refused. Each is drawn once
// per operation when it begins (errs), and sent at most once:
//
//   - dupAdd: the same MemberAdd again, at once after its answer said it
//     was added, as an operator whose script ran it twice within the
//     second (etcd's computeMemberID hashes the peer URLs with the Unix
//     second, so the second add carries the same member ID): ErrIDExists
//     in ValidateConfigurationChange (member-exists).
//   - secondLearner: a MemberAdd of another learner, on its own machine,
//     while the operation's learner waits to be promoted or removed:
//     ErrTooManyLearners with etcd's --max-learners of 1.
//   - earlyRemove: while a late voter's process has not started (etcd's
//     quorum-1 window), a MemberRemove of a started voter whose removal
//     would leave fewer started voters than a quorum:
//     IsReadyToRemoveVotingMember's ErrNotEnoughStartedMembers
//     (--strict-reconfig-check), sent only when the committed membership
//     makes the refusal certain.
//
// Should one of them take effect after all (a request held up longer than
// the operation: a paused member, a slow link), the operator follows the
// committed log as ever: a learner nobody wants is removed by the next
// operation (plan), a voter removed is replaced toward the target.
type churnErrs struct {
	dupAdd, secondLearner, earlyRemove bool
	addOK                              bool // the operation's add was answered ok
}

// drawErrs draws the operator's mistakes for op from their own stream
// ("membership/mistakes"), so that the operations and their timing draw as
// before: a duplicate add or a second learner in one operation in eight
// that could make it, a remove in one late voter's window in two.
func (ch *churner) drawErrs(op *churnOp) {
	r := ch.mistakes
	adds := op.kind != opShrink
	learns := op.kind == opGrow || op.kind == opLearnerOut
	op.errs = churnErrs{
		dupAdd:        adds && r.IntN(8) == 0,
		secondLearner: learns && r.IntN(8) == 0,
		earlyRemove:   op.kind == opLateVoter && r.IntN(2) == 0,
	}
}

// errStep sends one of op's mistakes whose moment has come, and reports
// whether it sent one.
func (ch *churner) errStep(op *churnOp) bool {
	e := &op.errs
	if op.id == 0 || len(ch.serving()) == 0 {
		return false // nothing to send it to: it waits, as the request would
	}
	cm, in := ch.inCluster(op.id)
	switch {
	case e.dupAdd && e.addOK && in:
		e.dupAdd = false
		ch.send(op, nodes.KindMemberAdd, op.id, cm.PeerURLs[0], cm.IsLearner)
		return true
	case e.secondLearner && in && cm.IsLearner:
		e.secondLearner = false
		m := ch.cl.add([2]int64{1, 1}, ch.cl.opt.diskFaults())
		m.join, m.client, m.pending = true, false, true
		ch.send(op, nodes.KindMemberAdd, m.id, peerURL(m.host), true)
		return true
	case e.earlyRemove && in && !cm.IsStarted() && op.startAt > 0 && ch.q.Now()+time.Second < op.startAt:
		if victim, ok := ch.refusedRemove(op.id); ok {
			e.earlyRemove = false
			ch.send(op, nodes.KindMemberRemove, victim, "", false)
			return true
		}
	}
	return false
}

// refusedRemove returns a started voter other than late whose removal
// IsReadyToRemoveVotingMember refuses in the committed membership: the
// started voters left would be fewer than a quorum of the voters left.
func (ch *churner) refusedRemove(late uint64) (uint64, bool) {
	var voters []nodes.ClusterMember
	for _, m := range ch.chk.Ref.Members() {
		if !m.IsLearner {
			voters = append(voters, m)
		}
	}
	for _, v := range voters {
		if v.ID == late || !v.IsStarted() {
			continue
		}
		nmembers, nstarted := len(voters)-1, 0
		for _, o := range voters {
			if o.ID != v.ID && o.IsStarted() {
				nstarted++
			}
		}
		if nstarted < nmembers/2+1 {
			return v.ID, true
		}
	}
	return 0, false
}

// strayLearner returns a learner of the committed membership that no
// operation wants (a mistake that took effect), to be removed.
func (ch *churner) strayLearner() (uint64, bool) {
	for _, m := range ch.chk.Ref.Members() {
		if m.IsLearner {
			return m.ID, true
		}
	}
	return 0, false
}
