// Package report turns a run's timeline into one self-contained HTML page,
// for people who would rather look at a failure than read its trace.
//
// A run keeps its timeline when sim.Config.Timeline is set; WriteHTML then
// draws sim.Report.Timeline as a picture and a table, under a story of the
// failure. The page has no external assets and needs no JavaScript: inline
// CSS, inline SVG, and an SVG <title> on every mark, which browsers show as
// hover text.
//
// The page shows, top to bottom:
//
//  1. The verdict: the violated invariant, or "clean".
//  2. For a failing run, the story, in a few lines: what broke (the
//     evidence, the member it accuses, the step and time); the short chain
//     of events that led to it, chosen from the typed timeline by a rule
//     per family of invariants (story.go): for the checks of one member's
//     state (commit-atomicity, restart-clean, consistent-index-monotonic,
//     equal-revisions, …) that member's last applies, backend commits with
//     the consistent index each persisted, snapshot installs, crashes with
//     their crash image, and restarts; for linearizable, the requests the
//     evidence names (sim.Report.EvidenceOps: client, member, call and
//     return) and the leaders, partitions, down times and pauses that
//     overlap them; for liveness, what each member was doing at the end;
//     for acked-durable, the acknowledging member's chain and the other
//     members' last crash and restart; for election-safety and
//     log-matching, the last role changes, crashes, restarts and network
//     changes. Then what the
//     invariant promises (invariants.Catalog) and, for a bug mode, the
//     historical etcd bug it puts back (nodes.Catalog: issue, mechanism).
//     A linearizability failure links to porcupine's visualization of the
//     history when Options.LinearizabilityHTML names one; no other does.
//  3. The run's Header() lines and what the run did.
//  4. The legend: one entry for every kind of mark and label the pictures
//     draw (the term labels L5, F6, N2 and "leader t5", the partition
//     groups "(1 3) (2)", the one-way cuts "m1->m2", …), and only those.
//  5. The whole run: one lane per member (m1..mN) with its raft role over
//     time as colored bands (leader, follower, no leader, each labelled
//     with its term where it fits), crashes (red crosses) and the down
//     interval until the restart (green triangles), pauses (purple bands
//     until the resume), and disk faults (orange diamonds: the crash image's
//     torn and lost writes, slow disks). A cluster lane below shows
//     partitions, one-way cuts and heals, and the phases of the run (safety,
//     then liveness). A red vertical line across every lane marks the
//     violation; the requests a linearizability evidence names are boxes
//     over their members' lanes, from call to return.
//  6. For a failing run, the detail window (Options.Window, default 5 s):
//     centred on the requests a linearizability evidence names, else the
//     last Window before the violation; the same lanes zoomed in, plus
//     every backend commit and apply as a small tick. Commits and applies
//     appear only here, so that the page stays small. A run no longer than
//     the window is drawn once, with its ticks, instead of twice.
//  7. A table of the marks in the window (for a clean run: of the whole
//     run), in time order.
//  8. Next: the commands that shrink a failure to its smallest failing plan
//     (Options.Shrink, default ShrinkCommands: etcdsim shrink reads a seed
//     file, which a swarm of the seed alone writes), and that replay the
//     run with its trace (Options.Replay).
//
// A clean run has no window: the whole run is drawn once, with its commit
// and apply ticks only when there are at most MaxTicks of them.
//
// The page is a pure function of the report and the options: no wall
// clock, no randomness, no map order; two renders of one run are
// byte-identical, like the run itself. It is also well-formed XML, so
// tests can check its structure with encoding/xml.
package report
