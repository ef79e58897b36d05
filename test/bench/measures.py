"""The measures: each one sets up one stack on fresh brd disks, takes its
figures, tears down, and returns cells keyed by table column.

A cell is a number, or {"v": number, "note": text}, or {"na": why} when
the measure does not exist for that target.  Anything that goes wrong
raises; the driver records the error in the cell instead.
"""
import hashlib
import mmap
import os
import random
import statistics
import subprocess
import time

import cbt
import fio
import memory
from stacks import NotApplicable

MiB = 1 << 20


def prefill(dev, size):
    fio.run("seqwrite", dev, size, ["--bs=%d" % min(MiB, size)])


def seq_columns(prefix):
    """The columns of a sequential write table, one per snapshot count of
    the profile, keyed prefix + 's<n>'."""
    return lambda p: [(prefix + "s%d" % n, "%d snapshots" % n, "MiB/s",
                       "higher") for n in p["snap_counts"]]


# The sequential writes after n snapshots: (column prefix, fio job), each
# over its own part of the filled region, in this order.
SEQ_JOBS = (("", "seqwrite"), ("q1_", "seqwrite_qd1"),
            ("k64_", "seqwrite64k_qd1"))


def seqwrite(env, stack, p):
    """Sequential writes over seq_mib after n snapshots taken of a filled
    region: 1 MiB at QD4 (libaio), 1 MiB at QD1 (psync) and 64 KiB at QD1,
    each over a part of the region of its own, so every chunk written is a
    first write."""
    cells = {}
    size = p["seq_mib"] * MiB
    for n in p["snap_counts"]:
        col = "s%d" % n
        na = None
        if n and not stack.snapshots:
            na = {"na": "no snapshots"}
        elif stack.max_snaps is not None and n > stack.max_snaps:
            na = {"na": "not run (limit %d)" % stack.max_snaps}
        if na:
            cells.update((pre + col, na) for pre, _ in SEQ_JOBS)
            continue
        env.fresh_disks()
        dev = stack.setup(n)
        try:
            prefill(dev, size * len(SEQ_JOBS))
            for _ in range(n):
                stack.snapshot()
            for i, (pre, job) in enumerate(SEQ_JOBS):
                cells[pre + col] = fio.run(job, dev, size,
                                           offset=i * size)["mibps"]
        finally:
            stack.teardown()
    return cells


def randwrite(env, stack, p):
    """4 KiB writes in a random order, one at the start of every chunk of a
    filled region (first writes after one snapshot), then the same writes
    again (re-writes), at QD16; then reads of the origin and of the
    snapshot over that region; then the same first writes and re-writes at
    QD1 over a second region (rand_qd1_ios chunks) right after it."""
    chunk = (stack.chunk or 8) * 512
    region = p["rand_ios"] * chunk
    rr = ["--time_based", "--runtime=%d" % p["randread_secs"]]
    env.fresh_disks()
    dev = stack.setup(1)
    cells = {}
    try:
        prefill(dev, region + p["rand_qd1_ios"] * chunk)
        if stack.snapshots:
            stack.snapshot()
        first = fio.chunk_writes(dev, chunk, p["rand_ios"])
        again = fio.chunk_writes(dev, chunk, p["rand_ios"])
        cells.update(first_iops=first["iops"], first_p99=first["p99_us"],
                     re_iops=again["iops"], re_p99=again["p99_us"])
        sr = fio.run("seqread", dev, region)
        rd = fio.run("randread", dev, region, rr)
        cells.update(o_seq=sr["mibps"], o_iops=rd["iops"], o_p99=rd["p99_us"])
        if stack.snapshots:
            sdev = stack.open_snap()
            try:
                sr = fio.run("seqread", sdev, region)
                rd = fio.run("randread", sdev, region, rr)
            finally:
                stack.close_snap()
            cells.update(s_seq=sr["mibps"], s_iops=rd["iops"],
                         s_p99=rd["p99_us"])
        else:
            for c in ("s_seq", "s_iops", "s_p99"):
                cells[c] = {"na": "no snapshots"}
        first = fio.chunk_writes(dev, chunk, p["rand_qd1_ios"], qd=1,
                                 base=region)
        again = fio.chunk_writes(dev, chunk, p["rand_qd1_ios"], qd=1,
                                 base=region)
        cells.update(q1_first_iops=first["iops"], q1_first_p99=first["p99_us"],
                     q1_re_iops=again["iops"], q1_re_p99=again["p99_us"])
    finally:
        stack.teardown()
    return cells


