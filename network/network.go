package network

import (
	"cmp"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/prob"
)

// Config is the default behaviour of every link. Its zero value is a
// perfect, instant network.
type Config struct {
	DelayMin, DelayMax time.Duration // one-way delay of each message, uniform
	Drop               prob.Ratio    // a message is lost
	Duplicate          prob.Ratio    // a second copy is delivered, with its own delay
	Reorder            prob.Ratio    // a copy gets an extra delay in (0, ReorderMax]
	ReorderMax         time.Duration
}

// Validate reports delays that are not a range and ratios above 1.
func (c Config) Validate() error {
	if c.DelayMin < 0 || c.DelayMax < c.DelayMin {
		return fmt.Errorf("network: delay [%v,%v] is not a range", c.DelayMin, c.DelayMax)
	}
	if c.ReorderMax < 0 || !c.Reorder.Zero() && c.ReorderMax == 0 {
		return fmt.Errorf("network: reorder needs a positive reorder max, got %v", c.ReorderMax)
	}
	for _, r := range []struct {
		name string
		r    prob.Ratio
	}{{"drop", c.Drop}, {"duplicate", c.Duplicate}, {"reorder", c.Reorder}} {
		if !r.r.Zero() && r.r.Num > r.r.Den {
			return fmt.Errorf("network: %s=%d/%d is above 1", r.name, r.r.Num, r.r.Den)
		}
	}
	return nil
}

// Stats counts what the network did with the messages it was given.
type Stats struct {
	Sent       int64 // Send calls
	Dropped    int64 // lost to Drop or a burst
	Duplicated int64 // sends that produced a second copy
	Cut        int64 // refused at send by a partition or cut
	Refused    int64 // Deliverable answers of false: copies stopped at delivery
}

// link is a directed pair of endpoints.
type link struct{ from, to int }

// delayRange is a closed interval of one-way delays.
type delayRange struct{ min, max time.Duration }

// burst is a temporary worsening of every link.
type burst struct {
	until      time.Duration
	drop, dup  prob.Ratio
	extraDelay time.Duration
}

// Net decides the fate of every message between endpoints identified by
// int: whether it arrives, how many times, and when. All randomness comes
// from the rng handed to New, in a fixed order per Send. A Net is not safe
// for concurrent use; the simulation is single-threaded.
type Net struct {
	times  [2]time.Duration // Send's result, reused
	rng    *rand.Rand
	cfg    Config
	delays map[link]delayRange // per-link overrides
	group  map[int]int         // endpoint -> index of its partition group
	groups [][]int             // the partition groups, sorted, as set
	cuts   map[link]bool       // one-way cuts
	split  bool                // a partition or a cut is in force (groups or cuts)
	since  time.Duration       // when the partition state last changed
	burst  burst
	stats  Stats
	// endpoints are the endpoints joined so far, in the order they joined.
	endpoints []int
	// groupNear and cutNear are group and cuts over the endpoints below
	// near, which linked reads instead of the maps (a lookup or three per
	// message sent and delivered while a partition holds): groupNear[e]
	// is e's group plus one (0: in none), bit to of cutNear[from] a cut
	// from->to. far: group or cuts hold an endpoint outside them, and
	// linked reads the maps. changed rebuilds them.
	groupNear [near]int32
	cutNear   [near]uint64
	far       bool
}

// New returns a healed network with config c drawing from rng. It panics if
// c does not validate; call Validate first on untrusted input.
func New(rng *rand.Rand, c Config) *Net {
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return &Net{
		rng:    rng,
		cfg:    c,
		delays: map[link]delayRange{},
		group:  map[int]int{},
		cuts:   map[link]bool{},
	}
}

// Join adds an endpoint to the network as it is added to the world (a
// member that joins the cluster, a client that connects). It draws
// nothing; messages to an endpoint that never joined are still carried.
func (n *Net) Join(endpoint int) {
	if !slices.Contains(n.endpoints, endpoint) {
		n.endpoints = append(n.endpoints, endpoint)
	}
}

// Endpoints returns the endpoints joined so far, in the order they joined.
func (n *Net) Endpoints() []int { return slices.Clone(n.endpoints) }

