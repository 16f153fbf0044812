package sim

import (
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
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
//	put m=1 k=v [size=N]      a client sends a put to member 1 (N: value bytes)
//	get m=1 k [serializable]  a range through the network; waits for the answer
//	defrag m=1                a client asks member 1 to defragment
//	compact m=1 rev=N         a client proposes a compaction through member 1
//	crash m=2 [at=FAILPOINT]  crash now, or when member 2 next reaches FAILPOINT
//	restart m=2               start member 2 from what its disk kept
//	partition (1) (2 3)       a two-way partition; clients reach everyone
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
//	commit m=2                force a backend commit on member 2 now (etcd's
//	                          ForceCommit), with the per-step checks
//	status                    one line per member
//	replies                   client outcomes since the last call
//	check                     "ok" or the first violation
//	disk m=2                  the crash log of member 2's last crash, and its files
//
// torn=1 sets the disk faults disk.torn_write=1/1 disk.keep_unsynced=1/1: at
// a crash every unsynced byte survives except the write in flight, of which
// only a prefix, cut at a sector, persists.
//
// A Scenario is the world's driver (it sends what the script says, draws
// no fault, and arms failpoints by hand) and watches every event the
// world's loop runs, to report outcomes, crashes, leaders and violations.
type Scenario struct {
	w      *world
	jitter *rand.Rand // crypto/rand for raft, for the whole scenario
	marks  uint64
	leads  []uint64          // per member index: the term it leads, or 0
	armed  []nodes.Failpoint // per member index: the failpoint it dies at next
	reqs   map[uint64]string
	waitID uint64  // the get being waited for
	got    *string // its outcome
	out    []string
	notes  []string
	stop   func(e Event) bool // ends the current stepping after e
	// up, armedAt and violated are the state before the event being run.
	up       []bool
	armedAt  []nodes.Failpoint
	violated bool
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
	case "put", "get", "defrag", "compact":
		return s.request(cmd, a)
	case "crash":
		return s.crash(a)
	case "restart":
		return s.restart(a)
	case "partition":
		return s.partition(a)
	case "heal":
		s.w.cl.net.Heal(s.w.q.Now())
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
	*s = Scenario{w: newWorld(cfg), reqs: map[uint64]string{}, leads: make([]uint64, members), armed: make([]nodes.Failpoint, members)}
	s.w.setDriver(s)
	s.w.watch, s.w.lenient = s, true
	s.jitter = s.w.streams.Fork("raft/jitter")
	WithSeededCryptoRand(s.jitter, s.w.begin)
	return fmt.Sprintf("seed=%d members=%d bug=%s faults: %s", seed, members, bugs, s.w.opt.faults), nil
}

// member returns the index of the member whose ID is argument m.
func (s *Scenario) member(a scenarioArgs) (int, error) {
	m, err := a.uint("m", 0)
	if err != nil {
		return 0, err
	}
	i, ok := s.w.cl.byID(m)
	if !ok {
		return 0, fmt.Errorf("sim: member m=%d is not in 1..%d", m, len(s.w.cl.members))
	}
	return i, nil
}

// request sends a client request to a member through the network. A get
// steps the world until its answer or its timeout; the others answer in
// replies.
func (s *Scenario) request(cmd string, a scenarioArgs) (string, error) {
	i, err := s.member(a)
	if err != nil {
		return "", err
	}
	req, desc, err := s.newRequest(cmd, a)
	if err != nil {
		return "", err
	}
	var c *client
	for _, cl := range s.w.wl.clients {
		if cl.req == nil {
			c = cl
			break
		}
	}
	if c == nil {
		return "", fmt.Errorf("sim: every client is waiting for an answer")
	}
	c.target = i
	s.w.wl.issue(c, req)
	desc = fmt.Sprintf("#%d %s @m%d", req.ID, desc, s.w.cl.members[i].id)
	s.reqs[req.ID] = desc
	if cmd != "get" {
		return "sent " + desc, nil
	}
	var got string
	s.waitID, s.got = req.ID, &got
	s.stepUntil(func(Event) bool { return got != "" }, forever)
	s.waitID, s.got = 0, nil
	return s.flushNotes() + got, nil
}

func (s *Scenario) newRequest(cmd string, a scenarioArgs) (*nodes.Request, string, error) {
	switch cmd {
	case "put":
		k, v, ok := a.keyValue()
		if !ok {
			return nil, "", fmt.Errorf("sim: put needs k=v")
		}
		if n, err := a.uint("size", 0); err != nil {
			return nil, "", err
		} else if n > 0 {
			if v == "" {
				v = "x"
			}
			v = strings.Repeat(v, int(n)/len(v)+1)[:n]
		}
		return &nodes.Request{Kind: nodes.KindPut, Key: []byte(k), Value: []byte(v)}, "put " + k + "=" + short(v), nil
	case "get":
		k, _, ok := a.keyValue()
		if !ok {
			return nil, "", fmt.Errorf("sim: get needs a key")
		}
		ser := a.has("serializable")
		desc := "get " + k
		if ser {
			desc += " serializable"
		}
		return &nodes.Request{Kind: nodes.KindRange, Key: []byte(k), Serializable: ser}, desc, nil
	case "defrag":
		return &nodes.Request{Kind: nodes.KindDefrag}, "defrag", nil
	}
	rev, err := a.uint("rev", 0)
	if err != nil || rev == 0 {
		return nil, "", fmt.Errorf("sim: compact needs rev=N")
	}
	return &nodes.Request{Kind: nodes.KindCompact, Rev: int64(rev)}, fmt.Sprintf("compact rev=%d", rev), nil
}

// crash kills a member now, or arms a failpoint at which it dies next.
func (s *Scenario) crash(a scenarioArgs) (string, error) {
	i, err := s.member(a)
	if err != nil {
		return "", err
	}
	sl := s.w.cl.members[i]
	if name := a.str("at", ""); name != "" {
		fp, ok := nodes.ParseFailpoint(name)
		if !ok {
			return "", fmt.Errorf("sim: unknown failpoint %q (known: %s)", name, strings.Join(nodes.Failpoints, ", "))
		}
		s.armed[i] = fp
		return fmt.Sprintf("m%d armed at %s", sl.id, fp), nil
	}
	if sl.proc == nil {
		return fmt.Sprintf("m%d is already down", sl.id), nil
	}
	s.w.cl.crash(i, "scenario", -1)
	s.leads[i] = 0
	return fmt.Sprintf("m%d down", sl.id), nil
}

// restart starts a member from its crash image.
func (s *Scenario) restart(a scenarioArgs) (string, error) {
	i, err := s.member(a)
	if err != nil {
		return "", err
	}
	sl := s.w.cl.members[i]
	if sl.proc != nil {
		return fmt.Sprintf("m%d is already up", sl.id), nil
	}
	life := sl.life
	s.w.cl.start(i, true)
	switch {
	case sl.proc != nil:
		return s.memberLine(i), nil
	case sl.life != life:
		return fmt.Sprintf("m%d crashed while starting", sl.id), nil
	}
	return fmt.Sprintf("m%d cannot start: %v", sl.id, s.w.chk.Violation()), nil
}

// partition reads groups such as "(1) (2 3)".
func (s *Scenario) partition(a scenarioArgs) (string, error) {
	var keys []string
	for _, arg := range a {
		keys = append(keys, arg.Key)
	}
	var groups [][]int
	for _, g := range strings.Split(strings.Join(keys, " "), ")") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		if !strings.HasPrefix(g, "(") {
			return "", fmt.Errorf("sim: partition groups look like (1) (2 3), not %q", g)
		}
		var ids []int
		for _, f := range strings.Fields(g[1:]) {
			id, err := strconv.Atoi(f)
			if _, ok := s.w.cl.byID(uint64(id)); err != nil || !ok {
				return "", fmt.Errorf("sim: partition: %q is not a member", f)
			}
			ids = append(ids, id)
		}
		groups = append(groups, ids)
	}
	s.w.cl.net.Partition(s.w.q.Now(), groups...)
	return s.w.cl.net.String(), nil
}

