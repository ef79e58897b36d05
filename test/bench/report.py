#!/usr/bin/env python3
"""Benchmark results (bench.py's JSON) as tables: each figure with its
ratio to raw and to dm-snapshot of the same chunk size, and a plain list
of every figure where dm-shadow does worse than dm-snapshot or dm-thin.

  report.py --check RESULT.json          exit 1 if a measure is missing
  report.py --text RESULT.json           the tables, for a terminal
  report.py --markdown HOST.json RESULT.json... > docs/benchmarks.md
"""
import json
import sys

NOISE = 0.10   # differences under 10% are called ties in the loss list


def num(cell):
    if isinstance(cell, (int, float)):
        return float(cell)
    if isinstance(cell, dict) and "v" in cell:
        return float(cell["v"])
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
    return "%.3f" % v


def chunk_of(label):
    return label.split()[-1] if label.split()[-1].endswith("K") else None


def peer(rows, kind, label):
    """The row of target kind with the same chunk size as label."""
    c = chunk_of(label)
    for name in rows:
        if name.startswith(kind + " ") and chunk_of(name) == c:
            return name
    return None


def cell_text(table, label, col):
    rows = table["rows"]
    cell = rows[label].get(col[0])
    v = num(cell)
    if v is None:
        if isinstance(cell, dict):
            return cell.get("na") or "ERROR: " + cell.get("error", "?")
        return "missing"
    s = fmt(v)
    ratios = []
    if col[3]:
        for ref, name in (("raw", "raw"),
                          (peer(rows, "dm-snapshot", label), "dm-snap")):
            if ref and ref != label and ref in rows:
                r = num(rows[ref].get(col[0]))
                if r and r > 0 and v > 0:
                    ratios.append("%.2fx %s" % (v / r, name))
    if isinstance(cell, dict) and cell.get("note"):
        ratios.append(cell["note"])
    return s + (" (" + ", ".join(ratios) + ")" if ratios else "")


def tables_md(res):
    out = []
    for t in res["tables"]:
        cols = t["columns"]
        out.append("### " + t["title"])
        out.append("")
        out.append("| target | " + " | ".join(
            "%s (%s)" % (c[1], c[2]) for c in cols) + " |")
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
        head = ["target"] + ["%s (%s)" % (c[1], c[2]) for c in cols]
        body = [[label] + [cell_text(t, label, c) for c in cols]
                for label in t["rows"]]
        w = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
        out.append("== " + t["title"])
        for r in [head] + body:
            out.append("  ".join(x.ljust(w[i]) for i, x in enumerate(r)))
        out.append("")
    return out


def losses(res):
    """(text, ratio) for each figure where a dm-shadow row is worse than
    dm-snapshot or dm-thin of the same chunk size; and the comparisons
    that cannot be made because a figure is not above zero."""
    found, noisy = [], []
    for t in res["tables"]:
        rows = t["rows"]
        for label in rows:
            if not label.startswith("dm-shadow"):
                continue
            for col in t["columns"]:
                if not col[3]:
                    continue
                v = num(rows[label].get(col[0]))
                for kind in ("dm-snapshot", "dm-thin"):
                    ref = peer(rows, kind, label)
                    r = num(rows[ref].get(col[0])) if ref else None
                    if v is None or not r:
                        continue
                    if v <= 0 or r <= 0:
                        # A delta at or below zero: the measure's noise
                        # is larger than what it measures.
                        noisy.append("%s, %s: %s %s against %s %s" % (
                            t["title"], col[1], label, fmt(v), ref, fmt(r)))
                        continue
                    worse = v < r if col[3] == "higher" else v > r
                    if not worse:
                        continue
                    ratio = v / r if col[3] == "higher" else r / v if v else 0
                    found.append(("%s, %s: %s %s %s against %s %s "
                                  "(%.2fx as good)%s" % (
                                      t["title"], col[1], label, fmt(v),
                                      col[2], ref, fmt(r), ratio,
                                      " - within %d%%, a tie at this noise "
                                      "level" % (NOISE * 100)
                                      if ratio > 1 - NOISE else ""), ratio))
    return sorted(found, key=lambda x: x[1]), noisy


