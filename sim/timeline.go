package sim

import (
	"fmt"
	"time"
)

// Mark is one event on a run's timeline, for people who would rather look
// than read: role changes, crashes and restarts, pauses, partitions, disk
// faults, backend commits, applies, and the violation.
type Mark struct {
	At     time.Duration
	Member int    // 1..N, or 0 for the whole cluster (partitions)
	Kind   string // role, crash, restart, pause, resume, partition, heal, cut, slow-disk, commit, apply, violation, liveness
	Detail string
}

// Timeline kinds.
const (
	MarkRole      = "role"
	MarkCrash     = "crash"
	MarkRestart   = "restart"
	MarkPause     = "pause"
	MarkResume    = "resume"
	MarkNet       = "network"
	MarkDisk      = "disk"
	MarkCommit    = "commit"
	MarkApply     = "apply"
	MarkViolation = "violation"
	MarkPhase     = "phase"
)

// mark records a timeline event when the run keeps a timeline.
func (w *world) mark(member int, kind, detail string) {
	if !w.cfg.Timeline {
		return
	}
	w.timeline = append(w.timeline, Mark{At: w.q.Now(), Member: member, Kind: kind, Detail: detail})
}

// markRole records a member's role or term when it changed.
func (w *world) markRole(i int) {
	if !w.cfg.Timeline {
		return
	}
	sl := w.slots[i]
	if sl.m == nil {
		return
	}
	term, _, lead, leader, _ := sl.m.RaftStatus()
	role := "follower"
	switch {
	case leader:
		role = "leader"
	case lead == 0:
		role = "no leader"
	}
	now := fmt.Sprintf("%s term %d", role, term)
	if now != sl.lastRole {
		sl.lastRole = now
		w.mark(int(sl.id), MarkRole, now)
	}
}