// run steps the world for d of simulated time; the clock ends at exactly
// now+d.
func (s *Scenario) run(d time.Duration) string {
	s.marks++
	id := s.marks
	s.w.q.After(d, Event{Kind: evMark, Arg: id})
	s.stepUntil(func(e Event) bool { return e.Kind == evMark && e.Arg == id }, forever)
	return s.flushNotes() + "t=" + stime(s.w.q.Now())
}

// stabilize steps until the world is stable, or max of simulated time.
func (s *Scenario) stabilize(max time.Duration) string {
	s.marks++
	id := s.marks
	s.w.q.After(max, Event{Kind: evMark, Arg: id})
	why := s.unstable()
	if why != "" {
		s.stepUntil(func(e Event) bool { return e.Kind == evMark && e.Arg == id || s.unstable() == "" }, forever)
		why = s.unstable()
	}
	if why != "" {
		return s.flushNotes() + fmt.Sprintf("not stable at t=%s: %s", stime(s.w.q.Now()), why)
	}
	return s.flushNotes() + "stable at t=" + stime(s.w.q.Now())
}

// runUntil steps the world one event at a time until a member reaches a
// condition, so that a script pins a window by what the member does, not
// by a time that moves whenever the model's random draws change. Missing
// the condition within max of simulated time is an error: the scenario no
// longer shows what it claims.
func (s *Scenario) runUntil(a scenarioArgs) (string, error) {
	i, err := s.member(a)
	if err != nil {
		return "", err
	}
	max, err := a.duration("max", 10*time.Second)
	if err != nil {
		return "", err
	}
	var what string
	var reached func(m *nodes.Member) bool
	switch {
	case a.has("window"):
		what = "in its apply window"
		reached = (*nodes.Member).InApplyWindow
	case a.has("applied"):
		n, err := a.uint("applied", 0)
		if err != nil || n == 0 {
			return "", fmt.Errorf("sim: run-until applied=N needs N > 0")
		}
		what = fmt.Sprintf("at applied=%d", n)
		reached = func(m *nodes.Member) bool { return m.Applied() >= n }
	default:
		return "", fmt.Errorf("sim: run-until needs window or applied=N")
	}
	sl := s.w.cl.members[i]
	done := func(Event) bool { return sl.proc != nil && reached(sl.proc) }
	if !done(Event{}) {
		s.stepUntil(done, s.w.q.Now()+max)
	}
	if !done(Event{}) {
		return "", fmt.Errorf("sim: m%d not %s within %s (t=%s)\n%s",
			sl.id, what, max, stime(s.w.q.Now()), s.flushNotes()+s.status())
	}
	return s.flushNotes() + fmt.Sprintf("t=%s m%d %s\n%s", stime(s.w.q.Now()), sl.id, what, s.memberLine(i)), nil
}

