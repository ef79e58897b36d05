"""Workload and crash-point checker for tests/cow-revert-replay.sh: a
revert, replayed write by write.  Geometry, patterns, replay and the
store checks are cowreplay.py's.

  revertreplay.py work <state.json> <seed>
      On r-origin and r-store (dm-linear slices of the dm-log-writes
      device rlog): fills the origin, loads the shadow-origin rvol,
      creates snapshots 1, 2 and 3 with origin writes between them, then
      reverts to snapshot 2 while a writer writes blocks (O_DIRECT, each
      followed by fsync) to chunks merged and not merged yet, until the
      revert has finished.  Marks the log after every acknowledged
      create, flush, revert and write; writes what each mark guarantees
      to <state.json>; removes rvol at the end.

  revertreplay.py check <log dev> <base dev> <scratch dev> <state.json>
                        <seed> <flush points> <random points>
                        <share i/N>
      Replays the log onto <base> to FLUSH/FUA points from the mark just
      before the revert on (up to <flush points>, a seeded sample beyond)
      and to <random points> seeded points between them, and at each
      point checks a copy on <scratch>: shadow-dump --check clean; the
      table loads; snapshots 1, 2, 3 are valid and read their point in
      time; the revert resumes and finishes; the origin then reads
      snapshot 2 except the blocks written after the revert began, which
      hold the acknowledged write or a later one (a write not yet
      acknowledged may be there or not); the snapshots still read right;
      the store checks clean after.  Checks only share i/N of the points
      (cowreplay.share_of).  Exits 1 on any failure.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cowreplay  # noqa: E402
import dmioctl  # noqa: E402
import logreplay  # noqa: E402
from cowreplay import BLOCK, NBLOCKS, ORIGIN_SECTORS, Direct, decode, \
    pattern  # noqa: E402

REVERT_TO = 2
# Writer writes at least, and at most, while the revert runs.
MIN_WRITES, MAX_WRITES = 16, 400


def revert_field(ctl, name):
    """The status's revert id: a snapshot id, or "-" when none runs."""
    return ctl.status_line(name).split()[-2]


def work(state_path, seed):
    rng = random.Random(seed)
    ctl = dmioctl.Control()
    state = {"seed": seed, "marks": {}, "snaps": {}, "writes": [],
             "deleted": [], "revert_writes": []}
    gen = [0] * NBLOCKS
    floor = [0] * NBLOCKS
    acked = [0] * NBLOCKS            # the writer's, after the revert began
    snaps = []
    phase = ["before"]
    nmark = [0]

    def mark(kind):
        nmark[0] += 1
        name = "%s-%d" % (kind, nmark[0])
        state["marks"][name] = {"floor": list(floor), "snaps": list(snaps),
                                "deleted": [], "acked": list(acked),
                                "phase": phase[0]}
        ctl.message("rlog", "mark " + name)
        return name

    def write(vol, b):
        g = len(state["writes"]) + 1
        vol.write_block(b, pattern(b, g))
        gen[b] = g
        state["writes"].append([b, g])
        return g

    vol = cowreplay.fill_and_load(mark)
    # Snapshot r, then writes: after 2 and 3 about 240 chunks change,
    # what the revert merges back.
    for r in (1, 2, 3):
        vol.fsync()
        floor = list(gen)
        state["snaps"][str(r)] = list(gen)
        ctl.snapshot("rvol", r)
        snaps.append(r)
        mark("create")
        for i in range(140):
            write(vol, rng.randrange(NBLOCKS))
            if (i + 1) % 35 == 0:
                vol.fsync()
                floor = list(gen)
                mark("flush")
    vol.fsync()
    floor = list(gen)
    mark("prerevert")
    ctl.suspend("rvol")
    try:
        ctl.message("rvol", "revert %d" % REVERT_TO)
    finally:
        ctl.resume("rvol")
    phase[0] = "revert"
    mark("revert")
    # Writes during the merge: chunks it reached and chunks it has not
    # (held until merged out of order), each acknowledged by an fsync.
    changed = sorted(set(b for b, g in state["writes"]
                         if g > max(state["snaps"]["2"])))
    n = 0
    while n < MAX_WRITES:
        if n >= MIN_WRITES and n % 4 == 0 and revert_field(ctl, "rvol") == "-":
            break
        b = rng.choice(changed) if rng.random() < 0.7 else \
            rng.randrange(NBLOCKS)
        g = write(vol, b)
        state["revert_writes"].append([b, g])
        vol.fsync()
        acked[b] = g
        floor = list(gen)
        mark("ack")
        n += 1
    while revert_field(ctl, "rvol") != "-":
        time.sleep(0.1)
    phase[0] = "done"
    mark("reverted")
    cowreplay.unload(vol, ctl, mark, state, state_path)
    print("workload: %d writes before the revert, %d while it ran, "
          "%d chunks to merge back, %d marks"
          % (len(state["writes"]) - n, n, len(changed), nmark[0]),
          flush=True)


