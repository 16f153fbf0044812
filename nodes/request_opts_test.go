package nodes

import (
	"reflect"
	"testing"
)

// TestRangeOptionsRoundTrip checks that a range's options survive the wire
// form, and that a request without them encodes as before (no trailing
// fields).
func TestRangeOptionsRoundTrip(t *testing.T) {
	plain := &Request{ID: 7, Kind: KindRange, Key: []byte("k01"), Rev: 3}
	with := *plain
	with.Limit, with.KeysOnly, with.CountOnly = 5, true, true
	if len(with.Encode()) <= len(plain.Encode()) {
		t.Fatal("the options took no bytes")
	}
	for _, r := range []*Request{plain, &with} {
		back, err := DecodeRequest(r.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip: got %+v, want %+v", back, r)
		}
	}
}
