// Package report turns a run's timeline into one self-contained HTML page,
// for people who would rather look at a failure than read its trace.
//
// A run keeps its timeline when sim.Config.Timeline is set; WriteHTML then
// draws sim.Report.Timeline as a picture and a table. The page has no
// external assets and needs no JavaScript: inline CSS, inline SVG, and an
// SVG <title> on every mark, which browsers show as hover text.
//
// The page shows, top to bottom:
//
//  1. The header: the verdict (the violated invariant and its evidence, or
//     "clean"), the run's Header() lines, what the run did, and the one-line
//     replay command; a link to porcupine's linearizability visualization
//     when Options.LinearizabilityHTML names one.
//  2. The whole run: one lane per member (m1..mN) with its raft role over
//     time as colored bands (leader, follower, no leader, each labelled
//     with its term where it fits), crashes (red crosses) and the down
//     interval until the restart (green triangles), pauses (purple bands
//     until the resume), and disk faults (orange diamonds: the crash image's
//     torn and lost writes, slow disks). A cluster lane below shows
//     partitions, one-way cuts and heals, and the phases of the run (safety,
//     then liveness). A red vertical line across every lane marks the
//     violation.
//  3. For a failing run, the detail window: the last Options.Window of
//     simulated time before the violation (default 5 s), the same lanes
//     zoomed in, plus every backend commit and apply as a small tick.
//     Commits and applies appear only here, so that the page stays small.
//  4. A table of the marks in the window (for a clean run: of the whole
//     run), in time order.
//
// A clean run has no window: the whole run is drawn once, with its commit
// and apply ticks only when there are at most MaxTicks of them.
//
// The page is a pure function of the report and the options: no wall
// clock, no randomness, no map order; two renders of one run are
// byte-identical, like the run itself. It is also well-formed XML, so
// tests can check its structure with encoding/xml.
package report
