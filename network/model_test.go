package network

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/prob"
	"pgregory.net/rapid"
)

const endpoints = 4 // endpoints are 1..endpoints

// copyInFlight is one copy of a sent message, waiting for its delivery time.
type copyInFlight struct {
	send     int // index of the Send that made it
	from, to int
	at       time.Duration
}

// netModel checks a Net against a simple model of which links are up.
type netModel struct {
	net      *Net
	cfg      Config
	now      time.Duration
	group    map[int]int // endpoint -> group, 0 for none
	cuts     map[[2]int]bool
	slow     map[[2]int][2]time.Duration
	burst    burst
	inFlight []copyInFlight
	copies   []int // per send: copies returned
	arrived  []int // per send: copies delivered
	log      strings.Builder
}

func ratio() *rapid.Generator[prob.Ratio] {
	return rapid.SampledFrom([]prob.Ratio{prob.Never, prob.Of(1, 3), prob.Always})
}

func durationGen(maxMs int64) *rapid.Generator[time.Duration] {
	return rapid.Map(rapid.Int64Range(0, maxMs), func(v int64) time.Duration { return time.Duration(v) * ms })
}

func newNetModel(t *rapid.T) *netModel {
	c := Config{Drop: ratio().Draw(t, "drop"), Duplicate: ratio().Draw(t, "dup"), Reorder: ratio().Draw(t, "reorder")}
	c.DelayMin = durationGen(20).Draw(t, "delay_min")
	c.DelayMax = c.DelayMin + durationGen(20).Draw(t, "delay_spread")
	if !c.Reorder.Zero() {
		c.ReorderMax = ms + durationGen(50).Draw(t, "reorder_max")
	}
	seed := rapid.Uint64().Draw(t, "seed")
	return &netModel{
		net: New(rand.New(rand.NewPCG(seed, 0)), c), cfg: c,
		group: map[int]int{}, cuts: map[[2]int]bool{}, slow: map[[2]int][2]time.Duration{},
	}
}

// linked is the model's answer: may a message go from from to to now?
func (m *netModel) linked(from, to int) bool {
	if from == to {
		return true
	}
	gf, gt := m.group[from], m.group[to]
	return !m.cuts[[2]int{from, to}] && (gf == 0 || gt == 0 || gf == gt)
}

func endpoint() *rapid.Generator[int] {
	return rapid.IntRange(1, endpoints)
}

func (m *netModel) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"send":      m.send,
		"advance":   m.advance,
		"partition": m.partition,
		"cut":       m.cut,
		"heal": func(t *rapid.T) {
			m.net.Heal(m.now)
			m.group, m.cuts = map[int]int{}, map[[2]int]bool{}
		},
		"slow": func(t *rapid.T) {
			from, to := endpoint().Draw(t, "from"), endpoint().Draw(t, "to")
			lo := durationGen(100).Draw(t, "slow_min")
			hi := lo + durationGen(100).Draw(t, "slow_spread")
			m.net.SetLinkDelay(from, to, lo, hi)
			m.slow[[2]int{from, to}] = [2]time.Duration{lo, hi}
		},
		"burst": func(t *rapid.T) {
			m.burst = burst{until: m.now + durationGen(200).Draw(t, "burst_for"),
				drop: ratio().Draw(t, "burst_drop"), dup: ratio().Draw(t, "burst_dup"),
				extraDelay: durationGen(30).Draw(t, "burst_delay")}
			m.net.SetBurst(m.burst.until, m.burst.drop, m.burst.dup, m.burst.extraDelay)
		},
		"": m.check,
	}
}

// bounds returns the earliest and latest delay a copy sent now may get.
func (m *netModel) bounds(from, to int) (time.Duration, time.Duration) {
	lo, hi := m.cfg.DelayMin, m.cfg.DelayMax
	if s, ok := m.slow[[2]int{from, to}]; ok {
		lo, hi = s[0], s[1]
	}
	if m.cfg.Reorder == prob.Always {
		lo++ // every copy is held back by at least a nanosecond
	}
	if !m.cfg.Reorder.Zero() {
		hi += m.cfg.ReorderMax
	}
	if m.now < m.burst.until {
		hi += m.burst.extraDelay
	}
	return lo, hi
}

func (m *netModel) send(t *rapid.T) {
	from, to := endpoint().Draw(t, "from"), endpoint().Draw(t, "to")
	times := m.net.Send(m.now, from, to)
	inBurst := m.now < m.burst.until
	fmt.Fprintf(&m.log, "send %v %d->%d %v\n", m.now, from, to, times)
	switch {
	case !m.linked(from, to) && len(times) > 0:
		t.Fatalf("send %d->%d crossed a partition: %v", from, to, times)
	case len(times) > 2:
		t.Fatalf("%d copies", len(times))
	case len(times) == 2 && m.cfg.Duplicate.Zero() && (!inBurst || m.burst.dup.Zero()):
		t.Fatalf("a duplicate without Duplicate")
	case len(times) == 0 && m.linked(from, to) && m.cfg.Drop.Zero() && (!inBurst || m.burst.drop.Zero()):
		t.Fatalf("a message lost without Drop")
	}
	lo, hi := m.bounds(from, to)
	for _, at := range times {
		if at < m.now+lo || at > m.now+hi {
			t.Fatalf("delivery at %v outside [%v, %v]", at, m.now+lo, m.now+hi)
		}
		m.inFlight = append(m.inFlight, copyInFlight{send: len(m.copies), from: from, to: to, at: at})
	}
	m.copies = append(m.copies, len(times))
	m.arrived = append(m.arrived, 0)
}

