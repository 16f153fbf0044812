// Package swarm runs many seeds of one world and says what they found: the
// engine behind etcdsim's swarm, merge and table commands.
//
// # Swarms
//
// A swarm is a range of seeds run in one world (a bug mode, a cluster
// size, a simulated duration, a request rate and mix, and a fault line or
// none, in which case each seed draws its own swarm of faults: swarm
// testing). A World is that world as the command line spells it;
// World.Config validates it. Run runs the seeds of a Shard in worker
// processes and hands each Result to its caller in seed order, whatever the
// parallelism. A Sink takes the results in that order: it keeps their
// Summary, writes the JSON lines file and a seed file for each failing
// seed, ready for the regression corpus in seeds/.
//
// # Shards
//
// The seeds A..B (inclusive) split into N shards: shard K/N holds the seeds
// s with (s-A) mod N == K-1. Shards 1/N .. N/N partition the range
// exactly, so N machines (a Kubernetes Indexed Job, a CI matrix) can each
// run one and Merge their files afterwards; striding rather than cutting
// the range into blocks spreads slow seeds evenly. ParseSeeds and
// ParseShard read the "A..B" and "K/N" of the --seeds and --shard flags.
//
// # Merge
//
// Merge reads the JSON lines files of swarms run anywhere (the shards of
// one range, or runs of several worlds) into one list, sorted by seed and
// then world. A seed run twice in the same world (Result.Key: members,
// duration, rate, workload, bug, faults) counts once, so a re-run shard is
// harmless; two different outcomes or traces for one world (a determinism
// bug, or files of different builds) are a Conflict, handed to the caller,
// and the first is kept. A malformed line is an error naming its file and
// line. Merging the files of shards 1/N .. N/N gives the results of the
// unsharded run, wall-clock readings aside.
//
// # Worker processes
//
// One world owns a process at a time, so Run starts Options.Parallel
// worker processes and hands the seeds out in order to whichever worker
// is free; while more seeds are left than workers, each worker holds one
// more seed queued, which it reads as soon as it writes a result. A worker is the
// caller's own binary: Options.Worker is its command line (etcdsim passes
// its executable and the hidden subcommand, "worker"), to which Run
// appends the world's flags, those World.AddFlags defines. The worker
// parses them and calls Work, which reads seeds on stdin, one per line,
// and writes one JSON Result line per seed on stdout. Unless the
// environment already says, a worker runs with GOMAXPROCS its share of the
// processors (at least 1) and GODEBUG=madvdontneed=0 (see workerEnv). A worker that dies,
// hangs past Options.SeedTimeout (it is killed) or writes a line that is
// not a result of the seed it was given costs that seed a failing result,
// invariant "panic" with WorkerCrash set and the first line of the
// worker's stderr in its detail, and is restarted; the swarm goes on. Run
// fails only when no worker can be started, or when its caller's function
// fails (a full disk).
//
// # The JSON result
//
// Each seed is one JSON object on one line (Result), in this field order:
// seed members duration rate workload bug faults fault_kinds failpoints mix
// outcome invariant detail step steps sim_ms wall_ms trace worker_crash
// lin_ms lin_timed_out, then the run's counters committed crashes restarts
// commits leader_changes requests dropped acked timeouts resets messages
// partitions failpoint_crashes compactions defrags snapshots installs
// unchecked, and last probes: the coverage probes the run hit
// (nodes.Probe), by name, with their hits. outcome is "pass" or "fail:<invariant>"; detail is the first
// line of the violation's evidence, at most 400 bytes (omitted on a pass);
// step and sim_ms are the event and the simulated milliseconds of the
// violation (or of the end); trace is the trace hash in 16 hex digits;
// faults is the fault line the world ran with, so a line replays its seed
// exactly (Result.SeedFile). wall_ms and lin_ms (the linearizability
// check's share) are wall-clock readings, which differ between two runs
// of a seed. worker_crash and lin_timed_out appear only
// when true. ParseResult checks a line: its world must validate, its
// outcome agree with its invariant, the invariant be one this build knows.
//
// # Statistics
//
// A Summary reports a swarm: the detection rate (failing seeds over
// seeds) with its 95% Wilson score interval (Wilson), which stays inside
// [0, 1] and is honest at 0 or n detections where the normal
// approximation is not; the median and 90th percentile of the simulated
// and the wall time to the first violation over the failing seeds
// (Quantiles: empirical, each a value that occurred, so the median of an
// even count is the lower middle one); the invariants that fired, most
// seeds first; and for each fault kind the share of failing and of
// passing seeds that had it. Its Coverage counts, for each coverage probe,
// the seeds that hit it, its hits and the first seed that did: swarm,
// merge and table print its summary (the required probes missed, the
// probes never hit by scope, the ten rarest), --coverage the whole table
// (with each probe's scope when the default swarm cannot reach it:
// nodes.ProbeScope), --probe NAME one probe.
//
// # The detection table
//
// Table runs one range of seeds for the correct model and every bug mode,
// each in its world (sim.BugWorlds: the default world, or the cluster size
// and workload its field report describes), one Row per mode.
// RenderTable prints the rows: the detection rate and its Wilson interval,
// the invariant that fired first most often, the median simulated and
// wall time to detection, and the wall time until the first detecting
// seed. SpliceTable puts the table between README.md's markers
// (TableBegin, TableEnd).
package swarm
