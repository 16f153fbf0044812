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
	size int // the file's size: data, then zeros up to size (Preallocated)
	off  int
	err  error
}

// NewReader returns a Reader over data, the whole contents of a file.
func NewReader(data []byte) *Reader { return &Reader{data: data, size: len(data)} }

// NewReaderAt returns a Reader over data that starts at offset off, the
// end of a frame an earlier read of the same bytes reached.
func NewReaderAt(data []byte, off int) *Reader {
	return &Reader{data: data, size: len(data), off: off}
}

// Preallocated says that the file is size bytes long, data followed by
// zeros it never wrote (an etcd WAL segment, preallocated with zeros by
// fallocate), and returns r. Reaching the zeros at a frame boundary is
// the clean end (etcd's decoder reads the zero length there as "end of
// file or preallocated space"); a frame that runs into them reads them as
// its bytes, so that a record whose last sectors were lost is full length
// and fails its checksum over a zeroed chunk (etcd's isTornEntry), where
// without them it would be cut short. The zeros are never materialized,
// except in a payload that holds them and whose checksum holds.
func (r *Reader) Preallocated(size int64) *Reader {
	r.size = max(len(r.data), int(min(size, int64(maxInt))))
	return r
}

const maxInt = int(^uint(0) >> 1)

// zeroBlock is read, never written: the preallocated zeros a checksum runs
// over.
var zeroBlock [4096]byte

// Next returns the next payload, which aliases the data. At the clean end
// of the data it returns io.EOF; at a bad frame it returns an *Error that
// matches ErrTorn or ErrCorrupt, and keeps returning it.
func (r *Reader) Next() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.off >= len(r.data) {
		// The end of the file, or preallocated zeros: etcd's decoder
		// reads a zero length there as the end (io.EOF).
		return nil, io.EOF
	}
	rest, avail := r.data[r.off:], r.size-r.off
	if avail < HeaderSize {
		return nil, r.fail(ErrTorn, "header runs past the end", false)
	}
	h := rest
	if len(rest) < HeaderSize {
		var hdr [HeaderSize]byte // the header runs into preallocated zeros
		copy(hdr[:], rest)
		h = hdr[:]
	}
	n := binary.LittleEndian.Uint32(h[0:4])
	lenOK := crc32.Checksum(h[0:4], crcTable) == binary.LittleEndian.Uint32(h[4:8])
	if !lenOK && zeroLength(h, r.off) {
		// etcd's decoder reads a zero length field as the end of the
		// file (preallocated space), and ReadAll zeroes the tail from
		// there: what a crash leaves where a sector was never written.
		// Here bytes follow it, which the caller must cut.
		return nil, r.failEnd()
	}
	if uint64(n) > uint64(avail-HeaderSize) {
		if lenOK {
			// etcd: a short read or "max entry size limit exceeded"
			// (#15068), both io.ErrUnexpectedEOF.
			return nil, r.fail(ErrTorn, "frame runs past the end", false)
		}
		// A damaged length is not trusted to skip data (etcd #14098; the
		// length checksum is the model's own): the rest of the data is
		// judged as a record whose checksum failed.
		if r.zeroed(avail) {
			return nil, r.fail(ErrTorn, "header checksum mismatch over a zeroed sector", true)
		}
		return nil, r.fail(ErrCorrupt, "header checksum mismatch", true)
	}
	end := HeaderSize + int(n)
	var p []byte
	crcOK := false
	if lenOK {
		if end <= len(rest) {
			p = rest[HeaderSize:end:end]
			crcOK = crc32.Checksum(p, crcTable) == binary.LittleEndian.Uint32(h[8:12])
		} else {
			crcOK = r.zeroTailChecksum(end) == binary.LittleEndian.Uint32(h[8:12])
			if crcOK {
				// The lost bytes were zeros: the record is whole.
				p = make([]byte, n)
				copy(p, rest[min(HeaderSize, len(rest)):])
			}
		}
	}
	if !crcOK {
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

// zeroTailChecksum returns the payload checksum of the end-byte frame at
// r.off that runs past the data into preallocated zeros.
func (r *Reader) zeroTailChecksum(end int) uint32 {
	var sum uint32
	from := r.off + HeaderSize
	if from < len(r.data) {
		sum = crc32.Update(sum, crcTable, r.data[from:])
		from = len(r.data)
	}
	for left := r.off + end - from; left > 0; left -= len(zeroBlock) {
		sum = crc32.Update(sum, crcTable, zeroBlock[:min(left, len(zeroBlock))])
	}
	return sum
}

// Offset returns the offset just past the last good frame: after an error,
// where the bad frame starts.
func (r *Reader) Offset() int64 { return int64(r.off) }

func (r *Reader) fail(kind error, reason string, checksum bool) error {
	r.err = &Error{Offset: int64(r.off), Kind: kind, Reason: reason, Checksum: checksum}
	return r.err
}

// failEnd stops at a zero length field with bytes after it (Error.End).
func (r *Reader) failEnd() error {
	r.err = &Error{Offset: int64(r.off), Kind: ErrTorn, Reason: "zero length field", End: true}
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
	start, end := r.off+lengthField, min(r.off+n, r.size)
	for s := start; s < end; {
		if s >= len(r.data) {
			return true // a chunk of preallocated zeros
		}
		next := min((s/SectorSize+1)*SectorSize, end)
		if allZero(r.data[s:min(next, len(r.data))]) {
			return true
		}
		s = next
	}
	return false
}

// zeroLength reports whether the length field of the frame at off, whose
// header is h, is zero in its first sector. etcd's frames are 8-byte
// aligned, so its length field never crosses a sector and a lost sector
// leaves it all zero; the model's frames are not aligned, and a field that
// crosses a sector boundary is judged by its part in the first sector.
func zeroLength(h []byte, off int) bool {
	return allZero(h[:min(lengthField, (off/SectorSize+1)*SectorSize-off)])
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
