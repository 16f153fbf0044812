package invariants

import (
	"encoding/binary"
	"fmt"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// Each check has a table of histories: ones that break it, where it must
// fire with its name and evidence naming the member and index, and the
// same shape done right, where it must stay quiet.

func TestElectionSafety(t *testing.T) {
	lead := func(c *Checker, id, term uint64) {
		m := newMember(id)
		m.term, m.leader, m.lead = term, true, id
		c.Step(m)
	}
	runCases(t, []checkCase{
		{name: "two leaders in one term", feed: func(t *testing.T, c *Checker) {
			lead(c, 1, 2)
			lead(c, 2, 2)
		}, want: "election-safety", evidence: []string{"m1 and m2", "term 2"}},
		{name: "deposed leader still leads the new term", feed: func(t *testing.T, c *Checker) {
			lead(c, 1, 2)
			lead(c, 2, 3)
			lead(c, 1, 3)
		}, want: "election-safety", evidence: []string{"m2 and m1", "term 3"}},
		{name: "one leader per term", feed: func(t *testing.T, c *Checker) {
			lead(c, 1, 2)
			lead(c, 2, 3)
			lead(c, 3, 4)
		}},
		{name: "same leader seen twice", feed: func(t *testing.T, c *Checker) {
			lead(c, 1, 2)
			lead(c, 1, 2)
		}},
		{name: "followers in the leader's term", feed: func(t *testing.T, c *Checker) {
			lead(c, 1, 2)
			f := newMember(2)
			f.lead = 1
			c.Step(f)
		}},
	})
}

func TestLogMatching(t *testing.T) {
	// m1 commits entries 1..3 first: they are the agreed log.
	agreed := func(c *Checker) { newMember(1).run(c, std()[:3]...) }
	runCases(t, []checkCase{
		{name: "other term at an index", feed: func(t *testing.T, c *Checker) {
			agreed(c)
			ents := std()[:3]
			ents[2] = entry(3, 3, put(2, "b", "1"))
			c.Committed(newMember(2), ents)
		}, want: "log-matching", evidence: []string{`m2 committed index 3 as request #2 (put "b") in term 3`, "the cluster committed request #2 (put) in term 2 there"}},
		{name: "other bytes at an index", feed: func(t *testing.T, c *Checker) {
			agreed(c)
			c.Committed(newMember(2), []*raftpb.Entry{entry(2, 2, put(1, "a", "1")), entry(2, 3, put(2, "b", "2"))})
		}, want: "log-matching", evidence: []string{`m2 committed index 3 as request #2 (put "b") in term 2`, "but the cluster committed request #2 (put) in term 2 there"}},
		{name: "commit past the agreed end", feed: func(t *testing.T, c *Checker) {
			agreed(c)
			c.Committed(newMember(2), []*raftpb.Entry{std()[4]})
		}, want: "log-matching", evidence: []string{"m2", "index 5", "log end 3"}},
		{name: "same entries, own copies", feed: func(t *testing.T, c *Checker) {
			agreed(c)
			c.Committed(newMember(2), std()[:3])
		}},
		{name: "overlap and extend", feed: func(t *testing.T, c *Checker) {
			agreed(c)
			c.Committed(newMember(2), std()[1:7])
			c.Committed(newMember(3), std()[3:])
		}},
	})
}

func TestHardStateDurable(t *testing.T) {
	hs := func(term, vote uint64) *raftpb.HardState {
		return &raftpb.HardState{Term: new(term), Vote: new(vote), Commit: new(uint64(0))}
	}
	// synced fsyncs m1's HardState, then restarts m1 with term, vote.
	restartAfter := func(synced []*raftpb.HardState, term, vote uint64) func(*testing.T, *Checker) {
		return func(t *testing.T, c *Checker) {
			m := newMember(1)
			for _, h := range synced {
				c.WALSynced(m, h)
			}
			c.Restarted(restart(t, 1, backend.NewMem(), nil, term, vote))
		}
	}
	runCases(t, []checkCase{
		{name: "term goes back", feed: restartAfter([]*raftpb.HardState{hs(3, 2)}, 2, 2),
			want: "hardstate-durable", evidence: []string{"m1", "term=2", "durable term=3 vote=2"}},
		{name: "vote changes in the term", feed: restartAfter([]*raftpb.HardState{hs(3, 2)}, 3, 1),
			want: "hardstate-durable", evidence: []string{"m1", "vote=1", "vote=2"}},
		{name: "vote lost in the term", feed: restartAfter([]*raftpb.HardState{hs(3, 2)}, 3, 0),
			want: "hardstate-durable", evidence: []string{"m1", "term=3 vote=0"}},
		{name: "last fsync counts", feed: restartAfter([]*raftpb.HardState{hs(3, 2), hs(4, 0)}, 3, 2),
			want: "hardstate-durable", evidence: []string{"m1", "durable term=4"}},
		{name: "same term and vote", feed: restartAfter([]*raftpb.HardState{hs(3, 2)}, 3, 2)},
		{name: "later term", feed: restartAfter([]*raftpb.HardState{hs(3, 2)}, 4, 0)},
		{name: "unsynced vote survived", feed: restartAfter([]*raftpb.HardState{hs(3, 0)}, 3, 3)},
		{name: "another member's fsync", feed: func(t *testing.T, c *Checker) {
			c.WALSynced(newMember(2), hs(5, 2))
			c.Restarted(restart(t, 1, backend.NewMem(), nil, 3, 2))
		}},
	})
}

func TestAppliedLeCommitted(t *testing.T) {
	runCases(t, []checkCase{
		{name: "applied past raft commit", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			c.Committed(newMember(2), std()[:4]) // the cluster committed 4; m1 knows 3
			m.apply(std()[3])
			c.Step(m)
		}, want: "applied-le-committed", evidence: []string{"m1", "applied=4", "committed=3"}},
		{name: "applied an index nobody committed", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			e := std()[3]
			c.Applied(m, 4, m.apply(e))
		}, want: "applied-le-committed", evidence: []string{"m1", "index 4"}},
		{name: "applied up to commit", feed: func(t *testing.T, c *Checker) {
			newMember(1).run(c, std()...)
		}},
		{name: "applied behind commit", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			m.commit = 7
			c.Committed(m, std()[3:])
			c.Step(m)
		}},
	})
}

