package invariants

import (
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

func secs(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// expiryID is the ID of a lease revoke member id proposed on its expiry.
func expiryID(id uint64) uint64 { return 1<<63 | id<<56 | 1 }

func grant(l *Leases, id, ttl int64, at float64) {
	l.Applied(&nodes.Request{ID: 10, Kind: nodes.KindLeaseGrant, Lease: id, TTL: ttl}, nodes.Result{TTL: ttl, Rev: 1}, secs(at))
}

// revoke commits a revoke of lease id at revision rev that deleted its
// keys.
func revoke(l *Leases, reqID uint64, id, rev int64, at float64) {
	l.Applied(&nodes.Request{ID: reqID, Kind: nodes.KindLeaseRevoke, Lease: id}, nodes.Result{Rev: rev, Deleted: 1}, secs(at))
}

// leases runs feed on a lease checker held to the plain TTL.
func leases(feed func(l *Leases)) func(*testing.T, *Checker) {
	return func(t *testing.T, c *Checker) {
		feed(c.NewLeases(LeaseBound([2]int64{1, 1}, [2]int64{1, 1}, time.Second)))
	}
}

// TestLeaseSemantics: a broken lessor (in this test only: the history of
// what it did) breaks lease-semantics; etcd's behaviour does not.
func TestLeaseSemantics(t *testing.T) {
	leasedKey := []mvcc.KeyValue{{Key: []byte("k"), Value: []byte("v"), ModRevision: 4, Lease: 7}}
	runCases(t, []checkCase{
		{name: "expiry revoke revealed before the TTL after a keep-alive", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			l.KeepAlive(3, 2, 7, 5, secs(4), secs(4.01))
			revoke(l, expiryID(2), 7, 9, 8.5)
			l.Read(4, 1, 9, nil, secs(8.6))
		}), want: "lease-semantics", evidence: []string{"lease 7 (TTL 5s) was revoked by m2's expiry (committed at 8.500s, revision 9; client 4 read revision 9 from m1 at 8.600s), 4.6s after client 3's keep-alive sent at 4.000s", "promises it 5s"}},
		{name: "expiry revoke revealed before the TTL after the grant", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			revoke(l, expiryID(1), 7, 9, 5.5)
			l.NotFound(2, 7, secs(5.6))
		}), want: "lease-semantics", evidence: []string{"client 2 was told the lease is not found at 5.600s), 4.6s after its grant committed at 1.000s"}},
		{name: "keep-alive sent after its revoke was revealed", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			revoke(l, 42, 7, 9, 2)
			l.Revoked(5, 7, secs(2.1))
			l.KeepAlive(3, 2, 7, 5, secs(2.5), secs(2.6))
		}), want: "lease-semantics", evidence: []string{"m2 acknowledged client 3's keep-alive of lease 7", "revealed before: client 5 was told it succeeded at 2.100s"}},
		{name: "keep-alive of a lease never granted", feed: leases(func(l *Leases) {
			l.KeepAlive(3, 2, 7, 5, secs(2.5), secs(2.6))
		}), want: "lease-semantics", evidence: []string{"whose grant is not committed"}},
		{name: "keep-alive grants more than the TTL", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			l.KeepAlive(3, 2, 7, 6, secs(2), secs(2.1))
		}), want: "lease-semantics", evidence: []string{"TTL 6s, past its granted TTL 5s"}},
		{name: "read returns a revoked lease's key", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			revoke(l, 42, 7, 9, 2)
			l.Read(4, 1, 9, leasedKey, secs(2.2))
		}), want: "lease-semantics", evidence: []string{`m1 answered client 4 at revision 9 with key "k" of lease 7`, "revoked in revision 9"}},
		{name: "expiry revoke a TTL after the last keep-alive", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			l.KeepAlive(3, 2, 7, 5, secs(4), secs(4.01))
			l.Read(4, 1, 8, leasedKey, secs(4.5)) // served before the revoke's revision
			revoke(l, expiryID(2), 7, 9, 9.2)
			l.Read(4, 1, 9, nil, secs(9.3))
		})},
		{name: "client revoke right after a keep-alive", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			l.KeepAlive(3, 2, 7, 5, secs(4), secs(4.01))
			revoke(l, 42, 7, 9, 4.2)
			l.Revoked(5, 7, secs(4.3))
		})},
		// Seed 324: m1 leads, finds the lease expired and proposes its
		// revoke, is deposed with the entry uncommitted, is elected
		// again (Promote restarts every lease), renews the lease for a
		// keep-alive, and then commits the revoke of its earlier term.
		{name: "expiry revoke proposed before a keep-alive was acknowledged, committed after", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			l.KeepAlive(3, 2, 7, 5, secs(1.5), secs(1.51))
			l.Proposed(expiryID(2), 7, secs(6.6)) // 5.1 s after the last keep-alive was sent
			l.KeepAlive(3, 2, 7, 5, secs(9), secs(9.01))
			revoke(l, expiryID(2), 7, 9, 9.05)
			l.KeepAlive(4, 2, 7, 5, secs(9.02), secs(9.06)) // acknowledged after the commit too
			l.Read(4, 1, 9, nil, secs(9.1))
		})},
		{name: "expiry revoke proposed after a keep-alive was acknowledged", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			l.KeepAlive(3, 2, 7, 5, secs(1.5), secs(1.51))
			l.KeepAlive(3, 2, 7, 5, secs(9), secs(9.01))
			l.Proposed(expiryID(2), 7, secs(9.02))
			revoke(l, expiryID(2), 7, 9, 9.05)
			l.Read(4, 1, 9, nil, secs(9.1))
		}), want: "lease-semantics", evidence: []string{"lease 7 (TTL 5s) was revoked by m2's expiry (committed at 9.050s, revision 9; client 4 read revision 9 from m1 at 9.100s), 100ms after client 3's keep-alive sent at 9.000s", "promises it 5s"}},
		{name: "expiry revoke too soon after a keep-alive acknowledged before it, a later one after", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			l.KeepAlive(3, 2, 7, 5, secs(4), secs(4.01))
			l.Proposed(expiryID(2), 7, secs(5))
			l.KeepAlive(5, 2, 7, 5, secs(5.5), secs(5.51)) // in flight: not held to this one
			revoke(l, expiryID(2), 7, 9, 6.5)
			l.Read(4, 1, 9, nil, secs(6.6))
		}), want: "lease-semantics", evidence: []string{"2.6s after client 3's keep-alive sent at 4.000s", "promises it 5s"}},
		{name: "expiry revoke revealed before the TTL after the grant, proposal known", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			l.Proposed(expiryID(1), 7, secs(5.4))
			l.KeepAlive(3, 1, 7, 5, secs(5.42), secs(5.43))
			revoke(l, expiryID(1), 7, 9, 5.5)
			l.NotFound(2, 7, secs(5.6))
		}), want: "lease-semantics", evidence: []string{"client 2 was told the lease is not found at 5.600s), 4.6s after its grant committed at 1.000s"}},
		{name: "keep-alive sent after the revoke committed, before anyone saw it", feed: leases(func(l *Leases) {
			grant(l, 7, 5, 1)
			revoke(l, 42, 7, 9, 2)           // committed; the leader has not applied it
			l.Read(4, 1, 8, nil, secs(2.05)) // a read from before the revoke reveals nothing
			l.KeepAlive(3, 2, 7, 5, secs(2.1), secs(2.2))
			l.Revoked(5, 7, secs(2.3))
		})},
	})
}

// TestLeaseBound: the plain TTL on equal clocks; the fastest clock's TTL
// less the drift's stale-leader allowance otherwise, never below zero.
func TestLeaseBound(t *testing.T) {
	for _, c := range []struct {
		fast, slow [2]int64
		ttl        int64
		want       time.Duration
	}{
		{[2]int64{1, 1}, [2]int64{1, 1}, 5, 5 * time.Second},
		{[2]int64{9, 10}, [2]int64{11, 10}, 5, 4100 * time.Millisecond}, // 4.5 s less 2*(1.1-0.9) s
		{[2]int64{1, 2}, [2]int64{1, 1}, 3, 500 * time.Millisecond},     // 1.5 s less 2*(1-0.5) s
		{[2]int64{1, 2}, [2]int64{3, 2}, 3, 0},
	} {
		if got := LeaseBound(c.fast, c.slow, time.Second)(c.ttl); got != c.want {
			t.Errorf("LeaseBound(%v, %v)(%d) = %v, want %v", c.fast, c.slow, c.ttl, got, c.want)
		}
	}
}
