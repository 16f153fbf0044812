package invariants

import (
	"encoding/binary"
	"strings"
	"testing"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
	"github.com/etcdsim/etcdsim/nodes/wal"
)

// Requests as clients propose them; each builder gives a fresh Request so
// that two members never share bytes by accident.

func put(id uint64, k, v string) *nodes.Request {
	return &nodes.Request{ID: id, Kind: nodes.KindPut, Key: []byte(k), Value: []byte(v)}
}

func del(id uint64, k string) *nodes.Request {
	return &nodes.Request{ID: id, Kind: nodes.KindDeleteRange, Key: []byte(k)}
}

func compact(id uint64, rev int64) *nodes.Request {
	return &nodes.Request{ID: id, Kind: nodes.KindCompact, Rev: rev}
}

// authReq is an auth mutation: role-add, user-add, grants.
func authReq(id uint64, kind nodes.Kind, name, role, key string) *nodes.Request {
	r := &nodes.Request{ID: id, Kind: kind, Name: name, Role: role, Password: "pw"}
	if key != "" {
		r.Key = []byte(key)
	}
	return r
}

// authLog is a history that gives user u read access to key a.
func authLog() []*raftpb.Entry {
	return history(2, nil,
		authReq(1, nodes.KindRoleAdd, "", "r", ""),
		authReq(2, nodes.KindRoleGrantPermission, "", "r", "a"),
		authReq(3, nodes.KindUserAdd, "u", "", ""),
		authReq(4, nodes.KindUserGrantRole, "u", "r", ""),
		put(5, "a", "1"))
}

// leaseLog grants lease 7 and puts a key under it.
func leaseLog() []*raftpb.Entry {
	return history(2, nil, put(1, "a", "1"),
		&nodes.Request{ID: 2, Kind: nodes.KindLeaseGrant, Lease: 7, TTL: 10},
		&nodes.Request{ID: 3, Kind: nodes.KindPut, Key: []byte("b"), Value: []byte("1"), Lease: 7})
}

// casPut is a txn that puts k=v only if k is at version ver.
func casPut(id uint64, k string, ver int64, v string) *nodes.Request {
	return &nodes.Request{ID: id, Kind: nodes.KindTxn, Txn: mvcc.TxnRequest{
		Compares: []mvcc.Compare{{Key: []byte(k), Target: mvcc.CompareVersion, Result: mvcc.CompareEqual, Version: ver}},
		Success:  []mvcc.Op{{Type: mvcc.OpPut, Key: []byte(k), Value: []byte(v)}},
		Failure:  []mvcc.Op{{Type: mvcc.OpRange, Key: []byte(k)}},
	}}
}

// entry returns a normal raft entry carrying req (none: the empty entry a
// new leader appends).
func entry(term, index uint64, req *nodes.Request) *raftpb.Entry {
	e := &raftpb.Entry{Term: new(term), Index: new(index), Type: raftpb.EntryNormal.Enum()}
	if req != nil {
		e.Data = req.Encode()
	}
	return e
}

// history returns entries 1..len(reqs) of one term.
func history(term uint64, reqs ...*nodes.Request) []*raftpb.Entry {
	ents := make([]*raftpb.Entry, len(reqs))
	for i, r := range reqs {
		ents[i] = entry(term, uint64(i+1), r)
	}
	return ents
}

// std is the standard history: a leader's empty entry, then puts, a
// delete, a compaction and a put after it.
//
//	index 1  (empty)          rev 1
//	index 2  put a=1          rev 2
//	index 3  put b=1          rev 3
//	index 4  put a=2          rev 4
//	index 5  delete b         rev 5
//	index 6  compact 4        rev 5, compact 4
//	index 7  put c=1          rev 6
func std() []*raftpb.Entry {
	return history(2, nil, put(1, "a", "1"), put(2, "b", "1"), put(3, "a", "2"), del(4, "b"), compact(5, 4), put(6, "c", "1"))
}

// fakeMember is a member reduced to what View reads: raft fields the test
// sets, a stable log, and a state machine driven by the same pure apply a
// member runs (nodes.State over a backend.Mem), with etcd's
// consistent-index rules.
type fakeMember struct {
	id               uint64
	term, vote, lead uint64
	leader           bool
	commit, applied  uint64
	ci, ciTerm       uint64
	state            *nodes.State
	mem              *backend.Mem
	job              *mvcc.CompactionJob   // a compaction still deleting revisions
	holdCompaction   bool                  // leave compaction jobs for the test to step
	stable           []*raftpb.Entry       // the durable log: stable[i-1] is index i
	rev              *int64                // a revision the member reports instead of its state's
	kvHash           *uint64               // a KV hash the member reports instead of its state's
	deny             map[uint64]nodes.Code // entries the member refuses, as under a stale auth view
	snapIndex        uint64                // the raft log is compacted into a durable snapshot up to here
	durable          *wal.Durable          // what its WAL holds synced (nil: term, vote and stable log)
	snapDB           uint64                // the consistent index of a snapshot database opened at its start
}

