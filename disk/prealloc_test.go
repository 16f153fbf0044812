package disk

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestPreallocate: fallocate's new size is metadata, read as zeros past the
// bytes, durable at the file's Sync and lost by a crash before it; the file
// holds no zeros in memory.
func TestPreallocate(t *testing.T) {
	fs := newFS(1, Faults{})
	f := mustCreate(t, fs, "seg")
	mustWriteAt(t, f, "head", 0)
	if err := f.Preallocate(4096); err != nil {
		t.Fatal(err)
	}
	if f.Size() != 4 || f.Allocated() != 4096 || len(f.Bytes()) != 4 {
		t.Fatalf("size %d, allocated %d, bytes %d: want 4, 4096, 4", f.Size(), f.Allocated(), len(f.Bytes()))
	}
	p := bytes.Repeat([]byte{0xff}, 10)
	if n, err := f.ReadAt(p, 2); n != 10 || err != nil || !bytes.Equal(p, []byte("ad\x00\x00\x00\x00\x00\x00\x00\x00")) {
		t.Fatalf("read across the bytes' end: %d %v %q", n, err, p)
	}
	if n, err := f.ReadAt(p, 4090); n != 6 || err != io.EOF {
		t.Fatalf("read past the preallocated end: %d %v", n, err)
	}
	// A write into the preallocated space stores only what it writes.
	mustWriteAt(t, f, "tail", 100)
	if f.Size() != 104 || f.Allocated() != 4096 {
		t.Fatalf("after a write inside: size %d, allocated %d", f.Size(), f.Allocated())
	}

	// Created and preallocated, never synced: the crash keeps the name
	// (no DirLoss) and nothing else, the preallocation included.
	img := fs.Crash()
	g, err := img.Open("seg")
	if err != nil {
		t.Fatal(err)
	}
	if g.Size() != 0 || g.Allocated() != 0 {
		t.Fatalf("unsynced create: size %d, allocated %d, want 0, 0", g.Size(), g.Allocated())
	}
	if log := strings.Join(img.CrashLog(), "\n"); !strings.Contains(log, "seg: preallocated 4096 -> 0") {
		t.Fatalf("crash log does not say the preallocation was lost:\n%s", log)
	}

	// Synced: it survives, and a later unsynced change of it does not.
	if err := g.Preallocate(2048); err != nil {
		t.Fatal(err)
	}
	mustWriteAt(t, g, "x", 0)
	mustSync(t, g)
	if err := g.Preallocate(8192); err != nil {
		t.Fatal(err)
	}
	img2 := img.Crash()
	h, _ := img2.Open("seg")
	if h.Size() != 1 || h.Allocated() != 2048 {
		t.Fatalf("synced preallocation: size %d, allocated %d, want 1, 2048", h.Size(), h.Allocated())
	}
}

// TestPreallocatedTornWriteReadsZeros: a write in flight into preallocated
// space whose last sectors are lost leaves a file of the preallocated
// size, the lost sectors zeros, not a file cut short.
func TestPreallocatedTornWriteReadsZeros(t *testing.T) {
	fs := newFS(1, Faults{})
	f := mustCreate(t, fs, "seg")
	if err := f.Preallocate(64 << 10); err != nil {
		t.Fatal(err)
	}
	mustWriteAt(t, f, "header", 0)
	mustSync(t, f)
	if err := fs.SyncDir(); err != nil {
		t.Fatal(err)
	}
	mustWriteAt(t, f, strings.Repeat("r", 4*SectorSize), SectorSize)
	if err := fs.TearInFlight("seg", 2); err != nil {
		t.Fatal(err)
	}
	img := fs.Crash()
	g, _ := img.Open("seg")
	if g.Size() != 3*SectorSize || g.Allocated() != 64<<10 {
		t.Fatalf("size %d, allocated %d: want the kept sectors and the preallocated size", g.Size(), g.Allocated())
	}
	p := make([]byte, 2*SectorSize)
	if _, err := g.ReadAt(p, 3*SectorSize); err != nil || !bytes.Equal(p, make([]byte, len(p))) {
		t.Fatalf("lost sectors read back %v, not zeros", err)
	}
}

// TestPreallocateTruncate: ftruncate ends the file, preallocated space
// included, and its cut is durable at Sync only; the space counts against
// the capacity.
func TestPreallocateTruncate(t *testing.T) {
	fs := newFS(1, Faults{CapacityBytes: 10000})
	f := mustCreate(t, fs, "seg")
	if err := f.Preallocate(20000); !errors.Is(err, ErrNoSpace) || f.Allocated() != 0 {
		t.Fatalf("preallocate past capacity: %v, allocated %d", err, f.Allocated())
	}
	if err := f.Preallocate(8000); err != nil {
		t.Fatal(err)
	}
	mustWriteAt(t, f, strings.Repeat("a", 1000), 0)
	mustSync(t, f)
	if err := fs.SyncDir(); err != nil {
		t.Fatal(err)
	}
	if _, err := mustCreate(t, fs, "other").Write(make([]byte, 3000)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("preallocated space not counted: %v", err)
	}
	if err := f.Truncate(3000); err != nil { // within the preallocation
		t.Fatal(err)
	}
	if f.Size() != 1000 || f.Allocated() != 3000 {
		t.Fatalf("after truncate: size %d, allocated %d", f.Size(), f.Allocated())
	}
	img := fs.Crash() // the unsynced truncate is undone
	g, _ := img.Open("seg")
	if g.Size() != 1000 || g.Allocated() != 8000 {
		t.Fatalf("crash before the truncate's sync: size %d, allocated %d", g.Size(), g.Allocated())
	}
	if err := g.Truncate(500); err != nil {
		t.Fatal(err)
	}
	if err := g.Preallocate(8000); err != nil { // ZeroToEnd
		t.Fatal(err)
	}
	mustSync(t, g)
	h, _ := img.Crash().Open("seg")
	if h.Size() != 500 || h.Allocated() != 8000 {
		t.Fatalf("synced cut and preallocation: size %d, allocated %d", h.Size(), h.Allocated())
	}
}