def check(res):
    """Every table has numbers, and no cell is an error or missing."""
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
                elif not (isinstance(cell, dict) and "na" in cell):
                    bad.append("%s / %s / %s: %s" % (t["title"], label,
                                                     col[1], cell))
            if label.startswith("dm-shadow") and not any(
                    num(row.get(c[0])) is not None for c in t["columns"]):
                bad.append("%s: no figure for %s" % (t["title"], label))
        if numbers == 0:
            bad.append("table '%s' has no figures" % t["title"])
    return bad


def section(res):
    m = res["meta"]
    p = m["params"]
    out = ["## Kernel %s" % m["kernel"], ""]
    out.append("Guest: %d vCPUs (%s), %d MiB RAM, qemu TCG; profile '%s', "
               "whole run %d s; %s." % (m["vcpus"], m["cpu"], m["mem_mib"],
                                        m["profile"], m["secs"], m["fio"]))
    out.append("")
    out += tables_md(res)
    out.append("### Where dm-shadow loses")
    out.append("")
    ls, noisy = losses(res)
    if not ls:
        out.append("Nowhere in this run.")
    for text, _ in ls:
        out.append("- " + text)
    out.append("")
    if noisy:
        out.append("Not compared (a figure at or below zero: the kernel "
                   "memory deltas of a few hundred KiB are within the "
                   "noise of other kernel activity at this N):")
        out.append("")
        out += ["- " + n for n in noisy]
        out.append("")
    return out


