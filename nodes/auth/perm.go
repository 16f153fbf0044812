package auth

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// PermType is the type of a permission, etcd's authpb.Permission_Type.
type PermType uint8

// The permission types, numbered as etcd's authpb.
const (
	Read PermType = iota
	Write
	ReadWrite
)

var permNames = [...]string{"read", "write", "readwrite"}

func (t PermType) String() string {
	if int(t) < len(permNames) {
		return permNames[t]
	}
	return fmt.Sprintf("perm(%d)", t)
}

// Permission grants a role access to keys, with etcd's range semantics: an
// empty End is the single key Key; End "\x00" is every key from Key on;
// otherwise the keys in [Key, End).
type Permission struct {
	Type     PermType
	Key, End []byte
}

// validRange is etcd's isValidPermissionRange: a non-empty key, and an end
// that is empty, "\x00", or after the key.
func validRange(key, end []byte) bool {
	return len(key) > 0 && (len(end) == 0 || openEnded(end) || bytes.Compare(key, end) < 0)
}

func openEnded(end []byte) bool { return len(end) == 1 && end[0] == 0 }

func comparePerm(a, b Permission) int {
	if c := bytes.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	return bytes.Compare(a.End, b.End)
}

// span is a key interval [begin, end); a nil end has no upper bound.
type span struct{ begin, end []byte }

// spanOf is the interval of a permission, as etcd inserts it into its
// interval trees: a single key k is [k, k+"\x00").
func spanOf(p *Permission) span {
	switch {
	case len(p.End) == 0:
		return span{p.Key, append(slices.Clip(p.Key), 0)}
	case openEnded(p.End):
		return span{p.Key, nil}
	}
	return span{p.Key, p.End}
}

// endLess orders ends with nil (unbounded) last.
func endLess(a, b []byte) bool {
	switch {
	case a == nil:
		return false
	case b == nil:
		return true
	}
	return bytes.Compare(a, b) < 0
}

// merge sorts spans and joins the ones that overlap or touch, so that a
// range is covered by the union exactly when one merged span covers it (the
// contiguity rule of etcd's IntervalTree.Contains).
func merge(ss []span) []span {
	if len(ss) == 0 {
		return nil
	}
	slices.SortFunc(ss, func(a, b span) int { return bytes.Compare(a.begin, b.begin) })
	out := ss[:1]
	for _, s := range ss[1:] {
		last := &out[len(out)-1]
		if last.end == nil || bytes.Compare(s.begin, last.end) <= 0 {
			if endLess(last.end, s.end) {
				last.end = s.end
			}
			continue
		}
		out = append(out, s)
	}
	return slices.Clip(out)
}

// covers reports whether the merged spans hold key (point) or all of
// [key, end) (a nil end: unbounded), etcd's checkKeyPoint and
// checkKeyInterval.
func covers(ss []span, key, end []byte, point bool) bool {
	i := sort.Search(len(ss), func(i int) bool { return bytes.Compare(ss[i].begin, key) > 0 }) - 1
	if i < 0 {
		return false
	}
	s := ss[i]
	if s.end != nil && bytes.Compare(key, s.end) >= 0 {
		return false
	}
	return point || s.end == nil || (end != nil && bytes.Compare(end, s.end) <= 0)
}

// unified is one user's entry of the permission cache, etcd's
// unifiedRangePermissions: the merged read and write ranges of its roles.
type unified struct {
	read, write []span
}

// permCache is etcd's rangePermCache (#13954's eagerly built cache): user
// name to merged permissions, with an order-independent hash.
type permCache struct {
	users map[string]*unified
	sum   uint64
}

// buildCache computes the permission cache from the backend, etcd's
// refreshRangePermCache and getMergedPerms. Roles that do not exist (a
// granted "root" that was never added) contribute nothing.
func buildCache(tx backend.ReadTx) (permCache, error) {
	c := permCache{users: make(map[string]*unified)}
	roles := make(map[string]*role) // decoded once per build
	var err error
	tx.Range(UsersBucket, nil, nil, func(k, v []byte) bool {
		var up *unified
		if up, _, err = userEntry(tx, k, v, roles); err != nil {
			return false
		}
		c.users[string(k)] = up
		c.sum += up.hash(k)
		return true
	})
	return c, err
}

// userEntry returns the cache entry of user k, whose record is v (its
// roles decoded once per build in roles), and the user.
func userEntry(tx backend.ReadTx, k, v []byte, roles map[string]*role) (*unified, *user, error) {
	u, err := decodeUser(v)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: user %q", err, k)
	}
	up, err := mergedPerms(tx, u, roles)
	return up, u, err
}

func mergedPerms(tx backend.ReadTx, u *user, roles map[string]*role) (*unified, error) {
	// The roles first, counting their spans, which are then made at their
	// size (appends grew them a few times for every user of every refresh).
	held := make([]*role, 0, 8)
	nr, nw := 0, 0
	for _, name := range u.roles {
		r, ok := roles[name]
		if !ok {
			var err error
			if r, err = getRole(tx, name); err != nil {
				return nil, err
			}
			roles[name] = r
		}
		if r == nil {
			continue
		}
		held = append(held, r)
		for i := range r.perms {
			if r.perms[i].Type != Write {
				nr++
			}
			if r.perms[i].Type != Read {
				nw++
			}
		}
	}
	rd, wr := make([]span, 0, nr), make([]span, 0, nw)
	for _, r := range held {
		for i := range r.perms {
			s := spanOf(&r.perms[i])
			if r.perms[i].Type != Write {
				rd = append(rd, s)
			}
			if r.perms[i].Type != Read {
				wr = append(wr, s)
			}
		}
	}
	return &unified{read: merge(rd), write: merge(wr)}, nil
}

// hash hashes the user's entry with its name; the cache hash is the sum
// over users, so it does not depend on their order.
func (up *unified) hash(name []byte) uint64 {
	var buf [128]byte // most entries fit: no allocation
	b := buf[:0]
	for _, ss := range [2][]span{up.read, up.write} {
		b = binary.AppendUvarint(b, uint64(len(ss)))
		for _, s := range ss {
			b = appendField(b, s.begin)
			if s.end == nil {
				b = append(b, 0)
				continue
			}
			b = appendField(append(b, 1), s.end)
		}
	}
	return backend.RecordHash("authPermCache", name, b)
}
