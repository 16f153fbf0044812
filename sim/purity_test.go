package sim

import (
	"bytes"
	crand "crypto/rand"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// forbidden lists what no package but sim (and the processes around worlds,
// cmd and swarm) may do outside its tests: read
// the wall clock, create randomness, or touch a global random source.
var forbidden = []*regexp.Regexp{
	regexp.MustCompile(`\btime\.(Now|Since|Until|Sleep|After|Tick|NewTimer|NewTicker)\(`),
	regexp.MustCompile(`"math/rand"`),
	regexp.MustCompile(`"crypto/rand"`),
	regexp.MustCompile(`\brand\.(New|NewPCG|NewChaCha8|Int|IntN|Int32|Int32N|Int64|Int64N|Uint32|Uint32N|Uint64|Uint64N|UintN|Float32|Float64|Perm|Shuffle|N|ExpFloat64|NormFloat64)\(`),
	regexp.MustCompile(`\bgo func\(`),
}

func TestOnlySimReadsTimeOrRandomness(t *testing.T) {
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			// swarm runs worlds in worker processes and times them: wall
			// time and goroutines outside any world, like cmd.
			if rel == "sim" || rel == "cmd" || rel == "swarm" || strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range bytes.Split(src, []byte("\n")) {
			if bytes.HasPrefix(bytes.TrimSpace(line), []byte("//")) {
				continue
			}
			for _, re := range forbidden {
				if re.Match(line) {
					t.Errorf("%s:%d: %s (only sim may read time or create randomness)", rel, i+1, bytes.TrimSpace(line))
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSeededCryptoRandIsRestored(t *testing.T) {
	saved := crand.Reader
	var a, b [16]byte
	WithSeededCryptoRand(rand.New(rand.NewPCG(1, 1)), func() { crand.Reader.Read(a[:]) })
	WithSeededCryptoRand(rand.New(rand.NewPCG(1, 1)), func() { crand.Reader.Read(b[:]) })
	if a != b {
		t.Fatal("seeded reader is not deterministic")
	}
	if crand.Reader != saved {
		t.Fatal("crypto/rand.Reader not restored")
	}
	func() {
		defer func() { recover() }()
		WithSeededCryptoRand(rand.New(rand.NewPCG(1, 1)), func() { panic("boom") })
	}()
	if crand.Reader != saved {
		t.Fatal("crypto/rand.Reader not restored after a panic")
	}
}
