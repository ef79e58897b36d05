"""Snapshots taken during a write load, and many snapshots, checked block
for block (tests/row-loadsnap.sh).

  loadsnaps.py during <origin name> <chunk sectors> <threads> <writes>
                      <snapshots> <seed>
      Fills the volume with generation 0, then <threads> threads write
      (O_DIRECT) to chunks of their own: a whole chunk or a part of one,
      every 4 KiB block holding its number and a generation that grows.
      Once each thread made <writes> writes, snapshots 1 .. <snapshots>
      are taken (suspend, create, resume) at random moments; the threads
      write on until each made <writes> more after the last one.
      Then each snapshot must read, at every
      block, a whole generation of that block between the last one
      acknowledged before its suspend began and the last one issued
      before its resume returned, and the volume exactly the last
      generation of every block.

  loadsnaps.py many <origin name> <snapshots> <seed>
      One 4 KiB write, then a snapshot, <snapshots> times; then the first,
      the last and a seeded sample of the others must read exactly the
      generations written before them.

Snapshot ids are 1 .. <snapshots>; the snapshots stay for the caller.
Exits 1 after printing what is wrong.
"""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dmioctl  # noqa: E402
from cowreplay import BLOCK, Direct, decode, pattern, sh  # noqa: E402

SAMPLE = 24


def nblocks(dev):
    return int(sh("blockdev", "--getsize64", dev).stdout) // BLOCK


def fill(dev, n):
    d = Direct(dev, write=True)
    for b in range(n):
        d.write_block(b, pattern(b, 0))
    d.close()


def read_gens(dev, n):
    """The generation every block of dev holds, None where it holds no
    whole pattern of its own."""
    d = Direct(dev)
    try:
        data = d.read(0, n * BLOCK)
    finally:
        d.close()
    gens = []
    for b in range(n):
        got = decode(data[b * BLOCK:(b + 1) * BLOCK])
        gens.append(got[1] if got and got[0] == b else None)
    return gens


def snapshot_gens(vol, sid, n):
    """Open snapshot sid read-only, read its generations, close it."""
    name = "ls-%s-%d" % (vol, sid)
    table = "0 %d shadow-snap %s %d" % (
        n * BLOCK // 512,
        sh("dmsetup", "table", vol).stdout.split()[3], sid)
    sh("dmsetup", "create", name, "--readonly", "--table", table)
    try:
        return read_gens("/dev/mapper/" + name, n)
    finally:
        sh("dmsetup", "remove", name)


