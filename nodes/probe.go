package nodes

import (
	"fmt"
	"strings"
)

// Probe is a coverage probe, in the manner of FoundationDB's CODE_PROBE and
// Antithesis's "sometimes" assertions: a named branch that matters, counted
// each time a world passes it, so that a clean swarm can tell "correct" from
// "never went there". Probes are counted in a ProbeCounts array indexed by
// Probe (an increment, no map or string on the hot path); their names are
// stable and reach the swarm's JSON and its coverage table.
//
// The probe space is a few blocks: a failpoint that fired (one probe per
// Failpoint), a disk fault that hit a kind of file at a crash image (fault
// × file), a client request kind with its outcome (kind × ok, error,
// unknown), an outcome code a client saw, and the named probes of probeInfo.
type Probe uint16

// The probe blocks. A block's probes follow its base: ProbeFailpoint+fp,
// ProbeDisk+fault*NumFileKinds+file, ProbeRequest+kind*NumOutcomes+outcome,
// ProbeCode+code.
const (
	ProbeFailpoint Probe = 0
	ProbeDisk            = ProbeFailpoint + Probe(NumFailpoints)
	ProbeRequest         = ProbeDisk + Probe(NumDiskFaults*NumFileKinds)
	ProbeCode            = ProbeRequest + Probe(len(kindNames)*NumOutcomes)
	probeNamed           = ProbeCode + Probe(len(codeNames))
)

// The named probes: each is one branch of the member or the world.
const (
	ProbeSnapSend             Probe = probeNamed + iota // a leader sends a MsgSnap with its database
	ProbeSnapReceive                                    // a follower writes a received <index>.snap.db
	ProbeSnapReceivePending                             // a snapshot arrives while an older one waits to be applied
	ProbeSnapSave                                       // a received snapshot is saved (.snap, WAL record)
	ProbeSnapApply                                      // a received snapshot is applied
	ProbeSnapOpenBackend                                // the received database is opened as the backend
	ProbeSnapRelease                                    // received databases below a snapshot are removed
	ProbeSnapLocal                                      // a member saves a snapshot of its own (triggerSnapshot)
	ProbeSnapWALRelease                                 // WAL segments below a snapshot are released
	ProbeSnapWithEntries                                // a received snapshot and entries after it are saved in one Ready
	ProbeCrashSnapReceived                              // a member dies with a received snapshot not yet saved
	ProbeCrashSnapSaved                                 // a member dies with a saved snapshot not yet applied
	ProbeCrashCompacting                                // a member dies with a compaction unfinished
	ProbeCrashDefrag                                    // a member dies between defrag's copy and rename
	ProbeCrashApplyBehind                               // a member dies with committed entries not yet applied
	ProbeRestartFresh                                   // a member bootstraps on an empty disk
	ProbeRestartBlankWAL                                // a blank WAL is removed and the member bootstraps again
	ProbeRestartWAL                                     // a member restarts from its WAL with no snapshot
	ProbeRestartSnapshot                                // a member restarts from a snapshot and the WAL after it
	ProbeRestartSnapFiles                               // a restart chooses among several .snap files
	ProbeRestartOlderSnap                               // a restart loads a .snap file older than the newest on disk
	ProbeRestartSnapDB                                  // a restart takes a received .snap.db as its backend
	ProbeRestartTornTail                                // a restart cuts a torn WAL tail
	ProbeRestartCompaction                              // a restart resumes an unfinished compaction
	ProbeRestartFailed                                  // a member cannot restart from its disk
	ProbeRestartCrash                                   // a member dies at a failpoint while starting
	ProbeCompactSchedule                                // a compaction commits its scheduled revision
	ProbeCompactBatch                                   // a compaction commits a batch of deletions
	ProbeCompactDone                                    // a compaction finishes
	ProbeDefragCopy                                     // defrag copies the database
	ProbeDefragRename                                   // defrag renames the copy over the database
	ProbeDefragBusy                                     // a defrag request finds one running
	ProbeLeaseExpire                                    // the leader revokes an expired lease
	ProbeReadIndex                                      // a linearizable read is served after ReadIndex
	ProbeReadSerializable                               // a serializable read is served from local state
	ProbeApplySkip                                      // an entry at or below the consistent index is skipped
	ProbeLeaderChange                                   // a member sees a new leader
	ProbeRestartTornCRC                                 // a restart cuts the last WAL file at a record whose CRC failed over a zeroed sector chunk (etcd's isTornEntry)
	ProbeRestartCRCMismatch                             // a restart fails on a WAL record whose CRC failed outside the torn-write rule (etcd's ErrCRCMismatch)
	ProbeSnapApplyInterleaved                           // an event reaches a member while it applies a received snapshot
	ProbeReadBuffered                                   // a reader of a bucket other than key is served from the read buffer between a write and the next commit
	ProbeCommitOnDelete                                 // a write transaction that deleted commits at its unlock (etcd PR 17119)

	// NumProbes bounds the Probe values: a ProbeCounts has this length.
	NumProbes = iota + int(probeNamed)
)

