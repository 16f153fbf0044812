package invariants

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/raft/v3/raftpb"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/auth"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/lease"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// DiffBackends names the first record in which a member's backend state
// got differs from want (other's: "the reference", "m1"), bucket by
// bucket in name order and key by key, in the terms of its bucket ("key
// bucket has revision 45: put "k03" = "v120" (...) where the reference
// has ..."); "" when they hold the same records. The meta records no
// reference can predict (the consistent index, its term, the
// finished-compaction marker) are left out.
func DiffBackends(got, want *backend.Mem, other string) string {
	return diffIn(got, want, other, func(string) bool { return true })
}

// diffIn is DiffBackends over the buckets keep accepts.
func diffIn(got, want *backend.Mem, other string, keep func(bucket string) bool) string {
	names := append(got.Buckets(), want.Buckets()...)
	slices.Sort(names)
	for _, b := range slices.Compact(names) {
		if !keep(b) {
			continue
		}
		if d := diffBucket(b, records(got, b), records(want, b), other); d != "" {
			return d
		}
	}
	return ""
}

// record is one key and value of a bucket.
type record struct{ key, value []byte }

// records lists a bucket's records in key order, without the excluded
// meta records.
func records(m *backend.Mem, bucket string) []record {
	var out []record
	m.Range(bucket, nil, nil, func(k, v []byte) bool {
		if bucket != mvcc.MetaBucket || !slices.ContainsFunc(excluded, func(x []byte) bool { return bytes.Equal(x, k) }) {
			out = append(out, record{k, v})
		}
		return true
	})
	return out
}

// diffBucket compares two key-ordered record lists of one bucket.
func diffBucket(bucket string, got, want []record, other string) string {
	i, j := 0, 0
	for i < len(got) || j < len(want) {
		switch {
		case j == len(want) || i < len(got) && bytes.Compare(got[i].key, want[j].key) < 0:
			return fmt.Sprintf("%s bucket has %s, which %s's does not", bucket, describe(bucket, got[i]), other)
		case i == len(got) || bytes.Compare(got[i].key, want[j].key) > 0:
			return fmt.Sprintf("%s bucket lacks %s, which %s's has", bucket, describe(bucket, want[j]), other)
		case !bytes.Equal(got[i].value, want[j].value):
			return fmt.Sprintf("%s bucket has %s where %s's has %s", bucket, describe(bucket, got[i]), other, describe(bucket, want[j]))
		}
		i, j = i+1, j+1
	}
	return ""
}

// describe says what a record holds, in the terms of its bucket.
func describe(bucket string, r record) string {
	switch bucket {
	case mvcc.KeyBucket, mvcc.MetaBucket:
		return mvcc.DescribeRecord(bucket, r.key, r.value)
	case lease.Bucket:
		return lease.DescribeRecord(r.key, r.value)
	case auth.AuthBucket, auth.UsersBucket, auth.RolesBucket:
		return auth.DescribeRecord(bucket, r.key, r.value)
	}
	return fmt.Sprintf("%s %q = %x", bucket, r.key, r.value)
}

// onlyBuckets keeps the named buckets.
func onlyBuckets(names ...string) func(string) bool {
	return func(b string) bool { return slices.Contains(names, b) }
}

// exceptBucket keeps every bucket but name.
func exceptBucket(name string) func(string) bool {
	return func(b string) bool { return b != name }
}

// stateDiff names the first record of the buckets keep accepts in which a
// member's backend state mem differs from the reference's after index i,
// or says fallback when the reference no longer keeps that state or the
// records agree.
func (c *Checker) stateDiff(mem *backend.Mem, i uint64, keep func(string) bool, fallback string) string {
	if ref, ok := c.Ref.StateAt(i); ok {
		if d := diffIn(mem, ref, "the reference", keep); d != "" {
			return d
		}
	}
	return fallback
}

