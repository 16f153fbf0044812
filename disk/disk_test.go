package disk

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcdsim/etcdsim/prob"
)

func newFS(seed uint64, f Faults) *FS {
	return New(rand.New(rand.NewPCG(seed, 7)), f)
}

// mustCreate creates name and fails the test on error.
func mustCreate(t *testing.T, fs *FS, name string) *File {
	t.Helper()
	f, err := fs.Create(name)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return f
}

// mustWriteAt writes s at off and fails the test on error.
func mustWriteAt(t *testing.T, f *File, s string, off int64) {
	t.Helper()
	if n, err := f.WriteAt([]byte(s), off); err != nil || n != len(s) {
		t.Fatalf("writeAt %s %d: n=%d err=%v", f.Name(), off, n, err)
	}
}

// mustSync syncs f and fails the test on error.
func mustSync(t *testing.T, f *File) {
	t.Helper()
	if err := f.Sync(); err != nil {
		t.Fatalf("sync %s: %v", f.Name(), err)
	}
}

// contents returns the volatile contents of every file, "name=contents".
func contents(fs *FS) string {
	var out []string
	for _, name := range fs.List() {
		f, _ := fs.Open(name)
		out = append(out, name+"="+string(f.ReadAll()))
	}
	return strings.Join(out, " ")
}

// opCase is one operation scenario on a fault-free FS.
type opCase struct {
	name string
	run  func(t *testing.T, fs *FS) error // the error of the last operation
	want string                           // contents afterwards
	err  error                            // errAnyDisk: any "disk: " error
}

var errAnyDisk = errors.New("any disk: error")

func dataOpCases() []opCase {
	return []opCase{
		{"write appends", func(t *testing.T, fs *FS) error {
			f := mustCreate(t, fs, "a")
			f.Write([]byte("ab"))
			_, err := f.Write([]byte("cd"))
			return err
		}, "a=abcd", nil},
		{"writeAt fills the gap with zeros", func(t *testing.T, fs *FS) error {
			_, err := mustCreate(t, fs, "a").WriteAt([]byte("x"), 3)
			return err
		}, "a=\x00\x00\x00x", nil},
		{"writeAt overwrites in place", func(t *testing.T, fs *FS) error {
			f := mustCreate(t, fs, "a")
			mustWriteAt(t, f, "hello", 0)
			_, err := f.WriteAt([]byte("J"), 0)
			return err
		}, "a=Jello", nil},
		{"negative offset", func(t *testing.T, fs *FS) error {
			_, err := mustCreate(t, fs, "a").WriteAt([]byte("x"), -1)
			return err
		}, "a=", errNegative},
		{"truncate shrinks and grows with zeros", func(t *testing.T, fs *FS) error {
			f := mustCreate(t, fs, "a")
			mustWriteAt(t, f, "hello", 0)
			f.Truncate(2)
			return f.Truncate(4)
		}, "a=he\x00\x00", nil},
	}
}

func namespaceOpCases() []opCase {
	return []opCase{
		{"create truncates an existing file", func(t *testing.T, fs *FS) error {
			mustWriteAt(t, mustCreate(t, fs, "a"), "old", 0)
			_, err := fs.Create("a")
			return err
		}, "a=", nil},
		{"create new refuses an existing file", func(t *testing.T, fs *FS) error {
			mustCreate(t, fs, "a")
			_, err := fs.CreateNew("a")
			return err
		}, "a=", ErrExist},
		{"open a missing file", func(t *testing.T, fs *FS) error {
			_, err := fs.Open("nope")
			return err
		}, "", ErrNotExist},
		{"invalid name", func(t *testing.T, fs *FS) error {
			_, err := fs.Create("d/x")
			return err
		}, "", errAnyDisk},
		{"remove", func(t *testing.T, fs *FS) error {
			mustCreate(t, fs, "a")
			mustCreate(t, fs, "b")
			return fs.Remove("a")
		}, "b=", nil},
		{"remove a missing file", func(t *testing.T, fs *FS) error {
			return fs.Remove("a")
		}, "", ErrNotExist},
		{"rename replaces the target", func(t *testing.T, fs *FS) error {
			mustWriteAt(t, mustCreate(t, fs, "tmp"), "new", 0)
			mustWriteAt(t, mustCreate(t, fs, "wal"), "old", 0)
			return fs.Rename("tmp", "wal")
		}, "wal=new", nil},
		{"rename a missing file", func(t *testing.T, fs *FS) error {
			return fs.Rename("a", "b")
		}, "", ErrNotExist},
		{"list is sorted", func(t *testing.T, fs *FS) error {
			for _, n := range []string{"c", "a", "b"} {
				mustCreate(t, fs, n)
			}
			return nil
		}, "a= b= c=", nil},
		{"a removed file's handle keeps working", func(t *testing.T, fs *FS) error {
			f := mustCreate(t, fs, "a")
			fs.Remove("a")
			_, err := f.Write([]byte("x"))
			if string(f.ReadAll()) != "x" {
				t.Errorf("unnamed file reads %q", f.ReadAll())
			}
			return err
		}, "", nil},
	}
}

