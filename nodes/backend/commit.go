package backend

import (
	"fmt"

	"github.com/etcdsim/etcdsim/disk"
	"github.com/etcdsim/etcdsim/nodes/record"
)

// maxKeptBatch bounds the batch buffer kept between commits.
const maxKeptBatch = 4 << 20

// resetBatch starts an empty delta record.
func (b *Backend) resetBatch() {
	if cap(b.batch) > maxKeptBatch {
		b.batch = nil
	}
	b.batch, _ = record.Begin(b.batch[:0])
	b.batch = append(b.batch, kindDelta)
	b.pending = 0
}

// hookSkipsReadBuf is off only in tests, which compare the backend with
// the hook's puts going through the read buffer as any other.
var hookSkipsReadBuf = true

// WriteCommit commits the batch: it runs the pre-commit hook when hook is
// true and one is set, then, if anything is pending, appends the delta as
// one record, volatile until SyncCommit. It reports whether it wrote a
// record. As in etcd's batchTxBuffered.unsafeCommit, the hook runs before
// the pending check, so its own writes (the consistent index) make every
// commit real. hook=false is etcd's defrag commit before v3.5.6 (#14685).
func (b *Backend) WriteCommit(hook bool) (bool, error) {
	if b.err != nil {
		return false, b.err
	}
	if hook && b.hook != nil {
		b.hooking = true
		b.hook(b)
		b.hooking = false
	}
	if b.pending == 0 {
		return false, nil
	}
	record.Finish(b.batch, 0)
	if err := b.write(b.file, b.batch); err != nil {
		return false, err
	}
	if b.copy != nil {
		// A commit between DefragCopy and DefragRename goes to both files,
		// so that the rename loses nothing.
		if err := b.write(b.copy, b.batch); err != nil {
			return false, err
		}
		b.copyRecords++
	}
	b.stats.Commits++
	b.stats.Records++
	b.stats.Bytes += int64(len(b.batch))
	b.unsynced = true
	b.resetBatch()
	b.rbuf.reset()
	return true, nil
}

func (b *Backend) write(f *disk.File, p []byte) error {
	if _, err := f.Write(p); err != nil {
		return b.fail("write", err)
	}
	return nil
}

// fail makes err sticky: after a failed write or sync the file may hold a
// partial record, and the member must stop, as etcd does on a failed
// bbolt commit.
func (b *Backend) fail(op string, err error) error {
	b.err = fmt.Errorf("backend: %s %s: %w", op, b.name, err)
	return b.err
}

// SyncCommit makes every record written so far durable.
func (b *Backend) SyncCommit() error {
	if b.err != nil {
		return b.err
	}
	if !b.unsynced {
		return nil
	}
	for _, f := range []*disk.File{b.file, b.copy} {
		if f == nil {
			continue
		}
		b.stats.Syncs++
		if err := f.Sync(); err != nil {
			return b.fail("sync", err)
		}
	}
	b.unsynced = false
	return b.maybeRewrite()
}

// rewriteSlack is how far the commit log may outgrow the state it holds
// before it is rewritten.
const rewriteSlack = 512 << 10

// maybeRewrite keeps the file in proportion to the state, as bbolt's page
// reuse keeps its file from growing with every commit: once the commit
// records pass twice the size of the last full image (plus slack), the
// state is written as one full record to a temporary file, synced, and
// renamed over the file — the same crash-safe path as a defrag, and
// invisible to what the backend holds.
func (b *Backend) maybeRewrite() error {
	if b.copy != nil || b.stats.Bytes <= 2*b.fullBytes+rewriteSlack {
		return nil
	}
	f, size, err := b.writeCopy("rewrite")
	if err != nil {
		return err
	}
	if err := b.fs.Rename(b.name+DefragSuffix, b.name); err != nil {
		return b.fail("rename rewrite", err)
	}
	if err := b.fs.SyncDir(); err != nil {
		return b.fail("sync dir", err)
	}
	b.file, b.fullBytes = f, size
	b.stats.Bytes, b.stats.Records = size, 1
	b.stats.Syncs++
	return nil
}

// writeCopy writes the whole state as one full record to "<name>.defrag"
// and syncs it: the first half of a defrag and of a rewrite (what names
// which in errors).
func (b *Backend) writeCopy(what string) (*disk.File, int64, error) {
	full := encodeFull(b.mem)
	f, err := b.fs.Create(b.name + DefragSuffix)
	if err != nil {
		return nil, 0, b.fail("create "+what, err)
	}
	if err := b.write(f, full); err != nil {
		return nil, 0, err
	}
	b.stats.Syncs++
	if err := f.Sync(); err != nil {
		return nil, 0, b.fail("sync "+what, err)
	}
	return f, int64(len(full)), nil
}

// Commit is etcd's batchTx.Commit (periodic, at the batch limit, or
// forced): WriteCommit with the hook, then SyncCommit. With nothing pending
// and nothing unsynced it does nothing.
func (b *Backend) Commit() error {
	if _, err := b.WriteCommit(true); err != nil {
		return err
	}
	return b.SyncCommit()
}

// DefragCopy is the first half of etcd's backend.defrag: it commits pending
// writes durably (through the hook only if hook, #14685), then writes the
// whole state as one record to "<name>.defrag" and syncs it.
func (b *Backend) DefragCopy(hook bool) error {
	if _, err := b.WriteCommit(hook); err != nil {
		return err
	}
	if err := b.SyncCommit(); err != nil {
		return err
	}
	f, _, err := b.writeCopy("defrag copy")
	if err != nil {
		return err
	}
	b.copy, b.copyRecords = f, 1
	return nil
}

// DefragRename is the second half of etcd's defrag: it renames the copy
// over the file, syncs the directory, and continues on the new file.
func (b *Backend) DefragRename() error {
	if b.err != nil {
		return b.err
	}
	if b.copy == nil {
		return ErrNoDefrag
	}
	if err := b.fs.Rename(b.name+DefragSuffix, b.name); err != nil {
		return b.fail("rename defrag copy", err)
	}
	if err := b.fs.SyncDir(); err != nil {
		return b.fail("sync dir", err)
	}
	f, err := b.fs.Open(b.name)
	if err != nil {
		return b.fail("reopen", err)
	}
	b.file, b.copy = f, nil
	b.stats.Bytes = f.Size()
	b.fullBytes = f.Size()
	b.stats.Records = b.copyRecords
	b.stats.Defrags++
	return nil
}