// forceCommit commits member i's backend now, through the world's call
// wrapper: its output is drained and the per-step checks run.
func (s *Scenario) forceCommit(a scenarioArgs) (string, error) {
	i, err := s.member(a)
	if err != nil {
		return "", err
	}
	sl := s.w.cl.members[i]
	if sl.proc == nil {
		return fmt.Sprintf("m%d is down", sl.id), nil
	}
	armed := s.armed[i]
	hadViolation := s.w.chk.Violation() != nil
	s.w.cl.call(i, (*nodes.Member).ForceCommit)
	switch {
	case sl.proc == nil && armed != 0 && s.armed[i] == 0:
		s.note("m%d crashed at failpoint %s", sl.id, armed)
	case sl.proc == nil:
		s.note("m%d crashed", sl.id)
	}
	s.trackLeader(i)
	if v := s.w.chk.Violation(); v != nil && !hadViolation {
		s.note("violation %s", v.Error())
	}
	return s.flushNotes() + s.memberLine(i), nil
}

func (s *Scenario) flushNotes() string {
	if len(s.notes) == 0 {
		return ""
	}
	out := strings.Join(s.notes, "\n") + "\n"
	s.notes = s.notes[:0]
	return out
}

func (s *Scenario) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf("t=%s ", stime(s.w.q.Now()))+fmt.Sprintf(format, args...))
}

// memberLine is one line of status.
func (s *Scenario) memberLine(i int) string {
	sl := s.w.cl.members[i]
	m := sl.proc
	if m == nil {
		return fmt.Sprintf("m%d down", sl.id)
	}
	term, _, lead, leader, commit := m.RaftStatus()
	role := "none"
	switch {
	case leader:
		role = "leader"
	case lead != 0:
		role = "follower"
	}
	return fmt.Sprintf("m%d up   %-8s term=%d lead=%d applied=%d commit=%d ci=%d pci=%d rev=%d wal=%d",
		sl.id, role, term, lead, m.Applied(), commit, m.ConsistentIndex(),
		invariants.MetaIndex(m.Backend()), m.Rev(), m.DurableLastIndex())
}

func (s *Scenario) status() string {
	lines := make([]string, len(s.w.cl.members))
	for i := range s.w.cl.members {
		lines[i] = s.memberLine(i)
	}
	return strings.Join(lines, "\n")
}

