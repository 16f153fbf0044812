package nodes

import "unsafe"

// Decoded remembers decoded requests by the identity of the bytes they
// were decoded from. In the world every member, and the reference, applies
// the same committed entry: raft hands the leader's entry to followers by
// pointer, so their Data share one backing array, and one decoding serves
// all of them. A key is the address and length of the bytes, never their
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
	p   *byte
	n   int
	req *Request
	err error
}

// Decode returns DecodeRequest(p), from the cache when the same bytes were
// decoded before.
func (c *Decoded) Decode(p []byte) (*Request, error) {
	if c == nil || len(p) == 0 {
		return DecodeRequest(p)
	}
	ptr := unsafe.SliceData(p)
	h := uintptr(unsafe.Pointer(ptr))
	s := &c.slots[(h>>3^h>>13)&(decodedSlots-1)]
	if s.p == ptr && s.n == len(p) {
		return s.req, s.err
	}
	req, err := DecodeRequest(p)
	*s = decodedSlot{p: ptr, n: len(p), req: req, err: err}
	return req, err
}
