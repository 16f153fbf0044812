package invariants

import (
	"strings"
	"testing"

	"github.com/etcdsim/etcdsim/nodes"
	"github.com/etcdsim/etcdsim/nodes/backend"
	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// stateAfter applies entries to a fresh state and returns its backend.
func stateAfter(t *testing.T, reqs ...*nodes.Request) (*nodes.State, *backend.Mem) {
	t.Helper()
	st, mem := nodes.NewState(nodes.Bugs{}), backend.NewMem()
	for _, r := range reqs {
		res, job := st.Apply(mem, r)
		if job != nil {
			job.Run(mem)
		}
		if res.Code != nodes.OK {
			t.Fatalf("%s: %s", r.Kind, res.Code)
		}
	}
	return st, mem
}

// TestDiffBackends names the first differing record in domain terms, and
// nothing for equal states or for the meta records no reference predicts.
func TestDiffBackends(t *testing.T) {
	grant := &nodes.Request{ID: 9, Kind: nodes.KindLeaseGrant, Lease: 7, TTL: 5}
	_, base := stateAfter(t, put(1, "a", "1"), put(2, "b", "1"))
	_, more := stateAfter(t, put(1, "a", "1"), put(2, "b", "1"), put(3, "a", "2"))
	_, other := stateAfter(t, put(1, "a", "1"), put(2, "b", "2"))
	_, leased := stateAfter(t, put(1, "a", "1"), put(2, "b", "1"), grant)
	_, deleted := stateAfter(t, put(1, "a", "1"), put(2, "b", "1"), del(3, "a"))
	_, compacted := stateAfter(t, put(1, "a", "1"), put(2, "b", "1"), put(3, "a", "2"), compact(4, 3))
	cases := []struct {
		name       string
		got, want  *backend.Mem
		other      string
		wantSubstr string
	}{
		{"equal", base, base.Clone(), "the reference", ""},
		{"an extra put", more, base, "the reference", `key bucket has revision 4: put "a" = "2" (created at 2, version 2), which the reference's does not`},
		{"a missing put", base, more, "m1", `key bucket lacks revision 4: put "a" = "2" (created at 2, version 2), which m1's has`},
		{"another value", other, base, "the reference", `key bucket has revision 3: put "b" = "2" (created at 3, version 1) where the reference's has revision 3: put "b" = "1"`},
		{"a lease", leased, base, "the reference", "lease bucket has lease 7 (TTL 5s), which the reference's does not"},
		{"a tombstone", deleted, base, "the reference", `key bucket has revision 4: delete "a"`},
		{"a compaction", compacted, more, "the reference", "compaction at revision 3"},
	}
	for _, c := range cases {
		if got := DiffBackends(c.got, c.want, c.other); c.wantSubstr == "" && got != "" || !strings.Contains(got, c.wantSubstr) {
			t.Errorf("%s: %q, want %q", c.name, got, c.wantSubstr)
		}
	}
	hooked := base.Clone()
	hooked.Put(mvcc.MetaBucket, []byte(nodes.KeyCI), be64(99))
	if d := DiffBackends(hooked, base, "the reference"); d != "" {
		t.Errorf("the consistent index is not the reference's to predict: %q", d)
	}
}

// TestCacheDiff names the user whose cached permissions are stale.
func TestCacheDiff(t *testing.T) {
	st, mem := stateAfter(t, authReq(1, nodes.KindRoleAdd, "", "r", ""), authReq(2, nodes.KindRoleGrantPermission, "", "r", "a"),
		authReq(3, nodes.KindUserAdd, "u", "", ""), authReq(4, nodes.KindUserGrantRole, "u", "r", "")) // u may read a
	if d := st.Auth.CacheDiff(mem); d != "" {
		t.Fatalf("fresh cache: %q", d)
	}
	_, without := stateAfter(t, authReq(1, nodes.KindRoleAdd, "", "r", ""), authReq(3, nodes.KindUserAdd, "u", "", ""), authReq(4, nodes.KindUserGrantRole, "u", "r", ""))
	if d, want := st.Auth.CacheDiff(without), `user u: the cache has read "a", a rebuild has none`; d != want {
		t.Fatalf("stale cache: %q, want %q", d, want)
	}
}
