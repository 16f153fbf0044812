package record

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestPreallocatedZeros reads files followed by preallocated zeros that
// are not in the data, as etcd's decoder reads its zero-filled WAL files.
func TestPreallocatedZeros(t *testing.T) {
	data, offs := frames(100, 2000) // the second frame starts at 112, ends at 2124
	const size = 8192
	t.Run("zeros at a frame boundary end the file", func(t *testing.T) {
		r := NewReader(data).Preallocated(size)
		for range 2 {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("at the zeros: %v, want io.EOF", err)
		}
	})
	t.Run("a frame running into the zeros is torn, its checksum failed", func(t *testing.T) {
		for _, cut := range []int{1024, 1536, 2000, offs[1] + 5, offs[1] + 12} {
			r := NewReader(data[:cut]).Preallocated(size)
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
			_, err := r.Next()
			var re *Error
			if !errors.As(err, &re) || !errors.Is(err, ErrTorn) || !errors.Is(err, io.ErrUnexpectedEOF) || re.Offset != int64(offs[1]) {
				t.Fatalf("cut at %d: %v, want a torn record at %d", cut, err, offs[1])
			}
			if !re.Checksum || re.End {
				t.Fatalf("cut at %d: %+v, want a checksum failed over a zeroed chunk (etcd's isTornEntry)", cut, re)
			}
			// Without the zeros the same bytes are a record cut short.
			r = NewReader(data[:cut])
			r.Next()
			if _, err := r.Next(); !errors.As(err, &re) || re.Checksum || !errors.Is(err, ErrTorn) {
				t.Fatalf("cut at %d without preallocation: %v, want a record cut short", cut, err)
			}
		}
	})
	t.Run("a frame whose lost bytes were zeros is whole", func(t *testing.T) {
		d := Append(nil, append(bytes.Repeat([]byte{7}, 100), make([]byte, 1500)...))
		r := NewReader(d[:512]).Preallocated(size)
		p, err := r.Next()
		if err != nil || !bytes.Equal(p, d[HeaderSize:]) {
			t.Fatalf("%v: the record is not read back whole", err)
		}
		if r.Offset() != int64(len(d)) {
			t.Fatalf("offset %d, want %d", r.Offset(), len(d))
		}
	})
	t.Run("a zero length field with bytes after it", func(t *testing.T) {
		d := append(data[:offs[1]:offs[1]], make([]byte, 600)...)
		d = append(d, 1, 2, 3)
		r := NewReader(d).Preallocated(size)
		r.Next()
		_, err := r.Next()
		var re *Error
		if !errors.As(err, &re) || !re.End || re.Checksum || re.Offset != int64(offs[1]) {
			t.Fatalf("%v, want the end at a zero length field at %d", err, offs[1])
		}
	})
	t.Run("a frame past the preallocated end is cut short", func(t *testing.T) {
		r := NewReader(data[:1024]).Preallocated(1500)
		r.Next()
		_, err := r.Next()
		var re *Error
		if !errors.As(err, &re) || re.Checksum || !errors.Is(err, ErrTorn) {
			t.Fatalf("%v, want a record cut short (etcd's max entry size limit)", err)
		}
	})
}
