#!/usr/bin/env python3
"""Changed-block tracking against what was written: a history of snapshots
and writes on a dm-shadow origin, then shadow-dump --diff through a
metadata snapshot compared with the chunks actually written, exactly.

    cbtdiff.py <origin dm name> <store dev> <chunk bytes> <shadow-dump>
               <snapshots> <writes per step> <seed>

Snapshot i (id 1000 + i) is taken at step i, then a few 4 KiB writes at
random places (a write dirties the chunk it falls in).  Every 7th snapshot
after the 16th is deleted along the way (the store reclaims its copies in
the background).  Checkpoints after 1, 16 and the last snapshot: reserve a
metadata snapshot, keep writing from a second thread while shadow-dump
reads it, and check, for sampled pairs of live snapshots and for each
sampled snapshot against the live volume, that the diff is exactly the
chunks written between them (against the live volume: up to the reserve).
Prints one line per checkpoint; exits 1 on the first difference.
"""
import json
import mmap
import os
import random
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dmioctl  # noqa: E402

BLOCK = 4096


class History:
    def __init__(self, dev, nr_chunks, chunk):
        self.fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
        self.buf = mmap.mmap(-1, BLOCK)
        self.nr_chunks, self.chunk = nr_chunks, chunk
        self.clock = 0          # one tick per write
        self.writes = []        # (tick, chunk)
        self.taken = {}         # snapshot id -> tick when taken
        self.lock = threading.Lock()

    def write(self, rnd):
        off = rnd.randrange(self.nr_chunks * self.chunk // BLOCK) * BLOCK
        self.buf.seek(0)
        self.buf.write(os.urandom(BLOCK))
        os.pwrite(self.fd, self.buf, off)
        with self.lock:
            self.writes.append((self.clock, off // self.chunk))
            self.clock += 1

    def changed(self, t0, t1):
        with self.lock:
            return {c for t, c in self.writes if t0 <= t < t1}


def start_writer(h, rnd, pause):
    """A thread writing through h every pause seconds; returns its stop."""
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            h.write(rnd)
            time.sleep(pause)

    t = threading.Thread(target=writer)
    t.start()

    def stopper():
        stop.set()
        t.join()
    return stopper


def diff(dump, store, a, b):
    spec = "%d" % a if b is None else "%d:%d" % (a, b)
    out = subprocess.run([dump, "--metadata-snap", "--json", "--diff", spec,
                          store], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("shadow-dump --diff %s: exit %d: %s" % (spec, out.returncode,
                                                          out.stderr))
    d = json.loads(out.stdout)
    got = set()
    for r in d["ranges"]:
        got.update(range(r["first_chunk"], r["first_chunk"] + r["chunks"]))
    if d["changed_chunks"] != len(got):
        sys.exit("--diff %s: changed_chunks %d, ranges hold %d"
                 % (spec, d["changed_chunks"], len(got)))
    return got


def compare(what, got, want):
    if got != want:
        sys.exit("%s: %d chunks differ: missed %s, extra %s" % (
            what, len(got ^ want), sorted(want - got)[:10],
            sorted(got - want)[:10]))


def checkpoint(ctl, name, store, dump, h, rnd, live_ids):
    ctl.message(name, "reserve_metadata_snap")
    with h.lock:
        reserved = h.clock
    stop = start_writer(h, random.Random(rnd.random()), 0.01)
    pairs = 0
    try:
        ids = sorted(live_ids)
        sample = ids if len(ids) <= 16 else sorted(rnd.sample(ids, 12) +
                                                     [ids[0], ids[-1]])
        for a in sample:
            compare("snapshot %d to the live volume" % a,
                    diff(dump, store, a, None),
                    h.changed(h.taken[a], reserved))
            pairs += 1
        for i, a in enumerate(sample):
            for b in sample[i + 1:i + 4]:
                want = h.changed(h.taken[a], h.taken[b])
                compare("snapshots %d to %d" % (a, b),
                        diff(dump, store, a, b), want)
                compare("snapshots %d to %d" % (b, a),
                        diff(dump, store, b, a), want)
                pairs += 2
    finally:
        stop()
        ctl.message(name, "release_metadata_snap")
    return pairs


def main():
    name, store, chunk, dump, nr_snaps, per_step, seed = sys.argv[1:8]
    chunk, nr_snaps, per_step = int(chunk), int(nr_snaps), int(per_step)
    rnd = random.Random(int(seed))
    dev = "/dev/mapper/" + name
    with open(dev, "rb") as f:
        size = f.seek(0, 2)
    h = History(dev, size // chunk, chunk)
    ctl = dmioctl.Control()
    live = set()
    checkpoints = {1, 16, nr_snaps}
    for i in range(1, nr_snaps + 1):
        sid = 1000 + i
        ctl.snapshot(name, sid)
        with h.lock:
            h.taken[sid] = h.clock
        live.add(sid)
        if i > 16 and i % 7 == 0:
            victim = rnd.choice(sorted(s for s in live if s > 1016))
            ctl.message(name, "delete %d" % victim)
            live.discard(victim)
        for _ in range(per_step):
            h.write(rnd)
        if i in checkpoints:
            pairs = checkpoint(ctl, name, store, dump, h, rnd, live)
            print("after %d snapshots (%d live, %d writes): %d diffs exact"
                  % (i, len(live), h.clock, pairs), flush=True)


if __name__ == "__main__":
    main()