func TestCommitAtomicity(t *testing.T) {
	runCases(t, []checkCase{
		{name: "ci persisted before the effects", feed: func(t *testing.T, c *Checker) {
			// ci-before-lock: the index is set, a periodic commit runs
			// before the apply takes the backend lock.
			m := newMember(1)
			m.run(c, std()[:3]...)
			e := std()[3]
			m.persist(e)
			c.Committed(m, []*raftpb.Entry{e})
			m.ci, m.ciTerm = 4, 2
			m.durableCommit(c)
		}, want: "commit-atomicity", evidence: []string{"m1", "consistent index 4", "key bucket"}},
		{name: "effects persisted without the ci", feed: func(t *testing.T, c *Checker) {
			// auth-ci / defrag-no-ci-hook: effects of 4 in a commit at 3.
			m := newMember(1)
			m.run(c, std()[:3]...)
			e := std()[3]
			m.persist(e)
			c.Committed(m, []*raftpb.Entry{e})
			m.execute(e)
			m.durableCommit(c)
		}, want: "commit-atomicity", evidence: []string{"m1", "consistent index 3", "key bucket"}},
		{name: "compaction marker without the ci", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:5]...)
			e := std()[5]
			m.persist(e)
			c.Committed(m, []*raftpb.Entry{e})
			m.execute(e)
			m.durableCommit(c)
		}, want: "commit-atomicity", evidence: []string{"m1", "consistent index 5", "meta"}},
		{name: "record no entry wrote", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			m.mem.Put("lease", be64(7), []byte("ttl=10"))
			m.durableCommit(c)
		}, want: "commit-atomicity", evidence: []string{"m1's backend at consistent index 3", "lease bucket has lease record 0000000000000007", "which the reference's does not"}},
		{name: "ci beyond the committed log", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.persist(std()...)
			c.Committed(m, std()[:3])
			for _, e := range std() {
				m.apply(e)
			}
			m.durableCommit(c)
		}, want: "commit-atomicity", evidence: []string{"m1", "consistent index 7", "committed log (3)"}},
		{name: "scheduled compaction not reported as compacting", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.holdCompaction = true
			m.run(c, std()[:6]...) // quiet: the force commit of the schedule
			m.job = nil            // the member claims no compaction is running
			m.durableCommit(c)
		}, want: "commit-atomicity", evidence: []string{"m1", "consistent index 6", "key bucket"}},
		{name: "commit after every entry", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			for _, e := range std() {
				m.run(c, e)
			}
		}},
		{name: "one batched commit", feed: func(t *testing.T, c *Checker) {
			newMember(1).run(c, std()...)
		}},
		{name: "first commit of an empty member", feed: func(t *testing.T, c *Checker) {
			newMember(1).durableCommit(c)
		}},
		{name: "compaction batches in progress", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.holdCompaction = true
			m.run(c, std()[:6]...)
			for !m.job.Step(m.mem, 1) {
				m.durableCommit(c) // compactBeforeCommitBatch force commit
			}
			m.job = nil
			m.durableCommit(c) // the last batch rides the next commit
			m.run(c, std()[6])
		}},
	})
}

