"""Kernel memory samples: /proc/meminfo's kernel-side counters, every slab
cache of /proc/slabinfo, and dm-bufio's own count of its cached buffers.

A sample is taken before and after a target copies N chunks; the delta,
scaled to a million chunks, is the metadata's memory cost.  The guest boots
with slab_nomerge (test/guest/tests/bench.sh), so every cache shows under
its own name instead of being merged into a kmalloc-<size> cache with
other users' objects.

What a delta counts:
  pinned  SUnreclaim + VmallocUsed + Percpu, after drop_caches: what the
          target keeps and cannot give back (dm-snapshot's exception
          table lives here).
  cache   SReclaimable, less the RAM disks' own page index, plus dm-bufio
          buffers that are whole pages (not slab), right after the writes:
          metadata cached for speed, given back under memory pressure.
What it does not count: pages taken straight from the page allocator
other than dm-bufio's (kcopyd's copy buffers, reserved once per client),
the RAM disks' data pages (they are the disks), and page cache (every I/O
is direct).
"""
import subprocess
import time

MEMINFO = ("Slab", "SReclaimable", "SUnreclaim", "VmallocUsed", "Percpu")
BUFIO = "/sys/module/dm_bufio/parameters/current_allocated_bytes"

# brd's page index grows with every page first written to a RAM disk: the
# disks' cost, not the target's (both are reclaimable slab).
NOT_TARGET = ("radix_tree_node", "xarray_node")
# dm-bufio's data buffers smaller than a page come from these slab caches
# (6.1: dm_bufio_cache-<size>, 6.12: dm_bufio_cache-<size>-<n>); larger
# ones are pages, seen only in dm-bufio's own count.
BUFIO_SLAB = "dm_bufio_cache-"


def _bufio():
    try:
        return int(open(BUFIO).read())
    except OSError:
        return 0


def settle(drop):
    """sync; with drop, also drop caches and run the slab shrinkers, then
    wait until dm-bufio's count stops falling: on 6.12 its shrinker frees
    from a work item, after drop_caches has returned."""
    subprocess.run(["sync"], check=True)
    if not drop:
        return
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")
    last, same = _bufio(), 0
    for _ in range(40):
        time.sleep(0.25)  # also lets RCU-freed slab objects go
        now = _bufio()
        same = same + 1 if now == last else 0
        if same >= 2:
            break
        last = now


def sample(drop=True):
    settle(drop)
    s = {}
    for line in open("/proc/meminfo"):
        k, v = line.split(":", 1)
        if k in MEMINFO:
            s[k] = int(v.split()[0]) * 1024
    caches = {}
    for line in open("/proc/slabinfo").readlines()[2:]:
        w = line.split()
        # Names repeat (6.1 gives every dm-bufio client a cache of the same
        # name): sum them.  Active objects x object size.
        caches[w[0]] = caches.get(w[0], 0) + int(w[1]) * int(w[3])
    s["slab_caches"] = caches
    s["bufio"] = _bufio()
    return s


def delta(a, b):
    """Kernel bytes gained from sample a to sample b: 'pinned' and 'cache'
    as the module docstring defines them, their parts, and the slab caches
    that grew most, by name."""
    d = {k: b[k] - a[k] for k in MEMINFO}
    grown = {n: b["slab_caches"].get(n, 0) - a["slab_caches"].get(n, 0)
             for n in set(a["slab_caches"]) | set(b["slab_caches"])}
    d["disk_index"] = sum(grown.get(n, 0) for n in NOT_TARGET)
    d["bufio"] = b["bufio"] - a["bufio"]
    bufio_slab = sum(v for n, v in grown.items() if n.startswith(BUFIO_SLAB))
    d["bufio_pages"] = d["bufio"] - bufio_slab
    d["pinned"] = d["SUnreclaim"] + d["VmallocUsed"] + d["Percpu"]
    d["cache"] = d["SReclaimable"] - d["disk_index"] + d["bufio_pages"]
    d["top_caches"] = sorted(((v, n) for n, v in grown.items()
                              if v > 0 and n not in NOT_TARGET),
                             reverse=True)[:5]
    return d
