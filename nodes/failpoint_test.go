package nodes

import "testing"

// TestFailpointNames checks that every point has its own name and parses
// back to itself.
func TestFailpointNames(t *testing.T) {
	if len(Failpoints) != NumFailpoints-1 {
		t.Fatalf("%d names for %d points", len(Failpoints), NumFailpoints-1)
	}
	for f := Failpoint(1); f < NumFailpoints; f++ {
		g, ok := ParseFailpoint(f.String())
		if !ok || g != f || f.String() == "" {
			t.Errorf("%d: %q parses to %d, %v", f, f.String(), g, ok)
		}
	}
	if _, ok := ParseFailpoint("nowhere"); ok {
		t.Error("an unknown name parsed")
	}
	if Failpoint(0).String() != "" || FPAfterWriteWAL.String() != "walBeforeSync" {
		t.Errorf("names: %q %q", Failpoint(0).String(), FPAfterWriteWAL.String())
	}
}
