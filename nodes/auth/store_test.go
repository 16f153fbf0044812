package auth

import (
	"errors"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// op is one mutation, as the member would apply it.
type op func(s *Store, tx backend.Tx) error

func userAdd(name string) op {
	return func(s *Store, tx backend.Tx) error { return s.UserAdd(tx, name, "pw-"+name) }
}
func userDel(name string) op {
	return func(s *Store, tx backend.Tx) error { return s.UserDelete(tx, name) }
}
func passwd(name, pw string) op {
	return func(s *Store, tx backend.Tx) error { return s.UserChangePassword(tx, name, pw) }
}
func grantRole(u, r string) op {
	return func(s *Store, tx backend.Tx) error { return s.UserGrantRole(tx, u, r) }
}
func revokeRole(u, r string) op {
	return func(s *Store, tx backend.Tx) error { return s.UserRevokeRole(tx, u, r) }
}
func roleAdd(name string) op {
	return func(s *Store, tx backend.Tx) error { return s.RoleAdd(tx, name) }
}
func roleDel(name string) op {
	return func(s *Store, tx backend.Tx) error { return s.RoleDelete(tx, name) }
}
func grantPerm(r string, t PermType, key, end string) op {
	return func(s *Store, tx backend.Tx) error {
		return s.RoleGrantPermission(tx, r, Permission{Type: t, Key: []byte(key), End: []byte(end)})
	}
}
func revokePerm(r, key, end string) op {
	return func(s *Store, tx backend.Tx) error { return s.RoleRevokePermission(tx, r, []byte(key), []byte(end)) }
}
func enable(s *Store, tx backend.Tx) error  { return s.AuthEnable(tx) }
func disable(s *Store, tx backend.Tx) error { return s.AuthDisable(tx) }

var authBuckets = []string{AuthBucket, UsersBucket, RolesBucket}

func bucketSums(m *backend.Mem) [3]uint64 {
	var out [3]uint64
	for i, b := range authBuckets {
		out[i] = m.BucketHash(b)
	}
	return out
}

// run applies ops in order to s over m and fails the test on the first
// unexpected error.
func run(t *testing.T, s *Store, m *backend.Mem, ops ...op) {
	t.Helper()
	for i, o := range ops {
		if err := o(s, m); err != nil {
			t.Fatalf("setup op %d: %v", i, err)
		}
	}
}

// rootSetup adds root with the root role and a role "r" with no users.
var rootSetup = []op{userAdd("root"), grantRole("root", "root"), roleAdd("r")}

// mutationTests: each runs do after rootSetup, setup and, if enab, AuthEnable.
var mutationTests = []struct {
	name  string
	setup []op
	enab  bool // enable auth after setup
	do    op
	err   error
	bump  bool
}{
	{"user add", nil, false, userAdd("a"), nil, true},
	{"user add empty", nil, false, userAdd(""), ErrUserEmpty, false},
	{"user add twice", []op{userAdd("a")}, false, userAdd("a"), ErrUserAlreadyExist, false},
	{"user delete", []op{userAdd("a")}, false, userDel("a"), nil, true},
	{"user delete missing", nil, false, userDel("a"), ErrUserNotFound, false},
	{"user delete root enabled", nil, true, userDel("root"), ErrInvalidAuthMgmt, false},
	{"user delete root disabled", nil, false, userDel("root"), nil, true},
	{"password", []op{userAdd("a")}, false, passwd("a", "x"), nil, true},
	{"password same", []op{userAdd("a")}, false, passwd("a", "pw-a"), nil, true},
	{"password missing", nil, false, passwd("a", "x"), ErrUserNotFound, false},
	{"grant role", []op{userAdd("a")}, false, grantRole("a", "r"), nil, true},
	{"grant root role not added", []op{userAdd("a")}, false, grantRole("a", "root"), nil, true},
	{"grant role held", []op{userAdd("a"), grantRole("a", "r")}, false, grantRole("a", "r"), nil, false},
	{"grant role missing role", []op{userAdd("a")}, false, grantRole("a", "x"), ErrRoleNotFound, false},
	{"grant role missing user", nil, false, grantRole("a", "r"), ErrUserNotFound, false},
	{"revoke role", []op{userAdd("a"), grantRole("a", "r")}, false, revokeRole("a", "r"), nil, true},
	{"revoke role not held", []op{userAdd("a")}, false, revokeRole("a", "r"), ErrRoleNotGranted, false},
	{"revoke role missing user", nil, false, revokeRole("a", "r"), ErrUserNotFound, false},
	{"revoke root root enabled", nil, true, revokeRole("root", "root"), ErrInvalidAuthMgmt, false},
	{"revoke root root disabled", nil, false, revokeRole("root", "root"), nil, true},
	{"role add", nil, false, roleAdd("x"), nil, true},
	{"role add empty", nil, false, roleAdd(""), ErrRoleEmpty, false},
	{"role add twice", nil, false, roleAdd("r"), ErrRoleAlreadyExist, false},
	{"role delete", []op{userAdd("a"), grantRole("a", "r")}, false, roleDel("r"), nil, true},
	{"role delete missing", nil, false, roleDel("x"), ErrRoleNotFound, false},
	{"role delete root enabled", []op{roleAdd("root")}, true, roleDel("root"), ErrInvalidAuthMgmt, false},
	{"grant perm", nil, false, grantPerm("r", Read, "a", ""), nil, true},
	{"grant perm change type", []op{grantPerm("r", Read, "a", "")}, false, grantPerm("r", Write, "a", ""), nil, true},
	{"grant perm identical", []op{grantPerm("r", Read, "a", "")}, false, grantPerm("r", Read, "a", ""), nil, false},
	{"grant perm other end", []op{grantPerm("r", Read, "a", "")}, false, grantPerm("r", Read, "a", "b"), nil, true},
	{"grant perm open", nil, false, grantPerm("r", Read, "a", "\x00"), nil, true},
	{"grant perm missing role", nil, false, grantPerm("x", Read, "a", ""), ErrRoleNotFound, false},
	{"grant perm empty key", nil, false, grantPerm("r", Read, "", ""), ErrInvalidAuthMgmt, false},
	{"grant perm end before key", nil, false, grantPerm("r", Read, "b", "a"), ErrInvalidAuthMgmt, false},
	{"grant perm end equals key", nil, false, grantPerm("r", Read, "b", "b"), ErrInvalidAuthMgmt, false},
	{"grant perm bad type", nil, false, grantPerm("r", 3, "a", ""), ErrInvalidAuthMgmt, false},
	{"revoke perm", []op{grantPerm("r", Read, "a", "b")}, false, revokePerm("r", "a", "b"), nil, true},
	{"revoke perm other end", []op{grantPerm("r", Read, "a", "b")}, false, revokePerm("r", "a", "c"), ErrPermissionNotGranted, false},
	{"revoke perm missing role", nil, false, revokePerm("x", "a", ""), ErrRoleNotFound, false},
	{"enable", nil, false, enable, nil, false},
	{"enable twice", nil, true, enable, nil, false},
	{"enable no root", []op{userDel("root")}, false, enable, ErrRootUserNotExist, false},
	{"enable root lacks role", []op{revokeRole("root", "root")}, false, enable, ErrRootRoleNotExist, false},
	{"disable", nil, true, disable, nil, true},
	{"disable twice", nil, false, disable, nil, false},
}

func TestMutations(t *testing.T) {
	for _, tt := range mutationTests {
		t.Run(tt.name, func(t *testing.T) {
			m, s := backend.NewMem(), New()
			run(t, s, m, rootSetup...)
			run(t, s, m, tt.setup...)
			if tt.enab {
				run(t, s, m, enable)
			}
			rev, sums, enabled := s.Revision(), bucketSums(m), s.Enabled()
			err := tt.do(s, m)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			want := rev
			if tt.bump {
				want++
			}
			if got := s.Revision(); got != want {
				t.Errorf("revision %d -> %d, want %d", rev, got, want)
			}
			if stored, _ := readRevision(m); stored != s.Revision() && stored != 0 {
				t.Errorf("stored revision %d, memory %d", stored, s.Revision())
			}
			if err != nil && (bucketSums(m) != sums || s.Enabled() != enabled) {
				t.Errorf("a failed mutation changed the store")
			}
			if s.CacheHash() != s.RebuiltCacheHash(m) {
				t.Errorf("cache hash %x, rebuilt %x", s.CacheHash(), s.RebuiltCacheHash(m))
			}
		})
	}
}

// A no-op success must write nothing: a re-applied entry must not change
// the backend either (#11651).
func TestNoOpWritesNothing(t *testing.T) {
	for _, o := range []op{enable, grantRole("root", "root"), grantPerm("r", Read, "k", "")} {
		m, s := backend.NewMem(), New()
		run(t, s, m, rootSetup...)
		run(t, s, m, grantPerm("r", Read, "k", ""), enable)
		sums := bucketSums(m)
		run(t, s, m, o)
		if bucketSums(m) != sums {
			t.Errorf("no-op changed the buckets")
		}
	}
}

func TestGrantIdenticalPermission(t *testing.T) {
	for _, old := range []bool{false, true} {
		m, s := backend.NewMem(), NewWithOptions(Options{OldGrantBumps: old})
		run(t, s, m, roleAdd("r"), grantPerm("r", ReadWrite, "a", "b"))
		rev := s.Revision()
		run(t, s, m, grantPerm("r", ReadWrite, "a", "b"))
		want := rev
		if old {
			want++ // pre-PR 11652: the identical grant bumps
		}
		if s.Revision() != want {
			t.Errorf("OldGrantBumps=%v: revision %d -> %d, want %d", old, rev, s.Revision(), want)
		}
	}
}

func TestRevisionStartsAtOne(t *testing.T) {
	m := backend.NewMem()
	if r := New().Revision(); r != 1 {
		t.Fatalf("New revision %d", r)
	}
	s, err := Restore(m, Options{})
	if err != nil || s.Revision() != 1 || s.Enabled() {
		t.Fatalf("Restore of empty backend: rev %d enabled %v err %v", s.Revision(), s.Enabled(), err)
	}
	run(t, s, m, userAdd("a"))
	if stored, _ := readRevision(m); stored != 2 {
		t.Fatalf("first mutation stored revision %d, want 2", stored)
	}
}

func TestRoleDeleteRevokesFromUsers(t *testing.T) {
	m, s := backend.NewMem(), New()
	run(t, s, m, roleAdd("r"), roleAdd("q"), userAdd("a"), userAdd("b"), userAdd("c"),
		grantRole("a", "r"), grantRole("a", "q"), grantRole("b", "r"), roleDel("r"))
	for _, name := range []string{"a", "b", "c"} {
		u, _ := getUser(m, name)
		for _, r := range u.roles {
			if r == "r" {
				t.Errorf("user %s still holds deleted role", name)
			}
		}
	}
	if u, _ := getUser(m, "a"); len(u.roles) != 1 || u.roles[0] != "q" {
		t.Errorf("user a roles %v, want [q]", u.roles)
	}
}

func TestCorruptRecords(t *testing.T) {
	tests := []struct{ bucket, key, value string }{
		{UsersBucket, "a", "\x05ab"},
		{UsersBucket, "a", "\x00\x01"},
		{UsersBucket, "a", "\x00\x00x"},
		{RolesBucket, "r", "\x01\x07\x00\x00"},
		{RolesBucket, "r", "\x01\x00\x05a"},
		{AuthBucket, RevisionKey, "\x01"},
	}
	for _, tt := range tests {
		m := backend.NewMem()
		m.Put(UsersBucket, []byte("u"), encodeUser(&user{roles: []string{"r"}}))
		m.Put(tt.bucket, []byte(tt.key), []byte(tt.value))
		if _, err := Restore(m, Options{}); !errors.Is(err, errBadRecord) {
			t.Errorf("%s/%q=%q: err = %v", tt.bucket, tt.key, tt.value, err)
		}
	}
}

func TestEncodingRoundTrip(t *testing.T) {
	u := &user{password: "p\x00w", roles: []string{"", "a", "root"}}
	got, err := decodeUser(encodeUser(u))
	if err != nil || got.password != u.password || len(got.roles) != 3 || got.roles[2] != "root" {
		t.Fatalf("user round trip: %+v %v", got, err)
	}
	r := &role{perms: []Permission{{Read, []byte("a"), nil}, {ReadWrite, []byte("b"), []byte{0}}}}
	gr, err := decodeRole(encodeRole(r))
	if err != nil || len(gr.perms) != 2 || gr.perms[1].Type != ReadWrite || string(gr.perms[1].End) != "\x00" {
		t.Fatalf("role round trip: %+v %v", gr, err)
	}
}
