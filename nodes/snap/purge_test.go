package snap

import (
	"slices"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
)

// TestPurgeKeepsNewest checks that Purge keeps the newest snapshot files
// and removes the older ones and a crash's temporary file.
func TestPurgeKeepsNewest(t *testing.T) {
	fs := newFS(1, disk.Faults{})
	for i := uint64(1); i <= 7; i++ {
		check(t, Save(fs, snapshot(i*100, 2, "db")))
	}
	tmp, err := fs.Create(Name(2, 800) + tmpSuffix)
	check(t, err)
	_, err = tmp.Write([]byte("torn"))
	check(t, err)
	check(t, Purge(fs, MaxFiles))
	var got []uint64
	for _, f := range List(fs) {
		got = append(got, f.Index)
	}
	if want := []uint64{700, 600, 500, 400, 300}; !slices.Equal(got, want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
	if fs.Exists(Name(2, 800) + tmpSuffix) {
		t.Fatal("the temporary file survived the purge")
	}
}
