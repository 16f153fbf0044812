package sim

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
)

// A Plan is the explicit schedule of a run: the client requests and the
// faults, each at its time. A world run from its seed records the plan it
// drew (Report.Plan); a world run with Config.Plan follows it instead of
// drawing, and the timing noise inside the world (delays, latencies, raft's
// jitter) still comes from the seed's streams. rapid builds plans (TestPlans)
// and shrinks them, and Shrink cuts a failing one down.
//
// Requests run at the workload's arrival instants (multiples of 1/Rate) and
// faults at fault ticks (multiples of FaultTick), so that a recorded plan
// replays the run it came from event for event.
type Plan struct {
	Steps []Step
}

// StepKind is what a step does.
type StepKind uint8

// Step kinds.
const (
	StepRequest   StepKind = iota + 1 // Client sends Req to Member
	StepCrash                         // crash Member; it restarts For later
	StepPartition                     // split the members into Groups
	StepHeal                          // heal every partition and cut
	StepCut                           // cut the link Member -> To
	StepPause                         // pause Member for For
	StepSlowDisk                      // Member's disk is slow for For
	StepFailpoint                     // Member dies at its Pass-th pass through Point; restarts For later
	StepStop                          // stop Member cleanly; it restarts For later
	StepStart                         // start Member, added at runtime, for the first time (an empty data dir)
)

var stepNames = [...]string{"", "request", "crash", "partition", "heal", "cut", "pause", "slow", "failpoint", "stop", "start"}

func (k StepKind) String() string { return stepNames[k] }

// Step is one scheduled request or fault.
type Step struct {
	At     time.Duration
	Kind   StepKind
	Client int            // request
	Member int            // 1-based
	Req    *nodes.Request // request: a template (its ID is set when sent)
	// Patient: the client waits patientTimeout for the answer, not
	// RequestTimeout (workload_errpaths.go).
	Patient bool
	Groups  [][]int       // partition
	To      int           // cut
	For     time.Duration // crash and failpoint: down time; pause; slow disk
	Point   string        // failpoint
	Pass    uint64        // failpoint: which pass through it (counted over the member's lives)
}

// Requests and Faults count the steps of each sort.
func (p *Plan) Requests() (n int) {
	for _, s := range p.Steps {
		if s.Kind == StepRequest {
			n++
		}
	}
	return n
}

// Faults counts the fault steps.
func (p *Plan) Faults() int { return len(p.Steps) - p.Requests() }

// String prints the plan, one step per line.
func (p *Plan) String() string {
	var b strings.Builder
	for _, s := range p.Steps {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// String prints one step: "plan <time> <kind> key=value...".
func (s Step) String() string {
	f := []string{"plan", strconv.FormatInt(int64(s.At), 10), s.Kind.String()}
	add := func(k, v string) { f = append(f, k+"="+v) }
	switch s.Kind {
	case StepRequest:
		add("client", strconv.Itoa(s.Client))
		add("member", strconv.Itoa(s.Member))
		add("req", hex.EncodeToString(s.Req.Encode()))
		if s.Patient {
			add("patient", "1")
		}
		what := string(s.Req.Key)
		if s.Req.Kind.IsMember() && s.Req.MemberID != 0 {
			what = "m" + strconv.FormatUint(s.Req.MemberID, 10)
		}
		f = append(f, "#", s.Req.Kind.String(), what)
	case StepPartition:
		gs := make([]string, len(s.Groups))
		for i, g := range s.Groups {
			gs[i] = joinIDs(g)
		}
		add("groups", strings.Join(gs, "|"))
	case StepCut:
		add("member", strconv.Itoa(s.Member))
		add("to", strconv.Itoa(s.To))
	case StepCrash, StepPause, StepSlowDisk, StepStop:
		add("member", strconv.Itoa(s.Member))
		add("for", s.For.String())
	case StepStart:
		add("member", strconv.Itoa(s.Member))
	case StepFailpoint:
		add("member", strconv.Itoa(s.Member))
		add("point", s.Point)
		add("pass", strconv.FormatUint(s.Pass, 10))
		add("for", s.For.String())
	}
	return strings.Join(f, " ")
}

func joinIDs(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ",")
}

// ParseStep reads a line that Step.String printed.
func ParseStep(line string) (Step, error) {
	var s Step
	if i := strings.Index(line, " # "); i >= 0 {
		line = line[:i]
	}
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "plan" {
		return s, fmt.Errorf("sim: plan step %q is not \"plan <ns> <kind> ...\"", line)
	}
	at, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || at < 0 {
		return s, fmt.Errorf("sim: plan step %q: bad time", line)
	}
	s.At = time.Duration(at)
	for k, name := range stepNames {
		if name == f[2] && k > 0 {
			s.Kind = StepKind(k)
		}
	}
	if s.Kind == 0 {
		return s, fmt.Errorf("sim: plan step %q: unknown kind %q", line, f[2])
	}
	for _, kv := range f[3:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return s, fmt.Errorf("sim: plan step %q: %q is not key=value", line, kv)
		}
		if err := s.set(k, v); err != nil {
			return s, fmt.Errorf("sim: plan step %q: %v", line, err)
		}
	}
	if s.Kind == StepRequest && s.Req == nil {
		return s, fmt.Errorf("sim: plan step %q: request without req=", line)
	}
	return s, nil
}

