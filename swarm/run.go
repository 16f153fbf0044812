package swarm

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etcdsim/etcdsim/sim"
)

// DefaultSeedTimeout is the wall-clock limit of one seed in a swarm or a
// table (a world that runs longer is a failing seed, its worker killed).
const DefaultSeedTimeout = 10 * time.Minute

// Options are how a swarm farms its seeds out.
type Options struct {
	// Worker is the command line of a worker process, less the world's
	// flags, which Run appends: for etcdsim, its own executable and the
	// hidden subcommand, {exe, "worker"}. The process must run Work on the
	// world of those flags (see World.AddFlags).
	Worker []string
	// Parallel is the number of worker processes, at least 1.
	Parallel int
	// SeedTimeout is the wall-clock limit of one seed (0: none).
	SeedTimeout time.Duration
}

// Run runs the seeds of sh in cfg's world (cfg's seed aside) in worker
// processes and hands each result to emit, in seed order whatever the
// parallelism. A worker that dies, hangs past the seed timeout or writes a
// malformed line costs its seed a failing result (invariant "panic",
// WorkerCrash set) and is restarted. Run stops at the first error of emit
// or of starting a worker, and returns it.
func Run(sh Shard, cfg sim.Config, opt Options, emit func(Result) error) error {
	if len(opt.Worker) == 0 {
		return errors.New("swarm: no worker command")
	}
	type done struct {
		i   uint64
		r   Result
		err error
	}
	n, parallel := sh.Count(), uint64(max(opt.Parallel, 1))
	// Seeds are handed out one at a time, in order, to whichever worker
	// asks: a slow seed holds up only its own worker.
	var taken atomic.Uint64
	var quit atomic.Bool
	take := func() (uint64, bool) {
		if quit.Load() {
			return 0, false
		}
		i := taken.Add(1) - 1
		return i, i < n
	}
	results := make(chan done)
	var wg sync.WaitGroup
	for range min(parallel, n) {
		wg.Go(func() {
			w := newWorker(cfg, opt)
			var queue []uint64 // the indices of w's queued seeds
			defer func() { w.stop(len(queue) > 0) }()
			for {
				if len(queue) == 0 {
					i, ok := take()
					if !ok {
						return
					}
					queue = append(queue, i)
					w.push(sh.Seed(i))
				}
				// One seed more waits in the worker while more seeds are
				// left than workers, so no worker idles at the end for a
				// seed queued behind another's.
				if len(queue) == 1 && taken.Load()+parallel < n {
					if i, ok := take(); ok {
						queue = append(queue, i)
						w.push(sh.Seed(i))
					}
				}
				if quit.Load() {
					return
				}
				r, err := w.next()
				results <- done{queue[0], r, err}
				if err != nil {
					return
				}
				queue = queue[1:]
			}
		})
	}
	go func() { wg.Wait(); close(results) }()
	var fatal error
	pending := map[uint64]Result{} // finished out of order
	next := uint64(0)
	for d := range results {
		if d.err == nil && fatal == nil {
			pending[d.i] = d.r
		} else if fatal == nil {
			fatal = d.err
		}
		for r, ok := pending[next]; ok && fatal == nil; r, ok = pending[next] {
			delete(pending, next)
			next++
			fatal = emit(r)
		}
		if fatal != nil {
			quit.Store(true)
		}
	}
	return fatal
}
