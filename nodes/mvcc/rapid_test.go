package mvcc

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// model is the obviously correct MVCC store: a copy of the live view per
// revision.
type model struct {
	views   []map[string]KeyValue // views[r]: the live view at revision r
	compact int64
}

func newModel() *model {
	return &model{views: []map[string]KeyValue{nil, {}}, compact: -1}
}

func (m *model) rev() int64 { return int64(len(m.views) - 1) }

// keysIn returns the keys of view in the range, sorted.
func keysIn(view map[string]KeyValue, key, end []byte) []string {
	var ks []string
	for k := range view {
		if InRangeString(k, key, end) {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

// rangeView serves a range at a revision as a txn at curRev whose own
// view is work.
func (m *model) rangeView(work map[string]KeyValue, key, end []byte, curRev int64, o RangeOptions) (RangeResult, error) {
	view := work
	switch {
	case o.Rev > curRev:
		return RangeResult{}, ErrFutureRev
	case o.Rev > 0 && o.Rev < m.compact:
		return RangeResult{}, ErrCompacted
	case o.Rev > 0 && o.Rev != curRev:
		view = m.views[o.Rev]
	}
	rr := RangeResult{Rev: curRev}
	for _, k := range keysIn(view, key, end) {
		rr.Count++
		if o.CountOnly || (o.Limit > 0 && int64(len(rr.KVs)) >= o.Limit) {
			continue
		}
		kv := view[k]
		if o.KeysOnly {
			kv.Value, kv.Lease = nil, 0
		}
		rr.KVs = append(rr.KVs, kv)
	}
	return rr, nil
}

// mtxn is a write transaction on the model.
type mtxn struct {
	m       *model
	work    map[string]KeyValue
	rev     int64
	changed bool
}

func (m *model) begin() *mtxn {
	return &mtxn{m: m, work: maps.Clone(m.views[m.rev()]), rev: m.rev() + 1}
}

func (x *mtxn) readRev() int64 {
	if x.changed {
		return x.rev
	}
	return x.rev - 1
}

func (x *mtxn) put(k, v []byte, lease int64) {
	kv := KeyValue{Key: k, CreateRevision: x.rev, ModRevision: x.rev, Version: 1, Value: v, Lease: lease}
	if old, ok := x.work[string(k)]; ok {
		kv.CreateRevision, kv.Version = old.CreateRevision, old.Version+1
	}
	x.work[string(k)] = kv
	x.changed = true
}

func (x *mtxn) del(key, end []byte) (n int64, prev []KeyValue) {
	for _, k := range keysIn(x.work, key, end) {
		prev = append(prev, x.work[k])
		delete(x.work, k)
		n++
		x.changed = true
	}
	return n, prev
}

func (x *mtxn) end() int64 {
	if x.changed {
		x.m.views = append(x.m.views, x.work)
	}
	return x.m.rev()
}

func (m *model) compare(c *Compare) bool {
	cur := m.views[m.rev()]
	ks := keysIn(cur, c.Key, c.RangeEnd)
	if len(ks) == 0 {
		return c.Target != CompareValue && compareKV(c, &KeyValue{})
	}
	for _, k := range ks {
		kv := cur[k]
		if !compareKV(c, &kv) {
			return false
		}
	}
	return true
}

// duplicateKey is the model's etcd checkIntervals: in one branch, a key
// put twice or put and deleted.
func duplicateKey(ops []Op) bool {
	puts := map[string]int{}
	for _, op := range ops {
		if op.Type == OpPut {
			puts[string(op.Key)]++
		}
	}
	for k, n := range puts {
		if n > 1 {
			return true
		}
		for _, op := range ops {
			if op.Type == OpDeleteRange && InRangeString(k, op.Key, op.End) {
				return true
			}
		}
	}
	return false
}

func (m *model) txn(req TxnRequest) (TxnResponse, error) {
	if duplicateKey(req.Success) || duplicateKey(req.Failure) {
		return TxnResponse{}, ErrDuplicateKey
	}
	ok := true
	for i := range req.Compares {
		ok = ok && m.compare(&req.Compares[i])
	}
	ops := req.Failure
	if ok {
		ops = req.Success
	}
	for _, op := range ops {
		if op.Type == OpRange && op.Range.Rev != 0 {
			if _, err := m.rangeView(nil, nil, nil, m.rev(), op.Range); err != nil {
				return TxnResponse{}, err
			}
		}
	}
	x := m.begin()
	resp := TxnResponse{Succeeded: ok, Responses: make([]OpResponse, len(ops))}
	for i, op := range ops {
		r := &resp.Responses[i]
		r.Type = op.Type
		switch op.Type {
		case OpRange:
			r.Range, _ = m.rangeView(x.work, op.Key, op.End, x.readRev(), op.Range)
			r.Rev = r.Range.Rev
		case OpPut:
			old, found := x.work[string(op.Key)]
			if found && op.PrevKV {
				r.PrevKVs = []KeyValue{old}
			}
			if old.Lease != op.Lease {
				resp.LeaseMoves = append(resp.LeaseMoves, LeaseMove{Key: op.Key, Old: old.Lease, New: op.Lease})
			}
			x.put(op.Key, op.Value, op.Lease)
			r.Rev = x.rev
		case OpDeleteRange:
			var prev []KeyValue
			r.Deleted, prev = x.del(op.Key, op.End)
			if op.PrevKV {
				r.PrevKVs = prev
			}
			for _, kv := range prev {
				if kv.Lease != 0 {
					resp.LeaseMoves = append(resp.LeaseMoves, LeaseMove{Key: kv.Key, Old: kv.Lease})
				}
			}
			r.Rev = x.readRev()
		}
	}
	resp.Rev = x.end()
	return resp, nil
}

// machine applies the same operations to the model and to two stores:
// one compacts in one go, the other in batches of drawn sizes, restarting
// from its backend (Restore) at drawn points.
type machine struct {
	opts Options
	one  *env
	cut  *env
	jobs []*CompactionJob // cut's unfinished compactions, oldest first
	m    *model
}

var (
	genKey   = rapid.SampledFrom([]string{"a", "ab", "b", "c", "d"})
	genEnd   = rapid.SampledFrom([]string{"", "", "\x00", "b", "c", "e"})
	genValue = rapid.SampledFrom([]string{"", "1", "2", "xyz"})
)

func sameErr(a, b error) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && errors.Is(a, b))
}

func (s *machine) drawRev(t *rapid.T, label string) int64 {
	return rapid.Int64Range(max(s.m.compact-1, 0), s.m.rev()+1).Draw(t, label)
}

func (s *machine) drawOp(t *rapid.T) Op {
	op := Op{Type: OpType(rapid.IntRange(1, 3).Draw(t, "op")), Key: []byte(genKey.Draw(t, "key"))}
	switch op.Type {
	case OpPut:
		op.Value = []byte(genValue.Draw(t, "value"))
		op.Lease = rapid.Int64Range(0, 2).Draw(t, "lease")
		op.PrevKV = rapid.Bool().Draw(t, "prev")
	case OpDeleteRange:
		op.End = bs(genEnd.Draw(t, "end"))
		op.PrevKV = rapid.Bool().Draw(t, "prev")
	case OpRange:
		op.End = bs(genEnd.Draw(t, "end"))
		op.Range = s.drawRangeOptions(t)
	}
	return op
}

func (s *machine) drawRangeOptions(t *rapid.T) RangeOptions {
	o := RangeOptions{Limit: rapid.Int64Range(0, 2).Draw(t, "limit")}
	if rapid.Bool().Draw(t, "atRev") {
		o.Rev = s.drawRev(t, "rev")
	}
	o.CountOnly = rapid.IntRange(0, 5).Draw(t, "countOnly") == 0
	o.KeysOnly = rapid.IntRange(0, 5).Draw(t, "keysOnly") == 0
	return o
}

func (s *machine) drawCompare(t *rapid.T) Compare {
	c := Compare{
		Key:      []byte(genKey.Draw(t, "ckey")),
		RangeEnd: bs(genEnd.Draw(t, "cend")),
		Target:   CompareTarget(rapid.IntRange(0, 4).Draw(t, "target")),
		Result:   CompareResult(rapid.IntRange(0, 3).Draw(t, "result")),
		Value:    []byte(genValue.Draw(t, "cvalue")),
	}
	n := rapid.Int64Range(0, s.m.rev()+1).Draw(t, "operand")
	c.Version, c.CreateRevision, c.ModRevision, c.Lease = n, n, n, n%3
	return c
}

func (s *machine) put(t *rapid.T) {
	k, v := []byte(genKey.Draw(t, "key")), []byte(genValue.Draw(t, "value"))
	lease := rapid.Int64Range(0, 2).Draw(t, "lease")
	x := s.m.begin()
	x.put(k, v, lease)
	want := x.end()
	for _, e := range []*env{s.one, s.cut} {
		if got := e.s.Put(e.m, k, v, lease); got != want {
			t.Fatalf("put rev %d, model %d", got, want)
		}
	}
}

func (s *machine) deleteRange(t *rapid.T) {
	k, end := []byte(genKey.Draw(t, "key")), bs(genEnd.Draw(t, "end"))
	x := s.m.begin()
	n, _ := x.del(k, end)
	rev := x.end()
	for _, e := range []*env{s.one, s.cut} {
		if gn, grev := e.s.DeleteRange(e.m, k, end); gn != n || grev != rev {
			t.Fatalf("delete got %d@%d, model %d@%d", gn, grev, n, rev)
		}
	}
}

func (s *machine) txn(t *rapid.T) {
	var req TxnRequest
	for range rapid.IntRange(0, 2).Draw(t, "compares") {
		req.Compares = append(req.Compares, s.drawCompare(t))
	}
	for range rapid.IntRange(0, 3).Draw(t, "success") {
		req.Success = append(req.Success, s.drawOp(t))
	}
	for range rapid.IntRange(0, 2).Draw(t, "failure") {
		req.Failure = append(req.Failure, s.drawOp(t))
	}
	want, werr := s.m.txn(req)
	for _, e := range []*env{s.one, s.cut} {
		got, err := e.s.Txn(e.m, req)
		if !sameErr(err, werr) || fmtTxn(got) != fmtTxn(want) {
			t.Fatalf("txn got %s %v\nmodel   %s %v", fmtTxn(got), err, fmtTxn(want), werr)
		}
	}
}

func (s *machine) rangeKeys(t *rapid.T) {
	k, end := []byte(genKey.Draw(t, "key")), bs(genEnd.Draw(t, "end"))
	o := s.drawRangeOptions(t)
	want, werr := s.m.rangeView(s.m.views[s.m.rev()], k, end, s.m.rev(), o)
	for _, e := range []*env{s.one, s.cut} {
		got, err := e.s.Range(k, end, o)
		if !sameErr(err, werr) || fmtRange(got) != fmtRange(want) {
			t.Fatalf("range %+v got %s %v\nmodel %s %v", o, fmtRange(got), err, fmtRange(want), werr)
		}
	}
}

func (s *machine) compact(t *rapid.T) {
	rev := s.drawRev(t, "compact")
	var werr error
	switch {
	case rev <= s.m.compact:
		werr = ErrCompacted
	case rev > s.m.rev():
		werr = ErrFutureRev
	default:
		s.m.compact = rev
	}
	if err := s.one.compactAll(rev); !sameErr(err, werr) {
		t.Fatalf("compact %d: %v, model %v", rev, err, werr)
	}
	j, err := s.cut.s.Compact(s.cut.m, rev)
	if !sameErr(err, werr) {
		t.Fatalf("compact %d in steps: %v, model %v", rev, err, werr)
	}
	if err == nil {
		s.jobs = append(s.jobs, j)
	}
}

func (s *machine) step(t *rapid.T) {
	if len(s.jobs) == 0 {
		t.Skip("no compaction running")
	}
	if s.jobs[0].Step(s.cut.m, rapid.IntRange(1, 4).Draw(t, "batch")) {
		s.jobs = s.jobs[1:]
	}
}

func (s *machine) restart(t *rapid.T) {
	st, job, err := Restore(s.cut.m, RestoreOptions{Options: s.opts})
	if err != nil {
		t.Fatal(err)
	}
	s.cut.s, s.jobs = st, nil
	if job != nil {
		s.jobs = append(s.jobs, job)
	}
}

// check compares both stores, and a store restored from each backend,
// with the model: revisions, hashes, and the whole keyspace at every
// readable revision.
func (s *machine) check(t *rapid.T) {
	want := state{rev: s.m.rev(), compact: s.m.compact, hash: s.one.s.KVHash()}
	for rev := max(s.m.compact, 1); rev <= s.m.rev(); rev++ {
		rr, _ := s.m.rangeView(s.m.views[rev], []byte{}, []byte{0}, s.m.rev(), RangeOptions{Rev: rev})
		want.ranges += "@" + itoa(rev) + " " + fmtRange(rr) + "\n"
	}
	for _, e := range []*env{s.one, s.cut} {
		restored, _, err := Restore(e.m, RestoreOptions{Options: s.opts})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range []*Store{e.s, restored} {
			if got := snapshot(st); got != want {
				t.Fatalf("store %+v\nmodel %+v", got, want)
			}
		}
	}
	s.checkHashByRev(t)
	if len(s.jobs) == 0 {
		for _, b := range []string{KeyBucket, MetaBucket} {
			if !bytes.Equal(bucketBytes(s.one, b), bucketBytes(s.cut, b)) {
				t.Fatalf("bucket %s differs after compaction", b)
			}
		}
	}
}

// checkHashByRev: a compaction in batches hashes as one in one go, except
// when nothing is kept, where etcd's hasher stops filtering compacted
// records.
func (s *machine) checkHashByRev(t *rapid.T) {
	for _, rev := range []int64{0, s.m.compact, s.m.rev() - 1} {
		ha, ca, ea := s.one.s.HashByRev(s.one.m, rev)
		hb, cb, eb := s.cut.s.HashByRev(s.cut.m, rev)
		if !sameErr(ea, eb) || ca != cb {
			t.Fatalf("HashByRev(%d): %v %d vs %v %d", rev, ea, ca, eb, cb)
		}
		at := rev
		if at <= 0 {
			at = s.m.rev()
		}
		if ea == nil && ha != hb && (len(s.jobs) == 0 || len(s.one.s.index.keep(at)) > 0) {
			t.Fatalf("HashByRev(%d): %x vs %x", rev, ha, hb)
		}
	}
}

func bucketBytes(e *env, bucket string) []byte {
	var b []byte
	e.m.Range(bucket, nil, nil, func(k, v []byte) bool {
		b = append(append(append(b, k...), '='), v...)
		b = append(b, '\n')
		return true
	})
	return b
}

func itoa(n int64) string { return string(appendInt(nil, n)) }

func appendInt(b []byte, n int64) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// TestStoresAgreeWithModel: random writes, txns, ranges, compactions (in
// one go or in batches) and restarts keep both stores equal to the model,
// and Restore of either backend reproduces Rev, CompactRev, KVHash and
// every readable revision.
func TestStoresAgreeWithModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts := Options{DropCompactedTombstone: rapid.Bool().Draw(t, "dropTombstone")}
		s := &machine{opts: opts, one: newEnv(t, opts), cut: newEnv(t, opts), m: newModel()}
		t.Repeat(map[string]func(*rapid.T){
			"put":     s.put,
			"delete":  s.deleteRange,
			"txn":     s.txn,
			"range":   s.rangeKeys,
			"compact": s.compact,
			"step":    s.step,
			"restart": s.restart,
			"":        s.check,
		})
	})
}