def create_time(env, stack, p):
    """Milliseconds to take one snapshot (suspend, create, resume, and for
    dm-snapshot the snapshot device's load) with 1 and with many existing;
    the median of create_reps creations each."""
    if not stack.snapshots:
        return {c: {"na": "no snapshots"} for c in ("c1", "cn", "bulk")}
    many = p["dmsnap_create_many"] if stack.kind == "dm-snapshot" \
        else p["create_many"]
    reps = p["create_reps"]
    if stack.max_snaps is not None and many + 2 * reps > stack.max_snaps:
        return {c: {"na": "not run (limit %d)" % stack.max_snaps}
                for c in ("c1", "cn", "bulk")}
    env.fresh_disks()
    stack.setup(many + 2 * reps)
    try:
        stack.snapshot()
        few = [stack.time_snapshot() for _ in range(reps)]
        bulk = [stack.time_snapshot() for _ in range(many - stack.n)]
        lots = [stack.time_snapshot() for _ in range(reps)]
    finally:
        stack.teardown()
    return {"c1": statistics.median(few) * 1000,
            "cn": {"v": statistics.median(lots) * 1000,
                   "note": "%d existing" % many},
            "bulk": {"v": sum(bulk), "note": "%d snapshots" % len(bulk)}}


def freeze(env, stack, p):
    """Freeze window of a set of freeze_vols volumes: first suspend to last
    resume, snapshots of each created in between."""
    if not stack.snapshots or stack.no_freeze_set:
        return {c: {"na": stack.no_freeze_set or "no snapshots"}
                for c in ("median", "max", "suspend", "create", "resume")}
    env.fresh_disks()
    times, phases = stack.freeze_set(p["freeze_vols"], p["freeze_reps"])
    reps = len(times)
    return {"median": statistics.median(times) * 1000,
            "max": max(times) * 1000,
            "suspend": phases["suspend"] * 1000 / reps,
            "create": phases["create"] * 1000 / reps,
            "resume": phases["resume"] * 1000 / reps}


MEM_COLS = ("pinned", "cache", "bufio", "top", "setup", "data", "meta")


def metadata_cost(env, stack, p):
    """Copy N chunks (one snapshot, then a 4 KiB write at the start of each
    chunk of a filled region, in a random order); kernel memory deltas per
    million copied chunks (memory.py says what they count), and store
    bytes per copied chunk from the target's own usage counts.

    When N chunks of data are more than mem_real_max_mib, the origin and
    the store's data areas are dm-zero devices (writes vanish) and only
    the store's metadata is on a RAM disk: the metadata, which is what is
    measured, is built and kept exactly as with real data."""
    if not stack.snapshots or stack.no_store_copies:
        return {c: {"na": stack.no_store_copies or "no snapshots"}
                for c in MEM_COLS}
    chunk = stack.chunk * 512
    n = p["mem_chunks"]
    region = n * chunk
    sparse = region > p["mem_real_max_mib"] * MiB
    env.fresh_disks()
    before = memory.sample()
    dev = stack.setup_sparse(n) if sparse else stack.setup(1)
    try:
        prefill(dev, region)
        stack.snapshot()
        u0 = stack.usage()
        a = memory.sample()
        fio.chunk_writes(dev, chunk, n)
        live = memory.delta(a, memory.sample(drop=False))
        kept = memory.delta(a, memory.sample())
        u1 = stack.usage()
    finally:
        stack.teardown()
    setup = memory.delta(before, a)
    copied = (u1["data"] - u0["data"]) / chunk
    if abs(copied - n) > 2:  # dm-snapshot's count moves by areas
        raise RuntimeError("%.0f chunks copied, expected %d" % (copied, n))
    scale = 1e6 / n / MiB
    note = "N=%d%s" % (n, ", data discarded" if sparse else "")
    top = ", ".join("%s %.1f" % (name, v * scale)
                    for v, name in kept["top_caches"][:3]
                    if v * scale >= 0.05) or "none grew"
    return {
        "pinned": {"v": kept["pinned"] * scale, "note": note},
        "cache": live["cache"] * scale,
        "bufio": live["bufio"] * scale,
        "top": {"t": top},
        "setup": setup["pinned"] / MiB + setup["cache"] / MiB,
        "data": (u1["data"] - u0["data"]) / n,
        "meta": (u1["meta"] - u0["meta"]) / n,
        "_detail": {"live": live, "kept": kept, "setup": setup,
                    "sparse": sparse},
    }


