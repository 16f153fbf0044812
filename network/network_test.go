package network

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/prob"
)

const ms = time.Millisecond

func newNet(seed uint64, c Config) *Net {
	return New(rand.New(rand.NewPCG(seed, 3)), c)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		c    Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"range", Config{DelayMin: ms, DelayMax: 5 * ms}, true},
		{"inverted range", Config{DelayMin: 5 * ms, DelayMax: ms}, false},
		{"negative delay", Config{DelayMin: -ms, DelayMax: ms}, false},
		{"reorder without max", Config{Reorder: prob.Of(1, 2)}, false},
		{"reorder", Config{Reorder: prob.Of(1, 2), ReorderMax: ms}, true},
		{"drop above one", Config{Drop: prob.Of(3, 2)}, false},
	}
	for _, tt := range tests {
		err := tt.c.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%s: Validate = %v", tt.name, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "network: ") {
			t.Errorf("%s: error %q lacks the package prefix", tt.name, err)
		}
	}
}

func TestSend(t *testing.T) {
	always := prob.Always
	tests := []struct {
		name     string
		c        Config
		setup    func(n *Net)
		now      time.Duration
		copies   int
		min, max time.Duration // bounds of every delivery time
	}{
		{"perfect", Config{}, nil, 10 * ms, 1, 0, 0},
		{"delay range", Config{DelayMin: ms, DelayMax: 3 * ms}, nil, 0, 1, ms, 3 * ms},
		{"drop", Config{Drop: always}, nil, 0, 0, 0, 0},
		{"duplicate", Config{Duplicate: always, DelayMax: ms}, nil, 0, 2, 0, ms},
		{"reorder adds a positive delay", Config{Reorder: always, ReorderMax: 4 * ms}, nil, 0, 1, 1, 4 * ms},
		{"slow link", Config{DelayMax: ms}, func(n *Net) { n.SetLinkDelay(1, 2, 50*ms, 60*ms) }, 0, 1, 50 * ms, 60 * ms},
		{"cleared slow link", Config{}, func(n *Net) {
			n.SetLinkDelay(1, 2, 50*ms, 60*ms)
			n.ClearLinkDelay(1, 2)
		}, 0, 1, 0, 0},
		{"slow link is directed", Config{}, func(n *Net) { n.SetLinkDelay(2, 1, 50*ms, 60*ms) }, 0, 1, 0, 0},
		{"cut link", Config{}, func(n *Net) { n.Cut(0, 1, 2) }, 0, 0, 0, 0},
		{"reverse of a cut link", Config{}, func(n *Net) { n.Cut(0, 2, 1) }, 0, 1, 0, 0},
		{"partitioned", Config{}, func(n *Net) { n.Partition(0, []int{1}, []int{2, 3}) }, 0, 0, 0, 0},
		{"same group", Config{}, func(n *Net) { n.Partition(0, []int{1, 2}, []int{3}) }, 0, 1, 0, 0},
		{"healed", Config{}, func(n *Net) {
			n.Partition(0, []int{1}, []int{2})
			n.Heal(0)
		}, 0, 1, 0, 0},
		{"burst drop", Config{}, func(n *Net) { n.SetBurst(time.Second, always, prob.Never, 0) }, 0, 0, 0, 0},
		{"burst dup and delay", Config{}, func(n *Net) { n.SetBurst(time.Second, prob.Never, always, 7*ms) }, 0, 2, 0, 7 * ms},
		{"expired burst", Config{}, func(n *Net) { n.SetBurst(time.Second, always, always, 7*ms) }, time.Second, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(50) {
				n := newNet(seed, tt.c)
				if tt.setup != nil {
					tt.setup(n)
				}
				got := n.Send(tt.now, 1, 2)
				if len(got) != tt.copies {
					t.Fatalf("seed %d: %d copies, want %d", seed, len(got), tt.copies)
				}
				for _, at := range got {
					if at < tt.now+tt.min || at > tt.now+tt.max {
						t.Fatalf("seed %d: delivery at %v outside [%v, %v]", seed, at, tt.now+tt.min, tt.now+tt.max)
					}
				}
			}
		})
	}
}

