package swarm

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// TestMain makes the test binary a worker process when its first argument
// is "worker", as etcdsim's own binary is: a swarm in a test then runs
// real worlds out of process (see testOptions).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		os.Exit(workerMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// workerMain is the test binary as a worker process.
func workerMain(args []string) int {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	var w World
	w.AddFlags(fs, "each seed's swarm")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := w.Config()
	if err == nil {
		err = Work(cfg, os.Stdin, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// testOptions runs p workers of the test binary itself.
func testOptions(t *testing.T, p int) Options {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Options{Worker: []string{exe, "worker"}, Parallel: p, SeedTimeout: DefaultSeedTimeout}
}
