"""Workload and crash-point checker for tests/cow-replay.sh.

  cowreplay.py work <state.json> <seed>
      On dm devices the test made: r-origin and r-store (dm-linear slices
      of one dm-log-writes device, rlog).  Fills the origin, loads the
      shadow-origin rvol, then creates snapshots, writes 4 KiB blocks
      (O_DIRECT) with fsyncs, deletes a snapshot, then after a fifth
      snapshot makes more flushed first writes than the exception
      journal's ring has blocks (the ring wraps), and marks the log after
      every acknowledged flush, create and delete.  A row store is then
      reverted to that snapshot twice, with flushed writes after each
      revert (to blocks the revert rolled back and others); the log is
      marked before each revert (either state may hold until it is
      acknowledged) and after.  Then every snapshot of the row store is
      deleted, oldest first, with flushed writes after each delete, while
      fold-back (throttled, so that the writes race it) copies the live
      chunks back into the origin; the log is marked once it is done.
      Writes what each mark guarantees to <state.json>; removes rvol at
      the end.

  cowreplay.py check <log dev> <base dev> <scratch dev> <state.json> <seed>
                     <flush points> <random points> <subset points>
                     <event points> <share i/N>
      Picks replay points (every FLUSH/FUA entry, up to <flush points> of
      them; the entries of the batches of the table load, the creates and
      the delete, every flush among them and a seeded sample of the rest
      up to <event points> in all; <random points> points inside other
      batches; up to
      <subset points> states of those event batches with one write left
      out), replays the log onto <base> point after point, and at each
      point checks a copy on <scratch>: the store as the power cut left
      it (shadow-dump --check),
      the table loads, the snapshots acknowledged exist and read their
      point in time, flushed origin writes are there (after a revert: the
      snapshot's data or a write made since, never one the revert rolled
      back), the store keeps
      working (a new snapshot, writes, a flush) and is consistent after.
      Of the points picked, checks those numbered i-1, i-1+N ... (share
      i/N: run-all splits the sample between its kernels; 1/1 checks all).
      Prints each failure; exits 1 if there was any.

Every block of the origin holds pattern(block, generation): its number and
the generation of the write that put it there (0: the initial fill), so
that any block read says exactly which write it came from.
"""
import fcntl
import json
import mmap
import os
import random
import re
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dmioctl  # noqa: E402
import logreplay  # noqa: E402

BLOCK = 4096
ORIGIN_SECTORS = 8192        # 4 MiB, 1024 blocks
STORE_SECTORS = 16384        # 8 MiB
TOTAL_SECTORS = ORIGIN_SECTORS + STORE_SECTORS
NBLOCKS = ORIGIN_SECTORS * 512 // BLOCK
MAGIC = b"RPLYBLK\0"
UNIT = struct.Struct("<8sQQQ")      # magic, block, generation, check
EXERCISE_ID = 999999
EXERCISE_GEN = 1 << 40
SHADOW_TOP = os.environ.get("SHADOW_TOP", ".")
BLKFLSBUF = 0x1261
DUMP = os.path.join(SHADOW_TOP, "cmd", "shadow-dump", "shadow-dump")
# The store type the workload formats and the checks load: the same
# guarantees hold for both (tests/row-replay.sh sets row).
STORE_TYPE = os.environ.get("REPLAY_STORE_TYPE", "cow")
# Its chunk size in sectors: at 8 every 4 KiB block write covers its
# chunk, at 16 every one is partial (tests/row-replay.sh runs both).
CHUNK_SECTORS = int(os.environ.get("REPLAY_CHUNK_SECTORS", "8"))
# The table line's store arguments, after its two devices.
STORE_ARGS = "%s %d" % (STORE_TYPE, CHUNK_SECTORS)


def pattern(block, gen):
    return UNIT.pack(MAGIC, block, gen,
                     (block * 0x9E3779B97F4A7C15 ^ gen) & (2**64 - 1)) * \
        (BLOCK // UNIT.size)


def decode(blk):
    """(block, gen) that a 4 KiB block holds, or None if it is no whole
    pattern (torn, zero, foreign)."""
    magic, b, g, _ = UNIT.unpack_from(blk, 0)
    if magic != MAGIC or blk != pattern(b, g):
        return None
    return b, g


def sh(*args, check=True):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if check and r.returncode:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), r.returncode,
                                                r.stderr.strip()))
    return r


def flush_buffers(dev):
    """blockdev --flushbufs: write back and drop dev's page cache."""
    fd = os.open(dev, os.O_RDONLY)
    try:
        fcntl.ioctl(fd, BLKFLSBUF, 0)
    finally:
        os.close(fd)


