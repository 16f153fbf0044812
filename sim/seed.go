package sim

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
)

// ParseSeed reads a seed in decimal or 0x-prefixed hexadecimal.
func ParseSeed(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	var v uint64
	var err error
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		v, err = strconv.ParseUint(h, 16, 64)
	} else {
		v, err = strconv.ParseUint(s, 10, 64)
	}
	if err != nil {
		return 0, fmt.Errorf("sim: seed %q is not a decimal or 0x-hex 64-bit number", s)
	}
	return v, nil
}

// Streams hands out the named random streams of one run. A stream is
// forked by its label, not by draw order, so a new draw in one subsystem
// never shifts the numbers another subsystem sees.
type Streams struct {
	seed uint64
}

// NewStreams returns the streams of seed.
func NewStreams(seed uint64) Streams { return Streams{seed: seed} }

// Seed returns the root seed.
func (s Streams) Seed() uint64 { return s.seed }

// Fork returns the stream named label ("disk/m2", "network", "raft/jitter").
func (s Streams) Fork(label string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(label))
	return rand.New(rand.NewPCG(s.seed, h.Sum64()))
}