// Config returns the configuration n was made with.
func (n *Net) Config() Config { return n.cfg }

// Stats returns the counters of n.
func (n *Net) Stats() Stats { return n.stats }

// Send decides, at time now, the fate of one message from from to to, and
// returns the delivery times of its copies: none if the link is cut or the
// message is dropped, two if it is duplicated. The caller must still ask
// Deliverable at each delivery time. A cut link draws nothing from the rng.
//
// The draws happen in this order: drop, burst drop, duplicate, burst
// duplicate; then for each copy its delay, reorder and reorder delay, and
// burst delay. A zero ratio draws nothing (Send and delay ask its Zero
// inline before Hit, a call, at every message).
func (n *Net) Send(now time.Duration, from, to int) []time.Duration {
	n.stats.Sent++
	if !n.linked(from, to) {
		n.stats.Cut++
		return nil
	}
	inBurst := now < n.burst.until
	if !n.cfg.Drop.Zero() && n.cfg.Drop.Hit(n.rng) || inBurst && n.burst.drop.Hit(n.rng) {
		n.stats.Dropped++
		return nil
	}
	copies := 1
	if !n.cfg.Duplicate.Zero() && n.cfg.Duplicate.Hit(n.rng) || inBurst && n.burst.dup.Hit(n.rng) {
		copies = 2
		n.stats.Duplicated++
	}
	times := n.times[:copies]
	for i := range times {
		times[i] = now + n.delay(from, to, inBurst)
	}
	return times
}

// delay draws the one-way delay of one copy.
func (n *Net) delay(from, to int, inBurst bool) time.Duration {
	r := delayRange{n.cfg.DelayMin, n.cfg.DelayMax}
	if len(n.delays) > 0 {
		if o, ok := n.delays[link{from, to}]; ok {
			r = o
		}
	}
	d := uniform(n.rng, r.min, r.max)
	if !n.cfg.Reorder.Zero() && n.cfg.Reorder.Hit(n.rng) {
		d += uniform(n.rng, 1, n.cfg.ReorderMax)
	}
	if inBurst {
		d += uniform(n.rng, 0, n.burst.extraDelay)
	}
	return d
}

// uniform draws a duration in [lo, hi]; it draws nothing when hi <= lo and
// returns lo.
func uniform(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
}

// Deliverable reports whether a message from from to to may arrive now. The
// world asks it again at each delivery time, so that a message never crosses
// a partition or cut in place when it arrives. A false answer counts in
// Stats.Refused.
func (n *Net) Deliverable(from, to int) bool {
	if n.linked(from, to) {
		return true
	}
	n.stats.Refused++
	return false
}

// near bounds the endpoints linked finds in slices: the world's members
// (IDs from 1), the only endpoints it partitions or cuts off.
const near = 64

// linked reports whether the current partition and cuts let from reach to.
// An endpoint always reaches itself.
func (n *Net) linked(from, to int) bool {
	if !n.split || from == to {
		return true // no partition, no cut: most of a run
	}
	if n.far {
		return n.linkedFar(from, to)
	}
	if uint(from) >= near || uint(to) >= near {
		return true // in no group and no cut (none is far)
	}
	if n.cutNear[from]>>uint(to)&1 != 0 {
		return false
	}
	gf, gt := n.groupNear[from], n.groupNear[to]
	return gf == 0 || gt == 0 || gf == gt
}

// linkedFar is linked from the maps.
func (n *Net) linkedFar(from, to int) bool {
	if len(n.cuts) > 0 && n.cuts[link{from, to}] {
		return false
	}
	gf, okf := n.group[from]
	gt, okt := n.group[to]
	return !okf || !okt || gf == gt
}

// SetLinkDelay overrides the one-way delay of the directed link from->to, to
// make a slow link. Heal leaves overrides in place. It panics if [min,max]
// is not a range.
func (n *Net) SetLinkDelay(from, to int, minDelay, maxDelay time.Duration) {
	if minDelay < 0 || maxDelay < minDelay {
		panic(fmt.Sprintf("network: link delay [%v,%v] is not a range", minDelay, maxDelay))
	}
	n.delays[link{from, to}] = delayRange{minDelay, maxDelay}
}