func TestCutLinkDrawsNothing(t *testing.T) {
	c := Config{DelayMax: ms, Drop: prob.Of(1, 2), Duplicate: prob.Of(1, 2)}
	a, b := newNet(9, c), newNet(9, c)
	a.Cut(0, 1, 2)
	a.Send(0, 1, 2)
	if !slices.Equal(a.Send(0, 2, 1), b.Send(0, 2, 1)) {
		t.Fatalf("a send on a cut link shifted the rng")
	}
	if s := a.Stats(); s.Sent != 2 || s.Cut != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPartitionString(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(n *Net)
		want   string
		linked [][2]int
		cut    [][2]int
	}{
		{"healed", func(n *Net) {}, "healed", [][2]int{{1, 2}, {2, 1}}, nil},
		{"groups sorted", func(n *Net) { n.Partition(0, []int{3, 2}, []int{1}) }, "(1) (2 3)",
			[][2]int{{2, 3}, {3, 2}, {1, 1}}, [][2]int{{1, 2}, {2, 1}, {3, 1}}},
		{"unlisted talks to everyone", func(n *Net) { n.Partition(0, []int{1}, []int{2}) }, "(1) (2)",
			[][2]int{{3, 1}, {1, 3}, {2, 3}}, [][2]int{{1, 2}, {2, 1}}},
		{"one group is no partition", func(n *Net) { n.Partition(0, []int{1, 2}, nil) }, "healed",
			[][2]int{{1, 2}}, nil},
		{"one-way cut", func(n *Net) { n.Cut(0, 1, 2) }, "1->2 cut", [][2]int{{2, 1}}, [][2]int{{1, 2}}},
		{"cuts sorted, with a partition", func(n *Net) {
			n.Cut(0, 3, 1)
			n.Cut(0, 1, 2)
			n.Partition(0, []int{1}, []int{2, 3})
		}, "(1) (2 3); 1->2 cut, 3->1 cut", [][2]int{{2, 3}}, [][2]int{{1, 3}, {3, 1}}},
		{"partition keeps cuts", func(n *Net) {
			n.Cut(0, 1, 2)
			n.Partition(0, []int{1}, []int{3})
			n.Partition(0)
		}, "1->2 cut", [][2]int{{1, 3}}, [][2]int{{1, 2}}},
	}
	for _, tt := range tests {
		n := newNet(1, Config{})
		tt.setup(n)
		if got := n.String(); got != tt.want {
			t.Errorf("%s: String = %q, want %q", tt.name, got, tt.want)
		}
		for _, l := range tt.linked {
			if !n.Deliverable(l[0], l[1]) {
				t.Errorf("%s: %d->%d not deliverable", tt.name, l[0], l[1])
			}
		}
		for _, l := range tt.cut {
			if n.Deliverable(l[0], l[1]) || n.Send(0, l[0], l[1]) != nil {
				t.Errorf("%s: %d->%d crosses the partition", tt.name, l[0], l[1])
			}
		}
		if got := n.Stats().Refused; got != int64(len(tt.cut)) {
			t.Errorf("%s: refused %d, want %d", tt.name, got, len(tt.cut))
		}
	}
}

func TestPartitionTwiceListedPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatalf("no panic")
		}
	}()
	newNet(1, Config{}).Partition(0, []int{1, 2}, []int{2})
}

func TestStability(t *testing.T) {
	n := newNet(1, Config{})
	steps := []struct {
		at     time.Duration
		do     func(now time.Duration)
		since  time.Duration
		window time.Duration
		stable bool
	}{
		{0, func(time.Duration) {}, 0, 0, true},
		{time.Second, func(now time.Duration) { n.Partition(now, []int{1}, []int{2}) }, time.Second, 0, true},
		{2 * time.Second, func(now time.Duration) { n.Partition(now, []int{2}, []int{1}) }, time.Second, time.Second, true},
		{3 * time.Second, func(now time.Duration) { n.Cut(now, 1, 3) }, 3 * time.Second, time.Second, false},
		{4 * time.Second, func(now time.Duration) { n.Cut(now, 1, 3) }, 3 * time.Second, time.Second, true},
		{5 * time.Second, func(now time.Duration) { n.Heal(now) }, 5 * time.Second, 0, true},
		{6 * time.Second, func(now time.Duration) { n.Heal(now) }, 5 * time.Second, 2 * time.Second, false},
	}
	for i, s := range steps {
		s.do(s.at)
		if n.Since() != s.since || n.StableFor(s.at, s.window) != s.stable {
			t.Fatalf("step %d: since %v stable(%v)=%v, want %v %v", i, n.Since(), s.window,
				n.StableFor(s.at, s.window), s.since, s.stable)
		}
	}
}

func TestStats(t *testing.T) {
	n := newNet(5, Config{Drop: prob.Of(1, 3), Duplicate: prob.Of(1, 3)})
	n.Cut(0, 1, 3)
	copies := 0
	for i := range 3000 {
		copies += len(n.Send(0, 1, 2+i%2))
	}
	s := n.Stats()
	if s.Sent != 3000 || s.Cut != 1500 || copies != int(s.Sent-s.Cut-s.Dropped+s.Duplicated) {
		t.Fatalf("stats %+v do not add up to %d copies", s, copies)
	}
	if s.Dropped < 400 || s.Dropped > 600 || s.Duplicated < 250 || s.Duplicated > 420 {
		t.Fatalf("rates off: %+v", s)
	}
}
