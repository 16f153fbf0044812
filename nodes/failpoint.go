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
	// etcd's remaining gofail points of the raft loop and the snapshot
	// apply (server/etcdserver/raft.go, server.go). 3.5's
	// raftBeforeSaveWaitWalSync cannot exist with go.etcd.io/raft/v3 and
	// is left out.
	FPBeforeLeaderSend
	FPBeforeFollowerSend
	FPBeforeApplySnap
	FPAfterApplySnap
	FPAfterWALRelease
	FPBeforeOpenSnapshot
	FPBeforeWALSaveSnap // etcd's storage.SaveSnap, between the .snap file and its WAL record

	// NumFailpoints bounds the Failpoint values: arrays indexed by a
	// Failpoint have this length (index 0 is no point).
	NumFailpoints = iota + 1
)

// failpointCatalog is, by point, its gofail name and where it is: the
// one catalog of failpoints (String, Description, ParseFailpoint and
// Failpoints read it).
var failpointCatalog = [NumFailpoints]struct{ name, desc string }{
	FPBeforeSaveWAL:     {"raftBeforeSave", "a Ready's HardState and entries are about to be written to the WAL"},
	FPAfterWriteWAL:     {"walBeforeSync", "the WAL records are written, not yet fsynced"},
	FPAfterSaveWAL:      {"raftAfterSave", "the WAL save is fsynced; messages and applies not yet done"},
	FPBeforeSaveSnap:    {"raftBeforeSaveSnap", "a raft snapshot is about to be saved"},
	FPAfterSaveSnap:     {"raftAfterSaveSnap", "the raft snapshot is saved"},
	FPBeforeApply:       {"beforeApply", "an entry is about to be applied"},
	FPAfterApply:        {"afterApply", "an entry is applied, not yet committed to the backend"},
	FPBeforeCommit:      {"beforeCommit", "a backend batch commit is about to start"},
	FPCommitBeforeSync:  {"commitBeforeSync", "the backend commit record is written, not yet fsynced"},
	FPAfterCommit:       {"afterCommit", "the backend commit is durable"},
	FPDefragBeforeCopy:  {"defragBeforeCopy", "defrag committed pending writes, before copying the database"},
	FPDefragBeforeRenam: {"defragBeforeRename", "defrag's copy is on disk, before it is renamed over the database"},
	FPCompactSchedule:   {"compactBeforeCommitScheduledCompact", "a compaction is about to commit its scheduled revision"},
	FPCompactBatch:      {"compactBeforeCommitBatch", "a compaction is about to commit one batch of deletions"},
	FPCompactFinished:   {"compactBeforeSetFinishedCompact", "a compaction step is about to run (the step that finds it done sets the finished marker)"},

	FPBeforeLeaderSend:   {"raftBeforeLeaderSend", "a leader is about to send its Ready's messages, before saving it"},
	FPBeforeFollowerSend: {"raftBeforeFollowerSend", "a follower's Ready is saved; its messages are about to be sent"},
	FPBeforeApplySnap:    {"raftBeforeApplySnap", "a received snapshot is durable, not yet in raft's storage"},
	FPAfterApplySnap:     {"raftAfterApplySnap", "a received snapshot is in raft's storage; old WAL not yet released"},
	FPAfterWALRelease:    {"raftAfterWALRelease", "old WAL segments and snapshot databases below a received snapshot are released"},
	FPBeforeOpenSnapshot: {"applyBeforeOpenSnapshot", "the apply loop is about to open a received snapshot's database"},
	FPBeforeWALSaveSnap:  {"raftBeforeWALSaveSnaphot", "a .snap file is saved, its WAL record not yet written (etcd's spelling)"},
}

// Failpoints lists every point's name, in stable order (Failpoints[f-1]
// is f's name).
var Failpoints = func() []string {
	out := make([]string, 0, NumFailpoints-1)
	for f := Failpoint(1); f < NumFailpoints; f++ {
		out = append(out, failpointCatalog[f].name)
	}
	return out
}()

// String returns f's gofail name, or "" for no point.
func (f Failpoint) String() string {
	if int(f) >= len(failpointCatalog) {
		return ""
	}
	return failpointCatalog[f].name
}

// Description returns where in the member f is, in one line.
func (f Failpoint) Description() string {
	if int(f) >= len(failpointCatalog) {
		return ""
	}
	return failpointCatalog[f].desc
}

// ParseFailpoint returns the point named name.
func ParseFailpoint(name string) (Failpoint, bool) {
	for f := Failpoint(1); f < NumFailpoints; f++ {
		if failpointCatalog[f].name == name {
			return f, true
		}
	}
	return 0, false
}

// Crashed is the panic value with which a member dies at a failpoint. The
// world recovers it at the call boundary and crashes the member's disk;
// every other panic is a failing seed.
type Crashed struct{ Point string }

// FailpointSet is a set of failpoints, one bit each.
type FailpointSet uint32

// Has reports whether fp is in s.
func (s FailpointSet) Has(fp Failpoint) bool { return s&(1<<fp) != 0 }

// With returns s with fp in it.
func (s FailpointSet) With(fp Failpoint) FailpointSet { return s | 1<<fp }

// The set has a bit for every point.
var _ = [32 - NumFailpoints]struct{}{}

// everyFailpoint is the Armed of a Config that leaves it nil: every
// point. Nothing writes through it.
var everyFailpoint = ^FailpointSet(0)

// failpoint is a pass through fp: the member dies there if
// Config.Failpoint says so. The test of Armed (never nil once the member
// runs: defaults) is inlined at each pass.
func (m *Member) failpoint(fp Failpoint) {
	if m.cfg.Armed.Has(fp) {
		m.reach(fp)
	}
}

// reach asks Config.Failpoint whether the member dies at fp.
func (m *Member) reach(fp Failpoint) {
	if m.cfg.Failpoint != nil && !m.stopping && m.cfg.Failpoint(fp) {
		m.probe(ProbeFailpoint + Probe(fp))
		panic(Crashed{Point: fp.String()})
	}
}
