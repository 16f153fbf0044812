package sim

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes"
)

// bareCluster is the baseline of the simulation's cost: the same raft
// (go.etcd.io/raft/v3, PreVote, CheckQuorum, etcd's tick ratio) stepped
// through bare RawNodes over MemoryStorage, messages delivered at once, no
// disk, network, apply, clients or checks.
type bareCluster struct {
	nodes []*raft.RawNode
	store []*raft.MemoryStorage
	msgs  []*raftpb.Message
	sent  int
}

func newBareCluster(n int) *bareCluster {
	c := &bareCluster{}
	peers := make([]raft.Peer, n)
	for i := range peers {
		peers[i] = raft.Peer{ID: uint64(i + 1)}
	}
	for i := 0; i < n; i++ {
		ms := raft.NewMemoryStorage()
		rn, err := raft.NewRawNode(&raft.Config{ID: uint64(i + 1), ElectionTick: 10, HeartbeatTick: 1, Storage: ms,
			MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 512, CheckQuorum: true, PreVote: true, Logger: nodes.QuietLogger{}})
		if err != nil {
			panic(err)
		}
		if err := rn.Bootstrap(peers); err != nil {
			panic(err)
		}
		c.nodes, c.store = append(c.nodes, rn), append(c.store, ms)
	}
	c.settle()
	_ = c.nodes[0].Campaign()
	c.settle()
	if st := c.nodes[0].BasicStatus(); st.RaftState != raft.StateLeader {
		panic("bare cluster: node 1 did not become leader")
	}
	return c
}

// settle handles Readies and delivers messages until nothing is left:
// persist to MemoryStorage, apply conf changes, Advance.
func (c *bareCluster) settle() (committed int) {
	for busy := true; busy; {
		busy = false
		for i, rn := range c.nodes {
			for rn.HasReady() {
				busy = true
				rd := rn.Ready()
				if !raft.IsEmptyHardState(rd.HardState) {
					_ = c.store[i].SetHardState(rd.HardState)
				}
				_ = c.store[i].Append(rd.Entries)
				for _, e := range rd.CommittedEntries {
					if e.GetType() == raftpb.EntryConfChange {
						var cc raftpb.ConfChange
						_ = proto.Unmarshal(e.Data, &cc)
						rn.ApplyConfChange(&cc)
					} else if len(e.Data) > 0 && i == 0 {
						committed++
					}
				}
				c.msgs = append(c.msgs, rd.Messages...)
				rn.Advance(rd)
			}
		}
		for len(c.msgs) > 0 {
			busy = true
			m := c.msgs[0]
			c.msgs = c.msgs[1:]
			c.sent++
			_ = c.nodes[m.GetTo()-1].Step(m)
		}
	}
	return committed
}

// The baseline bounds its raft logs as an etcd member does: every
// bareSnapshotCount committed entries it compacts each MemoryStorage to
// bareCatchUp entries behind the last (etcd v3.6's defaults, SnapshotCount
// 10,000 and SnapshotCatchUpEntries 5,000). An unbounded log would charge
// the baseline for scanning a log twenty times longer than any world's.
const bareSnapshotCount, bareCatchUp = 10000, 5000

// compact compacts every node's log to bareCatchUp entries behind its last.
func (c *bareCluster) compact() {
	for _, s := range c.store {
		if last, _ := s.LastIndex(); last > bareCatchUp {
			_ = s.Compact(last - bareCatchUp)
		}
	}
}

// BenchmarkBareRaft measures one committed proposal through three bare
// RawNodes, with a heartbeat tick every ten proposals (100 proposals per
// second against 100 ms ticks).
func BenchmarkBareRaft(b *testing.B) { benchBare(b, 3) }

// BenchmarkBareRaft1, 5 and 7 are BenchmarkBareRaft with 1, 5 and 7 nodes,
// the baselines of worlds of those sizes.
func BenchmarkBareRaft1(b *testing.B) { benchBare(b, 1) }
func BenchmarkBareRaft5(b *testing.B) { benchBare(b, 5) }
func BenchmarkBareRaft7(b *testing.B) { benchBare(b, 7) }

func benchBare(b *testing.B, n int) {
	c := newBareCluster(n)
	data := []byte("put k07 v123456")
	sent := c.sent
	committed := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%10 == 0 {
			for _, rn := range c.nodes {
				rn.Tick()
			}
		}
		_ = c.nodes[0].Propose(data)
		committed += c.settle()
		if i%bareSnapshotCount == bareSnapshotCount-1 {
			c.compact()
		}
	}
	b.StopTimer()
	if committed != b.N {
		b.Fatalf("committed %d of %d", committed, b.N)
	}
	b.ReportMetric(float64(c.sent-sent)/float64(b.N), "msgs/commit")
}
