package wal

import "testing"

// TestHexNames holds the hand-written parsers to what %016x writes and
// nothing else: fmt.Sscanf took fewer digits and upper case, which no name
// written here has.
func TestHexNames(t *testing.T) {
	for _, tc := range []struct {
		s    string
		v    uint64
		good bool
	}{
		{"0000000000000000", 0, true},
		{"00000000000000ff", 255, true},
		{"ffffffffffffffff", ^uint64(0), true},
		{"00000000000000FF", 0, false},
		{"0000000000000ff", 0, false},
		{"000000000000000ff", 0, false},
		{"000000000000000g", 0, false},
		{"", 0, false},
	} {
		v, ok := Hex16(tc.s)
		if ok != tc.good || (ok && v != tc.v) {
			t.Errorf("Hex16(%q) = %d, %v; want %d, %v", tc.s, v, ok, tc.v, tc.good)
		}
	}
	for seq, index := range map[uint64]uint64{0: 0, 1: 17, 0xabc: 1 << 40} {
		name := segmentName(seq, index)
		s, i, ok := parseSegmentName(name)
		if !ok || s != seq || i != index {
			t.Errorf("parseSegmentName(%q) = %d, %d, %v", name, s, i, ok)
		}
		if _, _, ok := parseSegmentName(name + tmpSuffix); ok {
			t.Errorf("parseSegmentName took %q", name+tmpSuffix)
		}
	}
	if _, _, ok := HexPair("0000000000000001_0000000000000002"); ok {
		t.Error("HexPair took a body without its dash")
	}
}
