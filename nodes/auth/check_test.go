package auth

import (
	"errors"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// checkStore: root; user "u" with role "r" (read-write on key "k");
// user "n" without roles; auth enabled unless disabled.
func checkStore(t *testing.T, enabled bool) (*Store, *backend.Mem) {
	m, s := backend.NewMem(), New()
	run(t, s, m, rootSetup...)
	run(t, s, m, userAdd("u"), grantRole("u", "r"), userAdd("n"), grantPerm("r", ReadWrite, "k", ""))
	if enabled {
		run(t, s, m, enable)
	}
	return s, m
}

func TestCheckOrder(t *testing.T) {
	on, _ := checkStore(t, true)
	off, _ := checkStore(t, false)
	cur := on.Revision()
	tests := []struct {
		name string
		s    *Store
		user string
		rev  uint64
		key  string
		err  error
	}{
		{"disabled permits all", off, "", 0, "x", nil},
		{"rev 0 before anything", on, "root", 0, "k", ErrUserEmpty},
		{"old revision before user", on, "nobody", cur - 1, "k", ErrAuthOldRevision},
		{"old revision root", on, "root", cur - 1, "k", ErrAuthOldRevision},
		{"unknown user", on, "nobody", cur, "k", ErrUserNotFound},
		{"unknown user is denied", on, "nobody", cur, "k", ErrPermissionDenied},
		{"root permits all", on, "root", cur, "x", nil},
		{"newer revision ok", on, "root", cur + 5, "x", nil},
		{"cache permits", on, "u", cur, "k", nil},
		{"cache denies", on, "u", cur, "x", ErrPermissionDenied},
		{"no roles", on, "n", cur, "k", ErrPermissionDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := []error{
				tt.s.IsPutPermitted(tt.user, tt.rev, []byte(tt.key)),
				tt.s.IsRangePermitted(tt.user, tt.rev, []byte(tt.key), nil),
				tt.s.IsDeleteRangePermitted(tt.user, tt.rev, []byte(tt.key), nil),
			}
			for i, err := range errs {
				if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
					t.Errorf("%s: err = %v, want %v", [...]string{"put", "range", "delete"}[i], err, tt.err)
				}
			}
		})
	}
}