var _ View = (*fakeMember)(nil)

func newMember(id uint64) *fakeMember {
	return &fakeMember{id: id, term: 2, state: nodes.NewState(nodes.Bugs{}), mem: backend.NewMem()}
}

func (f *fakeMember) ID() uint64 { return f.id }
func (f *fakeMember) RaftStatus() (term, vote, lead uint64, leader bool, commit uint64) {
	return f.term, f.vote, f.lead, f.leader, f.commit
}
func (f *fakeMember) Applied() uint64         { return f.applied }
func (f *fakeMember) ConsistentIndex() uint64 { return f.ci }
func (f *fakeMember) Rev() int64 {
	if f.rev != nil {
		return *f.rev
	}
	return f.state.KV.Rev()
}
func (f *fakeMember) CompactRev() int64 { return f.state.KV.CompactRev() }
func (f *fakeMember) KVHash() uint64 {
	if f.kvHash != nil {
		return *f.kvHash
	}
	return f.state.KV.KVHash()
}
func (f *fakeMember) Backend() *backend.Mem { return f.mem }
func (f *fakeMember) Compacting() bool      { return f.job != nil && !f.job.Done() }
func (f *fakeMember) DurableTerm(i uint64) (uint64, bool) {
	if i != 0 && i <= f.snapIndex {
		return 0, true // compacted into the snapshot, as nodes.Member reports it
	}
	if i == 0 || i > uint64(len(f.stable)) {
		return 0, false
	}
	return f.stable[i-1].GetTerm(), true
}
func (f *fakeMember) AuthRevision() uint64  { return f.state.Auth.Revision() }
func (f *fakeMember) AuthCacheHash() uint64 { return f.state.Auth.CacheHash() }
func (f *fakeMember) AuthRebuiltCacheHash() uint64 {
	return f.state.Auth.RebuiltCacheHash(f.mem)
}
func (f *fakeMember) LeaseHash() uint64                      { return f.state.Lease.Hash() }
func (f *fakeMember) SnapshotDBIndex() uint64                { return f.snapDB }
func (f *fakeMember) SnapshotIndex() uint64                  { return f.snapIndex }
func (f *fakeMember) DurableLastIndex() uint64               { return max(uint64(len(f.stable)), f.snapIndex) }
func (f *fakeMember) AuthCacheDiff(tx backend.ReadTx) string { return f.state.Auth.CacheDiff(tx) }
func (f *fakeMember) WALDurable() wal.Durable {
	if f.durable != nil {
		return *f.durable
	}
	return wal.Durable{Term: f.term, Vote: f.vote, Last: f.DurableLastIndex()}
}

// persist appends entries to the stable log (a WAL fsync), replacing a
// conflicting suffix as raft does; the log continues after a snapshot.
func (f *fakeMember) persist(ents ...*raftpb.Entry) {
	for _, e := range ents {
		for uint64(len(f.stable)) < e.GetIndex()-1 && uint64(len(f.stable)) < f.snapIndex {
			f.stable = append(f.stable, nil) // inside the snapshot
		}
		f.stable = append(f.stable[:e.GetIndex()-1], e)
	}
}

// execute runs the request of e over the member's state, as the apply's
// backend lock does, without touching the consistent index.
func (f *fakeMember) execute(e *raftpb.Entry) *nodes.Outcome {
	if len(e.Data) == 0 {
		return nil
	}
	req, err := nodes.DecodeRequest(e.Data)
	if err != nil {
		panic(err)
	}
	res, job := f.state.Apply(f.mem, req)
	if job != nil {
		f.job = job
		if !f.holdCompaction {
			job.Run(f.mem)
		}
	}
	out := nodes.OutcomeOf(req.Kind, &res)
	return &out
}

