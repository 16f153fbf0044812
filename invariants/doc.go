// Package invariants holds the checks that the world runs after every
// step, and the reference state machine they compare against.
//
// The reference is the committed log (as log-matching agrees it) applied
// in order in memory, with no disk, no batching and no crashes, through the
// same pure apply code the members run (nodes.State over a backend.Mem).
// A member can therefore only differ from it by what its persistence does,
// which is what etcd's historical bugs got wrong. It keeps a record per
// index only while a member can still need it: from the lowest, over the
// members, of its newest snapshot (a restart begins at a WAL snapshot
// record at or after it) and its last durable consistent index (Checker.forget). A check
// that finds its record gone counts in Checker.Unchecked instead of
// failing; that count is 0 unless the bound is wrong.
//
// Each check has a stable name (Invariant), used in output, seed files
// and the swarm's JSON; Catalog lists them with one line each, and
// `etcdsim catalog` prints it. A violation names its invariant and the
// member its evidence accuses (Violation.Member), so that no reader
// parses the evidence:
//
//	election-safety             at most one leader per term
//	log-matching                every member that commits index i commits the same entry
//	hardstate-durable           a member's term and vote never go back across a restart
//	applied-le-committed        no member applies past what it has committed
//	commit-atomicity            every durable backend commit holds exactly the reference state
//	                            after entries 1..CI, CI being the index stored in that commit
//	equal-revisions             members at applied index i have the revision, compact revision
//	                            and KV hash of the reference at i
//	consistent-index-monotonic  the persisted CI never decreases and never passes the durable WAL
//	apply-determinism           every member that applies i gets the reference's outcome
//	auth-revision-agreement     members at i have the reference's auth revision, users, roles
//	                            and permission cache
//	restart-clean               a restart succeeds, without panic, to exactly the reference
//	                            state at its persisted CI
//	acked-durable               an acknowledged write is durable on a quorum of voters
//	linearizable                the client history is linearizable (checked by the world,
//	                            with porcupine), and serializable reads never go back
//	liveness                    once faults stop, the cluster converges and serves a write
//	panic                       no member panics, other than dying at a failpoint
//	persisted-before-send       a raft message leaves only once the term and vote it
//	                            reveals, and the entries or snapshot it acknowledges,
//	                            are durable on its sender (a leader's own appends excepted)
//	server-verify               etcd's server/verify holds on a member's data: all of it
//	                            after a graceful stop, its term check at every restart
//	install-covers-snapshot     an installed snapshot's backend has a consistent index at
//	                            least the snapshot's index
//	lease-semantics             leases expire no sooner than etcd promises after their grant
//	                            and the last acknowledged keep-alive; a keep-alive succeeds
//	                            only on a live lease, with at most its granted TTL; revoked
//	                            keys vanish in the revoke's revision (checked by the world)
//	membership-agreement        at every applied index a member's raft ConfState is the
//	                            reference's, and its members bucket holds the same voters
//	                            and learners (worlds that model membership)
//	auth-decisions              an auth refusal given before proposing (the cluster API's
//	                            admin check) is the one the reference auth state at that
//	                            auth revision gives the client's own user
//	removed-member              a member wins an election only while its own configuration
//	                            holds it as a voter (no removed member, no learner)
//
// Members are read through View, a small read-only interface of this
// package's own that nodes.Member satisfies.
package invariants