func TestOperations(t *testing.T) {
	for _, tt := range append(dataOpCases(), namespaceOpCases()...) {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFS(1, Faults{})
			err := tt.run(t, fs)
			if tt.err == errAnyDisk {
				if err == nil || !strings.HasPrefix(err.Error(), "disk: ") {
					t.Fatalf("err = %v, want a disk: error", err)
				}
			} else if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got := contents(fs); got != tt.want {
				t.Fatalf("contents %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadAt(t *testing.T) {
	fs := newFS(1, Faults{})
	f := mustCreate(t, fs, "a")
	mustWriteAt(t, f, "hello", 0)
	tests := []struct {
		off  int64
		size int
		want string
		err  error
	}{
		{0, 5, "hello", nil},
		{1, 3, "ell", nil},
		{3, 5, "lo", io.EOF},
		{5, 1, "", io.EOF},
		{9, 1, "", io.EOF},
		{5, 0, "", nil},
		{-1, 1, "", errNegative},
	}
	for _, tt := range tests {
		p := make([]byte, tt.size)
		n, err := f.ReadAt(p, tt.off)
		if string(p[:n]) != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("ReadAt(%d, %d) = %q, %v; want %q, %v", tt.off, tt.size, p[:n], err, tt.want, tt.err)
		}
	}
	all := f.ReadAll()
	all[0] = 'X'
	if string(f.ReadAll()) != "hello" {
		t.Errorf("ReadAll is not a copy")
	}
}

// sectors returns n sectors of s[i] repeated, one letter per sector.
func sectors(s string) string {
	var b strings.Builder
	for i := range len(s) {
		b.WriteString(strings.Repeat(s[i:i+1], SectorSize))
	}
	return b.String()
}

// crashCase is one fault scenario: operations, a crash, and a check of the
// image.
type crashCase struct {
	name   string
	faults Faults
	run    func(t *testing.T, fs *FS)
	check  func(t *testing.T, img *FS)
	log    string // a regexp the joined crash log must match
}

// wantFiles checks the exact contents of the image.
func wantFiles(want string) func(*testing.T, *FS) {
	return func(t *testing.T, img *FS) {
		t.Helper()
		if got := contents(img); got != want {
			t.Fatalf("image %.80q, want %.80q", got, want)
		}
	}
}

// synced creates name holding s, synced, with the name made durable.
func synced(t *testing.T, fs *FS, name, s string) *File {
	f := mustCreate(t, fs, name)
	mustWriteAt(t, f, s, 0)
	mustSync(t, f)
	fs.SyncDir()
	return f
}

var always = prob.Always

func dataCrashCases() []crashCase {
	return []crashCase{
		{"unsynced writes are lost", Faults{}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "a", "")
			f.Write([]byte("abc"))
		}, wantFiles("a="), ""},
		{"synced writes survive", Faults{}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "a", "abc")
			f.Write([]byte("def"))
		}, wantFiles("a=abc"), ""},
		{"keep unsynced keeps every sector", Faults{KeepUnsynced: always}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "a", "abc")
			f.Write([]byte(sectors("xy")))
		}, wantFiles("a=abc" + sectors("xy")), `a: kept 3 of 3 unsynced sectors`},
		{"a lost sector reverts to durable bytes", Faults{}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "a", sectors("ab"))
			mustWriteAt(t, f, "XX", 10)
		}, wantFiles("a=" + sectors("ab")), `a: kept 0 of 1 unsynced sectors`},
		{"torn write keeps a strict subset of its sectors", Faults{TornWrite: always}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "wal", "")
			f.Write([]byte(sectors("abcde")))
		}, func(t *testing.T, img *FS) {
			f, _ := img.Open("wal")
			checkTorn(t, f.ReadAll(), "", sectors("abcde"))
		}, `wal: torn write (out of order )?at \d+ \(kept [0-4] of 5 sectors`},
		{"torn write keeps a prefix or a subset", Faults{TornWrite: always}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "wal", "")
			f.Write([]byte(sectors("ab")))
		}, func(t *testing.T, img *FS) {
			f, _ := img.Open("wal")
			if got := string(f.ReadAll()); got != "" && got != sectors("a") && got != strings.Repeat("\x00", SectorSize)+sectors("b") {
				t.Fatalf("torn image %.40q is not a, 0b or empty", got)
			}
		}, `wal: torn write (at \d+ \(kept [01] of 2 sectors\)|out of order at 0 \(kept [01] of 2 sectors: (\.\.|K\.|\.K)\))`},
		{"torn write only tears the newest write", Faults{TornWrite: always, KeepUnsynced: always}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "wal", "")
			f.Write([]byte(sectors("ab")))
			f.Write([]byte(sectors("cd")))
		}, func(t *testing.T, img *FS) {
			f, _ := img.Open("wal")
			if got := string(f.ReadAll()); !strings.HasPrefix(got, sectors("ab")) {
				t.Fatalf("older unsynced write lost: %.40q", got)
			}
		}, `wal: torn write (out of order )?at \d+ \(kept [01] of 2 sectors.*wal: kept 2 of 2 unsynced sectors`},
		{"a torn sector keeps what was there before", Faults{TornWrite: always}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "wal", "xy"+sectors("pqr"))
			mustWriteAt(t, f, sectors("abc"), 2)
		}, func(t *testing.T, img *FS) {
			f, _ := img.Open("wal")
			checkTorn(t, f.ReadAll(), "xy"+sectors("pqr"), "xy"+sectors("abc"))
		}, `wal: torn write (out of order )?at \d+ \(kept [0-3] of 4 sectors`},
		{"a synced write is not torn", Faults{TornWrite: always}, func(t *testing.T, fs *FS) {
			synced(t, fs, "wal", sectors("abc"))
		}, wantFiles("wal=" + sectors("abc")), `^$`},
	}
}

