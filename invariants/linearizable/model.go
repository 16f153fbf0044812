package linearizable

import (
	"cmp"
	"math"
	"slices"

	"github.com/etcdsim/etcdsim/nodes/mvcc"
)

// unbounded is the upper end of a revision span that nothing bounds.
const unbounded = math.MaxInt64

// span is the set of revisions [lo, hi] a field may hold: one revision
// once known, an open span after an unknown write.
type span struct{ lo, hi int64 }

func exactly(rev int64) span      { return span{rev, rev} }
func (s span) has(rev int64) bool { return s.lo <= rev && rev <= s.hi }

// keyState is the state of one key: etcd's KeyValue without the key. Its
// zero value is a key that does not exist (etcd compares a missing key's
// fields as zero).
type keyState struct {
	live        bool
	value       string
	version     int64
	create, mod span
	lease       int64
	// rev is the highest revision a request on the key was served at so
	// far in this order: a write after it takes a higher one, a read is
	// served at it or above. This orders each key's requests by revision,
	// which ties the keys of a multi-key request to one revision.
	rev int64
}

// stateSet is the states a key may be in, sorted and without duplicates;
// more than one only after an unknown write whose branch is uncertain, or
// while a leased key may have expired.
type stateSet []keyState

// action is one op of a txn branch, projected onto a key.
type action struct {
	typ      mvcc.OpType
	value    string // put
	lease    int64  // put
	check    bool   // range: its result is in the request's output
	keysOnly bool   // range: the result has no value or lease
}

// keyInput is a request projected onto a key.
type keyInput struct {
	h         *hop
	part      int            // the index of its key's partition
	cmps      []mvcc.Compare // the compares on this key
	allCmps   bool           // the request has no compare on anything else
	then, els []action
	minRev    int64    // an unknown write takes a revision no lower
	gaps      *revGaps // and one that no done request took
	init      stateSet // a Prefix's operation: the key's states after it
	class     int      // > 0: an anonymous unknown write; those of a class have the same effect on the key
}

// keyOutput is what a request's outcome tells of a key.
type keyOutput struct {
	maybe     bool // unknown: may have happened, or not
	succeeded bool // the branch taken
	rev       int64
	noRev     bool           // rev is not known: a put takes some revision from minRev on
	read      bool           // the checked range's result is known: kv
	kv        *mvcc.KeyValue // the key's value in it (in the request's result), or nil: not found
	deleted   int64          // each delete of the branch deleted this key (1) or found nothing (0); -1 unknown
}

// step returns the states a key may be in after a request, from any of
// the states set; none if the request's output is impossible in all.
func step(set stateSet, in *keyInput, out *keyOutput) stateSet {
	if in.init != nil {
		return in.init
	}
	return stepInto(make(stateSet, 0, len(set)+1), set, in, out)
}

// stepInto is step (for a request that is not a Prefix's operation) into
// next, an empty set of capacity len(set)+1.
func stepInto(next, set stateSet, in *keyInput, out *keyOutput) stateSet {
	for _, s := range set {
		if s.lease != 0 {
			// A leased key may be deleted by the lease's expiry or
			// revocation at any time; no client request records that.
			next = stepOne(next, keyState{}, in, out)
		}
		next = stepOne(next, s, in, out)
	}
	if len(next) > 1 {
		slices.SortFunc(next, compareStates)
		next = slices.Compact(next)
	}
	return next
}

// stepOne appends to dst the states s may become under a request.
func stepOne(dst stateSet, s keyState, in *keyInput, out *keyOutput) stateSet {
	t := evalCompares(&s, in.cmps)
	if out.maybe {
		// It takes a branch its compares allow (compares on other keys
		// may fail whatever this key holds), or no effect: the same as
		// taking effect after every other request, or never, which
		// porcupine could reach by ordering it last. Keeping that branch
		// in the state set spares the search from backtracking over every
		// subset of the unknown writes it ordered early.
		dst = append(dst, s)
		if t&canTrue != 0 {
			dst = append(dst, applyMaybe(s, in.then, in))
		}
		if t&canFalse != 0 || !in.allCmps {
			dst = append(dst, applyMaybe(s, in.els, in))
		}
		return dst
	}
	acts := in.then
	switch {
	case out.succeeded && t&canTrue == 0:
		return dst
	case !out.succeeded && in.allCmps && t&canFalse == 0:
		return dst
	case !out.succeeded:
		acts = in.els
	}
	if n, ok := applyDone(s, acts, in, out); ok {
		dst = append(dst, n)
	}
	return dst
}

