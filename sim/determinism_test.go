package sim

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

var flagDetSeeds = flag.Int("determinism.seeds", 200, "seeds of TestDeterminism")

// detHashes runs seeds 1..n (short worlds with the seed's swarm of faults
// and a bug mode on every third seed) and returns one "seed=hash" line each.
func detHashes(n int) []string {
	out := make([]string, 0, n)
	for s := 1; s <= n; s++ {
		cfg := Config{Seed: uint64(s), Duration: 5 * time.Second, Liveness: 10 * time.Second}
		if s%3 == 0 {
			cfg.Bugs.CIBeforeLock = true
		}
		rep, err := Run(cfg)
		if err != nil {
			panic(err)
		}
		out = append(out, fmt.Sprintf("%d=%016x/%d", s, rep.TraceHash, rep.Steps))
	}
	return out
}

// TestDeterminism runs the same seeds twice in this process and once more
// in a child process with GOMAXPROCS=1, and requires the same trace hash
// for every seed each time.
func TestDeterminism(t *testing.T) {
	if os.Getenv("ETCDSIM_DET_CHILD") != "" {
		w := bufio.NewWriter(os.Stdout)
		for _, l := range detHashes(*flagDetSeeds) {
			fmt.Fprintln(w, "HASH "+l)
		}
		w.Flush()
		return
	}
	n := *flagDetSeeds
	if testing.Short() && n > 30 {
		n = 30
	}
	a, b := detHashes(n), detHashes(n)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same process, two runs: %s vs %s", a[i], b[i])
		}
	}
	sameInChild(t, a, "^TestDeterminism$", "ETCDSIM_DET_CHILD", fmt.Sprintf("-determinism.seeds=%d", n))
	t.Logf("%d seeds: same trace hash twice in one process and once more in a second process (GOMAXPROCS=1)", n)
}

// TestReplayCacheChangesNothing runs crash-heavy worlds with torn writes,
// a bug mode that lives in the backend among them, with and without the
// WAL and backend replay caches, and requires the same trace: the caches
// are only shortcuts.
func TestReplayCacheChangesNothing(t *testing.T) {
	faults, err := ParseFaults("crash=1/400 failpoint=1/2@fire=1/300 disk.torn_write=1/1 disk.keep_unsynced=1/2")
	if err != nil {
		t.Fatal(err)
	}
	for s := uint64(1); s <= 8; s++ {
		cfg := Config{Seed: s, Duration: 60 * time.Second, Faults: &faults}
		if s%2 == 0 {
			cfg.Bugs.DefragNoCIHook = true
		}
		with, _ := Run(cfg)
		noReplayCache = true
		without, _ := Run(cfg)
		noReplayCache = false
		if with.TraceHash != without.TraceHash || with.Steps != without.Steps {
			t.Fatalf("seed %d: trace %016x/%d with the cache, %016x/%d without", s, with.TraceHash, with.Steps, without.TraceHash, without.Steps)
		}
		t.Logf("seed %d: %d steps, %d restarts, %v", s, with.Steps, with.Stats.Restarts, with.Violation)
		if with.Stats.Restarts == 0 {
			t.Fatalf("seed %d restarted no member: the test shows nothing", s)
		}
	}
}