class Direct:
    """A device opened O_DIRECT with one aligned buffer."""

    def __init__(self, path, write=False):
        self.fd = os.open(path, (os.O_RDWR if write else os.O_RDONLY) |
                          os.O_DIRECT)
        self.buf = mmap.mmap(-1, 1 << 20)

    def write_block(self, block, data):
        self.buf[:BLOCK] = data
        n = os.pwritev(self.fd, [memoryview(self.buf)[:BLOCK]], block * BLOCK)
        if n != BLOCK:
            raise OSError("short write of block %d" % block)

    def read(self, off, length):
        out = bytearray()
        while length:
            n = min(length, len(self.buf))
            got = os.preadv(self.fd, [memoryview(self.buf)[:n]], off)
            if got != n:
                raise OSError("short read at byte %d" % off)
            out += self.buf[:n]
            off += n
            length -= n
        return bytes(out)

    def fsync(self):
        os.fsync(self.fd)

    def close(self):
        os.close(self.fd)
        self.buf.close()


# ---------------------------------------------------------------- workload

def fill_and_load(mark, store_args=None):
    """The initial fill, straight onto the origin slice (generation 0),
    then the table load of rvol, each marked by mark(kind); returns rvol
    opened for writing.  store_args: the table line after the two devices
    (default: STORE_ARGS; clonereplay.py's names its
    clone targets)."""
    dev = Direct("/dev/mapper/r-origin", write=True)
    for b in range(NBLOCKS):
        dev.write_block(b, pattern(b, 0))
    dev.fsync()
    dev.close()
    mark("init")
    if store_args is None:
        store_args = STORE_ARGS
    sh("dmsetup", "create", "rvol", "--table",
       "0 %d shadow-origin /dev/mapper/r-origin /dev/mapper/r-store %s"
       % (ORIGIN_SECTORS, store_args))
    mark("loaded")
    return Direct("/dev/mapper/rvol", write=True)


def unload(vol, ctl, mark, state, state_path):
    """The end of a workload: closes rvol, prints its status, removes it
    (marked by mark), closes ctl and writes the state."""
    vol.close()
    print("status: %s" % sh("dmsetup", "status", "rvol").stdout.strip())
    sh("dmsetup", "remove", "rvol")
    mark("removed")
    ctl.close()
    with open(state_path, "w") as f:
        json.dump(state, f)


def journal_blocks():
    """The exception journal's ring, in blocks (dm-shadow-format.h)."""
    text = open(os.path.join(SHADOW_TOP, "dm-shadow",
                             "dm-shadow-format.h")).read()
    m = re.search(r"#define SHADOW_JOURNAL_BLOCKS\s+(\d+)", text)
    if not m:
        sys.exit("dm-shadow-format.h: no SHADOW_JOURNAL_BLOCKS")
    return int(m.group(1))


