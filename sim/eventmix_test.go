package sim

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/nodes"
)

var eventMix = flag.Bool("eventmix", false, "TestEventMix: print the default 60 s worlds' events per committed entry by kind")

// mixWatch counts a world's events by kind (timers by their timer kind),
// and the events a member runs at the instant of its previous event: the
// most that coalescing a member's simultaneous events into one step
// could save.
type mixWatch struct {
	kinds map[string]int
	pairs map[string]int
	last  map[int]Event // each member's previous event
}

func mixKind(e Event) string {
	if e.Kind == evTimer {
		return "timer/" + nodes.TimerKind(e.Arg&0xff).String()
	}
	return e.Kind.String()
}

func memberEvent(k EventKind) bool { return k == evTimer || k == evDeliver || k == evRequest }

func (w *mixWatch) before(e Event) {
	w.kinds[mixKind(e)]++
	if !memberEvent(e.Kind) {
		return
	}
	if l, ok := w.last[e.Node]; ok && l.At == e.At {
		w.pairs[mixKind(l)+" > "+mixKind(e)]++
	}
	w.last[e.Node] = e
}

func (w *mixWatch) after(Event) {}

// TestEventMix prints, for the worlds of BenchmarkWorld60 (seeds 1..12,
// 60 s), the events per committed entry by kind, and the pairs of one
// member's events at one instant (go test ./sim -run TestEventMix -v
// -args -eventmix).
func TestEventMix(t *testing.T) {
	if !*eventMix {
		t.Skip("run with -args -eventmix")
	}
	mw := &mixWatch{kinds: map[string]int{}, pairs: map[string]int{}}
	var commits, steps uint64
	for s := uint64(1); s <= 12; s++ {
		w := newWorld(Config{Seed: s, Duration: 60 * time.Second})
		w.watch = mw
		mw.last = map[int]Event{}
		WithSeededCryptoRand(w.streams.Fork("raft/jitter"), w.run)
		rep := w.report()
		commits += rep.Stats.Committed
		steps += rep.Steps
	}
	per := func(n int) float64 { return float64(n) / float64(commits) }
	var b strings.Builder
	fmt.Fprintf(&b, "%d events, %d committed entries: %.2f events per committed entry\n", steps, commits, float64(steps)/float64(commits))
	for i, m := range []map[string]int{mw.kinds, mw.pairs} {
		if i == 1 {
			b.WriteString("a member's event at the instant of its previous one (previous > this):\n")
		}
		keys := make([]string, 0, len(m))
		total := 0
		for k, n := range m {
			keys = append(keys, k)
			total += n
		}
		slices.SortFunc(keys, func(a, b string) int { return m[b] - m[a] })
		for _, k := range keys {
			fmt.Fprintf(&b, "  %-34s %8d %6.2f\n", k, m[k], per(m[k]))
		}
		fmt.Fprintf(&b, "  %-34s %8d %6.2f\n", "total", total, per(total))
	}
	t.Log("\n" + b.String())
}