def markdown(host, results):
    r0 = results[0]["meta"]
    p = r0["params"]
    f = r0["format"]
    out = ["# dm-shadow benchmarks", "",
           "Generated by `scripts/bench` (test/bench/); do not edit by hand.",
           "Every figure comes from one guest run per kernel, and is shown "
           "with its ratio to raw and to dm-snapshot of the same chunk size "
           "measured in that same run.  Absolute numbers mean little: the "
           "guest runs under qemu's TCG (no KVM), about 20x slower than the "
           "host, on a shared 2-core machine; compare the ratios.", "",
           "Read them with care: each figure is one fio run of a fraction "
           "of a second to a few seconds, on a host whose two cores other "
           "guests share, so the same figure can move by 2x or more "
           "between runs (compare raw across the two kernels below).  "
           "Differences within about 2x are not established by one run; "
           "the losses listed per kernel are every figure where dm-shadow "
           "came out worse, noise included; the consistent ones are those "
           "that show on both kernels.  dm-snapshot 64K shows no metadata "
           "growth because one 64 KiB metadata area holds 4096 exceptions "
           "of 16 bytes: fewer than were copied here.", "",
           "## Machine and method", "",
           "- Host: %s, %s cores, %s MiB RAM; %s; %s." % (
               host["cpu"], host["cores"], host["mem_mib"], host["os"],
               host["qemu"]),
           "- Guest: Debian's stock kernels, qemu `-accel tcg` (single-"
           "threaded TCG), 2 vCPUs, booted by test/guest/run-one; the "
           "host's userland over 9p.",
           "- Devices: every target sits on brd RAM disks of %d MiB each "
           "(allocated as written), loaded once; before every setup the "
           "first MiB of each disk (and the header of each dm-snapshot COW "
           "slice) is zeroed, so every target formats new metadata.  "
           "raw is /dev/ram0 itself; the origin of every target is a whole "
           "brd disk, its store (dm-snapshot COW, dm-thin data, dm-shadow "
           "store) another; dm-thin's metadata a third." % p["disk_mib"],
           "- Chunk sizes: 4 KiB (dm-snapshot and dm-shadow cow) and 64 KiB "
           "(all three; dm-thin's block size must be a multiple of 64 KiB, "
           "so it has no 4 KiB row).  Ratios compare with dm-snapshot of "
           "the same chunk size.",
           "- dm-snapshot: `snapshot-origin` plus one persistent "
           "`snapshot <origin> <cow> P <chunk>` per point in time, each "
           "with its own COW device (a dm-linear slice of the COW disk); "
           "every origin write is copied once per snapshot.  Written to with "
           "at most %d snapshots (more would copy every chunk that many "
           "times: minutes per MiB under TCG); created up to %d for the "
           "creation time." % (p["dmsnap_max_snaps"],
                               p["dmsnap_create_many"]),
           "- dm-thin: thin-pool with default features (block zeroing on), "
           "thin volume 0, snapshots by `create_snap` while the volume is "
           "suspended.",
           "- dm-shadow: `shadow-origin <origin> <store> cow <chunk>`, "
           "snapshots by the `create` message while suspended, read through "
           "`shadow-snap`.",
           "- Every snapshot operation is made with device-mapper ioctls "
           "from the benchmark process (test/bench/dmctl.py), not by "
           "starting dmsetup, for every target alike.",
           "- Sizes: sequential writes over %d MiB after 0/%s snapshots "
           "taken of a filled region (fresh setup each); random writes: %d "
           "4 KiB writes aligned to the chunk, one per chunk of a filled "
           "region (so 8 MiB at 4 KiB chunks, 128 MiB at 64 KiB), after one "
           "snapshot, then the same again as re-writes; random reads "
           "time-based for %d s; snapshot creation with 1 and with %d "
           "existing (median of %d); freeze window over %d volumes (%d "
           "sets, median and max); memory and space after copying up to "
           "%d chunks (at most %d MiB), extrapolated linearly to a million "
           "chunks." % (p["seq_mib"], "/".join(
               str(n) for n in p["snap_counts"][1:]), p["rand_ios"],
               p["randread_secs"], p["create_many"], p["create_reps"],
               p["freeze_vols"], p["freeze_reps"], p["mem_chunks"],
               p["mem_max_mib"]),
           "- Kernel memory: /proc/meminfo Slab + VmallocUsed + Percpu "
           "before and after the copies; 'kept' after `drop_caches` (which "
           "also shrinks dm-bufio's cache), 'live' right after the writes; "
           "dm-bufio's own count "
           "(/sys/module/dm_bufio/parameters/current_allocated_bytes) "
           "separately (its buffers of a page or more are not slab).  "
           "Other activity in the guest (fio, Python) makes these deltas "
           "noisy at the 100 KiB level.",
           "- Store space: data and metadata growth per copied chunk, from "
           "each target's status (dm-snapshot: allocated/metadata sectors "
           "summed over its COW devices; dm-thin: pool used data and "
           "metadata blocks of 4 KiB; dm-shadow: used data chunks, and one "
           "exception record (%d-byte block / %d records = %.1f bytes) per "
           "used chunk, from dm-shadow-format.h: the records are "
           "preallocated for the whole store at format time, together with "
           "a fixed chunk index of 8 bytes per origin chunk and a %d-slot "
           "snapshot table)." % (f["block"], f["records_per_block"],
                                 f["record_bytes"], f["max_snapshots"]),
           "- fio %s, parameters:" % r0["fio"], ""]
    out += ["      " + l for l in r0["fio_params"]]
    out.append("")
    for res in results:
        out += section(res)
    return "\n".join(out) + "\n"


def main():
    mode = sys.argv[1]
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
        for text, _ in ls:
            print("- " + text)
        for n in noisy:
            print("- not compared (at or below zero): " + n)
        return
    if mode == "--markdown":
        host = json.load(open(sys.argv[2]))
        results = [json.load(open(f)) for f in sys.argv[3:]]
        sys.stdout.write(markdown(host, results))
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
