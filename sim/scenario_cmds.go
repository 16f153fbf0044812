package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/nodes"
)

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
// and a cluster API request step the world until their answer or their
// timeout; the others answer in replies.
func (s *Scenario) request(cmd string, a scenarioArgs) (string, error) {
	i, err := s.member(a)
	if err != nil {
		return "", err
	}
	if cmd == "put" && a.has("n") {
		return s.puts(i, a)
	}
	req, desc, err := s.newRequest(cmd, a)
	if err != nil {
		return "", err
	}
	if cmd == "get" || req.Kind.IsMember() {
		return s.await(i, req, desc), nil
	}
	c := s.idleClient()
	if c == nil {
		return "", fmt.Errorf("sim: every client is waiting for an answer")
	}
	c.target = i
	s.w.wl.issue(c, req)
	desc = fmt.Sprintf("#%d %s @m%d", req.ID, desc, s.w.cl.members[i].id)
	s.reqs[req.ID] = desc
	return "sent " + desc, nil
}

// puts sends n puts of keys k0..k(n-1) to member i, each by the next idle
// client; while every client waits, the world steps until one is idle.
func (s *Scenario) puts(i int, a scenarioArgs) (string, error) {
	n, err := a.uint("n", 0)
	if err != nil || n == 0 {
		return "", fmt.Errorf("sim: put n=N needs N > 0")
	}
	k, v, ok := a.keyValue()
	if !ok {
		return "", fmt.Errorf("sim: put needs k=v")
	}
	id := s.w.cl.members[i].id
	for j := range n {
		if s.idleClient() == nil {
			s.stepUntil(func(Event) bool { return s.idleClient() != nil }, forever)
		}
		c := s.idleClient()
		if c == nil {
			return "", fmt.Errorf("sim: every client is waiting for an answer")
		}
		key := fmt.Sprintf("%s%d", k, j)
		req := &nodes.Request{Kind: nodes.KindPut, Key: []byte(key), Value: []byte(v)}
		c.target = i
		s.w.wl.issue(c, req)
		s.reqs[req.ID] = fmt.Sprintf("#%d put %s=%s @m%d", req.ID, key, short(v), id)
	}
	return s.flushNotes() + fmt.Sprintf("sent %d puts %s0..%s%d=%s @m%d t=%s", n, k, k, n-1, short(v), id, stime(s.w.q.Now())), nil
}

// slowOrPause makes a member's disk slow (disk.slow: WAL fsyncs and
// defrag renames take twenty times as long) or pauses its process, for a
// span of simulated time.
func (s *Scenario) slowOrPause(cmd string, a scenarioArgs) (string, error) {
	i, err := s.member(a)
	if err != nil {
		return "", err
	}
	d, err := a.duration("for", 0)
	if err != nil {
		return "", err
	}
	sl := s.w.cl.members[i]
	switch cmd {
	case "slow":
		sl.slowTil = s.w.q.Now() + d
		s.w.noteOn(int(sl.id), MarkDisk, fmt.Sprintf("slow disk m%d", sl.id))
		return fmt.Sprintf("m%d disk slow until t=%s", sl.id, stime(sl.slowTil)), nil
	case "stall":
		sl.stallTil = s.w.q.Now() + d
		s.w.noteOn(int(sl.id), MarkDisk, fmt.Sprintf("stalled disk m%d", sl.id))
		return fmt.Sprintf("m%d disk stalled until t=%s", sl.id, stime(sl.stallTil)), nil
	}
	if sl.proc == nil || sl.paused {
		return fmt.Sprintf("m%d is down or paused", sl.id), nil
	}
	s.w.cl.pause(i, d)
	return fmt.Sprintf("m%d paused until t=%s", sl.id, stime(s.w.q.Now()+d)), nil
}

