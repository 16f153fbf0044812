package sim

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/invariants"
	"github.com/etcdsim/etcdsim/network"
	"github.com/etcdsim/etcdsim/nodes"
)

// probe is the write the liveness phase requires to complete.
type probe struct {
	client int
	done   bool
	index  uint64
}

// liveness is the phase after the faults (TigerBeetle's VOPR does the
// same): heal the network, restart and resume every member, stop the
// workload, and require that within the bound a probe write completes
// and every member converges on the same applied index and state.
func (w *world) liveness() {
	w.healing = true
	now := w.q.Now()
	w.tr.Note("t=%s liveness phase: heal everything", FormatTime(now))
	w.markAs(Mark{Kind: MarkPhase, State: "liveness", Detail: "liveness phase: faults stop, everything heals"})
	w.markAs(Mark{Kind: MarkNet, Net: NetHeal, Detail: "heal"})
	endpoints := w.cl.net.Endpoints()
	w.cl.net = network.New(w.streams.Fork("network/liveness"), network.Config{
		DelayMin: 100 * time.Microsecond, DelayMax: 2 * time.Millisecond,
	})
	for _, e := range endpoints {
		w.cl.net.Join(e)
	}
	w.cl.linksChanged()
	for i, m := range w.cl.members {
		m.slowTil = 0
		w.cl.resume(i)
		if m.proc == nil && !m.pending {
			w.cl.start(i, true)
		}
	}
	w.wl.probe = &probe{client: 0}
	w.q.After(500*time.Millisecond, Event{Kind: evProbe})
	deadline := now + w.cfg.Liveness
	for w.chk.Violation() == nil && !w.stopped() {
		w.loop(w.q.Now() + 100*time.Millisecond)
		if w.chk.Violation() != nil || w.stopped() {
			return
		}
		if w.wl.probe.done && w.converged() == "" {
			return
		}
		if w.q.Now() >= deadline {
			w.chk.Fail(invariants.Liveness, w.livenessReason())
			return
		}
		if _, ok := w.q.Peek(); !ok {
			w.chk.Fail(invariants.Liveness, "nothing left to happen: "+w.livenessReason())
			return
		}
	}
}

// onProbe sends the probe write, and again after each failure.
func (w *workload) onProbe() {
	c := w.clients[w.probe.client]
	if w.probe.done {
		return
	}
	if c.req != nil {
		w.q.After(200*time.Millisecond, Event{Kind: evProbe})
		return
	}
	w.issue(c, &nodes.Request{Kind: nodes.KindPut, Key: []byte("probe"), Value: []byte("liveness"), User: c.user})
}

func (w *workload) probeDone(r *nodes.Reply) {
	if r.Result.Code == nodes.OK {
		w.probe.done, w.probe.index = true, r.Index
		return
	}
	w.q.After(200*time.Millisecond, Event{Kind: evProbe})
}

// converged returns "" when all members applied the same index, at least
// the probe's, with the same state; else the reason they have not.
func (w *world) converged() string {
	if w.churn != nil {
		if why := w.churn.settled(); why != "" {
			return why
		}
	}
	var first *nodes.Member
	for _, mb := range w.cl.members {
		m, id := mb.proc, mb.id
		if mb.removed || mb.pending {
			continue
		}
		if m == nil {
			return fmt.Sprintf("m%d is down", id)
		}
		_, _, _, _, commit := m.RaftStatus()
		switch {
		case m.Applied() < commit:
			return fmt.Sprintf("m%d applied=%d < commit=%d", id, m.Applied(), commit)
		case m.Applied() < w.wl.probe.index:
			return fmt.Sprintf("m%d applied=%d < probe index %d", id, m.Applied(), w.wl.probe.index)
		case first == nil:
			first = m
		case m.Applied() != first.Applied():
			return fmt.Sprintf("m%d applied=%d != m%d applied=%d", id, m.Applied(), first.ID(), first.Applied())
		case m.Rev() != first.Rev() || m.KVHash() != first.KVHash():
			return fmt.Sprintf("m%d at applied index %d has revision %d, m%d has %d: %s", id, m.Applied(), m.Rev(), first.ID(), first.Rev(),
				cmp.Or(invariants.DiffBackends(m.Backend(), first.Backend(), fmt.Sprintf("m%d", first.ID())),
					fmt.Sprintf("their live key-values differ over the same backend records (hash %x vs %x)", m.KVHash(), first.KVHash())))
		}
	}
	return ""
}

func (w *world) livenessReason() string {
	var parts []string
	if !w.wl.probe.done {
		parts = append(parts, "the probe write did not complete")
	}
	if r := w.converged(); r != "" {
		parts = append(parts, r)
	}
	var leaders []string
	for _, m := range w.cl.members {
		if m.proc != nil {
			term, _, lead, _, _ := m.proc.RaftStatus()
			leaders = append(leaders, fmt.Sprintf("m%d term=%d lead=%d", m.id, term, lead))
		}
	}
	return fmt.Sprintf("after %s of healing: %s (%s)", w.cfg.Liveness, strings.Join(parts, "; "), strings.Join(leaders, ", "))
}
