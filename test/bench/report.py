#!/usr/bin/env python3
"""Benchmark results (bench.py's JSON) as tables: each figure the median of
the run's rounds with its spread [min, max], and its ratio to raw and to
dm-snapshot of the same chunk size (ratios of the medians, all from the
same run); then a plain list of every figure where dm-shadow does worse
than dm-snapshot or dm-thin.

  report.py --check RESULT.json          exit 1 if a measure is missing
  report.py --text RESULT.json           the tables, for a terminal
  report.py --markdown HOST.json ANALYSIS.md RESULT.json...
                                         docs/benchmarks.md on stdout
"""
import json
import re
import statistics
import sys

import targets

NOISE = 0.10   # differences under 10% are called ties in the loss list
# Differences smaller than this are ties whatever the ratio (kernel
# memory: a few hundred KiB of unrelated kernel activity over N chunks).
FLOOR = {"pinned": 3.0, "cache": 3.0}


def num(cell):
    if isinstance(cell, (int, float)):
        return float(cell)
    if isinstance(cell, dict) and "v" in cell:
        return float(cell["v"])
    return None


def spread(cell):
    """(min, max) of the rounds, or None for a single round."""
    if isinstance(cell, dict) and "lo" in cell and len(cell.get("runs",
                                                                 [])) > 1:
        return cell["lo"], cell["hi"]
    return None


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.1f" % v
    if a >= 1:
        return "%.2f" % v
    if a == 0:
        return "0"
    return "%.3f" % v


def heading(col):
    return "%s (%s)" % (col[1], col[2]) if col[2] else col[1]


def chunk_of(label):
    return label.split()[-1] if label.split()[-1].endswith("K") else None


def peer(rows, kind, label):
    """The row of target kind with the same chunk size as label."""
    c = chunk_of(label)
    for name in rows:
        if name.startswith(kind + " ") and chunk_of(name) == c:
            return name
    return None


def ratio(rows, label, ref, col):
    """v/ref of the medians, or None when either is not above zero."""
    if not ref or ref == label or ref not in rows:
        return None
    v, r = num(rows[label].get(col[0])), num(rows[ref].get(col[0]))
    if v is None or r is None or v <= 0 or r <= 0:
        return None
    return v / r


# A measure's note that is a ratio ("0.81x the raw copy", "1.00x the 32
# MiB/s set") was computed in one round (bench.aggregate() keeps the first
# round's note); the cell shows the ratio of the medians instead, the one
# the targets table (targets.py over()) computes.  RATIO_TO: the column of
# the same row that "the raw copy" is, per column.
RATIO_NOTE = re.compile(r"\d+(?:\.\d+)?x (the raw copy|the (\d+) MiB/s set)")
RATIO_TO = {"fb_mibps": "fb_copy", "hy_mibps": "hy_copy"}


def note_text(rows, label, key, cell):
    """The cell's note, its ratio made from the medians when it is one;
    a ratio that cannot be made again is marked as one round's."""
    note = cell["note"]
    m = RATIO_NOTE.fullmatch(note)
    if not m:
        return note
    v = num(cell)
    if m.group(2):
        ref = float(m.group(2))
    else:
        ref = num(rows[label].get(RATIO_TO.get(key)))
    if v is None or ref is None or v <= 0 or ref <= 0:
        return note + " in one round"
    return "%.2fx %s" % (v / ref, m.group(1))


def cell_text(table, label, col):
    rows = table["rows"]
    cell = rows[label].get(col[0])
    if isinstance(cell, dict) and "t" in cell:
        return cell["t"]
    v = num(cell)
    if v is None:
        if isinstance(cell, dict):
            return cell.get("na") or "ERROR: " + cell.get("error", "?")
        return "missing"
    s = fmt(v)
    sp = spread(cell)
    if sp:
        s += " [%s, %s]" % (fmt(sp[0]), fmt(sp[1]))
    extra = []
    if col[3]:
        for ref, name in (("raw", "raw"),
                          (peer(rows, "dm-snapshot", label), "dm-snap")):
            r = ratio(rows, label, ref, col)
            if r is not None:
                extra.append("%.2fx %s" % (r, name))
    if isinstance(cell, dict) and cell.get("note"):
        extra.append(note_text(rows, label, col[0], cell))
    return s + (" (" + ", ".join(extra) + ")" if extra else "")


