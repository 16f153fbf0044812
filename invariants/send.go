package invariants

import (
	"fmt"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes/wal"
)

// Sending is persisted-before-send, raft's contract at the moment a
// member hands a message to its transport (go.etcd.io/raft doc.go, the
// Ready handling duties): no message leaves before the HardState it was
// made under is durable, nor before the entries of earlier Readies are.
// The leader may send its appends while it writes them itself (raft thesis
// §10.2.1), so entries a message carries are not checked, only what it
// reveals of its sender:
//
//   - its term (every message but a pre-vote's, whose term the sender has
//     not taken, and a forwarded proposal or read, which carry none): the
//     sender's durable HardState is at that term or later, or a restart
//     could take the sender back to a term it already spoke in;
//   - a vote (a candidate's MsgVote for itself, a granted MsgVoteResp):
//     the durable HardState holds that vote, or a later term, or a restart
//     could vote twice in one term;
//   - an acknowledgment of entries or of a snapshot (an accepting
//     MsgAppResp through index i): entries 1..i as the member has them are
//     durable, or a leader could count a quorum that a crash undoes (an
//     acknowledgment of a term older than the durable one is exempt, see
//     acked).
//
// The commit index is not part of it: raft does not fsync a HardState
// whose only change is Commit, and etcd's bootstrap copes with that.
// Durability is what the member's disk holds synced (View.WALDurable).
func (c *Checker) Sending(v View, msg *raftpb.Message) {
	if c.Off {
		return
	}
	term, typ := msg.GetTerm(), msg.GetType()
	switch {
	case term == 0, typ == raftpb.MsgPreVote, typ == raftpb.MsgPreVoteResp:
		return
	}
	d := v.WALDurable()
	if d.Term < term {
		c.fail(PersistedBeforeSend, v.ID(), "m%d sent %s to m%d in term %d while its durable HardState is at term %d",
			v.ID(), msg.GetType(), msg.GetTo(), term, d.Term)
		return
	}
	if voter, ok := votedFor(typ, msg); ok && d.Term == term && d.Vote != voter {
		c.fail(PersistedBeforeSend, v.ID(), "m%d sent %s to m%d for its vote for m%d in term %d while its durable HardState votes for %s",
			v.ID(), msg.GetType(), msg.GetTo(), voter, term, memberName(d.Vote))
		return
	}
	if typ == raftpb.MsgAppResp && !msg.GetReject() && !acked(d, term, msg.GetIndex()) {
		c.fail(PersistedBeforeSend, v.ID(), "m%d acknowledged entries through index %d to m%d (MsgAppResp, term %d) while its WAL holds %s",
			v.ID(), msg.GetIndex(), msg.GetTo(), term, durableLog(d))
	}
}

// acked reports whether an acknowledgment, in term, of entries 1..i is
// backed by the WAL: in the durable term, the log as the member has it is
// durable through i. An acknowledgment of an older term is exempt: raft
// queued it before the member learned the newer term, and releases it with
// the Ready that persists that term (msgsAfterAppend), by when a new
// leader's entries may have replaced the acknowledged ones, durable or not
// (seeds 1223 and 1239 of five members). It cannot make the older term's
// leader commit what the new one lacks: a quorum that acknowledged at the
// older term and the quorum that elected the newer leader share a member,
// which would have refused that vote with the longer log, or refused the
// older term's entries after voting.
func acked(d wal.Durable, term, i uint64) bool {
	return d.Term > term || d.Holds(i)
}

// votedFor returns the vote a message reveals its sender cast: a
// candidate's for itself, a granted vote's for the candidate (typ is the
// message's type).
func votedFor(typ raftpb.MessageType, msg *raftpb.Message) (uint64, bool) {
	switch {
	case typ == raftpb.MsgVote:
		return msg.GetFrom(), true
	case typ == raftpb.MsgVoteResp && !msg.GetReject():
		return msg.GetTo(), true
	}
	return 0, false
}

// memberName names a vote: "m3", or "nobody".
func memberName(id uint64) string {
	if id == 0 {
		return "nobody"
	}
	return fmt.Sprintf("m%d", id)
}

// durableLog says how far a WAL's durable records hold the member's log.
func durableLog(d wal.Durable) string {
	if d.Rewrite != 0 && d.Rewrite <= d.Last {
		return fmt.Sprintf("entries through index %d synced, but an unsynced write replaces them from index %d", d.Last, d.Rewrite)
	}
	return fmt.Sprintf("entries only through index %d synced", d.Last)
}
