"""The devices under test: how each one is built on brd disks, snapshotted,
exposed for reading, asked for its store usage, and torn down.

One class per kind of target; STACKS is the table the benchmark runs.  A
new dm-shadow store type is one more ShadowStack row (store="row", ...).
Every snapshot step goes through dmctl's ioctls, so timings compare the
targets and not dmsetup's start-up.
"""
import os
import re
import signal
import time

import dmctl

SECTOR = 512


def zero_start(dev, offset_sectors=0, length=1 << 20):
    """Zero the start of a store so the target formats a new one."""
    fd = os.open(dev, os.O_WRONLY)
    try:
        os.pwrite(fd, bytes(length), offset_sectors * SECTOR)
        os.fsync(fd)
    finally:
        os.close(fd)


def sectors(dev):
    with open(dev, "rb") as f:
        return f.seek(0, os.SEEK_END) // SECTOR


def zero_dev(ctl, name, length):
    """A dm-zero device of length sectors: writes vanish, reads are zeros.
    Stands in for data areas too big for RAM (the memory measure)."""
    ctl.create(name, [(0, length, "zero", "")])
    return "/dev/mapper/" + name


class NotApplicable(Exception):
    """The measure does not exist for this target (e.g. snapshots of raw)."""


class Stack:
    kind = "?"
    snapshots = True     # can take snapshots at all
    max_snaps = None     # None: as many as the benchmark asks
    # Why the measures of a store's copies (memory and space per copied
    # chunk, a delete's stall) do not apply; None: they do.
    no_store_copies = None
    # Why a set of volumes cannot be frozen here; None: it can.
    no_freeze_set = None
    # Clones hydrate (the hydration measure).
    hydrates = False

    def __init__(self, ctl, disks, chunk_sectors):
        self.ctl, self.disks, self.chunk = ctl, disks, chunk_sectors
        self.n = 0          # snapshots taken
        self.snap_dev = None

    @property
    def label(self):
        return self.kind if not self.chunk else \
            "%s %dK" % (self.kind, self.chunk // 2)

    def time_snapshot(self):
        """Take one more snapshot; return the seconds it took."""
        t = time.perf_counter()
        self.snapshot()
        return time.perf_counter() - t

    def teardown(self):
        dmctl.remove_all(self.ctl, "b-")

    # How delete_snapshot frees the snapshot's space, for the report.
    delete_how = "?"

    def delete_snapshot(self):
        """Delete the first snapshot while the origin is live; return when
        the command does (see wait_freed)."""
        raise NotApplicable

    def wait_freed(self, timeout):
        """Return once the deleted snapshot's space is free; at once for
        the targets that free it before the command returns."""

    # How start_merge rolls the origin back, for the report; None: it
    # cannot (the revert measure is not applicable).
    merge_how = None
    # Whether deleting the last snapshot copies data back into the origin
    # device (the fold-back measure).
    folds = False

    def start_merge(self):
        """Start rolling the origin back to the first snapshot, in the
        background; return when the command does (see wait_merged)."""
        raise NotApplicable

    def merging(self):
        """True while a merge started by start_merge runs."""
        raise NotApplicable

    def wait_merged(self, timeout):
        """Return once the merge has finished: every chunk of the snapshot
        is back in the origin."""
        end = time.time() + timeout
        while self.merging():
            if time.time() > end:
                raise RuntimeError("%s: the merge has not finished after "
                                   "%d s" % (self.label, timeout))
            time.sleep(0.02)

    def timed_sets(self, names, reps, create):
        """reps times: suspend every device of names, create(rep, i, name)
        for each, resume every one; return the seconds from first suspend
        to last resume of each rep, and the seconds spent in each phase
        summed over the reps (suspend, create, resume)."""
        times, phases = [], {"suspend": 0.0, "create": 0.0, "resume": 0.0}
        for r in range(reps):
            t0 = time.perf_counter()
            for n in names:
                self.ctl.suspend(n)
            t1 = time.perf_counter()
            for i, n in enumerate(names):
                create(r, i, n)
            t2 = time.perf_counter()
            for n in names:
                self.ctl.resume(n)
            t3 = time.perf_counter()
            times.append(t3 - t0)
            phases["suspend"] += t1 - t0
            phases["create"] += t2 - t1
            phases["resume"] += t3 - t2
        return times, phases


class Raw(Stack):
    kind = "raw"
    snapshots = False

    def setup(self, expect_snaps=0):
        self.n = 0
        return self.disks[0]

    def snapshot(self):
        raise NotApplicable

    def teardown(self):
        pass


class DmLinear(Raw):
    """dm-linear over the origin disk: what any device-mapper target costs
    before it does any work of its own (the floor under the others)."""
    kind = "dm-linear"

    def setup(self, expect_snaps=0):
        self.n = 0
        self.ctl.create("b-lin", [(0, sectors(self.disks[0]), "linear",
                                   "%s 0" % self.disks[0])])
        return "/dev/mapper/b-lin"

    def teardown(self):
        Stack.teardown(self)


class DmSnapshot(Stack):
    """snapshot-origin + one persistent 'snapshot' per point in time, each
    with its own COW device: a dm-linear slice of one brd disk."""
    kind = "dm-snapshot"

    def setup(self, expect_snaps=1):
        self.n = 0
        self.origin = self.disks[0]
        self.size = sectors(self.origin)
        self.slices = max(expect_snaps, 1)
        slice_len = sectors(self.disks[1]) // self.slices
        slice_len -= slice_len % self.chunk
        for i in range(self.slices):
            zero_start(self.disks[1], i * slice_len, self.chunk * SECTOR)
            self.ctl.create("b-cow%d" % i, [(0, slice_len, "linear",
                                             "%s %d" % (self.disks[1],
                                                        i * slice_len))])
        self.ctl.create("b-orig", [(0, self.size, "snapshot-origin",
                                    self.origin)])
        return "/dev/mapper/b-orig"

    def setup_sparse(self, nchunks):
        """For nchunks copies whose data cannot fit in RAM: the origin is
        dm-zero, and so is every data chunk of the COW device; its header
        and metadata areas (one chunk, then one per chunk_bytes/16
        exceptions) map to disks[1]."""
        self.n, self.slices = 0, 1
        c = self.chunk
        self.size = nchunks * c
        self.origin = zero_dev(self.ctl, "b-zo", self.size)
        per_area = c * SECTOR // 16
        table = [(0, c, "linear", "%s 0" % self.disks[1])]
        for a in range(nchunks // per_area + 2):
            start = (1 + a * (per_area + 1)) * c
            table.append((start, c, "linear", "%s %d" % (self.disks[1],
                                                        (1 + a) * c)))
            table.append((start + c, per_area * c, "zero", ""))
        zero_start(self.disks[1], 0, 2 * c * SECTOR)
        self.ctl.create("b-cow0", table)
        self.ctl.create("b-orig", [(0, self.size, "snapshot-origin",
                                    self.origin)])
        return "/dev/mapper/b-orig"

    def snapshot(self):
        if self.n >= self.slices:
            raise RuntimeError("no COW slice left for snapshot %d" % self.n)
        self.ctl.suspend("b-orig")
        try:
            self.ctl.create("b-snap%d" % self.n, [(0, self.size, "snapshot",
                            "%s /dev/mapper/b-cow%d P %d" % (
                                self.origin, self.n, self.chunk))])
        finally:
            self.ctl.resume("b-orig")
        self.n += 1

    def open_snap(self):
        return "/dev/mapper/b-snap0"

    def close_snap(self):
        pass

    delete_how = "removal of the snapshot device"

    def delete_snapshot(self):
        """dmsetup remove of the snapshot device: its exceptions are freed
        before the ioctl returns.  (lvremove would also reload the origin
        as linear once no snapshot is left: a suspend of the origin that
        the other targets do not need, so it is not done here.)"""
        self.ctl.remove("b-snap0")

    merge_how = "snapshot-merge table in the origin's device"

    def start_merge(self):
        """lvconvert --merge's table swap: with the snapshot and the origin
        suspended, the origin's device gets a snapshot-merge table on the
        snapshot's COW device, which takes the snapshot's exceptions over
        when it resumes (the kernel's snapshot handover); the snapshot's
        device is then removed.  The origin's device stays open
        throughout, so a load on it waits through the swap."""
        self.ctl.suspend("b-snap0")
        self.ctl.suspend("b-orig")
        try:
            self.ctl.load("b-orig", [(0, self.size, "snapshot-merge",
                                      "%s /dev/mapper/b-cow0 P %d" % (
                                          self.origin, self.chunk))])
        finally:
            self.ctl.resume("b-orig")
        self.ctl.remove("b-snap0")
        self.n = 0

    def merging(self):
        """snapshot-merge's status: '<allocated>/<total> <metadata>'
        sectors; merged when only the metadata is left allocated."""
        w = self.ctl.status("b-orig")
        if "/" not in w[0]:
            raise RuntimeError("snapshot-merge status: %s" % " ".join(w))
        return int(w[0].split("/")[0]) != int(w[1])

    def usage(self):
        """Store bytes summed over every snapshot's COW device."""
        data = meta = 0
        for i in range(self.n):
            w = dmctl.status("b-snap%d" % i)
            alloc = int(w[0].split("/")[0])
            data += (alloc - int(w[1])) * SECTOR
            meta += int(w[1]) * SECTOR
        return {"data": data, "meta": meta, "chunk": self.chunk * SECTOR}

    def teardown(self):
        dmctl.remove_all(self.ctl, "b-snap")
        dmctl.remove_all(self.ctl, "b-orig")
        dmctl.remove_all(self.ctl, "b-")

    def freeze_set(self, k, reps):
        """k origins on disks (2i, 2i+1): suspend all, create a snapshot of
        each, resume all; reps times, each snapshot on a fresh COW slice."""
        for v in range(k):
            o, c = self.disks[2 * v], self.disks[2 * v + 1]
            sl = sectors(c) // reps
            sl -= sl % self.chunk
            for r in range(reps):
                zero_start(c, r * sl, self.chunk * SECTOR)
                self.ctl.create("b-f%dc%d" % (v, r),
                                [(0, sl, "linear", "%s %d" % (c, r * sl))])
            self.ctl.create("b-f%d" % v, [(0, sectors(o), "snapshot-origin",
                                           o)])

        def create(r, v, name):
            o = self.disks[2 * v]
            self.ctl.create("b-f%ds%d" % (v, r), [(0, sectors(o), "snapshot",
                            "%s /dev/mapper/b-f%dc%d P %d"
                            % (o, v, r, self.chunk))])
        times, phases = self.timed_sets(["b-f%d" % v for v in range(k)],
                                        reps, create)
        dmctl.remove_all(self.ctl, "b-f", "s")
        dmctl.remove_all(self.ctl, "b-")
        return times, phases


class DmThin(Stack):
    """thin-pool (data on disk 0, metadata on disk 1), thin volume 0,
    thin snapshots by create_snap while the volume is suspended."""
    kind = "dm-thin"

    def _pool(self, data, meta):
        self.ctl.create("b-pool", [(0, sectors(data), "thin-pool",
                        "%s %s %d 0" % (meta, data, self.chunk))])

    def setup(self, expect_snaps=1):
        self.n = 0
        self.size = sectors(self.disks[0])
        self._pool(self.disks[0], self.disks[1])
        self.ctl.message("b-pool", "create_thin 0")
        self.ctl.create("b-tv", [(0, self.size, "thin", "/dev/mapper/b-pool 0")])
        return "/dev/mapper/b-tv"

    def setup_sparse(self, nchunks):
        """For nchunks copies whose data cannot fit in RAM: the pool's data
        device is dm-zero (room for the volume and one copy of each
        chunk), its metadata device disks[1]."""
        self.n = 0
        c = self.chunk
        self.size = nchunks * c
        data = zero_dev(self.ctl, "b-zd", (2 * nchunks + 64) * c)
        self._pool(data, self.disks[1])
        self.ctl.message("b-pool", "create_thin 0")
        self.ctl.create("b-tv", [(0, self.size, "thin", "/dev/mapper/b-pool 0")])
        return "/dev/mapper/b-tv"

    def snapshot(self):
        self.ctl.suspend("b-tv")
        try:
            self.ctl.message("b-pool", "create_snap %d 0" % (self.n + 1))
        finally:
            self.ctl.resume("b-tv")
        self.n += 1

    def open_snap(self):
        self.ctl.create("b-tsnap", [(0, self.size, "thin",
                                     "/dev/mapper/b-pool 1")], readonly=True)
        return "/dev/mapper/b-tsnap"

    def close_snap(self):
        self.ctl.remove("b-tsnap")

    delete_how = "delete message, frees before returning"

    def delete_snapshot(self):
        self.ctl.message("b-pool", "delete 1")

    def usage(self):
        w = dmctl.status("b-pool")
        meta = int(w[1].split("/")[0]) * 4096
        data = int(w[2].split("/")[0]) * self.chunk * SECTOR
        return {"data": data, "meta": meta, "chunk": self.chunk * SECTOR}

    def teardown(self):
        for name in ("b-tsnap", "b-tv"):
            dmctl.remove_all(self.ctl, name)
        dmctl.remove_all(self.ctl, "b-")

    def freeze_set(self, k, reps):
        """k thin volumes in one pool: suspend all, create_snap of each,
        resume all."""
        self._pool(self.disks[0], self.disks[1])
        size = sectors(self.disks[0])
        for v in range(k):
            self.ctl.message("b-pool", "create_thin %d" % v)
            self.ctl.create("b-f%d" % v, [(0, size, "thin",
                                           "/dev/mapper/b-pool %d" % v)])

        def create(r, v, name):
            self.ctl.message("b-pool", "create_snap %d %d"
                             % (1000 + r * k + v, v))
        times, phases = self.timed_sets(["b-f%d" % v for v in range(k)],
                                        reps, create)
        for v in range(k):
            self.ctl.remove("b-f%d" % v)
        dmctl.remove_all(self.ctl, "b-")
        return times, phases


class ShadowStack(Stack):
    """shadow-origin with one shared store of the given type; snapshots by
    the create message while suspended; shadow-snap to read one."""
    kind = "dm-shadow"

    def __init__(self, ctl, disks, chunk_sectors, store="cow"):
        super().__init__(ctl, disks, chunk_sectors)
        self.store = store

    @property
    def label(self):
        return "dm-shadow %s %dK" % (self.store, self.chunk // 2)

    def _origin(self, name, origin, store):
        self.ctl.create(name, [(0, sectors(origin), "shadow-origin",
                        "%s %s %s %d" % (origin, store, self.store,
                                         self.chunk))])

    def setup(self, expect_snaps=1):
        self.n = 0
        self.size = sectors(self.disks[0])
        self._origin("b-sv", self.disks[0], self.disks[1])
        return "/dev/mapper/b-sv"

    def setup_sparse(self, nchunks):
        """For nchunks copies whose data cannot fit in RAM: the origin is
        dm-zero, and so is the store's data area; its metadata area maps
        to disks[1].  The metadata area's size comes from the format's
        layout, which changes with it: the first meta_bound() sectors are
        on disks[1], and the status' metadata_blocks must fit in them."""
        self.n = 0
        c = self.chunk
        self.size = nchunks * c
        origin = zero_dev(self.ctl, "b-zo", self.size)
        data = (nchunks + 64) * c
        meta = min(self.meta_bound(nchunks + 64), sectors(self.disks[1]))
        meta -= meta % c
        self.ctl.create("b-zs", [(0, meta, "linear", "%s 0" % self.disks[1]),
                                 (meta, data, "zero", "")])
        self._origin("b-sv", origin, "/dev/mapper/b-zs")
        blocks = int(self._status()[7].split("/")[1])
        if blocks * format_constants()["md_block"] > meta * SECTOR:
            self.teardown()
            raise RuntimeError("metadata area of %d blocks is beyond the "
                               "%d sectors on %s" % (blocks, meta,
                                                     self.disks[1]))
        return "/dev/mapper/b-sv"

    @staticmethod
    def meta_bound(nchunks):
        """Sectors that surely hold the metadata area of a store of
        nchunks data chunks: twice the ~33 bytes per chunk of the format's
        layout, plus 16 MiB.  Only the blocks in use are written, and the
        data chunks that fall in the rest are few."""
        return (nchunks * 66 + (16 << 20)) // SECTOR

    def snapshot(self):
        self.ctl.snapshot("b-sv", self.n + 1)
        self.n += 1

    def open_snap(self):
        self.ctl.create("b-ss", [(0, self.size, "shadow-snap",
                                  "%s 1" % self.disks[0])], readonly=True)
        return "/dev/mapper/b-ss"

    def close_snap(self):
        self.ctl.remove("b-ss")

    def _status(self):
        """The origin's status words; refuses a status line without the
        metadata fields (target before 2.0.0, format version 1)."""
        w = self.ctl.status("b-sv")
        if len(w) < 10 or "/" not in w[7]:
            raise RuntimeError("shadow-origin status without metadata use "
                               "(not format version 2?): %s" % " ".join(w))
        return w

    def usage(self):
        """Data from the status' used chunks, metadata from its metadata
        blocks in use, as of a commit: reserving and releasing a metadata
        snapshot commits, so the count is the trees on disk and not also
        the running transaction's shadow copies of their blocks, which the
        exception journal keeps for up to 64 batches of copies."""
        self.ctl.message("b-sv", "reserve_metadata_snap")
        self.ctl.message("b-sv", "release_metadata_snap")
        w = self._status()
        used = int(w[2].split("/")[0])
        return {"data": used * self.chunk * SECTOR,
                "meta": int(w[7].split("/")[0]) *
                format_constants()["md_block"],
                "chunk": self.chunk * SECTOR}

    delete_how = "freed in the background"

    def delete_snapshot(self):
        self.ctl.message("b-sv", "delete 1")

    def used_chunks(self):
        return int(self._status()[2].split("/")[0])

    def set_fold_rate(self, rate):
        self.ctl.message("b-sv", "fold_rate %d" % rate)

    def wait_freed(self, timeout):
        end = time.time() + timeout
        while self.used_chunks() != 0:
            if time.time() > end:
                raise RuntimeError("used chunks still %s after %d s" % (
                    self._status()[2], timeout))
            time.sleep(0.02)

    @property
    def merge_how(self):
        if self.store == "row":
            return "revert message: one commit, nothing merged"
        return "revert message, merged in the background"

    @property
    def folds(self):
        return self.store == "row"

    def start_merge(self):
        self.ctl.suspend("b-sv")
        try:
            self.ctl.message("b-sv", "revert 1")
        finally:
            self.ctl.resume("b-sv")

    def merging(self):
        """The status' revert_id: '-' once no revert runs."""
        return self._status()[11] != "-"

    def teardown(self):
        for name in ("b-ss", "b-sv"):
            dmctl.remove_all(self.ctl, name)
        dmctl.remove_all(self.ctl, "b-")

    def freeze_set(self, k, reps):
        for v in range(k):
            self._origin("b-f%d" % v, self.disks[2 * v],
                         self.disks[2 * v + 1])
        times, phases = self.timed_sets(
            ["b-f%d" % v for v in range(k)], reps,
            lambda r, v, name: self.ctl.message(name, "create %d" % (r + 1)))
        dmctl.remove_all(self.ctl, "b-")
        return times, phases


_FORMAT = None


def format_constants():
    """The store format's version, metadata block size and snapshot limit,
    read from the shared header so the report follows the format."""
    global _FORMAT
    if _FORMAT is None:
        top = os.environ.get("SHADOW_TOP", os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", ".."))
        text = open(os.path.join(top, "dm-shadow",
                                 "dm-shadow-format.h")).read()

        def define(name):
            m = re.search(r"#define %s\s+(\d+)" % name, text)
            if not m:
                raise RuntimeError("dm-shadow-format.h: no %s" % name)
            return int(m.group(1))
        _FORMAT = {"version": define("SHADOW_VERSION"),
                   "md_block": define("SHADOW_MD_BLOCK_SIZE"),
                   "max_snapshots": define("SHADOW_MAX_SNAPSHOTS")}
    return _FORMAT


class ShadowClone(ShadowStack):
    """shadow-origin with a clone store: the snapshot is a clone onto a
    disk of its own, hydrated in the background.  The write measures run
    while it hydrates (at 1 MiB/s, so that their writes meet chunks not
    copied yet, each copied to the clone first); only one clone: the
    benchmark's disks give one target per volume."""
    max_snaps = 1
    no_store_copies = "a clone store keeps no data"
    no_freeze_set = "a clone target per volume: not enough disks"
    hydrates = True
    merge_how = None
    folds = False

    def __init__(self, ctl, disks, chunk_sectors):
        super().__init__(ctl, disks, chunk_sectors, store="clone")
        self.rate = 1
        self.origin_mib = None

    def _origin(self, name, origin, store):
        if self.origin_mib:
            # The first origin_mib MiB of the disk, as a volume of its own.
            self.size = self.origin_mib * (1 << 20) // SECTOR
            self.ctl.create("b-hyo", [(0, self.size, "linear",
                                       "%s 0" % origin)])
            origin = "/dev/mapper/b-hyo"
        self.ctl.create(name, [(0, sectors(origin), "shadow-origin",
                        "%s %s clone %d 5 clone_target 1 %s hydrate_rate %d"
                        % (origin, store, self.chunk, self.disks[2],
                           self.rate))])

    def setup_rate(self, rate, mib=None, chunk=None):
        """setup() with the clone hydrating at rate MiB/s (0: any), of the
        first mib MiB of the origin disk (None: all of it), at chunk
        sectors (None: the stack's) for this setup alone."""
        stack_chunk = self.chunk
        self.rate, self.origin_mib = rate, mib
        self.chunk = chunk or stack_chunk
        try:
            return self.setup(1)
        finally:
            self.origin_mib, self.chunk = None, stack_chunk

    def clone_state(self):
        """(state, chunks copied, origin chunks) of clone 1; None before
        it exists."""
        return self._clone_state(self._status())

    @staticmethod
    def _clone_state(w):
        # The store's fields follow the row store's two.
        if len(w) < 20 or w[16] == "0":
            return None
        copied, total = w[19].split("/")
        return w[18], int(copied), int(total)

    def wait_complete(self, timeout):
        """Return once clone 1 is complete.  It sleeps on the origin's dm
        events (a clone's end raises one), not polling the status: a
        poller's ioctls would take the emulated CPUs from the copy it
        times, which dd's copy does not share."""
        def expired(signum, frame):
            raise RuntimeError("clone not complete after %d s: %s" % (
                timeout, self.clone_state()))
        old = signal.signal(signal.SIGALRM, expired)
        signal.alarm(timeout)
        try:
            while True:
                line, event_nr = self.ctl.status_event("b-sv")
                s = self._clone_state(line.split()[3:])
                if s and s[0] == "complete":
                    return
                if s and s[0] == "failed":
                    raise RuntimeError("the clone failed")
                self.ctl.wait_event("b-sv", event_nr)
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)


# The table the benchmark runs: (class, chunk sectors, options).  Rows are
# compared with raw and with the dm-snapshot row of the same chunk size.
STACKS = [
    (Raw, 0, {}),
    (DmLinear, 0, {}),
    (DmSnapshot, 8, {}),
    (ShadowStack, 8, {"store": "cow"}),
    (ShadowStack, 8, {"store": "row"}),
    (DmSnapshot, 128, {}),
    (DmThin, 128, {}),
    (ShadowStack, 128, {"store": "cow"}),
    (ShadowStack, 128, {"store": "row"}),
    (ShadowClone, 128, {}),
]