def work(state_path, seed):
    rng = random.Random(seed)
    ctl = dmioctl.Control()
    state = {"seed": seed, "marks": {}, "snaps": {}, "writes": [],
             "deleted": []}
    gen = [0] * NBLOCKS
    acked_snaps, acked_deletes = [], []
    floor = [0] * NBLOCKS
    nmark = [0]
    # The last revert acknowledged, and one sent but not yet acknowledged.
    reverted, reverting = None, None

    def mark(kind):
        nmark[0] += 1
        name = "%s-%d" % (kind, nmark[0])
        # What is guaranteed from this mark on: recorded before the mark.
        state["marks"][name] = {"floor": list(floor),
                                "snaps": list(acked_snaps),
                                "deleted": list(acked_deletes),
                                "reverted": reverted,
                                "reverting": reverting}
        ctl.message("rlog", "mark " + name)
        return name

    def write(b):
        g = len(state["writes"]) + 1
        vol.write_block(b, pattern(b, g))
        gen[b] = g
        state["writes"].append([b, g])

    def flush(kind="flush"):
        # Acknowledged and flushed: guaranteed from the mark on.
        nonlocal floor
        vol.fsync()
        floor = list(gen)
        mark(kind)

    def revert(r):
        # The volume then reads snapshot r, whose data is older than the
        # floor: "reverted" says which blocks may hold what (check_origin_at).
        nonlocal floor, reverted, reverting
        vol.fsync()
        target = {"base": state["snaps"][str(r)],
                  "since": len(state["writes"])}
        reverting = target
        mark("prerevert")
        ctl.suspend("rvol")
        try:
            ctl.message("rvol", "revert %d" % r)
        finally:
            ctl.resume("rvol")
        gen[:] = target["base"]
        floor = list(gen)
        reverted, reverting = target, None
        print("reverted to snapshot %d, acknowledged at mark %s"
              % (r, mark("revert")), flush=True)

    def snapshot(r):
        # The point in time is the suspend; every write so far completed,
        # and was flushed first, as a file system's freeze would: what a
        # snapshot holds is then never older than the origin's durable data.
        nonlocal floor
        vol.fsync()
        floor = list(gen)
        state["snaps"][str(r)] = list(gen)
        ctl.snapshot("rvol", r)
        acked_snaps.append(r)
        print("snapshot %d created, acknowledged at mark %s"
              % (r, mark("create")), flush=True)

    def delete(r):
        ctl.message("rvol", "delete %d" % r)
        acked_snaps.remove(r)
        acked_deletes.append(r)
        state["deleted"].append(r)
        print("snapshot %d deleted, acknowledged at mark %s"
              % (r, mark("delete")), flush=True)

    vol = fill_and_load(mark)
    rounds, per_round, per_flush = 4, 36, 6
    for r in range(1, rounds + 1):
        snapshot(r)
        for i in range(per_round):
            if r == 3 and i == per_round // 3:
                delete(2)
            # Mostly a hot set, so that chunks are copied again for later
            # snapshots and the deleted snapshot frees some.
            write(rng.randrange(96) if rng.random() < 0.7 else
                  rng.randrange(NBLOCKS))
            if (i + 1) % per_flush == 0:
                flush()
    # The exception journal's ring wraps: after a snapshot (a commit), one
    # flushed first write after another, each a batch and a journal block
    # of its own, so that the write after the ring's last block commits
    # and the ring starts again over blocks of the trip before.  The
    # "wrap" event's points surround that commit.
    snapshot(rounds + 1)
    ring = journal_blocks()
    for i, b in enumerate(rng.sample(range(NBLOCKS), ring + 6)):
        if i == ring - 3:
            mark("prewrap")
        write(b)
        flush("wrap" if i == ring + 2 else "flush")
    if STORE_TYPE == "row":
        # Revert to the newest snapshot: the wrap's writes die.  Then
        # writes to some of those blocks and to others, and again.
        wrapped = [b for b, _ in state["writes"][-(ring + 6):]]
        for _ in range(2):
            revert(rounds + 1)
            for i in range(per_round):
                write(rng.choice(wrapped) if i % 2 else
                      rng.randrange(NBLOCKS))
                if (i + 1) % per_flush == 0:
                    flush()
        fold_back(delete, write, flush, ctl, rng, sorted(acked_snaps))
        mark("folded")
    flush("end")
    unload(vol, ctl, mark, state, state_path)
    print("workload: %d writes, %d snapshots created, %d deleted, %d marks"
          % (len(state["writes"]), rounds + 1, len(state["deleted"]),
             nmark[0]), flush=True)


def fold_back(delete, write, flush, ctl, rng, snaps):
    """A row store's snapshots deleted oldest first, each delete followed
    by flushed writes (half of them to the hot set, whose chunks fold-back
    is copying back), then flushed writes until fold-back is done: its
    walk ends with the store empty."""
    # At 1 MiB/s the walk folds 25 chunks of 4 KiB per batch, one batch
    # every 100 ms: the writes meet it, and the log holds every batch.
    ctl.message("rvol", "fold_rate 1")
    for r in snaps:
        delete(r)
        for i in range(12):
            write(rng.randrange(96) if i % 2 else rng.randrange(NBLOCKS))
            if (i + 1) % 6 == 0:
                flush()
    for _ in range(600):
        w = ctl.status("rvol")
        if w[13] == "-" and w[2].split("/")[0] == "0":
            return
        time.sleep(0.1)
    raise RuntimeError("fold-back not done after 60 s: %s" % " ".join(w))


# ------------------------------------------------------------------ checks