func (s *Scenario) replies() string {
	if len(s.out) == 0 {
		return "(none)"
	}
	out := strings.Join(s.out, "\n")
	s.out = s.out[:0]
	return out
}

// disk prints what the member's disk kept at its last crash, and its files
// now (after a restart, with any torn tail cut off).
func (s *Scenario) disk(a scenarioArgs) (string, error) {
	i, err := s.member(a)
	if err != nil {
		return "", err
	}
	sl := s.w.cl.members[i]
	var b strings.Builder
	if sl.life == 0 {
		b.WriteString("never crashed\n")
	} else if log := sl.fs.CrashLog(); len(log) == 0 {
		b.WriteString("crash kept everything: nothing was unsynced\n")
	} else {
		b.WriteString("crash: " + strings.Join(log, "\n       ") + "\n")
	}
	b.WriteString("files:")
	for _, name := range sl.fs.List() {
		f, err := sl.fs.Open(name)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, " %s=%d", name, f.Size())
	}
	return b.String(), nil
}

// short abbreviates a long value.
func short(v string) string {
	if len(v) <= 16 {
		return v
	}
	return fmt.Sprintf("<%d bytes>", len(v))
}

// scenarioArgs looks arguments up by key.
type scenarioArgs []ScenarioArg

func (a scenarioArgs) has(key string) bool {
	for _, arg := range a {
		if arg.Key == key {
			return true
		}
	}
	return false
}

func (a scenarioArgs) str(key, def string) string {
	for _, arg := range a {
		if arg.Key == key && len(arg.Vals) == 1 {
			return arg.Vals[0]
		}
	}
	return def
}

func (a scenarioArgs) uint(key string, def uint64) (uint64, error) {
	v := a.str(key, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sim: %s=%q is not a number", key, v)
	}
	return n, nil
}

func (a scenarioArgs) duration(key string, def time.Duration) (time.Duration, error) {
	v := a.str(key, "")
	if v == "" {
		if def == 0 {
			return 0, fmt.Errorf("sim: missing %s=DURATION", key)
		}
		return def, nil
	}
	return ParseDuration(v)
}

