package sim

import (
	"time"

	"github.com/etcdsim/etcdsim/nodes"
)

// BugWorld is the world in which a bug mode is hunted: the default world,
// or the workload mix and cluster size its field reports describe.
type BugWorld struct {
	Bug      string
	Members  int
	Workload string
	Rate     int
	// Churn, when set, is the voter count the membership operator steers
	// toward (Config.Churn).
	Churn int
	// Faults, when set, is the fault line of every seed instead of the
	// seed's own swarm draw, and FaultsName says in a word what it does.
	Faults     string
	FaultsName string
	// Known are seeds reported for a mode too rare to find by searching
	// from seed 1; make seeds records them in the corpus.
	Known []uint64
	// Scenario, when set, is the golden scenario file that reproduces a
	// mode no seed of its world is known to reach: make seeds says so
	// instead of failing when its search finds none.
	Scenario string
}

// Config returns the world of seed for this bug mode.
func (b BugWorld) Config(seed uint64) Config {
	bugs, err := nodes.ParseBugs(b.Bug)
	if err != nil {
		panic(err)
	}
	cfg := Config{Seed: seed, Bugs: bugs, Members: b.Members, Workload: b.Workload, Rate: b.Rate, Duration: 60 * time.Second, Churn: b.Churn}
	if b.Faults != "" {
		f, err := ParseFaults(b.Faults)
		if err != nil {
			panic(err)
		}
		cfg.Faults = &f
	}
	return cfg
}

// String names the world, e.g. "3 members, default".
func (b BugWorld) String() string {
	s := itoa(b.Members) + " member"
	if b.Members != 1 {
		s += "s"
	}
	s += ", " + b.Workload
	if b.Rate != 100 {
		s += " @" + itoa(b.Rate) + "/s"
	}
	if b.Churn != 0 {
		s += ", churn to " + itoa(b.Churn)
	}
	if b.FaultsName != "" {
		s += ", " + b.FaultsName
	}
	return s
}

// BugWorlds lists the correct model and every bug mode with its world, in
// the order of nodes.Catalog.
func BugWorlds() []BugWorld {
	out := []BugWorld{{Bug: "none", Members: 3, Workload: "default", Rate: 100}}
	for _, b := range nodes.Catalog() {
		w := BugWorld{Bug: b.Name, Members: 3, Workload: "default", Rate: 100}
		switch b.Name {
		case "ack-before-wal-sync", "serve-before-ready":
			w.Members = 1 // etcd #14370, raft #105: a one-member cluster
		case "compaction-rev-regress":
			w.Members, w.Workload, w.Rate = 1, "compaction", 10 // robustness scenario Issue17780
		case "bootstrap-not-durable":
			// etcd #2877: stopped right after bootstrap. Every failpoint on,
			// each pass crashing 1 in 10, so the first Ready often dies
			// before its fsync; about 1 in 2,000 seeds of the swarm's own
			// one-member draw do.
			w.Members = 1
			w.Faults, w.FaultsName = "disk.torn_write=1/2 crash=1/1000 failpoint=1/1@fire=1/10", "crash-prone"
		case "wal-snapshot-gap":
			// A follower must take a snapshot and the entries after it in
			// one Ready (its disk still busy with the previous one) and
			// crash in that Ready's fsync with the write torn: no default
			// seed of 1..40,000 does. A scenario arms the crash in that one
			// Ready and reproduces it. docs/findings.md.
			w.Scenario = "sim/testdata/scenarios/wal_snapshot_gap.txt"
		case "stale-read":
			// The classic partitioned leader: a leader cut off from the
			// majority, still reached by clients, serves reads until
			// CheckQuorum deposes it. Partitions and heals every few
			// seconds (Jepsen's partition nemesis) instead of the swarm's
			// rare ones: 10.3% of seeds 1..1000 instead of 4.0%.
			w.Faults, w.FaultsName = "net.partition=1/100@stable=2s", "partitions"
		case "renew-trusts-tick":
			// A leader paused or cut off, ticking again, and a keep-alive of
			// a lease revoked meanwhile reaching it first: 1 in 300 seeds
			// with pauses and partitions, none of the default world's 300.
			// A scenario reproduces it (docs/findings.md).
			w.Scenario = "sim/testdata/scenarios/renew_trusts_tick.txt"
		case "promotion-not-persisted":
			// #19557: learners added and promoted in a running cluster.
			w.Churn = 3
		case "promote-forward-auth":
			// #14070, #20757: auth on, learners promoted through followers
			// (a cluster of three growing to five).
			w.Workload, w.Churn = "auth", 5
		case "member-update-learner":
			// #21694: a learner's peer URL updated before its promotion.
			w.Workload, w.Churn = "reconfig", 5
		case "update-replay-learner":
			// A learner updated and promoted, then a member restarts before
			// its next raft snapshot (docs/findings.md).
			w.Workload, w.Churn = "reconfig", 5
			w.Faults, w.FaultsName = "crash=1/1000", "crashes"
		case "promote-quorum-miscount":
			// #11633: a one-member cluster grown by promoting a learner.
			w.Members, w.Churn = 1, 3
		}
		out = append(out, w)
	}
	return out
}

// WorldOf returns the world bugs is hunted in: its mode's when bugs is one
// mode, else the default world (3 members, the default workload at 100
// requests per second, the seed's own faults).
func WorldOf(bugs nodes.Bugs) BugWorld {
	name := bugs.String()
	for _, bw := range BugWorlds() {
		if bw.Bug == name {
			return bw
		}
	}
	return BugWorld{Bug: name, Members: 3, Workload: "default", Rate: 100}
}
