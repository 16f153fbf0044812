package record

import (
	"encoding/binary"
	"hash/crc32"
	"io"
)

// Reader walks the frames of one file's bytes from offset 0, so that its
// sector arithmetic matches the file's.
type Reader struct {
	data []byte
	off  int
	err  error
}

// NewReader returns a Reader over data, the whole contents of a file.
func NewReader(data []byte) *Reader { return &Reader{data: data} }

// NewReaderAt returns a Reader over data that starts at offset off, the
// end of a frame an earlier read of the same bytes reached.
func NewReaderAt(data []byte, off int) *Reader { return &Reader{data: data, off: off} }

// Next returns the next payload, which aliases the data. At the clean end
// of the data it returns io.EOF; at a bad frame it returns an *Error that
// matches ErrTorn or ErrCorrupt, and keeps returning it.
func (r *Reader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	rest := r.data[r.off:]
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if len(rest) < HeaderSize {
		return nil, r.fail(ErrTorn, "header runs past the end")
	}
	n := binary.LittleEndian.Uint32(rest[0:4])
	if crc32.Checksum(rest[0:4], crcTable) != binary.LittleEndian.Uint32(rest[4:8]) {
		if r.zeroed(HeaderSize) {
			return nil, r.fail(ErrTorn, "header in a zeroed sector")
		}
		return nil, r.fail(ErrCorrupt, "header checksum mismatch")
	}
	if uint64(n) > uint64(len(rest)-HeaderSize) {
		return nil, r.fail(ErrTorn, "frame runs past the end")
	}
	end := HeaderSize + int(n)
	p := rest[HeaderSize:end:end]
	if crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(rest[8:12]) {
		if r.zeroed(end) {
			return nil, r.fail(ErrTorn, "frame overlaps a zeroed sector")
		}
		return nil, r.fail(ErrCorrupt, "payload checksum mismatch")
	}
	r.off += end
	return p, nil
}

// Offset returns the offset just past the last good frame: after an error,
// where the bad frame starts.
func (r *Reader) Offset() int64 { return int64(r.off) }

func (r *Reader) fail(kind error, reason string) error {
	r.err = &Error{Offset: int64(r.off), Kind: kind, Reason: reason}
	return r.err
}

// zeroed reports whether the n-byte frame at r.off looks like lost sectors:
// its part of its first sector is all zeros, or a later sector it overlaps
// is entirely zero (within the data). This models etcd's isTornEntry, which
// tests each sector-sized chunk of a bad record for zeros.
func (r *Reader) zeroed(n int) bool {
	start, end := r.off, min(r.off+n, len(r.data))
	next := min((start/SectorSize+1)*SectorSize, len(r.data))
	if allZero(r.data[start:next]) {
		return true
	}
	for s := next; s < end; s += SectorSize {
		if allZero(r.data[s:min(s+SectorSize, len(r.data))]) {
			return true
		}
	}
	return false
}

func allZero(p []byte) bool {
	for _, c := range p {
		if c != 0 {
			return false
		}
	}
	return true
}

// Decode returns the payloads of data up to the first bad frame, the offset
// just past the last good one, and nil at a clean end or the *Error of the
// bad frame.
func Decode(data []byte) ([][]byte, int64, error) {
	r := NewReader(data)
	var out [][]byte
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out, r.Offset(), nil
		}
		if err != nil {
			return out, r.Offset(), err
		}
		out = append(out, p)
	}
}
