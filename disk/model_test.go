package disk

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/etcdsim/etcdsim/prob"
	"pgregory.net/rapid"
)

// mfile is the model of one file: whole volatile and durable images, and
// every sector written since the last sync. Sync copies the whole image, so
// the model checks the FS's incremental bookkeeping against the obvious one.
type mfile struct {
	vol, dur []byte
	dirty    map[int64]bool
}

// diskModel is the simple model the FS is checked against.
type diskModel struct {
	fs       *FS
	faults   Faults
	exact    bool // no in-model crash faults: the image must equal the durable model
	names    map[string]*mfile
	durNames map[string]*mfile
	touched  map[string]bool     // names a pending namespace change mentions
	targets  map[string][]*mfile // files a pending create or rename put at a name
	last     inflight            // the newest write, while unsynced
	crashes  int
	views    []view // what File.Bytes returned, across writes and crashes
}

// view is what one File.Bytes returned, and a copy of it then: the bytes
// must never change (copy-on-write), whatever the file does later.
type view struct{ got, want []byte }

// inflight locates the newest write, in sectors, while it is unsynced: the
// only write whose sectors may survive when KeepUnsynced is off.
type inflight struct {
	f           *mfile
	first, last int64
}

// clip forgets the sectors of the in-flight write at or past size, if it is
// in f.
func (w *inflight) clip(f *mfile, size int64) {
	if w.f != f {
		return
	}
	w.last = min(w.last, (size+SectorSize-1)/SectorSize-1)
	if w.last < w.first {
		*w = inflight{}
	}
}

var modelNames = []string{"a", "b", "c"}

// ratioGen draws a probability among never, one half and always.
func ratioGen() *rapid.Generator[prob.Ratio] {
	return rapid.SampledFrom([]prob.Ratio{prob.Never, prob.Of(1, 2), prob.Always})
}

func newDiskModel(t *rapid.T, exact bool) *diskModel {
	var f Faults
	if !exact {
		f.KeepUnsynced = ratioGen().Draw(t, "keep_unsynced")
		f.TornWrite = ratioGen().Draw(t, "torn_write")
		f.DirLoss = ratioGen().Draw(t, "dir_loss")
	}
	seed := rapid.Uint64().Draw(t, "seed")
	m := &diskModel{fs: New(rand.New(rand.NewPCG(seed, 1)), f), faults: f,
		exact: exact || f.KeepUnsynced.Zero() && f.TornWrite.Zero()}
	m.adopt(map[string][]byte{})
	return m
}

// adopt resets the model to a clean, fully durable state holding files.
func (m *diskModel) adopt(files map[string][]byte) {
	m.names, m.durNames = map[string]*mfile{}, map[string]*mfile{}
	for name, data := range files {
		f := &mfile{vol: slices.Clone(data), dur: slices.Clone(data), dirty: map[int64]bool{}}
		m.names[name], m.durNames[name] = f, f
	}
	m.touched, m.targets = map[string]bool{}, map[string][]*mfile{}
	m.last = inflight{}
}

func (m *diskModel) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"create":   m.create,
		"write":    m.write,
		"writeAt":  m.writeAt,
		"truncate": m.truncate,
		"sync":     m.sync,
		"rename":   m.rename,
		"remove":   m.remove,
		"syncdir":  m.syncDir,
		"crash":    m.crash,
		"bytes":    m.bytes,
		"":         m.checkVolatile,
	}
}

func (m *diskModel) create(t *rapid.T) {
	name := rapid.SampledFrom(modelNames).Draw(t, "name")
	if _, err := m.fs.Create(name); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if f := m.names[name]; f != nil {
		f.vol = f.vol[:0]
		m.last.clip(f, 0)
		return
	}
	f := &mfile{dirty: map[int64]bool{}}
	m.names[name] = f
	m.touched[name] = true
	m.targets[name] = append(m.targets[name], f)
}

// open returns an existing file of the model and its handle, or skips.
func (m *diskModel) open(t *rapid.T) (*mfile, *File) {
	name := rapid.SampledFrom(modelNames).Draw(t, "name")
	f := m.names[name]
	h, err := m.fs.Open(name)
	if f == nil {
		if !errors.Is(err, ErrNotExist) {
			t.Fatalf("open missing %s: %v", name, err)
		}
		t.Skip("no such file")
	}
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	return f, h
}

// put writes p at off in f, the newest write.
func (m *diskModel) put(f *mfile, p []byte, off int64) {
	end := off + int64(len(p))
	m.last = inflight{f: f, first: off / SectorSize, last: (end - 1) / SectorSize}
	if end > int64(len(f.vol)) {
		f.vol = append(f.vol, make([]byte, end-int64(len(f.vol)))...)
	}
	copy(f.vol[off:], p)
	for s := off / SectorSize; s <= (end-1)/SectorSize; s++ {
		f.dirty[s] = true
	}
}

