package snap

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/wal"
	"github.com/etcdsim/etcdsim/prob"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func snapshot(index, term uint64, data string) *raftpb.Snapshot {
	return &raftpb.Snapshot{
		Data: []byte(data),
		Metadata: &raftpb.SnapshotMetadata{
			Index: new(index), Term: new(term),
			ConfState: &raftpb.ConfState{
				Voters: []uint64{1, 2, 3}, Learners: []uint64{4},
				VotersOutgoing: []uint64{1, 2}, LearnersNext: []uint64{3},
				AutoLeave: new(true),
			},
		},
	}
}

func mk(index, term uint64) wal.SnapMarker { return wal.SnapMarker{Index: index, Term: term} }

func newFS(seed uint64, f disk.Faults) *disk.FS {
	return disk.New(rand.New(rand.NewPCG(seed, 1)), f)
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	s := snapshot(42, 7, "state of the store")
	check(t, Save(fs, s))
	got, err := Load(fs.Crash(), Name(7, 42))
	check(t, err)
	if !proto.Equal(got, s) {
		t.Fatalf("got %v\nwant %v", got, s)
	}
	bare := &raftpb.Snapshot{Metadata: &raftpb.SnapshotMetadata{Index: new(uint64(3)), Term: new(uint64(1))}}
	fs = newFS(1, disk.Faults{})
	check(t, Save(fs, bare))
	got, err = Load(fs, Name(1, 3))
	check(t, err)
	if got.Data != nil || len(got.GetMetadata().GetConfState().GetVoters()) != 0 {
		t.Fatalf("bare snapshot read back as %v", got)
	}
	if err := Save(fs, &raftpb.Snapshot{}); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty snapshot: %v", err)
	}
}

// fixture saves snapshots at (term, index) (1,10) (2,20) (3,30) (3,40) and
// breaks the one at 40.
func fixture(t *testing.T) *disk.FS {
	fs := newFS(1, disk.Faults{})
	for _, ti := range [][2]uint64{{1, 10}, {2, 20}, {3, 30}, {3, 40}} {
		check(t, Save(fs, snapshot(ti[1], ti[0], fmt.Sprint("data", ti[1]))))
	}
	f, err := fs.Open(Name(3, 40))
	check(t, err)
	_, err = f.WriteAt([]byte{0xff}, 30)
	check(t, err)
	return fs
}

func TestLoadNewestAvailable(t *testing.T) {
	all := []wal.SnapMarker{mk(10, 1), mk(20, 2), mk(30, 3), mk(40, 3)}
	tests := []struct {
		name    string
		markers []wal.SnapMarker
		max     uint64
		want    uint64 // index, 0 for ErrNoSnapshot
	}{
		{"newest good; broken newer skipped", all, 100, 30},
		{"limited by commit", all, 25, 20},
		{"limit is inclusive", all, 20, 20},
		{"file without marker skipped", []wal.SnapMarker{mk(10, 1), mk(20, 2)}, 100, 20},
		{"marker with another term does not match", []wal.SnapMarker{mk(10, 1), mk(30, 2)}, 100, 10},
		{"no markers", nil, 100, 0},
		{"all above max", all, 5, 0},
	}
	fs := fixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadNewestAvailable(fs, tt.markers, tt.max)
			if tt.want == 0 {
				if !errors.Is(err, ErrNoSnapshot) {
					t.Fatalf("got %v, %v; want ErrNoSnapshot", s, err)
				}
				return
			}
			check(t, err)
			if got := s.GetMetadata().GetIndex(); got != tt.want || string(s.Data) != fmt.Sprint("data", tt.want) {
				t.Fatalf("loaded snapshot %d, want %d", got, tt.want)
			}
		})
	}
}

func TestLoadBroken(t *testing.T) {
	fs := fixture(t)
	if _, err := Load(fs, Name(3, 40)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped byte: %v", err)
	}
	// A good file under another snapshot's name is broken too.
	check(t, fs.Rename(Name(3, 30), Name(3, 31)))
	if _, err := Load(fs, Name(3, 31)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("misnamed file: %v", err)
	}
	// Trailing bytes after the record.
	f, err := fs.Open(Name(2, 20))
	check(t, err)
	_, err = f.Write([]byte("tail"))
	check(t, err)
	if _, err := Load(fs, Name(2, 20)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("trailing bytes: %v", err)
	}
}

func TestRelease(t *testing.T) {
	fs := fixture(t)
	tmp, err := fs.Create(Name(4, 50) + tmpSuffix) // a crash mid-Save
	check(t, err)
	_, err = tmp.Write([]byte("half"))
	check(t, err)
	check(t, Release(fs, 30))
	var names []string
	for _, f := range List(fs) {
		names = append(names, f.Name)
	}
	if want := []string{Name(3, 40), Name(3, 30)}; !slices.Equal(names, want) || len(fs.List()) != 2 {
		t.Fatalf("after release: %v (all files %v)", names, fs.List())
	}
}

// TestCrashAfterSave checks that a returned Save survives any crash image,
// and that an interrupted one (the temporary file written, not renamed)
// never shadows the older snapshot.
func TestCrashAfterSave(t *testing.T) {
	faults := disk.Faults{KeepUnsynced: prob.Of(1, 2), TornWrite: prob.Of(1, 2), DirLoss: prob.Of(1, 2)}
	for seed := range uint64(200) {
		fs := newFS(seed, faults)
		check(t, Save(fs, snapshot(10, 1, "old")))
		tmp, err := fs.Create(Name(2, 20) + tmpSuffix)
		check(t, err)
		_, err = tmp.Write(encode(snapshot(20, 2, "new")))
		check(t, err)
		markers := []wal.SnapMarker{mk(10, 1), mk(20, 2)}
		fs = fs.Crash()
		s, err := LoadNewestAvailable(fs, markers, 100)
		check(t, err)
		if s.GetMetadata().GetIndex() != 10 {
			t.Fatalf("seed %d: an unrenamed temporary file was loaded", seed)
		}
		check(t, Save(fs, snapshot(20, 2, "new")))
		s, err = LoadNewestAvailable(fs.Crash(), markers, 100)
		check(t, err)
		if string(s.Data) != "new" {
			t.Fatalf("seed %d: a saved snapshot was lost", seed)
		}
	}
}