class Writer(threading.Thread):
    """Writes to the chunks c with c % nthreads == index, recording each
    write's generation with when it was issued and acknowledged."""

    def __init__(self, vol, index, nthreads, chunk_blocks, n, writes, seed,
                 gen_base, stop):
        super().__init__()
        self.stop = stop
        self.warm = threading.Event()   # set after the first writes
        self.dev = "/dev/mapper/" + vol
        self.chunks = [c for c in range(n // chunk_blocks)
                       if c % nthreads == index]
        self.chunk_blocks = chunk_blocks
        self.writes = writes
        self.rng = random.Random(seed)
        self.gen = gen_base
        self.log = []          # (block, gen, issued, acked)
        self.error = None

    def run(self):
        d = Direct(self.dev, write=True)
        done, after = 0, 0
        try:
            while after < self.writes:
                done += 1
                if done == self.writes:
                    self.warm.set()
                if self.stop.is_set():
                    after += 1
                c = self.rng.choice(self.chunks)
                first = c * self.chunk_blocks
                if self.rng.random() < 0.4:
                    blocks = range(first, first + self.chunk_blocks)
                else:
                    first += self.rng.randrange(self.chunk_blocks)
                    blocks = range(first, first + 1)
                self.gen += 1
                data = b"".join(pattern(b, self.gen) for b in blocks)
                d.buf[:len(data)] = data
                issued = time.monotonic()
                os.pwritev(d.fd, [memoryview(d.buf)[:len(data)]],
                           first * BLOCK)
                acked = time.monotonic()
                for b in blocks:
                    self.log.append((b, self.gen, issued, acked))
        except OSError as exc:
            self.error = exc
        finally:
            self.warm.set()
            d.close()


def bounds(history, start, end):
    """The generations a block may hold in a snapshot whose suspend
    began at start and whose resume returned at end: at least the last
    one acknowledged before start, at most the last one issued before
    end, and one that was written (history: (gen, issued, acked), by
    gen)."""
    lo, allowed = 0, {0}
    for gen, issued, acked in history:
        if acked < start:
            lo = gen
        if issued < end:
            allowed.add(gen)
    return {g for g in allowed if g >= lo}


def during(vol, chunk_sectors, nthreads, writes, nsnaps, seed):
    dev = "/dev/mapper/" + vol
    n = nblocks(dev)
    chunk_blocks = max(1, chunk_sectors * 512 // BLOCK)
    fill(dev, n)
    rng = random.Random(seed)
    stop = threading.Event()
    writers = [Writer(vol, i, nthreads, chunk_blocks, n, writes,
                      seed * 100 + i, i << 32, stop) for i in range(nthreads)]
    ctl = dmioctl.Control()
    times = {}
    for w in writers:
        w.start()
    for w in writers:
        w.warm.wait()
    for sid in range(1, nsnaps + 1):
        time.sleep(rng.uniform(0.05, 0.4))
        start = time.monotonic()
        ctl.snapshot(vol, sid)
        times[sid] = (start, time.monotonic())
    stop.set()
    for w in writers:
        w.join()
    ctl.close()
    bad = [w.error for w in writers if w.error]
    if bad:
        print("FAIL: a writer failed: %s" % bad[0])
        return 1
    history = {}
    for w in writers:
        for b, gen, issued, acked in w.log:
            history.setdefault(b, []).append((gen, issued, acked))
    nwrites = sum(len(w.log) for w in writers)
    print("%d block writes by %d threads, %d snapshots during them"
          % (nwrites, nthreads, nsnaps))
    failures = 0
    log = [x for w in writers for x in w.log]
    for sid, (start, end) in sorted(times.items()):
        # Else the test would prove nothing about snapshots under load.
        if not any(a < start for _, _, _, a in log) or \
                not any(i > end for _, _, i, _ in log):
            failures += 1
            print("FAIL: snapshot %d was not taken while the writers "
                  "wrote: make the load longer" % sid)
            continue
        gens = snapshot_gens(vol, sid, n)
        wrong = [(b, g) for b, g in enumerate(gens)
                 if g not in bounds(history.get(b, []), start, end)]
        if wrong:
            failures += 1
            print("FAIL: snapshot %d: %d blocks hold what was not there at "
                  "its point in time, first: %s" % (sid, len(wrong), ", ".join(
                      "block %d generation %s" % x for x in wrong[:4])))
        else:
            print("snapshot %d: every block within its point in time" % sid)
    last = [max((g for g, _, _ in history.get(b, [])), default=0)
            for b in range(n)]
    live = read_gens(dev, n)
    wrong = [b for b in range(n) if live[b] != last[b]]
    if wrong:
        failures += 1
        print("FAIL: the volume: %d blocks do not hold their last write, "
              "first: %s" % (len(wrong), wrong[:8]))
    else:
        print("the volume holds the last write of every block")
    return 1 if failures else 0


def many(vol, nsnaps, seed):
    dev = "/dev/mapper/" + vol
    n = nblocks(dev)
    fill(dev, n)
    rng = random.Random(seed)
    ctl = dmioctl.Control()
    d = Direct(dev, write=True)
    writes = []
    t0 = time.monotonic()
    for sid in range(1, nsnaps + 1):
        b = rng.randrange(n)
        d.write_block(b, pattern(b, sid))
        writes.append(b)
        ctl.snapshot(vol, sid)
    d.close()
    ctl.close()
    print("%d snapshots, one write before each, in %.0f s"
          % (nsnaps, time.monotonic() - t0))
    sample = sorted({1, nsnaps} | set(rng.sample(range(1, nsnaps + 1),
                                                 min(SAMPLE, nsnaps))))
    failures = 0
    for sid in sample:
        want = [0] * n
        for gen, b in enumerate(writes[:sid], 1):
            want[b] = gen
        got = snapshot_gens(vol, sid, n)
        wrong = [b for b in range(n) if got[b] != want[b]]
        if wrong:
            failures += 1
            print("FAIL: snapshot %d: %d blocks differ, first: %s"
                  % (sid, len(wrong), ", ".join(
                      "block %d holds %s, expected %d"
                      % (b, got[b], want[b]) for b in wrong[:4])))
    print("%d of %d snapshots checked block for block, %d wrong"
          % (len(sample), nsnaps, failures))
    return 1 if failures else 0


def main(argv):
    if len(argv) == 8 and argv[1] == "during":
        return during(argv[2], *map(int, argv[3:8]))
    if len(argv) == 5 and argv[1] == "many":
        return many(argv[2], int(argv[3]), int(argv[4]))
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