// idleClient returns the first client with no request in flight, or nil.
func (s *Scenario) idleClient() *client {
	for _, cl := range s.w.wl.clients {
		if cl.req == nil {
			return cl
		}
	}
	return nil
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
	if strings.HasPrefix(cmd, "member-") {
		return s.memberRequest(cmd, a)
	}
	if strings.HasPrefix(cmd, "lease-") {
		id, err := a.uint("id", 0)
		if err != nil || id == 0 {
			return nil, "", fmt.Errorf("sim: %s needs id=N", cmd)
		}
		switch cmd {
		case "lease-grant":
			ttl, err := a.uint("ttl", 60)
			if err != nil {
				return nil, "", err
			}
			return &nodes.Request{Kind: nodes.KindLeaseGrant, Lease: int64(id), TTL: int64(ttl)}, fmt.Sprintf("lease-grant %d ttl=%d", id, ttl), nil
		case "lease-revoke":
			return &nodes.Request{Kind: nodes.KindLeaseRevoke, Lease: int64(id)}, fmt.Sprintf("lease-revoke %d", id), nil
		}
		return &nodes.Request{Kind: nodes.KindLeaseKeepAlive, Lease: int64(id)}, fmt.Sprintf("lease-keepalive %d", id), nil
	}
	rev, err := a.uint("rev", 0)
	if err != nil || rev == 0 {
		return nil, "", fmt.Errorf("sim: compact needs rev=N")
	}
	return &nodes.Request{Kind: nodes.KindCompact, Rev: int64(rev)}, fmt.Sprintf("compact rev=%d", rev), nil
}

// memberConditions are the states of a member a script can wait for
// (run-until) or arm a failpoint on (crash at=FAILPOINT when=NAME).
var memberConditions = map[string]func(*nodes.Member) bool{
	"snap-with-entries": (*nodes.Member).SavingSnapshotWithEntries,
	"snap-received":     (*nodes.Member).HoldsReceivedSnapshot,
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
		s.grow()
		when, cond := a.str("when", ""), (func(*nodes.Member) bool)(nil)
		if when != "" {
			if cond = memberConditions[when]; cond == nil {
				return "", fmt.Errorf("sim: unknown condition when=%s (known: snap-with-entries, snap-received)", when)
			}
			when = " when " + when
		}
		tear := ""
		switch t := a.str("tear", ""); t {
		case "":
		case "wal":
			tear = ", tearing its WAL write"
		default:
			return "", fmt.Errorf("sim: unknown tear=%s (known: wal)", t)
		}
		s.armed[i], s.when[i], s.tear[i] = fp, cond, tear != ""
		return fmt.Sprintf("m%d armed at %s%s%s", sl.id, fp, when, tear), nil
	}
	if a.has("tear") {
		return "", fmt.Errorf("sim: tear= needs at=FAILPOINT")
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
	s.w.cl.linksChanged()
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
	case a.has("snap-with-entries"):
		what = "saving a received snapshot and entries after it"
		reached = memberConditions["snap-with-entries"]
	case a.has("snap-received"):
		what = "holding a received snapshot no Ready has taken"
		reached = memberConditions["snap-received"]
	default:
		return "", fmt.Errorf("sim: run-until needs window, applied=N, snap-with-entries or snap-received")
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
	s.grow()
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
	line := fmt.Sprintf("m%d up   %-8s term=%d lead=%d applied=%d commit=%d ci=%d pci=%d rev=%d wal=%d",
		sl.id, role, term, lead, m.Applied(), commit, m.ConsistentIndex(),
		invariants.MetaIndex(m.Backend()), m.Rev(), m.DurableLastIndex())
	if s.w.cl.membership {
		line += " raft " + m.ConfString()
	}
	return line
}

func (s *Scenario) status() string {
	lines := make([]string, len(s.w.cl.members))
	for i := range s.w.cl.members {
		lines[i] = s.memberLine(i)
	}
	return strings.Join(lines, "\n")
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
			if k := nodes.TimerKind(e.Arg & 0xff); k != nodes.TimerTick && k != nodes.TimerCommit && k != nodes.TimerReadRetry {
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
