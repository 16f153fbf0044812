package auth

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// DescribeRecord says what a record of an auth bucket holds: "user alice
// (roles r1,r2)", "role r (read [a, b), write k)", "auth revision 12",
// "auth enabled". Anything it cannot decode is printed raw.
func DescribeRecord(bucket string, key, value []byte) string {
	switch bucket {
	case UsersBucket:
		if u, err := decodeUser(value); err == nil {
			return fmt.Sprintf("user %s (roles %s)", key, strings.Join(u.roles, ","))
		}
	case RolesBucket:
		if r, err := decodeRole(value); err == nil {
			perms := make([]string, len(r.perms))
			for i, p := range r.perms {
				perms[i] = p.String()
			}
			return fmt.Sprintf("role %s (%s)", key, strings.Join(perms, ", "))
		}
	case AuthBucket:
		switch {
		case string(key) == RevisionKey && len(value) == 8:
			return fmt.Sprintf("auth revision %d", binary.BigEndian.Uint64(value))
		case string(key) == EnabledKey && len(value) == 1:
			return map[bool]string{true: "auth enabled", false: "auth disabled"}[value[0] == 1]
		}
	}
	return fmt.Sprintf("%s %q = %x", bucket, key, value)
}

// String prints a permission: its type and key or range.
func (p Permission) String() string {
	what := map[PermType]string{Read: "read", Write: "write", ReadWrite: "readwrite"}[p.Type]
	if len(p.End) == 0 {
		return fmt.Sprintf("%s %q", what, p.Key)
	}
	return fmt.Sprintf("%s [%q, %q)", what, p.Key, p.End)
}

// CacheDiff names the first user, in name order, whose permissions in the
// cache differ from those a rebuild of the cache from tx gives ("user
// alice: the cache has read ["a", "c"), a rebuild has none"); "" when the
// cache is what tx gives.
func (s *Store) CacheDiff(tx backend.ReadTx) string {
	want, err := buildCache(tx)
	if err != nil {
		return fmt.Sprintf("auth: %v", err)
	}
	names := make([]string, 0, len(s.cache.users)+len(want.users))
	for n := range s.cache.users {
		names = append(names, n)
	}
	for n := range want.users {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range slices.Compact(names) {
		got, exp := s.cache.users[n].String(), want.users[n].String()
		if got != exp {
			return fmt.Sprintf("user %s: the cache has %s, a rebuild has %s", n, got, exp)
		}
	}
	return ""
}

// String prints a user's merged permissions: "read ["a", "c") write "k"",
// "none", or "no entry" for a user the cache does not hold.
func (up *unified) String() string {
	if up == nil {
		return "no entry"
	}
	if len(up.read) == 0 && len(up.write) == 0 {
		return "none"
	}
	var parts []string
	for _, side := range []struct {
		what  string
		spans []span
	}{{"read", up.read}, {"write", up.write}} {
		for _, sp := range side.spans {
			parts = append(parts, side.what+" "+sp.String())
		}
	}
	return strings.Join(parts, " ")
}

// String prints a span: a single key, [begin, end), or [begin, ∞).
func (sp span) String() string {
	switch {
	case sp.end == nil:
		return fmt.Sprintf("[%q, ∞)", sp.begin)
	case len(sp.end) == len(sp.begin)+1 && sp.end[len(sp.end)-1] == 0 && string(sp.end[:len(sp.begin)]) == string(sp.begin):
		return fmt.Sprintf("%q", sp.begin)
	}
	return fmt.Sprintf("[%q, %q)", sp.begin, sp.end)
}