func namespaceCrashCases() []crashCase {
	return []crashCase{
		{"create without dir sync vanishes", Faults{DirLoss: always}, func(t *testing.T, fs *FS) {
			synced(t, fs, "old", "x")
			f := mustCreate(t, fs, "new")
			mustWriteAt(t, f, "y", 0)
			mustSync(t, f)
		}, wantFiles("old=x"), `create new undone`},
		{"create without dir sync may survive", Faults{}, func(t *testing.T, fs *FS) {
			f := mustCreate(t, fs, "new")
			mustWriteAt(t, f, "y", 0)
			mustSync(t, f)
		}, wantFiles("new=y"), `^$`},
		{"rename without dir sync reverts", Faults{DirLoss: always}, func(t *testing.T, fs *FS) {
			synced(t, fs, "wal.tmp", "new")
			synced(t, fs, "wal", "old")
			fs.Rename("wal.tmp", "wal")
		}, wantFiles("wal=old wal.tmp=new"), `rename wal.tmp -> wal undone`},
		{"rename with dir sync holds", Faults{DirLoss: always}, func(t *testing.T, fs *FS) {
			synced(t, fs, "wal.tmp", "new")
			synced(t, fs, "wal", "old")
			fs.Rename("wal.tmp", "wal")
			fs.SyncDir()
		}, wantFiles("wal=new"), `^$`},
		{"rename of an undone create is moot", Faults{DirLoss: prob.Of(1, 2)}, func(t *testing.T, fs *FS) {
			f := mustCreate(t, fs, "a")
			mustWriteAt(t, f, "1", 0)
			mustSync(t, f)
			fs.Rename("a", "b")
		}, func(t *testing.T, img *FS) {
			if got := strings.Join(img.List(), ","); got != "" && got != "a" && got != "b" {
				t.Fatalf("image names %q", got)
			}
		}, ``},
		{"remove without dir sync is undone", Faults{DirLoss: always}, func(t *testing.T, fs *FS) {
			synced(t, fs, "a", "keep")
			fs.Remove("a")
		}, wantFiles("a=keep"), `remove a undone`},
	}
}