class RevertPoint(cowreplay.Point):
    """A replay point of the revert: checked as cowreplay's points are up
    to the table load, then by check_point below."""

    def wait_revert(self, vol):
        deadline = time.time() + 120
        while time.time() < deadline:
            st = self.c.ctl.status_line(vol).split()
            if st[-2] == "-" or st[8] != "rw":
                return st
            time.sleep(0.05)
        self.fail("revert resumes", "still running after 120 s: %s"
                  % " ".join(st))
        return None

    def check_reverted(self, data, info):
        """Snapshot 2's data, but for the writer's writes: acknowledged
        ones (or later) must be there, others may."""
        c = self.c
        want = c.state["snaps"][str(REVERT_TO)]
        bad = []
        for b in range(NBLOCKS):
            got = decode(data[b * BLOCK:(b + 1) * BLOCK])
            g = None if got is None or got[0] != b else got[1]
            floor = info["acked"][b] if info else 0
            if g is not None and g in c.writer_gens[b]:
                if g >= floor:
                    continue
            elif g == want[b] and not floor:
                continue
            bad.append("block %d holds %s, expected generation %d%s" % (
                b, "no pattern" if got is None else
                "block %d generation %d" % got, want[b],
                " or the acknowledged write %d or later" % floor
                if floor else ""))
        if bad:
            self.fail("origin after the revert", "%d blocks wrong, first: %s"
                      % (len(bad), "; ".join(bad[:4])))

    def check_point(self, vol, o, info):
        c = self.c
        phase = info["phase"] if info else "before"
        # Whether the store recorded a revert at the power cut: the status
        # after the load cannot tell, the merge may have finished by then.
        try:
            recorded = self.dumped["superblock"]["revert_seq"] != 0
        except (TypeError, KeyError):
            self.fail("store at the power cut", "shadow-dump gave no "
                      "superblock")
            return
        snaps = self.snap_list(vol)
        if snaps is None:
            return
        self.check_list(snaps, "at load")
        for sid in (1, 2, 3):
            if sid not in snaps:
                self.fail("snapshot durable", "snapshot %d is missing" % sid)
        known = {s: v for s, v in snaps.items() if s in (1, 2, 3)}
        origin_dev = "/dev/mapper/" + o
        self.check_snaps(origin_dev, known, "at load")
        reverting = revert_field(self.c.ctl, vol)
        if reverting not in ("-", str(REVERT_TO)):
            self.fail("revert at load", "status names revert %s"
                      % reverting)
        st = self.wait_revert(vol)
        if st is None:
            return
        if st[8] != "rw" or st[7] != "0":
            self.fail("revert resumes", "status %s; kernel log: %s"
                      % (" ".join(st), c.dmesg_tail()))
        dev = Direct("/dev/mapper/" + vol)
        try:
            data = dev.read(0, ORIGIN_SECTORS * 512)
        except OSError as exc:
            self.fail("origin read", "%s; kernel log: %s"
                      % (exc, c.dmesg_tail()))
            return
        finally:
            dev.close()
        if not recorded and phase == "before":
            # The revert's begin did not reach the disk: nothing changed.
            # (Once it is acknowledged, a store that records no revert has
            # finished it: the origin is checked as reverted.)
            if reverting != "-":
                self.fail("revert at load", "a revert runs that the store "
                          "did not record")
            self.check_origin(data, info["floor"] if info else None,
                              "without the revert")
        else:
            self.check_reverted(data, info if phase != "before" else None)
        self.check_snaps(origin_dev, known, "after the revert")


class RevertChecker(cowreplay.Checker):
    def __init__(self, *args):
        super().__init__(*args)
        self.writer_gens = [set() for _ in range(NBLOCKS)]
        for b, g in self.state["revert_writes"]:
            self.writer_gens[b].add(g)

    def points(self, nflush, nrandom):
        """FLUSH/FUA points from the mark before the revert on (a seeded
        sample of nflush), nrandom seeded points between them, and the
        whole log."""
        ents = self.log.entries
        total = len(ents)
        rng = random.Random(self.seed)
        first = min(idx for idx, name, _ in self.marks
                    if name.startswith("prerevert-")) + 1
        sync = logreplay.FLUSH | logreplay.FUA
        flush = [e.index + 1 for e in ents[first:] if e.flags & sync]
        chosen = flush if len(flush) <= nflush else \
            sorted(rng.sample(flush, nflush))
        fset = set(flush)
        between = [p for p in range(first + 1, total) if p not in fset]
        kinds = {p: "flush/FUA point" for p in chosen}
        for p in rng.sample(between, min(nrandom, len(between))):
            kinds[p] = "inside a batch"
        kinds[total] = "the whole log"
        return flush, sorted((p, k, p, None) for p, k in kinds.items())


def check(log_path, base, scratch, state_path, seed, nflush, nrandom,
          share):
    c = RevertChecker(log_path, base, scratch, state_path, seed)
    flush, pts = c.points(nflush, nrandom)
    print("log: %d entries, %d FLUSH/FUA points from the revert on; seed "
          "%d: checking %d points: %s" % (
              len(c.log.entries), len(flush), seed, len(pts),
              " ".join("%d%s" % (p, "" if k.startswith("flush") else "*")
                       for p, k, _, _ in pts)), flush=True)
    mine = cowreplay.share_of(pts, share)
    print("share %s: checking points %s" % (
        share, " ".join(str(n) for n, _ in mine)), flush=True)
    failed = []
    for n, spec in mine:
        pt = RevertPoint(c, n, spec)
        pt.run()
        if pt.failures:
            failed.append(n)
    print("checked %d replay points: %d failed%s" % (
        len(mine), len(failed),
        " (%s)" % " ".join(map(str, failed)) if failed else ""), flush=True)
    return 1 if failed else 0


def main(argv):
    if len(argv) == 4 and argv[1] == "work":
        work(argv[2], int(argv[3]))
        return 0
    if len(argv) == 10 and argv[1] == "check":
        return check(argv[2], argv[3], argv[4], argv[5], int(argv[6]),
                     int(argv[7]), int(argv[8]), argv[9])
    sys.stderr.write(__doc__)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
