package mvcc

import (
	"fmt"
	"strings"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// fataler is the part of testing.TB and *rapid.T that env uses.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// env is a store over an in-memory backend.
type env struct {
	t fataler
	s *Store
	m *backend.Mem
}

func newEnv(t fataler, opts Options) *env {
	return &env{t: t, s: NewWithOptions(opts), m: backend.NewMem()}
}

func (e *env) put(k, v string) int64 { return e.s.Put(e.m, []byte(k), []byte(v), 0) }

func (e *env) putLease(k, v string, lease int64) int64 {
	return e.s.Put(e.m, []byte(k), []byte(v), lease)
}

func (e *env) del(k, end string) (int64, int64) {
	return e.s.DeleteRange(e.m, []byte(k), bs(end))
}

func (e *env) txn(req TxnRequest) TxnResponse {
	e.t.Helper()
	resp, err := e.s.Txn(e.m, req)
	if err != nil {
		e.t.Fatalf("txn: %v", err)
	}
	return resp
}

// rng returns the formatted range, or "err: ..." on error.
func (e *env) rng(k, end string, o RangeOptions) string {
	rr, err := e.s.Range([]byte(k), bs(end), o)
	if err != nil {
		return "err: " + err.Error()
	}
	return fmtRange(rr)
}

// compactAll compacts at rev and runs the job to the end.
func (e *env) compactAll(rev int64) error {
	j, err := e.s.Compact(e.m, rev)
	if err == nil {
		j.Run(e.m)
	}
	return err
}

// bs turns "" into a nil end (single key).
func bs(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func fmtKV(kv KeyValue) string {
	s := fmt.Sprintf("%s=%s c%d m%d v%d", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision, kv.Version)
	if kv.Lease != 0 {
		s += fmt.Sprintf(" l%d", kv.Lease)
	}
	return s
}

func fmtKVs(kvs []KeyValue) string {
	parts := make([]string, len(kvs))
	for i, kv := range kvs {
		parts[i] = fmtKV(kv)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func fmtRange(rr RangeResult) string {
	return fmt.Sprintf("%s n%d r%d", fmtKVs(rr.KVs), rr.Count, rr.Rev)
}

func opPut(k, v string) Op { return Op{Type: OpPut, Key: []byte(k), Value: []byte(v)} }

func opDel(k, end string) Op { return Op{Type: OpDeleteRange, Key: []byte(k), End: bs(end)} }

func opGet(k, end string, rev int64) Op {
	return Op{Type: OpRange, Key: []byte(k), End: bs(end), Range: RangeOptions{Rev: rev}}
}

// fmtTxn formats a txn response compactly.
func fmtTxn(r TxnResponse) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ok=%v r%d", r.Succeeded, r.Rev)
	for _, o := range r.Responses {
		switch o.Type {
		case OpRange:
			fmt.Fprintf(&b, " | get %s", fmtRange(o.Range))
		case OpPut:
			fmt.Fprintf(&b, " | put r%d", o.Rev)
		case OpDeleteRange:
			fmt.Fprintf(&b, " | del %d r%d", o.Deleted, o.Rev)
		}
		if o.PrevKVs != nil {
			fmt.Fprintf(&b, " prev%s", fmtKVs(o.PrevKVs))
		}
	}
	if len(r.LeaseMoves) > 0 {
		b.WriteString(" | leases")
		for _, mv := range r.LeaseMoves {
			fmt.Fprintf(&b, " %s:%d>%d", mv.Key, mv.Old, mv.New)
		}
	}
	return b.String()
}

// state is what a restored store must reproduce.
type state struct {
	rev, compact int64
	hash         uint64
	ranges       string
}

// snapshot reads the revisions, hash and the whole keyspace at every
// readable revision.
func snapshot(s *Store) state {
	var b strings.Builder
	from := max(s.CompactRev(), 1)
	for rev := from; rev <= s.Rev(); rev++ {
		rr, err := s.Range([]byte{}, []byte{0}, RangeOptions{Rev: rev})
		if err != nil {
			fmt.Fprintf(&b, "@%d %v\n", rev, err)
			continue
		}
		fmt.Fprintf(&b, "@%d %s\n", rev, fmtRange(rr))
	}
	return state{rev: s.Rev(), compact: s.CompactRev(), hash: s.KVHash(), ranges: b.String()}
}

func fmtRev(r revision, tomb bool) string {
	s := fmt.Sprintf("%d.%d", r.main, r.sub)
	if tomb {
		s += "t"
	}
	return s
}

func fmtStrings(s []string) string { return "[" + strings.Join(s, " ") + "]" }