func sizeCrashCases() []crashCase {
	return []crashCase{
		{"unsynced truncate is undone", Faults{}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "a", "hello")
			f.Truncate(2)
		}, wantFiles("a=hello"), `a: unsynced truncate to 2 undone.*a: size 2 -> 5`},
		{"synced truncate holds", Faults{}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "a", "hello")
			f.Truncate(2)
			mustSync(t, f)
		}, wantFiles("a=he"), `^$`},
		{"truncate, regrow and sync leave zeros", Faults{}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "a", sectors("abc"))
			f.Truncate(10)
			f.Truncate(2 * SectorSize)
			mustWriteAt(t, f, "Z", SectorSize)
			mustSync(t, f)
		}, wantFiles("a=" + sectors("a")[:10] + strings.Repeat("\x00", SectorSize-10) + "Z" +
			strings.Repeat("\x00", SectorSize-1)), `^$`},
		{"kept sector past the durable size leaves a hole", Faults{KeepUnsynced: prob.Of(1, 2)}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "a", "")
			f.Write([]byte(sectors("abcdefgh")))
		}, func(t *testing.T, img *FS) {
			f, _ := img.Open("a")
			got, want := f.ReadAll(), []byte(sectors("abcdefgh"))
			for i, b := range got {
				if b != 0 && b != want[i] {
					t.Fatalf("byte %d = %q", i, b)
				}
			}
		}, `a: kept \d of 8 unsynced sectors`},
	}
}

func outOfModelCrashCases() []crashCase {
	return []crashCase{
		{"lying sync leaves data volatile", Faults{LyingSync: always}, func(t *testing.T, fs *FS) {
			synced(t, fs, "a", "abc")
		}, wantFiles("a="), ``},
		{"bit flip flips exactly one bit", Faults{BitFlip: always}, func(t *testing.T, fs *FS) {
			synced(t, fs, "a", sectors("ab"))
		}, func(t *testing.T, img *FS) {
			f, _ := img.Open("a")
			if d := bitDiff(f.ReadAll(), []byte(sectors("ab"))); d != 1 {
				t.Fatalf("%d bits differ", d)
			}
		}, `a: bit flip at byte \d+ bit [0-7]`},
		{"misdirected write lands a whole number of sectors away", Faults{Misdirect: always}, func(t *testing.T, fs *FS) {
			f := synced(t, fs, "a", sectors("abc"))
			mustWriteAt(t, f, "XYZ", SectorSize+5)
			mustSync(t, f)
		}, func(t *testing.T, img *FS) {
			f, _ := img.Open("a")
			got := f.ReadAll()
			at := bytes.Index(got, []byte("XYZ"))
			if at < 0 || at == SectorSize+5 || at%SectorSize != 5 {
				t.Fatalf("XYZ at %d", at)
			}
		}, ``},
	}
}

