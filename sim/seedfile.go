package sim

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/nodes"
)

// SeedFile is one entry of the regression corpus (seeds/): a world, what
// it is expected to do, and enough to notice when it stops doing it.
//
//	# auth-ci: a password change re-applied after a restart
//	seed: 42
//	members: 3
//	duration: 60s
//	rate: 100
//	workload: default
//	bug: auth-ci
//	faults: disk.torn_write=1/2 crash=1/1000
//	expect: fail:commit-atomicity
//	step: 48121
//	trace: 9c1e0f2a55d3b0e1
//	trace-format: 2
type SeedFile struct {
	Description string
	Config      Config
	Expect      string // "pass" or "fail:<invariant>"
	Step        uint64 // the step of the violation (0 for pass)
	Trace       uint64 // the trace hash of the run
	// TraceFormat is the TraceFormat the trace was recorded with (a file
	// without the field is format 1).
	TraceFormat int
}

// Matches reports whether a run of the file's world did what the file
// recorded: the same outcome, at the same step, with the same trace.
func (sf *SeedFile) Matches(rep *Report) bool {
	return sf.TraceFormat == TraceFormat && rep.Outcome() == sf.Expect && rep.Step == sf.Step && rep.TraceHash == sf.Trace
}

// FormatNote says why a file of another trace format cannot match ("" for
// a file of this build's format).
func (sf *SeedFile) FormatNote() string {
	if sf.TraceFormat == TraceFormat {
		return ""
	}
	return fmt.Sprintf("recorded with trace format %d, this build's is %d: its trace and step are not comparable (make seeds re-records the corpus)", sf.TraceFormat, TraceFormat)
}

// NewSeedFile records a report as a seed file. A run that followed a plan
// keeps it in the file (a shrunk world is its plan).
func NewSeedFile(rep *Report, description string) SeedFile {
	sf := SeedFile{Description: description, Config: rep.Config, Expect: "pass", Trace: rep.TraceHash, TraceFormat: TraceFormat}
	f := rep.Faults
	sf.Config.Faults = &f // pin the fault line, so the file does not depend on the swarm draw
	sf.Config.Trace = nil
	if v := rep.Violation; v != nil {
		sf.Expect, sf.Step = "fail:"+string(v.Name), rep.Step
	}
	return sf
}

// String prints the seed file.
func (sf SeedFile) String() string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(sf.Description), "\n") {
		if l != "" {
			fmt.Fprintf(&b, "# %s\n", l)
		}
	}
	c := sf.Config
	c.defaults()
	faults := "none"
	if c.Faults != nil {
		faults = c.Faults.String()
	}
	fmt.Fprintf(&b, "seed: %d\nmembers: %d\nduration: %s\nrate: %d\nworkload: %s\nbug: %s\nfaults: %s\n",
		c.Seed, c.Members, c.Duration, c.Rate, c.Workload, c.Bugs, faults)
	if c.Churn != 0 {
		fmt.Fprintf(&b, "churn: %d\n", c.Churn)
	}
	fmt.Fprintf(&b, "expect: %s\nstep: %d\ntrace: %016x\ntrace-format: %d\n", sf.Expect, sf.Step, sf.Trace, sf.TraceFormat)
	if c.Plan != nil {
		b.WriteString(c.Plan.String())
	}
	return b.String()
}

// ParseSeedFile reads a seed file; every field but the comment, churn and
// trace-format (1 when absent) is required.
func ParseSeedFile(text string) (SeedFile, error) {
	sf := SeedFile{TraceFormat: 1}
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if c, ok := strings.CutPrefix(line, "#"); ok {
			sf.Description += strings.TrimSpace(c) + "\n"
			continue
		}
		if strings.HasPrefix(line, "plan ") {
			step, err := ParseStep(line)
			if err != nil {
				return sf, fmt.Errorf("sim: seed file line %d: %v", n, err)
			}
			if sf.Config.Plan == nil {
				sf.Config.Plan = &Plan{}
			}
			sf.Config.Plan.Steps = append(sf.Config.Plan.Steps, step)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return sf, fmt.Errorf("sim: seed file line %d: %q is not key: value", n, line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if seen[k] {
			return sf, fmt.Errorf("sim: seed file line %d: %s given twice", n, k)
		}
		seen[k] = true
		if err := sf.set(k, v); err != nil {
			return sf, fmt.Errorf("sim: seed file line %d: %v", n, err)
		}
	}
	for _, k := range []string{"seed", "members", "duration", "rate", "bug", "faults", "expect", "step", "trace"} {
		if !seen[k] {
			return sf, fmt.Errorf("sim: seed file has no %s", k)
		}
	}
	sf.Description = strings.TrimSpace(sf.Description)
	return sf, sf.Config.Validate()
}

func (sf *SeedFile) set(k, v string) error {
	var err error
	c := &sf.Config
	switch k {
	case "seed":
		c.Seed, err = ParseSeed(v)
	case "members":
		c.Members, err = strconv.Atoi(v)
	case "duration":
		c.Duration, err = ParseDuration(v)
	case "rate":
		c.Rate, err = strconv.Atoi(v)
	case "workload":
		c.Workload = v
	case "churn":
		c.Churn, err = strconv.Atoi(v)
	case "bug":
		c.Bugs, err = nodes.ParseBugs(v)
	case "faults":
		var f Faults
		f, err = ParseFaults(v)
		c.Faults = &f
	case "expect":
		err = parseExpect(v)
		sf.Expect = v
	case "step":
		sf.Step, err = strconv.ParseUint(v, 10, 64)
	case "trace":
		sf.Trace, err = strconv.ParseUint(v, 16, 64)
	case "trace-format":
		sf.TraceFormat, err = strconv.Atoi(v)
		if err == nil && (sf.TraceFormat < 1 || sf.TraceFormat > TraceFormat) {
			err = fmt.Errorf("%d is not a trace format this build knows (1..%d)", sf.TraceFormat, TraceFormat)
		}
	default:
		return fmt.Errorf("unknown field %q", k)
	}
	if err != nil {
		return fmt.Errorf("%s: %v", k, err)
	}
	return nil
}

func parseExpect(v string) error {
	if v == "pass" {
		return nil
	}
	name, ok := strings.CutPrefix(v, "fail:")
	if !ok {
		return fmt.Errorf("expect must be pass or fail:<invariant>, not %q", v)
	}
	if !invariants.Known(name) {
		return fmt.Errorf("unknown invariant %q", name)
	}
	return nil
}

// Outcome returns the expect string of a report.
func (r *Report) Outcome() string {
	if r.Violation == nil {
		return "pass"
	}
	return "fail:" + string(r.Violation.Name)
}
