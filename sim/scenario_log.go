package sim

import (
	"fmt"
	"strings"

	"github.com/etcdsim/etcdsim/nodes"
)

// scenarioLog is what a scenario's script is told of what happened: the
// client outcomes (replies), and the notes of crashes, leadership changes
// and the first violation that the next command's output begins with. It
// watches every event the world's loop runs.
type scenarioLog struct {
	w      *world
	armed  []nodes.Failpoint          // per member index: the failpoint it dies at next
	when   []func(*nodes.Member) bool // per member index: the armed point fires only when it holds (nil: always)
	tear   []bool                     // per member index: the armed point's crash tears the WAL's newest write (tear=wal)
	leads  []uint64                   // per member index: the term it leads, or 0
	reqs   map[uint64]string
	waitID uint64  // the get being waited for
	got    *string // its outcome
	out    []string
	notes  []string
	// up, armedAt and violated are the state before the event being run.
	up       []bool
	armedAt  []nodes.Failpoint
	violated bool
}

// see is the look at the world before an event runs: it
// records client outcomes (before the world forgets the request) and
// what is up, what is armed and whether the world is violated.
func (s *scenarioLog) see(e Event) {
	w := s.w
	s.grow()
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

// saw notes what the event did: crashes, leadership changes and the
// first violation.
func (s *scenarioLog) saw(e Event) {
	w := s.w
	for i, m := range w.cl.members {
		switch {
		case i >= len(s.up):
			// a member added during the event
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
}

// onReply records a reply that reaches a client still waiting for it.
func (s *scenarioLog) onReply(e Event) {
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
	if c.req.Kind.IsMember() && res.Code == nodes.OK {
		line = res.Code.String() + " members:"
		for _, m := range res.Members {
			line += fmt.Sprintf(" m%d", m.ID)
			if m.IsLearner {
				line += "(learner)"
			}
		}
	}
	s.outcome(r.ID, line)
}

// outcome records what a client learned of a request.
func (s *scenarioLog) outcome(id uint64, line string) {
	if id == s.waitID {
		*s.got = s.reqs[id] + ": " + line
		return
	}
	s.out = append(s.out, s.reqs[id]+": "+line)
}

// grow extends the per-member arrays to members added since.
func (s *scenarioLog) grow() {
	for len(s.leads) < len(s.w.cl.members) {
		s.leads = append(s.leads, 0)
		s.armed = append(s.armed, 0)
		s.when = append(s.when, nil)
		s.tear = append(s.tear, false)
	}
}

// trackLeader notes a member that starts or stops leading.
func (s *scenarioLog) trackLeader(i int) {
	s.grow()
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

func (s *scenarioLog) flushNotes() string {
	if len(s.notes) == 0 {
		return ""
	}
	out := strings.Join(s.notes, "\n") + "\n"
	s.notes = s.notes[:0]
	return out
}

func (s *scenarioLog) note(format string, args ...any) {
	s.notes = append(s.notes, fmt.Sprintf("t=%s ", stime(s.w.q.Now()))+fmt.Sprintf(format, args...))
}

func (s *scenarioLog) replies() string {
	if len(s.out) == 0 {
		return "(none)"
	}
	out := strings.Join(s.out, "\n")
	s.out = s.out[:0]
	return out
}
