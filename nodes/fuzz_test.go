package nodes

import (
	"bytes"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// FuzzDecodeRequest: any bytes either fail to decode or decode to a
// request whose encoding decodes to the same request (the wire form is
// stable); nothing panics.
func FuzzDecodeRequest(f *testing.F) {
	f.Add((&Request{ID: 7, Kind: KindPut, Key: []byte("k"), Value: []byte("v")}).Encode())
	f.Add((&Request{ID: 9, Kind: KindTxn, Txn: mvcc.TxnRequest{
		Compares: []mvcc.Compare{{Key: []byte("a"), Target: mvcc.CompareVersion, Version: 2}},
		Success:  []mvcc.Op{{Type: mvcc.OpPut, Key: []byte("a"), Value: []byte("b")}},
	}}).Encode())
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := DecodeRequest(p)
		if err != nil {
			return
		}
		q := r.Encode()
		r2, err := DecodeRequest(q)
		if err != nil {
			t.Fatalf("%x: re-encoding %x does not decode: %v", p, q, err)
		}
		if q2 := r2.Encode(); !bytes.Equal(q, q2) {
			t.Fatalf("%x: encoding is not stable: %x then %x", p, q, q2)
		}
	})
}
