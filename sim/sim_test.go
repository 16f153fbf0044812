package sim

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
)

var (
	flagSeed     = flag.String("seed", "1", "seed of TestSimulation (decimal or 0x-hex)")
	flagBug      = flag.String("bug", "none", "bug mode of TestSimulation")
	flagSteps    = flag.Uint64("steps", 0, "stop TestSimulation after this many events")
	flagDuration = flag.Duration("duration", 60*time.Second, "simulated time of TestSimulation")
	flagMembers  = flag.Int("members", 3, "members of TestSimulation")
	flagFaults   = flag.String("faults", "", "fault line of TestSimulation (default: the seed's swarm)")
)

// TestSimulation runs one world: go test ./sim -run TestSimulation -seed=N -v.
func TestSimulation(t *testing.T) {
	seed, err := ParseSeed(*flagSeed)
	if err != nil {
		t.Fatal(err)
	}
	bugs, err := nodes.ParseBugs(*flagBug)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Seed: seed, Bugs: bugs, MaxSteps: *flagSteps, Duration: *flagDuration, Members: *flagMembers}
	if *flagFaults != "" {
		f, err := ParseFaults(*flagFaults)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Faults = &f
	}
	if testing.Verbose() {
		cfg.Trace = os.Stdout
	}
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s\nsteps=%d end=%s stats=%+v trace=%x", rep.Header(), rep.Steps, FormatTime(rep.End), rep.Stats, rep.TraceHash)
	if v := rep.Violation; v != nil {
		t.Fatalf("FAIL %s at step %d t=%s: %s\nreplay: %s", v.Name, rep.Step, FormatTime(rep.At), v.Detail, rep.ReplayLine())
	}
}
