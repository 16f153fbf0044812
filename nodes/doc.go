/*
Package nodes is the etcd-like member of etcdsim: a go.etcd.io/raft/v3
RawNode over a MemoryStorage rebuilt from a WAL and a snapshot, etcd's Ready
loop and apply loop, a batched backend with the consistent index, MVCC,
auth and leases — each mechanism placed where etcd keeps it, so that etcd's
historical bugs have somewhere to live, and each bug mode has an obvious
home.

# Driving a member

A member never schedules anything and never reads a clock. The world calls
it — Tick, Step (a raft message), Submit (a client request), Fire (one of
its timers) — and after each call drains Out: raft messages to send,
replies to clients, and timers to set. Every step of persistence and apply
is a separate timer, so the world can crash the member between any two of
them.

# The Ready loop (ready.go), etcd's raftNode.start

When no Ready is being persisted and raft has one, the member:

 1. Queues a snapshot and the committed entries for the apply loop. Apply
    runs concurrently with the WAL write of the same Ready; a snapshot, and
    with one voter the committed entries that overlap the unstable ones
    (shouldWaitWALSync, #14370), wait for the fsync.
 2. As leader, sends its messages before saving (raft thesis §10.2.1).
    A MsgSnap carries the whole backend, committed first (etcd's merged
    snapshot message).
 3. Saves a received snapshot (.snap file, then the WAL record, #11888),
    and writes entries and HardState to the WAL. The write is volatile.
    When raft.MustSync says so (and after a snapshot, #10219) a timer after
    the fsync's latency finishes the Ready; otherwise — a HardState change
    that only advances Commit — it finishes at once, as etcd's WAL.Save
    without a sync only fills the page writer's buffer.
 4. finishReady: fsync if needed, append to the MemoryStorage, send a
    follower's messages, Advance, and release the held entries to the
    apply loop. The failpoints before and after the WAL write fire either
    way.

Raft's HasReady is asked again only after a call that may change raft
(node()): an event that calls no raft (an apply, a commit) finds it idle.
The MemoryStorage (storage.go) keeps its first and last index, the term
before first and its entries at hand, kept in step at each change the
member makes to it, so that raft's reads of the bounds and terms, several
per message, take no lock, and its reads of entries well within their
size limit skip limitSize's proto.Size of every entry (an upper bound of
their size decides; above it MemoryStorage answers); every other answer
is MemoryStorage's own.

# The apply loop (apply.go), etcd's applyAll

One entry per timer, so that a backend commit or a crash can fall between
any two applies. An entry at or below the consistent index is skipped
(shouldApplyV3), and a run of such normal entries (a restart's replay) is
skipped in one timer, as etcd's apply loop walks it at almost no cost;
each still passes the apply failpoints and is reported to the checks. Otherwise, as etcd v3.5.5+: the applying index is set; the
apply's backend lock promotes it to the consistent index (LockInsideApply,
#13854); a deferred step advances it even when the apply took no lock
(#13942, #14419). Every N entries (SnapshotCount) the member commits the
backend, saves a raft snapshot, releases WAL segments and compacts the raft
log (triggerSnapshot).

A received snapshot's apply (applySnapshot) takes simulated time, 1 ms and
20 ns per byte of its database (bbolt's open and the mvcc restore at about
50 MB/s), during which the apply loop is busy and raft goes on stepping, as
etcd's applySnapshot runs on the apply goroutine; the stores switch at its
end, its database is kept from release meanwhile, and a MsgSnap raft asks
for waits for it (etcd's msgSnapC is read by the apply goroutine).

# Linearizable reads (reads.go), etcd's linearizableReadLoop

A linearizable range (and MemberList) waits for the member's read loop,
which confirms one read index at a time for every read that arrived before
its round began: a ReadIndex with a fresh request ID, sent again after
500 ms without an answer and when a leader's first entry of its term is
applied; a new leader before the answer fails the round's reads with
ErrLeaderChanged, no answer within ReqTimeout with ErrTimeout. Once
answered, the round waits for the apply loop to reach the index, serves its
reads, and the next round starts. That is etcd's loop as fixed for #20418
(no request ID reused across sends; the leader change checked before the
answer). A leader's lease keep-alive passes through the same loop, as
etcd's LeaseRenew ensures its leadership (#16822) and then waits for its
apply loop to reach the commit index before the lessor renews.

# The backend (commit.go, nodes/backend)

A batch transaction committed every BatchInterval when writes are pending
(backend.run), at BatchLimit pending writes, or forced (compaction,
snapshot, defrag). Every commit runs the pre-commit hook first, which
writes the in-memory consistent index and term into the same batch
(OnPreCommitUnsafe, in unsafeCommit since #14730). Compaction
force-commits its scheduled revision and each batch of deletions, and
writes the finished marker with the last batch (#17780). Defrag commits,
copies the database, and renames the copy over it on a later timer.

# Restart (boot.go)

Start on an empty disk bootstraps the cluster. On a crash image it opens
the WAL (etcd's decoder: a record cut short, or whose CRC failed over a
zeroed sector chunk, in the last file is a torn tail and is cut; any other
CRC failure is "walpb: crc mismatch" and the boot fails, "failed to read
WAL, cannot be repaired"), loads the
newest snapshot the WAL vouches for, reopens the backend — taking the
received <index>.snap.db in place when the backend's consistent index is
below the snapshot (RecoverSnapshotBackend) —, restores MVCC, auth and
leases from it, and lets raft deliver every committed entry above the
snapshot again; the apply loop skips those at or below the consistent
index.

# A clean shutdown (stop.go)

Stop is etcd's graceful stop: the applies the apply loop was handed run
(the Ready being persisted finishes first), the WAL is closed synced, an
unfinished compaction is left for the next start, and the backend commits
through the consistent-index hook; no failpoint fires meanwhile. Verify is
etcd's server/verify over what a member left, read without changing it.
Boot makes etcd's bootstrap check of #17151: a backend whose consistent
index is below the snapshot the raft log starts from refuses to start.

# What the checks are told (Observer)

Besides commits, applies, durable backend commits, WAL syncs and snapshot
installs, a member tells its observer every raft message it hands to its
transport (Sending), so that raft's contract can be checked at the send
against what its disk holds synced (WALDurable, from the WAL's batches and
the disk's durable sizes). The lessor reads the member's own monotonic
clock (Config.Now), as etcd's reads time.Now.
# Membership (membership.go, raftcluster.go, member_api.go)

With Config.Membership (worlds with membership churn) a member keeps
etcd 3.6's RaftCluster: the members and members_removed buckets, written
under the apply's backend lock (so the consistent index lands in the same
commit), the in-memory copy loaded from the backend at start and at a
snapshot install, and a v2 copy, etcd's v2store, restored from the raft
snapshot's data and changed by every entry, against which entries at or
below the consistent index validate. Conf changes are etcd's: the
bootstrap entries carry their members; ValidateConfigurationChange runs at
apply (an ID removed, exists or not found, a peer URL taken, at most
--max-learners learners, only a learner promoted), and a refused change
reaches raft as an empty one. The cluster API checks before proposing: the
admin permission, --strict-reconfig-check (started voters a quorum,
connected to a quorum for HealthInterval, on the receiving member's
transport) and, for a promote, the leader's isLearnerReady (a follower
forwards it over the peer channel). A learner serves only serializable
ranges; peers refuse a removed member's messages, and it stops; a leader's
snapshot message is at its applied index with its configuration of now
(createMergedSnapshotMessage). A follower whose Ready commits a conf change
sends only once the apply loop applied it. Without Config.Membership none
of it is written and the configuration is raft's bootstrap one.

# Failpoints and crashes (failpoint.go)

Named points, as etcd's gofail points, where Config.Failpoint may answer
that the member dies (it is asked only at the points Config.Armed holds,
when set): it panics with Crashed, which the world recovers,
keeping only the crash image of the member's disk. Any other panic is a
failing seed. Every gofail point of etcd's raft loop and snapshot apply
is here (raftBeforeLeaderSend and raftBeforeFollowerSend around the
sends, raftBeforeApplySnap, raftAfterApplySnap and raftAfterWALRelease
around a received snapshot's storage and release, applyBeforeOpenSnapshot,
raftBeforeWALSaveSnaphot); 3.5's raftBeforeSaveWaitWalSync cannot exist
with go.etcd.io/raft/v3.

# Coverage probes (probe.go)

A Probe names a branch that matters; the member counts each pass into
Config.Probes, an array the world shares (an increment: no map, no
string). Dying counts what a member was in the middle of when it dies.

# Bug modes (bugs.go)

Each historical behaviour is one flag of Bugs, and its code says which etcd
issue it restores: auth-ci (#11651), ci-before-lock (#13766),
ack-before-wal-sync (#14370), lease-revoke-no-auth (#11689),
defrag-no-ci-hook (#14685), compaction-rev-regress (#17780),
perm-cache-stale (#14355, #14571), stale-read, serve-before-ready (raft
#105), wal-snapshot-gap and bootstrap-not-durable (#2877), renew-trusts-tick
(the isActive shortcut of PR #18428; etcdsim's finding), and the membership modes
promotion-not-persisted (#19557), promote-forward-auth (#14070, #20757),
member-update-learner (#21694), promote-quorum-miscount (#11633) and
update-replay-learner (etcdsim's finding). The zero value is the correct model.
*/
package nodes