func dataGen() *rapid.Generator[[]byte] {
	return rapid.SliceOfN(rapid.Byte(), 1, 3*SectorSize)
}

func (m *diskModel) write(t *rapid.T) {
	f, h := m.open(t)
	p := dataGen().Draw(t, "data")
	if _, err := h.Write(p); err != nil {
		t.Fatalf("write: %v", err)
	}
	m.put(f, p, int64(len(f.vol)))
}

func (m *diskModel) writeAt(t *rapid.T) {
	f, h := m.open(t)
	p := dataGen().Draw(t, "data")
	off := rapid.Int64Range(0, 6*SectorSize).Draw(t, "off")
	if _, err := h.WriteAt(p, off); err != nil {
		t.Fatalf("writeAt: %v", err)
	}
	m.put(f, p, off)
}

func (m *diskModel) truncate(t *rapid.T) {
	f, h := m.open(t)
	size := rapid.Int64Range(0, 6*SectorSize).Draw(t, "size")
	if err := h.Truncate(size); err != nil {
		t.Fatalf("truncate: %v", err)
	}
	if size <= int64(len(f.vol)) {
		f.vol = f.vol[:size]
		m.last.clip(f, size)
	} else {
		f.vol = append(f.vol, make([]byte, size-int64(len(f.vol)))...)
	}
}

func (m *diskModel) sync(t *rapid.T) {
	f, h := m.open(t)
	if err := h.Sync(); err != nil {
		t.Fatalf("sync: %v", err)
	}
	f.dur = slices.Clone(f.vol)
	f.dirty = map[int64]bool{}
	if m.last.f == f {
		m.last = inflight{}
	}
}

