package auth

import (
	"bytes"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// userMemo is what a refresh of the permission cache made of one user's
// entry, with what it read to make it: the user's record past its
// password (its roles) and the record of each of those roles. An entry
// depends on nothing else, so a later refresh that reads the same bytes
// makes the same entry, and takes this one instead (see rebuild).
type userMemo struct {
	roles []byte   // the user's record past its password
	names [][]byte // the names of its roles, in its order
	recs  [][]byte // their records
	had   []bool   // whether each role existed
	up    *unified
	sum   uint64 // up.hash of the user's name
	build uint64 // the last rebuild that took it
}

// rolesPart returns a user record past its password field.
func rolesPart(v []byte) ([]byte, bool) {
	_, rest, err := readField(v)
	return rest, err == nil
}

// fresh reports whether the user's record v and the role records tx
// holds are those m was made from.
func (m *userMemo) fresh(tx backend.ReadTx, v []byte) bool {
	roles, ok := rolesPart(v)
	if !ok || !bytes.Equal(roles, m.roles) {
		return false
	}
	for i, name := range m.names {
		rec, ok := tx.Get(RolesBucket, name)
		if ok != m.had[i] || !bytes.Equal(rec, m.recs[i]) {
			return false
		}
	}
	return true
}

// rebuild is buildCache, taking each user's entry from the store's memo
// when the records it was made from are unchanged: etcd rebuilds the whole
// cache at each refresh (refreshRangePermCache), and the rebuilt cache is
// the same, entry for entry; what differs is only that an unchanged user's
// merged permissions are not merged again. The memo forgets users that
// are gone.
func (s *Store) rebuild(tx backend.ReadTx) (permCache, error) {
	if s.memo == nil {
		s.memo = make(map[string]*userMemo)
	}
	s.builds++
	c := permCache{users: make(map[string]*unified)}
	roles := make(map[string]*role) // decoded once per build
	var err error
	tx.Range(UsersBucket, nil, nil, func(k, v []byte) bool {
		m := s.memo[string(k)]
		if m == nil || !m.fresh(tx, v) {
			if m, err = newUserMemo(tx, k, v, roles); err != nil {
				return false
			}
			s.memo[string(k)] = m
		}
		m.build = s.builds
		c.users[string(k)] = m.up
		c.sum += m.sum
		return true
	})
	for name, m := range s.memo {
		if m.build != s.builds {
			delete(s.memo, name)
		}
	}
	return c, err
}

// newUserMemo makes the cache entry of user k, whose record is v, as
// buildCache does, and remembers what it read.
func newUserMemo(tx backend.ReadTx, k, v []byte, roles map[string]*role) (*userMemo, error) {
	up, u, err := userEntry(tx, k, v, roles)
	if err != nil {
		return nil, err
	}
	m := &userMemo{up: up, sum: up.hash(k), names: make([][]byte, len(u.roles)), recs: make([][]byte, len(u.roles)), had: make([]bool, len(u.roles))}
	m.roles, _ = rolesPart(v)
	for i, name := range u.roles {
		m.names[i] = []byte(name)
		m.recs[i], m.had[i] = tx.Get(RolesBucket, m.names[i])
	}
	return m, nil
}
