package nodes

// Failpoints are the named places, as etcd's gofail points
// (tests/robustness/failpoint/gofail.go), where the fault stream may crash
// a member. Two-level activation (FoundationDB's BUGGIFY) is the world's
// business: Config.Failpoint answers, each time a point is reached, whether
// the member dies there.
const (
	FPBeforeSaveWAL     = "raftBeforeSave"
	FPAfterWriteWAL     = "walBeforeSync" // entries written, not yet fsynced: a crash here tears them
	FPAfterSaveWAL      = "raftAfterSave"
	FPBeforeSaveSnap    = "raftBeforeSaveSnap"
	FPAfterSaveSnap     = "raftAfterSaveSnap"
	FPBeforeApply       = "beforeApply"
	FPAfterApply        = "afterApply"
	FPBeforeCommit      = "beforeCommit"
	FPCommitBeforeSync  = "commitBeforeSync" // commit record written, not yet fsynced
	FPAfterCommit       = "afterCommit"
	FPDefragBeforeCopy  = "defragBeforeCopy"
	FPDefragBeforeRenam = "defragBeforeRename"
	FPCompactSchedule   = "compactBeforeCommitScheduledCompact"
	FPCompactBatch      = "compactBeforeCommitBatch"
	FPCompactFinished   = "compactBeforeSetFinishedCompact"
)

// Failpoints lists every named point, in stable order.
var Failpoints = []string{
	FPBeforeSaveWAL, FPAfterWriteWAL, FPAfterSaveWAL, FPBeforeSaveSnap, FPAfterSaveSnap,
	FPBeforeApply, FPAfterApply, FPBeforeCommit, FPCommitBeforeSync, FPAfterCommit,
	FPDefragBeforeCopy, FPDefragBeforeRenam, FPCompactSchedule, FPCompactBatch, FPCompactFinished,
}

// Crashed is the panic value with which a member dies at a failpoint. The
// world recovers it at the call boundary and crashes the member's disk;
// every other panic is a failing seed.
type Crashed struct{ Point string }

func (m *Member) failpoint(name string) {
	if m.cfg.Failpoint != nil && m.cfg.Failpoint(name) {
		panic(Crashed{Point: name})
	}
}