func TestEqualRevisions(t *testing.T) {
	// replay restarts m1 from img and re-applies the whole log, as a member
	// does after a crash. Restarted is not called, so that the replay's
	// own check is what speaks.
	replay := func(t *testing.T, c *Checker, img *backend.Mem) {
		r := restart(t, 1, img, std(), 2, 0)
		r.commitAndApply(c, std()...)
	}
	runCases(t, []checkCase{
		{name: "replay reaches a ci whose effects are missing", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			m.persist(std()[3])
			m.ci, m.ciTerm = 4, 2 // ci-before-lock image
			m.hook()
			replay(t, c, m.image())
		}, want: "equal-revisions", evidence: []string{"m1 at index 4", "revision 3 where the reference has 4", "key bucket lacks revision 4: put \"a\" = \"2\""}},
		{name: "same revision, other value", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			img := m.image()
			k := binary.BigEndian.AppendUint64(append(binary.BigEndian.AppendUint64(nil, 2), '_'), 0)
			v, ok := img.Get(mvcc.KeyBucket, k)
			if !ok {
				t.Fatal("no record at revision 2")
			}
			v = append([]byte(nil), v...)
			v[len(v)-1] = '9' // a=9 instead of a=1
			img.Put(mvcc.KeyBucket, k, v)
			replay(t, c, img)
		}, want: "equal-revisions", evidence: []string{"m1 at index 3", "key bucket has revision 2: put \"a\" = \"9\"", "where the reference's has revision 2: put \"a\" = \"1\""}},
		{name: "compaction markers lost", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:6]...)
			img := m.image()
			img.Delete(mvcc.MetaBucket, []byte(mvcc.ScheduledCompactKey))
			img.Delete(mvcc.MetaBucket, []byte(mvcc.FinishedCompactKey))
			replay(t, c, img)
		}, want: "equal-revisions", evidence: []string{"m1 at index 6", "compact revision -1 where the reference has 4"}},
		{name: "revision alone differs", feed: func(t *testing.T, c *Checker) {
			// A put and a delete of x are lost under a ci of 4: the live
			// keys are the same, the revision is not.
			ents := history(2, nil, put(1, "a", "1"), put(2, "x", "1"), del(3, "x"))
			m := newMember(1)
			m.run(c, ents[:2]...)
			m.persist(ents[2:]...)
			m.ci, m.ciTerm = 4, 2
			m.hook()
			r := restart(t, 1, m.image(), m.stable, 2, 0)
			r.commitAndApply(c, ents...)
		}, want: "equal-revisions", evidence: []string{"m1 at index 4", "revision 2 where the reference has 4", "key bucket lacks revision 3: put \"x\" = \"1\""}},
		{name: "lease grant lost under its ci", feed: func(t *testing.T, c *Checker) {
			ents := leaseLog()
			m := newMember(1)
			m.run(c, ents[:2]...)
			m.persist(ents[2])
			m.ci, m.ciTerm = 3, 2
			m.hook()
			r := restart(t, 1, m.image(), m.stable, 2, 0)
			r.commitAndApply(c, ents...)
		}, want: "equal-revisions", evidence: []string{"m1 at index 3", "lease bucket lacks lease 7 (TTL 10s), which the reference's has"}},
		{name: "two members grant the lease", feed: func(t *testing.T, c *Checker) {
			newMember(1).run(c, leaseLog()...)
			newMember(2).run(c, leaseLog()...)
		}},
		{name: "two members apply in order", feed: func(t *testing.T, c *Checker) {
			newMember(1).run(c, std()...)
			newMember(2).run(c, std()...)
		}},
		{name: "replay below the consistent index", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:5]...)
			replay(t, c, m.image())
		}},
		{name: "replay after a compaction", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:6]...)
			replay(t, c, m.image())
		}},
	})
}

func TestConsistentIndexMonotonic(t *testing.T) {
	runCases(t, []checkCase{
		{name: "commit goes back", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:5]...)
			m.ci, m.ciTerm = 3, 2 // a stale in-memory index reaches the hook
			m.durableCommit(c)
		}, want: "consistent-index-monotonic", evidence: []string{"m1", "consistent index 3 after a durable 5"}},
		{name: "restart from an older image", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			old := m.image()
			m.run(c, std()[3:5]...)
			c.Restarted(restart(t, 1, old, m.stable, 2, 0))
		}, want: "consistent-index-monotonic", evidence: []string{"m1", "consistent index 3 after a durable 5"}},
		{name: "ci past the durable wal", feed: func(t *testing.T, c *Checker) {
			// ack-before-wal-sync: applied and committed before the fsync.
			m := newMember(1)
			m.persist(std()[:3]...)
			m.commitAndApply(c, std()[:5]...)
			m.durableCommit(c)
		}, want: "consistent-index-monotonic", evidence: []string{"m1", "consistent index 5", "last index 3"}},
		{name: "commits advance", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			m.run(c, std()[3:]...)
		}},
		{name: "commits keep the index", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			m.durableCommit(c)
			m.durableCommit(c)
		}},
		{name: "restart from the latest image", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:5]...)
			c.Restarted(restart(t, 1, m.image(), m.stable, 2, 0))
		}},
		{name: "a snapshot database leads the wal across restarts", feed: func(t *testing.T, c *Checker) {
			// The leader's database came at its applied index 5 with a raft
			// snapshot at 3; the member restarts twice before raft sends it 4
			// and 5, the second time in a life that did not open the database.
			m := newMember(1)
			m.run(c, std()[:5]...)
			img := m.image()
			r := restart(t, 1, img, std()[:3], 2, 0)
			r.snapDB = 5
			c.Restarted(r)
			c.Restarted(restart(t, 1, img, std()[:3], 2, 0))
		}},
		{name: "past the wal and past any snapshot database", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:5]...)
			img := m.image()
			r := restart(t, 1, img, std()[:3], 2, 0)
			r.snapDB = 4
			c.Restarted(r)
		}, want: "consistent-index-monotonic", evidence: []string{"m1 restarted with consistent index 5", "last index 3"}},
		{name: "ci at the durable wal end", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.persist(std()[:5]...)
			m.commitAndApply(c, std()[:5]...)
			m.durableCommit(c)
		}},
	})
}

