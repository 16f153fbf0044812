package sim

import "time"

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
