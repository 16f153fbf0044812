package nodes

// Failpoint is one of the named places, as etcd's gofail points
// (tests/robustness/failpoint/gofail.go), where the fault stream may crash
// a member. Two-level activation (FoundationDB's BUGGIFY) is the world's
// business: Config.Failpoint answers, each time a point is reached, whether
// the member dies there. A member reaches one at every pass of its code
// (several per event), so it is a small number: the world keeps its
// per-point state in arrays indexed by it. Its name is the gofail name.
type Failpoint uint8

const (
	FPBeforeSaveWAL Failpoint = iota + 1
	FPAfterWriteWAL           // entries written, not yet fsynced: a crash here tears them
	FPAfterSaveWAL
	FPBeforeSaveSnap
	FPAfterSaveSnap
	FPBeforeApply
	FPAfterApply
	FPBeforeCommit
	FPCommitBeforeSync // commit record written, not yet fsynced
	FPAfterCommit
	FPDefragBeforeCopy
	FPDefragBeforeRenam
	FPCompactSchedule
	FPCompactBatch
	FPCompactFinished

	// NumFailpoints bounds the Failpoint values: arrays indexed by a
	// Failpoint have this length (index 0 is no point).
	NumFailpoints = iota + 1
)

// failpointNames are the points' gofail names, by point.
var failpointNames = [NumFailpoints]string{
	FPBeforeSaveWAL:     "raftBeforeSave",
	FPAfterWriteWAL:     "walBeforeSync",
	FPAfterSaveWAL:      "raftAfterSave",
	FPBeforeSaveSnap:    "raftBeforeSaveSnap",
	FPAfterSaveSnap:     "raftAfterSaveSnap",
	FPBeforeApply:       "beforeApply",
	FPAfterApply:        "afterApply",
	FPBeforeCommit:      "beforeCommit",
	FPCommitBeforeSync:  "commitBeforeSync",
	FPAfterCommit:       "afterCommit",
	FPDefragBeforeCopy:  "defragBeforeCopy",
	FPDefragBeforeRenam: "defragBeforeRename",
	FPCompactSchedule:   "compactBeforeCommitScheduledCompact",
	FPCompactBatch:      "compactBeforeCommitBatch",
	FPCompactFinished:   "compactBeforeSetFinishedCompact",
}

// Failpoints lists every point's name, in stable order (Failpoints[f-1]
// is f's name).
var Failpoints = failpointNames[1:]

// String returns f's gofail name, or "" for no point.
func (f Failpoint) String() string {
	if int(f) >= len(failpointNames) {
		return ""
	}
	return failpointNames[f]
}

// ParseFailpoint returns the point named name.
func ParseFailpoint(name string) (Failpoint, bool) {
	for f := Failpoint(1); f < NumFailpoints; f++ {
		if failpointNames[f] == name {
			return f, true
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