func TestPermissionRanges(t *testing.T) {
	type check struct {
		write    bool
		key, end string
		ok       bool
	}
	tests := []struct {
		name   string
		perms  []Permission
		checks []check
	}{
		{"single key", []Permission{{ReadWrite, []byte("k"), nil}}, []check{
			{false, "k", "", true}, {true, "k", "", true}, {false, "k\x00", "", false},
			{false, "j", "", false}, {false, "k", "k\x00", true}, {false, "k", "l", false},
		}},
		{"range", []Permission{{Read, []byte("b"), []byte("d")}}, []check{
			{false, "b", "", true}, {false, "c", "", true}, {false, "czz", "", true},
			{false, "d", "", false}, {false, "a", "", false}, {false, "b", "d", true},
			{false, "b", "d\x00", false}, {false, "a", "c", false}, {false, "c", "\x00", false},
			{true, "b", "", false},
		}},
		{"from key", []Permission{{Write, []byte("m"), []byte{0}}}, []check{
			{true, "m", "", true}, {true, "zzz", "", true}, {true, "m", "\x00", true},
			{true, "l", "\x00", false}, {true, "m", "\xff\xff", true}, {false, "m", "", false},
		}},
		{"all keys", []Permission{{ReadWrite, []byte{0}, []byte{0}}}, []check{
			{false, "\x00", "\x00", true}, {true, "a", "", true}, {true, "\x00", "", true},
		}},
		{"adjacent ranges merge", []Permission{{Read, []byte("a"), []byte("c")}, {Read, []byte("c"), []byte("e")}}, []check{
			{false, "a", "e", true}, {false, "b", "d", true}, {false, "a", "e\x00", false},
		}},
		{"gap does not merge", []Permission{{Read, []byte("a"), []byte("c")}, {Read, []byte("d"), []byte("e")}}, []check{
			{false, "a", "e", false}, {false, "c", "", false}, {false, "d", "", true},
		}},
		{"point joins range", []Permission{{Read, []byte("a"), []byte("b")}, {Read, []byte("b"), nil}}, []check{
			{false, "a", "b\x00", true}, {false, "b", "", true}, {false, "b\x00", "", false},
		}},
		{"types split", []Permission{{Read, []byte("r"), nil}, {Write, []byte("w"), nil}}, []check{
			{false, "r", "", true}, {true, "r", "", false}, {true, "w", "", true}, {false, "w", "", false},
		}},
		{"overlap keeps larger end", []Permission{{Read, []byte("a"), []byte("z")}, {Read, []byte("b"), []byte("c")}}, []check{
			{false, "a", "y", true}, {false, "c", "z", true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, s := backend.NewMem(), New()
			run(t, s, m, rootSetup...)
			run(t, s, m, userAdd("u"), grantRole("u", "r"), roleAdd("r2"), grantRole("u", "r2"))
			for i, p := range tt.perms { // alternate roles: merging spans roles
				if err := s.RoleGrantPermission(m, []string{"r", "r2"}[i%2], p); err != nil {
					t.Fatal(err)
				}
			}
			run(t, s, m, enable)
			for _, c := range tt.checks {
				var err error
				switch {
				case c.write && c.end == "":
					err = s.IsPutPermitted("u", s.Revision(), []byte(c.key))
				case c.write:
					err = s.IsDeleteRangePermitted("u", s.Revision(), []byte(c.key), []byte(c.end))
				default:
					err = s.IsRangePermitted("u", s.Revision(), []byte(c.key), []byte(c.end))
				}
				if (err == nil) != c.ok {
					t.Errorf("write=%v [%q, %q): err = %v, want ok=%v", c.write, c.key, c.end, err, c.ok)
				}
			}
		})
	}
}

func TestAdminAndPassword(t *testing.T) {
	on, m := checkStore(t, true)
	off, mOff := checkStore(t, false)
	admin := []struct {
		s    *Store
		user string
		err  error
	}{
		{off, "", nil}, {on, "", ErrUserEmpty}, {on, "x", ErrUserNotFound},
		{on, "u", ErrPermissionDenied}, {on, "root", nil},
	}
	for _, tt := range admin {
		if err := tt.s.IsAdminPermitted(tt.user); !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("admin %q: err = %v, want %v", tt.user, err, tt.err)
		}
	}
	pw := []struct {
		s        *Store
		tx       backend.ReadTx
		user, pw string
		err      error
	}{
		{off, mOff, "u", "pw-u", ErrAuthNotEnabled}, {on, m, "u", "pw-u", nil},
		{on, m, "u", "bad", ErrAuthFailed}, {on, m, "x", "pw-x", ErrAuthFailed},
	}
	for _, tt := range pw {
		if err := tt.s.CheckPassword(tt.tx, tt.user, tt.pw); !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("password %q/%q: err = %v, want %v", tt.user, tt.pw, err, tt.err)
		}
	}
}

// The cache changes only at its refresh points, and each rebuilds it from
// the backend.
func TestCacheFollowsMutations(t *testing.T) {
	s, m := checkStore(t, true)
	permitted := func() bool { return s.IsPutPermitted("u", s.Revision(), []byte("k")) == nil }
	steps := []struct {
		name string
		do   op
		ok   bool
	}{
		{"revoke perm", revokePerm("r", "k", ""), false},
		{"grant perm", grantPerm("r", Write, "k", ""), true},
		{"revoke role", revokeRole("u", "r"), false},
		{"grant role", grantRole("u", "r"), true},
		{"delete role", roleDel("r"), false},
		{"grant root", grantRole("u", "root"), true},
		{"delete user", userDel("u"), false},
	}
	for _, st := range steps {
		run(t, s, m, st.do)
		if permitted() != st.ok {
			t.Errorf("after %s: permitted = %v, want %v", st.name, !st.ok, st.ok)
		}
		if s.CacheHash() != s.RebuiltCacheHash(m) {
			t.Errorf("after %s: cache differs from its rebuild", st.name)
		}
	}
}
