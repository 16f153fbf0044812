/*
Package sim builds and runs worlds: an etcd-like cluster on the real
go.etcd.io/raft/v3, its clients and a fault schedule, stepped one event at a
time on one thread, with the invariants checked after every step. One seed
fixes a whole world; the same seed always gives the same run, event for
event, and its trace hash says so in one number.

# A world

A world (type world) is a thin composition of parts, each with one job:

	core        what every part shares: the Config, the virtual clock and its
	            event Queue, the Trace, the Checker (invariants), the Stats,
	            the timeline, and the plan a seeded run records
	cluster     the members (etcd member IDs, their disks, their processes)
	            and the network between them and the clients
	workload    the clients and what they ask: the request mix, auth, leases
	history     the client history and its hookup to the oracle: open writes
	            settled from the committed log, linearizability (porcupine)
	faultSched  carries out the faults (crash, partition, heal, cut, pause,
	            slow disk) and draws a seeded run's faults at each fault tick
	driver      decides what comes next: the seed's draws, a Plan, a Scenario
	churner     the membership operator of a world with churn (Config.Churn)

The cluster keys members by their etcd member ID at its edges (plans,
scenarios, raft messages, the network's endpoints) and by a dense index
inside (an event's Node): IDs are never reused and a member never leaves the
slice, so the index of an ID never changes. A member may exist without a
process (down, or not started); a removed member keeps its disk readable for
forensics. The network learns each endpoint as it joins: a member's
endpoint is its ID, client i's is 1000+i.

# One step

The loop (world.loop) pops the earliest event of the queue, ordered by
time and then order of scheduling: events at the same time run in the order
they were scheduled, which depends on nothing but the seed. It advances the
clock to the event's time, counts the step and dispatches the event to its
part. A member event calls the member between cluster.enter and
cluster.called, under the loop's one recover (world.steps): the member's
code runs (a timer fires, a message or a request is stepped), a failpoint
crash becomes a crash of the member and any other panic a violation, as
cluster.call (a forwarded request) and guard (a start, a stop) do for the
calls that do not go through enter; then what the member asked for is
carried out (timers scheduled, messages handed to the network, replies sent
to clients), the per-step checks run on it, and its role goes on the
timeline. The loop stops at the end of the safety phase, at the first
violation, or at Config.MaxSteps.

The event kinds:

	timer       a member's timer (raft tick, WAL sync, apply, backend commit,
	            compaction and defrag steps); stale after a crash
	deliver     a raft message reaches a member, if the network still links them
	request     a client request reaches a member (refused if it is down)
	reply       a member's answer reaches its client
	timeout     a client's request timer (2 s): the outcome becomes unknown
	reset       a client learns its member crashed: the outcome becomes unknown
	arrival     the workload's next arrival instant (Rate per simulated second)
	fault-tick  the next fault tick (every 10 ms)
	restart     a crashed member starts again from its crash image
	resume      a paused member resumes, and gets what reached it meanwhile
	probe       the liveness phase's probe write is (re)sent
	lin-check   a long run's linearizability checkpoint (every 60 s)
	mark        nothing: ends a scenario's run at an exact time
	forward     a request forwarded over the peer channel (a promote sent to
	            the leader), or its answer, reaches a member
	removed-notice
	            a removed member learns from a peer that refused it that it
	            was removed, and stops
	churn       the membership operator's next look (every 100 ms)

After the safety phase (Config.Duration) comes the liveness phase: faults and
the workload stop, the network heals, every member restarts and resumes, and
within Config.Liveness a probe write must complete and every member converge
on the same applied index and state. Then the whole history is checked for
linearizability.

# From a seed to a world

Randomness comes from named streams (Streams.Fork): a stream is forked by
its label, so that a new draw in one subsystem never shifts the numbers
another sees. drawOptions draws everything the seed decides before the run,
in this order, and the header (Report.Header) prints it:

 1. the fault line, unless Config.Faults is set ("faults/swarm",
    DrawFaults): for each in-model kind in the order of the fault line, a
    coin switches it on and a draw picks its rate from a menu (net.partition
    and failpoint draw their @stable and @fire right after); the auth
    workload makes sure crash is on (1/500); net.blackhole stays only in
    worlds whose snapshot count plus catch-up entries are at most 200
    (robustness's BlackholeUntilSnapshot; worldRetention reads them from
    their own streams), and in four churn seeds in seven of those; where
    it may stay, a world without churn of more than one member that
    switches a point of a received snapshot's path on (the draw of step
    2, asked here) has it, at 1/100 when it was not drawn: it is the
    points' trigger (snapshotTrigger).
 2. the failpoints switched on ("faults/failpoints"): each point in the
    order of nodes.Failpoint, with the probability failpoint gives (at
    least 1/2 for a point only snapshots, defrags and compactions pass,
    which then fires at least one pass in 2, 20 or 100: leastFire; k
    points of a received snapshot's path share its installs, each at
    most 1/(2k) of them, the later ones' rates counting only the passes the
    earlier leave: sharePath; one that fired is off for the rest of the
    run and the others share the path again: oneShot).
 3. the members' snapshot count ("members/snapshot-count"): 100, 400,
    2000 or 10000, weighted 4:2:1:1; their tick and election timeout
    ("members/timeouts": 100/1000 ms, or in a quarter of the seeds 29/271,
    101/521 or 100/2000 ms); and
    their catch-up entries ("members/catchup": 100, 10 or 5000, weighted
    3:2:1); their WAL segment size ("members/wal-segment": 1 MiB or
    64 KiB).
    Golden scenarios and the compaction workload (robustness's Issue17780
    scenario, with fixed options) keep etcd's 100/1000 ms, a uniform
    snapshot count and a quarter of it for catch-up (etcdRetention).
 4. the compaction batch limit ("members/compaction-batch"): 1000, 100, 10
    or 3; the compaction workload draws again (1..3 from a fresh fork),
    runs one client and adds compactBeforeSetFinishedCompact at 1/4.
 5. the workload knobs ("workload/swarm"): auth on or off, leases on or
    off, and how often root changes auth (1/100 or 1/20; auth workload:
    always on, 1/8).
 6. each member's clock drift, from the stream "faults": with clock.drift,
    its ticks run at 9/10, 11/10, 1/2 or 3/2 of their time.

Unless Config.Faults is set, the fault line's graceful_stop is drawn apart,
from its own stream ("faults/stop", DrawGracefulStop), so that adding it
shifted no other draw: one seed in four stops members cleanly at 1/1000 or
1/3000 per fault tick.
A world with churn (Config.Churn) also draws, from "membership/swarm", the
operator's pause between operations (1, 3 or 10 s) and how late a late
voter starts (2, 5 or 10 s), and takes its snapshot count from
"membership/snapshot-count" (100, 200, 400 or 1000: members join through
snapshots); the reconfig workload keeps etcd's default, 10,000. Worlds
without churn draw none of this, and their traces are what they were.

During the run, "faults" goes on giving the seeded driver's per-tick draws,
restart delays, failpoint firings and partition sides; "workload" picks the
idle client and the request; "network" decides each message's fate
("network/liveness" in the liveness phase); "faults/stop/tick" the graceful
stops (which member, how long it stays down); "disk/mN" what member N's disk
keeps at a crash; "member/mN/lifeL" the member's own latencies; and
"raft/jitter" seeds crypto/rand, from which raft draws its election timeouts
("network/liveness" in the liveness phase); "disk/mN" what member N's disk
keeps at a crash; "member/mN/lifeL" the member's own latencies; the
operator draws its operations, their targets and the members it sends to from
"membership"; and "raft/jitter" seeds crypto/rand, from which raft draws its election timeouts
(WithSeededCryptoRand).

# Where each fault is decided

	disk.keep_unsynced, disk.torn_write, disk.dir_loss,
	disk.lying_sync, disk.bit_flip, disk.misdirect
	            by the member's disk at each crash image (disk.Faults)
	net.drop, net.dup, net.reorder
	            by the network at each message (network.Config)
	crash, net.partition, net.oneway, pause, disk.slow, graceful_stop, net.blackhole
	            by the driver at each fault tick (seeded: faultSched.draw,
	            in that order, graceful_stop from its own stream; planned:
	            the plan's steps), carried out by faultSched; a blackhole is
	            recorded as the partition that starts it and the heal that
	            ends it; while a snapshot-path point it triggers has not
	            fired, it starts whenever it may (snapshotTrigger)
	failpoint   switched on per run by drawOptions (and by name, fp.<name>=<rate>
	            in the fault line); fired by the driver's failpoint function,
	            asked at every pass through a point
	clock.drift per member, by drawOptions

# Membership

With Config.Churn (swarm --churn N), the world models membership as etcd
3.6 does (nodes.Config.Membership, nodes/doc.go) and an operator, the
churner, changes it one operation at a time through the cluster API,
steering toward N voters: grow (add a learner, start it, promote it, its
peer URL sometimes updated first), shrink (remove a voter), replace (remove
a voter, stop it, add a voter at its peer URL with a fresh data dir, as
etcd's robustness memberReplace does), learner-out (add a learner, then
remove it) and late voter (add a voter that starts seconds later: etcd's
quorum-1 window). It sends each request to a random member that serves
clients (as root when auth is on), tries a refused one again at its next
look (every 100 ms), as robustness's memberReplace loops on MemberAdd, and
follows the committed log through the reference: a new member's slot
(cluster.add) gets its process once its add committed, a removed member
never starts again and stops itself when it applies its removal or a peer
refuses it. The liveness phase lets the operation in progress finish and
requires every member that runs to hold the committed configuration in raft
and in its members bucket. A plan or a scenario can script every step
instead (a cluster API request, a start), without the operator. Stats count
the membership changes completed, the snapshot installs into members added
at runtime and the operator's operations; the report has each replace's
duration.

# Drivers: the seed, a plan, a scenario

One interface (driver) decides what happens next; the world never asks
which one it has. The seeded driver draws requests and faults from the
seed's streams and, with Config.RecordPlan, records them as a Plan. The
planned driver follows a Config.Plan instead: requests at the arrival
instants it names, faults at the fault ticks it names, failpoints at the
pass it names; the timing noise inside the world still comes from the seed,
so a recorded plan replays its run event for event (TestRecordedPlanReplays),
and Shrink and rapid (TestPlans) cut plans down. A Scenario is a driver for
golden tests, driven by a script one command at a time: it draws no faults,
arms failpoints by hand, keeps crashed members down until the script restarts
them, and steps the world's own loop, watching every event to report what
happened.
*/
package sim