DEL_COLS = ("d_base_p99", "d_p99", "d_max", "d_cmd", "d_secs")


def under_load(load, base_secs, action, start, finish):
    """Times an action that runs in the background while load (a
    fio.Load) writes: base_secs of load alone, then start() (the command)
    and finish() (waits until the action is done).  Returns t0, t1, t2
    (before start, after start, after finish) and the load's write
    latencies before t0 and between t0 and t2."""
    try:
        load.wait_started()
        time.sleep(base_secs)
        t0 = time.time()
        start()
        t1 = time.time()
        finish()
        t2 = time.time()
        time.sleep(0.2)  # the writes in flight at t2 complete
    except BaseException:
        load.stop()
        raise
    before, during = load.stop(t0, t2)
    if not before:
        raise RuntimeError("no write completed before the " + action)
    return t0, t1, t2, before, during


def delete_stall(env, stack, p):
    """Origin writes while a snapshot is deleted: one snapshot, del_chunks
    chunks copied (a 4 KiB write at the start of each, as in the memory
    measure, and dm-zero data the same way when they are too many for
    RAM); then a steady load of QD1 4 KiB random re-writes of the copied
    region, and del_base_secs into it the snapshot's delete.  Figures: the
    p99 write latency before the delete, the p99 and the max of the
    writes in flight from the delete command to its space being free, the
    command's own time and the time until the space is free."""
    if not stack.snapshots or stack.no_store_copies:
        return {c: {"na": stack.no_store_copies or "no snapshots"}
                for c in DEL_COLS}
    chunk = stack.chunk * 512
    n = p["del_chunks"]
    region = n * chunk
    sparse = region > p["mem_real_max_mib"] * MiB
    env.fresh_disks()
    dev = stack.setup_sparse(n) if sparse else stack.setup(1)
    try:
        prefill(dev, region)
        stack.snapshot()
        fio.chunk_writes(dev, chunk, n)
        t0, t1, t2, before, during = under_load(
            fio.Load(dev, region), p["del_base_secs"], "delete",
            stack.delete_snapshot,
            lambda: stack.wait_freed(p["del_timeout"]))
    finally:
        stack.teardown()
    return {
        "d_base_p99": {"v": fio.percentile(before, 99),
                       "note": "N=%d%s" % (n, ", data discarded"
                                           if sparse else "")},
        "d_p99": fio.percentile(during, 99),
        "d_max": {"v": max(during), "note": "%d writes" % len(during)},
        "d_cmd": (t1 - t0) * 1000,
        "d_secs": {"v": t2 - t0, "note": stack.delete_how},
    }


def md5_of(dev, length):
    """md5 of the first length bytes of dev, read with O_DIRECT: a merge
    changes what the device holds under any cached page."""
    h = hashlib.md5()
    buf = mmap.mmap(-1, MiB)
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    try:
        off = 0
        while off < length:
            n = os.preadv(fd, [memoryview(buf)[:min(MiB, length - off)]], off)
            if n <= 0:
                raise RuntimeError("%s: short read at %d" % (dev, off))
            h.update(buf[:n])
            off += n
    finally:
        os.close(fd)
    return h.hexdigest()


REV_COLS = ("r_cps", "r_mibps", "r_cmd", "r_base_p50", "r_base_p99",
            "r_p50", "r_p99")