func TestApplyDeterminism(t *testing.T) {
	log := func() []*raftpb.Entry {
		return history(2, nil, put(1, "a", "1"), casPut(2, "a", 1, "2"), put(3, "b", "1"))
	}
	runCases(t, []checkCase{
		{name: "member rejects what others apply", feed: func(t *testing.T, c *Checker) {
			// lease-revoke-no-auth, perm-cache-stale: m2 refuses entry 3.
			newMember(1).run(c, log()...)
			m := newMember(2)
			m.deny = map[uint64]nodes.Code{3: nodes.ErrPermission}
			m.run(c, log()...)
		}, want: "apply-determinism", evidence: []string{"m2 applied index 3 (txn #2)", "returned permission-denied where the reference's apply returned ok"}},
		{name: "refusal of an entry everyone refuses", feed: func(t *testing.T, c *Checker) {
			// the compaction of a future revision fails on every member alike
			ents := history(2, nil, put(1, "a", "1"), compact(2, 9))
			newMember(1).run(c, ents...)
			m := newMember(2)
			m.deny = map[uint64]nodes.Code{3: nodes.ErrFutureRev}
			m.run(c, history(2, nil, put(1, "a", "1"), compact(2, 9))...)
		}},
		{name: "same code and revision, other response", feed: func(t *testing.T, c *Checker) {
			newMember(1).run(c, log()...)
			m := newMember(2)
			ents := log()
			m.persist(ents...)
			m.commit = 4
			c.Committed(m, ents)
			for _, e := range ents {
				out := m.apply(e)
				if e.GetIndex() == 3 {
					out.Digest = (&nodes.Result{Rev: out.Rev}).Digest() // txn reported as failed
				}
				c.Applied(m, e.GetIndex(), out)
			}
		}, want: "apply-determinism", evidence: []string{"m2 applied index 3 (txn #2)", "other key-values than the reference's"}},
		{name: "members get the same outcomes", feed: func(t *testing.T, c *Checker) {
			newMember(1).run(c, log()...)
			newMember(2).run(c, log()...)
			newMember(3).run(c, log()...)
		}},
		{name: "skipped entries report no outcome", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, log()...)
			r := restart(t, 1, m.image(), m.stable, 2, 0)
			r.commitAndApply(c, log()...)
		}},
	})
}

// compactionCrash is issue 17780: put a, delete a, compact at the
// tombstone's revision with etcd's compaction before v3.5.16, which drops
// that tombstone; m1 crashes after the batches that emptied the key bucket
// and before the one that writes finishedCompactRev, and restarts with the
// restore of bugs.
func compactionCrash(bugs nodes.Bugs) func(*testing.T, *Checker) {
	return func(t *testing.T, c *Checker) {
		regress := nodes.Bugs{CompactionRevRegress: true} // the compaction's semantics
		c.Ref = NewReferenceFor(regress)
		m := newMember(1)
		m.state = nodes.NewState(regress)
		m.holdCompaction = true
		m.run(c, history(2, nil, put(1, "a", "1"), del(2, "a"), compact(3, 3))...)
		for !m.job.Step(m.mem, 1) {
			m.durableCommit(c)
			if m.mem.Len(mvcc.KeyBucket) == 0 {
				break
			}
		}
		if m.mem.Len(mvcc.KeyBucket) != 0 {
			t.Fatal("the compaction kept records")
		}
		c.Restarted(restartWith(t, bugs, 1, m.image(), m.stable, 2, 0))
	}
}

func TestRestartClean(t *testing.T) {
	badKey := []byte{0, 0, 0, 0, 0, 0, 0, 3} // a key-bucket key without the sub revision
	runCases(t, []checkCase{
		{name: "restore fails on a corrupt image", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			img := m.image()
			img.Put(mvcc.KeyBucket, badKey, []byte("x"))
			_, _, err := nodes.RestoreState(img, nodes.Bugs{})
			if err == nil {
				t.Fatal("restore of a corrupt key bucket succeeded")
			}
			c.RestartFailed(1, fmt.Errorf("%w: %v", nodes.ErrBoot, err))
		}, want: "restart-clean", evidence: []string{"m1", "cannot restart", "bad revision key"}},
		{name: "image holds a ci without its effects", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			m.persist(std()[3])
			c.Committed(newMember(2), std()[:4])
			m.ci, m.ciTerm = 4, 2
			m.hook() // not reported: the crash came before the commit's sync
			c.Restarted(restart(t, 1, m.image(), m.stable, 2, 0))
		}, want: "restart-clean", evidence: []string{"m1", "consistent index 4", "key bucket"}},
		{name: "image holds effects past its ci", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			m.persist(std()[3])
			c.Committed(newMember(2), std()[:4])
			m.execute(std()[3])
			m.hook()
			c.Restarted(restart(t, 1, m.image(), m.stable, 2, 0))
		}, want: "restart-clean", evidence: []string{"m1", "consistent index 3", "key bucket"}},
		{name: "restored hash wrong over a right backend", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:5]...)
			r := restart(t, 1, m.image(), m.stable, 2, 0)
			r.kvHash = new(uint64(0x5eed)) // a restore that rebuilt the index wrong
			c.Restarted(r)
		}, want: "restart-clean", evidence: []string{"m1 restarted at consistent index 5", "live key-values that differ from the reference's over the same key bucket (hash 5eed vs"}},
		{name: "compaction-rev-regress: revision goes back", feed: compactionCrash(nodes.Bugs{CompactionRevRegress: true}),
			want: "restart-clean", evidence: []string{"m1 restarted at consistent index 4", "revision 1 where the reference has 3", "compact revision -1 where the reference has 3"}},
		{name: "compaction crash restored with the clamp", feed: compactionCrash(nodes.Bugs{})},
		{name: "restore succeeds on the same image", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, std()[:3]...)
			c.Restarted(restart(t, 1, m.image(), m.stable, 2, 0))
		}},
		{name: "restart from an empty disk", feed: func(t *testing.T, c *Checker) {
			newMember(2).run(c, std()...)
			c.Restarted(restart(t, 1, backend.NewMem(), nil, 2, 0))
		}},
		{name: "restart in the middle of a compaction", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.holdCompaction = true
			m.run(c, std()[:6]...)
			m.job.Step(m.mem, 1)
			m.durableCommit(c)
			r := restart(t, 1, m.image(), m.stable, 2, 0)
			if !r.Compacting() {
				t.Fatal("restore did not resume the compaction")
			}
			c.Restarted(r)
			r.commitAndApply(c, std()...)
		}},
	})
}

