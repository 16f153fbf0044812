package sim

import "time"

// Mark is one event on a run's timeline, for people who would rather look
// than read: role changes, crashes and restarts, pauses, partitions, disk
// faults, backend commits, applies, and the violation. Its typed fields
// carry what a reader of the timeline needs (report draws from them);
// Detail is the same for people.
type Mark struct {
	At     time.Duration
	Member int      // the member's ID, or 0 for the whole cluster (partitions)
	Kind   MarkKind //
	Detail string   // one line for people
	Role   Role     // MarkRole: the member's role
	Term   uint64   // MarkRole: its term
	Net    NetChange
	// State is, for MarkNet, the partition groups ("(1) (2 3)") or the cut
	// ("m1->m3"); for MarkPhase, the phase's name ("liveness").
	State string
	// Index is, for MarkApply, the index of the entry applied; for
	// MarkCommit and MarkSnapshot, the consistent index the backend holds
	// after the commit or the snapshot's install.
	Index uint64
	// Entry is, for MarkApply, what the entry did ("put", "user-add") and
	// whether it failed (Failed: its outcome was not ok).
	Entry  string
	Failed bool
}

// MarkKind is what a mark records.
type MarkKind string

// Timeline kinds.
const (
	MarkRole      MarkKind = "role"
	MarkCrash     MarkKind = "crash"
	MarkRestart   MarkKind = "restart"
	MarkPause     MarkKind = "pause"
	MarkResume    MarkKind = "resume"
	MarkNet       MarkKind = "network"
	MarkDisk      MarkKind = "disk"
	MarkCommit    MarkKind = "commit"
	MarkApply     MarkKind = "apply"
	MarkViolation MarkKind = "violation"
	MarkPhase     MarkKind = "phase"
	MarkSnapshot  MarkKind = "snapshot" // a snapshot database installed
	MarkMember    MarkKind = "membership"
)

// Role is a member's raft role as the timeline shows it.
type Role string

// Roles.
const (
	RoleLeader   Role = "leader"
	RoleFollower Role = "follower"
	RoleNone     Role = "no leader" // a follower that knows no leader (or a candidate)
)

// NetChange is what a MarkNet mark did to the network.
type NetChange uint8

// Network changes.
const (
	NetOther     NetChange = iota // none of the below
	NetPartition                  // a new two-way partition: State
	NetCut                        // a new one-way cut: State
	NetHeal                       // every partition and cut removed
)
