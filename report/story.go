package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/sim"
)

// maxChain is the most events the story's chain shows.
const maxChain = 6

// story is the top of a failure page: what broke, the short chain of
// events that led to it, what the invariant means, and which historical
// bug the run's bug mode puts back.
type story struct {
	Evidence, Where    string
	ChainHead          string  // which events the chain is: its rule, in words
	Chain              []event // in time order
	Invariant, Meaning string
	Bugs               []nodes.Bug
	Correct            bool // no bug mode: the correct model broke
}

// event is one step of the chain.
type event struct {
	at       time.Duration
	T        string // its time, or the span of a run of applies
	Who      string // m1, c113 (a client), or cluster
	What     string
	priority int // the context events of a linearizability chain: lower first
}

// family is how the chain of an invariant's failure is chosen.
type family uint8

const (
	famMember   family = iota // the accused member's applies, commits, crashes, restarts
	famCluster                // every member's roles, crashes, restarts; the network
	famLinear                 // the requests the evidence names and what overlaps them
	famLiveness               // what each member was doing at the end
	famAcked                  // the acknowledging member's applies, every member's crashes
)

// familyOf says which rule chooses the chain of a failure of name; an
// invariant that accuses a member and is not named here gets the member
// rule, one that accuses none the cluster rule.
func familyOf(name invariants.Invariant, accused int) family {
	switch name {
	case invariants.Linearizable:
		return famLinear
	case invariants.Liveness:
		return famLiveness
	case invariants.ElectionSafety, invariants.LogMatching:
		return famCluster
	case invariants.AckedDurable:
		if accused > 0 {
			return famAcked
		}
	}
	if accused > 0 {
		return famMember
	}
	return famCluster
}

// story tells the failure of the model's run rep.
func (m *model) story(rep *sim.Report) *story {
	v := m.violation
	name := invariants.Invariant(m.vname)
	s := &story{Evidence: v.Detail, Invariant: m.vname, Meaning: name.Description()}
	if s.Meaning == "" {
		s.Meaning = "(not in the invariants' catalog)"
	}
	s.Where = fmt.Sprintf("at step %d, t=%s of simulated time", rep.Step, fmtT(rep.At))
	if v.Member > 0 {
		s.Where = fmt.Sprintf("on m%d %s", v.Member, s.Where)
	}
	switch familyOf(name, v.Member) {
	case famMember:
		s.ChainHead = fmt.Sprintf("How it came about, on m%d: its last applies, backend commits (with the consistent index each persisted), snapshot installs, crashes and restarts before the violation:", v.Member)
		s.Chain = m.memberChain(v.Member)
	case famLinear:
		s.ChainHead, s.Chain = m.linearChain()
		if len(m.evidence) > 0 {
			lo, hi := m.evidenceSpan()
			s.Where = fmt.Sprintf("found by the check at step %d, t=%s; the requests it names ran %s – %s", rep.Step, fmtT(rep.At), fmtT(lo), fmtT(hi))
		}
	case famAcked:
		s.ChainHead = fmt.Sprintf("How it came about: m%d's last applies, backend commits, crashes and restarts, and the other members' last crash and restart:", v.Member)
		s.Chain = m.ackedChain(v.Member)
	case famLiveness:
		s.ChainHead = "What each member was doing at the end, and the network:"
		s.Chain = m.livenessChain()
	default:
		s.ChainHead = "How it came about: the last leader changes, crashes, restarts, pauses and network changes before the violation:"
		s.Chain = m.clusterChain()
	}
	switch {
	case len(m.marks) == 0:
		s.ChainHead, s.Chain = "The run kept no timeline, so there is no chain of events to show.", nil
	case len(s.Chain) == 0:
		s.ChainHead = strings.TrimSuffix(s.ChainHead, ":") + ": the timeline has none."
	}
	s.Bugs, s.Correct = bugModes(rep.Config.Bugs), rep.Config.Bugs == (nodes.Bugs{})
	return s
}

// bugModes returns the catalog rows of the enabled bug modes.
func bugModes(b nodes.Bugs) []nodes.Bug {
	var out []nodes.Bug
	names := strings.Split(b.String(), ",")
	for _, bug := range nodes.Catalog() {
		if slices.Contains(names, bug.Name) {
			out = append(out, bug)
		}
	}
	return out
}

// memberChain is the chain of a member's own state: walking back from the
// violation, its last two backend commits or snapshot installs, the
// applies after the earlier of them, and its last crash and restart.
func (m *model) memberChain(id int) []event {
	var picked []int // positions in m.marks, latest first
	commits, crashes, restarts := 0, 0, 0
	for i := len(m.marks) - 1; i >= 0 && (commits < 2 || crashes < 1 || restarts < 1); i-- {
		mk := m.marks[i]
		if mk.Member != id || mk.At > m.violation.At {
			continue
		}
		take := false
		switch mk.Kind {
		case sim.MarkCommit, sim.MarkSnapshot:
			take, commits = commits < 2, commits+1
		case sim.MarkApply:
			take = commits < 2
		case sim.MarkCrash:
			take, crashes = crashes < 1, crashes+1
		case sim.MarkRestart:
			take, restarts = restarts < 1, restarts+1
		}
		if take {
			picked = append(picked, i)
		}
	}
	slices.Reverse(picked)
	var out []event
	for k := 0; k < len(picked); k++ {
		mk := m.marks[picked[k]]
		if mk.Kind != sim.MarkApply {
			out = append(out, m.markEvent(picked[k]))
			continue
		}
		run := []sim.Mark{mk}
		for k+1 < len(picked) && m.marks[picked[k+1]].Kind == sim.MarkApply {
			k++
			run = append(run, m.marks[picked[k]])
		}
		out = append(out, appliesEvent(run))
	}
	return lastN(out, maxChain)
}

