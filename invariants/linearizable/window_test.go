package linearizable

import (
	"cmp"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/etcdsim/etcdsim/nodes"
)

// timed is a generated request and its linearization point.
type timed struct {
	op    Op
	point int64
}

// checkWindows checks a history (in call order) as a long run does: at
// each checkpoint, the rest of the history after the prefix as it is known
// then, and then folds what it can. Known then: a request called after the
// checkpoint is not in it; one in flight (answered after it) has an
// unknown outcome, and a write in flight is settled only if its point, the
// moment its entry is known committed, has passed; an unknown write's fate
// is known once its Committed has passed, and is LogNever until then. A
// cut never passes a request in flight. It returns the first failing
// window's result, or the last one's.
func checkWindows(t interface{ Fatalf(string, ...any) }, hist []timed, checkpoints []int64) (Result, int) {
	var p *Prefix
	rest := hist
	for _, at := range checkpoints {
		var seen []Op
		upTo, inflight := at, -1
		for _, x := range rest {
			o := x.op
			if o.Call >= at {
				break
			}
			switch {
			case Uncertain(&o) && o.Log == LogApplied && o.Committed > at:
				o.Log = LogNever
			case !o.Unknown && o.Return > at:
				if inflight < 0 {
					inflight, upTo = len(seen), o.Call
				}
				o.Unknown, o.Return, o.Log = true, 0, LogNever
				if x.point <= at && o.Result.Code == nodes.OK {
					o.Log, o.Committed, o.LogResult = LogApplied, x.point, o.Result
				}
			}
			seen = append(seen, o)
		}
		if res := CheckAfter(p, seen, Budget{}); !res.OK {
			return res, p.folded()
		}
		foldable := seen
		if inflight >= 0 {
			foldable = seen[:inflight]
		}
		q, n := p.Fold(foldable, upTo)
		if n > 0 && q.At > upTo {
			t.Fatalf("cut %d past %d", q.At, upTo)
		}
		var kept []timed
		for i := range seen[:n] {
			if Pending(&seen[i]) {
				kept = append(kept, rest[i])
			}
		}
		rest = append(kept, rest[n:]...)
		p = q
	}
	ops := make([]Op, len(rest))
	for i := range rest {
		ops[i] = rest[i].op
	}
	return CheckAfter(p, ops, Budget{}), p.folded()
}

func (p *Prefix) folded() int {
	if p == nil {
		return 0
	}
	return p.Folded
}

// generateTimed generates a history in call order, with the points.
func generateTimed(src source, g genSpec) []timed {
	ops, points := generatePoints(src, g)
	hist := make([]timed, len(ops))
	for i := range ops {
		hist[i] = timed{ops[i], points[i]}
	}
	slices.SortStableFunc(hist, func(a, b timed) int { return cmp.Compare(a.op.Call, b.op.Call) })
	return hist
}

func opsOf(hist []timed) []Op {
	ops := make([]Op, len(hist))
	for i := range hist {
		ops[i] = hist[i].op
	}
	return ops
}

// drawCheckpoints draws up to five checkpoints across a history.
func drawCheckpoints(t *rapid.T, hist []timed) []int64 {
	if len(hist) == 0 {
		return nil
	}
	end := hist[len(hist)-1].op.Call
	cps := rapid.SliceOfN(rapid.Int64Range(0, end), 0, 5).Draw(t, "checkpoints")
	slices.Sort(cps)
	return cps
}

var windowSpec = genSpec{ops: 160, keys: 4, gap: 20, width: 30, clients: 6, unknown: 10, settle: true}

func TestWindowedGeneratedHistoriesAreLinearizable(t *testing.T) {
	var folded, runs int
	rapid.Check(t, func(t *rapid.T) {
		hist := generateTimed(rapidSource{t}, windowSpec)
		if res := Check(opsOf(hist), Budget{}); !res.OK {
			t.Fatalf("whole: %s", res.Detail)
		}
		res, n := checkWindows(t, hist, drawCheckpoints(t, hist))
		if !res.OK {
			t.Fatalf("windowed: %s", res.Detail)
		}
		folded, runs = folded+n, runs+1
	})
	if 10*folded < runs*windowSpec.ops {
		t.Fatalf("%d histories folded %d requests in all: the windows were hardly ever cut", runs, folded)
	}
	t.Logf("%d histories, %d requests folded", runs, folded)
}