func (m *diskModel) rename(t *rapid.T) {
	from := rapid.SampledFrom(modelNames).Draw(t, "from")
	to := rapid.SampledFrom(modelNames).Draw(t, "to")
	err := m.fs.Rename(from, to)
	f := m.names[from]
	if f == nil {
		if !errors.Is(err, ErrNotExist) {
			t.Fatalf("rename missing %s: %v", from, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("rename %s %s: %v", from, to, err)
	}
	if from == to {
		return
	}
	delete(m.names, from)
	m.names[to] = f
	m.touched[from], m.touched[to] = true, true
	m.targets[to] = append(m.targets[to], f)
}

func (m *diskModel) remove(t *rapid.T) {
	name := rapid.SampledFrom(modelNames).Draw(t, "name")
	err := m.fs.Remove(name)
	if m.names[name] == nil {
		if !errors.Is(err, ErrNotExist) {
			t.Fatalf("remove missing %s: %v", name, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("remove %s: %v", name, err)
	}
	delete(m.names, name)
	m.touched[name] = true
}

func (m *diskModel) syncDir(t *rapid.T) {
	if err := m.fs.SyncDir(); err != nil {
		t.Fatalf("syncdir: %v", err)
	}
	m.durNames = maps.Clone(m.names)
	m.touched, m.targets = map[string]bool{}, map[string][]*mfile{}
}

// bytes takes the contents of a file without a copy, to be checked after
// every later action.
func (m *diskModel) bytes(t *rapid.T) {
	f, h := m.open(t)
	got := h.Bytes()
	if !bytes.Equal(got, f.vol) {
		t.Fatalf("Bytes: %d bytes differ from the model's %d", len(got), len(f.vol))
	}
	m.views = append(m.views, view{got: got, want: slices.Clone(got)})
}

// checkVolatile checks that the FS reads back exactly the model's volatile
// state, and that no bytes a reader took have changed.
func (m *diskModel) checkVolatile(t *rapid.T) {
	for i, v := range m.views {
		if !bytes.Equal(v.got, v.want) {
			t.Fatalf("view %d of %d bytes changed under its reader", i, len(v.want))
		}
	}
	want := slices.Sorted(maps.Keys(m.names))
	if got := m.fs.List(); !slices.Equal(got, want) {
		t.Fatalf("names %v, model %v", got, want)
	}
	for _, name := range want {
		h, err := m.fs.Open(name)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		if got := h.ReadAll(); !bytes.Equal(got, m.names[name].vol) || h.Size() != int64(len(got)) {
			t.Fatalf("%s: volatile %d bytes differ from the model's %d", name, len(got), len(m.names[name].vol))
		}
	}
}

func (m *diskModel) crash(t *rapid.T) {
	old := m.fs
	var handle *File
	if names := old.List(); len(names) > 0 {
		handle, _ = old.Open(names[0])
	}
	img := old.Crash()
	if handle != nil {
		if _, err := handle.Write([]byte{1}); !errors.Is(err, ErrClosed) {
			t.Fatalf("old handle after crash: %v", err)
		}
	}
	files := map[string][]byte{}
	for _, name := range img.List() {
		h, _ := img.Open(name)
		files[name] = h.ReadAll()
	}
	m.checkNamespace(t, files)
	for _, name := range img.List() {
		m.checkImage(t, name, files[name])
	}
	m.fs = img
	m.crashes++
	m.adopt(files)
}

// checkNamespace checks that names made durable by SyncDir, and touched by
// no later change, survive; that every surviving name is durable or the
// target of a pending change; and that without DirLoss the image has exactly
// the volatile names.
func (m *diskModel) checkNamespace(t *rapid.T, files map[string][]byte) {
	for name := range m.durNames {
		if _, ok := files[name]; !ok && !m.touched[name] {
			t.Fatalf("durable name %s vanished", name)
		}
	}
	for name := range files {
		if m.durNames[name] == nil && len(m.targets[name]) == 0 {
			t.Fatalf("name %s appeared from nowhere", name)
		}
	}
	if m.faults.DirLoss.Zero() {
		got := slices.Sorted(maps.Keys(files))
		if want := slices.Sorted(maps.Keys(m.names)); !slices.Equal(got, want) {
			t.Fatalf("without dir loss the image has %v, want %v", got, want)
		}
	}
}

// checkImage checks one surviving file against every model file that could
// be at its name.
func (m *diskModel) checkImage(t *rapid.T, name string, img []byte) {
	var cands []*mfile
	if m.faults.DirLoss.Zero() {
		cands = []*mfile{m.names[name]}
	} else {
		cands = append(cands, m.targets[name]...)
		if f := m.durNames[name]; f != nil {
			cands = append(cands, f)
		}
	}
	var errs []error
	for _, f := range cands {
		err := f.allows(img, m.exact, m.mayKeep(f))
		if err == nil && m.faults.TornWrite == prob.Always && m.last.f == f {
			err = f.tornLost(img, m.last)
		}
		if err == nil {
			return
		}
		errs = append(errs, err)
	}
	t.Fatalf("%s: crash image (%d bytes) fits no model file: %v", name, len(img), errors.Join(errs...))
}

// mayKeep returns which dirty sectors of f may survive a crash: all of them
// with KeepUnsynced on, else only those of the in-flight write (a torn
// write keeps any of its sectors, in order or not; tornLost checks that it
// does not keep them all).
func (m *diskModel) mayKeep(f *mfile) func(sec int64) bool {
	w := m.last
	return func(sec int64) bool {
		inflight := w.f == f && sec >= w.first && sec <= w.last
		if !f.dirty[sec] {
			return false
		}
		return !m.faults.KeepUnsynced.Zero() || inflight
	}
}

// tornLost reports why img, with every crash tearing the in-flight write w
// of f, cannot have lost one of w's sectors, or nil: some sector of w must
// read as it was before the write (its durable bytes, zeros or nothing past
// the durable size).
func (f *mfile) tornLost(img []byte, w inflight) error {
	for sec := w.first; sec <= w.last; sec++ {
		lost := true
		for i := sec * SectorSize; i < min((sec+1)*SectorSize, int64(len(img))); i++ {
			var before byte
			if i < int64(len(f.dur)) {
				before = f.dur[i]
			}
			lost = lost && img[i] == before
		}
		if lost {
			return nil
		}
	}
	return fmt.Errorf("torn write of sectors %d..%d kept them all", w.first, w.last)
}

// allows reports why img cannot be the crash image of f, or nil. Every byte
// below the durable size is the durable byte or, in a sector that may
// survive, the volatile one; every byte past it is zero or, in a sector that
// may survive, the volatile one. With exact, img is the durable image.
func (f *mfile) allows(img []byte, exact bool, mayKeep func(int64) bool) error {
	if exact {
		if !bytes.Equal(img, f.dur) {
			return fmt.Errorf("image of %d bytes is not the durable %d bytes", len(img), len(f.dur))
		}
		return nil
	}
	if len(img) < len(f.dur) || len(img) > max(len(f.dur), len(f.vol)) {
		return fmt.Errorf("size %d outside [%d, max(%d, %d)]", len(img), len(f.dur), len(f.dur), len(f.vol))
	}
	for i, b := range img {
		volOK := i < len(f.vol) && b == f.vol[i] && mayKeep(int64(i)/SectorSize)
		if i < len(f.dur) && b != f.dur[i] && !volOK {
			return fmt.Errorf("synced byte %d lost: %d, durable %d", i, b, f.dur[i])
		}
		if i >= len(f.dur) && b != 0 && !volOK {
			return fmt.Errorf("byte %d = %d was never written there", i, b)
		}
	}
	return nil
}

func TestDiskModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newDiskModel(t, false)
		t.Repeat(m.actions())
	})
}

func TestCrashImageIsDurableModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newDiskModel(t, true)
		t.Repeat(m.actions())
	})
}