def revert_merge(env, stack, p):
    """Roll the origin back to a snapshot: the chunks of a filled region
    changed after it (a 4 KiB write at the start of each, in a random
    order), then the merge (dm-shadow's revert, dm-snapshot's
    snapshot-merge) timed from its command until the target says it has
    finished: chunks merged per second and their MiB per second.  The
    region is rv_chunks chunks, then rv_load_chunks more that a QD1 4 KiB
    random re-write load keeps writing from rv_base_secs before the merge
    to its end: p50 and p99 before and during the merge (a write to a
    chunk not merged yet waits for it).  The first rv_chunks chunks must
    then read exactly what the snapshot read (md5), and must have read
    something else before; the load's chunks hold the load's data."""
    if stack.merge_how is None:
        return {c: {"na": "no merge into the origin"} for c in REV_COLS}
    chunk = stack.chunk * 512
    n = p["rv_chunks"] + p["rv_load_chunks"]
    region = p["rv_chunks"] * chunk
    env.fresh_disks()
    dev = stack.setup(1)
    try:
        prefill(dev, n * chunk)
        stack.snapshot()
        sdev = stack.open_snap()
        try:
            want = md5_of(sdev, region)
        finally:
            stack.close_snap()
        fio.chunk_writes(dev, chunk, n)
        if md5_of(dev, region) == want:
            raise RuntimeError("the writes after the snapshot changed "
                               "nothing: the merge would prove nothing")
        t0, t1, t2, before, during = under_load(
            fio.Load(dev, p["rv_load_chunks"] * chunk, offset=region),
            p["rv_base_secs"], "merge", stack.start_merge,
            lambda: stack.wait_merged(p["rv_timeout"]))
        got = md5_of(dev, region)
        if got != want:
            raise RuntimeError("the merged origin reads md5 %s, the "
                               "snapshot read %s" % (got, want))
    finally:
        stack.teardown()
    secs = t2 - t0
    return {
        "r_cps": {"v": n / secs, "note": "N=%d, %.1f s" % (n, secs)},
        "r_mibps": {"v": n * chunk / MiB / secs, "note": stack.merge_how},
        "r_cmd": (t1 - t0) * 1000,
        "r_base_p50": fio.percentile(before, 50),
        "r_base_p99": fio.percentile(before, 99),
        "r_p50": fio.percentile(during, 50),
        "r_p99": {"v": fio.percentile(during, 99),
                  "note": "%d writes" % len(during)},
    }


def direct_writes(dev, offsets):
    """One 4 KiB O_DIRECT write at each byte offset, in order: without
    fio's start-up, which would cost more than the writes when a few
    follow each of hundreds of snapshots."""
    buf = mmap.mmap(-1, 4096)
    buf.write(os.urandom(4096))
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
    try:
        for off in offsets:
            if os.pwritev(fd, [buf], off) != 4096:
                raise RuntimeError("short write at byte %d of %s"
                                   % (off, dev))
    finally:
        os.close(fd)
        buf.close()


LR_COLS = ("lr_1", "lr_n")


def live_reads(env, stack, p):
    """Random 4 KiB reads of the live volume (QD16, randread_secs) over
    a filled region of rand_ios chunks, lr_writes of which were rewritten
    (a 4 KiB write at their start) after snapshots: all of them after one
    snapshot, or as many after each of lr_snaps; the same chunks both
    times.  Where the live data is in the store (row), a read should cost
    the same whatever the number of snapshots."""
    if not stack.snapshots:
        return {c: {"na": "no snapshots"} for c in LR_COLS}
    chunk = (stack.chunk or 8) * 512
    region = p["rand_ios"] * chunk
    order = list(range(p["rand_ios"]))
    random.Random(1).shuffle(order)
    order = order[:p["lr_writes"]]
    rr = ["--time_based", "--runtime=%d" % p["randread_secs"]]
    cells = {}
    for col, n in (("lr_1", 1), ("lr_n", p["lr_snaps"])):
        if stack.max_snaps is not None and n > stack.max_snaps:
            cells[col] = {"na": "not run (limit %d)" % stack.max_snaps}
            continue
        per = len(order) // n
        env.fresh_disks()
        dev = stack.setup(n)
        try:
            prefill(dev, region)
            for k in range(n):
                stack.snapshot()
                direct_writes(dev, [c * chunk for c in
                                    order[k * per:(k + 1) * per]])
            cells[col] = fio.run("randread", dev, region, rr)["iops"]
        finally:
            stack.teardown()
    if not isinstance(cells["lr_n"], dict):
        cells["lr_n"] = {"v": cells["lr_n"], "note": "%d snapshots, %d "
                         "after each" % (p["lr_snaps"], per)}
    return cells


FB_COLS = ("fb_mibps", "fb_copy", "fb_rate")


