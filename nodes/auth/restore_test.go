package auth

import (
	"errors"
	"testing"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

func TestRestore(t *testing.T) {
	for _, stale := range []bool{false, true} {
		s, m := checkStore(t, true)
		r, err := Restore(m.Clone(), Options{NoCacheRefresh: stale})
		if err != nil {
			t.Fatal(err)
		}
		if r.Revision() != s.Revision() || !r.Enabled() {
			t.Fatalf("stale=%v: restored rev %d enabled %v, want %d true", stale, r.Revision(), r.Enabled(), s.Revision())
		}
		// Root and unknown users are decided from the backend, stale or not.
		if err := r.IsPutPermitted("root", r.Revision(), []byte("x")); err != nil {
			t.Errorf("stale=%v: root denied: %v", stale, err)
		}
		if err := r.IsPutPermitted("x", r.Revision(), []byte("k")); !errors.Is(err, ErrUserNotFound) {
			t.Errorf("stale=%v: unknown user: %v", stale, err)
		}
		err = r.IsPutPermitted("u", r.Revision(), []byte("k"))
		fresh := r.CacheHash() == r.RebuiltCacheHash(m)
		if !stale && (err != nil || !fresh || r.CacheHash() != s.CacheHash()) {
			t.Errorf("restore: u denied (%v) or cache hash differs", err)
		}
		if stale && (!errors.Is(err, ErrPermissionDenied) || fresh) {
			t.Errorf("restore without refresh (#14355): u permitted (%v) or cache hash equal", err)
		}
	}
}

// A stale cache is fixed by the next refreshing mutation, not by RoleAdd.
func TestStaleCacheRefreshPoints(t *testing.T) {
	_, m := checkStore(t, true)
	r, err := Restore(m, Options{NoCacheRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	run(t, r, m, roleAdd("other"))
	if r.CacheHash() == r.RebuiltCacheHash(m) {
		t.Fatal("RoleAdd refreshed the cache; etcd's does not")
	}
	run(t, r, m, userAdd("other"))
	if r.CacheHash() != r.RebuiltCacheHash(m) {
		t.Fatal("UserAdd did not refresh the cache")
	}
	if err := r.IsPutPermitted("u", r.Revision(), []byte("k")); err != nil {
		t.Fatalf("u still denied after refresh: %v", err)
	}
}

func TestRecover(t *testing.T) {
	for _, stale := range []bool{false, true} {
		// The member's own state: auth on, nobody but root.
		m, s := backend.NewMem(), NewWithOptions(Options{NoCacheRefresh: stale})
		run(t, s, m, rootSetup...)
		run(t, s, m, enable)
		// The snapshot it installs: u may write k.
		snap, sm := checkStore(t, true)
		s.Recover(sm)
		if s.Revision() != snap.Revision() || !s.Enabled() {
			t.Fatalf("stale=%v: recovered rev %d, want %d", stale, s.Revision(), snap.Revision())
		}
		err := s.IsPutPermitted("u", s.Revision(), []byte("k"))
		fresh := s.CacheHash() == s.RebuiltCacheHash(sm)
		if !stale && (err != nil || !fresh) {
			t.Errorf("recover: u denied (%v) or cache stale", err)
		}
		if stale && (err == nil || fresh) {
			t.Errorf("recover without refresh (#14571): u permitted or cache fresh")
		}
	}
}

func TestRecoverDisables(t *testing.T) {
	s, _ := checkStore(t, true)
	m, off := backend.NewMem(), New()
	run(t, off, m, userAdd("a"))
	s.Recover(m)
	if s.Enabled() || s.Revision() != off.Revision() {
		t.Fatalf("recovered enabled=%v rev %d", s.Enabled(), s.Revision())
	}
	if err := s.IsPutPermitted("a", 0, []byte("k")); err != nil {
		t.Fatalf("auth disabled after recover, yet: %v", err)
	}
}
