"""The changed-block tracking measure: shadowctl diff and incremental
export, run on dm-shadow rows only, through shadowctl itself (the diff is
userspace reading the store's metadata, not a kernel path).

diff: a cbt_gib origin of dm-zero (writes vanish; the store still copies
each chunk, to a dm-zero data area, while its metadata is real, on a brd
disk) with cbt_pct % of its chunks changed between two copies, then 16
chunks changed between the second and a third; and an origin 64 times
smaller with as many chunks changed as the big one's cbt_pct %.  If the
diff's cost follows the changed chunks and not the volume, the first and
the third times are about equal and the second much smaller.

export: a cbt_export_mib volume of random data (fio's), 1 % of its chunks
changed between two copies (a 4 KiB write at the start of each), the
second exported --since the first: the stream's bytes over the changed
chunks' bytes, in %, and the export's time.

Every diff must report exactly the chunks written, and the export exactly
their bytes, or the measure fails.
"""
import json
import mmap
import os
import random
import shutil
import subprocess
import tempfile
import time

import fio
import stacks

MiB = 1 << 20
GiB = 1 << 30

DIFF_COLS = ("cbt_big", "cbt_small", "cbt_few")
EXPORT_COLS = ("ex_over", "ex_ms")


def diff_columns(p):
    """The diff table's columns, with the profile's sizes in the
    headings."""
    return [("cbt_big", "%d GiB, %g%% of chunks changed"
             % (p["cbt_gib"], p["cbt_pct"]), "ms", None),
            ("cbt_small", "%g GiB, as many chunks changed"
             % (p["cbt_gib"] / 64.0), "ms", None),
            ("cbt_few", "%d GiB, 16 chunks changed" % p["cbt_gib"], "ms",
             None)]