// checkTorn checks that img, the image of a file whose durable bytes were dur
// and volatile bytes vol after one unsynced write, holds each sector either
// as written or as it was before (zeros past dur), not all as written, and
// no longer than needed to hold its last kept sector.
func checkTorn(t *testing.T, img []byte, dur, vol string) {
	t.Helper()
	if len(img) < len(dur) || len(img) > len(vol) {
		t.Fatalf("torn image of %d bytes, durable %d, volatile %d", len(img), len(dur), len(vol))
	}
	if string(img) == vol {
		t.Fatalf("torn image %.40q kept every sector", img)
	}
	before := []byte(dur + strings.Repeat("\x00", len(vol)-len(dur)))
	for lo := 0; lo < len(img); lo += SectorSize {
		hi := min(lo+SectorSize, len(img))
		if got := string(img[lo:hi]); got != vol[lo:hi] && got != string(before[lo:hi]) {
			t.Fatalf("sector %d of the torn image is %.20q: neither written %.20q nor before %.20q",
				lo/SectorSize, got, vol[lo:hi], before[lo:hi])
		}
	}
}

// TestTornWriteOutOfOrder checks that a torn write persists, over seeds, a
// prefix of its sectors and also sectors after a lost one (a zeroed sector
// inside what was written), and that each way is in the crash log and the
// crash hits.
func TestTornWriteOutOfOrder(t *testing.T) {
	var prefix, unordered int
	for seed := range uint64(200) {
		fs := newFS(seed, Faults{TornWrite: always})
		f := synced(t, fs, "wal", "")
		f.Write([]byte(sectors("abcd")))
		img := fs.Crash()
		g, _ := img.Open("wal")
		got := g.ReadAll()
		checkTorn(t, got, "", sectors("abcd"))
		hole := false
		for lo := 0; lo+SectorSize < len(got); lo += SectorSize {
			hole = hole || got[lo] == 0
		}
		hits := img.CrashHits()
		hitUnordered := slices.Contains(hits, CrashHit{CrashTornUnordered, "wal"})
		if hole != hitUnordered || !slices.Contains(hits, CrashHit{CrashTorn, "wal"}) {
			t.Fatalf("seed %d: image %.40q (hole %v), crash hits %v", seed, got, hole, hits)
		}
		if hole {
			unordered++
		}
		if log := strings.Join(img.CrashLog(), "\n"); !strings.Contains(log, "out of order") {
			prefix++
		} else if hole && !regexp.MustCompile(`K*\.+K`).MatchString(log) {
			t.Fatalf("seed %d: crash log %q shows no kept sector after a lost one", seed, log)
		}
	}
	if prefix == 0 || unordered == 0 {
		t.Fatalf("over 200 seeds: %d torn in order, %d with a kept sector after a lost one", prefix, unordered)
	}
}

// TestTearInFlight checks that TearInFlight tears the named file's newest
// unsynced write though another file was written and synced since (which
// leaves the disk's newest write synced: nothing would tear), in order,
// losing exactly its last sectors, and that the rest of the unsynced
// sectors are drawn as always.
func TestTearInFlight(t *testing.T) {
	for seed := range uint64(20) {
		fs := newFS(seed, Faults{TornWrite: always, KeepUnsynced: always})
		wal := synced(t, fs, "wal", sectors("a"))
		db := synced(t, fs, "db", sectors("x"))
		mustWriteAt(t, wal, sectors("b"), SectorSize) // an older unsynced write: kept
		mustWriteAt(t, wal, sectors("cde"), 2*SectorSize)
		mustWriteAt(t, db, sectors("y"), SectorSize)
		mustSync(t, db)
		if err := fs.TearInFlight("nope", 1); !errors.Is(err, ErrNotExist) {
			t.Fatalf("TearInFlight of a missing file: %v", err)
		}
		if err := fs.TearInFlight("db", 1); err == nil {
			t.Fatal("TearInFlight of a synced file succeeded")
		}
		if err := fs.TearInFlight("wal", 1); err != nil {
			t.Fatal(err)
		}
		img := fs.Crash()
		wantFiles("db="+sectors("xy")+" wal="+sectors("abcd"))(t, img)
		log := strings.Join(img.CrashLog(), "\n")
		if !strings.Contains(log, "wal: torn write at 2048 (kept 2 of 3 sectors, in flight as told)") ||
			!strings.Contains(log, "wal: kept 1 of 1 unsynced sectors") {
			t.Fatalf("seed %d: crash log %q", seed, log)
		}
	}
	// Without it, the newest write (the db's, synced) is the one in flight:
	// nothing tears.
	fs := newFS(1, Faults{TornWrite: always, KeepUnsynced: always})
	wal := synced(t, fs, "wal", "")
	db := synced(t, fs, "db", "")
	mustWriteAt(t, wal, sectors("cde"), 0)
	mustWriteAt(t, db, sectors("y"), 0)
	mustSync(t, db)
	wantFiles("db="+sectors("y")+" wal="+sectors("cde"))(t, fs.Crash())
}

