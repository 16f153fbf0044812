package nodes

import (
	"bytes"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

func TestDecodedSharesOnlyTheSameBytes(t *testing.T) {
	p := (&Request{ID: 7, Kind: KindPut, Key: []byte("k01"), Value: []byte("v")}).Encode()
	c := new(Decoded)
	a, err := c.Decode(p)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := c.Decode(p); b != a {
		t.Fatal("the same bytes were decoded twice")
	}
	// Equal content in another array (a log read back from disk) is
	// decoded afresh: the cache never trusts content or position.
	q := bytes.Clone(p)
	b, _ := c.Decode(q)
	if b == a || b.ID != 7 || string(b.Key) != "k01" {
		t.Fatalf("a copy of the bytes got %p (first %p), %+v", b, a, b)
	}
	// A prefix of the same array is other bytes.
	if _, err := c.Decode(p[:len(p)-1]); err == nil {
		t.Fatal("a truncated request decoded from the cache")
	}
	var none *Decoded
	if r, err := none.Decode(p); err != nil || r == a || r.ID != 7 {
		t.Fatalf("nil cache: %v %v", r, err)
	}
}

// TestDecodedSum: the hash of an entry's bytes, from the cache, is the
// hash of those bytes, whether the slot was filled by Decode or by Sum,
// and a slot taken over by other bytes gives neither the old hash nor the
// old request.
func TestDecodedSum(t *testing.T) {
	p := (&Request{ID: 7, Kind: KindPut, Key: []byte("k01"), Value: []byte("v")}).Encode()
	want := backend.RecordHash("", nil, p)
	c := new(Decoded)
	req, _ := c.Decode(p)
	if got := c.Sum(p); got != want {
		t.Fatalf("Sum after Decode: %x, want %x", got, want)
	}
	if got, _ := c.Decode(p); got != req {
		t.Fatal("Sum dropped the decoding of the same bytes")
	}
	q := p[:len(p)-1] // other bytes, the same slot
	if got := c.Sum(q); got != backend.RecordHash("", nil, q) {
		t.Fatalf("Sum of a prefix: %x", got)
	}
	if r, err := c.Decode(q); err == nil || r == req {
		t.Fatalf("the prefix decoded as %v, %v", r, err)
	}
	if got := c.Sum(p); got != want {
		t.Fatalf("Sum after the slot was taken over: %x, want %x", got, want)
	}
	var none *Decoded
	if got := none.Sum(p); got != want {
		t.Fatalf("nil cache: %x", got)
	}
}
