// Package seeds is the regression corpus: one file per known failing seed
// (see sim.SeedFile for the format), each found by searching seeds, never
// written by hand. `go test ./seeds` replays every file and requires that
// its bug mode fails exactly as recorded (invariant, step, trace hash) and
// that the same seed with every bug mode off stays clean.
//
// `go test ./seeds -run TestGenerate -generate` searches seeds 1 upward for
// each bug mode and rewrites the corpus (make seeds); the model changing
// what a seed does is what makes a rewrite necessary. TestGenerateCoverage
// then keeps, for each coverage probe that at most one default seed in
// twenty hits, the first default seed that hits it (coverage-N.seed, a
// passing seed with its trace pinned), so that the corpus replays the
// rare states the swarm reached.
package seeds
