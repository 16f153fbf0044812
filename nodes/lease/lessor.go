package lease

import (
	"bytes"
	"errors"
	"slices"
	"time"

	"github.com/google/btree"

	"github.com/etcdsim/etcdsim/nodes/backend"
)

// Limits of etcd's lessor.
const (
	// MinTTL is the least TTL of a lease, in seconds: etcd's minLeaseTTL,
	// ceil(1.5 election timeouts), 2 s with the default 1 s timeout.
	MinTTL int64 = 2
	// MaxTTL is etcd's MaxLeaseTTL, in seconds.
	MaxTTL int64 = 9_000_000_000
	// RetryInterval is how long a lease that Expired returned waits before
	// Expired returns it again (etcd's expiredLeaseRetryInterval).
	RetryInterval = 3 * time.Second
)

// Errors of the lessor; the messages are etcd's.
var (
	ErrLeaseNotFound    = errors.New("lease: lease not found")
	ErrLeaseExists      = errors.New("lease: lease already exists")
	ErrLeaseTTLTooLarge = errors.New("lease: too large lease TTL")
	ErrNotPrimary       = errors.New("lease: not a primary lessor")
	// ErrLeaseExpired: a keep-alive of a lease past its expiry. etcd's
	// Renew blocks until the revoke applies (then ErrLeaseNotFound) or
	// the lessor is demoted (ErrNotPrimary); a simulated member cannot
	// block, so it gets this and decides.
	ErrLeaseExpired = errors.New("lease: lease expired")
)

// lease is one lease. The keys map holds each attached key's hash term.
type lease struct {
	id, ttl   int64 // ttl in seconds
	remaining int64 // checkpointed remaining TTL in seconds; 0 = unset
	keys      map[string]uint64
	// While the lessor is primary: expiry is when the lease expires, and
	// queued its place in Lessor.expiries (etcd's expiry notifier), which
	// a lease that Expired returned leaves for RetryInterval.
	expiry, queued time.Duration
}

// fullTTL is the TTL a refresh starts from (etcd's getRemainingTTL).
func (l *lease) fullTTL() time.Duration {
	if l.remaining > 0 {
		return time.Duration(l.remaining) * time.Second
	}
	return time.Duration(l.ttl) * time.Second
}

// expiryItem orders the expiry queue by time, then ID.
type expiryItem struct {
	at time.Duration
	id int64
}

func lessExpiry(a, b expiryItem) bool {
	return a.at < b.at || (a.at == b.at && a.id < b.id)
}

// Lessor is etcd's lessor over the lease bucket of a backend: the leases,
// their attached keys, and, while this member believes it leads, their
// expiries on the simulated clock. Not safe for concurrent use.
type Lessor struct {
	// leases is looked up by ID; its iteration order never reaches a
	// result (hashes are sums, the schedule is a B-tree).
	leases   map[int64]*lease
	primary  bool
	expiries *btree.BTreeG[expiryItem]
	// pending holds leases granted while primary whose clock starts at
	// the next time the caller hands in (Grant is given no time).
	pending []int64
	sum     uint64
}

// New returns an empty lessor, not primary.
func New() *Lessor {
	return &Lessor{leases: map[int64]*lease{}, expiries: btree.NewG(8, lessExpiry)}
}

// Restore loads every lease of the bucket at startup, etcd's
// initAndRecover: negative IDs included (fix #13676 of #12535), TTLs raised
// to MinTTL, no keys (the member attaches them from the key bucket), not
// primary.
func Restore(tx backend.ReadTx) (*Lessor, error) {
	le := New()
	var err error
	tx.Range(Bucket, nil, nil, func(k, v []byte) bool {
		var l *lease
		if l, err = decodeLease(k, v); err != nil {
			return false
		}
		l.ttl = max(l.ttl, MinTTL)
		l.keys = map[string]uint64{}
		le.leases[l.id] = l
		le.sum += leaseHash(l)
		return true
	})
	if err != nil {
		return nil, err
	}
	return le, nil
}

