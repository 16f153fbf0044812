package disk

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/prob"
	"pgregory.net/rapid"
)

// scriptOp is one operation of a determinism script.
type scriptOp struct {
	kind     int
	name, to string
	off      int64
	data     []byte
}

const scriptKinds = 9

func scriptOpGen() *rapid.Generator[scriptOp] {
	return rapid.Custom(func(t *rapid.T) scriptOp {
		return scriptOp{
			kind: rapid.IntRange(0, scriptKinds-1).Draw(t, "kind"),
			name: rapid.SampledFrom(modelNames).Draw(t, "name"),
			to:   rapid.SampledFrom(modelNames).Draw(t, "to"),
			off:  rapid.Int64Range(0, 4*SectorSize).Draw(t, "off"),
			data: rapid.SliceOfN(rapid.Byte(), 1, 2*SectorSize).Draw(t, "data"),
		}
	})
}

// allFaults turns on every fault, in and out of the model.
var allFaults = Faults{
	KeepUnsynced: prob.Of(1, 2), TornWrite: prob.Of(1, 2), DirLoss: prob.Of(1, 2),
	LyingSync: prob.Of(1, 3), BitFlip: prob.Of(1, 3), Misdirect: prob.Of(1, 3), CapacityBytes: 6 * SectorSize,
}

// runScript runs ops on a fresh FS seeded with seed and returns a dump of
// every result, crash log, image and the final stats.
func runScript(seed uint64, ops []scriptOp) string {
	var out strings.Builder
	fs := New(rand.New(rand.NewPCG(seed, seed)), allFaults)
	for _, op := range ops {
		if op.kind == 8 {
			fs = fs.Crash()
			fmt.Fprintf(&out, "crash %q\n", fs.CrashLog())
			for _, name := range fs.List() {
				f, _ := fs.Open(name)
				fmt.Fprintf(&out, "%s=%x\n", name, f.ReadAll())
			}
			continue
		}
		fmt.Fprintf(&out, "%v\n", step(fs, op))
	}
	fmt.Fprintf(&out, "%+v\n", fs.Stats())
	return out.String()
}

// step runs one non-crash operation and returns its error.
func step(fs *FS, op scriptOp) error {
	switch op.kind {
	case 0:
		_, err := fs.Create(op.name)
		return err
	case 1:
		return fs.Rename(op.name, op.to)
	case 2:
		return fs.Remove(op.name)
	case 3:
		return fs.SyncDir()
	}
	f, err := fs.Open(op.name)
	if err != nil {
		return err
	}
	switch op.kind {
	case 4:
		_, err = f.Write(op.data)
	case 5:
		_, err = f.WriteAt(op.data, op.off)
	case 6:
		err = f.Truncate(op.off)
	default:
		err = f.Sync()
	}
	return err
}

func TestCrashDeterminism(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		seed := rapid.Uint64().Draw(t, "seed")
		ops := rapid.SliceOfN(scriptOpGen(), 1, 60).Draw(t, "ops")
		a, b := runScript(seed, ops), runScript(seed, ops)
		if a != b {
			t.Fatalf("same seed, same operations, different worlds:\n%s\n---\n%s", a, b)
		}
	})
}

func TestCrashDependsOnSeed(t *testing.T) {
	ops := []scriptOp{{kind: 0, name: "a"}, {kind: 3}}
	for i := range 8 {
		ops = append(ops, scriptOp{kind: 4, name: "a", data: []byte(sectors("abcdefgh"[i : i+1]))})
	}
	ops = append(ops, scriptOp{kind: 8})
	seen := map[string]bool{}
	for seed := range uint64(20) {
		seen[runScript(seed, ops)] = true
	}
	if len(seen) < 5 {
		t.Fatalf("20 seeds gave only %d distinct crash images", len(seen))
	}
}