func TestAuthRevisionAgreement(t *testing.T) {
	runCases(t, []checkCase{
		{name: "replay reaches a ci whose auth effects are missing", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, authLog()[:2]...)
			m.persist(authLog()[2:5]...)
			m.ci, m.ciTerm = 5, 2 // the index without the auth mutations 3..5
			m.hook()
			r := restart(t, 1, m.image(), m.stable, 2, 0)
			r.commitAndApply(c, authLog()...)
		}, want: "auth-revision-agreement", evidence: []string{"m1", "index 5", "auth revision"}},
		{name: "perm-cache-stale: cache not rebuilt at restart", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, authLog()...)
			c.Restarted(restartWith(t, nodes.Bugs{PermCacheStale: true}, 1, m.image(), m.stable, 2, 0))
		}, want: "auth-revision-agreement", evidence: []string{"m1", "permission cache"}},
		{name: "two members apply the auth history", feed: func(t *testing.T, c *Checker) {
			newMember(1).run(c, authLog()...)
			newMember(2).run(c, authLog()...)
		}},
		{name: "cache rebuilt at restart", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			m.run(c, authLog()...)
			r := restart(t, 1, m.image(), m.stable, 2, 0)
			c.Restarted(r)
			r.commitAndApply(c, authLog()...)
		}},
	})
}

func TestAckedDurable(t *testing.T) {
	// ack replies to the write at index 4 (term 2) of m1, with the stable
	// logs of the members as given: nil is a member never started.
	ack := func(stable ...[]*raftpb.Entry) func(*testing.T, *Checker) {
		return func(t *testing.T, c *Checker) {
			views := make([]View, len(stable))
			var leader *fakeMember
			for i, s := range stable {
				if s == nil {
					continue
				}
				m := newMember(uint64(i + 1))
				m.persist(s...)
				views[i] = m
				if i == 0 {
					leader = m
				}
			}
			leader.commitAndApply(c, std()[:4]...)
			c.Acked(leader, nodes.Reply{ID: 3, Result: nodes.Result{Rev: leader.Rev()}, Index: 4, Term: 2}, views)
		}
	}
	// A later leader (term 3) overwrote index 4 on m2 and m3.
	overwritten := append(std()[:3], entry(3, 4, put(9, "z", "1")))
	runCases(t, []checkCase{
		{name: "durable only on the leader", feed: ack(std()[:4], std()[:2], std()[:3]),
			want: "acked-durable", evidence: []string{"m1", "index 4", "1 of 3"}},
		{name: "quorum holds the index at another term", feed: ack(std()[:4], overwritten, overwritten),
			want: "acked-durable", evidence: []string{"m1", "index 4 (term 2)", "1 of 3"}},
		{name: "members never started", feed: ack(std()[:4], nil, nil),
			want: "acked-durable", evidence: []string{"m1", "index 4", "1 of 3"}},
		{name: "lone voter acks before its wal fsync", voters: 1, feed: ack(std()[:3]),
			want: "acked-durable", evidence: []string{"m1", "index 4", "0 of 1"}},
		{name: "durable on a quorum", feed: ack(std()[:4], std()[:4], std()[:2])},
		{name: "durable on every voter", feed: ack(std()[:4], std(), std()[:4])},
		{name: "quorum with one member never started", feed: ack(std()[:4], std()[:4], nil)},
		{name: "lone voter after its wal fsync", voters: 1, feed: ack(std()[:4])},
		{name: "index inside a follower's snapshot", feed: ackSnap(5)},
		{name: "follower's snapshot ends below the index", feed: ackSnap(3),
			want: "acked-durable", evidence: []string{"m1", "index 4", "1 of 3"}},
		{name: "local read", feed: func(t *testing.T, c *Checker) {
			m := newMember(1)
			c.Acked(m, nodes.Reply{ID: 9, Result: nodes.Result{Rev: 1}}, []View{m, nil, nil})
		}},
	})
}

// ackSnap acknowledges index 4 of m1 while m2 holds only a snapshot up to
// snap (its log compacted, as after installing a leader's snapshot) and m3
// nothing.
func ackSnap(snap uint64) func(*testing.T, *Checker) {
	return func(t *testing.T, c *Checker) {
		m1, m2, m3 := newMember(1), newMember(2), newMember(3)
		m1.run(c, std()[:4]...)
		m2.snapIndex = snap
		c.Acked(m1, nodes.Reply{ID: 3, Result: nodes.Result{Rev: m1.Rev()}, Index: 4, Term: 2}, []View{m1, m2, m3})
	}
}

