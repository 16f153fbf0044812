package sim

import (
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestScenarios runs the golden interaction scenarios of
// testdata/scenarios, one world per file; each file says on top what it
// proves. Update them with: go test ./sim -run TestScenarios -rewrite.
func TestScenarios(t *testing.T) {
	datadriven.Walk(t, "testdata/scenarios", func(t *testing.T, path string) {
		var s Scenario
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			args := make([]ScenarioArg, len(d.CmdArgs))
			for i, a := range d.CmdArgs {
				args[i] = ScenarioArg{Key: a.Key, Vals: a.Vals}
			}
			out, err := s.Do(d.Cmd, args)
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			return out + "\n"
		})
	})
}
