package backend

import (
	"fmt"
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/prob"
	"pgregory.net/rapid"
)

// TestCrashImagesOpenToACommit drives a backend with random writes,
// commits (hooked or not, synced or not) and defrags over a disk with
// in-model faults, and crashes it: every crash image opens to exactly the
// state of one commit at or after the last synced commit — never an older
// one, never a partial batch, never pending writes.
func TestCrashImagesOpenToACommit(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fs := newFS(rapid.Uint64().Draw(t, "seed"), inModel)
		b, err := Open(fs, "db")
		if err != nil {
			t.Fatal(err)
		}
		commits := []*Mem{NewMem()} // the state of every commit written, in order
		synced := 0                 // commits[synced:] are the ones a crash may keep
		ci := 0
		hook := func(tx Tx) { ci++; tx.Put("meta", []byte("ci"), fmt.Append(nil, ci)) }
		b.SetPreCommitHook(hook)
		var log []string
		wrote := func(w bool) {
			if w {
				commits = append(commits, b.State().Clone())
			}
		}
		for range rapid.IntRange(1, 60).Draw(t, "steps") {
			op := rapid.IntRange(0, 11).Draw(t, "op")
			log = append(log, fmt.Sprint("op ", op))
			switch op {
			case 0, 1, 2, 3:
				key := fmt.Appendf(nil, "k%d", rapid.IntRange(0, 9).Draw(t, "key"))
				bucket := rapid.SampledFrom([]string{"key", "lease"}).Draw(t, "bucket")
				b.Put(bucket, key, []byte(strings.Repeat("v", rapid.IntRange(0, 300).Draw(t, "len"))))
			case 4:
				b.Delete("key", fmt.Appendf(nil, "k%d", rapid.IntRange(0, 9).Draw(t, "key")))
			case 5, 6:
				w, err := b.WriteCommit(rapid.Bool().Draw(t, "hook"))
				if err != nil {
					t.Fatal(err)
				}
				wrote(w)
			case 7:
				if err := b.SyncCommit(); err != nil {
					t.Fatal(err)
				}
				synced = len(commits) - 1
			case 8:
				// The hook runs first and writes, so Commit always writes.
				if err := b.Commit(); err != nil {
					t.Fatal(err)
				}
				wrote(true)
				synced = len(commits) - 1
			case 9:
				pending := b.Pending() > 0
				h := rapid.Bool().Draw(t, "hook")
				if err := b.DefragCopy(h); err != nil {
					t.Fatal(err)
				}
				wrote(pending || h)
				synced = len(commits) - 1
			case 10:
				if err := b.DefragRename(); err != nil && err != ErrNoDefrag {
					t.Fatal(err)
				}
			default:
				fs = fs.Crash()
				b = openMatching(t, fs, commits[synced:], log)
				b.SetPreCommitHook(hook)
				commits, synced = []*Mem{b.State().Clone()}, 0
			}
		}
		openMatching(t, fs.Crash(), commits[synced:], log)
	})
}

// openMatching opens the crash image and checks it holds one of states.
func openMatching(t *rapid.T, fs *disk.FS, states []*Mem, log []string) *Backend {
	b, err := Open(fs, "db")
	if err != nil {
		t.Fatalf("open after crash: %v\n%s", err, strings.Join(log, "\n"))
	}
	for _, s := range states {
		if diffMem(b.State(), s) == "" {
			return b
		}
	}
	t.Fatalf("crash image is none of the %d states since the last sync: %s\n%s",
		len(states), diffMem(b.State(), states[0]), strings.Join(log, "\n"))
	return nil
}

// TestRememberedCacheOpensAsReplay drives a backend as
// TestCrashImagesOpenToACommit does, buckets made by pending writes
// included, and ends its process at random points, filling a replay cache
// with what it left (Remember) before the crash or clean exit: every image
// opens through the cache to exactly the state, record count and size a
// full replay of the same bytes gives, or fails as it does: misdirected
// writes (out of model) included, which leave bytes the backend did not
// write where it wrote them.
func TestRememberedCacheOpensAsReplay(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		faults := inModel
		if rapid.Bool().Draw(t, "misdirect") {
			faults.Misdirect = prob.Of(1, 8)
		}
		fs := newFS(rapid.Uint64().Draw(t, "seed"), faults)
		c := &ReplayCache{}
		b, err := OpenCached(fs, "db", c)
		if err != nil {
			t.Fatal(err)
		}
		ci := 0
		hook := func(tx Tx) { ci++; tx.Put("meta", []byte("ci"), fmt.Append(nil, ci)) }
		b.SetPreCommitHook(hook)
		buckets := []string{"key", "lease", "auth", "members"}
		for range rapid.IntRange(1, 80).Draw(t, "steps") {
			switch op := rapid.IntRange(0, 12).Draw(t, "op"); op {
			case 0, 1, 2, 3:
				key := fmt.Appendf(nil, "k%d", rapid.IntRange(0, 9).Draw(t, "key"))
				b.Put(rapid.SampledFrom(buckets).Draw(t, "bucket"), key, []byte(strings.Repeat("v", rapid.IntRange(0, 300).Draw(t, "len"))))
			case 4:
				b.Delete(rapid.SampledFrom(buckets).Draw(t, "bucket"), fmt.Appendf(nil, "k%d", rapid.IntRange(0, 9).Draw(t, "key")))
			case 5:
				if _, err := b.WriteCommit(rapid.Bool().Draw(t, "hook")); err != nil {
					t.Fatal(err)
				}
			case 6:
				if err := b.SyncCommit(); err != nil {
					t.Fatal(err)
				}
			case 7, 8:
				if err := b.Commit(); err != nil {
					t.Fatal(err)
				}
			case 9:
				if err := b.DefragCopy(rapid.Bool().Draw(t, "hook")); err != nil {
					t.Fatal(err)
				}
			case 10:
				if err := b.DefragRename(); err != nil && err != ErrNoDefrag {
					t.Fatal(err)
				}
			default:
				b.Remember(c)
				if op == 11 {
					fs = fs.Crash()
				} else {
					fs = fs.Exit()
				}
				want, err := Read(fs, "db")
				if err != nil {
					if _, err2 := OpenCached(fs, "db", c); err2 == nil {
						t.Fatalf("a full replay fails (%v), an open through the cache does not", err)
					}
					return
				}
				full := mustReplay(t, fs)
				if b, err = OpenCached(fs, "db", c); err != nil {
					t.Fatal(err)
				}
				if d := diffMem(b.State(), want); d != "" {
					t.Fatalf("opened through the cache: %s", d)
				}
				if b.Stats().Records != full.Stats().Records || b.Size() != full.Size() || b.fullBytes != full.fullBytes {
					t.Fatalf("opened through the cache: %+v (full %d), a full replay %+v (full %d)", b.Stats(), b.fullBytes, full.Stats(), full.fullBytes)
				}
				b.SetPreCommitHook(hook)
			}
		}
	})
}

// mustReplay replays the file db of fs in full without changing fs: on
// an FS that holds a copy of the file.
func mustReplay(t *rapid.T, fs *disk.FS) *Backend {
	f, err := fs.Open("db")
	if err != nil {
		t.Fatal(err)
	}
	cp := disk.New(nil, disk.Faults{})
	g, err := cp.Create("db")
	if err == nil {
		_, err = g.Write(f.ReadAll())
	}
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(cp, "db")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