func TestSnapshotInstalled(t *testing.T) {
	// install starts m2 over the leader's database img, with its raft log
	// holding the snapshot at index snap and nothing else.
	install := func(t *testing.T, img *backend.Mem, snap uint64) *fakeMember {
		m := restart(t, 2, img, nil, 2, 0)
		m.snapIndex, m.applied, m.commit = snap, snap, snap
		return m
	}
	runCases(t, []checkCase{
		{name: "database passes the receiver's log", feed: func(t *testing.T, c *Checker) {
			// The leader's database was committed at 7; raft's snapshot is at 5.
			m1 := newMember(1)
			m1.run(c, std()...)
			m2 := install(t, m1.image(), 5)
			c.SnapshotInstalled(m2)
			m2.durableCommit(c)
		}},
		{name: "same commit without the install", feed: func(t *testing.T, c *Checker) {
			m1 := newMember(1)
			m1.run(c, std()...)
			m2 := install(t, m1.image(), 5)
			m2.durableCommit(c)
		}, want: "consistent-index-monotonic", evidence: []string{"m2", "consistent index 7", "last index 5"}},
		{name: "database older than the durable index", feed: func(t *testing.T, c *Checker) {
			m1 := newMember(1)
			m1.run(c, std()[:3]...)
			old := m1.image()
			m1.run(c, std()[3:]...)
			m2 := newMember(2)
			m2.run(c, std()[:5]...)
			c.SnapshotInstalled(install(t, old, 3))
		}, want: "consistent-index-monotonic", evidence: []string{"m2", "consistent index 3 after a durable 5"}},
		{name: "database is not the reference at its index", feed: func(t *testing.T, c *Checker) {
			m1 := newMember(1)
			m1.run(c, std()[:6]...)
			c.Committed(m1, std()[6:])
			m1.ci, m1.ciTerm = 7, 2 // committed for the snapshot before the apply
			m1.hook()
			c.SnapshotInstalled(install(t, m1.image(), 7))
		}, want: "commit-atomicity", evidence: []string{"m2", "consistent index 7", "key bucket"}},
		{name: "database recovered at a restart, then another restart", feed: func(t *testing.T, c *Checker) {
			// m2 crashed after its WAL saved snapshot 5 and before it applied
			// the leader's database (consistent index 7): its boot takes the
			// database (etcd's RecoverSnapshotBackend), and it restarts from
			// that backend again later, its WAL still ending at 5.
			m1 := newMember(1)
			m1.run(c, std()...)
			newMember(2).run(c, std()[:5]...)
			m2 := restart(t, 2, m1.image(), std()[:5], 2, 0)
			m2.snapDB = 7
			c.Restarted(m2)
			c.Restarted(restart(t, 2, m1.image(), std()[:5], 2, 0))
		}},
		{name: "database past the durable index, then new entries", feed: func(t *testing.T, c *Checker) {
			m1 := newMember(1)
			m1.run(c, std()...)
			newMember(2).run(c, std()[:5]...)
			m2 := install(t, m1.image(), 7) // m2's new backend
			c.SnapshotInstalled(m2)
			m2.run(c, entry(2, 8, put(7, "d", "1")))
		}},
	})
}

// call runs f on member id as the world does: a panic is a violation.
func call(c *Checker, id uint64, f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.Panicked(id, r)
		}
	}()
	f()
}

func TestPanic(t *testing.T) {
	// compactStep runs m's compaction over its key bucket; a record whose
	// key is not a revision makes it panic.
	compactStep := func(corrupt bool) func(*testing.T, *Checker) {
		return func(t *testing.T, c *Checker) {
			m := newMember(2)
			m.holdCompaction = true
			m.run(c, std()[:6]...)
			if corrupt {
				m.mem.Put(mvcc.KeyBucket, []byte{0, 0, 0, 0, 0, 0, 0, 3}, []byte("x"))
			}
			call(c, 2, func() { m.job.Run(m.mem) })
		}
	}
	runCases(t, []checkCase{
		{name: "compaction over a corrupt key", feed: compactStep(true),
			want: "panic", evidence: []string{"m2 panicked", "mvcc: compaction at 4"}},
		{name: "compaction over a clean bucket", feed: compactStep(false)},
	})
}

func TestLiveness(t *testing.T) {
	c := NewChecker(3)
	m := newMember(1)
	m.run(c, std()...)
	expect(t, c, "") // a clean run stays quiet until the world reports
	c.Fail("liveness", "m3 applied=41 < commit=57")
	expect(t, c, "liveness")
	if d := c.Violation().Detail; d != "m3 applied=41 < commit=57" {
		t.Errorf("liveness detail %q", d)
	}
	if !Known("liveness") {
		t.Error("liveness is not a known invariant")
	}
}

// TestFirstViolationSticks: a later violation, or the world's liveness
// verdict, never replaces the first.
func TestFirstViolationSticks(t *testing.T) {
	c := NewChecker(3)
	m := newMember(1)
	m.run(c, std()[:5]...)
	m.ci = 3
	m.durableCommit(c)
	c.Panicked(2, "later")
	c.Fail("liveness", "later")
	expect(t, c, "consistent-index-monotonic", "m1")
}

// TestOff: a checker switched off stays quiet on a broken history.
func TestOff(t *testing.T) {
	c := NewChecker(3)
	c.Off = true
	m := newMember(1)
	m.leader = true
	m.run(c, std()[:5]...)
	m.ci = 3
	m.durableCommit(c)
	c.Applied(m, 9, nil)
	c.Acked(m, nodes.Reply{Index: 9, Term: 2}, []View{m})
	n := newMember(2)
	n.leader = true
	c.Step(n)
	expect(t, c, "")
}

