package auth

import (
	"math/rand/v2"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// TestRefreshMemoMatchesRebuild runs thousands of random auth mutations
// and checks after each that the permission cache, which refresh makes
// from the memo, is the cache built afresh from the backend, entry for
// entry, snapshot installs from another history included.
func TestRefreshMemoMatchesRebuild(t *testing.T) {
	users := []string{"root", "a", "b", "c", "d"}
	roles := []string{"root", "r", "q", "p"}
	keys := []string{"a", "b", "c", "d", "\x00"}
	ends := []string{"", "\x00", "b", "c", "e"}
	for seed := range uint64(8) {
		r := rand.New(rand.NewPCG(seed, 11))
		pick := func(s []string) string { return s[r.IntN(len(s))] }
		// other takes other mutations; its state is now and then
		// installed into s as a snapshot (Recover), which leaves s's memo
		// from another history.
		s, m := NewWithOptions(Options{OldGrantBumps: seed%2 == 1}), backend.NewMem()
		other, om := NewWithOptions(Options{}), backend.NewMem()
		for _, o := range append(rootSetup, roleAdd("q"), userAdd("a"), userAdd("b"), grantRole("a", "r"), grantRole("b", "q"), enable) {
			_ = o(s, m)
			_ = o(other, om)
		}
		for step := range 2000 {
			if r.IntN(20) == 0 {
				m = om.Clone()
				s.Recover(m)
			}
			var o op
			switch r.IntN(14) {
			case 0:
				o = userAdd(pick(users))
			case 1:
				o = userDel(pick(users))
			case 2:
				o = passwd(pick(users), pick([]string{"x", "y"}))
			case 3, 4:
				o = grantRole(pick(users), pick(roles))
			case 5:
				o = revokeRole(pick(users), pick(roles))
			case 6:
				o = roleAdd(pick(roles))
			case 7:
				o = roleDel(pick(roles))
			case 8, 9, 10:
				o = grantPerm(pick(roles), PermType(r.IntN(3)), pick(keys), pick(ends))
			case 11:
				o = revokePerm(pick(roles), pick(keys), pick(ends))
			case 12:
				o = enable
			default:
				o = disable
			}
			if r.IntN(2) == 0 {
				_ = o(s, m)
			} else {
				_ = o(other, om)
				_ = grantRole(pick(users), pick(roles))(s, m)
			}
			want, err := buildCache(m)
			if err != nil {
				t.Fatal(err)
			}
			if s.cache.sum != want.sum || len(s.cache.users) != len(want.users) {
				t.Fatalf("seed %d step %d: cache sum %x of %d users, rebuilt %x of %d", seed, step, s.cache.sum, len(s.cache.users), want.sum, len(want.users))
			}
			for name, up := range want.users {
				if got := s.cache.users[name]; got == nil || got.String() != up.String() {
					t.Fatalf("seed %d step %d: user %s: cache %v, rebuilt %v", seed, step, name, got, up)
				}
			}
		}
	}
}
