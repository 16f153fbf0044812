package nodes

import (
	"unsafe"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// Decoded remembers decoded requests, and the hashes of their bytes, by
// the identity of the bytes they were decoded from. In the world every
// member, and the reference, applies the same committed entry: raft hands
// the leader's entry to followers by pointer, so their Data share one
// backing array, and one decoding serves all of them. A key is the address and length of the bytes, never their
// content or (term, index): bytes read back from a disk after a restart
// are another array and are decoded afresh, so a member whose log differs
// can never be given another member's request. Requests from the cache
// are shared: applying must not change them (nothing does).
//
// A nil *Decoded decodes every time. The cache is direct-mapped and holds
// at most decodedSlots requests; it is not safe for concurrent use (a world
// is single-threaded).
type Decoded struct {
	slots [decodedSlots]decodedSlot
}

const decodedSlots = 1 << 10

type decodedSlot struct {
	p       *byte
	n       int
	decoded bool // req and err hold DecodeRequest(p)
	req     *Request
	err     error
	summed  bool // sum holds the bytes' RecordHash
	sum     uint64
}

// slot returns the slot of the bytes p, emptied if it held other bytes.
func (c *Decoded) slot(p []byte) *decodedSlot {
	ptr := unsafe.SliceData(p)
	h := uintptr(unsafe.Pointer(ptr))
	s := &c.slots[(h>>3^h>>13)&(decodedSlots-1)]
	if s.p != ptr || s.n != len(p) {
		*s = decodedSlot{p: ptr, n: len(p)}
	}
	return s
}

// Decode returns DecodeRequest(p), from the cache when the same bytes were
// decoded before.
func (c *Decoded) Decode(p []byte) (*Request, error) {
	if c == nil || len(p) == 0 {
		return DecodeRequest(p)
	}
	s := c.slot(p)
	if !s.decoded {
		s.req, s.err = DecodeRequest(p)
		s.decoded = true
	}
	return s.req, s.err
}

// Sum returns backend.RecordHash("", nil, p), the hash the checks compare
// entries by, from the cache when the same bytes were hashed before.
func (c *Decoded) Sum(p []byte) uint64 {
	if c == nil || len(p) == 0 {
		return backend.RecordHash("", nil, p)
	}
	s := c.slot(p)
	if !s.summed {
		s.sum = backend.RecordHash("", nil, p)
		s.summed = true
	}
	return s.sum
}