// applyDone runs a branch whose outcome is known: the request's revision
// is the store revision after it, which is the revision its puts took,
// and never below the mod revision of a live key.
func applyDone(s keyState, acts []action, in *keyInput, out *keyOutput) (keyState, bool) {
	if s.live && out.rev < s.mod.lo && !out.noRev {
		return s, false
	}
	if !out.noRev && in.h != nil {
		if took := in.h.tookRev || in.h.observed; out.rev < s.rev || took && out.rev == s.rev {
			return s, false
		}
		s.rev = out.rev
	}
	rev := exactly(out.rev)
	if out.noRev {
		rev = span{in.minRev, unbounded}
		if s.live {
			rev.lo = max(rev.lo, s.mod.lo+1)
		}
	}
	for _, a := range acts {
		switch a.typ {
		case mvcc.OpPut:
			if s.live && out.rev <= s.mod.lo && !out.noRev {
				return s, false
			}
			s = putVersion(s, a, rev)
		case mvcc.OpDeleteRange:
			if out.deleted > 1 || (out.deleted >= 0 && s.live != (out.deleted == 1)) {
				return s, false
			}
			s = keyState{}
		case mvcc.OpRange:
			if !a.check || !out.read {
				continue
			}
			var ok bool
			if s, ok = observe(s, a, out); !ok {
				return s, false
			}
		}
	}
	return s, true
}

// applyMaybe runs a branch of a request whose outcome is unknown: a put
// takes some revision gap from minRev on, above the key's mod revision;
// past the last gap, no done request can follow it on this key.
func applyMaybe(s keyState, acts []action, in *keyInput) keyState {
	for _, a := range acts {
		switch a.typ {
		case mvcc.OpPut:
			lo := in.minRev
			if s.live {
				lo = max(lo, s.mod.lo+1)
			}
			s = putVersion(s, a, span{in.gaps.next(lo), unbounded})
		case mvcc.OpDeleteRange:
			s = keyState{}
		}
	}
	return s
}

// putVersion writes a new version at revision rev, as etcd's storeTxnWrite.put.
func putVersion(s keyState, a action, rev span) keyState {
	if !s.live {
		s = keyState{live: true, create: rev}
	}
	s.value, s.lease, s.mod = a.value, a.lease, rev
	s.version++
	return s
}

// observe checks a range's result for the key against s, and narrows the
// revisions of s to what the result shows.
func observe(s keyState, a action, out *keyOutput) (keyState, bool) {
	kv := out.kv
	if kv == nil {
		return s, !s.live
	}
	mod, create, ver := kv.ModRevision, kv.CreateRevision, kv.Version // 0: not reported
	switch {
	case !s.live, ver != 0 && ver != s.version, mod != 0 && !s.mod.has(mod), create != 0 && !s.create.has(create),
		mod > out.rev && !out.noRev, create > mod && mod != 0, ver == 1 && create != mod && create != 0 && mod != 0:
		return s, false
	case !a.keysOnly && (string(kv.Value) != s.value || kv.Lease != s.lease):
		return s, false
	}
	if mod != 0 {
		s.mod = exactly(mod)
		if ver == 1 || s.version == 1 {
			s.create = exactly(mod)
		}
	}
	if create != 0 {
		s.create = exactly(create)
	}
	return s, true
}

func compareStates(a, b keyState) int {
	if a.live != b.live {
		if a.live {
			return 1
		}
		return -1
	}
	return cmp.Or(cmp.Compare(a.value, b.value), cmp.Compare(a.version, b.version),
		cmp.Compare(a.create.lo, b.create.lo), cmp.Compare(a.create.hi, b.create.hi),
		cmp.Compare(a.mod.lo, b.mod.lo), cmp.Compare(a.mod.hi, b.mod.hi), cmp.Compare(a.lease, b.lease), cmp.Compare(a.rev, b.rev))
}

// hashStates hashes a canonical state set (FNV-1a over its fields).
func hashStates(set stateSet) uint64 {
	h := uint64(14695981039346656037)
	mix := func(v uint64) { h = (h ^ v) * 1099511628211 }
	for i := range set {
		s := &set[i]
		if s.live {
			mix(1)
		}
		for j := 0; j < len(s.value); j++ {
			mix(uint64(s.value[j]))
		}
		mix(uint64(s.version))
		mix(uint64(s.create.lo))
		mix(uint64(s.mod.lo))
		mix(uint64(s.mod.hi))
		mix(uint64(s.lease))
		mix(uint64(s.rev))
	}
	return h
}