func bitDiff(a, b []byte) int {
	n := 0
	for i := range min(len(a), len(b)) {
		for x := a[i] ^ b[i]; x != 0; x &= x - 1 {
			n++
		}
	}
	return n
}

func TestCrashFaults(t *testing.T) {
	cases := slices.Concat(dataCrashCases(), namespaceCrashCases(), sizeCrashCases(), outOfModelCrashCases())
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(20) {
				fs := newFS(seed, tt.faults)
				tt.run(t, fs)
				img := fs.Crash()
				tt.check(t, img)
				log := strings.Join(img.CrashLog(), "\n")
				if !regexp.MustCompile(`(?s)` + tt.log).MatchString(log) {
					t.Fatalf("seed %d: crash log %q does not match %q", seed, log, tt.log)
				}
			}
		})
	}
}

func TestCapacity(t *testing.T) {
	fs := newFS(1, Faults{CapacityBytes: 1000})
	a := mustCreate(t, fs, "a")
	mustWriteAt(t, a, strings.Repeat("x", 600), 0)
	if _, err := a.Write(make([]byte, 600)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("write past capacity: %v", err)
	}
	if err := a.Truncate(2000); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("truncate past capacity: %v", err)
	}
	if a.Size() != 600 {
		t.Fatalf("failed write changed the size to %d", a.Size())
	}
	mustWriteAt(t, a, "y", 100) // overwrite needs no space
	b := mustCreate(t, fs, "b")
	if _, err := b.Write(make([]byte, 500)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("second file past capacity: %v", err)
	}
	fs.Remove("a")
	if _, err := b.Write(make([]byte, 500)); err != nil {
		t.Fatalf("remove did not free space: %v", err)
	}
}

func TestCrashClosesHandles(t *testing.T) {
	fs := newFS(1, Faults{})
	f := synced(t, fs, "a", "abc")
	img := fs.Crash()
	if _, err := f.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("write after crash: %v", err)
	}
	if err := f.Sync(); !errors.Is(err, ErrClosed) {
		t.Errorf("sync after crash: %v", err)
	}
	if _, err := fs.Create("b"); !errors.Is(err, ErrClosed) {
		t.Errorf("create after crash: %v", err)
	}
	if _, err := img.Open("a"); err != nil {
		t.Errorf("image: %v", err)
	}
	if s := img.Stats(); s.Crashes != 1 || s.Syncs != 1 || s.BytesWritten != 3 {
		t.Errorf("stats %+v", s)
	}
}

func TestSyncCopiesOnlyDirtySectors(t *testing.T) {
	fs := newFS(1, Faults{})
	f := mustCreate(t, fs, "wal")
	mustWriteAt(t, f, sectors("abcdefgh"), 0)
	mustSync(t, f)
	before := fs.Stats().BytesSynced
	f.Write([]byte("tail"))
	mustSync(t, f)
	if got := fs.Stats().BytesSynced - before; got != 4 {
		t.Fatalf("append sync copied %d bytes, want 4", got)
	}
	mustWriteAt(t, f, "x", 3*SectorSize+1)
	mustSync(t, f)
	if got := fs.Stats().BytesSynced - before - 4; got != SectorSize {
		t.Fatalf("one-sector sync copied %d bytes, want %d", got, SectorSize)
	}
}