def tables_md(res):
    out = []
    for t in res["tables"]:
        cols = t["columns"]
        out.append("### " + t["title"])
        out.append("")
        out.append("| target | " + " | ".join(heading(c) for c in cols) +
                   " |")
        out.append("|---" * (len(cols) + 1) + "|")
        for label in t["rows"]:
            out.append("| %s | %s |" % (label, " | ".join(
                cell_text(t, label, c) for c in cols)))
        out.append("")
    return out


def tables_text(res):
    out = []
    for t in res["tables"]:
        cols = t["columns"]
        head = ["target"] + [heading(c) for c in cols]
        body = [[label] + [cell_text(t, label, c) for c in cols]
                for label in t["rows"]]
        w = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
        out.append("== " + t["title"])
        for r in [head] + body:
            out.append("  ".join(x.ljust(w[i]) for i, x in enumerate(r)))
        out.append("")
    return out


def losses(res):
    """Every figure where a dm-shadow row is worse than dm-snapshot or
    dm-thin of the same chunk size: (text, how good as a ratio, clear),
    clear when even the best round of dm-shadow is worse than the worst
    round of the other; and the comparisons that cannot be made."""
    found, noisy = [], []
    for t in res["tables"]:
        rows = t["rows"]
        for label in rows:
            if not label.startswith("dm-shadow"):
                continue
            for col in t["columns"]:
                if not col[3]:
                    continue
                cell = rows[label].get(col[0])
                v = num(cell)
                for kind in ("dm-snapshot", "dm-thin"):
                    ref = peer(rows, kind, label)
                    rcell = rows[ref].get(col[0]) if ref else None
                    r = num(rcell)
                    if v is None or r is None:
                        continue
                    higher = col[3] == "higher"
                    worse = v < r if higher else v > r
                    if not worse or abs(v - r) < FLOOR.get(col[0], 0):
                        continue
                    if v <= 0 or r <= 0:
                        noisy.append("%s, %s: %s %s against %s %s" % (
                            t["title"], col[1], label, fmt(v), ref, fmt(r)))
                        continue
                    good = v / r if higher else r / v
                    a, b = spread(cell), spread(rcell)
                    clear = bool(a and b and (a[1] < b[0] if higher
                                              else a[0] > b[1]))
                    if good > 1 - NOISE:
                        how = "a tie (within %d%%)" % (NOISE * 100)
                    elif not (a and b):
                        how = "one round only"
                    elif clear:
                        how = "every round"
                    else:
                        how = "the rounds overlap"
                    found.append(("%s, %s: %s %s %s against %s %s: "
                                  "%.2fx as good; %s" % (
                                      t["title"], col[1], label, fmt(v),
                                      col[2], ref, fmt(r), good, how),
                                  good, clear))
    return sorted(found, key=lambda x: x[1]), noisy


def not_applicable(row, columns):
    """Every cell of the row says the measure does not apply to it."""
    return all(isinstance(row.get(c[0]), dict) and "na" in row.get(c[0])
               for c in columns)


def check(res):
    """Every table has numbers, and no cell is an error or missing; every
    dm-shadow row has a figure unless the measure does not apply to it
    (a row store has no revert yet)."""
    bad = []
    for t in res["tables"]:
        if not t["rows"]:
            bad.append("table '%s' is empty" % t["title"])
            continue
        numbers = 0
        for label, row in t["rows"].items():
            for col in t["columns"]:
                cell = row.get(col[0])
                if num(cell) is not None:
                    numbers += 1
                elif not (isinstance(cell, dict) and
                          ("na" in cell or "t" in cell)):
                    bad.append("%s / %s / %s: %s" % (t["title"], label,
                                                     col[1], cell))
            if label.startswith("dm-shadow") and not any(
                    num(row.get(c[0])) is not None for c in t["columns"]) \
                    and not not_applicable(row, t["columns"]):
                bad.append("%s: no figure for %s" % (t["title"], label))
        if numbers == 0:
            bad.append("table '%s' has no figures" % t["title"])
    return bad


def load_text(load):
    """The host's 1-minute load average while a kernel's run lasted."""
    if not load or not load.get("samples"):
        return "not recorded"
    s = [x[1] for x in load["samples"]]
    return ("1-min load average at the start %.2f, during the run median "
            "%.2f (min %.2f, max %.2f, %d samples a minute apart) on %d "
            "cores" % (load["start"], statistics.median(s), min(s), max(s),
                       len(s), load["cores"]))


