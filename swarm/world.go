package swarm

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/sim"
)

// World is a world less its seed, as the command line spells it: the
// flags of etcdsim's run, replay and swarm, and of the worker processes a
// swarm starts (see AddFlags and the worker protocol in the package doc).
type World struct {
	Bug, Faults, Workload, Duration string
	Members, Rate                   int
	Churn                           int // voters the membership operator steers toward; 0: none
}

// AddFlags defines the world's flags on fs, with the defaults of etcdsim
// (a bug-free three-member world of 60s at 100 requests per second).
// faultsHelp says what an empty --faults means to the command.
func (w *World) AddFlags(fs *flag.FlagSet, faultsHelp string) {
	fs.StringVar(&w.Bug, "bug", "none", "bug mode (see etcdsim bugs)")
	fs.StringVar(&w.Faults, "faults", "", "fault line (default: "+faultsHelp+")")
	fs.IntVar(&w.Members, "members", 3, "cluster members (1..7)")
	fs.IntVar(&w.Rate, "rate", 100, "client requests per simulated second")
	fs.StringVar(&w.Workload, "workload", "default", "request mix: "+strings.Join(sim.Workloads, ", "))
	fs.StringVar(&w.Duration, "duration", "60s", "simulated time of the safety phase")
	fs.IntVar(&w.Churn, "churn", 0, "membership churn: the voters an operator steers toward (0: none)")
}

// TakeModeWorld makes w the world its bug mode is hunted in (sim.BugWorlds:
// its cluster size, workload, rate, fault line and churn), except for the flags
// the user set (set reports them by name), and returns that world's name,
// or "" when w names no single mode with a world of its own.
func (w *World) TakeModeWorld(set func(flag string) bool) string {
	for _, bw := range sim.BugWorlds() {
		if bw.Bug != w.Bug || bw.Bug == "none" {
			continue
		}
		if !set("members") {
			w.Members = bw.Members
		}
		if !set("workload") {
			w.Workload = bw.Workload
		}
		if !set("rate") {
			w.Rate = bw.Rate
		}
		if !set("faults") && bw.Faults != "" {
			w.Faults = bw.Faults
		}
		if !set("churn") {
			w.Churn = bw.Churn
		}
		return bw.String()
	}
	return ""
}

// Config returns the world's configuration, without a seed, validated:
// an error names the field that is not valid. An empty fault line leaves
// Faults nil (each seed draws its own swarm of faults).
func (w World) Config() (sim.Config, error) {
	cfg := sim.Config{Members: w.Members, Rate: w.Rate, Workload: w.Workload, Churn: w.Churn}
	var err error
	if cfg.Bugs, err = nodes.ParseBugs(w.Bug); err != nil {
		return cfg, err
	}
	if cfg.Duration, err = sim.ParseDuration(w.Duration); err != nil {
		return cfg, err
	}
	if w.Members < 1 || w.Members > 7 {
		return cfg, fmt.Errorf("--members must be 1..7, not %d", w.Members)
	}
	if w.Rate < 1 {
		return cfg, fmt.Errorf("--rate must be at least 1 request per second, not %d", w.Rate)
	}
	if w.Faults != "" {
		f, err := sim.ParseFaults(w.Faults)
		if err != nil {
			return cfg, err
		}
		cfg.Faults = &f
	}
	return cfg, cfg.Validate()
}

// workerArgs are the flags (those of AddFlags) that give a worker process
// the world of cfg.
func workerArgs(cfg sim.Config) []string {
	args := []string{"--members", strconv.Itoa(cfg.Members), "--duration", cfg.Duration.String(),
		"--rate", strconv.Itoa(cfg.Rate), "--workload", cfg.Workload, "--bug", cfg.Bugs.String()}
	if cfg.Faults != nil {
		args = append(args, "--faults", cfg.Faults.String())
	}
	if cfg.Churn != 0 {
		args = append(args, "--churn", strconv.Itoa(cfg.Churn))
	}
	return args
}
