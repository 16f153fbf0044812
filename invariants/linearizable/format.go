package linearizable

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// The JSON-lines history format (docs/check-format.md): one request per
// line, in any order; blank lines and lines starting with # are skipped.

// InputError is a history that cannot be read: the file, the line (from
// 1; 0 when the error is not on one line) and what is wrong.
type InputError struct {
	Path string
	Line int
	Msg  string
}

func (e *InputError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("linearizable: %s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("linearizable: %s:%d: %s", e.Path, e.Line, e.Msg)
}

// lineOp is one line of the format.
type lineOp struct {
	Client  *int      `json:"client"`
	Call    *int64    `json:"call"`
	Return  *int64    `json:"return"`
	Error   string    `json:"error"`
	Rev     *int64    `json:"rev"`
	KVs     []lineKV  `json:"kvs"`
	Count   int64     `json:"count"`
	Deleted int64     `json:"deleted"`
	Success *bool     `json:"succeeded"`
	Compare []lineCmp `json:"compare"`
	Then    []lineReq `json:"success"`
	Else    []lineReq `json:"failure"`
	lineReq
}

// lineReq is a request, or an op of a txn's branch.
type lineReq struct {
	Op           string `json:"op"`
	Key          string `json:"key"`
	End          string `json:"end"`
	Value        string `json:"value"`
	Lease        int64  `json:"lease"`
	AtRev        int64  `json:"at_rev"`
	Limit        int64  `json:"limit"`
	KeysOnly     bool   `json:"keys_only"`
	CountOnly    bool   `json:"count_only"`
	Serializable bool   `json:"serializable"`
}

type lineKV struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Create int64  `json:"create"`
	Mod    int64  `json:"mod"`
	Ver    int64  `json:"ver"`
	Lease  int64  `json:"lease"`
}

type lineCmp struct {
	Key    string  `json:"key"`
	End    string  `json:"end"`
	Target string  `json:"target"`
	Result string  `json:"result"`
	Value  *string `json:"value"`
	Num    *int64  `json:"number"`
}

// ReadHistory reads a history in the JSON-lines format from r, named
// path in errors. A request with no "return" has an unknown outcome; one
// with no "rev" carries no revisions (Op.NoRev).
func ReadHistory(r io.Reader, path string) ([]Op, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var ops []Op
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var l lineOp
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, &InputError{path, n, "not a request: " + err.Error()}
		}
		op, err := l.op(len(ops))
		if err != nil {
			return nil, &InputError{path, n, err.Error()}
		}
		ops = append(ops, op)
	}
	if err := sc.Err(); err != nil {
		return nil, &InputError{Path: path, Msg: err.Error()}
	}
	return ops, nil
}

// op converts a line; i is its index, the request's ID.
func (l *lineOp) op(i int) (Op, error) {
	switch {
	case l.Client == nil:
		return Op{}, fmt.Errorf(`no "client"`)
	case l.Call == nil:
		return Op{}, fmt.Errorf(`no "call"`)
	case l.Return != nil && *l.Return < *l.Call:
		return Op{}, fmt.Errorf(`"return" %d is before "call" %d`, *l.Return, *l.Call)
	}
	req, err := l.request()
	if err != nil {
		return Op{}, err
	}
	req.ID = uint64(i + 1)
	o := Op{ClientID: *l.Client, Call: *l.Call, Req: req, Return: math.MaxInt64}
	switch {
	case l.Return == nil:
		o.Unknown = true
	case l.Error != "":
		o.Return, o.Result.Code = *l.Return, parseCode(l.Error)
	default:
		o.Return = *l.Return
		o.Result = l.result()
		o.NoRev = l.Rev == nil
	}
	return o, nil
}

// parseCode returns the code a reply's error names; a name this package
// does not know is ErrStopped, an unknown outcome.
func parseCode(s string) nodes.Code {
	for c := nodes.OK + 1; c <= nodes.ErrUnavailable; c++ {
		if c.String() == s {
			return c
		}
	}
	return nodes.ErrStopped
}

func (l *lineOp) result() nodes.Result {
	res := nodes.Result{Count: l.Count, Deleted: l.Deleted, Succeeded: l.Success == nil || *l.Success}
	if l.Rev != nil {
		res.Rev = *l.Rev
	}
	for _, kv := range l.KVs {
		res.KVs = append(res.KVs, mvcc.KeyValue{Key: []byte(kv.Key), Value: []byte(kv.Value),
			CreateRevision: kv.Create, ModRevision: kv.Mod, Version: kv.Ver, Lease: kv.Lease})
	}
	return res
}

