package backend

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/record"
)

// observeBackend runs a random life of a backend with a pre-commit hook —
// puts and deletes in several buckets, unlocks, commits, reads through
// ReadTx and ConcurrentReadTx, Remember — and returns what it saw.
func observeBackend(t *testing.T, seed uint64) []string {
	b := mustOpen(t, newFS(seed, disk.Faults{}))
	var ci uint64
	b.SetPreCommitHook(func(tx Tx) {
		v := binary.BigEndian.AppendUint64(nil, ci)
		tx.Put("meta", []byte("consistent_index"), v)
		tx.Put("meta", []byte("term"), v[:4])
		if ci%5 == 0 {
			tx.Put(fmt.Sprintf("hook%d", ci%3), []byte("x"), v) // a bucket of the hook's own, now and then
		}
	})
	r := rand.New(rand.NewPCG(seed, 5))
	buckets := []string{"key", "meta", "lease", "hook0", "hook1"}
	keys := []string{"consistent_index", "term", "a", "b", "x"}
	var seen []string
	read := func(tx ReadTx) string {
		var sb strings.Builder
		for _, bk := range buckets {
			tx.Range(bk, nil, nil, func(k, v []byte) bool {
				fmt.Fprintf(&sb, "%s/%s=%x ", bk, k, v)
				return true
			})
			for _, k := range keys {
				if v, ok := tx.Get(bk, []byte(k)); ok {
					fmt.Fprintf(&sb, "%s:%s=%x ", bk, k, v)
				}
			}
		}
		return sb.String()
	}
	for step := range 3000 {
		bk, k := buckets[r.IntN(len(buckets))], keys[r.IntN(len(keys))]
		switch n := r.IntN(20); {
		case n < 8:
			b.Put(bk, []byte(k), []byte(fmt.Sprint(step)))
		case n < 10:
			b.Delete(bk, []byte(k))
		case n < 13:
			b.Unlock(0)
		case n < 15:
			ci++
			_, err := b.WriteCommit(r.IntN(4) > 0)
			check(t, err)
			if r.IntN(2) == 0 {
				check(t, b.SyncCommit())
			}
		case n < 17:
			seen = append(seen, "read "+read(b.ReadTx()))
		case n < 18:
			seen = append(seen, "concurrent "+read(b.ConcurrentReadTx()))
		default:
			var c ReplayCache
			b.Remember(&c)
			if c.mem != nil {
				seen = append(seen, fmt.Sprintf("remember %d %d %s", len(c.data), c.records, read(c.mem)))
			}
		}
		rd, wr := b.ReadBuffered()
		seen = append(seen, fmt.Sprintf("%d pending %d buffered %d/%d %s", step, b.Pending(), rd, wr, read(b.State())))
	}
	return seen
}

// TestHookSkipsReadBufferInvisibly compares a backend whose pre-commit
// hook's puts skip the read buffer with one where they go through it, as
// any other put: every read, through every read side, and every cache
// that Remember fills must be the same.
func TestHookSkipsReadBufferInvisibly(t *testing.T) {
	defer func(v bool) { hookSkipsReadBuf = v }(hookSkipsReadBuf)
	for seed := range uint64(6) {
		hookSkipsReadBuf = false
		slow := observeBackend(t, seed)
		hookSkipsReadBuf = true
		fast := observeBackend(t, seed)
		if len(slow) != len(fast) {
			t.Fatalf("seed %d: %d observations vs %d", seed, len(slow), len(fast))
		}
		for i := range slow {
			if slow[i] != fast[i] {
				t.Fatalf("seed %d, observation %d:\nthrough the buffer: %s\nskipping it:        %s", seed, i, slow[i], fast[i])
			}
		}
	}
}

// TestMemWriteBucketCache puts into, deletes from and drops random buckets
// of a Mem, clones and resets it, and checks after each step that the
// bucket its writes last found is one it holds, and that every bucket
// holds what a plain model says.
func TestMemWriteBucketCache(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	names := []string{"key", "meta", "auth", "lease", "members", "alarm"}
	m := NewMem()
	model := map[string]map[string]string{}
	for step := range 5000 {
		name, k := names[r.IntN(len(names))], fmt.Sprint(r.IntN(4))
		switch n := r.IntN(20); {
		case n < 10:
			m.Put(name, []byte(k), []byte(fmt.Sprint(step)))
			if model[name] == nil {
				model[name] = map[string]string{}
			}
			model[name][k] = fmt.Sprint(step)
		case n < 14:
			m.Delete(name, []byte(k))
			delete(model[name], k)
		case n < 17:
			m.dropBucket(name)
			delete(model, name)
		case n < 19:
			m = m.Clone()
		default:
			check(t, applyRecord(m, encodeFull(m)[record.HeaderSize:]))
		}
		if m.wrote != nil && !slices.Contains(m.buckets, m.wrote) {
			t.Fatalf("step %d: the write cache holds bucket %s, which the store does not", step, m.wrote.name)
		}
		for _, name := range names {
			want, got := model[name], map[string]string{}
			m.Range(name, nil, nil, func(k, v []byte) bool { got[string(k)] = string(v); return true })
			if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("step %d: bucket %s holds %v, model %v", step, name, got, want)
			}
		}
	}
}
