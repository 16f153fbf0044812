package prob

import (
	"math/rand/v2"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"0", "1/1", "3/100", "1/5000"} {
		r, err := Parse(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if r.String() != s {
			t.Fatalf("%s printed back as %s", s, r)
		}
	}
	for _, s := range []string{"", "1", "a/2", "1/0", "3/2", "-1/2", "1/x"} {
		if _, err := Parse(s); err == nil {
			t.Fatalf("%q parsed", s)
		}
	}
}

func TestHitRate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := Of(1, 4)
	hits := 0
	for range 40000 {
		if r.Hit(rng) {
			hits++
		}
	}
	if hits < 9500 || hits > 10500 {
		t.Fatalf("1/4 hit %d of 40000", hits)
	}
	if Never.Hit(rng) || !Always.Hit(rng) {
		t.Fatal("never/always wrong")
	}
}
