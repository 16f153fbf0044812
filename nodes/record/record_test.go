package record

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
)

// filled returns n non-zero bytes derived from seed.
func filled(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i)*7 + seed | 1
	}
	return p
}

// frames builds a file of records with the given payload sizes and
// returns it with the offset of each frame.
func frames(sizes ...int) ([]byte, []int) {
	var data []byte
	var offs []int
	for i, n := range sizes {
		offs = append(offs, len(data))
		data = Append(data, filled(n, byte(i)))
	}
	return data, offs
}

func zero(p []byte) []byte {
	for i := range p {
		p[i] = 0
	}
	return p
}

func TestDecodeClassifies(t *testing.T) {
	// The second frame of every file below starts at offset 112.
	tests := []struct {
		name  string
		build func() []byte
		good  int   // records decoded before the error
		want  error // nil, ErrTorn or ErrCorrupt
	}{
		{"clean", func() []byte { d, _ := frames(100, 0, 700); return d }, 3, nil},
		{"empty file", func() []byte { return nil }, 0, nil},
		{"header cut short", func() []byte { d, _ := frames(100, 50); return d[:112+7] }, 1, ErrTorn},
		{"payload cut short", func() []byte { d, _ := frames(100, 50); return d[:112+20] }, 1, ErrTorn},
		{"zero header", func() []byte { d, _ := frames(100); return append(d, make([]byte, 40)...) }, 1, ErrTorn},
		{"zero header at end", func() []byte { d, _ := frames(100); return append(d, make([]byte, HeaderSize)...) }, 1, ErrTorn},
		{"flipped length", func() []byte { d, _ := frames(100, 50, 9); d[112] ^= 4; return d }, 1, ErrCorrupt},
		{"flipped header crc", func() []byte { d, _ := frames(100, 50, 9); d[112+5] ^= 1; return d }, 1, ErrCorrupt},
		{"flipped payload crc", func() []byte { d, _ := frames(100, 50, 9); d[112+9] ^= 1; return d }, 1, ErrCorrupt},
		{"flipped payload", func() []byte { d, _ := frames(100, 50, 9); d[112+30] ^= 0x80; return d }, 1, ErrCorrupt},
		{"lost whole sector", func() []byte { d, _ := frames(100, 2000, 9); zero(d[1024:1536]); return d }, 1, ErrTorn},
		{"lost last partial sector", func() []byte { d, _ := frames(100, 1000); zero(d[1024:]); return d }, 1, ErrTorn},
		{"partly zero sector is corruption", func() []byte { d, _ := frames(100, 2000); zero(d[1024:1500]); return d }, 1, ErrCorrupt},
		{"zero run inside a sector is corruption", func() []byte { d, _ := frames(100, 50, 9); zero(d[130:150]); return d }, 1, ErrCorrupt},
		{"lost first chunk, header straddles", func() []byte {
			d, _ := frames(100, 382, 50) // third frame starts at 506
			zero(d[506:512])
			return d
		}, 2, ErrTorn},
		{"lost first chunk, payload in next sector kept", func() []byte {
			d, _ := frames(100, 300, 500) // third frame starts at 424
			zero(d[424:512])
			return d
		}, 2, ErrTorn},
		{"flip after good zero sector run", func() []byte { d, _ := frames(100, 2000, 9); d[2000] ^= 1; return d }, 1, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.build()
			recs, off, err := Decode(data)
			if len(recs) != tt.good {
				t.Fatalf("decoded %d records, want %d (err %v)", len(recs), tt.good, err)
			}
			wantOff := 0
			for _, p := range recs {
				wantOff += Size(len(p))
			}
			if off != int64(wantOff) {
				t.Fatalf("offset %d, want %d", off, wantOff)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			var re *Error
			if !errors.As(err, &re) || re.Offset != off {
				t.Fatalf("err %v does not carry offset %d", err, off)
			}
			if tt.want == ErrTorn && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatal("a torn record must wrap io.ErrUnexpectedEOF")
			}
		})
	}
}

func TestRoundTripPayloads(t *testing.T) {
	var data []byte
	var want [][]byte
	for i := range 50 {
		p := filled(i*37%600, byte(i))
		want = append(want, p)
		data = Append(data, p)
	}
	recs, off, err := Decode(data)
	if err != nil || off != int64(len(data)) || len(recs) != len(want) {
		t.Fatalf("decode: %d records, off %d of %d, err %v", len(recs), off, len(data), err)
	}
	for i := range want {
		if !bytes.Equal(recs[i], want[i]) {
			t.Fatalf("record %d differs", i)
		}
	}
}

func TestBeginFinishMatchesAppend(t *testing.T) {
	p := filled(33, 5)
	a := Append([]byte("xy"), p)
	b, start := Begin([]byte("xy"))
	b = append(b, p...)
	Finish(b, start)
	if !bytes.Equal(a, b) {
		t.Fatal("Begin/Finish and Append disagree")
	}
}

// TestEveryCutIsTornOrClean cuts a file at every offset and zeroes every
// sector from every point on: the result is always a prefix of the records
// and never ErrCorrupt, since that is what a crash leaves.
func TestEveryCutIsTornOrClean(t *testing.T) {
	data, offs := frames(100, 600, 3, 0, 1100, 40)
	check := func(name string, d []byte, limit int) {
		recs, off, err := Decode(d)
		if err != nil && !errors.Is(err, ErrTorn) {
			t.Fatalf("%s: %v", name, err)
		}
		if int(off) > limit || len(recs) > len(offs) {
			t.Fatalf("%s: read past the cut: off %d", name, off)
		}
		for i, p := range recs {
			if !bytes.Equal(p, data[offs[i]+HeaderSize:offs[i]+HeaderSize+len(p)]) {
				t.Fatalf("%s: record %d differs", name, i)
			}
		}
	}
	for cut := 0; cut <= len(data); cut++ {
		check(fmt.Sprintf("cut at %d", cut), data[:cut], cut)
	}
	for s := 0; s*SectorSize < len(data); s++ {
		d := bytes.Clone(data)
		zero(d[s*SectorSize : min((s+1)*SectorSize, len(d))])
		check(fmt.Sprintf("sector %d lost", s), d, s*SectorSize)
		for cut := s * SectorSize; cut < len(d); cut += 97 {
			// A sector lost and the file also cut short.
			check(fmt.Sprintf("sector %d lost, cut at %d", s, cut), d[:cut], s*SectorSize)
		}
	}
}

func BenchmarkAppendDecode(b *testing.B) {
	p := filled(200, 1)
	buf := make([]byte, 0, 64<<10)
	for b.Loop() {
		buf = buf[:0]
		for range 100 {
			buf = Append(buf, p)
		}
		r := NewReader(buf)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
