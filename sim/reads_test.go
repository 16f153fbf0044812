package sim

import (
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
)

// scenarioDo runs one scenario command line (scenarioLine's forms) and
// fails the test on an error.
func scenarioDo(t *testing.T, s *Scenario, line string) string {
	t.Helper()
	cmd, args := scenarioLine(line)
	out, err := s.Do(cmd, args)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return out
}

// sendGets sends n linearizable gets of key k to member index i, one per
// idle client, at this instant.
func sendGets(t *testing.T, s *Scenario, i, n int) {
	t.Helper()
	for range n {
		sendReq(t, s, i, &nodes.Request{Kind: nodes.KindRange, Key: []byte("k")}, "get k")
	}
}

// TestReadLoopBatches: linearizable reads that reach a member while its
// read loop has a round in flight share the next round, as etcd's
// linearizableReadLoop serves every read that arrived before a round began
// with that round's one ReadIndex.
func TestReadLoopBatches(t *testing.T) {
	var s Scenario
	scenarioDo(t, &s, "world seed=7 members=3")
	scenarioDo(t, &s, "stabilize")
	scenarioDo(t, &s, "put m=1 k=v")
	scenarioDo(t, &s, "run for=100ms")
	const f = 1 // m2, a follower of m1
	before := s.w.cl.members[f].proc.Stats()
	sendGets(t, &s, f, 6)
	scenarioDo(t, &s, "run for=1s")
	got := scenarioDo(t, &s, "replies")
	if n := strings.Count(got, "get k: ok"); n != 6 {
		t.Fatalf("%d of 6 gets answered ok:\n%s", n, got)
	}
	after := s.w.cl.members[f].proc.Stats()
	rounds, sends := after.ReadRounds-before.ReadRounds, after.ReadIndexes-before.ReadIndexes
	t.Logf("6 reads: %d rounds, %d sends", rounds, sends)
	if rounds < 1 || rounds >= 6 || sends != rounds {
		t.Fatalf("6 reads took %d rounds and %d ReadIndex sends; want fewer rounds than reads, one send each", rounds, sends)
	}
}

// TestReadLoopLeaderChanged: a read whose ReadIndex cannot reach the
// leader is sent again every readIndexRetry, and fails with
// ErrLeaderChanged once the member hears of a new leader (etcd's
// requestCurrentIndex); the client takes it to another member.
func TestReadLoopLeaderChanged(t *testing.T) {
	var s Scenario
	scenarioDo(t, &s, "world seed=7 members=3")
	scenarioDo(t, &s, "stabilize") // m1 leads
	scenarioDo(t, &s, "partition (1) (2 3)")
	const f = 1 // m2
	before := s.w.cl.members[f].proc.Stats()
	sendGets(t, &s, f, 1)
	scenarioDo(t, &s, "run for=1900ms")
	got := scenarioDo(t, &s, "replies")
	if !strings.Contains(got, "get k: leader-changed") {
		t.Fatalf("the get was not failed with leader-changed:\n%s", got)
	}
	after := s.w.cl.members[f].proc.Stats()
	sends := after.ReadIndexes - before.ReadIndexes
	t.Logf("%d sends; replies:\n%s", sends, got)
	if sends < 2 {
		t.Fatalf("%d ReadIndex sends before the new leader; want retries every 500ms", sends)
	}
}

// sendReq sends req to member index i by an idle client, at this instant.
func sendReq(t *testing.T, s *Scenario, i int, req *nodes.Request, desc string) {
	t.Helper()
	c := s.idleClient()
	if c == nil {
		t.Fatal("every client is waiting")
	}
	c.target = i
	s.w.wl.issue(c, req)
	s.reqs[req.ID] = desc
}

// TestKeepAliveEnsuresLeadership: a leader cut off from the majority does
// not renew a lease, even before CheckQuorum deposes it: etcd's LeaseRenew
// ensures its leadership through a read round first (#16822, for #15247),
// which cannot complete without a quorum. Before that, the model's leader
// answered from its lessor at once. With the cluster whole, the keep-alive
// is renewed.
func TestKeepAliveEnsuresLeadership(t *testing.T) {
	var s Scenario
	scenarioDo(t, &s, "world seed=7 members=3")
	scenarioDo(t, &s, "stabilize") // m1 leads
	sendReq(t, &s, 0, &nodes.Request{Kind: nodes.KindLeaseGrant, Lease: 7, TTL: 30}, "grant 7")
	scenarioDo(t, &s, "run for=200ms")
	sendReq(t, &s, 0, &nodes.Request{Kind: nodes.KindLeaseKeepAlive, Lease: 7}, "keep-alive 7")
	scenarioDo(t, &s, "run for=200ms")
	got := scenarioDo(t, &s, "replies")
	if !strings.Contains(got, "grant 7: ok") || !strings.Contains(got, "keep-alive 7: ok") {
		t.Fatalf("the grant and the keep-alive on a whole cluster:\n%s", got)
	}
	scenarioDo(t, &s, "partition (1) (2 3)")
	sendReq(t, &s, 0, &nodes.Request{Kind: nodes.KindLeaseKeepAlive, Lease: 7}, "keep-alive 7 cut off")
	scenarioDo(t, &s, "run for=3s")
	got = scenarioDo(t, &s, "replies")
	if strings.Contains(got, "keep-alive 7 cut off: ok") || !strings.Contains(got, "keep-alive 7 cut off:") {
		t.Fatalf("the keep-alive at the cut-off leader:\n%s", got)
	}
	t.Logf("%s", got)
}
