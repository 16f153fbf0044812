package sim

import (
	crand "crypto/rand"
	"io"
	"math/rand/v2"
	"sync"
)

// runMu says that one run owns the process at a time: go.etcd.io/raft
// draws its randomized election timeout from the package variable
// crypto/rand.Reader (raft.go, lockedRand), which a run replaces with a
// seeded stream. Parallel seeds therefore run in separate processes.
var runMu sync.Mutex

// seededReader adapts a seeded stream to io.Reader.
type seededReader struct{ r *rand.Rand }

func (s seededReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); {
		v := s.r.Uint64()
		for j := 0; j < 8 && i < len(p); j++ {
			p[i] = byte(v)
			v >>= 8
			i++
		}
	}
	return len(p), nil
}

// WithSeededCryptoRand runs fn with crypto/rand.Reader replaced by the
// stream r, and restores the real reader afterwards, even if fn panics.
func WithSeededCryptoRand(r *rand.Rand, fn func()) {
	runMu.Lock()
	defer runMu.Unlock()
	saved := crand.Reader
	crand.Reader = seededReader{r}
	defer func() { crand.Reader = saved }()
	fn()
}

var _ io.Reader = seededReader{}