// ClearLinkDelay removes the override of the link from->to.
func (n *Net) ClearLinkDelay(from, to int) {
	delete(n.delays, link{from, to})
}

// SetBurst worsens every link until the given time: each message is also
// dropped with probability drop, duplicated with probability dup, and each
// copy delayed by an extra uniform in [0, extraDelay]. A burst replaces the
// previous one; SetBurst(0, ...) ends it.
func (n *Net) SetBurst(until time.Duration, drop, dup prob.Ratio, extraDelay time.Duration) {
	n.burst = burst{until: until, drop: drop, dup: dup, extraDelay: max(extraDelay, 0)}
}

// Partition replaces the two-way partition: endpoints in different groups
// cannot talk, endpoints in no group talk to everyone. Empty groups are
// ignored, and fewer than two groups is no partition. One-way cuts stay. It
// panics if an endpoint is in two groups.
func (n *Net) Partition(now time.Duration, groups ...[]int) {
	before := n.String()
	n.group = map[int]int{}
	n.groups = nil
	for _, g := range groups {
		if len(g) > 0 {
			n.groups = append(n.groups, slices.Sorted(slices.Values(g)))
		}
	}
	if len(n.groups) < 2 {
		n.groups = nil
	}
	slices.SortFunc(n.groups, func(a, b []int) int { return cmp.Compare(a[0], b[0]) })
	for i, g := range n.groups {
		for _, e := range g {
			if _, dup := n.group[e]; dup {
				panic(fmt.Sprintf("network: endpoint %d is in two partition groups", e))
			}
			n.group[e] = i
		}
	}
	n.changed(now, before)
}

// Cut cuts the one-way link from->to.
func (n *Net) Cut(now time.Duration, from, to int) {
	before := n.String()
	n.cuts[link{from, to}] = true
	n.changed(now, before)
}

// Heal removes every partition and cut. Link delays and bursts stay.
func (n *Net) Heal(now time.Duration) {
	before := n.String()
	n.group = map[int]int{}
	n.groups = nil
	n.cuts = map[link]bool{}
	n.changed(now, before)
}

// changed restarts the stability window if the partition state differs from
// before.
func (n *Net) changed(now time.Duration, before string) {
	n.split = len(n.group) > 0 || len(n.cuts) > 0
	n.groupNear, n.cutNear, n.far = [near]int32{}, [near]uint64{}, false
	for e, g := range n.group {
		if uint(e) < near {
			n.groupNear[e] = int32(g) + 1
		} else {
			n.far = true
		}
	}
	for l := range n.cuts {
		if uint(l.from) < near && uint(l.to) < near {
			n.cutNear[l.from] |= 1 << uint(l.to)
		} else {
			n.far = true
		}
	}
	if n.String() != before {
		n.since = now
	}
}

// Since returns when the current partition state began.
func (n *Net) Since() time.Duration { return n.since }

// StableFor reports whether the current partition state has lasted at least
// window at time now.
func (n *Net) StableFor(now, window time.Duration) bool {
	return now-n.since >= window
}

// String prints the current partition and cuts in a stable order, such as
// "(1) (2 3)", "1->2 cut", "(1) (2 3); 1->2 cut, 3->1 cut", or "healed".
func (n *Net) String() string {
	var parts []string
	if len(n.groups) > 0 {
		gs := make([]string, len(n.groups))
		for i, g := range n.groups {
			gs[i] = "(" + joinInts(g) + ")"
		}
		parts = append(parts, strings.Join(gs, " "))
	}
	if len(n.cuts) > 0 {
		links := slices.SortedFunc(maps.Keys(n.cuts), func(a, b link) int {
			return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(a.to, b.to))
		})
		cs := make([]string, len(links))
		for i, l := range links {
			cs[i] = strconv.Itoa(l.from) + "->" + strconv.Itoa(l.to) + " cut"
		}
		parts = append(parts, strings.Join(cs, ", "))
	}
	if len(parts) == 0 {
		return "healed"
	}
	return strings.Join(parts, "; ")
}

// joinInts prints ids separated by spaces.
func joinInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, " ")
}
