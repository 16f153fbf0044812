package linearizable

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// etcd's robustness tests persist each client's requests as
// client-N/operations.json under a report directory: one JSON object per
// line, porcupine's Operation with etcd's model.EtcdRequest as Input and
// model.MaybeEtcdResponse as Output (tests/robustness/report/client.go and
// tests/robustness/model/types.go in etcd). The types below read the
// fields this checker uses; docs/check-format.md says what is left out.

type etcdOperation struct {
	ClientId int //nolint:revive // etcd's field name
	Input    etcdRequest
	Call     int64
	Output   etcdResponse
	Return   int64
}

type etcdRequest struct {
	Type  string
	Range *struct {
		etcdRange
		Revision int64
	}
	Txn *struct {
		Conditions []struct {
			Key              string
			ExpectedRevision int64
			ExpectedVersion  int64
		}
		OperationsOnSuccess []etcdOp
		OperationsOnFailure []etcdOp
	}
}

type etcdRange struct {
	Start, End string
	Limit      int64
	KeysOnly   bool
}

type etcdOp struct {
	Type  string
	Range etcdRange
	Put   struct {
		Key     string
		Value   etcdValue
		LeaseID int64
	}
	Delete struct{ Key string }
}

// etcdValue is etcd's ValueOrHash: a response records a value of 20
// bytes or more as its 32-bit FNV-1a hash (a txn's put may carry it
// whole), so such values are compared by their hashes.
type etcdValue struct {
	Value string
	Hash  uint32
}

func (v etcdValue) bytes() []byte {
	if len(v.Value) >= 20 {
		h := fnv.New32a()
		h.Write([]byte(v.Value))
		v.Hash, v.Value = h.Sum32(), ""
	}
	if v.Hash != 0 && v.Value == "" {
		return fmt.Appendf(nil, "\x00fnv32a:%08x", v.Hash)
	}
	return []byte(v.Value)
}

type etcdKV struct {
	Key         string
	Value       etcdValue
	ModRevision int64
	Version     int64
}

type etcdResponse struct {
	Txn *struct {
		Failure bool
		Results []struct {
			KVs     []etcdKV
			Count   int64
			Deleted int64
		}
	}
	Range *struct {
		KVs   []etcdKV
		Count int64
	}
	Revision          int64
	Error             string
	ClientError       string
	Persisted         bool
	PersistedRevision int64
}

// ReadEtcdReport reads the client reports that etcd's robustness tests
// persist: path is a report directory holding client-*/operations.json,
// or one operations.json file. Requests are numbered in file order.
func ReadEtcdReport(path string) ([]Op, error) {
	files := []string{path}
	if st, err := os.Stat(path); err != nil {
		return nil, &InputError{Path: path, Msg: err.Error()}
	} else if st.IsDir() {
		files, _ = filepath.Glob(filepath.Join(path, "client-*", "operations.json"))
		if len(files) == 0 {
			return nil, &InputError{Path: path, Msg: "no client-*/operations.json in this directory"}
		}
	}
	var ops []Op
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, &InputError{Path: name, Msg: err.Error()}
		}
		ops, err = readEtcdOperations(f, name, ops)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return ops, nil
}

// IsEtcdReport reports whether the first request of a history file is in
// the format of etcd's client reports (it has an "Input").
func IsEtcdReport(first []byte) bool {
	var probe struct{ Input json.RawMessage }
	return json.Unmarshal(first, &probe) == nil && probe.Input != nil
}

// readEtcdOperations appends the operations of one file to ops.
func readEtcdOperations(r io.Reader, name string, ops []Op) ([]Op, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e etcdOperation
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, &InputError{name, n, "not an etcd operation: " + err.Error()}
		}
		op, err := e.op(uint64(len(ops) + 1))
		if err != nil {
			return nil, &InputError{name, n, err.Error()}
		}
		ops = append(ops, op)
	}
	if err := sc.Err(); err != nil {
		return nil, &InputError{Path: name, Msg: err.Error()}
	}
	return ops, nil
}

// op converts an etcd operation. A write whose reply was an error (or
// that etcd's patching marked persisted) has an unknown outcome; a
// revision of 0 or less (etcd's -1 for a defragmentation) is none.
func (e *etcdOperation) op(id uint64) (Op, error) {
	req, err := e.Input.request()
	if err != nil {
		return Op{}, err
	}
	req.ID = id
	o := Op{ClientID: e.ClientId, Call: e.Call, Return: e.Return, Req: req}
	out := &e.Output
	switch {
	case out.Error != "" || out.Persisted:
		o.Return, o.Result.Code = math.MaxInt64, nodes.ErrStopped
		if req.Kind == nodes.KindRange || req.Kind == nodes.KindTxn && isRead(req.Txn) {
			o.Result.Code = nodes.ErrUnavailable // a read that failed shows nothing
		}
	case out.ClientError != "":
		o.Result.Code = nodes.ErrBadRequest // a compaction refused
	default:
		o.Result = out.result(req)
		o.NoRev = out.Revision <= 0
	}
	if o.Return < o.Call {
		return Op{}, fmt.Errorf("Return %d is before Call %d", o.Return, o.Call)
	}
	return o, nil
}

func isRead(t mvcc.TxnRequest) bool {
	return !slices.ContainsFunc(slices.Concat(t.Success, t.Failure), func(op mvcc.Op) bool { return op.Type != mvcc.OpRange })
}

