package sim

import (
	"hash/fnv"
	"runtime/metrics"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/nodes"
)

// core is what every part of a world shares: the configuration, the
// virtual clock with its event queue, the trace, the counters, the
// timeline, and the plan a seeded run records. It decides nothing.
type core struct {
	cfg       Config
	q         Queue
	tr        *Trace
	chk       *invariants.Checker // the checks every part reports to
	stats     Stats
	step      uint64 // events run so far
	stopAt    uint64 // stop after this event (Config.MaxSteps, or halt)
	healing   bool   // the liveness phase: no more faults nor workload
	lenient   bool   // keep stepping after a violation (scenarios)
	timeline  []Mark
	peakHeap  uint64
	memSample []metrics.Sample // sampleMemory's, kept across samples
	rec       *Plan            // the plan being recorded, or nil (see record)

	probes nodes.ProbeCounts // the coverage probes, of every member and part
}

// stopped reports whether the step limit (or a halt) is reached.
func (c *core) stopped() bool { return c.stopAt != 0 && c.step >= c.stopAt }

// halt ends the loop after the event being run (it costs the loop
// nothing: the step limit is checked anyway).
func (c *core) halt() { c.stopAt = c.step }

// clearHalt puts the step limit back after a halt.
func (c *core) clearHalt() { c.stopAt = c.cfg.MaxSteps }

// trace hashes one event into the trace, with its readable line.
func (c *core) trace(e *Event, a, b uint64, line func() string) {
	c.tr.Add(e.At, uint8(e.Kind), e.Node, a, b, line)
}

// record appends a step to the plan a seeded run draws, when it records
// one (Config.RecordPlan).
func (c *core) record(s Step) {
	if c.rec != nil {
		s.At = c.q.Now()
		c.rec.Steps = append(c.rec.Steps, s)
	}
}

// mark records a timeline event when the run keeps a timeline.
func (c *core) mark(member int, kind MarkKind, detail string) {
	c.markAs(Mark{Member: member, Kind: kind, Detail: detail})
}

// markAs records mk, at the current time, when the run keeps a timeline.
func (c *core) markAs(mk Mark) {
	if !c.cfg.Timeline {
		return
	}
	mk.At = c.q.Now()
	c.timeline = append(c.timeline, mk)
}

// noteNet traces a change of the network and puts it on the timeline.
func (c *core) noteNet(change NetChange, state, s string) {
	c.markAs(Mark{Kind: MarkNet, Detail: s, Net: change, State: state})
	c.hashNote(s)
}

// noteOn traces a fault of one member (0: the cluster) and marks it.
func (c *core) noteOn(member int, kind MarkKind, s string) {
	c.mark(member, kind, s)
	c.hashNote(s)
}

// hashNote traces a fault by the hash of its line.
func (c *core) hashNote(s string) {
	h := fnv.New64a()
	h.Write([]byte(s))
	c.tr.Add(c.q.Now(), 0xf1, 0, h.Sum64(), 0, func() string { return s })
}

// sampleMemory keeps the peak of the heap in use (MemStats.HeapInuse: the
// bytes of the spans holding objects, the objects' and the unused rest).
// It reads runtime/metrics, which neither stops the world nor flushes the
// allocator's per-processor caches as runtime.ReadMemStats does: sampling
// with ReadMemStats made the bench's rows 3% slower than the worlds they
// measure.
func (c *core) sampleMemory() {
	if c.memSample == nil {
		c.memSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	}
	metrics.Read(c.memSample)
	var inuse uint64
	for _, s := range c.memSample {
		if s.Value.Kind() == metrics.KindUint64 {
			inuse += s.Value.Uint64()
		}
	}
	c.peakHeap = max(c.peakHeap, inuse)
}
