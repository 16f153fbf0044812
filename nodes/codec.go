package nodes

import (
	"encoding/binary"
	"errors"
)

// errShort is what a decoder reports for a truncated or malformed request.
var errShort = errors.New("nodes: malformed request encoding")

// enc appends varints and length-prefixed byte strings: the wire form of
// requests inside raft entries (etcd uses protobuf; a hand-rolled form is
// several times cheaper and just as deterministic).
type enc struct{ b []byte }

func (e *enc) u(v uint64)     { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) i(v int64)      { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) bytes(p []byte) { e.u(uint64(len(p))); e.b = append(e.b, p...) }
func (e *enc) str(s string)   { e.u(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// dec reads what enc wrote; after the first error every read returns zero
// and err stays set (fail empties b, so the one-byte paths need not look).
type dec struct {
	b   []byte
	err error
}

// fail records a malformed encoding.
func (d *dec) fail() {
	d.b, d.err = nil, errShort
}

// u reads a uvarint. Most fields are lengths, kinds and flags below 0x80,
// one byte each: that path is short enough to inline into DecodeRequest
// (the PGO build does); longer ones and errors go to uSlow.
func (d *dec) u() uint64 {
	if len(d.b) > 0 && d.b[0] < 0x80 {
		v := uint64(d.b[0])
		d.b = d.b[1:]
		return v
	}
	return d.uSlow()
}

// uSlow is u's path for a varint of two bytes or more, or after an error.
func (d *dec) uSlow() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// i reads a varint: the zigzag form of a uvarint, as binary.Varint.
func (d *dec) i() int64 {
	ux := d.u()
	return int64(ux>>1) ^ -int64(ux&1)
}

// fastPaths switches on the decoder's shortcuts for the most common
// encodings (a one-byte length, a run of zero fields); the general path
// decodes every input the same, which TestDecodeRequestFastPaths checks
// by switching them off.
var fastPaths = true

// bytes returns a sub-slice of the input (no copy), nil when empty.
func (d *dec) bytes() []byte {
	if b := d.b; fastPaths && len(b) > 0 && b[0] < 0x80 && int(b[0]) < len(b) {
		// A one-byte length whose bytes follow (most fields): what the
		// path below does, without its call of u.
		n := int(b[0]) + 1
		d.b = b[n:]
		if n == 1 {
			return nil
		}
		return b[1:n:n]
	}
	n := d.u()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	if n == 0 {
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *dec) str() string {
	if p := d.bytes(); len(p) > 0 {
		return string(p)
	}
	return "" // most are empty: no call of the conversion
}

func (d *dec) bool() bool {
	if d.err != nil {
		return false
	}
	if len(d.b) == 0 || d.b[0] > 1 {
		d.fail()
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}
