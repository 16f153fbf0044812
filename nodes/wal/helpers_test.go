package wal

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
	"go.etcd.io/raft/v3/raftpb"
)

// entry is an Entry by value, for models and comparisons.
type entry struct {
	index, term uint64
	data        string
}

func (e entry) pb() *raftpb.Entry {
	var data []byte
	if e.data != "" {
		data = []byte(e.data)
	}
	return &raftpb.Entry{Index: new(e.index), Term: new(e.term), Type: new(raftpb.EntryNormal), Data: data}
}

func valueOf(e *raftpb.Entry) entry {
	return entry{e.GetIndex(), e.GetTerm(), string(e.Data)}
}

func values(ents []*raftpb.Entry) []entry {
	out := make([]entry, len(ents))
	for i, e := range ents {
		out[i] = valueOf(e)
	}
	return out
}

// payload returns non-zero entry data of about n bytes.
func payload(index, term uint64, n int) string {
	s := fmt.Sprintf("i%d.t%d:", index, term)
	for len(s) < n {
		s += string(rune('a' + len(s)%26))
	}
	return s
}

func ents(from, to, term uint64, size int) []*raftpb.Entry {
	var out []*raftpb.Entry
	for i := from; i <= to; i++ {
		out = append(out, entry{i, term, payload(i, term, size)}.pb())
	}
	return out
}

func hs(term, vote, commit uint64) *raftpb.HardState {
	return &raftpb.HardState{Term: new(term), Vote: new(vote), Commit: new(commit)}
}

func newFS(seed uint64, f disk.Faults) *disk.FS {
	return disk.New(rand.New(rand.NewPCG(seed, 1)), f)
}

// copyFS returns a fault-free FS holding durable copies of src's files,
// each passed through edit when edit is not nil.
func copyFS(t testing.TB, src *disk.FS, edit func(name string, data []byte) []byte) *disk.FS {
	t.Helper()
	dst := newFS(1, disk.Faults{})
	for _, name := range src.List() {
		f, err := src.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		data := f.ReadAll()
		if edit != nil {
			data = edit(name, data)
		}
		g, err := dst.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := g.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := g.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := dst.SyncDir(); err != nil {
		t.Fatal(err)
	}
	return dst
}

func mustOpen(t testing.TB, fs *disk.FS) (*WAL, *Contents) {
	t.Helper()
	w, c, err := Open(fs)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return w, c
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func segmentNames(fs *disk.FS) []string {
	var out []string
	for _, n := range fs.List() {
		if _, _, ok := parseSegmentName(n); ok {
			out = append(out, n)
		}
	}
	return out
}
