package disk

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/etcdsim/etcdsim/prob"
)

// Faults says which disk faults are on and how often. The zero value is a
// perfect disk that still loses every unsynced byte at a crash. The fault
// atlas in doc.go says which faults lie inside what raft and etcd promise to
// survive and which lie outside.
type Faults struct {
	// In-model (a correct raft/etcd must survive these).

	// KeepUnsynced is the probability that, at a crash, each sector written
	// since its file's last Sync survives; otherwise it reverts to its
	// durable content, or to zeros or a shorter file beyond the durable size.
	KeepUnsynced prob.Ratio
	// TornWrite is the probability that, at a crash, the newest unsynced
	// write (the one in flight) is torn: with even odds a strict prefix of
	// its sectors persists (in order), or a strict subset of them (out of
	// order: a lost sector may come before a kept one, and keeps what was
	// there before). It is drawn independently of KeepUnsynced.
	TornWrite prob.Ratio
	// DirLoss is the probability that, at a crash, each create, rename or
	// remove not yet made durable by SyncDir is undone.
	DirLoss prob.Ratio

	// Out-of-model (off by default; the system must detect them, never
	// absorb them silently).

	// LyingSync is the probability that a Sync reports success but leaves
	// the data volatile.
	LyingSync prob.Ratio
	// BitFlip is the probability that, at a crash, each file's image gets
	// one flipped bit.
	BitFlip prob.Ratio
	// Misdirect is the probability that a write lands at a different
	// sector-aligned offset of the same file.
	Misdirect prob.Ratio
	// CapacityBytes, when positive, bounds the sum of file sizes: a write or
	// truncate that would pass it fails with ErrNoSpace.
	CapacityBytes int64
}

// faultKeys names the ratio fields of Faults in their printed order.
var faultKeys = []struct {
	key   string
	field func(*Faults) *prob.Ratio
}{
	{"keep_unsynced", func(f *Faults) *prob.Ratio { return &f.KeepUnsynced }},
	{"torn_write", func(f *Faults) *prob.Ratio { return &f.TornWrite }},
	{"dir_loss", func(f *Faults) *prob.Ratio { return &f.DirLoss }},
	{"lying_sync", func(f *Faults) *prob.Ratio { return &f.LyingSync }},
	{"bit_flip", func(f *Faults) *prob.Ratio { return &f.BitFlip }},
	{"misdirect", func(f *Faults) *prob.Ratio { return &f.Misdirect }},
}

const capacityKey = "capacity_bytes"

// OutOfModel reports whether any fault outside what raft and etcd promise to
// survive is on.
func (f Faults) OutOfModel() bool {
	return !f.LyingSync.Zero() || !f.BitFlip.Zero() || !f.Misdirect.Zero() || f.CapacityBytes > 0
}

// Validate reports a ratio above 1 or a negative capacity.
func (f Faults) Validate() error {
	for _, k := range faultKeys {
		r := *k.field(&f)
		if !r.Zero() && r.Num > r.Den {
			return fmt.Errorf("disk: %s=%d/%d is above 1", k.key, r.Num, r.Den)
		}
	}
	if f.CapacityBytes < 0 {
		return fmt.Errorf("disk: %s=%d is negative", capacityKey, f.CapacityBytes)
	}
	return nil
}

// String prints the faults that are on as "key=value" words in a fixed
// order, such as "keep_unsynced=1/2 torn_write=1/200", or "none". The sim
// prefixes each word with "disk."; ParseFaults reads the form back.
func (f Faults) String() string {
	var words []string
	for _, k := range faultKeys {
		if r := *k.field(&f); !r.Zero() {
			words = append(words, k.key+"="+r.String())
		}
	}
	if f.CapacityBytes > 0 {
		words = append(words, capacityKey+"="+strconv.FormatInt(f.CapacityBytes, 10))
	}
	if len(words) == 0 {
		return "none"
	}
	return strings.Join(words, " ")
}

// ParseFaults reads the form String prints. "none" and "" are the zero value.
func ParseFaults(s string) (Faults, error) {
	var f Faults
	if s == "none" {
		return f, nil
	}
	for _, w := range strings.Fields(s) {
		key, val, ok := strings.Cut(w, "=")
		if !ok {
			return Faults{}, fmt.Errorf("disk: fault %q is not key=value", w)
		}
		if err := f.set(key, val); err != nil {
			return Faults{}, err
		}
	}
	return f, f.Validate()
}

// set assigns one parsed key=value to f.
func (f *Faults) set(key, val string) error {
	if key == capacityKey {
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return fmt.Errorf("disk: bad %s %q", key, val)
		}
		f.CapacityBytes = n
		return nil
	}
	for _, k := range faultKeys {
		if k.key == key {
			r, err := prob.Parse(val)
			if err != nil {
				return fmt.Errorf("disk: %s: %v", key, err)
			}
			*k.field(f) = r
			return nil
		}
	}
	return fmt.Errorf("disk: unknown fault %q", key)
}

// Op is a kind of disk operation, used to pick its latency.
type Op uint8

// The disk operations.
const (
	OpRead Op = iota
	OpWrite
	OpSync
	OpSyncDir
	OpRename
	OpCreate
	OpRemove
	OpTruncate
)

var opNames = [...]string{"read", "write", "sync", "syncdir", "rename", "create", "remove", "truncate"}

// String returns the lower-case name of op.
func (op Op) String() string {
	if int(op) < len(opNames) {
		return opNames[op]
	}
	return "op(" + strconv.Itoa(int(op)) + ")"
}

// Range is a closed interval of durations.
type Range struct{ Min, Max time.Duration }

// Latency holds the latency range of each kind of operation. Meta covers
// create, rename, remove and truncate. The zero value is an instant disk.
type Latency struct {
	Read, Write, Sync, SyncDir, Meta Range
}

// Validate reports a negative bound or a range whose Max is below its Min.
func (l Latency) Validate() error {
	for _, op := range []Op{OpRead, OpWrite, OpSync, OpSyncDir, OpCreate} {
		r := l.rangeOf(op)
		if r.Min < 0 || r.Max < r.Min {
			return fmt.Errorf("disk: %s latency [%v,%v] is not a range", op, r.Min, r.Max)
		}
	}
	return nil
}

// rangeOf returns the range that applies to op.
func (l Latency) rangeOf(op Op) Range {
	switch op {
	case OpRead:
		return l.Read
	case OpWrite:
		return l.Write
	case OpSync:
		return l.Sync
	case OpSyncDir:
		return l.SyncDir
	default:
		return l.Meta
	}
}

// Draw returns a latency for op, uniform in its range [Min,Max]. A range with
// Max <= Min (the zero Range in particular) draws nothing from rng and
// returns Min.
func (l Latency) Draw(rng *rand.Rand, op Op) time.Duration {
	r := l.rangeOf(op)
	if r.Max <= r.Min {
		return r.Min
	}
	return r.Min + time.Duration(rng.Int64N(int64(r.Max-r.Min)+1))
}
