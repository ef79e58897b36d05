"""The measures: each one sets up one stack on fresh brd disks, takes its
figures, tears down, and returns cells keyed by table column.

A cell is a number, or {"v": number, "note": text}, or {"na": why} when
the measure does not exist for that target.  Anything that goes wrong
raises; the driver records the error in the cell instead.
"""
import statistics

import fio
import memory
from stacks import NotApplicable

MiB = 1 << 20


def prefill(dev, size):
    fio.run("seqwrite", dev, size, ["--bs=%d" % min(MiB, size)])


def seqwrite(env, stack, p):
    """Sequential 1 MiB writes over seq_mib after n snapshots taken of a
    filled region: every chunk written is a first write."""
    cells = {}
    size = p["seq_mib"] * MiB
    for n in p["snap_counts"]:
        col = "s%d" % n
        if n and not stack.snapshots:
            cells[col] = {"na": "no snapshots"}
            continue
        if stack.max_snaps is not None and n > stack.max_snaps:
            cells[col] = {"na": "not run (limit %d)" % stack.max_snaps}
            continue
        env.fresh_disks()
        dev = stack.setup(n)
        try:
            prefill(dev, size)
            for _ in range(n):
                stack.snapshot()
            cells[col] = fio.run("seqwrite", dev, size)["mibps"]
        finally:
            stack.teardown()
    return cells


def randwrite(env, stack, p):
    """4 KiB random writes, one per chunk of a filled region (first writes
    after one snapshot), then the same writes again (re-writes); then reads
    of the origin and of the snapshot over that region."""
    chunk = (stack.chunk or 8) * 512
    region = p["rand_ios"] * chunk
    extra = ["--blockalign=%d" % chunk, "--io_size=%d" % (p["rand_ios"] * 4096)]
    rr = ["--time_based", "--runtime=%d" % p["randread_secs"]]
    env.fresh_disks()
    dev = stack.setup(1)
    cells = {}
    try:
        prefill(dev, region)
        if stack.snapshots:
            stack.snapshot()
        first = fio.run("randwrite", dev, region, extra)
        again = fio.run("randwrite", dev, region, extra)
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
    if not stack.snapshots:
        return {c: {"na": "no snapshots"} for c in ("median", "max")}
    env.fresh_disks()
    times = stack.freeze_set(p["freeze_vols"], p["freeze_reps"])
    return {"median": statistics.median(times) * 1000,
            "max": max(times) * 1000}


def metadata_cost(env, stack, p):
    """Copy N chunks (one snapshot, then rewrite a filled region); kernel
    memory delta per million copied chunks, and store bytes per copied
    chunk from the target's own usage counts."""
    if not stack.snapshots:
        return {c: {"na": "no snapshots"}
                for c in ("kmem", "kmem_live", "bufio", "data", "meta")}
    chunk = stack.chunk * 512
    n = min(p["mem_chunks"], p["mem_max_mib"] * MiB // chunk)
    region = n * chunk
    env.fresh_disks()
    dev = stack.setup(1)
    try:
        prefill(dev, region)
        stack.snapshot()
        u0 = stack.usage()
        a = memory.sample(drop=True)
        fio.run("seqwrite", dev, region)
        live = memory.delta(a, memory.sample(drop=False))
        kept = memory.delta(a, memory.sample(drop=True))
        u1 = stack.usage()
    finally:
        stack.teardown()
    scale = 1e6 / n / MiB
    note = "N=%d" % n
    return {
        "kmem": {"v": kept["kernel_unreclaimable"] * scale, "note": note},
        "kmem_live": {"v": live["kernel"] * scale, "note": note},
        "bufio": {"v": live["bufio"] * scale, "note": note},
        "data": (u1["data"] - u0["data"]) / n,
        "meta": (u1["meta"] - u0["meta"]) / n,
        "_detail": {"live": {k: v for k, v in live.items()},
                    "kept": {k: v for k, v in kept.items()}},
    }


# The tables: (id, function, title, columns: (key, heading, unit, better)).
# better: "higher", "lower", or None (shown without ratios).
MEASURES = [
    ("seqwrite", seqwrite,
     "Sequential write on the origin after n snapshots (1 MiB, QD4)",
     None),  # columns from the profile's snapshot counts
    ("randfirst", randwrite, "4 KiB random first-writes (one per chunk, "
     "after 1 snapshot; QD16)",
     [("first_iops", "IOPS", "IOPS", "higher"),
      ("first_p99", "p99 latency", "us", "lower")]),
    ("randre", None, "4 KiB random re-writes (the same offsets again; QD16)",
     [("re_iops", "IOPS", "IOPS", "higher"),
      ("re_p99", "p99 latency", "us", "lower")]),
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
     [("median", "median", "ms", "lower"), ("max", "max", "ms", "lower")]),
    ("kmem", metadata_cost, "Kernel memory per million copied chunks "
     "(extrapolated from N)",
     [("kmem", "kept: unreclaimable, after drop_caches", "MiB", "lower"),
      ("kmem_live", "live: all slab, before drop_caches", "MiB", "lower"),
      ("bufio", "dm-bufio cache, live", "MiB", None)]),
    ("space", None, "Store space per copied chunk",
     [("data", "data bytes", "B", "lower"),
      ("meta", "metadata bytes", "B", "lower")]),
]


def seq_columns(p):
    return [("s%d" % n, "%d snapshots" % n, "MiB/s", "higher")
            for n in p["snap_counts"]]
