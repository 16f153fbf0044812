package backend

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
)

func readAll(tx ReadTx, bucket string) []string {
	var out []string
	tx.Range(bucket, nil, nil, func(k, v []byte) bool { out = append(out, string(k)+"="+string(v)); return true })
	return out
}

func getS(tx ReadTx, bucket, key string) string {
	v, ok := tx.Get(bucket, []byte(key))
	if !ok {
		return "<none>"
	}
	return string(v)
}

// TestReadBuffer follows etcd's order: a put is seen by the batch tx at
// once, by readers after Unlock (writeback), and is committed by the next
// commit, which resets the read buffer; a delete is seen by readers only
// after a commit, and Unlock asks for one (PR 17119).
func TestReadBuffer(t *testing.T) {
	b := mustOpen(t, newFS(1, disk.Faults{}))
	b.SetPreCommitHook(func(tx Tx) { tx.Put("meta", []byte("ci"), []byte("1")) })
	var fresh []string
	b.SetBufferedReadHook(func(bucket string) { fresh = append(fresh, bucket) })
	rd := b.ReadTx()
	b.Put("authUsers", []byte("alice"), []byte("pw1"))
	check(t, b.Commit())
	if got := getS(rd, "authUsers", "alice"); got != "pw1" {
		t.Fatalf("committed read %q", got)
	}
	// A write inside the locked tx: readers still see the commit.
	b.Put("authUsers", []byte("alice"), []byte("pw2"))
	b.Put("authUsers", []byte("bob"), []byte("pw"))
	if got := getS(b, "authUsers", "alice"); got != "pw2" {
		t.Fatalf("batch tx read %q", got)
	}
	if got := getS(rd, "authUsers", "alice"); got != "pw1" || getS(rd, "authUsers", "bob") != "<none>" {
		t.Fatalf("reader saw the locked tx: alice=%q", got)
	}
	if len(fresh) != 0 {
		t.Fatalf("probe before writeback: %v", fresh)
	}
	// Unlock writes back; a reader now gets the buffered value.
	if b.Unlock(0) {
		t.Fatal("Unlock asked for a commit without deletes")
	}
	if got := getS(rd, "authUsers", "alice"); got != "pw2" {
		t.Fatalf("after writeback %q", got)
	}
	if !slices.Equal(fresh, []string{"authUsers"}) {
		t.Fatalf("probe: %v", fresh)
	}
	if got := readAll(rd, "authUsers"); !slices.Equal(got, []string{"alice=pw2", "bob=pw"}) {
		t.Fatalf("range after writeback %v", got)
	}
	if r, w := b.ReadBuffered(); r != 2 || w != 0 {
		t.Fatalf("buffered %d %d", r, w)
	}
	// A concurrent read tx keeps what it saw.
	cr := b.ConcurrentReadTx()
	// A delete: the batch tx sees it, readers do not until the commit.
	b.Delete("authUsers", []byte("alice"))
	b.Delete("authUsers", []byte("carol")) // absent, still a delete
	b.Put("authUsers", []byte("dave"), []byte("pw"))
	if _, ok := b.Get("authUsers", []byte("alice")); ok {
		t.Fatal("batch tx sees a deleted key")
	}
	if got := readAll(rd, "authUsers"); !slices.Equal(got, []string{"alice=pw2", "bob=pw"}) {
		t.Fatalf("reader during the locked delete %v", got)
	}
	if !b.Unlock(0) {
		t.Fatal("Unlock after a delete must ask for a commit")
	}
	if got := readAll(rd, "authUsers"); !slices.Equal(got, []string{"alice=pw2", "bob=pw", "dave=pw"}) {
		t.Fatalf("reader before the commit %v (a buffered put hides the unbuffered delete)", got)
	}
	check(t, b.Commit())
	if got := readAll(rd, "authUsers"); !slices.Equal(got, []string{"bob=pw", "dave=pw"}) {
		t.Fatalf("reader after the commit %v", got)
	}
	if b.Unlock(0) {
		t.Fatal("the commit did not clear the pending deletes")
	}
	if got := readAll(cr, "authUsers"); !slices.Equal(got, []string{"alice=pw2", "bob=pw"}) {
		t.Fatalf("concurrent read tx %v", got)
	}
	if r, w := b.ReadBuffered(); r != 0 || w != 0 {
		t.Fatalf("commit left the buffers %d %d", r, w)
	}
	if got := getS(rd, "meta", "ci"); got != "1" {
		t.Fatalf("meta %q", got)
	}
	// Two ranges between the writeback and the commit were served from the
	// buffer; the reads after the commit were not.
	if len(fresh) != 4 {
		t.Fatalf("probe: %v", fresh)
	}
	// The key bucket reads the same way but is not probed.
	b.Put(SafeRangeBucket, []byte("r1"), []byte("v"))
	b.Unlock(0)
	if getS(rd, SafeRangeBucket, "r1") != "v" || len(fresh) != 4 {
		t.Fatalf("key bucket read: %v", fresh)
	}
}