class Point:
    """One replay point: a prefix of the log, [0, prefix), checked on a
    scratch copy; or that prefix without one write (omit) of its last
    batch, which starts at entry base."""

    # shadow-dump's options for dump_check (clonereplay.py's adds
    # --records: the chunks each hydrating clone copied).
    dump_options = ("--json", "--check")

    def __init__(self, checker, n, spec):
        self.c, self.n = checker, n
        self.base, self.kind, self.prefix, self.omit = spec
        self.failures = []
        self.names = []
        self.dumped = None

    def where(self):
        return "entries [0,%d)%s" % (
            self.prefix, "" if self.omit is None else
            " without entry %d" % self.omit)

    def fail(self, check, text):
        msg = "FAIL point %d (%s, %s, after mark %s): %s: %s" % (
            self.n, self.where(), self.kind, self.mark or "none", check,
            text)
        print(msg, flush=True)
        self.failures.append(msg)

    # Device-mapper by ioctl (dmioctl), not dmsetup: a point made some
    # fifteen calls, and starting dmsetup under TCG cost most of its time.
    def dm(self, name, table, readonly=False):
        """Create device name with the table (dmsetup's text); None, or
        why it was refused."""
        try:
            self.c.ctl.create(name, table, readonly)
        except OSError as exc:
            return "create %s: %s" % (name, os.strerror(exc.errno))
        self.names.append(name)
        return None

    def remove(self, name):
        """Remove device name (made by dm()); None, or why not."""
        try:
            self.c.ctl.remove(name)
        except OSError as exc:
            return "remove %s: %s" % (name, os.strerror(exc.errno))
        self.names.remove(name)
        return None

    def cleanup(self):
        for name in reversed(list(self.names)):
            err = self.remove(name)
            if err:
                self.fail("cleanup", err)
        self.names = []

    def dump_check(self, dev, when):
        """shadow-dump --check of the store; its JSON document is kept in
        self.dumped for the checks that follow."""
        flush_buffers(dev)
        r = sh(DUMP, *self.dump_options, dev, check=False)
        try:
            self.dumped = json.loads(r.stdout)
        except ValueError:
            self.dumped = None
        if r.returncode == 0:
            return
        try:
            chk = json.loads(r.stdout)["check"]
            problems = chk["problems"] or []
            bad = chk.get("bad_blocks", 0)
        except (ValueError, KeyError, TypeError):
            self.fail("store check " + when, "shadow-dump exit %d: %s %s"
                      % (r.returncode, r.stderr.strip(), r.stdout[-300:]))
            return
        for p in problems:
            text = p if isinstance(p, str) else json.dumps(p)
            kind = "leak" if "leaked" in text else "damage"
            self.fail("store check %s (%s)" % (when, kind), text)
        if bad:
            self.fail("store check %s (damage)" % when,
                      "%d metadata blocks fail their checksum" % bad)
        if not problems and not bad:
            self.fail("store check " + when, "shadow-dump exit %d: %s"
                      % (r.returncode, r.stderr.strip()))

    def snap_list(self, vol):
        try:
            out = self.c.ctl.message(vol, "list")
        except OSError as exc:
            self.fail("list", os.strerror(exc.errno))
            return None
        snaps = {}
        for line in out.split("\n"):
            w = line.split()
            if len(w) >= 5:
                snaps[int(w[0])] = (int(w[1]), w[3])
        return snaps

    def check_list(self, snaps, when):
        seqs = {}
        for sid, (seq, st) in sorted(snaps.items()):
            if seq in seqs:
                self.fail("snapshot list " + when,
                          "snapshots %d and %d share sequence %d"
                          % (seqs[seq], sid, seq))
            seqs[seq] = sid
            if st != "valid":
                self.fail("snapshot list " + when,
                          "snapshot %d is %s" % (sid, st))

    def check_snaps(self, origin_dev, snaps, when):
        """Every snapshot in snaps reads exactly what the test expects,
        through one device showing them side by side."""
        ids = sorted(snaps)
        if not ids:
            return
        lines = ["%d %d shadow-snap %s %d" % (i * ORIGIN_SECTORS,
                                             ORIGIN_SECTORS, origin_dev, sid)
                 for i, sid in enumerate(ids)]
        name = "rp%d-snaps" % self.n
        err = self.dm(name, "\n".join(lines), readonly=True)
        if err:
            self.fail("snapshot devices " + when,
                      "shadow-snap table of %s refused: %s" % (ids, err))
            return
        dev = Direct("/dev/mapper/" + name)
        try:
            for i, sid in enumerate(ids):
                try:
                    data = dev.read(i * ORIGIN_SECTORS * 512,
                                    ORIGIN_SECTORS * 512)
                except OSError as exc:
                    self.fail("snapshot read " + when,
                              "snapshot %d: %s" % (sid, exc))
                    continue
                want = self.c.image(sid)
                if data == want:
                    continue
                bad = [b for b in range(NBLOCKS)
                       if data[b * BLOCK:(b + 1) * BLOCK] !=
                       want[b * BLOCK:(b + 1) * BLOCK]]
                shown = []
                for b in bad[:4]:
                    got = decode(data[b * BLOCK:(b + 1) * BLOCK])
                    _, _, g, _ = UNIT.unpack_from(want, b * BLOCK)
                    shown.append("block %d holds %s, expected generation %d"
                                 % (b, "no pattern" if got is None else
                                    "block %d generation %d" % got, g))
                self.fail("snapshot content " + when,
                          "snapshot %d: %d of %d blocks differ; %s"
                          % (sid, len(bad), NBLOCKS, "; ".join(shown)))
        finally:
            dev.close()
            self.remove(name)

    def allowed_gens(self, reverted):
        """What each block may hold: any write of its own, or after a
        revert only the snapshot's generation and writes made since."""
        if reverted is None:
            return self.c.valid_gens
        allowed = [{g} for g in reverted["base"]]
        for b, g in self.c.state["writes"][reverted["since"]:]:
            allowed[b].add(g)
        return allowed

    def origin_faults(self, data, floor, reverted):
        """The blocks that hold what they may not, and the flushed
        writes lost, as failure texts."""
        lost, garbage, faults = [], [], []
        allowed = self.allowed_gens(reverted)
        for b in range(NBLOCKS):
            got = decode(data[b * BLOCK:(b + 1) * BLOCK])
            if got is None or got[0] != b or got[1] not in allowed[b]:
                garbage.append((b, got))
            elif floor is not None and got[1] < floor[b]:
                lost.append((b, got[1], floor[b]))
        if garbage:
            faults.append("%d blocks hold no write of theirs%s, first: %s" % (
                len(garbage), "" if reverted is None else
                " since the revert",
                ", ".join("block %d holds %s" % (
                    b, "no pattern" if g is None else "block %d gen %d" % g)
                    for b, g in garbage[:4])))
        if lost:
            faults.append("%d flushed writes lost, first: %s" % (
                len(lost), ", ".join(
                    "block %d holds generation %d, %d was flushed"
                    % x for x in lost[:4])))
        return faults

    def check_origin(self, data, floor, when):
        """Every block holds a write of its own, none older than floor
        (None: any).  Also tools/revertreplay.py's."""
        for text in self.origin_faults(data, floor, None):
            self.fail("origin content " + when, text)

    def check_origin_at(self, data, info, when):
        """What mark info guarantees of the volume, reverts included."""
        faults = self.origin_faults(data, info["floor"],
                                    info.get("reverted"))
        target = info.get("reverting")
        # A revert sent, not acknowledged: the volume may read either.
        if faults and target is not None and \
                not self.origin_faults(data, target["base"], target):
            faults = []
        for text in faults:
            self.fail("origin content " + when, text)

    def run(self):
        c, n = self.c, self.n
        self.mark, info = c.mark_before(self.prefix)
        t0 = time.time()
        c.advance(self.base)
        c.copy_to_scratch()
        if self.omit is not None:
            c.apply_to_scratch(self.base, self.prefix, self.omit)
        o, s, vol = "rp%d-o" % n, "rp%d-s" % n, "rp%d-vol" % n
        try:
            for name, start, length in ((o, 0, ORIGIN_SECTORS),
                                        (s, ORIGIN_SECTORS, STORE_SECTORS)):
                err = self.dm(name, "0 %d linear %s %d"
                              % (length, c.scratch, start))
                if err:
                    raise RuntimeError("linear %s: %s" % (name, err))
            formatted = c.store_formatted()
            if formatted:
                self.dump_check("/dev/mapper/" + s, "at the power cut")
            elif info is not None and info.get("loaded"):
                self.fail("store format", "the store's superblock is zero "
                          "after the table load was acknowledged")
            err = self.dm(vol, "0 %d shadow-origin /dev/mapper/%s "
                          "/dev/mapper/%s %s" % (ORIGIN_SECTORS, o, s,
                                                 STORE_ARGS))
            if err:
                self.fail("table load", "%s; kernel log: %s" % (
                    err, c.dmesg_tail()))
                return
            self.check_point(vol, o, info)
            err = self.remove(vol)
            if err:
                self.fail("table removal", err)
            else:
                self.dump_check("/dev/mapper/" + s, "after recovery and use")
        finally:
            self.cleanup()
            if any("(leak)" not in f for f in self.failures):
                print("    the log around point %d:\n%s" % (
                    n, c.batch(self.prefix, self.omit)), flush=True)
            print("point %d: %s %s, mark %s: %s (%.1fs)" % (
                n, self.where(), self.kind, self.mark or "none",
                "%d failures" % len(self.failures) if self.failures else "ok",
                time.time() - t0), flush=True)

    def check_point(self, vol, o, info):
        c = self.c
        snaps = self.snap_list(vol)
        if snaps is None:
            return
        self.check_list(snaps, "at load")
        created = set(int(k) for k in c.state["snaps"])
        for sid in sorted(snaps):
            if sid not in created:
                self.fail("snapshot list at load",
                          "snapshot %d exists but was never created" % sid)
        if info is not None:
            for sid in info["snaps"]:
                if sid not in snaps:
                    self.fail("snapshot durable", "snapshot %d is missing; "
                              "its create was acknowledged" % sid)
            for sid in info["deleted"]:
                if sid in snaps:
                    self.fail("delete durable", "snapshot %d exists; its "
                              "delete was acknowledged" % sid)
        known = {sid: v for sid, v in snaps.items() if sid in created}
        origin_dev = "/dev/mapper/" + o
        self.check_snaps(origin_dev, known, "at load")
        voldev = Direct("/dev/mapper/" + vol, write=True)
        try:
            data = voldev.read(0, ORIGIN_SECTORS * 512)
            if info is not None:
                self.check_origin_at(data, info, "at load")
            # The store must keep working from here: a new snapshot, copies
            # (from the free list when it has chunks), a flush.
            c.ctl.snapshot(vol, EXERCISE_ID)
            rng = random.Random(c.seed * 1000003 + self.n)
            written = {}
            for i in range(24):
                b = rng.randrange(96) if i % 2 else rng.randrange(NBLOCKS)
                g = EXERCISE_GEN + self.n * 100 + i
                voldev.write_block(b, pattern(b, g))
                written[b] = g
            voldev.fsync()
            after = voldev.read(0, ORIGIN_SECTORS * 512)
        except OSError as exc:
            self.fail("use after recovery", "origin I/O: %s; kernel log: %s"
                      % (exc, c.dmesg_tail()))
            return
        finally:
            voldev.close()
        for b, g in written.items():
            if decode(after[b * BLOCK:(b + 1) * BLOCK]) != (b, g):
                self.fail("use after recovery",
                          "origin block %d does not read back its write" % b)
        st = self.c.ctl.status_line(vol).split()
        if len(st) < 10 or st[8] != "rw" or st[7] != "0":
            self.fail("use after recovery", "status %s; kernel log: %s"
                      % (" ".join(st), c.dmesg_tail()))
        snaps2 = self.snap_list(vol)
        if snaps2 is None:
            return
        self.check_list(snaps2, "after use")
        if EXERCISE_ID not in snaps2:
            self.fail("use after recovery", "the new snapshot is missing")
        for sid in known:
            if sid not in snaps2:
                self.fail("use after recovery",
                          "snapshot %d vanished" % sid)
        c.images[EXERCISE_ID] = data
        self.check_snaps(origin_dev, {sid: v for sid, v in snaps2.items()
                                      if sid in known or
                                      sid == EXERCISE_ID}, "after use")
        del c.images[EXERCISE_ID]


