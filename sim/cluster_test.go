package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
)

// TestClusterKeysMembersByID: members are known by member ID, IDs are
// never reused, a removed member keeps its disk, a new member exists
// without a process, and the network learns its endpoint.
func TestClusterKeysMembersByID(t *testing.T) {
	w := newWorld(Config{Seed: 3, Members: 3})
	WithSeededCryptoRand(w.streams.Fork("raft/jitter"), func() {
		w.begin()
		w.loop(2 * time.Second)
	})
	cl := w.cl
	cl.remove(1)
	m := cl.add([2]int64{1, 1}, w.opt.diskFaults())
	if m.id != 4 || m.proc != nil {
		t.Fatalf("new member: id %d, process %v; want id 4 and no process", m.id, m.proc)
	}
	if got := fmt.Sprint(cl.ids()); got != "[1 3 4]" {
		t.Errorf("ids = %s, want [1 3 4]", got)
	}
	i, ok := cl.byID(2)
	if !ok || i != 1 || !cl.members[i].removed || cl.members[i].proc != nil {
		t.Errorf("removed m2: index %d %v, removed %v", i, ok, cl.members[i].removed)
	}
	if len(cl.members[i].fs.List()) == 0 {
		t.Error("the removed member's disk is empty")
	}
	if _, ok := cl.byID(5); ok {
		t.Error("an unknown ID has an index")
	}
	if !slices.Contains(cl.net.Endpoints(), 4) {
		t.Errorf("the network did not learn m4: %v", cl.net.Endpoints())
	}
	if j := cl.next(0); j != 2 {
		t.Errorf("next after m1 is index %d, want 2 (m3; m2 is removed)", j)
	}
}

// TestChurnWorldSetsClusterVersion: in a world that models membership the
// leader sets the cluster version, and every member holds it.
func TestChurnWorldSetsClusterVersion(t *testing.T) {
	w := newWorld(Config{Seed: 3, Members: 3, Churn: 3})
	WithSeededCryptoRand(w.streams.Fork("raft/jitter"), func() {
		w.begin()
		w.loop(10 * time.Second)
	})
	for _, m := range w.cl.members {
		if m.proc != nil && m.proc.ClusterVersion() != nodes.ClusterVersion {
			t.Errorf("m%d holds cluster version %q", m.id, m.proc.ClusterVersion())
		}
	}
}

// TestTransportNoticesCutAfterConnReadTimeout: a peer link stays active
// through a cut mended within rafthttp's ConnReadTimeout, goes inactive
// once a cut lasts that long, and counts again from its mend; a crash ends
// it at once, and a process started during a cut connects at the mend.
func TestTransportNoticesCutAfterConnReadTimeout(t *testing.T) {
	w := newWorld(Config{Seed: 3, Members: 3, Faults: &Faults{}})
	w.enableMembership()
	m1 := transport{c: w.cl, i: 0}
	at := func(d time.Duration) { w.loop(d) }
	active := func(want bool, least time.Duration, why string) {
		t.Helper()
		d, ok := m1.ActiveFor(2)
		if ok != want || ok && d < least {
			t.Errorf("%s (t=%s): m1->m2 active %v for %s; want %v for at least %s", why, w.q.Now(), ok, d, want, least)
		}
	}
	WithSeededCryptoRand(w.streams.Fork("raft/jitter"), func() {
		w.begin()
		at(6 * time.Second)
		active(true, 5900*time.Millisecond, "both up since the start")
		w.faults.cut(1, 2)
		at(8 * time.Second)
		active(true, 7900*time.Millisecond, "cut 2 s ago: not noticed yet")
		w.faults.heal()
		at(9 * time.Second)
		active(true, 8900*time.Millisecond, "a cut mended within ConnReadTimeout")
		w.faults.cut(2, 1)
		at(14 * time.Second)
		active(false, 0, "cut for ConnReadTimeout")
		w.faults.heal()
		at(15 * time.Second)
		active(true, 900*time.Millisecond, "mended a second ago")
		if d, _ := m1.ActiveFor(2); d > 1100*time.Millisecond {
			t.Errorf("mended a second ago, active for %s: the noticed cut did not end the link", d)
		}
		w.cl.crash(1, "test", 500*time.Millisecond)
		active(false, 0, "m2 crashed")
		w.faults.cut(1, 2)
		at(17 * time.Second)
		active(false, 0, "m2 restarted during the cut: never connected")
		w.faults.heal()
		at(18 * time.Second)
		active(true, 900*time.Millisecond, "m2 connected at the mend")
	})
}