// TestReadSideModel checks the read side against a model of etcd's:
// the committed state of the last commit overlaid by the puts written back
// since, over random puts, deletes, unlocks and commits.
func TestReadSideModel(t *testing.T) {
	indexed := false
	for seed := range uint64(60) {
		// Odd seeds write more keys and commit less often, so that the
		// read buffer outgrows smallBuf and is indexed.
		wide, nkeys := seed%2 == 1, 8
		if wide {
			nkeys = 40
		}
		rng := rand.New(rand.NewPCG(seed, 2))
		b := mustOpen(t, newFS(seed, disk.Faults{}))
		committed := NewMem()
		rbuf := map[string]string{} // bucket/key -> written-back value
		var wbuf [][3]string
		buckets := []string{"key", "auth", "lease"}
		for step := range 300 {
			bk := buckets[rng.IntN(len(buckets))]
			key := fmt.Sprintf("k%02d", rng.IntN(nkeys))
			switch r := rng.IntN(10); {
			case r < 5:
				v := fmt.Sprintf("v%d", step)
				b.Put(bk, []byte(key), []byte(v))
				wbuf = append(wbuf, [3]string{bk, key, v})
			case r < 6:
				b.Delete(bk, []byte(key))
			case r < 8 || (wide && rng.IntN(6) != 0):
				b.Unlock(0)
				for _, w := range wbuf {
					rbuf[w[0]+"/"+w[1]] = w[2]
				}
				wbuf = nil
			case r < 9:
				check(t, b.Commit())
				committed = b.State().Clone()
				rbuf, wbuf = map[string]string{}, nil
			default:
				// A defrag commits too.
				check(t, b.DefragCopy(true))
				check(t, b.DefragRename())
				committed = b.State().Clone()
				rbuf, wbuf = map[string]string{}, nil
			}
			indexed = indexed || b.rbuf.indexed
			rd := b.ReadTx()
			for _, bk := range buckets {
				var want []string
				seen := map[string]bool{}
				committed.Range(bk, nil, nil, func(k, v []byte) bool {
					if bv, ok := rbuf[bk+"/"+string(k)]; ok {
						v = []byte(bv)
					}
					seen[string(k)] = true
					want = append(want, string(k)+"="+string(v))
					return true
				})
				for k, v := range rbuf {
					if bb, kk, _ := cut(k); bb == bk && !seen[kk] {
						want = append(want, kk+"="+v)
					}
				}
				slices.Sort(want)
				if got := readAll(rd, bk); !slices.Equal(got, want) {
					t.Fatalf("seed %d step %d bucket %s: read side %v, want %v", seed, step, bk, got, want)
				}
				for i := range nkeys {
					k := fmt.Sprintf("k%02d", i)
					w, ok := rbuf[bk+"/"+k]
					if !ok {
						v, had := committed.Get(bk, []byte(k))
						w, ok = string(v), had
					}
					if v, got := rd.Get(bk, []byte(k)); got != ok || string(v) != w {
						t.Fatalf("seed %d step %d: Get %s/%s = %q %v, want %q %v", seed, step, bk, k, v, got, w, ok)
					}
				}
			}
		}
	}
}

func cut(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// BenchmarkApplyUnlockRead is the member's use: a write tx per entry (its
// puts, an Unlock), a reader's Get of a non-key bucket, a commit every 100
// transactions.
func BenchmarkApplyUnlockRead(b *testing.B) {
	be := mustOpen(b, newFS(1, disk.Faults{}))
	be.SetPreCommitHook(func(tx Tx) { tx.Put("meta", []byte("ci"), []byte("12345678")) })
	keys := make([][]byte, 100)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "key%03d", i)
	}
	val := []byte("0123456789abcdef")
	rd := be.ReadTx()
	i := 0
	for b.Loop() {
		be.Put("key", keys[i%100], val)
		be.Put("lease", keys[i%7], val)
		be.Unlock(0)
		rd.Get("authUsers", keys[i%3])
		if i++; i%100 == 0 {
			check(b, be.Commit())
		}
	}
}
