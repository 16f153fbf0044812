package linearizable

import (
	"cmp"

	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// tri is what a compare may evaluate to in a state whose revisions are
// spans: true, false, or either.
type tri uint8

const (
	canTrue tri = 1 << iota
	canFalse
)

func certain(b bool) tri {
	if b {
		return canTrue
	}
	return canFalse
}

// evalCompares evaluates the conjunction of compares on one key, as etcd's
// applyCompare does for a single key. When revisions are spans the answer
// may be both; it over-approximates (each compare is weighed alone), which
// can only let a history pass, never fail it wrongly.
func evalCompares(s *keyState, cmps []mvcc.Compare) tri {
	t := canTrue
	for i := range cmps {
		c := evalCompare(s, &cmps[i])
		if c&canTrue == 0 {
			t &^= canTrue
		}
		t |= c & canFalse
	}
	return t
}

// evalCompare evaluates one compare. A missing key fails a value compare
// and compares its other fields as zero, which the zero keyState holds.
func evalCompare(s *keyState, c *mvcc.Compare) tri {
	switch c.Target {
	case mvcc.CompareValue:
		if !s.live {
			return canFalse
		}
		return certain(holds(cmp.Compare(s.value, string(c.Value)), c.Result))
	case mvcc.CompareVersion:
		return certain(holds(cmp.Compare(s.version, c.Version), c.Result))
	case mvcc.CompareLease:
		return certain(holds(cmp.Compare(s.lease, c.Lease), c.Result))
	case mvcc.CompareCreate:
		return spanCompare(s.create, c.CreateRevision, c.Result)
	case mvcc.CompareMod:
		return spanCompare(s.mod, c.ModRevision, c.Result)
	}
	return canTrue | canFalse
}

// holds reports whether a three-way comparison r satisfies a result.
func holds(r int, res mvcc.CompareResult) bool {
	switch res {
	case mvcc.CompareEqual:
		return r == 0
	case mvcc.CompareNotEqual:
		return r != 0
	case mvcc.CompareGreater:
		return r > 0
	case mvcc.CompareLess:
		return r < 0
	}
	return true
}

// spanCompare evaluates "x res n" for every x in sp.
func spanCompare(sp span, n int64, res mvcc.CompareResult) tri {
	var t tri
	add := func(possible bool, v tri) {
		if possible {
			t |= v
		}
	}
	switch res {
	case mvcc.CompareEqual, mvcc.CompareNotEqual:
		eq, ne := canTrue, canFalse
		if res == mvcc.CompareNotEqual {
			eq, ne = canFalse, canTrue
		}
		add(sp.has(n), eq)
		add(sp.lo != sp.hi || sp.lo != n, ne)
	case mvcc.CompareGreater:
		add(sp.hi > n, canTrue)
		add(sp.lo <= n, canFalse)
	case mvcc.CompareLess:
		add(sp.lo < n, canTrue)
		add(sp.hi >= n, canFalse)
	default:
		t = canTrue | canFalse
	}
	return t
}