// request converts the line's request.
func (l *lineOp) request() (*nodes.Request, error) {
	if l.Op != "txn" {
		if len(l.Compare)+len(l.Then)+len(l.Else) > 0 {
			return nil, fmt.Errorf(`"compare", "success" and "failure" belong to a txn, not a %q`, l.Op)
		}
		op, err := l.lineReq.mvccOp()
		if err != nil {
			return nil, err
		}
		r := &nodes.Request{Key: op.Key, End: op.End, Value: op.Value, Lease: op.Lease, Serializable: l.Serializable}
		switch op.Type {
		case mvcc.OpPut:
			r.Kind = nodes.KindPut
		case mvcc.OpDeleteRange:
			r.Kind = nodes.KindDeleteRange
		default:
			r.Kind, r.Rev = nodes.KindRange, l.AtRev
			if l.Limit != 0 || l.KeysOnly || l.CountOnly {
				// nodes.Request has no limit or keys-only: a txn of one range does.
				r.Kind, r.Txn = nodes.KindTxn, mvcc.TxnRequest{Success: []mvcc.Op{op}}
			}
		}
		return r, nil
	}
	txn := mvcc.TxnRequest{}
	for _, c := range l.Compare {
		mc, err := c.compare()
		if err != nil {
			return nil, err
		}
		txn.Compares = append(txn.Compares, mc)
	}
	for _, br := range []struct {
		src []lineReq
		dst *[]mvcc.Op
	}{{l.Then, &txn.Success}, {l.Else, &txn.Failure}} {
		for _, r := range br.src {
			op, err := r.mvccOp()
			if err != nil {
				return nil, err
			}
			*br.dst = append(*br.dst, op)
		}
	}
	return &nodes.Request{Kind: nodes.KindTxn, Txn: txn}, nil
}

// mvccOp converts a put, delete or range.
func (r *lineReq) mvccOp() (mvcc.Op, error) {
	op := mvcc.Op{Key: []byte(r.Key)}
	if r.End != "" {
		op.End = []byte(r.End)
	}
	switch r.Op {
	case "put":
		op.Type, op.Value, op.Lease = mvcc.OpPut, []byte(r.Value), r.Lease
	case "delete":
		op.Type = mvcc.OpDeleteRange
	case "range":
		op.Type = mvcc.OpRange
		op.Range = mvcc.RangeOptions{Rev: r.AtRev, Limit: r.Limit, KeysOnly: r.KeysOnly, CountOnly: r.CountOnly}
	case "":
		return op, fmt.Errorf(`no "op"`)
	default:
		return op, fmt.Errorf(`unknown "op" %q (put, delete, range, txn)`, r.Op)
	}
	if op.Type != mvcc.OpPut && (r.Value != "" || r.Lease != 0) {
		return op, fmt.Errorf(`"value" and "lease" belong to a put, not a %q`, r.Op)
	}
	return op, nil
}

var (
	cmpTargets = map[string]mvcc.CompareTarget{"version": mvcc.CompareVersion, "create": mvcc.CompareCreate,
		"mod": mvcc.CompareMod, "value": mvcc.CompareValue, "lease": mvcc.CompareLease}
	cmpResults = map[string]mvcc.CompareResult{"=": mvcc.CompareEqual, "!=": mvcc.CompareNotEqual,
		">": mvcc.CompareGreater, "<": mvcc.CompareLess}
)

// compare converts a txn's compare: "value" compares to a string, the
// other targets to a "number".
func (c *lineCmp) compare() (mvcc.Compare, error) {
	t, ok := cmpTargets[c.Target]
	if !ok {
		return mvcc.Compare{}, fmt.Errorf(`compare: unknown "target" %q (version, create, mod, value, lease)`, c.Target)
	}
	res, ok := cmpResults[c.Result]
	if !ok {
		return mvcc.Compare{}, fmt.Errorf(`compare: unknown "result" %q (=, !=, >, <)`, c.Result)
	}
	mc := mvcc.Compare{Key: []byte(c.Key), Target: t, Result: res}
	if c.End != "" {
		mc.RangeEnd = []byte(c.End)
	}
	switch {
	case t == mvcc.CompareValue && c.Value == nil:
		return mc, fmt.Errorf(`compare: a value compare needs a "value"`)
	case t == mvcc.CompareValue:
		mc.Value = []byte(*c.Value)
		return mc, nil
	case c.Num == nil:
		return mc, fmt.Errorf(`compare: a %s compare needs a "number"`, c.Target)
	}
	switch t {
	case mvcc.CompareVersion:
		mc.Version = *c.Num
	case mvcc.CompareCreate:
		mc.CreateRevision = *c.Num
	case mvcc.CompareMod:
		mc.ModRevision = *c.Num
	default:
		mc.Lease = *c.Num
	}
	return mc, nil
}