// Grant creates a lease (etcd's lessor.Grant) with its TTL raised to
// MinTTL, and persists it. On a primary lessor its clock starts at the
// next time handed in.
func (le *Lessor) Grant(tx backend.Tx, id, ttl int64) error {
	switch {
	case id == 0: // etcd's NoLease
		return ErrLeaseNotFound
	case ttl > MaxTTL:
		return ErrLeaseTTLTooLarge
	case le.leases[id] != nil:
		return ErrLeaseExists
	}
	l := &lease{id: id, ttl: max(ttl, MinTTL), keys: map[string]uint64{}}
	le.leases[id] = l
	le.sum += leaseHash(l)
	persist(tx, l)
	if le.primary {
		le.pending = append(le.pending, id)
	}
	return nil
}

// Revoke deletes a lease from the bucket and returns its keys, sorted,
// which the caller deletes from the key space in the same transaction
// (etcd's lessor.Revoke through its RangeDeleter).
func (le *Lessor) Revoke(tx backend.Tx, id int64) ([][]byte, error) {
	l := le.leases[id]
	if l == nil {
		return nil, ErrLeaseNotFound
	}
	keys := l.sortedKeys()
	for _, h := range l.keys {
		le.sum -= h
	}
	le.sum -= leaseHash(l)
	le.unschedule(l)
	delete(le.leases, id)
	tx.Delete(Bucket, idKey(id))
	return keys, nil
}

// Checkpoint records a lease's remaining TTL and persists it, as etcd
// 3.6 does (lease checkpoints #9924; persisted since #13508). An unknown
// lease is ignored, as in etcd.
func (le *Lessor) Checkpoint(tx backend.Tx, id, remaining int64) error {
	l := le.leases[id]
	if l == nil {
		return nil
	}
	le.sum -= leaseHash(l)
	l.remaining = remaining
	le.sum += leaseHash(l)
	persist(tx, l)
	return nil
}

// Attach attaches key to a lease: a put with the lease.
func (le *Lessor) Attach(id int64, key []byte) error {
	l := le.leases[id]
	if l == nil {
		return ErrLeaseNotFound
	}
	if _, ok := l.keys[string(key)]; ok {
		return nil
	}
	h := keyHash(id, key)
	l.keys[string(key)] = h
	le.sum += h
	return nil
}

// Detach detaches key from the lease it was attached to: a put without
// that lease, or a delete. An unknown lease or key is ignored.
func (le *Lessor) Detach(id int64, key []byte) {
	l := le.leases[id]
	if l == nil {
		return
	}
	if h, ok := l.keys[string(key)]; ok {
		delete(l.keys, string(key))
		le.sum -= h
	}
}

// Lookup reports whether the lease exists.
func (le *Lessor) Lookup(id int64) bool { return le.leases[id] != nil }

// Keys returns the keys attached to a lease, sorted.
func (le *Lessor) Keys(id int64) [][]byte {
	if l := le.leases[id]; l != nil {
		return l.sortedKeys()
	}
	return nil
}

// TTL returns a lease's TTL in seconds, and whether it exists.
func (le *Lessor) TTL(id int64) (int64, bool) {
	if l := le.leases[id]; l != nil {
		return l.ttl, true
	}
	return 0, false
}

// IDs returns the IDs of all leases, ascending.
func (le *Lessor) IDs() []int64 {
	ids := make([]int64, 0, len(le.leases))
	for id := range le.leases {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Hash returns an order-independent hash of the leases: IDs, TTLs,
// remaining TTLs and attached keys, not expiries (which only the primary
// has).
func (le *Lessor) Hash() uint64 { return le.sum }

func (l *lease) sortedKeys() [][]byte {
	if len(l.keys) == 0 {
		return nil
	}
	keys := make([][]byte, 0, len(l.keys))
	for k := range l.keys {
		keys = append(keys, []byte(k))
	}
	slices.SortFunc(keys, bytes.Compare)
	return keys
}

// Len returns the number of leases.
func (le *Lessor) Len() int { return len(le.leases) }
