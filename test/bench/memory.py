"""Kernel memory samples: /proc/meminfo's kernel-side counters, slab caches
from /proc/slabinfo, and dm-bufio's own count of its cached buffers.

A sample is taken before and after a target copies N chunks; the delta,
scaled to a million chunks, is the metadata's memory cost.  drop_caches
also runs the slab shrinkers (dm-bufio's among them), so a sample taken
after it shows what the target keeps, not what it merely caches.
"""
import subprocess
import time

MEMINFO = ("Slab", "SReclaimable", "SUnreclaim", "VmallocUsed", "Percpu",
           "MemFree")
BUFIO = "/sys/module/dm_bufio/parameters/current_allocated_bytes"


# brd's page index grows with every page first written to a RAM disk: the
# disks' cost, not the target's.
NOT_TARGET = ("radix_tree_node", "xarray_node")


def settle(drop):
    subprocess.run(["sync"], check=True)
    if drop:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        time.sleep(0.3)  # let RCU-freed slab objects go


def sample(drop):
    settle(drop)
    s = {}
    for line in open("/proc/meminfo"):
        k, v = line.split(":", 1)
        if k in MEMINFO:
            s[k] = int(v.split()[0]) * 1024
    caches = {}
    for line in open("/proc/slabinfo").readlines()[2:]:
        w = line.split()
        caches[w[0]] = int(w[1]) * int(w[3])  # active objs x object size
    s["slab_caches"] = caches
    try:
        s["bufio"] = int(open(BUFIO).read())
    except OSError:
        s["bufio"] = 0
    return s


def delta(a, b):
    """Kernel bytes gained from a to b: unreclaimable + reclaimable slab,
    vmalloc and per-cpu; plus dm-bufio's cache and the slab caches that
    grew most, by name."""
    d = {k: b[k] - a[k] for k in MEMINFO if k in a and k in b}
    brd = sum(b["slab_caches"].get(n, 0) - a["slab_caches"].get(n, 0)
              for n in NOT_TARGET)
    d["brd_index"] = brd
    d["kernel"] = d["Slab"] - brd + d["VmallocUsed"] + d["Percpu"]
    d["kernel_unreclaimable"] = d["SUnreclaim"] - brd + d["VmallocUsed"] + \
        d["Percpu"]
    d["bufio"] = b["bufio"] - a["bufio"]
    grown = {n: b["slab_caches"].get(n, 0) - a["slab_caches"].get(n, 0)
             for n in set(a["slab_caches"]) | set(b["slab_caches"])}
    d["top_caches"] = sorted(((v, n) for n, v in grown.items() if v > 0),
                             reverse=True)[:4]
    return d
