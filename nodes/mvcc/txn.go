package mvcc

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// CompareTarget is the field a Compare looks at (etcd's Compare_CompareTarget).
type CompareTarget uint8

// Compare targets, in etcd's order.
const (
	CompareVersion CompareTarget = iota
	CompareCreate
	CompareMod
	CompareValue
	CompareLease
)

// CompareResult is the relation a Compare asks for (etcd's Compare_CompareResult).
type CompareResult uint8

// Compare results, in etcd's order.
const (
	CompareEqual CompareResult = iota
	CompareGreater
	CompareLess
	CompareNotEqual
)

// Compare is one guard of a Txn: field Target of every key in the range
// (see Range; an empty RangeEnd is the single Key) stands in relation Result
// to the operand of that target.
type Compare struct {
	Key, RangeEnd []byte
	Target        CompareTarget
	Result        CompareResult
	// The operand, by Target; the others are ignored.
	Version, CreateRevision, ModRevision, Lease int64
	Value                                       []byte
}

// OpType is the kind of a Txn operation.
type OpType uint8

// Operation kinds.
const (
	OpRange OpType = iota + 1
	OpPut
	OpDeleteRange
)

// Op is one operation of a Txn branch.
type Op struct {
	Type     OpType
	Key, End []byte // End: the range end of OpRange and OpDeleteRange
	Value    []byte // OpPut
	Lease    int64  // OpPut
	// PrevKV asks OpPut and OpDeleteRange for the versions they replace.
	PrevKV bool
	Range  RangeOptions // OpRange
}

// OpResponse is the result of one Op.
type OpResponse struct {
	Type    OpType
	Rev     int64       // revision in this op's response header, as etcd fills it
	Range   RangeResult // OpRange
	Deleted int64       // OpDeleteRange
	PrevKVs []KeyValue  // OpPut and OpDeleteRange with PrevKV
}

// TxnRequest is etcd's TxnRequest without nested transactions.
type TxnRequest struct {
	Compares         []Compare
	Success, Failure []Op
}

// TxnResponse is the result of a Txn.
type TxnResponse struct {
	Succeeded bool
	Responses []OpResponse // one per op of the branch taken
	Rev       int64        // store revision after the txn
	// LeaseMoves are the keys whose lease the txn's writes changed, in
	// the order it wrote them: what the lessor must detach and attach.
	LeaseMoves []LeaseMove
}

// TxnSucceeds reports whether every compare of req holds now, that is
// whether Txn would run Success. A member uses it to validate the branch
// (leases of its puts) before calling Txn, as etcd's checkTxn.
func (s *Store) TxnSucceeds(req TxnRequest) bool {
	for i := range req.Compares {
		if !s.compare(&req.Compares[i]) {
			return false
		}
	}
	return true
}

// ErrDuplicateKey is the error of a txn branch that puts a key twice, or
// puts a key that it also deletes (etcd's rpctypes.ErrGRPCDuplicateKey).
var ErrDuplicateKey = errors.New("mvcc: duplicate key given in txn request")

// ValidateTxn checks a txn as etcd's API layer does before proposing it
// (v3rpc checkIntervals): no branch may put a key twice, or put a key that
// one of its deletes covers; etcd's key index cannot compact a key deleted
// and created again under one revision. Unlike etcd, whose interval check
// sees the from-key end "\x00" as an empty interval, a from-key delete covers
// every key from its start.
func ValidateTxn(req TxnRequest) error {
	if err := validateBranch(req.Success); err != nil {
		return err
	}
	return validateBranch(req.Failure)
}

func validateBranch(ops []Op) error {
	for i := range ops {
		if ops[i].Type != OpPut {
			continue
		}
		k := ops[i].Key
		for j := range ops {
			o := &ops[j]
			if (o.Type == OpPut && j > i && bytes.Equal(o.Key, k)) ||
				(o.Type == OpDeleteRange && InRange(k, o.Key, o.End)) {
				return ErrDuplicateKey
			}
		}
	}
	return nil
}

// InRange reports whether k is in the range of key and end, with etcd's
// range semantics (see Range).
func InRange(k, key, end []byte) bool {
	switch {
	case len(end) == 0:
		return bytes.Equal(k, key)
	case len(end) == 1 && end[0] == 0:
		return bytes.Compare(k, key) >= 0
	}
	return bytes.Compare(k, key) >= 0 && bytes.Compare(k, end) < 0
}

// InRangeString is InRange for a key held as a string, without copying
// it to bytes (the linearizability check projects histories by string
// keys; TestInRangeMatchesMVCC holds the two together).
func InRangeString(k string, key, end []byte) bool {
	switch {
	case len(end) == 0:
		return k == string(key)
	case len(end) == 1 && end[0] == 0:
		return k >= string(key)
	}
	return k >= string(key) && k < string(end)
}

// Txn runs etcd's transaction: it fails with ErrDuplicateKey if ValidateTxn
// does; the compares choose Success or Failure; Range ops are validated
// before anything is written (ErrCompacted, ErrFutureRev; etcd's
// checkTxn); then the branch runs with all its writes under one main
// revision, each Range reading the txn's earlier writes.
func (s *Store) Txn(tx backend.Tx, req TxnRequest) (TxnResponse, error) {
	if err := ValidateTxn(req); err != nil {
		return TxnResponse{}, err
	}
	var resp TxnResponse
	if err := s.txn(tx, req, s.TxnSucceeds(req), nil, &resp); err != nil {
		return TxnResponse{}, err
	}
	return resp, nil
}

