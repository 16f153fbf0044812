package auth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// Buckets and keys of etcd's auth schema (server/storage/schema).
const (
	// AuthBucket holds the enabled flag and the auth revision.
	AuthBucket = "auth"
	// UsersBucket maps a user name to its encoded user.
	UsersBucket = "authUsers"
	// RolesBucket maps a role name to its encoded role.
	RolesBucket = "authRoles"
	// EnabledKey holds 1 when auth is enabled, 0 when disabled.
	EnabledKey = "authEnabled"
	// RevisionKey holds the auth revision, 8 bytes big-endian.
	RevisionKey = "authRevision"
)

var errBadRecord = errors.New("auth: corrupt record")

// user is a record of the users bucket; its name is the key.
type user struct {
	password string
	roles    []string // sorted, as etcd keeps them
}

// role is a record of the roles bucket; its name is the key.
type role struct {
	perms []Permission // sorted by key, then end
}

func appendField(dst, p []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(p)))
	return append(dst, p...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// readField reads one uvarint-length-prefixed field; f aliases p.
func readField(p []byte) (f, rest []byte, err error) {
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, nil, errBadRecord
	}
	end := k + int(n)
	return p[k:end:end], p[end:], nil
}

func readCount(p []byte) (n int, rest []byte, err error) {
	v, k := binary.Uvarint(p)
	if k <= 0 || v > uint64(len(p)) {
		return 0, nil, errBadRecord
	}
	return int(v), p[k:], nil
}

// encodeUser: password field | role count | role fields.
func encodeUser(u *user) []byte {
	n := 2 + len(u.password)
	for _, r := range u.roles {
		n += 1 + len(r)
	}
	b := appendString(make([]byte, 0, n+4), u.password)
	b = binary.AppendUvarint(b, uint64(len(u.roles)))
	for _, r := range u.roles {
		b = appendString(b, r)
	}
	return b
}

func decodeUser(p []byte) (*user, error) {
	pw, p, err := readField(p)
	if err != nil {
		return nil, err
	}
	n, p, err := readCount(p)
	if err != nil {
		return nil, err
	}
	u := &user{password: string(pw), roles: make([]string, 0, n)}
	for range n {
		var r []byte
		if r, p, err = readField(p); err != nil {
			return nil, err
		}
		u.roles = append(u.roles, string(r))
	}
	if len(p) != 0 {
		return nil, errBadRecord
	}
	return u, nil
}

// encodeRole: permission count | (type byte | key field | end field)*.
func encodeRole(r *role) []byte {
	n := 2
	for i := range r.perms {
		n += 3 + len(r.perms[i].Key) + len(r.perms[i].End)
	}
	b := binary.AppendUvarint(make([]byte, 0, n+4), uint64(len(r.perms)))
	for i := range r.perms {
		b = append(b, byte(r.perms[i].Type))
		b = appendField(b, r.perms[i].Key)
		b = appendField(b, r.perms[i].End)
	}
	return b
}

// decodeRole decodes a role record; the permission bytes alias p, which
// the store keeps and never writes (nor does anything write them here:
// a changed role is encoded anew).
func decodeRole(p []byte) (*role, error) {
	n, p, err := readCount(p)
	if err != nil {
		return nil, err
	}
	r := &role{perms: make([]Permission, 0, n)}
	for range n {
		if len(p) == 0 || PermType(p[0]) > ReadWrite {
			return nil, errBadRecord
		}
		pm := Permission{Type: PermType(p[0])}
		var k, e []byte
		if k, p, err = readField(p[1:]); err != nil {
			return nil, err
		}
		if e, p, err = readField(p); err != nil {
			return nil, err
		}
		pm.Key, pm.End = k, e
		r.perms = append(r.perms, pm)
	}
	if len(p) != 0 {
		return nil, errBadRecord
	}
	return r, nil
}

func getUser(tx backend.ReadTx, name string) (*user, error) {
	v, ok := tx.Get(UsersBucket, []byte(name))
	if !ok {
		return nil, nil
	}
	u, err := decodeUser(v)
	if err != nil {
		return nil, fmt.Errorf("%w: user %q", err, name)
	}
	return u, nil
}

func getRole(tx backend.ReadTx, name string) (*role, error) {
	v, ok := tx.Get(RolesBucket, []byte(name))
	if !ok {
		return nil, nil
	}
	r, err := decodeRole(v)
	if err != nil {
		return nil, fmt.Errorf("%w: role %q", err, name)
	}
	return r, nil
}

// readEnabled and readRevision read the auth bucket (etcd's
// UnsafeReadAuthEnabled, UnsafeReadAuthRevision).
func readEnabled(tx backend.ReadTx) bool {
	v, ok := tx.Get(AuthBucket, []byte(EnabledKey))
	return ok && len(v) == 1 && v[0] == 1
}

func readRevision(tx backend.ReadTx) (uint64, error) {
	v, ok := tx.Get(AuthBucket, []byte(RevisionKey))
	if !ok {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: revision of %d bytes", errBadRecord, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

func hasRootRole(roles []string) bool {
	_, ok := slices.BinarySearch(roles, RootRole)
	return ok
}