// TestWindowedNeverWrittenValueFails mutates a read after the last
// checkpoint to show a value no one wrote: the last window must fail, so
// the check still sees what happens after a cut.
func TestWindowedNeverWrittenValueFails(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		spec := windowSpec
		spec.tail = true
		hist := generateTimed(rapidSource{t}, spec)
		cps := drawCheckpoints(t, hist)
		last := int64(-1)
		if len(cps) > 0 {
			last = cps[len(cps)-1]
		}
		var reads []int
		for i, x := range hist {
			if o := x.op; o.Req.Kind == nodes.KindRange && !o.Unknown && len(o.Result.KVs) > 0 && o.Call >= last {
				reads = append(reads, i)
			}
		}
		if len(reads) == 0 {
			t.Skip("no read after the last checkpoint")
		}
		i := reads[rapid.IntRange(0, len(reads)-1).Draw(t, "read")]
		kvs := slices.Clone(hist[i].op.Result.KVs)
		kvs[rapid.IntRange(0, len(kvs)-1).Draw(t, "kv")].Value = []byte("never-written")
		hist[i].op.Result.KVs = kvs
		if res, _ := checkWindows(t, hist, cps); res.OK || !slices.Contains(res.Failed, CheckKV) {
			t.Fatalf("mutated read %d passed: %v", i, res)
		}
	})
}

// TestWindowedStaleReadAcrossCut: a put before a cut and a read after it
// that misses it fails, from the state the prefix carries, though the put
// is no longer in the history.
func TestWindowedStaleReadAcrossCut(t *testing.T) {
	ops := []Op{put(0, 0, 10, "a", "1", 1), put(1, 20, 30, "b", "1", 2), get(2, 50, 60, "a", 2)}
	p, n := (*Prefix)(nil).Fold(ops[:2], 40)
	if n != 2 || p.At != 40 {
		t.Fatalf("Fold = %d at %d, want 2 at 40", n, p.At)
	}
	res := CheckAfter(p, ops[2:], Budget{})
	if res.OK || !slices.Equal(res.Failed, []string{CheckKV}) {
		t.Fatalf("stale read after the cut passed: %v", res)
	}
	if res := CheckAfter(p, []Op{get(2, 50, 60, "a", 2, kv("a", "1", 1, 1, 1))}, Budget{}); !res.OK {
		t.Fatalf("fresh read after the cut failed: %v", res)
	}
	// Revision order across the cut: a write after it below the prefix's top.
	if res := CheckAfter(p, []Op{put(3, 50, 60, "c", "1", 2)}, Budget{}); !slices.Equal(res.Failed, []string{CheckRevisionOrder}) {
		t.Fatalf("revision reused after the cut: %v", res)
	}
}

// TestFoldStopsAtRequestsInFlight: a cut never splits a request: Fold
// stops before the first request whose interval spans the checkpoint, and
// leaves a pending write to the caller.
func TestFoldStopsAtRequestsInFlight(t *testing.T) {
	ops := []Op{put(0, 0, 4, "a", "1", 1), put(1, 5, 50, "b", "1", 2), never(put(2, 6, 8, "c", "1", 0)),
		get(0, 20, 30, "a", 2, kv("a", "1", 1, 1, 1))}
	if _, n := (*Prefix)(nil).Fold(ops, 40); n != 1 {
		t.Fatalf("Fold folded %d, want 1 (the put of b spans the checkpoint)", n)
	}
	ops[1].Return = 15
	p, n := (*Prefix)(nil).Fold(ops, 40)
	if n != 4 || p.At != 40 || !Pending(&ops[2]) {
		t.Fatalf("Fold = %d at %d, want 4 at 40 with c's put pending", n, p.At)
	}
	// The pending put commits after the cut, and a read then sees it.
	late := committed(put(2, 6, 8, "c", "1", 3), 45, 3)
	if res := CheckAfter(p, []Op{late, get(0, 50, 60, "c", 3, kv("c", "1", 3, 3, 1))}, Budget{}); !res.OK {
		t.Fatalf("write pending at the cut, committed after it: %v", res)
	}
}

// TestFoldCarriesLeaseExpiry: a leased key may have expired at the cut.
func TestFoldCarriesLeaseExpiry(t *testing.T) {
	p, _ := (*Prefix)(nil).Fold([]Op{withLease(put(0, 0, 10, "a", "1", 1), 7)}, 20)
	leased := kv("a", "1", 1, 1, 1)
	leased.Lease = 7
	for _, o := range []Op{get(1, 30, 40, "a", 1), get(1, 30, 40, "a", 1, leased)} {
		if res := CheckAfter(p, []Op{o}, Budget{}); !res.OK {
			t.Fatalf("%v", res)
		}
	}
}

// TestVisualizeAfter draws a window: a key the prefix wrote opens with
// the states it carries.
func TestVisualizeAfter(t *testing.T) {
	p, _ := (*Prefix)(nil).Fold([]Op{put(0, 0, 10, "a", "1", 1)}, 20)
	path := t.TempDir() + "/window.html"
	if err := VisualizeAfter(p, []Op{get(1, 30, 40, "a", 1)}, path, nil); err != nil {
		t.Fatal(err)
	}
	pageShows(t, path, "the history checked before 20ns", "c1 range a")
}
