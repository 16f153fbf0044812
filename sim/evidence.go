package sim

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
)

// EvidenceOps returns the requests of the client history that the evidence
// of a linearizability violation names, in call order, so that a reader
// (the report) can show them at their own times, which are often far from
// the end of the run where the check ran. The checker names a request as
// "c<client> <request> -> <outcome> [<call>,<return>]"; a session's
// serializable reads that go back are named by client, member, revision
// and call time. A request folded into the checked prefix is no longer in
// the history and is not returned; nil for any other violation.
func (r *Report) EvidenceOps() []Op {
	v := r.Violation
	if v == nil || v.Name != invariants.Linearizable {
		return nil
	}
	var out []Op
	for _, ref := range evidenceRefs(v.Detail) {
		for _, o := range r.History {
			if o.Req != nil && ref.matches(&o) && !slices.ContainsFunc(out, func(p Op) bool { return p.Req == o.Req }) {
				out = append(out, o)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Op) int { return cmp.Compare(a.Call, b.Call) })
	return out
}

// evidenceRef is one request as the evidence names it.
type evidenceRef struct {
	proc   int
	call   time.Duration
	ret    time.Duration // 0: not printed ("?")
	member uint64        // serializable reads: the member read from
	rev    int64         // and the revision read
	ms     bool          // call is printed to the millisecond (FormatTime)
}

func (e evidenceRef) matches(o *Op) bool {
	if o.Proc != e.proc {
		return false
	}
	if !e.ms {
		// After a checked prefix, the checker prints a call before the
		// prefix's cut as the cut: the return still names the request.
		return o.Call == e.call || e.ret != 0 && o.Return == e.ret
	}
	return serializableRead(o) && o.Member == e.member && o.Result.Rev == e.rev && FormatTime(o.Call) == FormatTime(e.call)
}

var (
	// clientRE finds a request's client ("c113 "), callRE its interval
	// ("[23.34s,23.345788169s]", the return "?" when unknown), in the
	// checker's evidence.
	clientRE = regexp.MustCompile(`(?:^|[^\w])c(\d+) `)
	callRE   = regexp.MustCompile(`\[(\d[0-9.hmnsuµ]*),(\d[0-9.hmnsuµ]*|\?)\]`)
	// wentBackRE reads serializableMonotonic's evidence.
	wentBackRE = regexp.MustCompile(`client (\d+) from m(\d+) went back in revision: (\d+) at (\S+), then (\d+) at (\S+)`)
)

// evidenceRefs reads the requests an evidence line names: each call time
// with the client named last before it.
func evidenceRefs(detail string) []evidenceRef {
	if m := wentBackRE.FindStringSubmatch(detail); m != nil {
		proc, _ := strconv.Atoi(m[1])
		member, _ := strconv.ParseUint(m[2], 10, 64)
		var out []evidenceRef
		for _, i := range []int{3, 5} {
			rev, _ := strconv.ParseInt(m[i], 10, 64)
			if at, err := time.ParseDuration(m[i+1]); err == nil {
				out = append(out, evidenceRef{proc: proc, member: member, rev: rev, call: at, ms: true})
			}
		}
		return out
	}
	clients := clientRE.FindAllStringSubmatchIndex(detail, -1)
	var out []evidenceRef
	for _, c := range callRE.FindAllStringSubmatchIndex(detail, -1) {
		at, err := time.ParseDuration(detail[c[2]:c[3]])
		ret, _ := time.ParseDuration(detail[c[4]:c[5]])
		proc := -1
		for _, k := range clients {
			if k[1] <= c[0] {
				proc, _ = strconv.Atoi(detail[k[2]:k[3]])
			}
		}
		if err == nil && proc >= 0 {
			out = append(out, evidenceRef{proc: proc, call: at, ret: ret})
		}
	}
	return out
}
