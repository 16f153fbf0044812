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