// NumOutcomes is the number of request outcomes a client tells apart.
const NumOutcomes = 3

// The outcomes of a client request, as the probes of ProbeRequest count them.
const (
	OutcomeOK      = 0 // an answer with code ok
	OutcomeError   = 1 // an answer with an error code
	OutcomeUnknown = 2 // no answer: a timeout or a reset connection
)

var outcomeNames = [NumOutcomes]string{"ok", "error", "unknown"}

// NumDiskFaults and NumFileKinds size the disk block of the probes: each
// in-model crash-image fault that hit each kind of file.
const (
	NumDiskFaults = 5
	NumFileKinds  = 4
)

// DiskFaultNames are the crash-image faults the disk probes tell apart:
// the fault line's kinds, the baseline loss of unsynced sectors, and a
// torn write that kept a sector after a lost one (out of order).
var DiskFaultNames = [NumDiskFaults]string{
	"torn_write", "keep_unsynced", "dir_loss", "lost_unsynced", "torn_unordered",
}

// FileKindNames are the kinds of a member's files: WAL segments, .snap
// files, received .snap.db databases, the backend and its defrag copy.
var FileKindNames = [NumFileKinds]string{"wal", "snap", "snapdb", "backend"}

// diskCanHit says which fault can hit which kind of file. A .snap file and
// a received .snap.db are written, synced and named durably in one step
// (snap.Save; the snapshot handler's SaveDBFrom), so a crash never finds
// them unsynced; the WAL syncs the directory after each segment it
// creates, renames or removes. What remains: a WAL segment or the backend
// torn or with unsynced sectors, and an unsynced rename of a .snap.db over
// the backend (etcd's OpenSnapshotBackend renames without a directory
// sync) or create of the defrag copy, undone.
var diskCanHit = [NumDiskFaults][NumFileKinds]bool{
	{true, false, false, true}, {true, false, false, true},
	{false, false, true, true}, {true, false, false, true},
	{true, false, false, true},
}

// FileKind returns the kind of a member's file by its name (an index of
// FileKindNames).
func FileKind(name string) int {
	switch {
	case strings.HasSuffix(name, ".snap.db"):
		return 2
	case strings.Contains(name, ".wal"):
		return 0
	case strings.Contains(name, ".snap"):
		return 1
	}
	return 3 // the backend, or its defrag copy
}