// apply applies one committed entry as the member's apply loop: an entry
// at or below the consistent index is skipped; otherwise its effects and
// the consistent index advance together.
func (f *fakeMember) apply(e *raftpb.Entry) *nodes.Outcome {
	f.applied = e.GetIndex()
	if e.GetIndex() <= f.ci {
		return nil
	}
	if code, ok := f.deny[e.GetIndex()]; ok {
		// Refused, and still applied: the consistent index advances.
		req, err := nodes.DecodeRequest(e.Data)
		if err != nil {
			panic(err)
		}
		f.ci, f.ciTerm = e.GetIndex(), e.GetTerm()
		res := nodes.Result{Code: code, Rev: f.state.KV.Rev()}
		out := nodes.OutcomeOf(req.Kind, &res)
		return &out
	}
	out := f.execute(e)
	f.ci, f.ciTerm = e.GetIndex(), e.GetTerm()
	return out
}

// hook writes the consistent index and its term into the backend, as the
// pre-commit hook does on every commit.
func (f *fakeMember) hook() {
	f.mem.Put(mvcc.MetaBucket, []byte(nodes.KeyCI), be64(f.ci))
	f.mem.Put(mvcc.MetaBucket, []byte(nodes.KeyTerm), be64(f.ciTerm))
}

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// image is the crash image of the last durable commit.
func (f *fakeMember) image() *backend.Mem { return f.mem.Clone() }

// run is the correct pipeline of a member for entries it learns are
// committed: WAL fsync, commit, each apply reported, the per-step check,
// and one durable backend commit.
func (f *fakeMember) run(c *Checker, ents ...*raftpb.Entry) {
	f.persist(ents...)
	f.commitAndApply(c, ents...)
	f.durableCommit(c)
}

// commitAndApply hands committed entries to the checker and applies them.
func (f *fakeMember) commitAndApply(c *Checker, ents ...*raftpb.Entry) {
	if n := len(ents); n > 0 && ents[n-1].GetIndex() > f.commit {
		f.commit = ents[n-1].GetIndex()
	}
	c.Committed(f, ents)
	for _, e := range ents {
		out := f.apply(e)
		c.Applied(f, e.GetIndex(), out)
	}
	c.Step(f)
}

// durableCommit runs the hook and reports the commit as durable.
func (f *fakeMember) durableCommit(c *Checker) {
	f.hook()
	c.DurableCommit(f)
}

// restart returns member id started from a crash image and a stable log,
// as nodes.Start does: state restored from the backend (an interrupted
// compaction resumed), consistent index read from meta.
func restart(t *testing.T, id uint64, img *backend.Mem, stable []*raftpb.Entry, term, vote uint64) *fakeMember {
	t.Helper()
	return restartWith(t, nodes.Bugs{}, id, img, stable, term, vote)
}

// restartWith is restart with the restore of the given bug modes.
func restartWith(t *testing.T, bugs nodes.Bugs, id uint64, img *backend.Mem, stable []*raftpb.Entry, term, vote uint64) *fakeMember {
	t.Helper()
	st, job, err := nodes.RestoreState(img, bugs)
	if err != nil {
		t.Fatalf("restore m%d: %v", id, err)
	}
	return &fakeMember{
		id: id, term: term, vote: vote, state: st, mem: img, job: job,
		ci: nodes.MetaUint(img, nodes.KeyCI), ciTerm: nodes.MetaUint(img, nodes.KeyTerm),
		stable: append([]*raftpb.Entry(nil), stable...),
	}
}

// expect asserts the checker's verdict: quiet when name is "", otherwise
// exactly that violation, with every evidence fragment in its detail.
func expect(t *testing.T, c *Checker, name string, evidence ...string) {
	t.Helper()
	v := c.Violation()
	if name == "" {
		if v != nil {
			t.Fatalf("want no violation, got %v", v)
		}
		return
	}
	if v == nil {
		t.Fatalf("want %s, got no violation", name)
	}
	if string(v.Name) != name {
		t.Fatalf("want %s, got %v", name, v)
	}
	for _, s := range evidence {
		if !strings.Contains(v.Detail, s) {
			t.Errorf("%s evidence %q does not mention %q", name, v.Detail, s)
		}
	}
}

// checkCase is one row of a check's table: a history fed to a fresh
// checker of voters members, and the expected verdict.
type checkCase struct {
	name     string
	voters   int // 0: 3
	feed     func(t *testing.T, c *Checker)
	want     string   // "" for quiet
	evidence []string // fragments the detail must hold
}

func runCases(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			voters := tc.voters
			if voters == 0 {
				voters = 3
			}
			c := NewChecker(voters)
			tc.feed(t, c)
			expect(t, c, tc.want, tc.evidence...)
		})
	}
}
