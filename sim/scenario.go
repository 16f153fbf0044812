package sim

import (
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/prob"
)

// Scenario is a world driven by hand, one command at a time, for golden
// interaction tests (the datadriven style of go.etcd.io/raft): no workload,
// no fault schedule, no automatic restarts. A member crashes when the
// script says so, at once or at an armed failpoint, and comes back only on
// restart. Every command returns a short deterministic text.
//
// Commands (Do):
//
//	world seed=7 members=3 [bug=NAME] [torn=1]  build and start the world
//	world ... membership=1    the world models membership (a cluster that changes)
//	put m=1 k=v [size=N]      a client sends a put to member 1 (N: value bytes)
//	put m=1 k=v n=N           N puts of keys k0..k(N-1), each by the next idle
//	                          client (stepping the world while none is idle)
//	get m=1 k [serializable]  a range through the network; waits for the answer
//	defrag m=1                a client asks member 1 to defragment
//	compact m=1 rev=N         a client proposes a compaction through member 1
//	crash m=2 [at=FAILPOINT]  crash now, or when member 2 next reaches FAILPOINT
//	crash m=2 at=FAILPOINT when=snap-with-entries
//	                          ... at the first pass of FAILPOINT while member 2
//	                          persists a Ready holding a received snapshot and
//	                          entries after it (as gofail arms one point on one
//	                          member; walBeforeSync: inside that Ready's fsync)
//	crash m=2 at=FAILPOINT [when=...] tear=wal
//	                          ... and the power loss tears the WAL's newest
//	                          write (its last Save: entries, then the
//	                          HardState), whatever the member wrote or
//	                          synced since in other files (the backend's
//	                          batch commit runs meanwhile): in order, its
//	                          last sector lost, every one before it kept,
//	                          no draw (disk.FS.TearInFlight). Without it
//	                          only the newest write of the disk can tear.
//	restart m=2               start member 2 from what its disk kept
//	partition (1) (2 3)       a two-way partition; clients reach everyone
//	slow m=3 for=2s           member 3's disk is slow for 2s (disk.slow: WAL
//	                          fsyncs take twenty times as long)
//	stall m=3 for=2s          member 3's disk stalls for 2s: a WAL fsync in
//	                          flight, or begun meanwhile, completes no sooner
//	                          than 2s from now (a stalled fdatasync, which
//	                          etcd logs as slow past a second); the member
//	                          steps what reaches it meanwhile, but takes no
//	                          Ready
//	pause m=3 for=50ms        member 3's process stops for 50ms (pause: what
//	                          reaches it waits, and is stepped when it resumes)
//	heal                      remove every partition
//	run for=300ms             step the world for a span of simulated time
//	stabilize [max=10s]       step until no member has work left (see stable)
//	run-until m=2 window [max=10s]
//	                          step event by event until member 2 is in its
//	                          apply window (ci-before-lock: consistent index
//	                          set, effects not applied); an error if it is
//	                          not within max of simulated time
//	run-until m=2 applied=N [max=10s]
//	                          step event by event until member 2 has applied
//	                          index N (applies are one per event, so the next
//	                          entry is not applied yet); an error past max
//	run-until m=2 snap-with-entries [max=10s]
//	                          step event by event until member 2 persists a
//	                          Ready holding a received snapshot and entries
//	                          after it, its fsync pending (wal-snapshot-gap's
//	                          state)
//	run-until m=2 snap-received [max=10s]
//	                          step event by event until member 2 holds a
//	                          received snapshot that no Ready has taken yet
//	                          (raft restored to it while a previous Ready's
//	                          fsync is pending)
//	commit m=2                force a backend commit on member 2 now (etcd's
//	                          ForceCommit), with the per-step checks
//	status                    one line per member
//	replies                   client outcomes since the last call
//	check                     "ok" or the first violation
//	disk m=2                  the crash log of member 2's last crash, and its files
//	auth m=1                  root sets auth up through member 1 (users root, alice,
//	                          bob, their roles, auth enable), waiting for each answer
//	member-add m=1 id=4 [learner] [as=USER]
//	member-promote m=2 id=4 [as=USER]
//	member-remove m=1 id=4 [as=USER]
//	member-update m=1 id=4 [as=USER]
//	member-list m=1 [as=USER] the cluster API through member 1, as root unless as=
//	                          says otherwise; each waits for its answer
//	start m=4                 start member 4, added at runtime, from an empty data dir
//
// torn=1 sets the disk faults disk.torn_write=1/1 disk.keep_unsynced=1/1: at
// a crash every unsynced byte survives except the write in flight, of which
// a strict prefix of its sectors, or (out of order) a strict subset,
// persists.
//
// A Scenario is the world's driver (it sends what the script says, draws
// no fault, and arms failpoints by hand); its commands step the world's
// own loop, and its scenarioLog watches every event the loop runs, to
// report outcomes, crashes, leaders and violations.
type Scenario struct {
	*scenarioLog
	w      *world
	jitter *rand.Rand // crypto/rand for raft, for the whole scenario
	marks  uint64
	stop   func(e Event) bool // ends the current stepping after e
}

// ScenarioArg is one argument of a scenario command: key or key=value.
type ScenarioArg struct {
	Key  string
	Vals []string
}

// Do runs one command and returns its output. An error is bad input (an
// unknown command, a missing argument), never something the world did.
func (s *Scenario) Do(cmd string, args []ScenarioArg) (out string, err error) {
	if cmd == "world" {
		return s.build(args)
	}
	if s.w == nil {
		return "", fmt.Errorf("sim: %s before world", cmd)
	}
	a := scenarioArgs(args)
	WithSeededCryptoRand(s.jitter, func() {
		defer func() {
			if r := recover(); r != nil {
				s.w.chk.Panicked(0, fmt.Sprintf("%v\n%s", r, debug.Stack()))
				out = fmt.Sprintf("panic: %v", r)
			}
		}()
		out, err = s.exec(cmd, a)
	})
	return out, err
}