// TestOperatorRetriesAtNextLook: the operator tries a refused request
// again at its next look (robustness's memberReplace loops on MemberAdd),
// waits 300 ms after a learner not ready or an unknown outcome, and sends
// only to a member that serves clients (none before the members publish).
func TestOperatorRetriesAtNextLook(t *testing.T) {
	w := newWorld(Config{Seed: 3, Members: 3, Churn: 3, Faults: &Faults{}})
	ch := w.churn
	WithSeededCryptoRand(w.streams.Fork("raft/jitter"), func() {
		w.begin()
		op := &churnOp{kind: opShrink, victim: 3}
		ch.send(op, nodes.KindMemberList, 0, "", false)
		if ch.client.req != nil {
			t.Fatalf("sent %v before any member serves", ch.client.req.Kind)
		}
		w.loop(5 * time.Second)
		if len(ch.serving()) == 0 {
			t.Fatal("no member serves after 5 s")
		}
		saved := ch.op
		ch.op = op
		for _, c := range []struct {
			code    nodes.Code
			unknown bool
			wait    time.Duration
		}{{nodes.ErrUnhealthy, false, 0}, {nodes.ErrNotEnoughStarted, false, 0}, {nodes.ErrNoLeader, false, 0},
			{nodes.ErrLearnerNotReady, false, 300 * time.Millisecond}, {0, true, 300 * time.Millisecond}} {
			op.wait = 0
			ch.done(c.code, c.unknown)
			if got := op.wait - w.q.Now(); max(got, 0) != c.wait {
				t.Errorf("after %s (unknown %v): next try in %s, want %s", c.code, c.unknown, got, c.wait)
			}
		}
		ch.op = saved
	})
}

// panicky is a driver whose failpoint, at member m1's pass number at
// through FPBeforeSaveWAL, dies there (crash) or panics with boom.
type panicky struct {
	driver
	at    int
	crash bool
}

func (d *panicky) failpoint(m *member) func(nodes.Failpoint) bool {
	passes := 0
	return func(fp nodes.Failpoint) bool {
		if m.id != 1 || fp != nodes.FPBeforeSaveWAL {
			return false
		}
		if passes++; passes != d.at {
			return false
		}
		if !d.crash {
			panic("boom")
		}
		return true
	}
}

func (d *panicky) armedSet() *nodes.FailpointSet { return nil }

// TestLoopGuardsMemberCalls: the loop's one recover ends a member's call
// that panics as a guard per call did: a failpoint crash crashes the
// member and the world goes on; any other panic is a violation that
// accuses the member.
func TestLoopGuardsMemberCalls(t *testing.T) {
	for _, crash := range []bool{true, false} {
		w := newWorld(Config{Seed: 3, Members: 3})
		w.setDriver(&panicky{driver: w.drv, at: 50, crash: crash})
		WithSeededCryptoRand(w.streams.Fork("raft/jitter"), func() {
			w.begin()
			w.loop(3 * time.Second)
		})
		v := w.chk.Violation()
		t.Logf("crash=%v: %v failpoints=%d life=%d now=%v steps=%d", crash, v, w.stats.Failpoints, w.cl.members[0].life, w.q.Now(), w.step)
		if crash {
			if v != nil || w.stats.Failpoints != 1 || w.cl.members[0].life != 1 || w.q.Now() < 2*time.Second {
				t.Errorf("crash: violation %v, failpoints %d, m1's life %d, stopped at %v; want none, 1, 1, past 2s",
					v, w.stats.Failpoints, w.cl.members[0].life, w.q.Now())
			}
			continue
		}
		if v == nil || v.Member != 1 || !strings.Contains(v.Detail, "m1 panicked: boom") {
			t.Errorf("panic: violation %v, want m1's panic", v)
		}
		if w.cl.inCall {
			t.Error("the call is still marked running")
		}
	}
}
