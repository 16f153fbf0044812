package auth

import (
	"bytes"
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

var (
	genUser = rapid.SampledFrom([]string{"root", "a", "b", "a", "b", ""})
	genRole = rapid.SampledFrom([]string{"root", "r", "q", "r", "q", ""})
	genKey  = rapid.SampledFrom([]string{"a", "b", "c", "d", "\x00"})
	genEnd  = rapid.SampledFrom([]string{"", "\x00", "b", "c", "e"})
	genType = rapid.SampledFrom([]PermType{Read, Write, ReadWrite})
)

// pair is two members that apply the same log to their own backends.
type pair struct {
	s      [2]*Store
	m      [2]*backend.Mem
	opts   Options
	nLogOk int
}

func (p *pair) apply(t *rapid.T, o op) {
	var errs [2]error
	for i := range p.s {
		errs[i] = o(p.s[i], p.m[i])
	}
	if !errors.Is(errs[0], errs[1]) && !errors.Is(errs[1], errs[0]) {
		t.Fatalf("members disagree: %v vs %v", errs[0], errs[1])
	}
}

func (p *pair) check(t *rapid.T) {
	a, b := p.s[0], p.s[1]
	if a.Revision() != b.Revision() || a.CacheHash() != b.CacheHash() || a.Enabled() != b.Enabled() {
		t.Fatalf("stores differ: rev %d/%d cache %x/%x", a.Revision(), b.Revision(), a.CacheHash(), b.CacheHash())
	}
	if bucketSums(p.m[0]) != bucketSums(p.m[1]) {
		t.Fatalf("auth buckets differ")
	}
	if a.CacheHash() != a.RebuiltCacheHash(p.m[0]) {
		t.Fatalf("cache differs from its rebuild")
	}
	r, err := Restore(p.m[0].Clone(), p.opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Revision() != a.Revision() || r.Enabled() != a.Enabled() || r.CacheHash() != a.CacheHash() {
		t.Fatalf("restore: rev %d/%d enabled %v/%v cache %x/%x",
			r.Revision(), a.Revision(), r.Enabled(), a.Enabled(), r.CacheHash(), a.CacheHash())
	}
	checkPoints(t, a, p.m[0])
}

// checkPoints compares the cache's answer for single keys with a direct
// reading of the user's roles, and checks that a permitted range holds
// only permitted keys.
func checkPoints(t *rapid.T, s *Store, tx backend.ReadTx) {
	for _, name := range []string{"a", "b"} {
		u, _ := getUser(tx, name)
		if u == nil || hasRootRole(u.roles) || !s.Enabled() {
			continue
		}
		for _, k := range []string{"a", "a\x00", "b", "bb", "c", "d", "z", "\x00"} {
			for _, write := range []bool{false, true} {
				want := modelPermits(tx, u, []byte(k), write)
				err := s.isOpPermitted(name, s.Revision(), []byte(k), nil, write)
				if (err == nil) != want {
					t.Fatalf("user %s key %q write=%v: err %v, model %v", name, k, write, err, want)
				}
			}
		}
		for _, rg := range [][2]string{{"a", "c"}, {"b", "\x00"}, {"a", "b"}, {"c", "e"}} {
			if s.IsRangePermitted(name, s.Revision(), []byte(rg[0]), []byte(rg[1])) != nil {
				continue
			}
			for _, k := range []string{"a", "a\x00", "b", "bz", "c", "d", "dz", "zz"} {
				in := k >= rg[0] && (rg[1] == "\x00" || k < rg[1])
				if in && !modelPermits(tx, u, []byte(k), false) {
					t.Fatalf("user %s range %q permitted but key %q is not", name, rg, k)
				}
			}
		}
	}
}

func modelPermits(tx backend.ReadTx, u *user, k []byte, write bool) bool {
	for _, rn := range u.roles {
		r, _ := getRole(tx, rn)
		if r == nil {
			continue
		}
		for _, p := range r.perms {
			if (write && p.Type == Read) || (!write && p.Type == Write) {
				continue
			}
			switch {
			case len(p.End) == 0 && bytes.Equal(k, p.Key),
				openEnded(p.End) && bytes.Compare(k, p.Key) >= 0,
				bytes.Compare(k, p.Key) >= 0 && bytes.Compare(k, p.End) < 0:
				return true
			}
		}
	}
	return false
}

// genOp draws a mutation; grants and enable are drawn more often than
// deletes so that runs reach enabled auth with non-root users.
func genOp(t *rapid.T) op {
	switch rapid.IntRange(0, 15).Draw(t, "op") {
	case 0:
		return userAdd(genUser.Draw(t, "user"))
	case 1:
		return userDel(genUser.Draw(t, "user"))
	case 2:
		return passwd(genUser.Draw(t, "user"), rapid.SampledFrom([]string{"x", "y"}).Draw(t, "pw"))
	case 3, 4:
		return grantRole(genUser.Draw(t, "user"), genRole.Draw(t, "role"))
	case 5:
		return revokeRole(genUser.Draw(t, "user"), genRole.Draw(t, "role"))
	case 6:
		return roleAdd(genRole.Draw(t, "role"))
	case 7:
		return roleDel(genRole.Draw(t, "role"))
	case 8, 9, 10, 11:
		return grantPerm(genRole.Draw(t, "role"), genType.Draw(t, "type"), genKey.Draw(t, "key"), genEnd.Draw(t, "end"))
	case 12:
		return revokePerm(genRole.Draw(t, "role"), genKey.Draw(t, "key"), genEnd.Draw(t, "end"))
	case 13, 14:
		return enable
	}
	return disable
}

func TestRapidTwoMembersAgree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts := Options{OldGrantBumps: rapid.Bool().Draw(t, "oldGrantBumps")}
		p := &pair{opts: opts}
		for i := range p.s {
			p.s[i], p.m[i] = NewWithOptions(opts), backend.NewMem()
		}
		if rapid.IntRange(0, 3).Draw(t, "bootstrap") > 0 {
			// Mostly start from root, users a in r and b in q, auth on.
			for _, o := range append(rootSetup, roleAdd("q"), userAdd("a"), userAdd("b"),
				grantRole("a", "r"), grantRole("b", "q"), enable) {
				p.apply(t, o)
			}
		}
		t.Repeat(map[string]func(*rapid.T){
			"op": func(t *rapid.T) { p.apply(t, genOp(t)) },
			"":   p.check,
		})
	})
}