func (s *Scenario) exec(cmd string, a scenarioArgs) (string, error) {
	switch cmd {
	case "put", "get", "defrag", "compact", "lease-grant", "lease-revoke", "lease-keepalive", "member-add", "member-promote", "member-remove", "member-update", "member-list":
		return s.request(cmd, a)
	case "auth":
		return s.authSetup(a)
	case "start":
		return s.startJoined(a)
	case "crash":
		return s.crash(a)
	case "restart":
		return s.restart(a)
	case "partition":
		return s.partition(a)
	case "slow", "stall", "pause":
		return s.slowOrPause(cmd, a)
	case "heal":
		s.w.cl.net.Heal(s.w.q.Now())
		s.w.cl.linksChanged()
		return "healed", nil
	case "run":
		d, err := a.duration("for", 0)
		if err != nil {
			return "", err
		}
		return s.run(d), nil
	case "stabilize":
		d, err := a.duration("max", 10*time.Second)
		if err != nil {
			return "", err
		}
		return s.stabilize(d), nil
	case "run-until":
		return s.runUntil(a)
	case "commit":
		return s.forceCommit(a)
	case "status":
		return s.status(), nil
	case "replies":
		return s.replies(), nil
	case "check":
		if v := s.w.chk.Violation(); v != nil {
			return v.Error(), nil
		}
		return "ok", nil
	case "disk":
		return s.disk(a)
	}
	return "", fmt.Errorf("sim: unknown scenario command %q", cmd)
}

// build makes and starts the world as run does, minus the workload and the
// fault ticks.
func (s *Scenario) build(args []ScenarioArg) (string, error) {
	a := scenarioArgs(args)
	seed, err := a.uint("seed", 1)
	if err != nil {
		return "", err
	}
	members, err := a.uint("members", 3)
	if err != nil {
		return "", err
	}
	bugs, err := nodes.ParseBugs(a.str("bug", "none"))
	if err != nil {
		return "", err
	}
	f := &Faults{}
	if a.str("torn", "0") == "1" {
		f.TornWrite, f.KeepUnsynced = prob.Of(1, 1), prob.Of(1, 1)
	}
	cfg := Config{Seed: seed, Members: int(members), Faults: f, Rate: 0, Bugs: bugs}
	if err := cfg.Validate(); err != nil {
		return "", err
	}
	w, armed := newWorld(cfg), make([]nodes.Failpoint, members)
	if a.str("membership", "0") == "1" {
		w.enableMembership()
	}
	w.opt.snapCount, w.opt.timing = etcdRetention(w.streams)
	log := &scenarioLog{w: w, armed: armed, when: make([]func(*nodes.Member) bool, members), tear: make([]bool, members), reqs: map[uint64]string{}, leads: make([]uint64, members)}
	*s = Scenario{scenarioLog: log, w: w}
	s.w.setDriver(s)
	s.w.watch, s.w.lenient = s, true
	s.jitter = s.w.streams.Fork("raft/jitter")
	WithSeededCryptoRand(s.jitter, s.w.begin)
	out := fmt.Sprintf("seed=%d members=%d bug=%s faults: %s", seed, members, bugs, s.w.opt.faults)
	if s.w.cl.membership {
		out += " membership"
	}
	return out, nil
}

// forever is a time limit that is never reached.
const forever = time.Duration(1<<63 - 1)

// stepUntil runs the world's loop until stop holds after an event, the
// time limit, or nothing is left to happen; a violation does not stop it
// (the world is lenient).
func (s *Scenario) stepUntil(stop func(e Event) bool, until time.Duration) {
	s.stop = stop
	s.w.loop(until)
	s.stop = nil
	s.w.clearHalt()
}

// before and after watch each event for the log, and halt the world's
// loop when the current stepping's stop holds.
func (s *Scenario) before(e Event) { s.see(e) }

func (s *Scenario) after(e Event) {
	s.saw(e)
	if s.stop != nil && s.stop(e) {
		s.w.halt()
	}
}

// begin schedules nothing: a scenario has no workload and no fault ticks.
func (s *Scenario) begin(*world) {}

// arrive and tick never run (begin schedules neither).
func (s *Scenario) arrive(*world) {}

func (s *Scenario) tick(*world) {}

// failpoint fires a failpoint armed by the script, once.
func (s *Scenario) failpoint(m *member) func(nodes.Failpoint) bool {
	i, _ := s.w.cl.byID(m.id)
	return func(fp nodes.Failpoint) bool {
		s.grow()
		if s.armed[i] == fp && (s.when[i] == nil || m.proc != nil && s.when[i](m.proc)) {
			if s.tear[i] && m.proc != nil {
				// The crash is the power loss: the WAL's newest write is
				// the one in flight, whatever the member wrote since to
				// other files, and loses its last sector.
				if err := m.fs.TearInFlight(m.proc.WALTail(), 1); err != nil {
					s.note("m%d: no WAL write to tear: %v", m.id, err)
				}
			}
			s.armed[i], s.when[i], s.tear[i] = 0, nil, false
			return true
		}
		return false
	}
}

// armedSet is nil: a script arms any point at any time.
func (s *Scenario) armedSet() *nodes.FailpointSet { return nil }

// downFor keeps a crashed member down until the script restarts it.
func (s *Scenario) downFor(*member, string) time.Duration { return -1 }

func (s *Scenario) plan() *Plan { return nil }