// advance moves time on and delivers, in time order, every copy due,
// asking Deliverable at delivery as the world does.
func (m *netModel) advance(t *rapid.T) {
	m.now += durationGen(100).Draw(t, "advance")
	slices.SortStableFunc(m.inFlight, func(a, b copyInFlight) int { return cmp.Compare(a.at, b.at) })
	i := 0
	for ; i < len(m.inFlight) && m.inFlight[i].at <= m.now; i++ {
		c := m.inFlight[i]
		ok := m.net.Deliverable(c.from, c.to)
		if ok != m.linked(c.from, c.to) {
			t.Fatalf("Deliverable(%d, %d) = %v at %v, model says %v", c.from, c.to, ok, c.at, !ok)
		}
		if ok {
			m.arrived[c.send]++
			if m.arrived[c.send] > m.copies[c.send] {
				t.Fatalf("send %d delivered more copies than it made", c.send)
			}
		}
		fmt.Fprintf(&m.log, "deliver %v %d->%d %v\n", c.at, c.from, c.to, ok)
	}
	m.inFlight = m.inFlight[i:]
}

func (m *netModel) partition(t *rapid.T) {
	assign := rapid.SliceOfN(rapid.IntRange(0, 3), endpoints, endpoints).Draw(t, "groups")
	groups := make([][]int, 3)
	m.group = map[int]int{}
	for i, g := range assign {
		if g > 0 {
			groups[g-1] = append(groups[g-1], i+1)
		}
	}
	nonEmpty := 0
	for _, g := range groups {
		if len(g) > 0 {
			nonEmpty++
		}
	}
	if nonEmpty >= 2 {
		for i, g := range assign {
			m.group[i+1] = g
		}
	}
	m.net.Partition(m.now, groups...)
}

func (m *netModel) cut(t *rapid.T) {
	from, to := endpoint().Draw(t, "from"), endpoint().Draw(t, "to")
	m.net.Cut(m.now, from, to)
	m.cuts[[2]int{from, to}] = true
}

// check compares every link with the model and the counters with the sends.
func (m *netModel) check(t *rapid.T) {
	refused := m.net.Stats().Refused
	for from := 1; from <= endpoints; from++ {
		for to := 1; to <= endpoints; to++ {
			if got := m.net.Deliverable(from, to); got != m.linked(from, to) {
				t.Fatalf("%d->%d deliverable=%v, model %v (net %s)", from, to, got, !got, m.net)
			}
		}
	}
	m.net.stats.Refused = refused // the checks above are not deliveries
	s, copies := m.net.Stats(), 0
	for _, c := range m.copies {
		copies += c
	}
	if s.Sent != int64(len(m.copies)) || int64(copies) != s.Sent-s.Cut-s.Dropped+s.Duplicated {
		t.Fatalf("stats %+v do not match %d sends with %d copies", s, len(m.copies), copies)
	}
	if !m.net.StableFor(m.now, m.now-m.net.Since()) || m.net.Since() > m.now {
		t.Fatalf("since %v after now %v", m.net.Since(), m.now)
	}
}

func TestNetModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newNetModel(t)
		t.Repeat(m.actions())
	})
}

// TestNetDeterminism replays the same actions on two networks with the same
// seed: every send, delivery and refusal must be the same.
func TestNetDeterminism(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		ops := rapid.SliceOfN(rapid.IntRange(0, 1<<20), 1, 200).Draw(t, "ops")
		a, b := runNetScript(seed, ops), runNetScript(seed, ops)
		if a != b {
			t.Fatalf("same seed, different networks:\n%s\n---\n%s", a, b)
		}
	})
}

// runNetScript interprets each op as an action with its arguments packed in
// the bits, on a network with every fault on, and returns a transcript.
func runNetScript(seed uint64, ops []int) string {
	c := Config{DelayMin: ms, DelayMax: 9 * ms, Drop: prob.Of(1, 5), Duplicate: prob.Of(1, 5),
		Reorder: prob.Of(1, 5), ReorderMax: 20 * ms}
	n := New(rand.New(rand.NewPCG(seed, 0)), c)
	var out strings.Builder
	now := time.Duration(0)
	for _, op := range ops {
		from, to, arg := 1+op%endpoints, 1+(op/endpoints)%endpoints, op/16
		switch arg % 6 {
		case 0, 1:
			fmt.Fprintln(&out, n.Send(now, from, to))
		case 2:
			if from != to {
				n.Partition(now, []int{from}, []int{to})
			}
		case 3:
			n.Cut(now, from, to)
		case 4:
			n.SetBurst(now+time.Duration(arg%100)*ms, prob.Of(1, 2), prob.Of(1, 2), time.Duration(arg%7)*ms)
		default:
			n.Heal(now)
		}
		now += time.Duration(arg%13) * ms
		fmt.Fprintln(&out, n.String(), n.Since(), n.Deliverable(to, from))
	}
	fmt.Fprintf(&out, "%+v\n", n.Stats())
	return out.String()
}
