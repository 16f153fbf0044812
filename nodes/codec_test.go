package nodes

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestDecVarints: dec reads what binary.Uvarint and binary.Varint read,
// one-byte values and longer ones alike, and after a malformed one every
// read returns zero with err set.
func TestDecVarints(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, -64, 64, -65, 127, 128, 300, -300, 1 << 40, math.MaxInt64, math.MinInt64} {
		var e enc
		e.u(uint64(v))
		e.i(v)
		d := dec{b: e.b}
		if got := d.u(); got != uint64(v) || d.err != nil {
			t.Errorf("u: %d, %v; want %d", got, d.err, uint64(v))
		}
		if got := d.i(); got != v || d.err != nil || len(d.b) != 0 {
			t.Errorf("i: %d, %v, %d left; want %d", got, d.err, len(d.b), v)
		}
	}
	// Truncated at the end of the input, and one too long for 64 bits
	// followed by readable bytes, which stay unread.
	for _, p := range [][]byte{{}, {0x80}, {0xff, 0xff}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 5, 1, 1}} {
		if _, n := binary.Uvarint(p); n > 0 {
			t.Fatalf("%x decodes", p)
		}
		d := dec{b: p}
		if d.u() != 0 || d.err == nil {
			t.Errorf("%x: u read a value", p)
		}
		if d.u() != 0 || d.i() != 0 || d.bool() || d.bytes() != nil || d.err == nil {
			t.Errorf("%x: reads after an error returned values", p)
		}
	}
}