def raw_copy(src, dst, mib):
    """MiB/s of a raw sequential copy of mib MiB from one disk to another
    (dd, 1 MiB direct I/O): what a store's background copy compares with."""
    t0 = time.time()
    subprocess.run(["dd", "if=" + src, "of=" + dst, "bs=1M",
                    "count=%d" % mib, "iflag=direct", "oflag=direct",
                    "status=none"], check=True)
    return mib / (time.time() - t0)


def fold_back(env, stack, p):
    """Fold-back on an idle volume (row stores): one snapshot of a
    filled region of fb_mib, the whole region rewritten (1 MiB writes:
    every chunk gets a version), then the snapshot's delete, timed until
    the store is empty (every chunk copied back into the origin device);
    and a raw sequential copy of the same size from one disk to another
    (dd, 1 MiB direct I/O) right after, to compare with; then the same
    fold-back throttled to fb_rate MiB/s (the fold_rate message), the
    rate it keeps over fb_secs once it has started."""
    if not stack.folds:
        return {c: {"na": "no fold-back"} for c in FB_COLS}
    size = p["fb_mib"] * MiB
    versions_to_fold(env, stack, size)
    try:
        t0 = time.time()
        stack.delete_snapshot()
        stack.wait_freed(p["fb_timeout"])
        fold = size / MiB / (time.time() - t0)
    finally:
        stack.teardown()
    src, dst = stack.disks[2], stack.disks[3]
    prefill(src, size)
    copy = raw_copy(src, dst, p["fb_mib"])
    rate = throttled_fold(env, stack, size, p["fb_rate"], p["fb_secs"])
    return {"fb_mibps": {"v": fold, "note": "%.2fx the raw copy"
                         % (fold / copy)},
            "fb_copy": copy,
            "fb_rate": {"v": rate, "note": "%.2fx the %d MiB/s set"
                        % (rate / p["fb_rate"], p["fb_rate"])}}


def versions_to_fold(env, stack, size):
    """A row stack set up with one snapshot of a filled region of size,
    the whole region rewritten after it (1 MiB writes): every chunk has a
    version to fold back once the snapshot goes."""
    env.fresh_disks()
    dev = stack.setup(1)
    try:
        prefill(dev, size)
        stack.snapshot()
        prefill(dev, size)
    except BaseException:
        stack.teardown()
        raise


def throttled_fold(env, stack, size, rate, secs):
    """MiB/s a fold-back at fold_rate rate keeps over secs, once it has
    started: the chunks it freed between two status reads (each folded
    chunk frees its one version)."""
    versions_to_fold(env, stack, size)
    try:
        stack.set_fold_rate(rate)
        stack.delete_snapshot()
        return chunk_rate(lambda: -stack.used_chunks(), stack.chunk, secs)
    finally:
        stack.teardown()


def chunk_rate(chunks_done, chunk, secs):
    """MiB/s of chunks of chunk sectors done over secs, from 0.5 s on (once
    the work has started): chunks_done() counts them, up."""
    time.sleep(0.5)
    c0 = chunks_done()
    t0 = time.time()
    time.sleep(secs)
    c1 = chunks_done()
    return (c1 - c0) * chunk * 512 / MiB / (time.time() - t0)


HY_COLS = ("hy_mibps", "hy_copy", "hy_rate", "hy_rate4k")


