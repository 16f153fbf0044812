package linearizable

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// describeHop renders a request, its outcome and its interval on one
// line: "c3 put k01=v7 -> rev=12 [1.2s,1.25s]".
func describeHop(h *hop) string {
	if h.prefix {
		return fmt.Sprintf("(the history checked before %s)", time.Duration(h.ret+1))
	}
	end := "?"
	if h.ret != math.MaxInt64 {
		end = time.Duration(h.ret).String()
	}
	return fmt.Sprintf("c%d %s -> %s [%s,%s]", h.client, describeReq(h.req), describeOutcome(h),
		time.Duration(h.call), end)
}

func describeReq(r *nodes.Request) string {
	switch r.Kind {
	case nodes.KindPut:
		return "put " + describePut(r.Key, r.Value, r.Lease)
	case nodes.KindDeleteRange:
		return "delete " + describeRange(r.Key, r.End)
	case nodes.KindRange:
		s := "range " + describeRange(r.Key, r.End)
		if r.Rev != 0 {
			s += fmt.Sprintf("@%d", r.Rev)
		}
		return s
	case nodes.KindTxn:
		cs := make([]string, len(r.Txn.Compares))
		for i := range r.Txn.Compares {
			cs[i] = describeCompare(&r.Txn.Compares[i])
		}
		return fmt.Sprintf("txn {%s} ? {%s} : {%s}", strings.Join(cs, ", "),
			describeOps(r.Txn.Success), describeOps(r.Txn.Failure))
	}
	return r.Kind.String()
}

func describePut(key, value []byte, lease int64) string {
	s := show(key) + "=" + show(value)
	if lease != 0 {
		s += fmt.Sprintf(" lease=%d", lease)
	}
	return s
}

func describeRange(key, end []byte) string {
	switch {
	case len(end) == 0:
		return show(key)
	case len(end) == 1 && end[0] == 0:
		return "[" + show(key) + ",...)"
	}
	return "[" + show(key) + "," + show(end) + ")"
}

var (
	targetNames = [...]string{"ver", "create", "mod", "val", "lease"}
	resultNames = [...]string{"=", ">", "<", "!="}
)

func describeCompare(c *mvcc.Compare) string {
	target, result := "?", "?"
	if int(c.Target) < len(targetNames) {
		target = targetNames[c.Target]
	}
	if int(c.Result) < len(resultNames) {
		result = resultNames[c.Result]
	}
	operand := [...]string{
		strconv.FormatInt(c.Version, 10), strconv.FormatInt(c.CreateRevision, 10),
		strconv.FormatInt(c.ModRevision, 10), show(c.Value), strconv.FormatInt(c.Lease, 10),
	}
	op := "?"
	if int(c.Target) < len(operand) {
		op = operand[c.Target]
	}
	return fmt.Sprintf("%s(%s)%s%s", target, describeRange(c.Key, c.RangeEnd), result, op)
}

func describeOps(ops []mvcc.Op) string {
	s := make([]string, len(ops))
	for i := range ops {
		o := &ops[i]
		switch o.Type {
		case mvcc.OpPut:
			s[i] = "put " + describePut(o.Key, o.Value, o.Lease)
		case mvcc.OpDeleteRange:
			s[i] = "delete " + describeRange(o.Key, o.End)
		default:
			s[i] = "range " + describeRange(o.Key, o.End)
		}
	}
	return strings.Join(s, ", ")
}

// describeOutcome renders what a request returned, as far as the checker
// uses it.
func describeOutcome(h *hop) string {
	if h.eff == effectMaybe {
		return "?"
	}
	var parts []string
	switch {
	case h.req.Kind != nodes.KindTxn:
	case h.res.Succeeded:
		parts = append(parts, "then")
	default:
		parts = append(parts, "else")
	}
	if h.observed {
		return strings.Join(append(parts, fmt.Sprintf("? seen at rev=%d", h.res.Rev)), " ")
	}
	if h.settled {
		parts = append([]string{"? committed:"}, parts...)
	}
	if h.res.Deleted > 0 {
		parts = append(parts, fmt.Sprintf("deleted=%d", h.res.Deleted))
	}
	if lastRange(h.branch()) >= 0 && !h.settled {
		kvs := make([]string, len(h.res.KVs))
		for i := range h.res.KVs {
			kv := &h.res.KVs[i]
			kvs[i] = fmt.Sprintf("%s ver=%d create=%d mod=%d", describePut(kv.Key, kv.Value, kv.Lease),
				kv.Version, kv.CreateRevision, kv.ModRevision)
		}
		parts = append(parts, "["+strings.Join(kvs, ", ")+"]")
	}
	return strings.Join(append(parts, fmt.Sprintf("rev=%d", h.res.Rev)), " ")
}

// describeStates renders the states a key may be in.
func describeStates(set stateSet) string {
	s := make([]string, len(set))
	for i, st := range set {
		if !st.live {
			s[i] = "absent"
			continue
		}
		value := show([]byte(st.value))
		if st.value == unseenValue {
			value = "(a value no one read)"
		}
		s[i] = fmt.Sprintf("%s ver=%d create=%s mod=%s", value, st.version,
			describeSpan(st.create), describeSpan(st.mod))
		if st.lease != 0 {
			s[i] += fmt.Sprintf(" lease=%d", st.lease)
		}
	}
	return "{" + strings.Join(s, " | ") + "}"
}

func describeSpan(s span) string {
	switch {
	case s.lo == s.hi:
		return strconv.FormatInt(s.lo, 10)
	case s.hi == unbounded:
		return fmt.Sprintf(">=%d", s.lo)
	}
	return fmt.Sprintf("%d..%d", s.lo, s.hi)
}

// show renders a key or value as is when it is plain printable text,
// quoted otherwise, so that a description stays on one line.
func show(b []byte) string {
	for _, c := range b {
		if c <= ' ' || c > '~' || c == '"' || c == '=' {
			return strconv.Quote(string(b))
		}
	}
	if len(b) == 0 {
		return `""`
	}
	return string(b)
}
