package nodes

// requiredProbes are the probes that the default swarm must hit over a
// fixed seed range (TestRequiredProbes in sim): reach that must not
// silently regress. Each is hit in at least a fifth of default seeds; a
// probe that only some worlds reach, or only rarely, is counted but not
// required.
var requiredProbes = []string{
	"failpoint/raftBeforeSave", "failpoint/walBeforeSync", "failpoint/raftAfterSave",
	"failpoint/raftBeforeSaveSnap", "failpoint/beforeApply",
	"snap/send", "snap/receive", "snap/save", "snap/apply", "snap/open-backend",
	"snap/local", "snap/wal-release", "snap/apply-interleaved",
	"crash/compacting", "crash/apply-behind", "crash/snap-saved",
	"restart/fresh", "restart/wal", "restart/snapshot", "restart/snap-files", "restart/snapdb",
	"restart/compaction",
	"compact/schedule", "compact/batch", "compact/done", "defrag/copy", "defrag/rename",
	"lease/expire", "read/index", "read/serializable", "apply/skip", "raft/leader-change",
	"disk/torn_write/wal", "disk/keep_unsynced/wal", "disk/lost_unsynced/wal",
	"request/put/ok", "request/put/unknown", "request/delete/ok", "request/txn/ok",
	"request/range/ok", "request/compact/ok", "request/defrag/ok",
	"request/lease-grant/ok", "request/lease-revoke/ok", "request/lease-keepalive/ok",
	"request/auth-enable/ok", "request/user-add/ok", "request/user-passwd/ok",
	"request/user-grant/ok", "request/user-revoke/ok", "request/role-add/ok",
	"request/role-grant/ok",
	"code/compacted", "code/permission-denied", "code/lease-not-found", "code/unavailable",
}

// required marks, by probe, those of requiredProbes.
var required = func() (r [NumProbes]bool) {
	for _, name := range requiredProbes {
		p, ok := ParseProbe(name)
		if !ok {
			panic("nodes: required probe " + name + " does not exist")
		}
		r[p] = true
	}
	return r
}()

// Required reports whether p is a required probe.
func Required(p Probe) bool { return int(p) < NumProbes && required[p] }

// Scope is where a probe is reached. Issue 17's figure, every probe hit in
// at least one seed of the default swarm (seeds 1..1000), counts the
// probes of ScopeDefault; the others are reached elsewhere, for the
// reason scopes gives, and are shown apart in the coverage table.
type Scope uint8

// The scopes.
const (
	ScopeDefault Scope = iota // the default swarm reaches it
	// ScopeChurn: it needs the membership to change (or a learner, or a
	// voter not yet started), which no default world does: its clients
	// send only cluster API requests that leave the membership as it is.
	// The churn swarm (swarm --churn 3) reaches it.
	ScopeChurn
	// ScopeFailure: only a fault outside the model reaches it (the correct
	// model never fails to restart); sim's TestFailurePathProbes runs the
	// scenario that does, so that it cannot silently rot.
	ScopeFailure
)

var scopeNames = [...]string{"", "churn", "failure"}

func (s Scope) String() string { return scopeNames[s] }

// scopes is, by probe name, the probes out of the default scope and why.
var scopes = map[string]struct {
	Scope  Scope
	Reason string
}{
	"request/member-add/ok":          {ScopeChurn, "a member added"},
	"request/member-promote/ok":      {ScopeChurn, "a learner promoted"},
	"request/member-remove/ok":       {ScopeChurn, "a member removed"},
	"code/member-exists":             {ScopeChurn, "an add of a member ID in the cluster: the same add twice within the second, after the first took"},
	"code/too-many-learners":         {ScopeChurn, "a learner in the cluster already"},
	"code/not-enough-started":        {ScopeChurn, "a voter added whose process has not published yet"},
	"code/not-supported-for-learner": {ScopeChurn, "a learner that clients reach"},
	"restart/failed":                 {ScopeFailure, "a crash image the member cannot start from: disk.bit_flip (out of model)"},
	"restart/crc-mismatch":           {ScopeFailure, "a WAL record damaged before the tail (etcd's ErrCRCMismatch): disk.bit_flip (out of model)"},
}

// ProbeScope returns where p is reached, and why not in the default swarm.
func ProbeScope(p Probe) (Scope, string) {
	s, ok := scopes[p.String()]
	if !ok {
		return ScopeDefault, ""
	}
	return s.Scope, s.Reason
}