def section(res):
    m = res["meta"]
    out = ["## Kernel %s" % m["kernel"], ""]
    out.append("Guest: %d vCPUs (%s), %d MiB RAM, qemu TCG; profile '%s', "
               "%d rounds, whole run %d s; %s; kernel command line adds "
               "`%s`." % (m["vcpus"], m["cpu"], m["mem_mib"], m["profile"],
                          m["params"]["rounds"], m["secs"], m["fio"],
                          " ".join(w for w in m.get("cmdline", [])
                                   if w == "slab_nomerge") or "nothing"))
    out.append("")
    out.append("Host: %s." % load_text(m.get("host_load")))
    out.append("")
    out += tables_md(res)
    out.append("### Where dm-shadow loses on %s" % m["kernel"])
    out.append("")
    ls, noisy = losses(res)
    if not ls:
        out.append("Nowhere in this run.")
    for text, _, _ in ls:
        out.append("- " + text)
    out.append("")
    if noisy:
        out.append("Not compared (a figure at or below zero: within the "
                   "noise of other kernel activity):")
        out.append("")
        out += ["- " + n for n in noisy]
        out.append("")
    return out


def cell_of(res, tid, label, col):
    for t in res["tables"]:
        if t["id"] == tid and label in t["rows"]:
            return t["rows"][label].get(col)
    return None


HEADLINES = [
    # (table, column, higher is better, what)
    ("seqwrite", "s0", True, "sequential write QD4, no snapshot"),
    ("seqwrite", "s1", True, "sequential write QD4, 1 snapshot"),
    ("seqwrite", "s16", True, "sequential write QD4, 16 snapshots"),
    ("seqwrite_qd1", "q1_s1", True, "sequential write QD1, 1 snapshot"),
    ("seqwrite_qd1", "q1_s16", True, "sequential write QD1, 16 snapshots"),
    ("seqwrite64k_qd1", "k64_s1", True,
     "sequential 64 KiB write QD1, 1 snapshot"),
    ("randfirst", "first_iops", True, "4 KiB first-writes QD16, IOPS"),
    ("randre", "re_iops", True, "4 KiB re-writes QD16, IOPS"),
    ("randfirst_qd1", "q1_first_iops", True, "4 KiB first-writes QD1, IOPS"),
    ("randre_qd1", "q1_re_iops", True, "4 KiB re-writes QD1, IOPS"),
    ("sread", "s_seq", True, "snapshot sequential read"),
    ("sread", "s_iops", True, "snapshot random read, IOPS"),
    ("create", "cn", False, "create a snapshot with many existing"),
    ("freeze", "median", False, "freeze window, 8 volumes"),
    ("space", "meta", False, "store metadata per copied chunk"),
    ("delstall", "d_max", False, "worst origin write during a delete"),
    ("delstall", "d_secs", False, "delete until its space is free"),
    ("revert", "r_cps", True, "roll the origin back to a snapshot, chunks/s"),
    ("revertlat", "r_p99", False, "p99 origin write while it rolls back"),
]


def headlines(results):
    """dm-shadow's stores against dm-snapshot and dm-thin of the same
    chunk size (the clone store against the cow store too), as 'times as
    good' (above 1: dm-shadow is better), per kernel."""
    out = ["| measure | store | chunk | against | " + " | ".join(
        r["meta"]["kernel"] for r in results) + " |",
        "|---|---|---|---|" + "---|" * len(results)]
    for tid, col, higher, what in HEADLINES:
        for store in ("cow", "row", "clone"):
            # A clone's writes (while it hydrates) against cow's, too.
            kinds = ("dm-snapshot", "dm-thin") + \
                (("dm-shadow cow",) if store == "clone" else ())
            for chunk in ("4K", "64K"):
                for kind in kinds:
                    vals = []
                    for res in results:
                        a = num(cell_of(res, tid, "dm-shadow %s %s"
                                        % (store, chunk), col))
                        b = num(cell_of(res, tid, "%s %s" % (kind, chunk),
                                        col))
                        if a is None or b is None or a <= 0 or b <= 0:
                            vals.append(None)
                        else:
                            vals.append(a / b if higher else b / a)
                    if all(v is None for v in vals):
                        continue
                    out.append("| %s | %s | %s | %s | %s |" % (
                        what, store, chunk, kind, " | ".join(
                            "-" if v is None else "%.2fx" % v
                            for v in vals)))
    return out


