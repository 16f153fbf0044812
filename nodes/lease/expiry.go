package lease

import (
	"slices"
	"time"
)

// Expiry is evaluated only by the member that believes it leads, on its own
// simulated clock: every time is handed in by the caller, never read.

// Promote makes the lessor primary on becoming leader: every lease expires
// its TTL (or checkpointed remaining TTL) after now. etcd's Promote(extend)
// adds the election timeout; pass now+extend for that. etcd's spreading of
// piled-up expiries (1000 leases or more) is not modelled.
func (le *Lessor) Promote(now time.Duration) {
	le.primary = true
	le.pending = le.pending[:0]
	le.expiries.Clear(false)
	for _, l := range le.leases { // inserts commute: order does not matter
		le.schedule(l, now+l.fullTTL())
	}
}

// Demote forgets every expiry on losing leadership (etcd sets them to
// forever).
func (le *Lessor) Demote() {
	le.primary = false
	le.pending = le.pending[:0]
	le.expiries.Clear(false)
}

// Primary reports whether the lessor is primary.
func (le *Lessor) Primary() bool { return le.primary }

// Renew is a keep-alive at the primary (etcd's lessor.Renew): the lease
// then expires its TTL after now, which Renew returns. A lease past its
// expiry is not renewed (ErrLeaseExpired): etcd lets its revoke run.
func (le *Lessor) Renew(id int64, now time.Duration) (int64, error) {
	if !le.primary {
		return -1, ErrNotPrimary
	}
	le.settle(now)
	l := le.leases[id]
	if l == nil {
		return -1, ErrLeaseNotFound
	}
	if l.expiry <= now {
		return -1, ErrLeaseExpired
	}
	// etcd first clears a checkpointed remaining TTL through raft; the
	// refresh then uses the full TTL.
	le.schedule(l, now+time.Duration(l.ttl)*time.Second)
	return l.ttl, nil
}

// Expired returns the leases whose expiry is at or before now, ascending by
// ID: at most limit of them (limit <= 0: all), the earliest expiries first,
// as etcd's revokeExpiredLeases takes them from its expiry heap in
// rate-limited batches. Each one returned is not returned again for
// RetryInterval, unless it is renewed or the lessor promoted again (etcd's
// expireExists re-queues it so). A lessor that is not primary returns nil.
func (le *Lessor) Expired(now time.Duration, limit int) []int64 {
	if !le.primary {
		return nil
	}
	le.settle(now)
	var out []int64
	le.expiries.Ascend(func(it expiryItem) bool {
		if it.at > now || (limit > 0 && len(out) == limit) {
			return false
		}
		out = append(out, it.id)
		return true
	})
	for _, id := range out {
		le.requeue(le.leases[id], now+RetryInterval)
	}
	slices.Sort(out)
	return out
}

// settle starts the clock of leases granted while primary.
func (le *Lessor) settle(now time.Duration) {
	for _, id := range le.pending {
		if l := le.leases[id]; l != nil {
			le.schedule(l, now+l.fullTTL())
		}
	}
	le.pending = le.pending[:0]
}

// schedule sets a lease's expiry, replacing any earlier one.
func (le *Lessor) schedule(l *lease, at time.Duration) {
	l.expiry = at
	le.requeue(l, at)
}

// requeue moves a lease in the expiry queue without changing its expiry.
func (le *Lessor) requeue(l *lease, at time.Duration) {
	le.unschedule(l)
	l.queued = at
	le.expiries.ReplaceOrInsert(expiryItem{at, l.id})
}

func (le *Lessor) unschedule(l *lease) {
	le.expiries.Delete(expiryItem{l.queued, l.id})
}
