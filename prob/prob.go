// Package prob holds the integer-ratio probabilities that every fault and
// workload knob in etcdsim uses. Probabilities are never floats: a ratio such
// as 3/100 prints, parses back and compares exactly, as TigerBeetle's VOPR
// does with its fault rates.
package prob

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Ratio is the probability Num/Den. The zero value is "never".
type Ratio struct {
	Num, Den uint64
}

// Never is the ratio that never hits.
var Never = Ratio{}

// Always is the ratio that always hits.
var Always = Ratio{1, 1}

// Of returns num/den.
func Of(num, den uint64) Ratio { return Ratio{num, den} }

// Zero reports whether r never hits.
func (r Ratio) Zero() bool { return r.Num == 0 || r.Den == 0 }

// Hit draws one event with probability r from rng. A zero ratio draws
// nothing from rng, so turning a fault off does not shift the stream.
func (r Ratio) Hit(rng *rand.Rand) bool {
	if r.Zero() {
		return false
	}
	if r.Num >= r.Den {
		return true
	}
	return rng.Uint64N(r.Den) < r.Num
}

// String prints r as "num/den", or "0" when it never hits.
func (r Ratio) String() string {
	if r.Zero() {
		return "0"
	}
	return strconv.FormatUint(r.Num, 10) + "/" + strconv.FormatUint(r.Den, 10)
}

// Parse reads "num/den" or "0". The numerator must not exceed the denominator.
func Parse(s string) (Ratio, error) {
	if s == "0" {
		return Never, nil
	}
	n, d, ok := strings.Cut(s, "/")
	if !ok {
		return Never, fmt.Errorf("prob: %q is not a ratio num/den", s)
	}
	num, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		return Never, fmt.Errorf("prob: bad numerator in %q", s)
	}
	den, err := strconv.ParseUint(d, 10, 64)
	if err != nil || den == 0 {
		return Never, fmt.Errorf("prob: bad denominator in %q", s)
	}
	if num > den {
		return Never, fmt.Errorf("prob: %q is above 1", s)
	}
	return Ratio{num, den}, nil
}
