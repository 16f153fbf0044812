/*
Package disk is the simulated disk under every member of an etcdsim world: a
flat directory of files whose bytes are volatile until synced, and a crash
that keeps only what a real disk could have kept. This file is the fault
atlas: it names each fault the disk can inject, says whether a correct
raft/etcd must survive it or must detect it, and where it comes from in the
real world.

# The model

A file holds two images: the volatile bytes that reads see, and the durable
bytes that survive a crash. WriteAt, Write and Truncate change the volatile
image and mark the sectors (SectorSize bytes) they touch as dirty; Sync copies
the dirty sectors into the durable image, in time proportional to the bytes
written since the last Sync. The directory holds two namespaces the same way:
Create, Rename and Remove change the volatile one, SyncDir makes it durable.
A file's contents and its name are made durable separately, as on POSIX:
fsync(file) does not persist the directory entry, and fsync(dir) does not
persist the file's bytes.

Preallocate is fallocate(fd, 0, 0, n), which etcd calls on every WAL
segment: the file's size reaches n without a byte written, and what lies
past its bytes reads as zeros. The preallocated size is metadata, kept as
a number (a 64 MiB segment holds no zeros in memory): like a truncate, it
becomes durable at the file's next Sync, so a file created and
preallocated but never synced comes back empty. Truncate ends the file,
preallocated space included, as ftruncate does.

Crash returns a new FS, the crash image, and closes the old one. With every
fault off, the image holds exactly the durable bytes under the names that
exist once the pending namespace changes are applied. With faults on, the
crash proceeds in this order, drawing from the disk stream in exactly this
order, so that one seed and one sequence of operations give one image:

 1. Each create, rename and remove since the last SyncDir is replayed, in the
    order it was made, over the durable namespace, and undone with
    probability DirLoss. A change whose file is no longer where it was, because
    an earlier change was undone, is dropped as well.
 2. Each surviving file, in name order, starts from its durable bytes.
 3. If the newest write of the FS is in that file and still unsynced, it is
    torn with probability TornWrite: with even odds in order, a random
    strict prefix of its sectors (possibly none) persisting, or out of
    order, a random strict subset (each sector kept with probability 1/2,
    one dropped if all were), the rest keeping what was there before.
    After TearInFlight, the write in flight is instead the newest unsynced
    write of the file it names, whatever was written or synced since in
    other files, torn as it says (in order, its last sectors lost) with no
    draw; no other write is torn.
 4. Every other dirty sector, in ascending order, survives with probability
    KeepUnsynced. A surviving sector holds its newest volatile content; a lost
    one keeps its durable content. The file's bytes are its durable bytes,
    extended to cover the highest surviving sector (clipped to the volatile
    size); holes read as zeros, and so does the space past the bytes up to
    the durable preallocated size.
 5. The image gets one flipped bit with probability BitFlip.

A truncate is data, not metadata: its new size becomes durable at the file's
next Sync, and a crash before that Sync always undoes it. A file truncated
but not synced comes back at its durable size with its durable bytes, plus
whatever dirty sectors written after the truncate survive. This is the
hostile choice for a log that repairs its torn tail by truncating: stale
bytes past the cut come back, and only the log's own checksums can tell
them from records. Callers that need the cut to hold must Sync after it, as
etcd's wal.Repair does.

The model follows the crash clone of Pebble's in-memory file system
(github.com/cockroachdb/pebble/vfs, MemFS.CrashClone with
CrashCloneCfg.UnsyncedDataPercent): synced and unsynced bytes are kept apart,
a seeded share of unsynced blocks survives, and a file created without a
directory sync can vanish. Unlike Pebble's, it never draws random numbers
while iterating a Go map.

# In-model faults

These are inside what raft and etcd promise to survive: the durable state a
member relies on is what it synced, and the raft paper's persistence
requirement is "on stable storage before responding". A correct model must
stay clean under every one of them, at any rate; a violation found with only
these on is a bug in the member, never in the fault.

Lost unsynced writes (always on). Bytes written but not synced are in the
page cache, not on the media, and a power loss or kernel panic loses them.
This is the baseline every storage engine is written against.

KeepUnsynced: partly kept unsynced writes. The kernel flushes dirty pages in
the background, in no order an application can see, so any subset of the
unsynced sectors may already be on the media at a power loss. A log must not
assume that an unsynced suffix is lost as a whole: records after a hole may
be present. Cause: writeback of the page cache (dirty_expire_centisecs).

TornWrite: torn writes. A write that is in flight when the power goes may
persist only in part; sectors are written atomically by the device, but a
multi-sector write is not. etcd's WAL ends every record with a CRC and, at
open, treats a record cut short (io.ErrUnexpectedEOF) or, in the last file
only, a CRC mismatch over a record with an all-zero sector chunk
(isTornEntry) as a torn tail, cutting it off (wal.Repair); any other CRC
mismatch is fatal. Half the model's tears keep a strict prefix of the
write's sectors, a device that wrote them in order and stopped. The other
half keep a strict subset, lost sectors possibly before kept ones: a device
keeps no order among the sectors of one write without a flush or FUA (its
queue and cache write back as it likes, and a file system may place one
write in extents written separately, Pillai et al., OSDI 2014). A sector
never written reads back as what was there before: in a preallocated file,
as etcd's WAL segments are (Preallocate), zeros, so the torn record reads
back full length with zeroed sectors and fails its CRC over them, the case
isTornEntry looks for; in a file that is not preallocated (the backend, or
a WAL tail after Repair gave its space back, until the next cut), zeros
below the file's durable size, and past it the file ends at the last kept
sector and the record is cut short. Probe restart/torn-crc, a restart
that cut a record whose CRC failed over a zeroed chunk: 66 of default
seeds 1..1000 (0 before the WAL was preallocated, and 1 in 2000), and
restart/torn-tail, any restart that cut a torn tail: 97 (107 before);
disk/torn_unordered/<file> counts a sector kept after a lost one (15 for
the WAL). It stays in-model for the backend too: its commit is one
checksummed record appended past the durable end, so a lost sector
inside it is zeros or the end of the file, and the record is cut as torn
(bbolt writes a commit's pages, fsyncs, then flips a checksummed meta
page, so it never reads a commit whose pages were partly kept).
Cause: power loss during a multi-sector write.

DirLoss: lost namespace changes. A create or rename is a change to the
directory, and fsync of the file does not persist it: the directory itself
must be fsynced. etcd issue #6368 ("Possible data loss -- fsync parent
directories") showed the WAL's create-then-rename of a new segment without a
directory sync, fixed by fsyncing the directory after the rename (PR #6381);
the snapshot receiver's rename of a received database had the same gap
(PR #22314). Cause: file systems that
journal or reorder metadata updates apart from data (ext4 delayed
allocation, XFS), see Pillai et al., "All File Systems Are Not Created
Equal", OSDI 2014.

Latency (Latency, Draw): operations take simulated time, and slow disks
delay syncs by orders of magnitude. Raft promises safety under any timing;
slow fsyncs cost etcd missed heartbeats and leader changes, never
consistency. Cause: device queues, garbage collection in SSDs, noisy
neighbours.

# Out-of-model faults

These are outside what raft and etcd promise to survive: raft assumes stable
storage does not lie. They are off by default and must be switched on by
name. With them on, a member must detect the damage (checksums on WAL
records, on backend commits, hash checks between members) and refuse to serve
from it, crashing or reporting corruption; it must never absorb it silently
and diverge. A run with these on checks detection, not agreement.

LyingSync: an fsync that reports success but does not persist. Cause: a
volatile controller or drive write cache without power-loss protection that
acknowledges flushes early, virtualised storage that ignores flush requests,
or an fsync error lost by the kernel ("fsyncgate", PostgreSQL 2018). A later
honest Sync of the same file does persist the data.

BitFlip: a flipped bit in durable data. Cause: media decay, firmware bugs,
memory errors on the write path. Protocol-aware recovery (Alagappan et al.,
"Protocol-Aware Recovery for Consensus-Based Storage", FAST 2018) shows that
a consensus log that simply truncates at the first bad record can lose
committed data; etcd detects corruption with WAL CRCs and its corruption
check (hash comparison between members) rather than repairing it.

Misdirect: a write that lands at the wrong offset. Cause: firmware bugs in
the drive's address translation. Here the write moves by a whole number of
sectors within the same file, at most one sector past its end, and the
misplaced bytes are visible at once in the volatile image.

CapacityBytes: a full disk. Writes and truncates that would take the sum of
named files' sizes past the capacity fail with ErrNoSpace and write nothing.
etcd stops accepting writes and raises a NOSPACE alarm when its backend quota
is exceeded; a full file system under the WAL makes it fail the write and
stop. A member must fail, never continue with a half-written record.
*/
package disk