class Ctl:
    """shadowctl with a state directory of its own, JSON output parsed.
    Runs the binary libtool wraps: the wrapper script costs seconds per
    run under TCG."""

    def __init__(self):
        top = os.environ.get("SHADOW_TOP", os.path.join(
            os.path.dirname(os.path.abspath(__file__)), "..", ".."))
        real = os.path.join(top, "cmd", "shadowctl", ".libs", "shadowctl")
        self.argv = [real if os.access(real, os.X_OK) else
                     os.path.join(top, "cmd", "shadowctl", "shadowctl")]
        self.state = tempfile.mkdtemp(prefix="bench-ctl-")
        self.env = dict(os.environ, SHADOW_STATE_DIR=self.state)
        lib = os.path.join(top, "lib", ".libs")
        self.env["LD_LIBRARY_PATH"] = lib + (
            ":" + os.environ["LD_LIBRARY_PATH"]
            if os.environ.get("LD_LIBRARY_PATH") else "")
        self.volumes = []

    def __call__(self, *args):
        r = subprocess.run(self.argv + ["-J"] + list(args), env=self.env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("shadowctl %s: exit %d: %s" % (
                " ".join(args), r.returncode, r.stderr.strip()))
        return json.loads(r.stdout) if r.stdout.strip() else None

    def enable(self, dev, store, chunk_bytes):
        """Take the dm device dev over in place (it keeps its name)."""
        self("enable", dev, "--store", store, "--chunk-size",
             "%dK" % (chunk_bytes // 1024))
        self.volumes.append(os.path.basename(dev))

    def copy(self, volume):
        return self("create", volume, "--no-writers")["set"]["shadows"][0][
            "id"]

    def close(self):
        """Disable every volume enabled (deleting its copies)."""
        try:
            for v in self.volumes:
                self("disable", v, "--force")
        finally:
            shutil.rmtree(self.state, ignore_errors=True)


def touch_chunks(dev, chunk_bytes, chunks):
    """A 4 KiB random block at the start of each chunk, O_DIRECT."""
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 4096)
    try:
        for c in chunks:
            buf[:] = os.urandom(4096)
            os.pwrite(fd, buf, c * chunk_bytes)
    finally:
        os.close(fd)


def sparse_store(ctl, name, disk, offset, chunk_bytes, nchunks):
    """A store for nchunks copied chunks: its metadata area (as bounded
    by ShadowStack.meta_bound) on disk from sector offset, zeroed at its
    start so it is formatted, and a dm-zero data area."""
    c = chunk_bytes // stacks.SECTOR
    meta = stacks.ShadowStack.meta_bound(nchunks + 64)
    meta += -meta % c
    if offset + meta > stacks.sectors(disk):
        raise RuntimeError("%s: no room for a metadata area of %d sectors"
                           % (disk, meta))
    stacks.zero_start(disk, offset)
    ctl.create(name, [(0, meta, "linear", "%s %d" % (disk, offset)),
                      (meta, (nchunks + 64) * c, "zero", "")])
    return "/dev/mapper/" + name, offset + meta


def timed_diff(sc, a, b, want_bytes):
    t0 = time.perf_counter()
    d = sc("diff", str(a), str(b))
    ms = (time.perf_counter() - t0) * 1000
    if d["changed_bytes"] != want_bytes:
        raise RuntimeError("diff %s %s: %d bytes changed, %d written" % (
            a, b, d["changed_bytes"], want_bytes))
    return ms


def diffs(env, stack, p, sc):
    chunk = stack.chunk * stacks.SECTOR
    big = p["cbt_gib"] * GiB // chunk
    small = big // 64
    n = int(big * p["cbt_pct"] / 100)
    rnd = random.Random(15)
    many = rnd.sample(range(big), n)
    taken = set(many)
    few = []
    while len(few) < 16:  # 16 more chunks, none of the first ones
        c = rnd.randrange(big)
        if c not in taken:
            taken.add(c)
            few.append(c)
    ctl = stack.ctl
    off = 0
    cells = {}
    for name, chunks, writes in (("b-cbig", big, (many, few)),
                                 ("b-csmall", small,
                                  (rnd.sample(range(small), n),))):
        stacks.zero_dev(ctl, name, chunks * chunk // stacks.SECTOR)
        dev = "/dev/mapper/" + name
        store, off = sparse_store(ctl, name + "-st", env.disks[1], off,
                                  chunk, sum(len(w) for w in writes))
        sc.enable(dev, store, chunk)
        ids = [sc.copy(name)]
        for w in writes:
            touch_chunks(dev, chunk, w)
            ids.append(sc.copy(name))
        if name == "b-cbig":
            cells["cbt_big"] = {"v": timed_diff(sc, ids[0], ids[1],
                                                n * chunk),
                                "note": "%d of %d chunks" % (n, chunks)}
            cells["cbt_few"] = timed_diff(sc, ids[1], ids[2], 16 * chunk)
        else:
            cells["cbt_small"] = {"v": timed_diff(sc, ids[0], ids[1],
                                                  n * chunk),
                                  "note": "%d of %d chunks" % (n, chunks)}
    return cells


def export(env, stack, p, sc):
    chunk = stack.chunk * stacks.SECTOR
    size = p["cbt_export_mib"] * MiB
    ctl = stack.ctl
    ctl.create("b-cex", [(0, size // stacks.SECTOR, "linear",
                          "%s 0" % env.disks[2])])
    dev = "/dev/mapper/b-cex"
    fio.run("seqwrite", dev, size, ["--bs=%d" % min(MiB, size)])
    sc.enable(dev, env.disks[3], chunk)
    a = sc.copy("b-cex")
    chunks = random.Random(16).sample(range(size // chunk),
                                      max(1, size // chunk // 100))
    touch_chunks(dev, chunk, chunks)
    b = sc.copy("b-cex")
    fd, out = tempfile.mkstemp(prefix="bench-export-")
    os.close(fd)
    try:
        t0 = time.perf_counter()
        e = sc("export", str(b), "--since", str(a), "-o", out)
        ms = (time.perf_counter() - t0) * 1000
    finally:
        os.unlink(out)
    data = len(chunks) * chunk
    if e["data_bytes"] != data:
        raise RuntimeError("export covers %d bytes, %d changed" % (
            e["data_bytes"], data))
    return {"ex_over": {"v": 100.0 * (e["stream_bytes"] - data) / data,
                        "note": "%d of %d chunks" % (len(chunks),
                                                     size // chunk)},
            "ex_ms": ms}


def diff_time(env, stack, p):
    """Both parts of the measure on one dm-shadow row (module doc)."""
    if stack.kind != "dm-shadow":
        return {c: {"na": "dm-shadow only"} for c in DIFF_COLS + EXPORT_COLS}
    if stack.store == "clone":
        return {c: {"na": "a clone store records no changes"}
                for c in DIFF_COLS + EXPORT_COLS}
    env.fresh_disks()
    sc = Ctl()
    try:
        cells = diffs(env, stack, p, sc)
        cells.update(export(env, stack, p, sc))
    finally:
        try:
            sc.close()
        finally:
            stack.teardown()
    return cells
