package nodes

// Failpoints are the named places, as etcd's gofail points
// (tests/robustness/failpoint/gofail.go), where the fault stream may crash
// a member. Two-level activation (FoundationDB's BUGGIFY) is the world's
// business: Config.Failpoint answers, each time a point is reached, whether
// the member dies there.
// Failpoint is one of those places. A member reaches one at every pass of
// its code (several per event), so it is a small number: the world keeps
// its per-point state in arrays indexed by it. Its name is the gofail name.
type Failpoint uint8

const (
	FPBeforeSaveWAL     Failpoint = iota + 1 // raftBeforeSave
	FPAfterWriteWAL                          // walBeforeSync: entries written, not yet fsynced; a crash here tears them
	FPAfterSaveWAL                           // raftAfterSave
	FPBeforeSaveSnap                         // raftBeforeSaveSnap
	FPAfterSaveSnap                          // raftAfterSaveSnap
	FPBeforeApply                            // beforeApply
	FPAfterApply                             // afterApply
	FPBeforeCommit                           // beforeCommit
	FPCommitBeforeSync                       // commitBeforeSync: commit record written, not yet fsynced
	FPAfterCommit                            // afterCommit
	FPDefragBeforeCopy                       // defragBeforeCopy
	FPDefragBeforeRenam                      // defragBeforeRename
	FPCompactSchedule                        // compactBeforeCommitScheduledCompact
	FPCompactBatch                           // compactBeforeCommitBatch
	FPCompactFinished                        // compactBeforeSetFinishedCompact

	// NumFailpoints bounds the Failpoint values: arrays indexed by a
	// Failpoint have this length (index 0 is no point).
	NumFailpoints = iota + 1
)

// Failpoints lists every point's name, in stable order (Failpoints[f-1]
// is f's name).
var Failpoints = []string{
	"raftBeforeSave", "walBeforeSync", "raftAfterSave", "raftBeforeSaveSnap", "raftAfterSaveSnap",
	"beforeApply", "afterApply", "beforeCommit", "commitBeforeSync", "afterCommit",
	"defragBeforeCopy", "defragBeforeRename", "compactBeforeCommitScheduledCompact",
	"compactBeforeCommitBatch", "compactBeforeSetFinishedCompact",
}

// String returns f's gofail name, or "" for no point.
func (f Failpoint) String() string {
	if f == 0 || int(f) > len(Failpoints) {
		return ""
	}
	return Failpoints[f-1]
}

// ParseFailpoint returns the point named name.
func ParseFailpoint(name string) (Failpoint, bool) {
	for i, n := range Failpoints {
		if n == name {
			return Failpoint(i + 1), true
		}
	}
	return 0, false
}

// Crashed is the panic value with which a member dies at a failpoint. The
// world recovers it at the call boundary and crashes the member's disk;
// every other panic is a failing seed.
type Crashed struct{ Point string }

func (m *Member) failpoint(fp Failpoint) {
	if m.cfg.Failpoint != nil && m.cfg.Failpoint(fp) {
		panic(Crashed{Point: fp.String()})
	}
}