// TxnScratch is Txn for an apply, which has already evaluated the compares
// (TxnSucceeds, with no write since: succeeded is what it returned), as
// etcd's apply chooses the path once (compareToPath) and then checks and
// runs it. The response is read before the store's next TxnScratch or
// PutScratch: it, its Responses and its LeaseMoves live in the store, and
// the next call overwrites them (an apply reads them at once, and the
// allocations were one per applied write).
func (s *Store) TxnScratch(tx backend.Tx, req TxnRequest, succeeded bool) (*TxnResponse, error) {
	if err := ValidateTxn(req); err != nil {
		return nil, err
	}
	clear(s.moves)
	s.resp = TxnResponse{LeaseMoves: s.moves[:0]}
	if err := s.txn(tx, req, succeeded, &s.resps, &s.resp); err != nil {
		return nil, err
	}
	s.moves = s.resp.LeaseMoves
	return &s.resp, nil
}

// txn runs the branch that ok chooses into resp; with buf, the responses
// go into *buf, reused; the lease moves are appended to resp.LeaseMoves.
func (s *Store) txn(tx backend.Tx, req TxnRequest, ok bool, buf *[]OpResponse, resp *TxnResponse) error {
	ops := req.Failure
	if ok {
		ops = req.Success
	}
	for i := range ops {
		if err := s.checkRange(&ops[i]); err != nil {
			return err
		}
	}
	w := s.beginWrite(tx)
	w.moves = &resp.LeaseMoves
	resp.Succeeded = ok
	if buf == nil {
		resp.Responses = make([]OpResponse, len(ops))
	} else {
		clear(*buf)
		*buf = slices.Grow((*buf)[:0], len(ops))[:len(ops)]
		resp.Responses = *buf
	}
	for i := range ops {
		w.apply(&resp.Responses[i], &ops[i])
	}
	resp.Rev = w.end()
	return nil
}

// checkRange fails a Range op whose revision cannot be served (etcd's
// txn checkRange; issue 18667 is about skipping it).
func (s *Store) checkRange(op *Op) error {
	switch rev := op.Range.Rev; {
	case op.Type != OpRange || rev == 0:
		return nil
	case rev > s.currentRev:
		return ErrFutureRev
	case rev < s.compactRev:
		return ErrCompacted
	}
	return nil
}

// apply runs one op inside the write transaction (etcd executeTxn) into
// r, which is zero.
func (w *writer) apply(r *OpResponse, op *Op) {
	r.Type = op.Type
	switch op.Type {
	case OpRange:
		rr, err := w.s.rangeAt(op.Key, op.End, w.readRev(), op.Range)
		if err != nil {
			panic(fmt.Sprintf("mvcc: txn range after check: %v", err)) // etcd panics too
		}
		r.Range, r.Rev = rr, rr.Rev
	case OpPut:
		if op.PrevKV {
			if ki := w.s.index.lookup(op.Key); ki != nil {
				if e, _, _, ok := ki.get(w.readRev()); ok {
					r.PrevKVs = []KeyValue{mustDecode(e.rec)}
				}
			}
		}
		w.put(op.Key, op.Value, op.Lease)
		r.Rev = w.rev
	case OpDeleteRange:
		r.Deleted, r.PrevKVs = w.deleteRange(op.Key, op.End, op.PrevKV)
		r.Rev = w.readRev()
	default:
		panic(fmt.Sprintf("mvcc: unknown txn op type %d", op.Type))
	}
}

// compare evaluates one Compare at the current revision (etcd's
// applyCompare): every key in the range must satisfy it; with no key, a
// Value compare fails and the others compare against zero.
func (s *Store) compare(c *Compare) bool {
	found, holds := false, true
	s.eachKey(c.Key, c.RangeEnd, func(ki *keyIndex) bool {
		e, _, _, ok := ki.get(s.currentRev)
		if !ok {
			return true
		}
		found = true
		kv := mustDecode(e.rec)
		holds = compareKV(c, &kv)
		return holds
	})
	if !found {
		return c.Target != CompareValue && compareKV(c, &KeyValue{})
	}
	return holds
}

func compareKV(c *Compare, kv *KeyValue) bool {
	var r int
	switch c.Target {
	case CompareValue:
		r = bytes.Compare(kv.Value, c.Value)
	case CompareCreate:
		r = cmp.Compare(kv.CreateRevision, c.CreateRevision)
	case CompareMod:
		r = cmp.Compare(kv.ModRevision, c.ModRevision)
	case CompareVersion:
		r = cmp.Compare(kv.Version, c.Version)
	case CompareLease:
		r = cmp.Compare(kv.Lease, c.Lease)
	}
	switch c.Result {
	case CompareEqual:
		return r == 0
	case CompareNotEqual:
		return r != 0
	case CompareGreater:
		return r > 0
	case CompareLess:
		return r < 0
	}
	return true
}