def hydrate(env, stack, p):
    """Clones: a clone of a filled origin of hy_mib hydrated on an idle volume,
    MiB/s from the first status read after its create until it is
    complete, beside a raw sequential copy of the same size (dd, 1 MiB
    direct I/O, one disk to another) right after; then a clone hydrating
    at hy_rate MiB/s, the rate it keeps over hy_secs once it has started,
    and the same at 4 KiB chunks and hy_rate_4k MiB/s, where a batch is
    a few jiffies long at most (256 chunks, 1 MiB).

    Both rates count the chunks copied between two status reads: the
    create itself (suspend, message, resume) is the freeze measure's, and
    at this size its long mode (55-70 ms, dm-thin's too) would be a
    seventh of the whole."""
    if not stack.hydrates:
        return {c: {"na": "no hydration"} for c in HY_COLS}
    # Not the whole disk: the brd disks keep every page ever written, and
    # an origin, its clone and the copy of a whole disk each, beside what
    # the other measures wrote, do not fit in the guest's RAM.
    mib = min(p["hy_mib"], p["disk_mib"])
    size = mib * MiB
    env.fresh_disks()
    # brd allocates a page the first time it is written: both copies'
    # destinations are written once first, so that neither pays for it.
    for d in (stack.disks[2], stack.disks[3]):
        prefill(d, size)
    dev = stack.setup_rate(0, mib)
    try:
        prefill(dev, size)
        stack.snapshot()
        _, c0, total = stack.clone_state()
        t0 = time.time()
        stack.wait_complete(p["hy_timeout"])
        hyd = (total - c0) * stack.chunk * 512 / MiB / (time.time() - t0)
    finally:
        stack.teardown()
    copy = raw_copy(stack.disks[0], stack.disks[3], mib)
    rate = throttled_rate(env, stack, p["hy_rate"], p["hy_secs"])
    rate4k = throttled_rate(env, stack, p["hy_rate_4k"], p["hy_secs"], 8)
    return {"hy_mibps": {"v": hyd, "note": "%.2fx the raw copy"
                         % (hyd / copy)},
            "hy_copy": copy,
            "hy_rate": {"v": rate, "note": "%.2fx the %d MiB/s set"
                        % (rate / p["hy_rate"], p["hy_rate"])},
            "hy_rate4k": {"v": rate4k, "note": "%.2fx the %d MiB/s set"
                          % (rate4k / p["hy_rate_4k"], p["hy_rate_4k"])}}


def throttled_rate(env, stack, rate, secs, chunk=None):
    """MiB/s a clone hydrating at hydrate_rate rate keeps over secs, once
    it has started, at chunk sectors (None: the stack's)."""
    env.fresh_disks()
    stack.setup_rate(rate, chunk=chunk)
    try:
        stack.snapshot()
        return chunk_rate(lambda: stack.clone_state()[1],
                          chunk or stack.chunk, secs)
    finally:
        stack.teardown()


