package sim

import (
	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/auth"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// The rest of etcd's request surface, so that every request kind the
// member applies or serves is sent by some world (TestEveryKindHasAGenerator):
// ranges at a past revision, prefix lists with a limit, keys-only and
// count-only (etcd's RangeRequest options); transactions of up to four
// operations whose compares look at value, version, create and mod
// revision and lease; Kubernetes-style create, update and delete guarded
// by the key's mod revision, as etcd robustness's kubernetes traffic does
// (tests/robustness/traffic/kubernetes.go: OptimisticPut, OptimisticDelete,
// List with a limit); lease time-to-live and lists; authentication; and
// root's user, role and auth-disable churn. It draws from its own stream
// ("workload/more"), one request in moreShare.

// moreShare is one request in this many drawn from this file's shapes:
// enough that every shape is sent in most minutes' runs, few enough that
// the default mix's writes (what the bug modes need) keep their share
// (one in 20 cost ci-before-lock and defrag-no-ci-hook about a point).
const moreShare = 40

// genMore draws one of the further request shapes, or nil (the default mix
// goes on), from the stream "workload/more".
func (w *workload) genMore(c *client, k []byte) *nodes.Request {
	r := w.more
	if c.user == auth.RootUser && w.authOff {
		w.authOff = false // root's next request enables auth again
		return &nodes.Request{Kind: nodes.KindAuthEnable}
	}
	if r.IntN(moreShare) != 0 {
		return nil
	}
	if c.user == auth.RootUser && r.IntN(2) == 0 {
		return w.genAdmin()
	}
	switch p := r.IntN(100); {
	case p < 35:
		return w.genRangeOpts(c, k)
	case p < 60:
		return w.genTxnMulti()
	case p < 85:
		return w.genKube(k)
	case p < 90 && w.opt.leasesOn && len(w.leases) > 0:
		kind := nodes.KindLeaseTimeToLive
		if r.IntN(2) == 0 {
			kind = nodes.KindLeaseLeases
		}
		return &nodes.Request{Kind: kind, Lease: w.leases[r.IntN(len(w.leases))]}
	case p < 95 && c.user != "":
		return &nodes.Request{Kind: nodes.KindAuthenticate, Name: c.user, Password: w.password(c.user)}
	case p >= 95:
		return w.genErrPath(c, k)
	}
	return w.genRangeOpts(c, k)
}

// genRangeOpts draws a range with options: at a past revision (possibly
// compacted), or a prefix list with a limit, keys only or count only.
func (w *workload) genRangeOpts(c *client, k []byte) *nodes.Request {
	r := w.more
	req := &nodes.Request{Kind: nodes.KindRange, Key: k, Serializable: r.IntN(5) == 0}
	switch r.IntN(4) {
	case 0:
		req.Rev = max(1, c.lastRev-int64(r.IntN(50)))
		if r.IntN(10) == 0 {
			req.Rev = c.lastRev + 1 + int64(r.IntN(1000)) // possibly a future revision
		}
	case 1:
		req.Key, req.End, req.Limit = key(0), key(keyspace), int64(1+r.IntN(5))
	case 2:
		req.Key, req.End, req.KeysOnly = key(0), key(keyspace), true
	default:
		req.End, req.CountOnly = key(r.IntN(keyspace)+1), true
	}
	return req
}

// genTxnMulti draws a transaction of one to four operations on distinct
// keys, guarded by one or two compares on value, version, create or mod
// revision, or lease.
func (w *workload) genTxnMulti() *nodes.Request {
	r := w.more
	val := w.value()
	var t mvcc.TxnRequest
	for range 1 + r.IntN(2) {
		t.Compares = append(t.Compares, w.genCompare(key(r.IntN(keyspace))))
	}
	first := r.IntN(keyspace)
	for i := range 1 + r.IntN(4) {
		k := key((first + i) % keyspace)
		t.Success = append(t.Success, w.genOp(k, val))
		t.Failure = append(t.Failure, mvcc.Op{Type: mvcc.OpRange, Key: k})
	}
	return &nodes.Request{Kind: nodes.KindTxn, Txn: t}
}

// genCompare draws one compare on k.
func (w *workload) genCompare(k []byte) mvcc.Compare {
	r := w.more
	c := mvcc.Compare{Key: k, Target: mvcc.CompareTarget(r.IntN(5)), Result: mvcc.CompareResult(r.IntN(4))}
	switch c.Target {
	case mvcc.CompareVersion:
		c.Version = int64(r.IntN(4))
	case mvcc.CompareCreate:
		c.CreateRevision = w.modRev[keyIndex(k)]
	case mvcc.CompareMod:
		c.ModRevision = w.modRev[keyIndex(k)]
	case mvcc.CompareValue:
		c.Value = []byte("v" + itoa(int(w.nextID)-r.IntN(20)))
	case mvcc.CompareLease:
		if len(w.leases) > 0 {
			c.Lease = w.leases[r.IntN(len(w.leases))]
		}
	}
	return c
}

// genOp draws one operation of a transaction on k.
func (w *workload) genOp(k, val []byte) mvcc.Op {
	r := w.more
	switch r.IntN(3) {
	case 0:
		return mvcc.Op{Type: mvcc.OpRange, Key: k}
	case 1:
		return mvcc.Op{Type: mvcc.OpDeleteRange, Key: k}
	}
	op := mvcc.Op{Type: mvcc.OpPut, Key: k, Value: val}
	if w.opt.leasesOn && len(w.leases) > 0 && r.IntN(4) == 0 {
		op.Lease = w.leases[r.IntN(len(w.leases))]
	}
	return op
}

// genKube draws a Kubernetes-style request: a create that only succeeds
// when the key does not exist (mod revision 0), an update or a delete that
// only succeeds when the key's mod revision is the one last seen, each
// reading the key back on failure; or a paginated list.
func (w *workload) genKube(k []byte) *nodes.Request {
	r := w.more
	seen := w.modRev[keyIndex(k)]
	guard := []mvcc.Compare{{Key: k, Target: mvcc.CompareMod, Result: mvcc.CompareEqual, ModRevision: seen}}
	get := []mvcc.Op{{Type: mvcc.OpRange, Key: k}}
	switch r.IntN(4) {
	case 0:
		guard[0].ModRevision = 0
		return &nodes.Request{Kind: nodes.KindTxn, Txn: mvcc.TxnRequest{Compares: guard,
			Success: []mvcc.Op{{Type: mvcc.OpPut, Key: k, Value: w.value()}}, Failure: get}}
	case 1:
		return &nodes.Request{Kind: nodes.KindTxn, Txn: mvcc.TxnRequest{Compares: guard,
			Success: []mvcc.Op{{Type: mvcc.OpPut, Key: k, Value: w.value()}}, Failure: get}}
	case 2:
		return &nodes.Request{Kind: nodes.KindTxn, Txn: mvcc.TxnRequest{Compares: guard,
			Success: []mvcc.Op{{Type: mvcc.OpDeleteRange, Key: k}}, Failure: get}}
	}
	return &nodes.Request{Kind: nodes.KindRange, Key: key(0), End: key(keyspace), Limit: int64(1 + r.IntN(8))}
}

// genAdmin draws one of root's rarer auth changes: a user or a role added
// and deleted again (carol, rc), or, one time in ten, auth disabled (root's
// next request enables it again, so that auth's bug modes keep their
// worlds).
func (w *workload) genAdmin() *nodes.Request {
	switch w.more.IntN(10) {
	case 0, 1, 2:
		return &nodes.Request{Kind: nodes.KindUserAdd, Name: "carol", Password: "c0"}
	case 3, 4:
		return &nodes.Request{Kind: nodes.KindUserDelete, Name: "carol"}
	case 5, 6:
		return &nodes.Request{Kind: nodes.KindRoleAdd, Role: "rc"}
	case 7, 8:
		return &nodes.Request{Kind: nodes.KindRoleDelete, Role: "rc"}
	}
	w.authOff = true
	return &nodes.Request{Kind: nodes.KindAuthDisable}
}

// password is the password the workload last gave user (a client may
// authenticate with a stale one after root changed it: auth-failed).
func (w *workload) password(user string) string {
	if p, ok := w.passwords[user]; ok {
		return p
	}
	return map[string]string{auth.RootUser: "rootpw", "alice": "a0", "bob": "b0"}[user]
}

// learn remembers, from a successful answer, the mod revision of each key
// it shows (a range's key-values, or a put's header revision), for the
// Kubernetes-style guards.
func (w *workload) learn(req *nodes.Request, res *nodes.Result) {
	if res.Code != nodes.OK {
		return
	}
	for i := range res.KVs {
		if kv := &res.KVs[i]; kv.ModRevision > 0 {
			w.modRev[keyIndex(kv.Key)] = kv.ModRevision
		}
	}
	if req.Kind == nodes.KindPut {
		w.modRev[keyIndex(req.Key)] = res.Rev
	}
	if req.Kind == nodes.KindUserChangePassword {
		w.passwords[req.Name] = req.Password
	}
	if req.Kind == nodes.KindLeaseGrant {
		w.lastGrant = grant{id: req.Lease, ttl: req.TTL, at: w.q.Now()}
	}
}

// keyIndex returns i for key(i) (keys are k00..k15); 0 for anything else.
func keyIndex(k []byte) int {
	if len(k) != 3 || k[0] != 'k' {
		return 0
	}
	if i := int(k[1]-'0')*10 + int(k[2]-'0'); i >= 0 && i < keyspace {
		return i
	}
	return 0
}
