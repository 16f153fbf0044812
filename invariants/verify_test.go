package invariants

import (
	"errors"
	"testing"
)

// TestInstallCoversSnapshot: a member installing a snapshot whose database
// carries a consistent index below the snapshot's index (a broken sender,
// in this test only) is caught; one at or past it is not.
func TestInstallCoversSnapshot(t *testing.T) {
	install := func(t *testing.T, c *Checker, dbAt int, snap uint64) {
		m1 := newMember(1)
		m1.run(c, std()[:dbAt]...)
		c.Committed(m1, std()[dbAt:])
		m2 := restart(t, 2, m1.image(), nil, 2, 0)
		m2.snapIndex, m2.applied, m2.commit = snap, snap, snap
		c.SnapshotInstalled(m2)
	}
	runCases(t, []checkCase{
		{name: "database behind the snapshot", feed: func(t *testing.T, c *Checker) { install(t, c, 4, 6) },
			want: "install-covers-snapshot", evidence: []string{"m2 installed snapshot 6 but its backend's consistentIndex is 4"}},
		{name: "database at the snapshot", feed: func(t *testing.T, c *Checker) { install(t, c, 6, 6) }},
		{name: "database past the snapshot", feed: func(t *testing.T, c *Checker) { install(t, c, 7, 5) }},
	})
}

// TestServerVerify: a restart whose backend holds a term past its WAL's
// durable HardState (a broken member, in this test only) breaks
// server-verify's term check, as does what etcd's server/verify said of a
// graceful stop; an agreeing restart and a clean stop are quiet.
func TestServerVerify(t *testing.T) {
	restartAt := func(term uint64) func(*testing.T, *Checker) {
		return func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...) // the backend's term is 2
			c.Restarted(restart(t, 1, m.image(), m.stable, term, 0))
		}
	}
	runCases(t, []checkCase{
		{name: "backend term past the durable HardState", feed: restartAt(1),
			want: "server-verify", evidence: []string{"m1 restarted with backend.Term 2 past its WAL's HardState term 1"}},
		{name: "backend term at the durable HardState", feed: restartAt(2)},
		{name: "verify failed after a graceful stop", feed: func(t *testing.T, c *Checker) {
			c.Stopped(2, errors.New("nodes: verify: backend.ConsistentIndex (9) must be <= WAL.HardState.commit (7)"))
		}, want: "server-verify", evidence: []string{"m2 after a graceful stop: nodes: verify: backend.ConsistentIndex (9) must be <= WAL.HardState.commit (7)"}},
		{name: "verify held after a graceful stop", feed: func(t *testing.T, c *Checker) { c.Stopped(2, nil) }},
	})
}
