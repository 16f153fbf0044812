package sim

import (
	"os"
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
)

// TestWALSnapshotGapScenario runs the script of
// testdata/scenarios/wal_snapshot_gap.txt, the reproduction of
// wal-snapshot-gap that no seed of the default world reaches, with the mode
// and with the correct model, whatever its golden output says: m3 must die
// at walBeforeSync inside the Ready holding a received snapshot and entries
// after it both ways; with the mode its restart must be refused as etcd's
// boot refuses the WAL ("entry N follows snapshot M"), and with the correct
// model it must restart and every check stay ok.
func TestWALSnapshotGapScenario(t *testing.T) {
	script := scenarioCommands(t, "testdata/scenarios/wal_snapshot_gap.txt")
	for _, bug := range []string{"wal-snapshot-gap", "none"} {
		t.Run(bug, func(t *testing.T) {
			var s Scenario
			var crashed bool
			var restart, check string
			for _, line := range script {
				cmd, args := scenarioLine(line)
				if cmd == "world" {
					for i := range args {
						if args[i].Key == "bug" {
							args[i].Vals = []string{bug}
						}
					}
				}
				out, err := s.Do(cmd, args)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				crashed = crashed || strings.Contains(out, "m3 crashed at failpoint walBeforeSync")
				switch cmd {
				case "restart":
					restart = out
				case "check":
					check = out
				}
			}
			if !crashed || s.w.probes[nodes.ProbeSnapWithEntries] == 0 {
				t.Fatalf("m3 did not die at walBeforeSync in a Ready holding a received snapshot and entries (crashed=%v, snap/with-entries=%d): the scenario no longer reaches the state",
					crashed, s.w.probes[nodes.ProbeSnapWithEntries])
			}
			if bug == "none" {
				if !strings.HasPrefix(restart, "m3 up") || check != "ok" {
					t.Fatalf("correct model: restart %q, check %q; want m3 up and ok", restart, check)
				}
				return
			}
			if !strings.Contains(restart, "cannot start: restart-clean") || !strings.Contains(check, "follows snapshot") {
				t.Fatalf("wal-snapshot-gap: restart %q, check %q; want restart-clean refusing the WAL (entry N follows snapshot M)", restart, check)
			}
		})
	}
}

// scenarioCommands returns the command lines of a datadriven scenario file
// (the line before each "----"; comments and outputs skipped).
func scenarioCommands(t *testing.T, path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	lines := strings.Split(string(b), "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i] == "----" {
			cmds = append(cmds, strings.TrimSpace(lines[i-1]))
		}
	}
	return cmds
}

// scenarioLine splits a command line into its command and arguments, as
// datadriven does for the forms scenarios use (key, key=value).
func scenarioLine(line string) (string, []ScenarioArg) {
	f := strings.Fields(line)
	var args []ScenarioArg
	for _, x := range f[1:] {
		k, v, ok := strings.Cut(x, "=")
		a := ScenarioArg{Key: k}
		if ok {
			a.Vals = []string{v}
		}
		args = append(args, a)
	}
	return f[0], args
}

// TestBugWorldScenariosExist checks that every scenario a bug world names
// (a mode reproduced by its scenario, not by seeds) is there.
func TestBugWorldScenariosExist(t *testing.T) {
	for _, w := range BugWorlds() {
		if w.Scenario == "" {
			continue
		}
		if _, err := os.Stat(strings.TrimPrefix(w.Scenario, "sim/")); err != nil {
			t.Errorf("%s: its scenario: %v", w.Bug, err)
		}
	}
}