// TestReferenceForgetsOnlyWhatNoCheckNeeds runs long crash-heavy worlds:
// the reference must drop most of its records (it keeps only the window
// members can still commit, apply or restart into), and no check may find
// its record gone (Unchecked, the only way forgetting could change a run).
func TestReferenceForgetsOnlyWhatNoCheckNeeds(t *testing.T) {
	faults, err := ParseFaults("crash=1/300 failpoint=1/2@fire=1/200 disk.torn_write=1/1 disk.keep_unsynced=1/2")
	if err != nil {
		t.Fatal(err)
	}
	forgot := 0
	for s := uint64(1); s <= 9; s++ {
		cfg := Config{Seed: s, Members: []int{1, 3, 5}[s%3], Duration: 400 * time.Second}
		if s%2 == 0 {
			cfg.Faults = &faults
		}
		w := newWorld(cfg)
		WithSeededCryptoRand(w.streams.Fork("raft/jitter"), func() { w.run() })
		ref := w.chk.Ref
		t.Logf("seed %d, %d members: kept %d of %d records, %d restarts, unchecked %d, %s, %v",
			s, cfg.Members, ref.Kept(), ref.Last(), w.stats.Restarts, w.chk.Unchecked, w.opt.mix(), w.chk.Violation())
		if w.chk.Violation() != nil {
			t.Fatalf("seed %d: %v", s, w.chk.Violation())
		}
		if w.chk.Unchecked != 0 {
			t.Fatalf("seed %d: %d checks found their reference record forgotten", s, w.chk.Unchecked)
		}
		if uint64(ref.Kept()) < ref.Last()/2 {
			forgot++
		}
	}
	if forgot < 3 {
		t.Fatalf("the reference forgot half its records in only %d of 9 worlds", forgot)
	}
}

var flagDetChurnSeeds = flag.Int("determinism.churn", 30, "seeds of TestDeterminismChurn")

// detChurnHashes runs seeds 1..n of worlds with membership churn (3
// members churning around 3, 1 member growing to 3, 5 members with auth
// around 5, a bug mode on every fourth seed) and returns one "seed=hash"
// line each.
func detChurnHashes(n int) []string {
	out := make([]string, 0, n)
	for s := 1; s <= n; s++ {
		cfg := Config{Seed: uint64(s), Duration: 20 * time.Second, Liveness: 20 * time.Second}
		switch s % 3 {
		case 0:
			cfg.Members, cfg.Churn = 3, 3
		case 1:
			cfg.Members, cfg.Churn = 1, 3
		case 2:
			cfg.Members, cfg.Churn, cfg.Workload = 5, 5, "auth"
		}
		if s%4 == 0 {
			cfg.Bugs.PromotionNotPersisted = true
		}
		rep, err := Run(cfg)
		if err != nil {
			panic(err)
		}
		out = append(out, fmt.Sprintf("%d=%016x/%d/%d", s, rep.TraceHash, rep.Steps, rep.Stats.MemberChanges))
	}
	return out
}

// TestDeterminismChurn: worlds whose membership changes give the same
// trace hash twice in one process and once more in a child process with
// GOMAXPROCS=1.
func TestDeterminismChurn(t *testing.T) {
	n := *flagDetChurnSeeds
	if os.Getenv("ETCDSIM_DET_CHURN_CHILD") != "" {
		w := bufio.NewWriter(os.Stdout)
		for _, l := range detChurnHashes(n) {
			fmt.Fprintln(w, "HASH "+l)
		}
		w.Flush()
		return
	}
	if testing.Short() {
		n = min(n, 6)
	}
	a, b := detChurnHashes(n), detChurnHashes(n)
	changes := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same process, two runs: %s vs %s", a[i], b[i])
		}
		if !strings.HasSuffix(a[i], "/0") {
			changes++
		}
	}
	if changes < n/2 {
		t.Fatalf("only %d of %d churn worlds changed their membership: %v", changes, n, a)
	}
	sameInChild(t, a, "^TestDeterminismChurn$", "ETCDSIM_DET_CHURN_CHILD", fmt.Sprintf("-determinism.churn=%d", n))
	t.Logf("%d churn worlds (%d changed membership): same trace hash twice in one process and once more in a second process (GOMAXPROCS=1)", n, changes)
}

// sameInChild runs the test run in a child process with GOMAXPROCS=1 and
// env set, which prints its "HASH " lines, and requires the hashes want.
func sameInChild(t *testing.T, want []string, run, env, flagArg string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run="+run, flagArg)
	cmd.Env = append(os.Environ(), env+"=1", "GOMAXPROCS=1")
	raw, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child process: %v\n%s", err, raw)
	}
	var got []string
	for _, l := range strings.Split(string(raw), "\n") {
		if h, ok := strings.CutPrefix(l, "HASH "); ok {
			got = append(got, h)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("child printed %d hashes, want %d", len(got), len(want))
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("two processes: %s vs %s", want[i], got[i])
		}
	}
}