class Checker:
    # The logged device's size: origin and store here, more slices in
    # clonereplay.py's; the store starts at ORIGIN_SECTORS in both.
    total_sectors = TOTAL_SECTORS

    def __init__(self, log_path, base, scratch, state_path, seed):
        self.log = logreplay.Log(log_path)
        with open(state_path) as f:
            self.state = json.load(f)
        self.base, self.scratch, self.seed = base, scratch, seed
        self.base_fd = os.open(base, os.O_RDWR)
        self.scratch_fd = os.open(scratch, os.O_RDWR)
        self.applied = 0
        self.ctl = dmioctl.Control()
        self.images = {}
        self.valid_gens = [{0} for _ in range(NBLOCKS)]
        for b, g in self.state["writes"]:
            self.valid_gens[b].add(g)
        # Marks by log index, and which of them follow the table load.
        self.marks = []
        loaded = False
        for e in self.log.entries:
            if e.mark is None:
                continue
            if e.mark == "dm-log-writes-end":  # the target's own, at removal
                continue
            if e.mark not in self.state["marks"]:
                raise RuntimeError("mark %r is not in the state" % e.mark)
            info = dict(self.state["marks"][e.mark])
            loaded = loaded or e.mark.startswith("loaded-")
            info["loaded"] = loaded
            self.marks.append((e.index, e.mark, info))

    def mark_before(self, prefix):
        """The last mark in the prefix and what it guarantees.  A snapshot
        acknowledged there must exist unless its delete was sent before
        the next mark (in flight at the point): "snaps" keeps only those
        the next mark still holds."""
        best = (None, None)
        for i, (idx, name, info) in enumerate(self.marks):
            if idx < prefix:
                info = dict(info)
                if i + 1 < len(self.marks):
                    after = self.marks[i + 1][2]["snaps"]
                    info["snaps"] = [s for s in info["snaps"] if s in after]
                best = (name, info)
        return best

    def image(self, sid):
        if sid not in self.images:
            gens = self.state["snaps"][str(sid)]
            self.images[sid] = b"".join(pattern(b, g)
                                        for b, g in enumerate(gens))
        return self.images[sid]

    def advance(self, prefix):
        assert prefix >= self.applied
        self.log.replay(self.base_fd, self.applied, prefix)
        os.fsync(self.base_fd)
        self.applied = prefix

    def copy_to_scratch(self):
        size = self.total_sectors * 512
        off = 0
        while off < size:
            chunk = os.pread(self.base_fd, min(1 << 20, size - off), off)
            os.pwrite(self.scratch_fd, chunk, off)
            off += len(chunk)
        os.fsync(self.scratch_fd)
        # Drop its page cache: the dm devices above it write underneath.
        fcntl.ioctl(self.scratch_fd, BLKFLSBUF, 0)

    def apply_to_scratch(self, start, stop, omit):
        self.log.replay(self.scratch_fd, start, omit)
        self.log.replay(self.scratch_fd, omit + 1, stop)
        os.fsync(self.scratch_fd)
        fcntl.ioctl(self.scratch_fd, BLKFLSBUF, 0)

    def store_formatted(self):
        sb = os.pread(self.scratch_fd, 512, ORIGIN_SECTORS * 512)
        return sb != bytes(512)

    BLOCK_TYPES = {0x53425348: "superblock", 0x50534853: "snapshot table",
                   0x58494853: "chunk index", 0x43524853: "records"}

    def describe(self, e):
        ss = self.log.sectorsize
        if e.mark is not None:
            return "MARK %s" % e.mark
        first = e.sector * ss // 512
        if not e.nr_sectors:
            return logreplay.flag_text(e.flags) + " (no data)"
        what = "%s %d+%d" % (logreplay.flag_text(e.flags), first,
                             e.nr_sectors * ss // 512)
        if first < ORIGIN_SECTORS:
            return what + " (origin block %d)" % (first * 512 // BLOCK)
        blk = first - ORIGIN_SECTORS
        kind = "data"
        if e.nr_sectors and not e.flags & logreplay.DISCARD:
            typ = struct.unpack_from("<I", self.log.map, e.data + 4)[0]
            kind = self.BLOCK_TYPES.get(typ, "data")
        return what + " (store block %d: %s)" % (blk, kind)

    def batch(self, prefix, omit=None):
        """The log around a point: from the FLUSH/FUA entry before it to
        the one after it, the cut marked."""
        ents = self.log.entries
        sync = logreplay.FLUSH | logreplay.FUA
        a = prefix - 1
        while a > 0 and not ents[a - 1].flags & sync:
            a -= 1
        b = prefix
        while b < len(ents) and not ents[b].flags & sync:
            b += 1
        lines = []
        for e in ents[max(a - 1, 0):min(b + 1, len(ents))]:
            if e.index == prefix:
                lines.append("      ---- power cut: entries from here on lost")
            lines.append("      %5d %s%s" % (e.index, self.describe(e),
                                               "  <- left out"
                                               if e.index == omit else ""))
        return "\n".join(lines)

    def dmesg_tail(self):
        r = sh("dmesg", check=False)
        lines = [ln for ln in r.stdout.split("\n") if ln.strip()]
        return " | ".join(lines[-4:])

    def points(self, nflush, nrandom, nsubset, nevent):
        entries = self.log.entries
        total = len(entries)
        rng = random.Random(self.seed)
        flush = [e.index + 1 for e in entries
                 if e.flags & (logreplay.FLUSH | logreplay.FUA)]
        chosen_flush = flush
        if len(flush) > nflush:
            chosen_flush = sorted(rng.sample(flush, nflush))
        # Only points after the initial fill of the origin (the "init"
        # mark): before it the test is only writing its own data.
        first = min(idx for idx, name, _ in self.marks
                    if name.startswith("init-")) + 1
        flush = [p for p in flush if p > first]
        fset = set(flush)
        between = [p for p in range(first + 1, total + 1) if p not in fset]
        chosen_random = sorted(rng.sample(between, min(nrandom,
                                                      len(between))))
        # Every point of the batches that load the table (format), create
        # and delete snapshots, and revert: from the mark before the event
        # to its own mark, and on to the second flush after it (the commit
        # that follows: a delete's freed chunks join the free list there).
        # Those commits change the superblock, the snapshot table and the
        # free list together.
        events = {}
        prev = first - 1
        for idx, name, _ in self.marks:
            if name.split("-")[0] in ("loaded", "create", "delete",
                                      "wrap", "revert", "folded"):
                end, seen = idx + 1, 0
                while end < total and seen < 2:
                    if entries[end].flags & (logreplay.FLUSH |
                                             logreplay.FUA):
                        seen += 1
                    end += 1
                for p in range(prev + 1, end + 1):
                    events[p] = name
            prev = idx
        # Format version 2's commits are longer than version 1's: keep
        # every flush of the events, and a sample of their other points.
        if len(events) > nevent:
            keep = [p for p in events if p in fset]
            rest = sorted(p for p in events if p not in fset)
            keep += rng.sample(rest, max(0, min(len(rest),
                                                nevent - len(keep))))
            events = {p: events[p] for p in keep}
        kinds = {}
        for p in chosen_random:
            kinds[p] = "inside a batch"
        for p, name in events.items():
            kinds[p] = ("flush/FUA point" if p in fset else
                        "inside a batch") + " of " + name
        for p in chosen_flush:
            kinds.setdefault(p, "flush/FUA point")
        pts = [(p, k, p, None) for p, k in kinds.items()]
        # A disk's cache may keep any subset of the writes since the last
        # flush, not only the prefixes the log shows.  In the batches of
        # the events above (2 to 8 writes), also each write but the last
        # left out: the module's commits claim that any subset of a commit
        # is consistent.
        sync = logreplay.FLUSH | logreplay.FUA
        subsets = []
        for b in sorted(set(p - 1 for p in events if p - 1 < total)):
            if not entries[b].flags & sync:
                continue
            a = b
            while a > first and not entries[a - 1].flags & sync:
                a -= 1
            data = [e.index for e in entries[a:b]
                    if e.mark is None and e.nr_sectors]
            if 2 <= len(data) <= 8 and a in events:
                for j in data[:-1]:
                    subsets.append((a, "batch subset of " +
                                    events.get(b + 1, events[a]), b, j))
        if len(subsets) > nsubset:
            subsets = rng.sample(subsets, nsubset)
        pts += subsets
        pts.sort(key=lambda x: (x[0], x[2], x[3] or 0))
        return flush, pts


def share_of(pts, share):
    """The points of share "i/N": those numbered i-1, i-1+N, ... of the
    sample.  run-all gives kernel i of N share i/N: the run checks one
    sample's worth of points, spread over its kernels, rather than a
    whole sample on each."""
    i, n = (int(x) for x in share.split("/"))
    if not 1 <= i <= n:
        raise ValueError("share %s: i must be from 1 to N" % share)
    return [(k, spec) for k, spec in enumerate(pts) if k % n == i - 1]


def check(log_path, base, scratch, state_path, seed, nflush, nrandom,
          nsubset, nevent, share, checker_cls=Checker, point_cls=Point,
          events="a table load, create or delete"):
    """Checks share of the points checker_cls picks, each by point_cls
    (clonereplay.py passes its own; events: what its event batches
    are, for the summary line)."""
    c = checker_cls(log_path, base, scratch, state_path, seed)
    flush, pts = c.points(nflush, nrandom, nsubset, nevent)
    print("log: %d entries, %d FLUSH/FUA points after the initial fill; "
          "replay seed %d: checking %d points (%d flush/FUA, %d inside "
          "batches, %d in the batches of %s; "
          "%d batch subsets)" % (
              len(c.log.entries), len(flush), seed, len(pts),
              sum(1 for _, k, _, _ in pts if k.startswith("flush")),
              sum(1 for _, k, _, _ in pts if k.startswith("inside")),
              sum(1 for _, k, _, o in pts if " of " in k and o is None),
              events,
              sum(1 for _, _, _, o in pts if o is not None)), flush=True)
    print("points (* inside a batch, -N: without entry N): " + " ".join(
        "%d%s" % (p, ("" if k.startswith("flush") else "*") if o is None
                  else "-%d" % o) for _, k, p, o in pts), flush=True)
    mine = share_of(pts, share)
    print("share %s: checking points %s" % (
        share, " ".join(str(n) for n, _ in mine)), flush=True)
    failures = []
    failed_points = []
    for n, spec in mine:
        pt = point_cls(c, n, spec)
        pt.run()
        if pt.failures:
            failures += pt.failures
            failed_points.append(n)
    print("checked %d replay points: %d failed%s" % (
        len(mine), len(failed_points),
        " (%s)" % " ".join(map(str, failed_points)) if failed_points
        else ""), flush=True)
    kinds = {}
    for f in failures:
        key = f.split("): ", 1)[1].split(": ", 1)[0]
        kinds[key] = kinds.get(key, 0) + 1
    for key in sorted(kinds):
        print("  %4d x %s" % (kinds[key], key))
    return 1 if failures else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "work":
        work(argv[2], int(argv[3]))
        return 0
    if len(argv) == 12 and argv[1] == "check":
        return check(argv[2], argv[3], argv[4], argv[5], int(argv[6]),
                     int(argv[7]), int(argv[8]), int(argv[9]),
                     int(argv[10]), argv[11])
    sys.stderr.write(__doc__)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