func TestFaultsString(t *testing.T) {
	f := Faults{KeepUnsynced: prob.Of(1, 2), TornWrite: prob.Of(1, 200), Misdirect: prob.Of(1, 9), CapacityBytes: 4096}
	s := f.String()
	if s != "keep_unsynced=1/2 torn_write=1/200 misdirect=1/9 capacity_bytes=4096" {
		t.Fatalf("String = %q", s)
	}
	back, err := ParseFaults(s)
	if err != nil || back != f {
		t.Fatalf("ParseFaults(%q) = %+v, %v", s, back, err)
	}
	if s := (Faults{}).String(); s != "none" {
		t.Fatalf("zero faults print %q", s)
	}
	for _, bad := range []string{"torn_write", "x=1/2", "bit_flip=3/2", "capacity_bytes=-1", "dir_loss=1"} {
		if _, err := ParseFaults(bad); err == nil || !strings.HasPrefix(err.Error(), "disk: ") {
			t.Errorf("ParseFaults(%q) = %v", bad, err)
		}
	}
}

func TestOutOfModel(t *testing.T) {
	tests := []struct {
		f    Faults
		want bool
	}{
		{Faults{}, false},
		{Faults{KeepUnsynced: always, TornWrite: always, DirLoss: always}, false},
		{Faults{LyingSync: prob.Of(1, 100)}, true},
		{Faults{BitFlip: prob.Of(1, 100)}, true},
		{Faults{Misdirect: prob.Of(1, 100)}, true},
		{Faults{CapacityBytes: 1}, true},
	}
	for _, tt := range tests {
		if got := tt.f.OutOfModel(); got != tt.want {
			t.Errorf("%v: OutOfModel = %v", tt.f, got)
		}
	}
}

func TestLatencyDraw(t *testing.T) {
	l := Latency{Write: Range{time.Millisecond, 3 * time.Millisecond}, Sync: Range{5 * time.Millisecond, 5 * time.Millisecond}}
	a, b := rand.New(rand.NewPCG(3, 3)), rand.New(rand.NewPCG(3, 3))
	for _, op := range []Op{OpRead, OpSyncDir, OpRename, OpCreate, OpRemove, OpTruncate} {
		if d := l.Draw(a, op); d != 0 {
			t.Fatalf("%s: zero range drew %v", op, d)
		}
	}
	if d := l.Draw(a, OpSync); d != 5*time.Millisecond {
		t.Fatalf("fixed range drew %v", d)
	}
	if a.Uint64() != b.Uint64() {
		t.Fatalf("an empty range drew from the rng")
	}
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := l.Draw(a, OpWrite)
		if d < time.Millisecond || d > 3*time.Millisecond {
			t.Fatalf("write latency %v out of range", d)
		}
		seen[d] = true
	}
	if len(seen) < 100 {
		t.Fatalf("only %d distinct latencies", len(seen))
	}
	if err := (Latency{Read: Range{2, 1}}).Validate(); err == nil {
		t.Fatalf("inverted range validated")
	}
	if !slices.Equal(opNames[:], []string{"read", "write", "sync", "syncdir", "rename", "create", "remove", "truncate"}) {
		t.Fatalf("op names %v", opNames)
	}
}

// BenchmarkAppendSync measures the WAL pattern: a small append, then a Sync,
// on a file that keeps growing. Its cost per operation must not grow with
// the file.
func BenchmarkAppendSync(b *testing.B) {
	fs := newFS(1, Faults{})
	f, _ := fs.Create("wal")
	rec := make([]byte, 200)
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		f.Write(rec)
		f.Sync()
	}
}

func TestDurableSize(t *testing.T) {
	fs := newFS(1, Faults{})
	f := mustCreate(t, fs, "wal")
	f.Write([]byte("abc"))
	if n := f.DurableSize(); n != 0 {
		t.Fatalf("unsynced write: durable size %d, want 0", n)
	}
	mustSync(t, f)
	f.Write([]byte("defg"))
	if n := f.DurableSize(); n != 3 {
		t.Fatalf("after a sync and an append: durable size %d, want 3", n)
	}
	mustSync(t, f)
	if err := f.Truncate(2); err != nil {
		t.Fatal(err)
	}
	if n := f.DurableSize(); n != 2 {
		t.Fatalf("after an unsynced truncate: durable size %d, want 2 (the truncate may survive)", n)
	}
	lying := newFS(1, Faults{LyingSync: prob.Of(1, 1)})
	g := mustCreate(t, lying, "wal")
	g.Write([]byte("abc"))
	mustSync(t, g)
	if n := g.DurableSize(); n != 0 {
		t.Fatalf("after a lying sync: durable size %d, want 0", n)
	}
}