// TestNamesKnown: every name a check reports is in Names.
func TestNamesKnown(t *testing.T) {
	for _, n := range []string{"election-safety", "log-matching", "hardstate-durable", "applied-le-committed",
		"commit-atomicity", "equal-revisions", "consistent-index-monotonic", "apply-determinism",
		"auth-revision-agreement", "restart-clean", "acked-durable", "panic", "liveness"} {
		if !Known(n) {
			t.Errorf("%s is not in Names", n)
		}
	}
	if Known("no-such-check") {
		t.Error("an unknown name is known")
	}
}

// TestCleanCluster: three members commit, apply, persist, acknowledge, one
// crashes mid-compaction and restarts; no check fires.
func TestCleanCluster(t *testing.T) {
	c := NewChecker(3)
	ms := []*fakeMember{newMember(1), newMember(2), newMember(3)}
	views := []View{ms[0], ms[1], ms[2]}
	ms[0].leader, ms[0].lead = true, 1
	ms[2].holdCompaction = true
	log := std()
	for i := range log {
		for _, m := range ms {
			m.persist(log[i])
		}
		for _, m := range ms {
			m.commitAndApply(c, log[i])
		}
		if len(log[i].Data) > 0 {
			c.Acked(ms[0], nodes.Reply{ID: uint64(i), Result: nodes.Result{Rev: ms[0].Rev()}, Index: log[i].GetIndex(), Term: 2}, views)
		}
		if i%2 == 1 {
			for _, m := range ms {
				m.durableCommit(c)
			}
		}
	}
	ms[2].job.Step(ms[2].mem, 1)
	ms[2].durableCommit(c)
	c.WALSynced(ms[2], &raftpb.HardState{Term: new(uint64(2)), Vote: new(uint64(1)), Commit: new(uint64(7))})
	r := restart(t, 3, ms[2].image(), ms[2].stable, 2, 1)
	c.Restarted(r)
	r.commitAndApply(c, std()...)
	r.job.Run(r.mem)
	r.job = nil
	r.durableCommit(c)
	expect(t, c, "")
}

// Reference

func TestReferenceAppendRejectsGap(t *testing.T) {
	cases := []struct {
		name  string
		have  int    // entries of std appended first
		index uint64 // the index given next
		ok    bool
	}{
		{"first index", 0, 1, true},
		{"next index", 3, 4, true},
		{"gap at the start", 0, 2, false},
		{"index zero", 0, 0, false},
		{"gap", 3, 5, false},
		{"same index again", 3, 3, false},
		{"earlier index", 3, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReference()
			for _, e := range std()[:tc.have] {
				if err := r.Append(e); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := r.At(uint64(tc.have))
			err := r.Append(entry(2, tc.index, put(8, "x", "y")))
			if tc.ok {
				if err != nil || r.Last() != tc.index {
					t.Fatalf("append %d after %d: err=%v last=%d", tc.index, tc.have, err, r.Last())
				}
				return
			}
			if err == nil {
				t.Fatalf("append %d after %d accepted", tc.index, tc.have)
			}
			if r.Last() != uint64(tc.have) {
				t.Fatalf("a rejected append moved the reference to %d", r.Last())
			}
			if after, _ := r.At(uint64(tc.have)); before != nil && *after != *before {
				t.Fatalf("a rejected append changed record %d", tc.have)
			}
		})
	}
}