// ackedChain is the chain of an acknowledgement that was not durable: the
// acknowledging member's own chain (memberChain), and every other
// member's last crash and restart before the violation, which may have
// lost what it had not synced.
func (m *model) ackedChain(id int) []event {
	out := m.memberChain(id)
	for other := 1; other <= m.members; other++ {
		crash, restart := false, false
		for i := len(m.marks) - 1; i >= 0 && other != id && !(crash && restart); i-- {
			mk := m.marks[i]
			if mk.Member != other || mk.At > m.violation.At {
				continue
			}
			if mk.Kind == sim.MarkCrash && !crash || mk.Kind == sim.MarkRestart && !restart {
				out = append(out, m.markEvent(i))
				crash, restart = crash || mk.Kind == sim.MarkCrash, restart || mk.Kind == sim.MarkRestart
			}
		}
	}
	sortEvents(out)
	return lastN(out, maxChain)
}

// markEvent describes the mark at position i of the timeline for the
// chain: a commit with what its member had applied by then, a crash with
// its crash image's disk faults.
func (m *model) markEvent(i int) event {
	mk := m.marks[i]
	e := event{at: mk.At, T: fmtT(mk.At), Who: who(mk.Member), What: mk.Detail}
	switch mk.Kind {
	case sim.MarkCommit:
		e.What = fmt.Sprintf("backend commit persisted consistent index %d", mk.Index)
		if a, ok := m.appliedBefore(i); ok {
			e.What += fmt.Sprintf(" (it had applied up to index %d)", a)
		}
	case sim.MarkSnapshot:
		e.What = fmt.Sprintf("installed a snapshot database with consistent index %d", mk.Index)
	case sim.MarkCrash:
		e.What = "crashed (" + mk.Detail + ")"
		if d := m.crashImage(i); d != "" {
			e.What += "; its crash image: " + d
		}
	case sim.MarkRestart:
		e.What = "restarted from its crash image"
	case sim.MarkRole:
		e.What = roleWords(mk.Role, mk.Term)
	case sim.MarkPause:
		e.What = "paused (" + mk.Detail + ")"
	}
	return e
}

// appliedBefore returns the index of the last entry the member of the
// mark at position i applied before it.
func (m *model) appliedBefore(i int) (uint64, bool) {
	id := m.marks[i].Member
	for j := i - 1; j >= 0; j-- {
		if mk := m.marks[j]; mk.Member == id && mk.Kind == sim.MarkApply {
			return mk.Index, true
		}
	}
	return 0, false
}

// crashImage lists the disk faults of the crash at position i: the disk
// marks of its member at its time, the first two and how many more.
func (m *model) crashImage(i int) string {
	c := m.marks[i]
	var lines []string
	for j := i + 1; j < len(m.marks) && m.marks[j].At == c.At; j++ {
		if mk := m.marks[j]; mk.Member == c.Member && mk.Kind == sim.MarkDisk {
			lines = append(lines, mk.Detail)
		}
	}
	if len(lines) > 2 {
		lines = append(lines[:2], fmt.Sprintf("and %d more", len(lines)-2))
	}
	return strings.Join(lines, "; ")
}

// appliesEvent describes a run of one member's applies: their indexes and
// the kinds of entry, the failed ones named.
func appliesEvent(run []sim.Mark) event {
	first, last := run[0], run[len(run)-1]
	e := event{at: first.At, T: fmtT(first.At), Who: who(first.Member)}
	var kinds, failed []string
	for _, mk := range run {
		if !slices.Contains(kinds, mk.Entry) && mk.Entry != "" {
			kinds = append(kinds, mk.Entry)
		}
		if mk.Failed {
			failed = append(failed, fmt.Sprint(mk.Index))
		}
	}
	if len(kinds) > 4 {
		kinds = append(kinds[:4], "…")
	}
	e.What = fmt.Sprintf("applied index %d", first.Index)
	if len(run) > 1 {
		e.T += " – " + fmtT(last.At)
		e.What = fmt.Sprintf("applied indexes %d–%d", first.Index, last.Index)
	}
	if len(kinds) > 0 {
		e.What += " (" + strings.Join(kinds, ", ") + ")"
	}
	if len(failed) > 0 {
		e.What += "; failed: " + strings.Join(failed, ", ")
	}
	return e
}

// clusterChain is the chain of invariants of the cluster as a whole: the
// last role changes, crashes, restarts, pauses and network changes of any
// member before the violation.
func (m *model) clusterChain() []event {
	var out []event
	for i := len(m.marks) - 1; i >= 0 && len(out) < maxChain; i-- {
		mk := m.marks[i]
		if mk.At > m.violation.At {
			continue
		}
		switch mk.Kind {
		case sim.MarkRole, sim.MarkCrash, sim.MarkRestart, sim.MarkPause, sim.MarkNet:
			out = append(out, m.markEvent(i))
		}
	}
	slices.Reverse(out)
	return out
}

func lastN(es []event, n int) []event {
	if len(es) > n {
		return es[len(es)-n:]
	}
	return es
}

func who(member int) string {
	if member > 0 {
		return fmt.Sprintf("m%d", member)
	}
	return "cluster"
}

// roleWords says a role change in words.
func roleWords(role sim.Role, term uint64) string {
	switch role {
	case sim.RoleLeader:
		return fmt.Sprintf("became leader of term %d", term)
	case sim.RoleFollower:
		return fmt.Sprintf("follows a leader in term %d", term)
	}
	return fmt.Sprintf("knows no leader in term %d", term)
}

// sortEvents orders a chain by time, keeping the order of simultaneous events.
func sortEvents(es []event) {
	slices.SortStableFunc(es, func(a, b event) int { return cmp.Compare(a.at, b.at) })
}
