package invariants

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes/wal"
)

// msg builds a raft message from m1 to m2.
func msg(typ raftpb.MessageType, term, index uint64, reject bool) *raftpb.Message {
	return &raftpb.Message{Type: typ.Enum(), From: new(uint64(1)), To: new(uint64(2)), Term: new(term), Index: new(index), Reject: new(reject)}
}

// sends feeds one message from a member whose WAL holds d synced.
func sends(d wal.Durable, m *raftpb.Message) func(*testing.T, *Checker) {
	return func(t *testing.T, c *Checker) {
		f := newMember(1)
		f.durable = &d
		c.Sending(f, m)
	}
}

// TestPersistedBeforeSend: a member that sends what it has not made durable
// (a broken member: its WAL holds less than the message says) is caught;
// one whose WAL holds it is not, and neither are a pre-vote's future term,
// a leader's own appends, an unsynced commit index nor a rejection.
func TestPersistedBeforeSend(t *testing.T) {
	synced := wal.Durable{Term: 5, Vote: 1, Commit: 3, Last: 10}
	runCases(t, []checkCase{
		{name: "heartbeat in a term not yet durable", feed: sends(wal.Durable{Term: 4, Last: 10}, msg(raftpb.MsgHeartbeat, 5, 0, false)),
			want: "persisted-before-send", evidence: []string{"m1 sent MsgHeartbeat to m2 in term 5", "durable HardState is at term 4"}},
		{name: "granted vote not yet durable", feed: sends(wal.Durable{Term: 5, Vote: 0, Last: 10}, msg(raftpb.MsgVoteResp, 5, 0, false)),
			want: "persisted-before-send", evidence: []string{"its vote for m2 in term 5", "votes for nobody"}},
		{name: "candidate's vote for itself not yet durable", feed: sends(wal.Durable{Term: 5, Vote: 3, Last: 10}, msg(raftpb.MsgVote, 5, 10, false)),
			want: "persisted-before-send", evidence: []string{"vote for m1 in term 5", "votes for m3"}},
		{name: "append acknowledged before its entries are durable", feed: sends(synced, msg(raftpb.MsgAppResp, 5, 12, false)),
			want: "persisted-before-send", evidence: []string{"acknowledged entries through index 12", "only through index 10 synced"}},
		{name: "append acknowledged while a rewrite of it is unsynced", feed: sends(wal.Durable{Term: 5, Vote: 1, Last: 10, Rewrite: 8}, msg(raftpb.MsgAppResp, 5, 9, false)),
			want: "persisted-before-send", evidence: []string{"through index 9", "replaces them from index 8"}},
		{name: "snapshot acknowledged before its marker is durable", feed: sends(synced, msg(raftpb.MsgAppResp, 5, 500, false)),
			want: "persisted-before-send", evidence: []string{"through index 500"}},
		{name: "durable acknowledgment", feed: sends(synced, msg(raftpb.MsgAppResp, 5, 10, false))},
		{name: "older term's acknowledgment sent after the new term's entries replaced it", feed: sends(wal.Durable{Term: 6, Last: 8}, msg(raftpb.MsgAppResp, 5, 12, false))},
		{name: "acknowledgment below an unsynced rewrite", feed: sends(wal.Durable{Term: 5, Last: 10, Rewrite: 8}, msg(raftpb.MsgAppResp, 5, 7, false))},
		{name: "rejection acknowledges nothing", feed: sends(synced, msg(raftpb.MsgAppResp, 5, 40, true))},
		{name: "leader's append carries entries it is still writing", feed: func(t *testing.T, c *Checker) {
			m := msg(raftpb.MsgApp, 5, 10, false)
			m.Entries = []*raftpb.Entry{entry(5, 11, nil), entry(5, 12, nil)}
			m.Commit = new(uint64(12))
			sends(synced, m)(t, c)
		}},
		{name: "pre-vote asks for a term not taken", feed: sends(synced, msg(raftpb.MsgPreVote, 6, 10, false))},
		{name: "pre-vote granted for a future term", feed: sends(synced, msg(raftpb.MsgPreVoteResp, 6, 0, false))},
		{name: "forwarded proposal carries no term", feed: sends(wal.Durable{}, msg(raftpb.MsgProp, 0, 0, false))},
		{name: "rejected vote reveals the term only", feed: sends(wal.Durable{Term: 5, Vote: 3}, msg(raftpb.MsgVoteResp, 5, 0, true))},
		{name: "a later durable term covers an old vote", feed: sends(wal.Durable{Term: 6}, msg(raftpb.MsgVoteResp, 5, 0, false))},
	})
}