// kvDiff says how a member's key-value state differs from the reference's
// after index i: its revision, its compact revision, and the first record
// of its key bucket that differs (unless it is compacting: its key bucket
// then holds a prefix of the deletions); "" when the revision, the
// compact revision and the live key-values agree.
func (c *Checker) kvDiff(v View, i uint64, rec *Record) string {
	if v.Rev() == rec.Rev && v.CompactRev() == rec.CompactRe && v.KVHash() == rec.KVHash {
		return ""
	}
	var parts []string
	if v.Rev() != rec.Rev {
		parts = append(parts, fmt.Sprintf("revision %d where the reference has %d", v.Rev(), rec.Rev))
	}
	if v.CompactRev() != rec.CompactRe {
		parts = append(parts, fmt.Sprintf("compact revision %d where the reference has %d", v.CompactRev(), rec.CompactRe))
	}
	d := ""
	if !v.Compacting() {
		d = c.stateDiff(v.Backend(), i, onlyBuckets(mvcc.KeyBucket), "")
	}
	switch {
	case d != "":
		parts = append(parts, d)
	case v.KVHash() != rec.KVHash && v.Compacting():
		parts = append(parts, fmt.Sprintf("live key-values that differ from the reference's while it compacts (hash %x vs %x)", v.KVHash(), rec.KVHash))
	case v.KVHash() != rec.KVHash:
		parts = append(parts, fmt.Sprintf("live key-values that differ from the reference's over the same key bucket (hash %x vs %x)", v.KVHash(), rec.KVHash))
	}
	return strings.Join(parts, "; ")
}

// cacheDiff names the first user whose permissions in a member's cache
// differ from the reference's after index i.
func (c *Checker) cacheDiff(v View, i uint64) string {
	if ref, ok := c.Ref.StateAt(i); ok {
		if d := v.AuthCacheDiff(ref); d != "" {
			return d
		}
	}
	return fmt.Sprintf("the reference no longer keeps index %d to compare with (cache hash %x)", i, v.AuthCacheHash())
}

// outcomeDiff says the first way a member's apply of an entry returned
// otherwise than the reference's.
func outcomeDiff(got, want *nodes.Outcome) string {
	switch {
	case got.Code != want.Code:
		return fmt.Sprintf("it returned %s where the reference's apply returned %s", got.Code, want.Code)
	case got.Rev != want.Rev:
		return fmt.Sprintf("it returned revision %d where the reference's returned %d", got.Rev, want.Rev)
	case got.Deleted != want.Deleted:
		return fmt.Sprintf("it deleted %d keys where the reference's deleted %d", got.Deleted, want.Deleted)
	case got.Count != want.Count:
		return fmt.Sprintf("it counted %d keys where the reference's counted %d", got.Count, want.Count)
	case got.Succeeded != want.Succeeded:
		return fmt.Sprintf("its txn succeeded=%v where the reference's succeeded=%v", got.Succeeded, want.Succeeded)
	case got.TTL != want.TTL:
		return fmt.Sprintf("it returned TTL %ds where the reference's returned %ds", got.TTL, want.TTL)
	}
	return fmt.Sprintf("it returned other key-values than the reference's (response digest %x vs %x)", got.Digest, want.Digest)
}

// entryName names what a committed entry carries: "request #12 (put)",
// "an empty entry", "a conf change".
func (c *Checker) entryName(e *raftpb.Entry) string {
	switch {
	case e.GetType() != raftpb.EntryNormal:
		return "a conf change"
	case len(e.Data) == 0:
		return "an empty entry"
	}
	if req, err := c.Ref.Decoded.Decode(e.Data); err == nil && len(req.Key) > 0 {
		return fmt.Sprintf("request #%d (%s %q)", req.ID, req.Kind, req.Key)
	} else if err == nil {
		return fmt.Sprintf("request #%d (%s)", req.ID, req.Kind)
	}
	return fmt.Sprintf("%d undecodable bytes", len(e.Data))
}

// recordName names what the agreed entry of a record carried (its bytes
// are not kept, only its request's ID and kind).
func recordName(rec *Record) string {
	if rec.Ran {
		return fmt.Sprintf("request #%d (%s)", rec.ReqID, rec.Out.Kind)
	}
	return "an entry without a request"
}
