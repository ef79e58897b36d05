#!/usr/bin/env python3
"""Benchmark driver, run in the guest: every measure on every stack of
stacks.STACKS, on fresh brd disks each time, in 'rounds' rounds (each round
runs every stack and measure once, so a burst of load on the shared host
hits one round of a few figures, not every round of one target); writes
one JSON document whose cells are the median of the rounds, with their
minimum, maximum and every round's value.

  bench.py <quick|full> <out.json> [measure...]

A measure is named by the id of the first table it fills (seqwrite,
randfirst, create, freeze, kmem, delstall, revert, hydrate, cbt); without any,
every measure runs.

Progress goes to stdout.  A measure that fails is recorded as an error in
its cells (report.py --check fails on it) and the run goes on.
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback

import dmctl
import fio
import measures
import stacks
from profiles import PROFILES

DISKS = 16


class Env:
    """brd disks, reloaded empty for every setup (frees what was written)."""

    def __init__(self, mib, ctl):
        self.mib, self.ctl = mib, ctl
        self.disks = ["/dev/ram%d" % i for i in range(DISKS)]

    def fresh_disks(self):
        """Load the disks once; later, clear every disk's first MiB, so
        each target formats new metadata (dm-snapshot also clears each COW
        slice's header).  Reloading brd instead would free the pages, but
        costs seconds per setup under TCG, and refilling them would add
        brd's own page index to the kernel memory measure."""
        dmctl.remove_all(self.ctl, "b-")
        if not all(os.path.exists(d) for d in self.disks):
            subprocess.run(["modprobe", "brd", "rd_nr=%d" % DISKS,
                            "rd_size=%d" % (self.mib * 1024)], check=True)
            for _ in range(100):
                if all(os.path.exists(d) for d in self.disks):
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError("brd disks did not appear")
            return
        for d in self.disks:
            stacks.zero_start(d)


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), "?")
    mem = next(int(l.split()[1]) for l in open("/proc/meminfo")
               if l.startswith("MemTotal"))
    return {"kernel": platform.release(), "cpu": cpu,
            "vcpus": os.cpu_count(), "mem_mib": mem // 1024,
            "fio": fio.version(),
            "cmdline": open("/proc/cmdline").read().split()}


def value(c):
    if isinstance(c, (int, float)):
        return float(c)
    if isinstance(c, dict) and "v" in c:
        return float(c["v"])
    return None


def aggregate(cells):
    """One table cell from its value in every round: the median with the
    minimum, maximum and each round's value; an error if any round failed;
    'na' if the measure does not apply; text from the median round."""
    for c in cells:
        if isinstance(c, dict) and "error" in c:
            return c
    if any(isinstance(c, dict) and "na" in c for c in cells):
        return cells[0]
    vals = [value(c) for c in cells]
    if any(v is None for v in vals):
        return cells[len(cells) // 2]
    note = next((c["note"] for c in cells
                 if isinstance(c, dict) and c.get("note")), None)
    out = {"v": statistics.median(vals), "lo": min(vals), "hi": max(vals),
           "runs": vals}
    if note:
        out["note"] = note
    return out


def median_round(runs):
    """Index of the round whose value is the median (for text cells)."""
    order = sorted(range(len(runs)), key=lambda i: runs[i])
    return order[len(order) // 2]


def main():
    mode, out, only = sys.argv[1], sys.argv[2], sys.argv[3:]
    p = PROFILES[mode]
    stacks.DmSnapshot.max_snaps = p["dmsnap_max_snaps"]
    ctl = dmctl.Control()
    env = Env(p["disk_mib"], ctl)
    owner, last = {}, None  # table id -> id of the measure that fills it
    for tid, fn, _, _ in measures.MEASURES:
        last = tid if fn else last
        owner[tid] = last
    unknown = set(only) - {t for t, fn, _, _ in measures.MEASURES if fn}
    if unknown:
        sys.exit("bench.py: no measure %s" % ", ".join(sorted(unknown)))
    chosen = [m for m in measures.MEASURES if not only or owner[m[0]] in only]
    tables = []
    for tid, _, title, cols in chosen:
        cols = measures.columns(cols, p)
        tables.append({"id": tid, "title": title,
                       "columns": [list(c) for c in cols], "rows": {}})
    # raw[table id][label][column] = [cell of round 1, round 2, ...]
    raw = {t["id"]: {} for t in tables}
    details = {}
    labels = []
    started = time.time()
    for rnd in range(p["rounds"]):
        print("==== round %d of %d (%.0f s so far)" % (
            rnd + 1, p["rounds"], time.time() - started), flush=True)
        for cls, chunk, opts in stacks.STACKS:
            stack = cls(ctl, env.disks, chunk, **opts)
            if p.get("stacks") and stack.label not in p["stacks"]:
                continue
            if stack.label not in labels:
                labels.append(stack.label)
            for tid, fn, _, _ in chosen:
                if fn is None:
                    continue
                t0 = time.time()
                print("== round %d, %s: %s" % (rnd + 1, stack.label, tid),
                      flush=True)
                try:
                    cells = fn(env, stack, p)
                except Exception as e:  # recorded, and the run goes on
                    traceback.print_exc()
                    cells = {"_error": "%s: %s" % (type(e).__name__, e)}
                    try:
                        stack.teardown()
                    except Exception:
                        traceback.print_exc()
                print("   %.1fs %s" % (time.time() - t0, json.dumps(
                    {k: v for k, v in cells.items() if k != "_detail"})),
                    flush=True)
                if "_detail" in cells:
                    details.setdefault(tid, {}).setdefault(
                        stack.label, []).append(cells["_detail"])
                # Spread the cells over the tables this measure fills.
                for t in tables:
                    if owner[t["id"]] != tid:
                        continue
                    row = raw[t["id"]].setdefault(stack.label, {})
                    for c in t["columns"]:
                        if "_error" in cells:
                            cell = {"error": cells["_error"]}
                        else:
                            cell = cells.get(c[0], {"error": "no figure"})
                        row.setdefault(c[0], []).append(cell)
    for t in tables:
        for label in labels:
            if label not in raw[t["id"]]:
                continue
            row = {k: aggregate(v) for k, v in raw[t["id"]][label].items()}
            # Text cells: from the round whose first figure is the median.
            first = next((row[c[0]] for c in t["columns"]
                          if "runs" in row.get(c[0], {})), None)
            if first:
                i = median_round(first["runs"])
                for c in t["columns"]:
                    cells = raw[t["id"]][label][c[0]]
                    if isinstance(cells[i], dict) and "t" in cells[i]:
                        row[c[0]] = cells[i]
            t["rows"][label] = row
    env_info = machine()
    env_info["profile"] = mode
    env_info["only"] = only
    env_info["params"] = p
    env_info["fio_params"] = fio.describe()
    env_info["format"] = stacks.format_constants()
    env_info["secs"] = round(time.time() - started)
    env_info["stacks"] = labels
    subprocess.run(["modprobe", "-r", "brd"])
    with open(out, "w") as f:
        json.dump({"meta": env_info, "tables": tables, "details": details},
                  f, indent=1)
    print("bench: %d s, results in %s" % (env_info["secs"], out))


if __name__ == "__main__":
    main()
