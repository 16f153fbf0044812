package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// HeaderSize is the size of a frame header in bytes.
const HeaderSize = 12

// lengthField is the part of a frame header that plays etcd's 8-byte
// length field: the length and its checksum. The torn-write test looks
// at what follows it, as etcd's looks at what follows its length.
const lengthField = 8

// SectorSize is the sector size torn-write detection reasons about; it is
// disk.SectorSize, repeated here so that the framing does not depend on the
// simulated disk.
const SectorSize = 512

// MaxPayload is the largest payload a frame can carry.
const MaxPayload = 1<<32 - 1

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type tornError struct{}

func (*tornError) Error() string { return "record: torn record" }
func (*tornError) Unwrap() error { return io.ErrUnexpectedEOF }

// ErrTorn marks a frame that a crash cut short; it wraps io.ErrUnexpectedEOF.
var ErrTorn error = &tornError{}

// ErrCorrupt marks a frame whose bytes changed after they were written.
var ErrCorrupt = errors.New("record: corrupt record")

// Error is the error a Reader returns at the first bad frame. Errors.Is
// matches it against ErrTorn or ErrCorrupt.
type Error struct {
	Offset int64  // where the bad frame starts: the size to truncate to
	Kind   error  // ErrTorn or ErrCorrupt
	Reason string // what was wrong, for people
	// Checksum is set when a checksum failed (etcd's ErrCRCMismatch, or
	// its torn entry if Kind is ErrTorn), not when the frame runs past
	// the end of the data.
	Checksum bool
	// End is set at a zero length field followed by bytes (Kind
	// ErrTorn): etcd's decoder reads it as the end of the file, and
	// ReadAll's ZeroToEnd cuts what follows and preallocates the file
	// again, where its Repair of a torn record only cuts.
	End bool
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("%v at offset %d: %s", e.Kind, e.Offset, e.Reason)
}

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// Append appends payload to dst as one frame and returns the extended slice.
func Append(dst, payload []byte) []byte {
	dst, start := Begin(dst)
	dst = append(dst, payload...)
	Finish(dst, start)
	return dst
}

// Begin reserves a frame header at the end of dst. The caller appends the
// payload to the returned slice and then calls Finish with the returned
// start, which lets encoders write payloads in place without a copy.
func Begin(dst []byte) ([]byte, int) {
	start := len(dst)
	return append(dst, make([]byte, HeaderSize)...), start
}

// Finish fills in the header of the frame that Begin started at start; the
// payload is everything in dst after the header.
func Finish(dst []byte, start int) {
	n := len(dst) - start - HeaderSize
	if n < 0 || uint64(n) > MaxPayload {
		panic(fmt.Sprintf("record: bad frame: start %d, payload %d bytes", start, n))
	}
	h := dst[start : start+HeaderSize]
	binary.LittleEndian.PutUint32(h[0:4], uint32(n))
	binary.LittleEndian.PutUint32(h[4:8], crc32.Checksum(h[0:4], crcTable))
	binary.LittleEndian.PutUint32(h[8:12], crc32.Checksum(dst[start+HeaderSize:], crcTable))
}

// Size returns the size of the frame of an n-byte payload.
func Size(n int) int { return HeaderSize + n }
