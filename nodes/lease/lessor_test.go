package lease

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

func keysString(ks [][]byte) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}

func mustGrant(t *testing.T, le *Lessor, tx backend.Tx, id, ttl int64) {
	t.Helper()
	if err := le.Grant(tx, id, ttl); err != nil {
		t.Fatalf("grant %d: %v", id, err)
	}
}

func TestGrant(t *testing.T) {
	tests := []struct {
		name    string
		id, ttl int64
		err     error
		wantTTL int64
	}{
		{"plain", 7, 10, nil, 10},
		{"negative id", -7, 10, nil, 10},
		{"min ttl", 8, 1, nil, MinTTL},
		{"zero ttl", 9, 0, nil, MinTTL},
		{"max ttl", 10, MaxTTL, nil, MaxTTL},
		{"no lease id", 0, 10, ErrLeaseNotFound, 0},
		{"ttl too large", 11, MaxTTL + 1, ErrLeaseTTLTooLarge, 0},
		{"exists", 1, 10, ErrLeaseExists, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, le := backend.NewMem(), New()
			mustGrant(t, le, m, 1, 5)
			sum, n := le.Hash(), m.Len(Bucket)
			err := le.Grant(m, tt.id, tt.ttl)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				if le.Hash() != sum || m.Len(Bucket) != n {
					t.Fatal("a failed grant changed the lessor")
				}
				return
			}
			if ttl, ok := le.TTL(tt.id); !ok || ttl != tt.wantTTL {
				t.Fatalf("ttl %d %v, want %d", ttl, ok, tt.wantTTL)
			}
			v, ok := m.Get(Bucket, idKey(tt.id))
			l, derr := decodeLease(idKey(tt.id), v)
			if !ok || derr != nil || l.ttl != tt.wantTTL || l.id != tt.id {
				t.Fatalf("bucket record %+v %v %v", l, ok, derr)
			}
		})
	}
}