func TestReferenceRecords(t *testing.T) {
	r := NewReference()
	ents := append(std()[:2],
		&raftpb.Entry{Term: new(uint64(2)), Index: new(uint64(3)), Type: raftpb.EntryConfChange.Enum(), Data: []byte{0x08, 0x01}},
		&raftpb.Entry{Term: new(uint64(2)), Index: new(uint64(4)), Type: raftpb.EntryNormal.Enum(), Data: []byte{0xff}})
	for _, e := range ents {
		if err := r.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	want := []struct {
		ran bool
		rev int64
	}{{false, 1}, {true, 2}, {false, 2}, {false, 2}}
	for i, w := range want {
		rec, ok := r.At(uint64(i + 1))
		if !ok || rec.Ran != w.ran || rec.Rev != w.rev || rec.Term != 2 {
			t.Errorf("index %d: %+v, want ran=%v rev=%d", i+1, rec, w.ran, w.rev)
		}
	}
	if rec, _ := r.At(2); rec.Out.Kind != nodes.KindPut || rec.Out.Code != nodes.OK || rec.Out.Rev != 2 {
		t.Errorf("put outcome %+v", rec.Out)
	}
	if _, ok := r.At(0); ok {
		t.Error("index 0 has a record")
	}
	if _, ok := r.At(5); ok {
		t.Error("index past the end has a record")
	}
}

func TestReferenceForget(t *testing.T) {
	r := NewReference()
	ents := std()
	for _, e := range ents {
		if err := r.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	last := r.Last()
	r.Forget(2) // fewer than half the records: kept, moving them would cost more
	if r.Kept() != int(last) || r.Forgotten(1) {
		t.Fatalf("after Forget(2) of %d: kept=%d", last, r.Kept())
	}
	upTo := last/2 + 1 // at least half
	want, _ := r.At(upTo + 1)
	kept := *want
	r.Forget(upTo)
	r.Forget(1) // going back is a no-op
	if r.Last() != last || r.Kept() != int(last-upTo) {
		t.Fatalf("after Forget(%d): last=%d kept=%d, want last=%d kept=%d", upTo, r.Last(), r.Kept(), last, last-upTo)
	}
	for i := uint64(0); i <= last+1; i++ {
		_, ok := r.At(i)
		if wantOK, wantForgotten := i > upTo && i <= last, i >= 1 && i <= upTo; ok != wantOK || r.Forgotten(i) != wantForgotten {
			t.Errorf("index %d: At ok=%v Forgotten=%v, want %v %v", i, ok, r.Forgotten(i), wantOK, wantForgotten)
		}
	}
	if got, _ := r.At(upTo + 1); *got != kept {
		t.Errorf("record %d changed: %+v, was %+v", upTo+1, *got, kept)
	}
	if err := r.Append(entry(2, last+1, put(8, "x", "y"))); err != nil || r.Last() != last+1 {
		t.Fatalf("append after Forget: %v, last %d", err, r.Last())
	}
	r.Forget(last + 5) // past the end: everything
	if r.Kept() != 0 || r.Last() != last+1 || !r.Forgotten(last+1) {
		t.Fatalf("Forget past the end: kept=%d last=%d", r.Kept(), r.Last())
	}
	if err := r.Append(entry(2, last+2, put(9, "x", "z"))); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.At(last + 2); !ok {
		t.Error("no record for the index appended after forgetting everything")
	}
}

func TestStateHashExcludes(t *testing.T) {
	meta := func(k string, v []byte) func(m *backend.Mem) {
		return func(m *backend.Mem) { m.Put(mvcc.MetaBucket, []byte(k), v) }
	}
	cases := []struct {
		name       string
		change     func(m *backend.Mem)
		key, other bool // which hash must change
	}{
		{"consistent index", meta(nodes.KeyCI, be64(99)), false, false},
		{"consistent index removed", func(m *backend.Mem) { m.Delete(mvcc.MetaBucket, []byte(nodes.KeyCI)) }, false, false},
		{"term", meta(nodes.KeyTerm, be64(9)), false, false},
		{"finished compaction", meta(mvcc.FinishedCompactKey, []byte("any")), false, false},
		{"scheduled compaction", meta(mvcc.ScheduledCompactKey, []byte("any")), false, true},
		{"other meta key", meta("consistent_index2", be64(7)), false, true},
		{"prefix of an excluded key", meta("consistent_inde", be64(7)), false, true},
		{"excluded name in another bucket", func(m *backend.Mem) { m.Put("auth", []byte(nodes.KeyCI), be64(7)) }, false, true},
		{"another bucket", func(m *backend.Mem) { m.Put("lease", be64(1), []byte("ttl")) }, false, true},
		{"key record removed", func(m *backend.Mem) {
			var first []byte
			m.Range(mvcc.KeyBucket, nil, nil, func(k, _ []byte) bool { first = k; return false })
			m.Delete(mvcc.KeyBucket, first)
		}, true, false},
		{"key record added", func(m *backend.Mem) { m.Put(mvcc.KeyBucket, []byte("k"), []byte("v")) }, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMember(1)
			for _, e := range std() {
				m.apply(e)
			}
			m.hook()
			key0, other0 := StateHash(m.mem)
			mem := m.mem.Clone()
			tc.change(mem)
			key, other := StateHash(mem)
			if (key != key0) != tc.key || (other != other0) != tc.other {
				t.Fatalf("key changed %v (want %v), other changed %v (want %v)", key != key0, tc.key, other != other0, tc.other)
			}
		})
	}
}

func TestReferenceAppliesCompaction(t *testing.T) {
	r := NewReference()
	for _, e := range std()[:6] {
		if err := r.Append(e); err != nil {
			t.Fatal(err)
		}
	}
	rec, _ := r.At(6)
	if rec.CompactRe != 4 || rec.Rev != 5 || !rec.Ran || rec.Out.Code != nodes.OK {
		t.Fatalf("compaction record %+v", rec)
	}
	// Revision 2 (a=1) is gone; 3 (b=1, live at 4), 4 (a=2) and the
	// tombstone at 5 stay.
	if n := r.mem.Len(mvcc.KeyBucket); n != 3 {
		t.Fatalf("key bucket holds %d records after the compaction, want 3", n)
	}
	st, job, err := mvcc.Restore(r.mem, mvcc.RestoreOptions{})
	if err != nil || job != nil || st.FinishedCompactRev() != 4 || st.CompactRev() != 4 {
		t.Fatalf("restore of the reference: job=%v err=%v finished=%d compact=%d", job, err, st.FinishedCompactRev(), st.CompactRev())
	}
	// A member that ran the compaction in batches ends with the reference's
	// key bucket; one whose job has not run does not.
	done, pending := newMember(1), newMember(2)
	pending.holdCompaction = true
	for _, e := range std()[:6] {
		done.apply(e)
		pending.apply(e)
	}
	if key, _ := StateHash(done.mem); key != rec.KeyHash {
		t.Error("a finished compaction differs from the reference's key bucket")
	}
	if key, _ := StateHash(pending.mem); key == rec.KeyHash {
		t.Error("an unrun compaction matches the reference's key bucket")
	}
	for !pending.job.Step(pending.mem, 1) {
	}
	if key, other := StateHash(pending.mem); key != rec.KeyHash || other != rec.Other {
		t.Error("a compaction run in batches differs from the reference")
	}
}
