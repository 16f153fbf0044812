// Package linearizable checks that a client history of an etcd-like store
// is linearizable against etcd's KV API: the invariant "linearizable" of
// etcdsim. It runs over a whole history (Check, CheckBudget), or over a
// long one in windows (Prefix, CheckAfter; see window.go). ReadHistory
// and ReadEtcdReport read histories recorded elsewhere: the JSON-lines
// format of docs/check-format.md, and the client reports etcd's
// robustness tests persist.
//
// # Input
//
// A history is a []Op: who asked (ClientID), what (a nodes.Request), when
// (Call and Return, in simulated nanoseconds), and what came back (a
// nodes.Result), or Unknown when the client gave up waiting. A result may
// carry no revisions (Op.NoRev: a history recorded without them); then
// only the revision-free parts of the model judge it. The package does not
// import sim; sim converts its own history (see Op).
//
// Check keeps, of the requests it is given:
//
//   - puts, delete-ranges and txns, and linearizable ranges;
//   - not serializable ranges (served from local state, stale by design),
//     compactions or defragmentations (not part of the KV model; the
//     workload's ranges read the current revision, which a compaction does
//     not change), nor ranges that failed or timed out (they show nothing);
//   - ranges at a past revision only in the revision sub-checks.
//
// # Outcomes
//
// A request answered OK happened exactly once, between its call and its
// return. A write whose outcome is unknown (a timeout; a Return before its
// Call, which is how a request still outstanding at the end of the run
// should be passed) may have taken effect at any moment after its call, or
// never. The client that gave up continues under a new ClientID.
//
// etcd's robustness tests give such a write a return time of infinity.
// That alone makes porcupine try every subset of the open unknown writes
// at every point, which real histories (hundreds of timeouts around a
// partition) do not survive. So the model lets an unknown write also take
// no effect (the same as taking effect after everyone, or never), and the
// revisions bound the rest (see unknown.go): an unknown write took a
// revision that no done request took (a gap), or one above every revision
// returned, where no one saw it; it is left out when no gap is left for
// it, and on each key its return time becomes the moment the last gap it
// could take was known to have been applied. A done read that showed the
// key with mod revision m at header h rules out a write on that key at
// m+1..h. And an unknown write whose key-value a read returned, when no
// other request of the history puts that key-value, took effect before
// that read returned, in the branch holding that put, at the mod revision
// the read showed (as etcd's robustness tests patch their histories).
//
// A caller that knows the cluster's committed log settles such a write
// (Op.Log, as etcd's robustness tests do from the persisted requests): one
// no committed entry carried did not happen, one that was committed took
// effect between its call and the moment a member first knew it committed,
// with the apply's branch and revision. etcdsim settles every write whose
// client gave up, so its histories have no open outcomes left.
//
// A put, delete-range or txn answered with an error code is taken, per
// code, as:
//
//	no-leader                     did not happen: raft dropped the proposal before any log had it
//	compacted, future-rev         did not happen: the entry applied and the txn was refused
//	auth-old-revision, permission-denied, user-empty, auth-failed,
//	lease-not-found, bad-request  did not happen: refused before or at apply, nothing written
//	stopped, and any other code   unknown outcome: the member may have proposed it before stopping
//
// Leases and auth requests are not part of the model: a key put with a
// lease may vanish at any moment (expiry, or a revoke).
//
// # Sub-checks
//
// etcd's revision is one counter over the whole store: every write
// transaction that changes something takes the next main revision, and
// every response carries the store revision it was served at. So a full
// model cannot be split by key. Check does both halves:
//
//  1. The revision sub-checks, global and cheap (O(n log n)), over the
//     requests answered OK:
//     revision-unique — writes that took a revision (a put; a delete or txn
//     that deleted something; a txn whose branch puts) took distinct ones;
//     revision-order — such a write took a revision above the header
//     revision of every request that returned before it was called;
//     read-revision — any other request (a read, a write that changed
//     nothing) was answered at a revision no lower than that of every
//     request that returned before it was called.
//     header-revision — the revisions between the highest returned before a
//     request was called and its reply's header were taken by writes called
//     before the reply came: those of known revision, and at most one
//     each of unknown revision (not checked when leases may take
//     revisions no request records).
//     They catch a revision going back after a crash (etcd #17780) and an
//     acknowledged write lost and its revision reused (#14370). An unknown
//     write a read saw (see above) counts for revision-unique.
//  2. The KV model, "kv-model": porcupine over each key's history, the key
//     state being etcd's KeyValue (exists, value, version, create and mod
//     revision, lease). A put sets the mod revision to the revision it
//     returned (an unknown put to a span: from the first gap above every
//     revision returned before its call and the key's mod revision); a
//     delete removes
//     the key; a txn's compares on the key decide its branch, which must
//     be the one the result reports; a range must show the key as the
//     state holds it, with a mod revision no higher than its header
//     revision. Reads narrow revision spans to what they show.
//
// A request over several keys (a multi-key delete-range or range, a txn
// over several keys) is put into the partition of every key it touches, as
// its projection onto that key: the key set is every key the history names
// (a key no request names was never written). Projection is sound (the
// projection of a linearizable history is linearizable, with the same
// points) but does not check the atomicity of a multi-key request across
// keys. A txn's compares on other keys, and compares over a range of keys,
// are not evaluated: they only leave its branch open. Only a branch's last
// range is checked, since a nodes.Result carries only its result, and only
// when it reads the current revision without limit or count-only. A
// delete's count is checked when it pins one key (a single-key delete) or
// is zero.
//
// # The search and its budget
//
// Each key's history is searched as porcupine searches it (search.go: the
// same algorithm and order, written here), two keys at a time, within a
// Budget: a time limit, and a memory share per key counted in the
// configurations the search keeps. A search that runs out ends the check
// as Result.Unknown with its Reason (unless a sub-check failed): never a
// pass, never a failure, never a hang or an exhausted heap. Unknown writes
// whose values no read showed and no compare names (anonymous) are
// interchangeable on their key: they write one placeholder value, so
// states differing only in which of them the key holds are one, and the
// search tries one of each kind at a time; this keeps thousands of them
// cheap (a 6,000-request history on one key with 1,186 unknown writes,
// with or without revisions, in under a second). A history that
// starts from a store holding data takes no revision below its first for
// a gap (historyFloor).
//
// # Output
//
// Check returns a Result: OK, the names of the failed sub-checks, and one
// line per failure naming the key and the requests. It is deterministic
// (the search is, per key; keys are reported in order; the memory budget
// is counted, not measured) unless the time budget ends the search.
// Visualize writes porcupine's HTML view, with annotations for faults.
package linearizable