func TestAttachDetachRevoke(t *testing.T) {
	m, le := backend.NewMem(), New()
	mustGrant(t, le, m, 1, 10)
	mustGrant(t, le, m, 2, 10)
	empty := le.Hash()
	for _, k := range []string{"c", "a", "b", "a"} {
		if err := le.Attach(1, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := le.Attach(3, []byte("x")); !errors.Is(err, ErrLeaseNotFound) {
		t.Fatalf("attach to missing lease: %v", err)
	}
	if got := keysString(le.Keys(1)); got != "a,b,c" {
		t.Fatalf("keys %q", got)
	}
	le.Detach(1, []byte("b"))
	le.Detach(1, []byte("zz")) // not attached: ignored
	le.Detach(9, []byte("a"))  // no lease: ignored
	if got := keysString(le.Keys(1)); got != "a,c" {
		t.Fatalf("keys after detach %q", got)
	}
	le.Detach(1, []byte("a"))
	le.Detach(1, []byte("c"))
	if le.Hash() != empty {
		t.Fatal("detaching every key did not restore the hash")
	}
	le.Attach(2, []byte("y"))
	le.Attach(2, []byte("x"))
	keys, err := le.Revoke(m, 2)
	if err != nil || keysString(keys) != "x,y" {
		t.Fatalf("revoke: %q %v", keysString(keys), err)
	}
	if le.Lookup(2) || m.Len(Bucket) != 1 || le.Keys(2) != nil {
		t.Fatal("revoked lease still present")
	}
	if _, err := le.Revoke(m, 2); !errors.Is(err, ErrLeaseNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	if slices.Compare(le.IDs(), []int64{1}) != 0 {
		t.Fatalf("ids %v", le.IDs())
	}
}

func TestRestore(t *testing.T) {
	m, le := backend.NewMem(), New()
	for _, id := range []int64{5, -3, 1 << 62, -1 << 63, 9} {
		mustGrant(t, le, m, id, 30)
	}
	if _, err := le.Revoke(m, 9); err != nil {
		t.Fatal(err)
	}
	le.Checkpoint(m, 5, 12)
	r, err := Restore(m)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.IDs(), []int64{-1 << 63, -3, 5, 1 << 62}; slices.Compare(got, want) != 0 {
		t.Fatalf("restored ids %v, want %v (negative IDs too, #13676)", got, want)
	}
	if r.Hash() != le.Hash() {
		t.Fatal("restored hash differs")
	}
	if r.Primary() {
		t.Fatal("restored lessor is primary")
	}
	// Keys come back through Attach, from the key bucket.
	le.Attach(-3, []byte("k"))
	r.Attach(-3, []byte("k"))
	if r.Hash() != le.Hash() {
		t.Fatal("hash differs after re-attach")
	}
	r.Promote(0)
	if got := r.Expired(12*time.Second, 0); slices.Compare(got, []int64{5}) != 0 {
		t.Fatalf("checkpointed remaining TTL not restored: expired %v", got)
	}
}

func TestRestoreCorrupt(t *testing.T) {
	for _, kv := range [][2]string{
		{"\x00\x00\x00\x00\x00\x00\x00\x01", "short"},
		{"\x01", strings.Repeat("\x00", 24)},
		{"\x00\x00\x00\x00\x00\x00\x00\x02", "\x00\x00\x00\x00\x00\x00\x00\x01" + strings.Repeat("\x00", 16)},
	} {
		m := backend.NewMem()
		m.Put(Bucket, []byte(kv[0]), []byte(kv[1]))
		if _, err := Restore(m); !errors.Is(err, errBadRecord) {
			t.Errorf("%q: err = %v", kv, err)
		}
	}
}

func sec(n int64) time.Duration { return time.Duration(n) * time.Second }

func TestExpiry(t *testing.T) {
	m, le := backend.NewMem(), New()
	mustGrant(t, le, m, 5, 5)
	mustGrant(t, le, m, 1, 10)
	mustGrant(t, le, m, -2, 10)
	mustGrant(t, le, m, 3, 20)
	if got := le.Expired(sec(100), 0); got != nil {
		t.Fatalf("not primary, yet expired %v", got)
	}
	if _, err := le.Renew(1, 0); !errors.Is(err, ErrNotPrimary) {
		t.Fatalf("renew when not primary: %v", err)
	}
	le.Promote(sec(100)) // expiries: 5@105, -2@110, 1@110, 3@120
	steps := []struct {
		now   int64
		limit int
		want  []int64
	}{
		{104, 0, nil},
		{110, 2, []int64{-2, 5}}, // earliest expiries first, then sorted by ID
		{110, 0, []int64{1}},     // the rest
		{112, 0, nil},            // returned ones wait RetryInterval
		{113, 0, []int64{-2, 1, 5}},
		{115, 0, nil},
		{120, 1, []int64{-2}}, // -2, 1, 5 queued at 116, 3 at 120: ties by ID
		{120, 0, []int64{1, 3, 5}},
	}
	for i, st := range steps {
		if got := le.Expired(sec(st.now), st.limit); slices.Compare(got, st.want) != 0 {
			t.Fatalf("step %d: Expired(%ds, %d) = %v, want %v", i, st.now, st.limit, got, st.want)
		}
	}
}

func TestRenew(t *testing.T) {
	m, le := backend.NewMem(), New()
	mustGrant(t, le, m, 1, 10)
	le.Promote(0)
	if ttl, err := le.Renew(1, sec(9)); err != nil || ttl != 10 {
		t.Fatalf("renew: %d %v", ttl, err)
	}
	if got := le.Expired(sec(18), 0); got != nil {
		t.Fatalf("renewed lease expired early: %v", got)
	}
	if got := le.Expired(sec(19), 0); slices.Compare(got, []int64{1}) != 0 {
		t.Fatalf("renewed lease did not expire at 19s: %v", got)
	}
	if _, err := le.Renew(1, sec(19)); !errors.Is(err, ErrLeaseExpired) {
		t.Fatalf("renew of an expired lease: %v", err)
	}
	if _, err := le.Renew(2, sec(19)); !errors.Is(err, ErrLeaseNotFound) {
		t.Fatalf("renew of a missing lease: %v", err)
	}
	le.Revoke(m, 1)
	if _, err := le.Renew(1, sec(19)); !errors.Is(err, ErrLeaseNotFound) {
		t.Fatalf("renew of a revoked lease (#20616): %v", err)
	}
}

func TestPromoteDemote(t *testing.T) {
	m, le := backend.NewMem(), New()
	mustGrant(t, le, m, 1, 10)
	le.Promote(0)
	le.Demote()
	if got := le.Expired(sec(50), 0); got != nil {
		t.Fatalf("demoted lessor expired %v", got)
	}
	// A new term extends: expiry counts from the new promotion.
	le.Promote(sec(50))
	if got := le.Expired(sec(59), 0); got != nil {
		t.Fatalf("expired %v before now+TTL", got)
	}
	if got := le.Expired(sec(60), 0); slices.Compare(got, []int64{1}) != 0 {
		t.Fatalf("expired %v at now+TTL", got)
	}
	// Granted while primary: the clock starts at the next time handed in.
	mustGrant(t, le, m, 2, 10)
	if got := le.Expired(sec(70), 0); slices.Compare(got, []int64{1}) != 0 {
		t.Fatalf("new lease expired at once: %v", got)
	}
	if got := le.Expired(sec(80), 0); slices.Compare(got, []int64{1, 2}) != 0 {
		t.Fatalf("new lease did not expire 10s after: %v", got)
	}
}

// Two lessors fed the same operations in different orders of attachment
// have equal hashes; restoring from the bucket and re-attaching reproduces
// the hash.
func TestRapidHash(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m, le := backend.NewMem(), New()
		model := map[int64]map[string]bool{}
		ids := rapid.SampledFrom([]int64{1, 2, 3, -1, -2})
		keys := rapid.SampledFrom([]string{"a", "b", "c"})
		t.Repeat(map[string]func(*rapid.T){
			"grant": func(t *rapid.T) {
				id := ids.Draw(t, "id")
				err := le.Grant(m, id, rapid.Int64Range(0, 30).Draw(t, "ttl"))
				if (err == nil) != (model[id] == nil) {
					t.Fatalf("grant %d: %v", id, err)
				}
				if err == nil {
					model[id] = map[string]bool{}
				}
			},
			"attach": func(t *rapid.T) {
				id, k := ids.Draw(t, "id"), keys.Draw(t, "key")
				if model[id] == nil {
					return
				}
				for old, ks := range model { // a key has one lease
					if ks[k] {
						le.Detach(old, []byte(k))
						delete(ks, k)
					}
				}
				le.Attach(id, []byte(k))
				model[id][k] = true
			},
			"revoke": func(t *rapid.T) {
				id := ids.Draw(t, "id")
				got, err := le.Revoke(m, id)
				if (err == nil) != (model[id] != nil) {
					t.Fatalf("revoke %d: %v", id, err)
				}
				var want []string
				for k := range model[id] {
					want = append(want, k)
				}
				slices.Sort(want)
				if keysString(got) != strings.Join(want, ",") {
					t.Fatalf("revoke %d keys %q, want %q", id, keysString(got), want)
				}
				delete(model, id)
			},
			"": func(t *rapid.T) {
				r, err := Restore(m)
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range le.IDs() {
					for _, k := range le.Keys(id) {
						r.Attach(id, k)
					}
				}
				if r.Hash() != le.Hash() || fmt.Sprint(r.IDs()) != fmt.Sprint(le.IDs()) {
					t.Fatalf("restore: hash %x/%x ids %v/%v", r.Hash(), le.Hash(), r.IDs(), le.IDs())
				}
				if len(le.IDs()) != len(model) {
					t.Fatalf("%d leases, model %d", len(le.IDs()), len(model))
				}
			},
		})
	})
}