def markdown(host, analysis, results):
    r0 = results[0]["meta"]
    p = r0["params"]
    f = r0["format"]
    out = ["# dm-shadow benchmarks", "",
           "Generated by `scripts/bench` (test/bench/); do not edit by "
           "hand: the analysis section comes from test/bench/analysis.md, "
           "everything else from the run.",
           "", "Every figure is the median of %d rounds run in one guest "
           "boot per kernel, shown with the spread of the rounds [min, max] "
           "and with its ratio to raw and to dm-snapshot of the same chunk "
           "size from the same run (ratio of the medians).  Each round runs "
           "every target and measure once, one after the other, so a burst "
           "of load on the shared host lands in one round of a few figures. "
           " Absolute numbers mean little: the guest runs under qemu's TCG "
           "(no KVM), many times slower than the host, on a 2-core machine "
           "that other engineers' guests share (the load is given per "
           "kernel); compare the ratios, and trust a difference only where "
           "the rounds do not overlap." % p["rounds"], "",
           "## Headline: dm-shadow against the in-kernel targets", "",
           "'Times as good' (above 1: dm-shadow is better; below 1: worse), "
           "from the medians; the tables below give the spreads.", ""]
    out += headlines(results)
    out += ["", "## The issues' targets", ""]
    rows, met, missed = targets.table_md(results, lambda res, tid, label,
                                         col: num(cell_of(res, tid, label,
                                                          col)))
    out.append("What issues #12 (the core, cow store), #13 (row) and #14 "
               "(clone) ask of these measures, as the same ratios of "
               "medians: %d met and %d missed over the kernels.  The "
               "dm-linear row is no target: it is what a device-mapper "
               "target with no work of its own reaches against raw in the "
               "same run, the floor under every other row.  Why each miss "
               "stays is in the analysis below." % (met, missed))
    out.append("")
    out += rows
    out += ["", "## Machine and method", "",
            "- Host: %s, %s cores, %s MiB RAM; %s; %s." % (
                host["cpu"], host["cores"], host["mem_mib"], host["os"],
                host["qemu"]),
            "- Guest: Debian's stock kernels, qemu `-accel tcg` (single-"
            "threaded TCG), 2 vCPUs, booted by test/guest/run-one with "
            "`slab_nomerge` on the kernel command line (header "
            "`guest-cmdline` of test/guest/tests/bench.sh); the host's "
            "userland over 9p.",
            "- Devices: every target sits on brd RAM disks of %d MiB each "
            "(allocated as written), loaded once; before every setup the "
            "first MiB of each disk (and the header of each dm-snapshot COW "
            "slice) is zeroed, so every target formats new metadata.  "
            "raw is /dev/ram0 itself, dm-linear a linear table over all "
            "of it; the origin of every target is a whole "
            "brd disk, its store (dm-snapshot COW, dm-thin data, dm-shadow "
            "store) another; dm-thin's metadata a third." % p["disk_mib"],
            "- Chunk sizes: 4 KiB (dm-snapshot, dm-shadow cow and row) and "
            "64 KiB (the same, dm-thin and dm-shadow clone; dm-thin's block "
            "size must be a multiple of 64 KiB, so it has no 4 KiB row).  "
            "Ratios compare with dm-snapshot of the same chunk size.",
            "- dm-snapshot: `snapshot-origin` plus one persistent "
            "`snapshot <origin> <cow> P <chunk>` per point in time, each "
            "with its own COW device (a dm-linear slice of the COW disk); "
            "every origin write is copied once per snapshot.  Written to "
            "with at most %d snapshots (more would copy every chunk that "
            "many times: minutes per MiB under TCG); created up to %d for "
            "the creation time." % (p["dmsnap_max_snaps"],
                                    p["dmsnap_create_many"]),
            "- dm-thin: thin-pool with default features (block zeroing on), "
            "thin volume 0, snapshots by `create_snap` while the volume is "
            "suspended.",
            "- dm-shadow: `shadow-origin <origin> <store> cow|row <chunk>`, "
            "snapshots by the `create` message while suspended, read "
            "through `shadow-snap`; clone: `shadow-origin <origin> <store> "
            "clone <chunk> 5 clone_target 1 <target> hydrate_rate 1`, one "
            "clone on a disk of its own, the write measures run while it "
            "hydrates at 1 MiB/s (their writes meet chunks not copied yet).",
            "- Every snapshot operation is made with device-mapper ioctls "
            "from the benchmark process (test/bench/dmctl.py), not by "
            "starting dmsetup, for every target alike.",
            "- Queue depths: every write measure runs both ways, through "
            "libaio at QD4 (sequential) or QD16 (random), and through psync "
            "at QD1, one synchronous write at a time, as a database's "
            "synchronous writes and dd arrive.",
            "- Sizes: sequential writes over %d MiB after 0/%s snapshots "
            "taken of a filled region (fresh setup each): 1 MiB at QD4, "
            "then 1 MiB at QD1, then 64 KiB at QD1 (at 4 KiB chunks each "
            "write covers 16 chunks), each over %d MiB of its own, so every "
            "write is a first write; chunk writes: "
            "%d 4 KiB writes, one at the start of every chunk of a filled "
            "region in a random order (%d MiB at 4 KiB chunks, %d MiB at "
            "64 KiB), after one snapshot, then the same again as "
            "re-writes, at QD16; then, after the reads, the same at QD1 "
            "over the next %d chunks; random reads time-based for %d s; "
            "snapshot creation with 1 and with %d existing (median of %d "
            "creations); freeze window over %d volumes (%d sets, median "
            "and max)." % (
                p["seq_mib"], "/".join(str(n) for n in p["snap_counts"][1:]),
                p["seq_mib"], p["rand_ios"], p["rand_ios"] * 4 // 1024,
                p["rand_ios"] * 64 // 1024, p["rand_qd1_ios"],
                p["randread_secs"], p["create_many"], p["create_reps"],
                p["freeze_vols"], p["freeze_reps"]),
            "- Kernel memory: %d chunks copied by 4 KiB writes in a random "
            "order after one snapshot (a random order matters: "
            "dm-snapshot merges exceptions of consecutive chunks copied "
            "to consecutive places into one entry, so sequential copies "
            "would cost it almost nothing).  At 4 KiB chunks the data is "
            "real (%d MiB on a RAM disk); at 64 KiB it would be %d MiB, "
            "more than the guest's RAM, so the origin and the data areas "
            "of the store are dm-zero devices (writes vanish, reads give "
            "zeros) and only the metadata is on a RAM disk: dm-snapshot's "
            "COW header and metadata areas, dm-thin's metadata device, "
            "dm-shadow's metadata blocks.  The targets build and keep "
            "their metadata exactly as with real data.  Samples of "
            "/proc/meminfo, /proc/slabinfo (every cache on its own: "
            "slab_nomerge) and dm-bufio's "
            "/sys/module/dm_bufio/parameters/current_allocated_bytes before "
            "and after the copies, scaled to a million chunks.  'pinned' = "
            "SUnreclaim + VmallocUsed + Percpu after `drop_caches` (which "
            "also runs dm-bufio's shrinker; the sample waits until its "
            "count stops falling): memory the target cannot give back.  "
            "'cache' = SReclaimable (less the RAM disks' own page index, "
            "radix_tree_node/xarray_node) plus dm-bufio buffers that are "
            "whole pages (dm-thin's 4 KiB metadata blocks are not slab), "
            "right after the writes: metadata cached for speed, given back "
            "under memory pressure.  'fixed' = the same, pinned + cache, "
            "from before the setup to after it (one snapshot, region "
            "filled), not scaled.  Not counted: pages taken straight from "
            "the page allocator other than dm-bufio's (kcopyd's copy "
            "buffers, reserved once per client), the RAM disks' data pages "
            "(they are the disks), page cache (every I/O is direct).  "
            "Kernel activity of fio and Python moves these figures by a "
            "few hundred KiB, i.e. a few MiB per million chunks: smaller "
            "differences are ties." % (
                p["mem_chunks"], p["mem_chunks"] * 4 // 1024,
                p["mem_chunks"] * 64 // 1024),
            "- Store space: data and metadata growth per copied chunk, "
            "from each target's status in the memory measure (dm-snapshot: "
            "allocated/metadata sectors summed over its COW devices; "
            "dm-thin: pool used data and metadata blocks of 4 KiB; "
            "dm-shadow (format version %d): used data chunks, and metadata "
            "blocks in use of %d bytes, the status' metadata_used: btree "
            "nodes and space map blocks as they are written, not the "
            "metadata area that is sized at format time)." % (
                f["version"], f["md_block"]),
            "- Writes during a delete: one snapshot, %d chunks copied as in "
            "the memory measure (data discarded the same way when it would "
            "not fit in RAM), then a steady load of 4 KiB random re-writes "
            "of the copied region at QD1 (psync, time-based, every "
            "completion latency logged); %d s into it the snapshot is "
            "deleted: dm-shadow by the `delete` message, whose chunks are "
            "freed in the background (done when the status' used chunks "
            "reach 0); dm-thin by the pool's `delete` message, which frees "
            "before it returns; dm-snapshot by removing the snapshot "
            "device, which frees its exceptions before the ioctl returns "
            "(lvremove would also reload the origin as linear once no "
            "snapshot is left, suspending it: not done, the other targets "
            "need nothing like it; its COW device is simply abandoned).  "
            "Figures: p99 of the writes that completed before the delete; "
            "p99 and max of those in flight at some moment from the "
            "command to the space being free; the command's own time, and "
            "the time until the space is free." % (
                p["del_chunks"], p["del_base_secs"]),
            "- Rolling back: one snapshot of a filled region, then %d + "
            "%d chunks changed after it (a 4 KiB write at the start of "
            "each, in a random order), then the origin rolled back to the "
            "snapshot: dm-shadow by the `revert` message (with the origin "
            "suspended, merged in the background; done when the status' "
            "revert_id reads `-`); dm-snapshot the way `lvconvert --merge` "
            "does it, with the snapshot and the origin suspended, a "
            "`snapshot-merge` table loaded into the origin's device, which "
            "takes the snapshot's exceptions over when it resumes (done "
            "when its status says only metadata is allocated); dm-thin has "
            "no merge into the origin.  Figures: chunks and MiB merged per "
            "second from the command to the end of the merge, the "
            "command's own time.  The last %d chunks are re-written by a "
            "QD1 4 KiB random load (as in the delete measure) from %d s "
            "before the merge to its end: p50 and p99 of its writes before "
            "the merge and in flight during it (a write to a chunk not "
            "merged yet waits for it on both targets).  dm-shadow keeps the "
            "snapshot (valid, exact, revertible to again), dm-snapshot's "
            "merge consumes it.  The first %d chunks must read, by md5 with "
            "O_DIRECT, exactly what the snapshot read before the merge "
            "(and something else before it), or the measure fails." % (
                p["rv_chunks"], p["rv_load_chunks"], p["rv_load_chunks"],
                p["rv_base_secs"], p["rv_chunks"]),
            "- Changed-block tracking (dm-shadow only, through shadowctl; "
            "the diff reads the store's metadata in userspace): time of "
            "`shadowctl diff` between two copies of a %d GiB dm-zero "
            "origin (writes vanish; the store copies each chunk to a "
            "dm-zero data area, its metadata is real, on a RAM disk) with "
            "%g%% of its chunks changed between them by 4 KiB writes; of a "
            "%g GiB origin with as many chunks changed; and of the big one "
            "with 16 more chunks changed.  Read it as: if the diff's cost "
            "follows the changes and not the volume, the first two are "
            "about equal and the third is far smaller.  Then an "
            "incremental `shadowctl export --since` of a %d MiB volume of "
            "random data with 1%% of its chunks changed: the stream's "
            "bytes over the changed chunks' bytes (records, checksums, "
            "header), in %%, and the export's time.  Each diff must count "
            "exactly the chunks written and the export exactly their "
            "bytes, or the measure fails." % (
                p["cbt_gib"], p["cbt_pct"], p["cbt_gib"] / 64.0,
                p["cbt_export_mib"]),
            "- fio %s, parameters:" % r0["fio"], ""]
    out += ["      " + line for line in r0["fio_params"]]
    out.append("")
    out.append(analysis.rstrip("\n"))
    out.append("")
    for res in results:
        out += section(res)
    return "\n".join(out) + "\n"


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "--check":
        res = json.load(open(sys.argv[2]))
        bad = check(res)
        for b in bad:
            print("bench check: " + b)
        print("bench check: %s" % ("FAILED" if bad else "every measure "
                                   "has its figures"))
        sys.exit(1 if bad else 0)
    if mode == "--text":
        res = json.load(open(sys.argv[2]))
        print("\n".join(tables_text(res)))
        print("== Where dm-shadow loses")
        ls, noisy = losses(res)
        for text, _, _ in ls:
            print("- " + text)
        for n in noisy:
            print("- not compared (at or below zero): " + n)
        return
    if mode == "--markdown":
        host = json.load(open(sys.argv[2]))
        analysis = open(sys.argv[3]).read()
        results = [json.load(open(f)) for f in sys.argv[4:]]
        sys.stdout.write(markdown(host, analysis, results))
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
