package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/sim"
)

// evidenceSpan returns when the requests the evidence names ran: from the
// first call to the last return (a request with no return counts as its
// call).
func (m *model) evidenceSpan() (lo, hi time.Duration) {
	lo, hi = m.evidence[0].Call, m.evidence[0].Call
	for _, o := range m.evidence {
		lo, hi = min(lo, o.Call), max(hi, o.Call, o.Return)
	}
	return lo, hi
}

// detailSpan is the detail window of a failing run: centred on the
// requests a linearizability evidence names when there are some (at least
// w wide, and wider by a fifth than they span), else the last w before the
// violation; always within the run. centred says which.
func (m *model) detailSpan(w time.Duration) (from, to time.Duration, centred bool) {
	if len(m.evidence) == 0 {
		return max(m.violation.At-w, 0), m.violation.At, false
	}
	lo, hi := m.evidenceSpan()
	span := max(w, (hi-lo)*6/5)
	from = max((lo+hi)/2-span/2, 0)
	to = min(from+span, m.end)
	from = max(min(from, to-span), 0)
	return from, to, true
}

// linearChain is the chain of a linearizability failure: the requests the
// evidence names, with the leaders, partitions, one-way cuts, down times
// and pauses that overlap them (the network first, then the leaders).
func (m *model) linearChain() (string, []event) {
	if len(m.evidence) == 0 {
		return "The requests the evidence names are no longer in the history the run kept; the last leader changes, crashes, restarts, pauses and network changes before the check:", m.clusterChain()
	}
	lo, hi := m.evidenceSpan()
	ops := m.evidence[:min(len(m.evidence), maxChain-2)]
	var ctx []event
	for _, b := range m.bands {
		if b.to < lo || b.from > hi {
			continue
		}
		switch b.kind {
		case "partition", "cut":
			ctx = append(ctx, m.bandEvent(b, 0))
		case "leader":
			ctx = append(ctx, m.bandEvent(b, 1))
		case "down", "pause":
			ctx = append(ctx, m.bandEvent(b, 2))
		}
	}
	slices.SortStableFunc(ctx, func(a, b event) int { return a.priority - b.priority })
	var out []event
	for _, o := range ops {
		out = append(out, opEvent(o))
	}
	out = append(out, ctx[:min(len(ctx), maxChain-len(ops))]...)
	sortEvents(out)
	head := "How it came about: the requests the evidence names (client → member), with the leaders, partitions, crashes and pauses overlapping them:"
	return head, out
}

// opEvent describes a request the evidence names.
func opEvent(o sim.Op) event {
	e := event{at: o.Call, T: fmtT(o.Call), Who: fmt.Sprintf("c%d → m%d", o.Proc, o.Member), What: describeOp(o)}
	if o.Unknown || o.Return <= o.Call {
		e.What += ": outcome unknown"
		return e
	}
	e.T += " – " + fmtT(o.Return)
	e.What += fmt.Sprintf(" → %s rev=%d", o.Result.Code, o.Result.Rev)
	return e
}

// describeOp names a request by its kind and key: "put k11=v768",
// "range k04 (serializable)".
func describeOp(o sim.Op) string {
	r := o.Req
	s := r.Kind.String()
	if len(r.Key) > 0 {
		s += " " + string(r.Key)
		if len(r.End) > 0 {
			s += ".." + string(r.End)
		}
	}
	if len(r.Value) > 0 {
		s += "=" + string(r.Value)
	}
	if r.Serializable {
		s += " (serializable)"
	}
	return s
}

// bandEvent describes a band of the timeline, from its start to its end.
func (m *model) bandEvent(b band, priority int) event {
	e := event{at: b.from, T: fmtT(b.from), Who: who(b.member), priority: priority}
	until := "until " + fmtT(b.to)
	if b.to >= m.end {
		until = "until the end"
	}
	switch b.kind {
	case "leader", "follower", "noleader":
		e.What = strings.Replace(roleWords(b.role, b.term), "became leader of", "leader of", 1)
	case "pause":
		e.What = "paused"
	default:
		e.What = b.detail
	}
	e.What += " " + until
	return e
}

// livenessChain is the chain of a liveness failure: what each member was
// doing at the end (down, paused, or its role since when), the network's
// last state, and when the liveness phase began.
func (m *model) livenessChain() []event {
	var out []event
	for id := 1; id <= m.members; id++ {
		var last *band
		for i := range m.bands {
			b := &m.bands[i]
			if b.member != id || b.to < m.end || !slices.Contains([]string{"leader", "follower", "noleader", "down", "pause"}, b.kind) {
				continue
			}
			if last == nil || b.kind == "down" || b.kind == "pause" && last.kind != "down" {
				last = b
			}
		}
		if last != nil {
			out = append(out, m.bandEvent(*last, 0))
		}
	}
	for _, b := range m.bands {
		if b.member == 0 && b.to >= m.end && b.kind != "safety" {
			out = append(out, m.bandEvent(b, 0))
		}
	}
	sortEvents(out)
	return out
}