// keyValue returns the request's key argument: the first one that is not
// a known option, with its value if it has one.
func (a scenarioArgs) keyValue() (k, v string, ok bool) {
	for _, arg := range a {
		switch arg.Key {
		case "m", "size", "rev", "serializable":
			continue
		}
		if len(arg.Vals) > 0 {
			v = arg.Vals[0]
		}
		return arg.Key, v, true
	}
	return "", "", false
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

// before is the scenario's look at the world before an event runs: it
// records client outcomes (before the world forgets the request) and
// what is up, what is armed and whether the world is violated.
func (s *Scenario) before(e Event) {
	w := s.w
	switch e.Kind {
	case evReply:
		s.onReply(e)
	case evTimeout:
		if c := w.wl.clients[e.Node]; c.req != nil && c.deadline <= w.q.Now() {
			s.outcome(c.req.ID, "timeout (outcome unknown)")
		}
	case evReset:
		if c := w.wl.clients[e.Node]; c.req != nil && c.req.ID == e.Arg {
			s.outcome(c.req.ID, "connection reset by the crash (outcome unknown)")
		}
	}
	s.up, s.armedAt = s.up[:0], append(s.armedAt[:0], s.armed...)
	for _, m := range w.cl.members {
		s.up = append(s.up, m.proc != nil)
	}
	s.violated = w.chk.Violation() != nil
}

// after notes what the event did: crashes, leadership changes and the
// first violation; it halts the loop when the scenario's stop holds.
func (s *Scenario) after(e Event) {
	w := s.w
	for i, m := range w.cl.members {
		switch {
		case s.up[i] && m.proc == nil && s.armedAt[i] != 0 && s.armed[i] == 0:
			s.note("m%d crashed at failpoint %s", m.id, s.armedAt[i])
		case s.up[i] && m.proc == nil:
			s.note("m%d crashed", m.id)
		}
		s.trackLeader(i)
	}
	if v := w.chk.Violation(); v != nil && !s.violated {
		s.note("violation %s", v.Error())
	}
	if s.stop != nil && s.stop(e) {
		w.halt()
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
		if s.armed[i] == fp {
			s.armed[i] = 0
			return true
		}
		return false
	}
}

// downFor keeps a crashed member down until the script restarts it.
func (s *Scenario) downFor(*member, string) time.Duration { return -1 }

func (s *Scenario) plan() *Plan { return nil }

// onReply records a reply that reaches a client still waiting for it.
func (s *Scenario) onReply(e Event) {
	r := e.Data.(*nodes.Reply)
	c := s.w.wl.clients[e.Node]
	if c.req == nil || c.req.ID != r.ID {
		return // the client gave up on it already
	}
	res := r.Result
	line := fmt.Sprintf("%s rev=%d index=%d", res.Code, res.Rev, r.Index)
	if c.req.Kind == nodes.KindRange && res.Code == nodes.OK {
		line = fmt.Sprintf("%s rev=%d:", res.Code, res.Rev)
		if len(res.KVs) == 0 {
			line += " (no key)"
		}
		for _, kv := range res.KVs {
			line += fmt.Sprintf(" %s=%s create=%d mod=%d ver=%d", kv.Key, short(string(kv.Value)),
				kv.CreateRevision, kv.ModRevision, kv.Version)
		}
	}
	s.outcome(r.ID, line)
}

// outcome records what a client learned of a request.
func (s *Scenario) outcome(id uint64, line string) {
	if id == s.waitID {
		*s.got = s.reqs[id] + ": " + line
		return
	}
	s.out = append(s.out, s.reqs[id]+": "+line)
}

// trackLeader notes a member that starts or stops leading.
func (s *Scenario) trackLeader(i int) {
	id, m := s.w.cl.members[i].id, s.w.cl.members[i].proc
	if m == nil {
		s.leads[i] = 0
		return
	}
	term, _, _, leader, _ := m.RaftStatus()
	switch {
	case leader && s.leads[i] != term:
		s.leads[i] = term
		s.note("m%d leads term %d", id, term)
	case !leader && s.leads[i] != 0:
		s.note("m%d steps down (term %d)", id, term)
		s.leads[i] = 0
	}
}

// unstable returns "" when no member has work left and all applied indices
// are equal, else why not. Work is a client waiting for an answer, a
// message in flight to a member that is up, a member timer other than the
// raft tick and the periodic backend commit (a WAL write, an apply, a
// compaction step, a defrag), or an entry committed and not applied; and
// every member that is up must follow one leader that is up. Members that
// are down do not count.
func (s *Scenario) unstable() string {
	w := s.w
	for _, sl := range w.cl.members {
		if sl.proc != nil && !sl.proc.Serving() {
			return fmt.Sprintf("m%d does not serve clients yet (its publish is not applied)", sl.id)
		}
	}
	for _, c := range w.wl.clients {
		if c.req != nil {
			return fmt.Sprintf("client %d waits for #%d", c.idx, c.req.ID)
		}
	}
	busy := ""
	w.q.Each(func(e *Event) bool {
		sl := w.cl.members[min(e.Node, len(w.cl.members)-1)]
		switch {
		case e.Kind == evDeliver && sl.proc != nil:
			busy = fmt.Sprintf("a message to m%d is in flight", sl.id)
		case e.Kind == evTimer && sl.proc != nil && e.Arg>>8 == sl.life:
			if k := nodes.TimerKind(e.Arg & 0xff); k != nodes.TimerTick && k != nodes.TimerCommit {
				busy = fmt.Sprintf("m%d has a %s pending", sl.id, k)
			}
		}
		return busy == ""
	})
	if busy != "" {
		return busy
	}
	var first *member
	for _, sl := range w.cl.members {
		m := sl.proc
		if m == nil {
			continue
		}
		_, _, lead, _, commit := m.RaftStatus()
		li, known := w.cl.byID(lead)
		switch {
		case !known || w.cl.members[li].proc == nil || s.leads[li] == 0:
			return fmt.Sprintf("m%d follows no leader that is up", sl.id)
		case m.Applied() < commit:
			return fmt.Sprintf("m%d applied=%d < commit=%d", sl.id, m.Applied(), commit)
		case first == nil:
			first = sl
		case m.Applied() != first.proc.Applied():
			return fmt.Sprintf("m%d applied=%d != m%d applied=%d", sl.id, m.Applied(), first.id, first.proc.Applied())
		}
	}
	return ""
}

// stime prints a scenario time in seconds to the microsecond, finer than
// FormatTime, since the windows scenarios pin are that narrow.
func stime(d time.Duration) string {
	us := d.Microseconds()
	return fmt.Sprintf("%d.%06ds", us/1000000, us%1000000)
}
