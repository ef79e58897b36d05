"""Workload and crash-point checker for tests/clone-replay.sh: the clone
store's crash safety by write-order replay.  Patterns, replay, the log's
marks, the store check and the snapshot reads are cowreplay.py's; the
geometry has a slice per clone target.

  clonereplay.py geometry
      Prints the geometry as shell assignments for lib/replay.sh
      (REPLAY_SECTORS, REPLAY_SLICES, REPLAY_DISK_MIB).

  clonereplay.py work <state.json> <seed>
      On r-origin, r-store, r-target and r-target2 (dm-linear slices of
      the dm-log-writes device rlog): fills the origin (generation 0),
      loads the clone store rvol naming clone 1's target, with
      hydrate_rate 1 (hydration then spans the workload), creates clone 1
      (suspend, create, resume), writes 4 KiB blocks (O_DIRECT) in rounds
      of 6 followed by an fsync: first writes to chunks the hydration has
      not reached, re-writes, writes anywhere.  Then clone 2 (the table
      reloaded with its target first) while clone 1 still hydrates, more
      rounds until both are complete (waiting if need be), and two rounds
      with no clone hydrating.  Marks the log after every acknowledged
      fsync and create, and once the status shows a clone complete (the
      commit that completed it is durable then: status and commit hold
      the pool's lock); writes what each mark guarantees to <state.json>;
      removes rvol at the end.

  clonereplay.py check <log dev> <base dev> <scratch dev> <state.json>
                       <seed> <flush points> <random points>
                       <subset points> <event points> <share i/N>
      Picks replay points (FLUSH/FUA entries, a seeded sample of <flush
      points>; <random points> points inside batches; the entries of the
      batches of the table load, the creates and the completions, up to
      <event points>, flushes first; and up to <subset points> states of
      a batch with one write left out: batches of those events, and
      batches that mix writes to two slices) and the end of the log,
      replays the log onto <base> point after point, and at each point
      checks a copy on <scratch> (ClonePoint's doc says what).  Of the
      points picked, checks those numbered i-1, i-1+N ... (share i/N,
      cowreplay.share_of).  Prints each failure; exits 1 if there was
      any.

Chunks are 4 KiB, one block each: chunk b of the origin is block b.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cowreplay  # noqa: E402
import dmioctl  # noqa: E402
import logreplay  # noqa: E402
from cowreplay import BLOCK, EXERCISE_GEN, NBLOCKS, ORIGIN_SECTORS, \
    Direct, decode, pattern  # noqa: E402

CHUNK_SECTORS = 8                  # a chunk is a block
# A clone store holds metadata only.  Its layout needs 129 blocks at least
# (the superblock, 64 for a commit's shadows, the journal's 64: dm-shadow-
# layout.h), and a create needs 2 * (hydrating + 1) * 4 + 64 free blocks
# for a 1024-chunk origin (clone_check_room()): 80 for the second clone.
# 1 MiB is 256 blocks, 192 of them outside the journal.
STORE_SECTORS = 2048
# (dm name in the workload, short name in the checks, start, sectors):
# the store right after the origin, as in cowreplay.py (store_formatted),
# then one target per clone, each the origin's size.
SLICES = (("r-origin", "o", 0, ORIGIN_SECTORS),
          ("r-store", "s", ORIGIN_SECTORS, STORE_SECTORS),
          ("r-target", "t1", ORIGIN_SECTORS + STORE_SECTORS, ORIGIN_SECTORS),
          ("r-target2", "t2", 2 * ORIGIN_SECTORS + STORE_SECTORS,
           ORIGIN_SECTORS))
TOTAL_SECTORS = sum(s[3] for s in SLICES)
CLONES = (1, 2)
TARGET = {1: SLICES[2], 2: SLICES[3]}
ORIGIN_BYTES = ORIGIN_SECTORS * 512
# MiB/s: the whole origin takes 4 s a clone, so that hydration spans the
# workload's writes, and copies race them.
HYDRATE_RATE = 1
# Writes per fsync, rounds of them while clone 1 hydrates alone (at
# least, at most) and after clone 2's create (at least, at most).
PER_ROUND = 6
ROUNDS_ONE = (2, 10)
ROUNDS_TWO = (4, 12)
# A first write ahead of hydration goes this many chunks past the copied
# count of its clone (the walk's cursor is at most that count): half a
# second of hydration at HYDRATE_RATE.
AHEAD = 128


def store_args(clones):
    """The table line after the origin and store devices: clone store,
    the targets of clones, hydrate_rate."""
    feats = []
    for cid in clones:
        feats += ["clone_target", str(cid), "/dev/mapper/" + TARGET[cid][0]]
    feats += ["hydrate_rate", str(HYDRATE_RATE)]
    return "clone %d %d %s" % (CHUNK_SECTORS, len(feats), " ".join(feats))


def parse_status(text):
    """A shadow-origin clone store's status line as a dict (mode, invalid,
    clones: {id: (state, copied)}), or None if it is not one."""
    w = text.split()
    try:
        if w[2] != "shadow-origin" or w[3] != "clone":
            return None
        clones = {}
        for i in range(int(w[19])):
            cid, state, copied = w[20 + 3 * i:23 + 3 * i]
            clones[int(cid)] = (state, int(copied.split("/")[0]))
        return {"mode": w[8], "invalid": int(w[7]), "clones": clones}
    except (IndexError, ValueError):
        return None


def status(ctl, name):
    try:
        text = ctl.status_line(name)
    except OSError as exc:
        return None, "status %s: %s" % (name, os.strerror(exc.errno))
    return parse_status(text), text


def runs_to_set(runs):
    """The chunks of shadow-dump's "copied" runs."""
    out = set()
    for r in runs:
        out.update(range(r["first_chunk"], r["first_chunk"] + r["chunks"]))
    return out


