package backend

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestMemHashIsOrderIndependent(t *testing.T) {
	a, b := NewMem(), NewMem()
	for i := range 100 {
		a.Put("key", []byte(fmt.Sprint(i)), []byte("v"))
	}
	for i := 99; i >= 0; i-- {
		b.Put("key", []byte(fmt.Sprint(i)), []byte("x"))
		b.Put("key", []byte(fmt.Sprint(i)), []byte("v"))
	}
	b.Put("key", []byte("gone"), []byte("v"))
	b.Delete("key", []byte("gone"))
	if a.BucketHash("key") != b.BucketHash("key") || a.Len("key") != b.Len("key") {
		t.Fatal("same contents, different hash")
	}
	b.Put("key", []byte("5"), []byte("w"))
	if a.BucketHash("key") == b.BucketHash("key") {
		t.Fatal("different contents, same hash")
	}
}

func TestMemRangeAndClone(t *testing.T) {
	m := NewMem()
	for _, k := range []string{"d", "a", "c", "b"} {
		m.Put("b1", []byte(k), []byte(k+k))
	}
	m.Put("a0", []byte("x"), nil)
	if got := fmt.Sprint(m.Buckets()); got != "[a0 b1]" {
		t.Fatalf("buckets %s", got)
	}
	var got []string
	m.Range("b1", []byte("b"), []byte("d"), func(k, v []byte) bool {
		got = append(got, string(k)+"="+string(v))
		return true
	})
	if fmt.Sprint(got) != "[b=bb c=cc]" {
		t.Fatalf("range %v", got)
	}
	c := m.Clone()
	c.Put("b1", []byte("a"), []byte("changed"))
	c.Delete("b1", []byte("d"))
	if v, _ := m.Get("b1", []byte("a")); string(v) != "aa" {
		t.Fatal("clone wrote through")
	}
	if m.Len("b1") != 4 || c.Len("b1") != 3 {
		t.Fatal("clone lengths")
	}
}

// TestFullSizeIsTheEncodedLength: fullSize counts exactly what encodeFull
// writes, across field lengths on both sides of each uvarint width.
func TestFullSizeIsTheEncodedLength(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := NewMem()
		lengths := rapid.SampledFrom([]int{0, 1, 127, 128, 300, 16383, 16384})
		for range rapid.IntRange(0, 20).Draw(t, "puts") {
			bucket := rapid.SampledFrom([]string{"key", "meta", strings.Repeat("b", 130)}).Draw(t, "bucket")
			key := []byte(strings.Repeat("k", lengths.Draw(t, "key")) + rapid.StringN(1, 3, -1).Draw(t, "suffix"))
			m.Put(bucket, key, make([]byte, lengths.Draw(t, "value")))
		}
		full := encodeFull(m)
		if got, want := fullSize(m), int64(len(full)); got != want {
			t.Fatalf("fullSize %d, encodeFull writes %d", got, want)
		}
		if cap(full) != len(full) {
			t.Fatalf("encodeFull's buffer grew: %d bytes, capacity %d", len(full), cap(full))
		}
	})
}

// TestLessKVOrdersAsBytes: the key head shortcut orders keys exactly as
// bytes.Compare does, short keys and zero bytes included.
func TestLessKVOrdersAsBytes(t *testing.T) {
	keys := [][]byte{nil, {}, {0}, {0, 0}, {1}, {0, 1}, []byte("a"), []byte("a\x00"), []byte("ab"),
		[]byte("abcdefgh"), []byte("abcdefgh\x00"), []byte("abcdefgi"), []byte("abcdefg"), []byte("abcdefg\xff"),
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0}}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		k := make([]byte, rng.IntN(12))
		for i := range k {
			k[i] = byte(rng.IntN(3)) * 0x7f
		}
		keys = append(keys, k)
	}
	for _, a := range keys {
		for _, b := range keys[:64] {
			if got, want := lessKV(item(a), item(b)), bytes.Compare(a, b) < 0; got != want {
				t.Fatalf("lessKV(%q, %q) = %v, bytes.Compare says %v", a, b, got, want)
			}
			if got, want := lessKV(item(b), item(a)), bytes.Compare(b, a) < 0; got != want {
				t.Fatalf("lessKV(%q, %q) = %v, bytes.Compare says %v", b, a, got, want)
			}
		}
	}
}

// item returns the tree item of key.
func item(key []byte) kv { return kv{head: KeyHead(key), r: &rec{key: key}} }

// TestMemNestedReads: a Get or a Range of the same bucket inside a Range's
// callback leaves the outer scan's bounds alone (the searches reuse items).
func TestMemNestedReads(t *testing.T) {
	m := NewMem()
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		m.Put("b", []byte(k), []byte(k))
	}
	var got []string
	m.Range("b", []byte("b"), []byte("e"), func(k, v []byte) bool {
		got = append(got, string(k))
		if _, ok := m.Get("b", []byte("e")); !ok {
			t.Fatal("inner Get missed")
		}
		n := 0
		m.Range("b", []byte("a"), nil, func(k, v []byte) bool { n++; return true })
		if n != 5 {
			t.Fatalf("inner Range saw %d keys", n)
		}
		return true
	})
	if fmt.Sprint(got) != "[b c d]" {
		t.Fatalf("outer Range %v", got)
	}
	m.Range("b", []byte("d"), nil, func(k, v []byte) bool { got = append(got, string(k)); return true })
	if fmt.Sprint(got) != "[b c d d e]" {
		t.Fatalf("Range after nested ones %v", got)
	}
}

// TestKeyHashOfTheKeyBucket: keyHash's precomputed state for the key bucket
// is the one every other bucket's name gives.
func TestKeyHashOfTheKeyBucket(t *testing.T) {
	for _, key := range []string{"", "a", "0123456789abcdefg", "\x00\x00\x00\x00\x00\x00\x00\x01_\x00\x00\x00\x00\x00\x00\x00\x00"} {
		generic := mixBytes(mixLen(bucketHash(string([]byte(SafeRangeBucket))), len(key)), []byte(key))
		if got := keyHash(SafeRangeBucket, []byte(key)); got != generic {
			t.Fatalf("keyHash(%q, %q) = %x, want %x", SafeRangeBucket, key, got, generic)
		}
	}
	if keyHash("meta", []byte("k")) == keyHash(SafeRangeBucket, []byte("k")) {
		t.Fatal("buckets meta and key hash alike")
	}
}