// TestExit: a process exit keeps volatile bytes and names, closes the old
// handles, and a later crash of the new FS still loses what was never
// synced.
func TestExit(t *testing.T) {
	fs := newFS(1, Faults{DirLoss: always})
	f := synced(t, fs, "a", "abc")
	f.Write([]byte("def"))
	mustCreate(t, fs, "b")
	img := fs.Exit()
	if _, err := f.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after exit: %v", err)
	}
	g, err := img.Open("a")
	if err != nil || string(g.ReadAll()) != "abcdef" || !img.Exists("b") {
		t.Fatalf("after exit: %q %v, b exists %v", g.ReadAll(), err, img.Exists("b"))
	}
	after := img.Crash()
	h, err := after.Open("a")
	if err != nil || string(h.ReadAll()) != "abc" || after.Exists("b") {
		t.Fatalf("crash after exit kept unsynced data: %q %v, b exists %v", h.ReadAll(), err, after.Exists("b"))
	}
}

// TestTrim: giving back a file's spare capacity changes nothing a read, a
// later write, a sync or a crash sees, and leaves the array exact.
func TestTrim(t *testing.T) {
	for _, synced := range []bool{true, false} {
		run := func(trim bool) (vol, img []byte, capacity int) {
			fs := newFS(3, Faults{KeepUnsynced: prob.Of(1, 2), TornWrite: prob.Of(1, 2)})
			f := mustCreate(t, fs, "seg")
			for i := range 40 {
				f.Write(bytes.Repeat([]byte{byte('a' + i%26)}, 700))
				if i == 20 {
					mustSync(t, f)
				}
			}
			if synced {
				mustSync(t, f)
			}
			if trim {
				f.Trim()
			}
			capacity = cap(f.ino.vol)
			vol = f.ReadAll()
			mustWriteAt(t, f, "over", 10) // below the durable size: copy-on-write
			f.Write([]byte("more"))
			return vol, fs.Crash().names["seg"].vol, capacity
		}
		v0, img0, c0 := run(false)
		v1, img1, c1 := run(true)
		if !bytes.Equal(v0, v1) || !bytes.Equal(img0, img1) {
			t.Fatalf("synced=%v: Trim changed the contents or the crash image", synced)
		}
		if c1 != len(v1) || c0 == c1 {
			t.Fatalf("synced=%v: capacity %d after Trim (%d before), want %d", synced, c1, c0, len(v1))
		}
	}
}

// TestSizeHint: a hinted file's array stops doubling at the hint (up to
// the allocator's size class), and grows past it only when written past
// it; what it holds, and what a crash keeps, are those of an unhinted file.
func TestSizeHint(t *testing.T) {
	run := func(hint int64) (vol, img []byte, capacities []int) {
		fs := newFS(3, Faults{KeepUnsynced: prob.Of(1, 2), TornWrite: prob.Of(1, 2)})
		f := mustCreate(t, fs, "seg")
		if hint > 0 {
			f.SizeHint(hint)
		}
		for i := range 40 {
			f.Write(bytes.Repeat([]byte{byte('a' + i%26)}, 700))
			if i == 20 {
				mustSync(t, f)
			}
			capacities = append(capacities, cap(f.ino.vol))
		}
		return f.ReadAll(), fs.Crash().names["seg"].vol, capacities
	}
	v0, img0, _ := run(0)
	v1, img1, caps := run(20000)
	if !bytes.Equal(v0, v1) || !bytes.Equal(img0, img1) {
		t.Fatal("SizeHint changed the contents or the crash image")
	}
	for i, c := range caps {
		if size := (i + 1) * 700; size <= 20000 && c > 20000*9/8 || size > 20000 && c > 2*size {
			t.Fatalf("write %d: capacity %d at size %d with a hint of 20000", i, c, size)
		}
	}
	if caps[len(caps)-1] < 40*700 {
		t.Fatalf("capacity %d below the size %d", caps[len(caps)-1], 40*700)
	}
}