def differing(data, want, blocks):
    """Of blocks, those where data and want differ (memoryviews: no
    copies, the checks compare 10 MiB a point under an emulated CPU)."""
    d, w = memoryview(data), memoryview(want)
    return [b for b in blocks if d[b * BLOCK:(b + 1) * BLOCK] !=
            w[b * BLOCK:(b + 1) * BLOCK]]


def differ_text(data, want, blocks):
    """Of blocks, those where data and want differ, as failure text: the
    count and the first four, each with what it holds."""
    if data == want:
        return 0, ""
    bad = differing(data, want, blocks)
    shown = []
    for b in bad[:4]:
        got = decode(data[b * BLOCK:(b + 1) * BLOCK])
        g = decode(want[b * BLOCK:(b + 1) * BLOCK])[1]
        shown.append("chunk %d holds %s, expected generation %d" % (
            b, "no pattern" if got is None else
            "block %d generation %d" % got, g))
    return len(bad), "; ".join(shown)


# ---------------------------------------------------------------- workload

def work(state_path, seed):
    rng = random.Random(seed)
    ctl = dmioctl.Control()
    # "snaps": each clone's point in time, by id, as cowreplay's snapshots.
    state = {"seed": seed, "marks": {}, "snaps": {}, "writes": [],
             "deleted": []}
    gen = [0] * NBLOCKS
    floor = [0] * NBLOCKS
    acked, complete = [], []
    since = {}               # clone id: blocks written since its create
    kinds = {}
    nmark = [0]
    st = [None]              # the last status read

    def mark(kind):
        nmark[0] += 1
        name = "%s-%d" % (kind, nmark[0])
        # What is guaranteed from this mark on: recorded before the mark.
        state["marks"][name] = {"floor": list(floor), "snaps": list(acked),
                                "deleted": [], "complete": list(complete)}
        ctl.message("rlog", "mark " + name)
        return name

    def poll():
        """Reads the status; a clone it shows complete for the first time
        gets a mark (its completion is durable: see the top)."""
        cur, text = status(ctl, "rvol")
        if cur is None or cur["mode"] != "rw":
            raise RuntimeError("status of rvol: %s" % text)
        for cid, (cst, copied) in sorted(cur["clones"].items()):
            if cst == "failed":
                raise RuntimeError("clone %d failed: %s" % (cid, text))
            if cst == "complete" and cid not in complete:
                complete.append(cid)
                print("clone %d complete (%d writes made), acknowledged at "
                      "mark %s" % (cid, len(state["writes"]),
                                   mark("complete")), flush=True)
        st[0] = cur
        return cur

    def hydrating():
        return [cid for cid, (cst, _) in st[0]["clones"].items()
                if cst == "hydrating"]

    def pick():
        """A block: half of the time a first write ahead of the newest
        hydrating clone's walk (its chunk is copied before the write),
        else a re-write (no copy) or any block."""
        hyd = hydrating()
        r = rng.random()
        if hyd and r < 0.5:
            cid = max(hyd)
            front = st[0]["clones"][cid][1] + AHEAD
            cand = [b for b in range(front, NBLOCKS) if b not in since[cid]]
            if cand:
                return rng.choice(cand), "ahead of clone %d" % cid
        written = sorted(since[max(acked)])
        if written and r < 0.75:
            return rng.choice(written), "re-write"
        return rng.randrange(NBLOCKS), "anywhere"

    def write_round():
        nonlocal floor
        for _ in range(PER_ROUND):
            b, kind = pick()
            kinds[kind] = kinds.get(kind, 0) + 1
            g = len(state["writes"]) + 1
            vol.write_block(b, pattern(b, g))
            gen[b] = g
            state["writes"].append([b, g])
            for s in since.values():
                s.add(b)
        # Acknowledged and flushed: guaranteed from the mark on.
        vol.fsync()
        floor = list(gen)
        mark("flush")
        return poll()

    def create(cid):
        # The point in time is the suspend; every write so far completed
        # and was flushed, as a file system's freeze would.
        nonlocal floor
        vol.fsync()
        floor = list(gen)
        if cid > 1:
            # A quick swap to a table that names the new target too.
            ctl.load("rvol", "0 %d shadow-origin /dev/mapper/r-origin "
                     "/dev/mapper/r-store %s"
                     % (ORIGIN_SECTORS, store_args(CLONES[:cid])))
            ctl.resume("rvol")
        state["snaps"][str(cid)] = list(gen)
        ctl.snapshot("rvol", cid)
        acked.append(cid)
        since[cid] = set()
        print("clone %d created, acknowledged at mark %s"
              % (cid, mark("create")), flush=True)
        return poll()

    vol = cowreplay.fill_and_load(mark, store_args(CLONES[:1]))
    create(1)
    rounds = 0
    while rounds < ROUNDS_ONE[1]:
        cst, copied = write_round()["clones"][1]
        rounds += 1
        if rounds >= ROUNDS_ONE[0] and (cst != "hydrating" or
                                        copied >= NBLOCKS // 3):
            break
    print("clone 2 is taken with clone 1 %s %d/%d" % (
        st[0]["clones"][1][0], st[0]["clones"][1][1], NBLOCKS), flush=True)
    create(2)
    rounds = 0
    while rounds < ROUNDS_TWO[1]:
        write_round()
        rounds += 1
        if rounds >= ROUNDS_TWO[0] and not hydrating():
            break
    deadline = time.time() + 300
    while hydrating():
        if time.time() > deadline:
            raise RuntimeError("the clones did not complete in 300 s: %s"
                               % st[0])
        # Marks while it waits keep the window of the completion's
        # points small (Checker.points).
        time.sleep(0.25)
        mark("wait")
        poll()
    # Writes with no clone hydrating: remapped at once.
    for _ in range(2):
        write_round()
    vol.fsync()
    floor = list(gen)
    mark("end")
    cowreplay.unload(vol, ctl, mark, state, state_path)
    print("workload: %d writes (%s), clones %s created, %s complete, "
          "%d marks" % (len(state["writes"]), ", ".join(
              "%d %s" % (n, k) for k, n in sorted(kinds.items())),
              acked, complete, nmark[0]), flush=True)


# ------------------------------------------------------------------ checks

class ClonePoint(cowreplay.Point):
    """One replay point of the clone store.  At the power cut, before
    anything loads the store: shadow-dump --check finds no damage and no
    leak; every clone whose create was acknowledged exists, none that was
    never created; one acknowledged complete is complete; none failed;
    every chunk the store records as copied holds the clone's point in
    time on its target (a bit is never durable before its copy), and a
    hydrating clone's every other chunk holds it on the origin (no origin
    write reached the disk before its chunk's old data was on the target
    and recorded).  Then the table loads (hydrate_rate 1) and the status
    agrees; the clones' devices read their point in time while they
    hydrate; every acknowledged, flushed origin write is on the origin;
    flushed writes to chunks not copied at the cut go on; with
    hydrate_rate 0 every clone completes; then its target alone and its
    device read its point in time, and the origin holds those writes and
    is otherwise unchanged; the store checks clean after the removal."""

    dump_options = ("--json", "--records", "--check")

    def run(self):
        c, n = self.c, self.n
        self.mark, info = c.mark_before(self.prefix)
        t0 = time.time()
        c.advance(self.base)
        c.copy_to_scratch()
        if self.omit is not None:
            c.apply_to_scratch(self.base, self.prefix, self.omit)
        image = c.read_scratch()
        devs = {}
        try:
            for _, short, start, length in SLICES:
                name = "rp%d-%s" % (n, short)
                err = self.dm(name, "0 %d linear %s %d"
                              % (length, c.scratch, start))
                if err:
                    raise RuntimeError("linear %s: %s" % (name, err))
                devs[short] = "/dev/mapper/" + name
            cut = {}
            if c.store_formatted():
                self.dump_check(devs["s"], "at the power cut")
                cut = self.clones_at_cut()
            elif info is not None and info.get("loaded"):
                self.fail("store format", "the store's superblock is zero "
                          "after the table load was acknowledged")
            if cut is not None:
                self.check_cut(cut, info, image)
            vol = "rp%d-vol" % n
            feats = []
            for cid in CLONES:
                feats += ["clone_target", str(cid), devs["t%d" % cid]]
            err = self.dm(vol, "0 %d shadow-origin %s %s clone %d %d %s "
                          "hydrate_rate 1" % (
                              ORIGIN_SECTORS, devs["o"], devs["s"],
                              CHUNK_SECTORS, len(feats) + 2,
                              " ".join(feats)))
            if err:
                self.fail("table load", "%s; kernel log: %s" % (
                    err, c.dmesg_tail()))
                return
            self.check_point(vol, devs, info, cut)
            err = self.remove(vol)
            if err:
                self.fail("table removal", err)
            else:
                self.dump_check(devs["s"], "after recovery and use")
        finally:
            self.cleanup()
            if any("(leak)" not in f for f in self.failures):
                print("    the log around point %d:\n%s" % (
                    n, c.batch(self.prefix, self.omit)), flush=True)
            print("point %d: %s %s, mark %s: %s (%.1fs)" % (
                n, self.where(), self.kind, self.mark or "none",
                "%d failures" % len(self.failures) if self.failures else "ok",
                time.time() - t0), flush=True)

    def clones_at_cut(self):
        """{id: (state, chunks recorded as copied or None, count)} of the
        store at the power cut, from shadow-dump; None if unreadable."""
        d = self.dumped
        if d is None or d.get("clones") is None:
            self.fail("store at the power cut", "shadow-dump gave no clone "
                      "list: %s" % ("no JSON" if d is None else
                                    d.get("clones_error")))
            return None
        cut = {}
        for cl in d["clones"]:
            copied = None
            if cl["state"] == "hydrating":
                if cl.get("copied") is None:
                    self.fail("store at the power cut", "clone %d's bitset "
                              "is unreadable: %s" % (
                                  cl["id"], cl.get("copied_error")))
                    continue
                copied = runs_to_set(cl["copied"])
            cut[cl["id"]] = (cl["state"], copied, cl["nr_copied"])
        return cut

    def check_cut(self, cut, info, image):
        """The clones as the power cut left them (see the class)."""
        c = self.c
        created = set(int(k) for k in c.state["snaps"])
        for cid in sorted(cut):
            if cid not in created:
                self.fail("clone at the power cut", "clone %d exists but "
                          "was never created" % cid)
        if info is not None:
            for cid in info["snaps"]:
                if cid not in cut:
                    self.fail("clone durable", "clone %d is missing at the "
                              "power cut; its create was acknowledged" % cid)
            for cid in info["complete"]:
                if cid in cut and cut[cid][0] != "complete":
                    self.fail("completion durable", "clone %d is %s at the "
                              "power cut; it was complete before the mark"
                              % (cid, cut[cid][0]))
        origin = image[:ORIGIN_BYTES]
        for cid, (state, copied, count) in sorted(cut.items()):
            if cid not in created:
                continue
            if state not in ("hydrating", "complete"):
                self.fail("clone at the power cut", "clone %d is %s"
                          % (cid, state))
                continue
            want = c.image(cid)
            start = TARGET[cid][2] * 512
            target = image[start:start + ORIGIN_BYTES]
            if state == "complete":
                copied = set(range(NBLOCKS))
            beyond = sorted(b for b in copied if b >= NBLOCKS)
            if beyond:
                self.fail("clone at the power cut", "clone %d records "
                          "chunks past the origin copied: %s" % (
                              cid, beyond[:4]))
            nbad, text = differ_text(target, want, sorted(
                b for b in copied if b < NBLOCKS))
            if nbad:
                self.fail("copy durable before its bit", "clone %d (%s, %d "
                          "chunks recorded as copied): %d of them do not "
                          "hold its point in time on its target; %s"
                          % (cid, state, count, nbad, text))
            if state == "hydrating":
                nbad, text = differ_text(origin, want, [
                    b for b in range(NBLOCKS) if b not in copied])
                if nbad:
                    self.fail("copy before the origin write", "clone %d (%d "
                              "chunks recorded as copied): %d chunks not "
                              "recorded are overwritten on the origin; %s"
                              % (cid, count, nbad, text))

    def check_status(self, vol, when):
        st, text = status(self.c.ctl, vol)
        if st is None or st["mode"] != "rw" or st["invalid"]:
            self.fail("status " + when, "%s; kernel log: %s"
                      % (text, self.c.dmesg_tail()))
            return None
        return st

    def wait_complete(self, vol):
        """The status once no clone hydrates (None: it failed, or two
        minutes passed)."""
        deadline = time.time() + 120
        while True:
            st = self.check_status(vol, "while hydrating")
            if st is None:
                return None
            states = [s for s, _ in st["clones"].values()]
            if "hydrating" not in states:
                return st
            if time.time() > deadline:
                self.fail("hydration", "not complete after 120 s: %s"
                          % st["clones"])
                return None
            time.sleep(0.1)

    def check_targets(self, devs, clones, when):
        """Each clone's target alone holds its point in time."""
        for cid in clones:
            dev = Direct(devs["t%d" % cid])
            try:
                data = dev.read(0, ORIGIN_BYTES)
            except OSError as exc:
                self.fail("target read " + when, "clone %d: %s"
                          % (cid, exc))
                continue
            finally:
                dev.close()
            nbad, text = differ_text(data, self.c.image(cid), range(NBLOCKS))
            if nbad:
                self.fail("target content " + when, "clone %d: %d of %d "
                          "chunks differ; %s" % (cid, nbad, NBLOCKS, text))

    def check_point(self, vol, devs, info, cut):
        c = self.c
        st = self.check_status(vol, "at load")
        snaps = self.snap_list(vol)
        if st is None or snaps is None:
            return
        self.check_list(snaps, "at load")
        created = set(int(k) for k in c.state["snaps"])
        for sid in sorted(snaps):
            if sid not in created:
                self.fail("clone list at load",
                          "clone %d exists but was never created" % sid)
        if info is not None:
            for sid in info["snaps"]:
                if sid not in snaps:
                    self.fail("clone durable", "clone %d is missing after "
                              "the load; its create was acknowledged" % sid)
        if set(st["clones"]) != set(snaps):
            self.fail("status at load", "clones %s, the list %s" % (
                sorted(st["clones"]), sorted(snaps)))
        if cut is not None:
            if set(cut) != set(st["clones"]):
                self.fail("status at load", "clones %s, %s at the power "
                          "cut" % (sorted(st["clones"]), sorted(cut)))
            for cid, (state, _, count) in sorted(cut.items()):
                now = st["clones"].get(cid)
                if now is None:
                    continue
                if now[0] == "failed" or (state == "complete" and
                                          now[0] != "complete"):
                    self.fail("status at load", "clone %d is %s, %s at the "
                              "power cut" % (cid, now[0], state))
                elif now[1] < count:
                    self.fail("status at load", "clone %d counts %d chunks "
                              "copied, %d at the power cut"
                              % (cid, now[1], count))
        known = {sid: v for sid, v in snaps.items() if sid in created}
        origin_dev = devs["o"]
        # Copied chunks from the target, the others from the origin.
        self.check_snaps(origin_dev, known, "while hydrating")
        # Flushed writes to chunks a clone lacked at the cut, and two
        # anywhere: each must copy its chunk first.
        rng = random.Random(c.seed * 1000003 + self.n)
        lacking = sorted(set(b for state, copied, _ in (cut or {}).values()
                             if state == "hydrating"
                             for b in range(NBLOCKS) if b not in copied))
        blocks = rng.sample(lacking, min(6, len(lacking))) + \
            [rng.randrange(NBLOCKS) for _ in range(2)]
        written = {}
        voldev = Direct("/dev/mapper/" + vol, write=True)
        try:
            data = voldev.read(0, ORIGIN_BYTES)
            if info is not None:
                self.check_origin_at(data, info, "at load")
            for i, b in enumerate(blocks):
                g = EXERCISE_GEN + self.n * 100 + i
                voldev.write_block(b, pattern(b, g))
                written[b] = g
            voldev.fsync()
        except OSError as exc:
            self.fail("use after recovery", "origin I/O: %s; kernel log: %s"
                      % (exc, c.dmesg_tail()))
            return
        finally:
            voldev.close()
        try:
            self.c.ctl.message(vol, "hydrate_rate 0")
        except OSError as exc:
            self.fail("hydrate_rate 0", os.strerror(exc.errno))
            return
        st = self.wait_complete(vol)
        if st is None:
            return
        for cid, (state, copied) in sorted(st["clones"].items()):
            if state != "complete" or copied != NBLOCKS:
                self.fail("hydration", "clone %d is %s with %d of %d "
                          "chunks copied" % (cid, state, copied, NBLOCKS))
        voldev = Direct("/dev/mapper/" + vol)
        try:
            after = voldev.read(0, ORIGIN_BYTES)
        except OSError as exc:
            self.fail("use after recovery", "origin read: %s" % exc)
            return
        finally:
            voldev.close()
        for b, g in sorted(written.items()):
            if decode(after[b * BLOCK:(b + 1) * BLOCK]) != (b, g):
                self.fail("use after recovery", "origin block %d does not "
                          "read back its write" % b)
        changed = [b for b in differing(after, data, range(NBLOCKS))
                   if b not in written]
        if changed:
            self.fail("use after recovery", "%d origin blocks changed with "
                      "no write to them, first: %s" % (len(changed), ", ".join(
                          "block %d holds %s" % (b, decode(
                              after[b * BLOCK:(b + 1) * BLOCK]))
                          for b in changed[:4])))
        self.check_targets(devs, sorted(known), "once complete")
        self.check_snaps(origin_dev, known, "once complete")


class CloneChecker(cowreplay.Checker):
    total_sectors = TOTAL_SECTORS
    EVENTS = ("loaded", "create", "complete")

    def read_scratch(self):
        """The scratch copy, every slice, as the power cut left it."""
        size = self.total_sectors * 512
        out = bytearray()
        while len(out) < size:
            chunk = os.pread(self.scratch_fd, min(1 << 20, size - len(out)),
                             len(out))
            if not chunk:
                raise OSError("short read of the scratch copy")
            out += chunk
        return bytes(out)

    def slice_of(self, e):
        """The slice an entry writes: (its dm name, its first 4 KiB block
        there), or (None, None)."""
        first = e.sector * self.log.sectorsize // 512
        for name, _, start, length in SLICES:
            if start <= first < start + length:
                return name, (first - start) * 512 // BLOCK
        return None, None

    def describe(self, e):
        ss = self.log.sectorsize
        if e.mark is not None:
            return "MARK %s" % e.mark
        what = "%s %d+%d" % (logreplay.flag_text(e.flags),
                             e.sector * ss // 512, e.nr_sectors * ss // 512)
        if not e.nr_sectors:
            return logreplay.flag_text(e.flags) + " (no data)"
        name, blk = self.slice_of(e)
        if name is None:
            return what + " (past the slices)"
        return what + " (%s block %d%s)" % (
            name, blk, ": superblock" if name == "r-store" and not blk
            else "")

    def points(self, nflush, nrandom, nsubset, nevent):
        """The points to check, as (base, kind, prefix, omit) sorted: see
        the module's doc.  Only points after the initial fill (the "init"
        mark), and the whole log."""
        entries = self.log.entries
        total = len(entries)
        rng = random.Random(self.seed)
        sync = logreplay.FLUSH | logreplay.FUA
        first = min(idx for idx, name, _ in self.marks
                    if name.startswith("init-")) + 1
        flush = [e.index + 1 for e in entries[first:] if e.flags & sync]
        fset = set(flush)
        chosen_flush = flush if len(flush) <= nflush else \
            sorted(rng.sample(flush, nflush))
        between = [p for p in range(first + 1, total + 1) if p not in fset]
        chosen_random = sorted(rng.sample(between,
                                          min(nrandom, len(between))))
        # The batches of the table load (the format), of each create and
        # of each completion: from the mark before the event to its own,
        # and on to the second flush after it.  Every flush among them if
        # they fit in nevent, else half of nevent at least; the rest a
        # sample of their other points.
        windows = {}
        prev = first - 1
        for idx, name, _ in self.marks:
            if name.split("-")[0] in self.EVENTS:
                end, seen = idx + 1, 0
                while end < total and seen < 2:
                    if entries[end].flags & sync:
                        seen += 1
                    end += 1
                for p in range(prev + 1, end + 1):
                    windows.setdefault(p, name)
            prev = idx
        events = windows
        if len(windows) > nevent:
            fl = sorted(p for p in windows if p in fset)
            rest = sorted(p for p in windows if p not in fset)
            nf = min(len(fl), max(nevent - len(rest), nevent // 2))
            keep = rng.sample(fl, nf) + rng.sample(rest, min(len(rest),
                                                             nevent - nf))
            events = {p: windows[p] for p in keep}
        kinds = {}
        for p in chosen_random:
            kinds[p] = "inside a batch"
        for p in chosen_flush:
            kinds[p] = "flush/FUA point"
        for p, name in events.items():
            kinds[p] = ("flush/FUA point" if p in fset else
                        "inside a batch") + " of " + name
        kinds[total] = "the whole log"
        pts = [(p, k, p, None) for p, k in kinds.items()]
        # A disk's cache may keep any subset of the writes since the last
        # flush.  Each write but the last left out (without the last it is
        # a prefix) of the batches of 2 to 8 writes of the events above,
        # and of those that write two slices or more (an origin write and
        # a commit, target copies and a commit: a kernel that did not wait
        # for one before the other would leave them in one batch).
        event_subsets, mixed_subsets, targets_only = [], [], []
        a = first
        for b in range(first, total):
            if not entries[b].flags & sync:
                continue
            data = [e for e in entries[a:b] if e.mark is None and
                    e.nr_sectors]
            if 2 <= len(data) <= 8:
                slices = set(self.slice_of(e)[0] for e in data)
                if a in windows and b + 1 in windows:
                    for e in data[:-1]:
                        event_subsets.append(
                            (a, "batch subset of " + windows[b + 1], b,
                             e.index))
                elif len(slices) > 1:
                    # Copies to both targets alone: only if nothing else.
                    to = mixed_subsets if slices & {"r-origin", "r-store"} \
                        else targets_only
                    for e in data[:-1]:
                        to.append((a, "batch subset of %s" % "+".join(
                            sorted(slices)), b, e.index))
            a = b + 1
        if not mixed_subsets:
            mixed_subsets = targets_only
        ne = min(len(event_subsets), max(nsubset - len(mixed_subsets),
                                         nsubset // 2))
        nm = min(len(mixed_subsets), nsubset - ne)
        pts += rng.sample(event_subsets, ne) + rng.sample(mixed_subsets, nm)
        pts.sort(key=lambda x: (x[0], x[2], x[3] or 0))
        return flush, pts


def check(log_path, base, scratch, state_path, seed, nflush, nrandom,
          nsubset, nevent, share):
    return cowreplay.check(log_path, base, scratch, state_path, seed,
                           nflush, nrandom, nsubset, nevent, share,
                           checker_cls=CloneChecker, point_cls=ClonePoint,
                           events="a table load, create or completion")


def main(argv):
    if len(argv) == 2 and argv[1] == "geometry":
        print("REPLAY_SECTORS=%d" % TOTAL_SECTORS)
        print("REPLAY_SLICES='%s'" % " ".join(
            "%s:%d:%d" % (name, start, length)
            for name, _, start, length in SLICES))
        print("REPLAY_DISK_MIB=%d" % -(-TOTAL_SECTORS // 2048))
        return 0
    if len(argv) == 4 and argv[1] == "work":
        work(argv[2], int(argv[3]))
        return 0
    if len(argv) == 12 and argv[1] == "check":
        return check(argv[2], argv[3], argv[4], argv[5], int(argv[6]),
                     int(argv[7]), int(argv[8]), int(argv[9]),
                     int(argv[10]), argv[11])
    sys.stderr.write(__doc__)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
