package nodes

import (
	"bytes"
	"testing"
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