// probeNames is, per named probe, its stable name; the constants say
// what each means.
var probeNames = [NumProbes - int(probeNamed)]string{
	"snap/send", "snap/receive", "snap/receive-pending", "snap/save", "snap/apply",
	"snap/open-backend", "snap/release", "snap/local", "snap/wal-release",
	"snap/with-entries",
	"crash/snap-received", "crash/snap-saved", "crash/compacting", "crash/defrag",
	"crash/apply-behind", "restart/fresh", "restart/blank-wal", "restart/wal",
	"restart/snapshot", "restart/snap-files", "restart/older-snap", "restart/snapdb",
	"restart/torn-tail", "restart/compaction", "restart/failed", "restart/crash",
	"compact/schedule", "compact/batch", "compact/done", "defrag/copy", "defrag/rename",
	"defrag/busy", "lease/expire", "read/index", "read/serializable", "apply/skip",
	"raft/leader-change", "restart/torn-crc", "restart/crc-mismatch", "snap/apply-interleaved",
	"backend/read-buffered", "backend/commit-delete",
}

// String returns p's stable name ("failpoint/raftBeforeSave",
// "disk/torn_write/wal", "request/put/ok", "code/compacted", "snap/send").
func (p Probe) String() string {
	switch {
	case int(p) >= NumProbes:
		return fmt.Sprintf("probe(%d)", p)
	case p >= probeNamed:
		return probeNames[p-probeNamed]
	case p >= ProbeCode:
		return "code/" + codeNames[p-ProbeCode]
	case p >= ProbeRequest:
		k := int(p - ProbeRequest)
		return "request/" + kindNames[k/NumOutcomes] + "/" + outcomeNames[k%NumOutcomes]
	case p >= ProbeDisk && p < ProbeRequest:
		k := int(p - ProbeDisk)
		return "disk/" + DiskFaultNames[k/NumFileKinds] + "/" + FileKindNames[k%NumFileKinds]
	}
	return "failpoint/" + Failpoint(p).String()
}

// Valid reports whether p names a probe that can be hit: not the zero
// failpoint or request kind, not a request kind no client sends, not a
// disk fault that cannot hit that kind of file (diskCanHit).
func (p Probe) Valid() bool {
	switch {
	case int(p) >= NumProbes:
		return false
	case p >= ProbeRequest && p < ProbeCode:
		k := Kind((p - ProbeRequest) / NumOutcomes)
		return k != 0 && k != KindPublish && k != KindClusterVersion // a member's own, never a client's
	case p >= ProbeDisk && p < ProbeRequest:
		k := int(p - ProbeDisk)
		return diskCanHit[k/NumFileKinds][k%NumFileKinds]
	case p < ProbeDisk:
		return p != ProbeFailpoint
	}
	return true
}

// RequestProbe returns the probe of a request of kind k with outcome o.
func RequestProbe(k Kind, o int) Probe {
	return ProbeRequest + Probe(int(k)*NumOutcomes+o)
}

// DiskProbe returns the probe of disk fault f hitting a file of kind file.
func DiskProbe(f, file int) Probe { return ProbeDisk + Probe(f*NumFileKinds+file) }

// Probes returns every probe, in stable order.
func Probes() []Probe {
	out := make([]Probe, 0, NumProbes)
	for p := Probe(0); int(p) < NumProbes; p++ {
		if p.Valid() {
			out = append(out, p)
		}
	}
	return out
}

// ParseProbe returns the probe named name.
func ParseProbe(name string) (Probe, bool) {
	p, ok := probeByName[name]
	return p, ok
}

// probeByName maps every probe's name to it: a swarm's coordinator parses
// each seed's probes by name, and building every name per lookup cost
// half its CPU.
var probeByName = func() map[string]Probe {
	m := make(map[string]Probe, NumProbes)
	for _, p := range Probes() {
		m[p.String()] = p
	}
	return m
}()

// ProbeCounts counts each probe's hits in one world, over every member and
// every life.
type ProbeCounts [NumProbes]uint32

// Hit counts one pass through p; a nil ProbeCounts counts nothing.
func (c *ProbeCounts) Hit(p Probe) {
	if c != nil {
		c[p]++
	}
}

// probe counts one pass of the member through p.
func (m *Member) probe(p Probe) { m.cfg.Probes.Hit(p) }