func (s *Step) set(k, v string) error {
	var err error
	switch k {
	case "client":
		s.Client, err = strconv.Atoi(v)
	case "member":
		s.Member, err = strconv.Atoi(v)
	case "to":
		s.To, err = strconv.Atoi(v)
	case "for":
		s.For, err = time.ParseDuration(v)
	case "point":
		s.Point = v
	case "patient":
		s.Patient = v == "1"
	case "pass":
		s.Pass, err = strconv.ParseUint(v, 10, 64)
	case "req":
		var p []byte
		if p, err = hex.DecodeString(v); err == nil {
			s.Req, err = nodes.DecodeRequest(p)
		}
	case "groups":
		for _, g := range strings.Split(v, "|") {
			var ids []int
			for _, id := range strings.Split(g, ",") {
				n, err := strconv.Atoi(id)
				if err != nil {
					return fmt.Errorf("bad group %q", g)
				}
				ids = append(ids, n)
			}
			s.Groups = append(s.Groups, ids)
		}
	default:
		return fmt.Errorf("unknown field %q", k)
	}
	return err
}

// validate reports a step that does not fit a world of cfg.
func (s *Step) validate(cfg Config, clients int) error {
	limit := cfg.Members
	if cfg.Churn > 0 || cfg.Plan.membership() {
		limit = maxChurnID // members join as the run goes
	}
	member := func(m int) error {
		if m < 1 || m > limit {
			return fmt.Errorf("sim: plan step %q: member %d of %d", s, m, limit)
		}
		return nil
	}
	switch s.Kind {
	case StepRequest:
		if s.Client < 0 || s.Client >= clients {
			return fmt.Errorf("sim: plan step %q: client %d of %d", s, s.Client, clients)
		}
		return member(s.Member)
	case StepCut:
		if err := member(s.Member); err != nil {
			return err
		}
		return member(s.To)
	case StepPartition:
		for _, g := range s.Groups {
			for _, m := range g {
				if err := member(m); err != nil {
					return err
				}
			}
		}
		return nil
	case StepHeal:
		return nil
	}
	return member(s.Member)
}

// membership reports whether the plan changes membership (a cluster API
// request, or the start of a member added at runtime): its world then
// models membership.
func (p *Plan) membership() bool {
	if p == nil {
		return false
	}
	for i := range p.Steps {
		s := &p.Steps[i]
		if s.Kind == StepStart || s.Kind == StepRequest && s.Req.Kind.IsMember() {
			return true
		}
	}
	return false
}

// maxChurnID bounds the member IDs a plan of a world with churn names.
const maxChurnID = 1 << 20

// sortedPlan returns a copy of p with its steps in time order (stable).
func sortedPlan(p *Plan) *Plan {
	out := &Plan{Steps: append([]Step(nil), p.Steps...)}
	slices.SortStableFunc(out.Steps, func(a, b Step) int { return cmp.Compare(a.At, b.At) })
	return out
}

// ParsePlan reads a plan as Plan.String prints it; blank lines and lines
// starting with '#' are skipped.
func ParsePlan(text string) (*Plan, error) {
	p := &Plan{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := ParseStep(line)
		if err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, s)
	}
	return p, nil
}
