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
		return nil, r.fail(ErrTorn, "header runs past the end", false)
	}
	n := binary.LittleEndian.Uint32(rest[0:4])
	lenOK := crc32.Checksum(rest[0:4], crcTable) == binary.LittleEndian.Uint32(rest[4:8])
	if !lenOK && r.zeroLength() {
		// etcd's decoder reads a zero length field as the end of the
		// file (preallocated space), and ReadAll zeroes the tail from
		// there: what a crash leaves where a sector was never written.
		return nil, r.fail(ErrTorn, "zero length field", false)
	}
	if uint64(n) > uint64(len(rest)-HeaderSize) {
		if lenOK {
			// etcd: a short read or "max entry size limit exceeded"
			// (#15068), both io.ErrUnexpectedEOF.
			return nil, r.fail(ErrTorn, "frame runs past the end", false)
		}
		// A damaged length is not trusted to skip data (etcd #14098; the
		// length checksum is the model's own): the rest of the data is
		// judged as a record whose checksum failed.
		if r.zeroed(len(rest)) {
			return nil, r.fail(ErrTorn, "header checksum mismatch over a zeroed sector", true)
		}
		return nil, r.fail(ErrCorrupt, "header checksum mismatch", true)
	}
	end := HeaderSize + int(n)
	p := rest[HeaderSize:end:end]
	if !lenOK || crc32.Checksum(p, crcTable) != binary.LittleEndian.Uint32(rest[8:12]) {
		reason := "payload checksum mismatch"
		if !lenOK {
			reason = "header checksum mismatch"
		}
		if r.zeroed(end) {
			return nil, r.fail(ErrTorn, reason+" over a zeroed sector", true)
		}
		return nil, r.fail(ErrCorrupt, reason, true)
	}
	r.off += end
	return p, nil
}

// Offset returns the offset just past the last good frame: after an error,
// where the bad frame starts.
func (r *Reader) Offset() int64 { return int64(r.off) }

func (r *Reader) fail(kind error, reason string, checksum bool) error {
	r.err = &Error{Offset: int64(r.off), Kind: kind, Reason: reason, Checksum: checksum}
	return r.err
}

// zeroed reports whether the n-byte frame at r.off looks like lost
// sectors, by etcd's isTornEntry (server/storage/wal/decoder.go): the
// frame's bytes after its length field (etcd's record and padding; here
// the data checksum and the payload), split at the file's sector
// boundaries and clipped to the frame, hold a chunk that is all zeros.
// Whether the frame is in the last file, etcd's other condition, is the
// caller's (the WAL's) to judge.
func (r *Reader) zeroed(n int) bool {
	start, end := r.off+lengthField, min(r.off+n, len(r.data))
	for s := start; s < end; {
		next := min((s/SectorSize+1)*SectorSize, end)
		if allZero(r.data[s:next]) {
			return true
		}
		s = next
	}
	return false
}

// zeroLength reports whether the frame's length field (its first
// lengthField bytes) is zero in its first sector. etcd's frames are 8-byte
// aligned, so its length field never crosses a sector and a lost sector
// leaves it all zero; the model's frames are not aligned, and a field that
// crosses a sector boundary is judged by its part in the first sector.
func (r *Reader) zeroLength() bool {
	end := min(r.off+lengthField, (r.off/SectorSize+1)*SectorSize)
	return allZero(r.data[r.off:end])
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