# The tables: (id, function, title, columns: (key, heading, unit, better)).
# better: "higher", "lower", or None (shown without ratios).
MEASURES = [
    ("seqwrite", seqwrite,
     "Sequential write on the origin after n snapshots (1 MiB, QD4 libaio)",
     seq_columns("")),
    ("seqwrite_qd1", None,
     "Sequential write on the origin after n snapshots (1 MiB, QD1 psync)",
     seq_columns("q1_")),
    ("seqwrite64k_qd1", None,
     "Sequential write on the origin after n snapshots (64 KiB, QD1 psync: "
     "at 4 KiB chunks each write covers 16 chunks)",
     seq_columns("k64_")),
    ("randfirst", randwrite, "4 KiB random first-writes (one per chunk, "
     "after 1 snapshot; QD16 libaio)",
     [("first_iops", "IOPS", "IOPS", "higher"),
      ("first_p99", "p99 latency", "us", "lower")]),
    ("randre", None, "4 KiB random re-writes (the same offsets again; QD16 "
     "libaio)",
     [("re_iops", "IOPS", "IOPS", "higher"),
      ("re_p99", "p99 latency", "us", "lower")]),
    ("randfirst_qd1", None, "4 KiB random first-writes (one per chunk, "
     "after 1 snapshot; QD1 psync)",
     [("q1_first_iops", "IOPS", "IOPS", "higher"),
      ("q1_first_p99", "p99 latency", "us", "lower")]),
    ("randre_qd1", None, "4 KiB random re-writes (the same offsets again; "
     "QD1 psync)",
     [("q1_re_iops", "IOPS", "IOPS", "higher"),
      ("q1_re_p99", "p99 latency", "us", "lower")]),
    ("oread", None, "Reads of the origin (region of the random writes)",
     [("o_seq", "seq 1 MiB", "MiB/s", "higher"),
      ("o_iops", "rand 4 KiB", "IOPS", "higher"),
      ("o_p99", "rand p99", "us", "lower")]),
    ("sread", None, "Reads of the snapshot (every chunk read from the store)",
     [("s_seq", "seq 1 MiB", "MiB/s", "higher"),
      ("s_iops", "rand 4 KiB", "IOPS", "higher"),
      ("s_p99", "rand p99", "us", "lower")]),
    ("create", create_time, "Time to create one snapshot",
     [("c1", "with 1 existing", "ms", "lower"),
      ("cn", "with many existing", "ms", "lower"),
      ("bulk", "creating them all", "s", None)]),
    ("freeze", freeze, "Freeze window of a volume set (first suspend to "
     "last resume, one snapshot per volume; 8 volumes in full runs)",
     [("median", "median", "ms", "lower"), ("max", "max", "ms", "lower"),
      ("suspend", "of which suspending", "ms", None),
      ("create", "creating", "ms", None),
      ("resume", "resuming", "ms", None)]),
    ("kmem", metadata_cost, "Kernel memory per million copied chunks "
     "(extrapolated from N copies in a random order)",
     [("pinned", "pinned: unreclaimable, after drop_caches", "MiB",
       "lower"),
      ("cache", "cache: reclaimable, live", "MiB", "lower"),
      ("bufio", "of which dm-bufio", "MiB", None),
      ("top", "slab caches grown most, kept (MiB per million)", "", None),
      ("setup", "fixed at setup, not scaled", "MiB", None)]),
    ("space", None, "Store space per copied chunk",
     [("data", "data bytes", "B", "lower"),
      ("meta", "metadata bytes", "B", "lower")]),
    ("delstall", delete_stall, "Origin writes while a snapshot is deleted "
     "(QD1 psync 4 KiB re-writes of copied chunks; one snapshot with N "
     "copied chunks)",
     [("d_base_p99", "p99 before the delete", "us", "lower"),
      ("d_p99", "p99 until freed", "us", "lower"),
      ("d_max", "max until freed", "us", "lower"),
      ("d_cmd", "delete command", "ms", "lower"),
      ("d_secs", "until the space is free", "s", "lower")]),
    ("revert", revert_merge, "Rolling the origin back to a snapshot (N "
     "chunks changed since it, merged back; the result checked by md5)",
     [("r_cps", "merge", "chunks/s", "higher"),
      ("r_mibps", "merge", "MiB/s", "higher"),
      ("r_cmd", "command", "ms", "lower")]),
    ("revertlat", None, "Origin writes while the merge runs (QD1 psync "
     "4 KiB random re-writes of changed chunks, merged with the rest)",
     [("r_base_p50", "p50 before", "us", "lower"),
      ("r_base_p99", "p99 before", "us", "lower"),
      ("r_p50", "p50 merging", "us", "lower"),
      ("r_p99", "p99 merging", "us", "lower")]),
    ("liveread", live_reads, "Random 4 KiB reads of the live volume (QD16) "
     "after 1 and after many snapshots, the same chunks rewritten between "
     "them (256 snapshots in full runs)",
     [("lr_1", "1 snapshot", "IOPS", "higher"),
      ("lr_n", "many snapshots", "IOPS", "higher")]),
    ("foldback", fold_back, "Fold-back on an idle volume: a rewritten "
     "region copied back into the origin after the last snapshot's delete",
     [("fb_mibps", "fold-back", "MiB/s", "higher"),
      ("fb_copy", "raw copy, same size", "MiB/s", None),
      ("fb_rate", "throttled (fold_rate)", "MiB/s", None)]),
    ("hydrate", hydrate, "Clones: hydration of a filled origin (256 MiB in "
     "full runs) on an idle volume, and at a set rate",
     [("hy_mibps", "hydration", "MiB/s", "higher"),
      ("hy_copy", "raw copy, same size", "MiB/s", None),
      ("hy_rate", "throttled (hydrate_rate)", "MiB/s", None),
      ("hy_rate4k", "throttled, 4 KiB chunks", "MiB/s", None)]),
    ("cbt", cbt.diff_time, "Changed-block tracking: time of shadowctl diff "
     "between two copies, dm-zero origins (the cost should follow the "
     "changed chunks, not the volume's size)",
     cbt.diff_columns),
    ("cbtexport", None, "Incremental export (shadowctl export --since) of "
     "a volume of random data with 1% of its chunks changed",
     [("ex_over", "stream over the changed data", "%", "lower"),
      ("ex_ms", "export time", "ms", "lower")]),
]


def columns(cols, p):
    """A table's columns: cols, or cols(p) when they follow the profile."""
    return cols(p) if callable(cols) else cols
