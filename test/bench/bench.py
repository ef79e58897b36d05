#!/usr/bin/env python3
"""Benchmark driver, run in the guest: every measure on every stack of
stacks.STACKS, on fresh brd disks each time; writes one JSON document.

  bench.py <quick|full> <out.json>

Progress goes to stdout.  A measure that fails is recorded as an error in
its cells (report.py --check fails on it) and the run goes on.
"""
import json
import os
import platform
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
            "fio": fio.version()}


def main():
    mode, out = sys.argv[1], sys.argv[2]
    p = PROFILES[mode]
    stacks.DmSnapshot.max_snaps = p["dmsnap_max_snaps"]
    ctl = dmctl.Control()
    env = Env(p["disk_mib"], ctl)
    tables = []
    for tid, _, title, cols in measures.MEASURES:
        cols = cols or measures.seq_columns(p)
        tables.append({"id": tid, "title": title,
                       "columns": [list(c) for c in cols], "rows": {}})
    by_label = [cls(ctl, env.disks, c, **o).label
                for cls, c, o in stacks.STACKS]
    owner, last = {}, None  # table id -> id of the measure that fills it
    for tid, fn, _, _ in measures.MEASURES:
        last = tid if fn else last
        owner[tid] = last
    started = time.time()
    for cls, chunk, opts in stacks.STACKS:
        stack = cls(ctl, env.disks, chunk, **opts)
        if p.get("stacks") and stack.label not in p["stacks"]:
            continue
        for tid, fn, _, _ in measures.MEASURES:
            if fn is None:
                continue
            t0 = time.time()
            print("== %s: %s" % (stack.label, tid), flush=True)
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
            # Spread the cells over the tables this measure fills.
            for t in tables:
                if owner[t["id"]] != tid:
                    continue
                keys = [c[0] for c in t["columns"]]
                if "_error" in cells:
                    row = {k: {"error": cells["_error"]} for k in keys}
                else:
                    row = {k: cells.get(k, {"error": "no figure"})
                           for k in keys}
                if "_detail" in cells:
                    row["_detail"] = cells["_detail"]
                t["rows"].setdefault(stack.label, {}).update(row)
    env_info = machine()
    env_info["profile"] = mode
    env_info["params"] = p
    env_info["fio_params"] = fio.describe()
    env_info["format"] = stacks.format_constants()
    env_info["secs"] = round(time.time() - started)
    env_info["stacks"] = [t for t in by_label if t in tables[0]["rows"]]
    subprocess.run(["modprobe", "-r", "brd"])
    with open(out, "w") as f:
        json.dump({"meta": env_info, "tables": tables}, f, indent=1)
    print("bench: %d s, results in %s" % (env_info["secs"], out))


if __name__ == "__main__":
    main()
