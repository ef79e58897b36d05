#!/usr/bin/env python3
"""shadowctl diff against what was written: cbtdiff.py's history (its
History, compare), driven through shadowctl instead of raw messages.

    ctldiff.py <shadowctl...> -- <volume> <chunk bytes> <copies> <writes> <seed>

Shadow copy i is made with 'shadowctl create <volume> --no-writers', then
a few 4 KiB writes land at random places.  Every 7th copy after the 16th
deletes a random older one ('shadowctl delete').  After 1, 16 and the last
copy: for sampled pairs of live copies (both orders), with a second thread
writing the volume all along, and for each sampled copy against the live
volume (writes stopped), 'shadowctl diff --json' must be exactly the chunks
written between them: never a missed chunk, never an extra one.  Its JSON
(parsed with json.loads) must count its ranges and bytes right, and the
text form must give the same ranges.
"""
import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cbtdiff import History, compare, start_writer  # noqa: E402


def run(ctl, *args):
    out = subprocess.run(ctl + list(args), capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("shadowctl %s: exit %d: %s" % (" ".join(args), out.returncode,
                                                out.stderr))
    return out.stdout


def diff(ctl, chunk, a, b, text=False):
    args = ["diff", str(a)] + ([] if b is None else [str(b)])
    d = json.loads(run(ctl, "-J", *args))
    got, nbytes = set(), 0
    for r in d["ranges"]:
        if r["offset"] % chunk or r["length"] % chunk:
            sys.exit("diff %s: range %s is not whole chunks" % (args, r))
        got.update(range(r["offset"] // chunk,
                         (r["offset"] + r["length"]) // chunk))
        nbytes += r["length"]
    if (d["from"], d["to"]) != (a, b):
        sys.exit("diff %s: from/to %s/%s" % (args, d["from"], d["to"]))
    if d["ranges_count"] != len(d["ranges"]) or d["changed_bytes"] != nbytes \
            or nbytes != len(got) * chunk:
        sys.exit("diff %s: counts %d/%d do not match the ranges"
                 % (args, d["ranges_count"], d["changed_bytes"]))
    if text and [tuple(map(int, line.split())) for line in
                 run(ctl, *args).splitlines()] != \
            [(r["offset"], r["length"]) for r in d["ranges"]]:
        sys.exit("diff %s: the text form differs from the JSON" % args)
    return got


def checkpoint(ctl, chunk, h, rnd, live):
    ids = sorted(live)
    sample = ids if len(ids) <= 8 else sorted(set(rnd.sample(ids, 6)) |
                                                {ids[0], ids[-1]})
    pairs = 0
    stop = start_writer(h, random.Random(rnd.random()), 0.05)
    try:
        for i, a in enumerate(sample):
            for b in sample[i + 1:i + 2]:
                want = h.changed(h.taken[a], h.taken[b])
                compare("copies %d to %d" % (a, b),
                        diff(ctl, chunk, a, b, text=(pairs == 0)), want)
                compare("copies %d to %d" % (b, a), diff(ctl, chunk, b, a), want)
                pairs += 2
    finally:
        stop()
    for a in sample:
        with h.lock:
            now = h.clock
        compare("copy %d to the live volume" % a, diff(ctl, chunk, a, None),
                h.changed(h.taken[a], now))
        pairs += 1
    return pairs


def main():
    sep = sys.argv.index("--")
    ctl = sys.argv[1:sep]
    volume, chunk, nr, per_step, seed = sys.argv[sep + 1:sep + 6]
    chunk, nr, per_step = int(chunk), int(nr), int(per_step)
    rnd = random.Random(int(seed))
    dev = "/dev/mapper/" + volume
    with open(dev, "rb") as f:
        size = f.seek(0, 2)
    h = History(dev, size // chunk, chunk)
    live = set()
    first = None
    start = time.monotonic()
    for i in range(1, nr + 1):
        d = json.loads(run(ctl, "-J", "create", volume, "--no-writers"))
        cid = d["set"]["shadows"][0]["id"]
        first = first or cid
        with h.lock:
            h.taken[cid] = h.clock
        live.add(cid)
        if i > 16 and i % 7 == 0:
            victim = rnd.choice(sorted(s for s in live if s >= first + 16))
            run(ctl, "delete", str(victim))
            live.discard(victim)
        for _ in range(per_step):
            h.write(rnd)
        if i in (1, 16, nr):
            t0 = time.monotonic()
            pairs = checkpoint(ctl, chunk, h, rnd, live)
            print("after %d copies (%d live, %d writes): %d diffs exact "
                  "(%.1f s of diffs, %.1f s since the start)"
                  % (i, len(live), h.clock, pairs, time.monotonic() - t0,
                     time.monotonic() - start), flush=True)


if __name__ == "__main__":
    main()
