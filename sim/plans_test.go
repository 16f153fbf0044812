package sim

import (
	"flag"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// planGen draws a whole plan for a world of members: client requests and
// faults at instants of the arrival and fault-tick grids, within horizon.
func planGen(members int, horizon time.Duration) *rapid.Generator[*Plan] {
	return rapid.Custom(func(t *rapid.T) *Plan {
		p := &Plan{}
		n := rapid.IntRange(0, 60).Draw(t, "steps")
		membership := rapid.IntRange(0, 2).Draw(t, "membership") == 0
		for i := 0; i < n; i++ {
			at := time.Duration(rapid.Int64Range(0, int64(horizon/FaultTick)).Draw(t, "tick")) * FaultTick
			var s Step
			if membership && rapid.IntRange(0, 2).Draw(t, "member-step") == 0 {
				// After HealthInterval (5s): before it the strict
				// reconfiguration check refuses every add.
				s = memberStepGen(members).Draw(t, "step")
				at += 5 * time.Second
			} else {
				s = stepGen(members).Draw(t, "step")
			}
			s.At = at
			p.Steps = append(p.Steps, s)
		}
		return p
	})
}

// memberStepGen draws a membership step: a cluster API request (as root,
// about a bootstrap member or the one member a plan may add, members+1)
// sent to a bootstrap member, or the start of that added member.
func memberStepGen(members int) *rapid.Generator[Step] {
	id := rapid.IntRange(1, members+1)
	return rapid.Custom(func(t *rapid.T) Step {
		target := rapid.IntRange(1, members).Draw(t, "member")
		if rapid.IntRange(0, 3).Draw(t, "start") == 0 {
			return Step{Kind: StepStart, Member: members + 1}
		}
		kind := rapid.SampledFrom([]nodes.Kind{nodes.KindMemberAdd, nodes.KindMemberAdd, nodes.KindMemberPromote,
			nodes.KindMemberRemove, nodes.KindMemberUpdate, nodes.KindMemberList}).Draw(t, "kind")
		m := uint64(id.Draw(t, "id"))
		req := &nodes.Request{Kind: kind, MemberID: m, User: "root"}
		switch kind {
		case nodes.KindMemberAdd:
			req.Learner, req.PeerURL = rapid.Bool().Draw(t, "learner"), peerURL(int(m))
		case nodes.KindMemberUpdate:
			req.PeerURL = peerURL(int(m))
		case nodes.KindMemberList:
			req.MemberID = 0
		}
		return Step{Kind: StepRequest, Client: rapid.IntRange(0, 9).Draw(t, "client"), Member: target, Req: req}
	})
}

func stepGen(members int) *rapid.Generator[Step] {
	member := rapid.IntRange(1, members)
	down := rapid.SampledFrom([]time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second})
	return rapid.Custom(func(t *rapid.T) Step {
		switch k := rapid.IntRange(0, 10).Draw(t, "kind"); {
		case k < 6:
			return Step{Kind: StepRequest, Client: rapid.IntRange(0, 9).Draw(t, "client"), Member: member.Draw(t, "member"), Req: reqGen().Draw(t, "req")}
		case k == 6:
			return Step{Kind: StepCrash, Member: member.Draw(t, "member"), For: down.Draw(t, "for")}
		case k == 7 && members > 1:
			m := member.Draw(t, "member")
			var a, b []int
			for i := 1; i <= members; i++ {
				if i == m {
					a = append(a, i)
				} else {
					b = append(b, i)
				}
			}
			return Step{Kind: StepPartition, Groups: [][]int{a, b}}
		case k == 8:
			return Step{Kind: StepHeal}
		case k == 9:
			return Step{Kind: StepStop, Member: member.Draw(t, "member"), For: down.Draw(t, "for")}
		}
		return Step{Kind: StepPause, Member: member.Draw(t, "member"), For: down.Draw(t, "for")}
	})
}

func reqGen() *rapid.Generator[*nodes.Request] {
	k := rapid.Custom(func(t *rapid.T) []byte { return key(rapid.IntRange(0, keyspace-1).Draw(t, "key")) })
	return rapid.Custom(func(t *rapid.T) *nodes.Request {
		key := k.Draw(t, "k")
		switch rapid.IntRange(0, 6).Draw(t, "op") {
		case 0, 1:
			return &nodes.Request{Kind: nodes.KindPut, Key: key, Value: []byte(rapid.StringMatching(`v[0-9]{1,3}`).Draw(t, "v"))}
		case 2:
			return &nodes.Request{Kind: nodes.KindDeleteRange, Key: key}
		case 3:
			return &nodes.Request{Kind: nodes.KindTxn, Txn: mvcc.TxnRequest{
				Compares: []mvcc.Compare{{Key: key, Target: mvcc.CompareVersion, Result: mvcc.CompareEqual, Version: int64(rapid.IntRange(0, 2).Draw(t, "ver"))}},
				Success:  []mvcc.Op{{Type: mvcc.OpPut, Key: key, Value: []byte("txn")}},
				Failure:  []mvcc.Op{{Type: mvcc.OpRange, Key: key}}}}
		case 4:
			return &nodes.Request{Kind: nodes.KindRange, Key: key, Serializable: rapid.Bool().Draw(t, "ser")}
		case 5:
			return &nodes.Request{Kind: nodes.KindCompact, Rev: rapid.Int64Range(1, 30).Draw(t, "rev")}
		}
		return &nodes.Request{Kind: nodes.KindDefrag}
	})
}

// planProperty: the correct model survives any plan rapid draws; on a
// failure rapid shrinks the plan and prints it.
func planProperty(t *rapid.T) {
	members := rapid.SampledFrom([]int{1, 3}).Draw(t, "members")
	horizon := 4 * time.Second
	plan := planGen(members, horizon).Draw(t, "plan")
	bugs, err := nodes.ParseBugs(*flagPlansBug)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Seed: rapid.Uint64Range(1, 1<<20).Draw(t, "seed"), Members: members, Duration: horizon + 6*time.Second,
		Plan: plan, Liveness: 15 * time.Second, Faults: &Faults{}, Bugs: bugs}
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if v := rep.Violation; v != nil {
		t.Fatalf("FAIL %s at step %d t=%s: %s\nplan:\n%s", v.Name, rep.Step, FormatTime(rep.At), v.Detail, plan)
	}
}

var flagPlansBug = flag.String("plans.bug", "none", "bug mode under TestPlans (to watch rapid find and shrink it)")

// TestPlans: go test ./sim -run TestPlans -rapid.checks=N (-rapid.seed replays).
func TestPlans(t *testing.T) {
	rapid.Check(t, planProperty)
}

// FuzzPlans runs the same property under go test -fuzz.
func FuzzPlans(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(planProperty))
}