// request converts etcd's request; a txn of one put or delete and no
// condition, as etcd's client records a plain put or delete, becomes one.
func (r *etcdRequest) request() (*nodes.Request, error) {
	switch r.Type {
	case "range":
		if r.Range == nil {
			return nil, fmt.Errorf(`a "range" request without Range`)
		}
		op := r.Range.etcdRange.op()
		op.Range.Rev = r.Range.Revision
		if op.Range.Limit != 0 || op.Range.KeysOnly {
			return &nodes.Request{Kind: nodes.KindTxn, Txn: mvcc.TxnRequest{Success: []mvcc.Op{op}}}, nil
		}
		return &nodes.Request{Kind: nodes.KindRange, Key: op.Key, End: op.End, Rev: r.Range.Revision}, nil
	case "txn":
		return r.txn()
	case "leaseGrant":
		return &nodes.Request{Kind: nodes.KindLeaseGrant}, nil
	case "leaseRevoke":
		return &nodes.Request{Kind: nodes.KindLeaseRevoke}, nil
	case "defragment":
		return &nodes.Request{Kind: nodes.KindDefrag}, nil
	case "compact":
		return &nodes.Request{Kind: nodes.KindCompact}, nil
	}
	return nil, fmt.Errorf("unknown request Type %q (range, txn, leaseGrant, leaseRevoke, defragment, compact)", r.Type)
}

func (r *etcdRequest) txn() (*nodes.Request, error) {
	if r.Txn == nil {
		return nil, fmt.Errorf(`a "txn" request without Txn`)
	}
	var t mvcc.TxnRequest
	for _, c := range r.Txn.Conditions {
		mc := mvcc.Compare{Key: []byte(c.Key), Target: mvcc.CompareMod, ModRevision: c.ExpectedRevision}
		if c.ExpectedVersion > 0 { // as etcd's model reads a condition
			mc = mvcc.Compare{Key: []byte(c.Key), Target: mvcc.CompareVersion, Version: c.ExpectedVersion}
		}
		t.Compares = append(t.Compares, mc)
	}
	for _, br := range []struct {
		src []etcdOp
		dst *[]mvcc.Op
	}{{r.Txn.OperationsOnSuccess, &t.Success}, {r.Txn.OperationsOnFailure, &t.Failure}} {
		for _, op := range br.src {
			mop, err := op.op()
			if err != nil {
				return nil, err
			}
			*br.dst = append(*br.dst, mop)
		}
	}
	if len(t.Compares) == 0 && len(t.Failure) == 0 && len(t.Success) == 1 {
		switch op := t.Success[0]; op.Type {
		case mvcc.OpPut:
			return &nodes.Request{Kind: nodes.KindPut, Key: op.Key, Value: op.Value, Lease: op.Lease}, nil
		case mvcc.OpDeleteRange:
			return &nodes.Request{Kind: nodes.KindDeleteRange, Key: op.Key}, nil
		}
	}
	return &nodes.Request{Kind: nodes.KindTxn, Txn: t}, nil
}

func (o *etcdOp) op() (mvcc.Op, error) {
	switch o.Type {
	case "range-operation":
		return o.Range.op(), nil
	case "put-operation":
		return mvcc.Op{Type: mvcc.OpPut, Key: []byte(o.Put.Key), Value: o.Put.Value.bytes(), Lease: o.Put.LeaseID}, nil
	case "delete-operation":
		return mvcc.Op{Type: mvcc.OpDeleteRange, Key: []byte(o.Delete.Key)}, nil
	}
	return mvcc.Op{}, fmt.Errorf("unknown operation Type %q", o.Type)
}

// op is a range over [Start, End), or the key Start when End is empty.
func (r *etcdRange) op() mvcc.Op {
	op := mvcc.Op{Type: mvcc.OpRange, Key: []byte(r.Start), Range: mvcc.RangeOptions{Limit: r.Limit, KeysOnly: r.KeysOnly}}
	if r.End != "" {
		op.End = []byte(r.End)
	}
	return op
}

// result converts the reply to req: a txn's deletions summed, and the
// key-values of its branch's last range, as nodes.Result carries them.
func (r *etcdResponse) result(req *nodes.Request) nodes.Result {
	res := nodes.Result{Rev: max(r.Revision, 0)}
	kvs := func(src []etcdKV) []mvcc.KeyValue {
		out := make([]mvcc.KeyValue, len(src))
		for i, kv := range src {
			out[i] = mvcc.KeyValue{Key: []byte(kv.Key), Value: kv.Value.bytes(), ModRevision: kv.ModRevision, Version: kv.Version}
		}
		return out
	}
	switch {
	case r.Range != nil:
		res.KVs, res.Count, res.Succeeded = kvs(r.Range.KVs), r.Range.Count, true
	case r.Txn != nil:
		res.Succeeded = !r.Txn.Failure
		for _, op := range r.Txn.Results {
			res.Deleted += op.Deleted
		}
		branch := req.Txn.Success
		if !res.Succeeded {
			branch = req.Txn.Failure
		}
		if i := lastRange(branch); i >= 0 && i < len(r.Txn.Results) {
			res.KVs, res.Count = kvs(r.Txn.Results[i].KVs), r.Txn.Results[i].Count
		}
	}
	return res
}
