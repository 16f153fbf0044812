package swarm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runToFile runs shard k/n of seeds 1..12 of a 3s world of bug into a
// JSON lines file and returns its path and the summary's text.
func runToFile(t *testing.T, bug string, k, n uint64) (string, string) {
	t.Helper()
	cfg, err := World{Bug: bug, Workload: "default", Duration: "8s", Members: 3, Rate: 100}.Config()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("%s-%d-of-%d.jsonl", bug, k, n))
	out, err := NewSink(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(Shard{First: 1, Last: 12, K: k, N: n}, cfg, testOptions(t, 2), out.Add); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	out.Summary.Write(&b)
	return path, b.String()
}

// withoutWall returns the result as JSON, its wall-clock readings zeroed.
func withoutWall(r Result) string {
	r.WallMs, r.LinMs = 0, 0
	b, _ := json.Marshal(r)
	return string(b)
}

// withoutWallLine drops the wall-time line of a summary.
func withoutWallLine(summary string) string {
	var keep []string
	for l := range strings.SplitSeq(summary, "\n") {
		if !strings.HasPrefix(l, "  wall ") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestMergeOfShardsEqualsUnsharded runs seeds 1..12 of the default world
// and of auth-ci whole and in three shards (in real worker processes):
// merging the shards' JSON lines, one of them twice, gives the unsharded
// run's results line for line and its summary, wall times aside.
func TestMergeOfShardsEqualsUnsharded(t *testing.T) {
	for _, bug := range []string{"none", "auth-ci"} {
		whole, wholeSum := runToFile(t, bug, 1, 1)
		var shards []string
		for k := uint64(1); k <= 3; k++ {
			path, _ := runToFile(t, bug, k, 3)
			shards = append(shards, path)
		}
		merged, err := Merge(append(shards, shards[1]), func(c Conflict) { t.Errorf("conflict: %+v", c) })
		if err != nil {
			t.Fatal(err)
		}
		var want []Result
		if err := ReadFile(whole, func(r Result, _ string) { want = append(want, r) }); err != nil {
			t.Fatal(err)
		}
		if len(want) != 12 || len(merged) != 12 {
			t.Fatalf("%s: unsharded %d results, merged %d, want 12", bug, len(want), len(merged))
		}
		var sum Summary
		for i := range want {
			if a, b := withoutWall(want[i]), withoutWall(merged[i]); a != b {
				t.Errorf("%s seed %d:\nunsharded %s\nmerged    %s", bug, want[i].Seed, a, b)
			}
			sum.Add(merged[i])
		}
		var b bytes.Buffer
		sum.Write(&b)
		if got, want := withoutWallLine(b.String()), withoutWallLine(wholeSum); got != want {
			t.Errorf("%s: merged summary:\n%s\nunsharded:\n%s", bug, got, want)
		}
		if bug == "auth-ci" && sum.Failing == 0 {
			t.Errorf("auth-ci: no failing seed in 1..12; the test wants some")
		}
	}
}

// writeLines writes results as a JSON lines file.
func writeLines(t *testing.T, rs ...Result) string {
	t.Helper()
	var b bytes.Buffer
	for _, r := range rs {
		line, _ := json.Marshal(r)
		b.Write(append(line, '\n'))
	}
	path := filepath.Join(t.TempDir(), "lines.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMergeConflicts: a seed with two traces in one world is kept once,
// from the first file, and reported; the same seed in another world is
// another result, sorted after it by world.
func TestMergeConflicts(t *testing.T) {
	r := ResultOf(runWorld(t, 1), 0)
	other := r
	other.Trace = "00000000deadbeef"
	elsewhere := r
	elsewhere.Rate = 50
	a, b := writeLines(t, r), writeLines(t, elsewhere, other)
	var conflicts []Conflict
	rs, err := Merge([]string{a, b}, func(c Conflict) { conflicts = append(conflicts, c) })
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Trace != r.Trace || rs[0].Rate != 100 || rs[1].Rate != 50 {
		t.Errorf("merged %+v", rs)
	}
	if len(conflicts) != 1 || conflicts[0].Kept.Trace != r.Trace || conflicts[0].Dropped.Trace != other.Trace ||
		conflicts[0].KeptAt != a+":1" || conflicts[0].DroppedAt != b+":2" {
		t.Errorf("conflicts %+v", conflicts)
	}
}

func TestMergeErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("\n{\"seed\":1}\nnot json\n"), 0o644)
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.jsonl"): "merge: open ",
		bad:                                 "merge: " + bad + ":2: malformed result: ",
	} {
		if _, err := Merge([]string{path}, nil); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Merge(%s): %v, want %q...", path, err, want)
		}
	}
}
