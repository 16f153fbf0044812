package invariants

// Invariant is the stable name of one check, as output, seed files
// ("expect: fail:NAME"), the swarm's JSON and the report print it.
type Invariant string

// The invariants, in the catalog's order.
const (
	ElectionSafety           Invariant = "election-safety"
	LogMatching              Invariant = "log-matching"
	HardStateDurable         Invariant = "hardstate-durable"
	AppliedLECommitted       Invariant = "applied-le-committed"
	CommitAtomicity          Invariant = "commit-atomicity"
	EqualRevisions           Invariant = "equal-revisions"
	ConsistentIndexMonotonic Invariant = "consistent-index-monotonic"
	ApplyDeterminism         Invariant = "apply-determinism"
	AuthRevisionAgreement    Invariant = "auth-revision-agreement"
	RestartClean             Invariant = "restart-clean"
	AckedDurable             Invariant = "acked-durable"
	Linearizable             Invariant = "linearizable"
	Liveness                 Invariant = "liveness"
	Panic                    Invariant = "panic"
	PersistedBeforeSend      Invariant = "persisted-before-send"
	ServerVerify             Invariant = "server-verify"
	InstallCoversSnapshot    Invariant = "install-covers-snapshot"
	LeaseSemantics           Invariant = "lease-semantics"
	MembershipAgreement      Invariant = "membership-agreement"
	AuthDecisions            Invariant = "auth-decisions"
	RemovedMember            Invariant = "removed-member"
)

// Info is one row of the catalog: an invariant and what it promises.
type Info struct {
	Name        Invariant
	Description string // one line
}

// Catalog lists every invariant with its one-line description, in stable
// order; the checker reports only these names, and the CLI
// (etcdsim catalog), seed files and the swarm read them from here.
var Catalog = []Info{
	{ElectionSafety, "at most one leader per term"},
	{LogMatching, "every member that commits index i commits the same entry"},
	{HardStateDurable, "a member's term and vote never go back across a restart"},
	{AppliedLECommitted, "no member applies past what it has committed"},
	{CommitAtomicity, "every durable backend commit holds exactly the reference state after entries 1..CI, CI being the index stored in that commit"},
	{EqualRevisions, "members at applied index i have the revision, compact revision, KV hash and leases of the reference at i"},
	{ConsistentIndexMonotonic, "the persisted consistent index never decreases and never passes the durable WAL"},
	{ApplyDeterminism, "every member that applies i gets the reference's outcome"},
	{AuthRevisionAgreement, "members at index i have the reference's auth revision, users, roles and permission cache"},
	{RestartClean, "a restart succeeds, without panic, to exactly the reference state at its persisted consistent index"},
	{AckedDurable, "an acknowledged write is durable on a quorum of voters"},
	{Linearizable, "the client history is linearizable (porcupine), and serializable reads of one session never go back"},
	{Liveness, "once faults stop, the cluster converges and serves a write"},
	{Panic, "no member panics (other than dying at a failpoint)"},
	{PersistedBeforeSend, "a raft message leaves only once the term and vote it reveals, and the entries or snapshot it acknowledges, are durable on its sender (raft's Ready contract; a leader's own appends excepted)"},
	{ServerVerify, "etcd's server/verify on a member's data: after a graceful stop all of it (the WAL reads back; the backend's consistent index is at most the HardState's commit and at least the last snapshot's index, its term at most the HardState's term); at every restart, the term"},
	{InstallCoversSnapshot, "a member that installs a received snapshot gets a backend whose consistent index is at least the snapshot's index"},
	{LeaseSemantics, "a lease is revoked by expiry only when no keep-alive acknowledged within its TTL (on the world's clocks) preceded it; a successful keep-alive renews a lease that exists at that point of the history, with at most its granted TTL; a revoked lease's keys vanish in the revision of its revoke"},
	{MembershipAgreement, "at every applied index a member's raft configuration is the reference's, and its members bucket holds the same voters and learners"},
	{AuthDecisions, "an auth refusal a member gives before proposing is the one the reference auth state at its auth revision gives the client's own user"},
	{RemovedMember, "a member wins an election only while its own configuration holds it as a voter (no removed member, no learner)"},
}

// Names lists every invariant's name, in the catalog's order.
var Names = func() []string {
	out := make([]string, len(Catalog))
	for i, in := range Catalog {
		out[i] = string(in.Name)
	}
	return out
}()

// Known reports whether name is an invariant.
func Known(name string) bool {
	_, ok := Lookup(name)
	return ok
}

// Lookup returns the catalog row of the invariant named name.
func Lookup(name string) (Info, bool) {
	for _, in := range Catalog {
		if string(in.Name) == name {
			return in, true
		}
	}
	return Info{}, false
}

// Description returns the invariant's one-line description.
func (i Invariant) Description() string {
	in, _ := Lookup(string(i))
	return in.Description
}
