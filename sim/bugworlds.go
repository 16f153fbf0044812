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
}

// Config returns the world of seed for this bug mode.
func (b BugWorld) Config(seed uint64) Config {
	bugs, err := nodes.ParseBugs(b.Bug)
	if err != nil {
		panic(err)
	}
	return Config{Seed: seed, Bugs: bugs, Members: b.Members, Workload: b.Workload, Rate: b.Rate, Duration: 60 * time.Second}
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
		}
		out = append(out, w)
	}
	return out
}
