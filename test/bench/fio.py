"""One fio job, run the same way for every device: its parameters and the
figures read back from fio's JSON output.

Every job is direct I/O, through libaio at a queue depth of 4 or 16, or
through psync at a queue depth of 1 (one synchronous write at a time: how
a database's synchronous writes and dd arrive).  The parameter sets are
named here once, so the report can print exactly what was run.
"""
import json
import math
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

COMMON = ["--direct=1", "--randrepeat=1", "--group_reporting",
          "--output-format=json"]
LIBAIO = ["--ioengine=libaio"]
PSYNC = ["--ioengine=psync", "--iodepth=1"]

# name: fio arguments; region and I/O count are added per job.
JOBS = {
    "seqwrite": LIBAIO + ["--rw=write", "--bs=1M", "--iodepth=4"],
    "seqwrite_qd1": PSYNC + ["--rw=write", "--bs=1M"],
    "seqwrite64k_qd1": PSYNC + ["--rw=write", "--bs=64k"],
    "seqread": LIBAIO + ["--rw=read", "--bs=1M", "--iodepth=4"],
    "randread": LIBAIO + ["--rw=randread", "--bs=4k", "--iodepth=16"],
}

# The chunk writes' queue: libaio QD16, or psync QD1.
CHUNK_QUEUE = {16: LIBAIO + ["--iodepth=16"], 1: PSYNC}

# The steady load of the delete measure, stopped by SIGINT.
LOAD = PSYNC + ["--rw=randwrite", "--bs=4k", "--norandommap",
                "--time_based", "--runtime=86400"]


def describe():
    """The fio parameters, for the report."""
    lines = ["common: " + " ".join(COMMON[:-2])]
    for name, args in JOBS.items():
        lines.append("%s: %s" % (name, " ".join(args)))
    lines.append("chunk writes (first-writes, re-writes, memory and delete "
                 "measures): 4 KiB writes at the start of every chunk of a "
                 "region, in a random order (seed 1), replayed from an "
                 "iolog: --read_iolog=<log> --replay_redirect=<dev> "
                 "--replay_no_stall=1 plus common and either %s (QD16) or "
                 "%s (QD1); so every chunk is written exactly once per pass"
                 % (" ".join(CHUNK_QUEUE[16]), " ".join(CHUNK_QUEUE[1])))
    lines.append("randread also: --time_based --runtime=<s>")
    lines.append("delete and revert measures' load: %s plus common, stopped by SIGINT; "
                 "every completion latency logged with its time: "
                 "--write_lat_log=<prefix> --log_unix_epoch=1"
                 % " ".join(LOAD))
    return lines


def version():
    return subprocess.run(["fio", "--version"], capture_output=True,
                          text=True).stdout.strip()


def _figures(p, job, dev, what="write"):
    if p.returncode != 0:
        raise RuntimeError("fio %s on %s failed: %s" % (job, dev,
                                                        p.stderr.strip()))
    out = json.loads(p.stdout[p.stdout.index("{"):])
    j = out["jobs"][0]
    d = j[what]
    if d["io_bytes"] == 0:
        raise RuntimeError("fio %s on %s did no I/O" % (job, dev))
    pct = d["clat_ns"].get("percentile", {})
    return {
        "mibps": d["bw_bytes"] / 1048576.0,
        "iops": d["iops"],
        "p99_us": pct.get("99.000000", 0) / 1000.0,
        "ios": d["total_ios"],
        "secs": d["runtime"] / 1000.0,
    }


def chunk_writes(dev, chunk_bytes, nchunks, qd=16, base=0):
    """One 4 KiB write at the start of each of nchunks chunks from byte
    base on, in a random order that is the same on every call, at a queue
    depth of qd (16: libaio, 1: psync).  fio's own random map cannot do
    this: any use of blockalign= turns it off, and then about a third of
    the writes land on chunks already written."""
    order = list(range(nchunks))
    random.Random(1).shuffle(order)
    fd, log = tempfile.mkstemp(prefix="bench-", suffix=".iolog")
    try:
        with os.fdopen(fd, "w") as f:
            f.write("fio version 2 iolog\n%s add\n%s open\n" % (dev, dev))
            f.writelines("%s write %d 4096\n" % (dev, base + c * chunk_bytes)
                         for c in order)
            f.write("%s close\n" % dev)
        args = ["fio", "--name=chunkwrite", "--read_iolog=" + log,
                "--replay_redirect=" + dev, "--replay_no_stall=1"] + \
            CHUNK_QUEUE[qd] + COMMON
        p = subprocess.run(args, capture_output=True, text=True)
    finally:
        os.unlink(log)
    r = _figures(p, "chunkwrite", dev)
    if r["ios"] != nchunks:
        raise RuntimeError("fio chunk writes on %s: %d I/Os, expected %d"
                           % (dev, r["ios"], nchunks))
    return r


def run(job, dev, size_bytes, extra=(), offset=0):
    """Run one job on dev over [offset, offset + size_bytes); return its
    figures: MiB/s, IOPS and p99 completion latency (us) of the job's
    direction."""
    args = ["fio", "--name=" + job, "--filename=" + dev,
            "--size=%d" % size_bytes] + COMMON + JOBS[job] + list(extra)
    if offset:
        args.append("--offset=%d" % offset)
    if "--bs=1M" in JOBS[job] and size_bytes < (1 << 20):
        args.append("--bs=%d" % size_bytes)  # tiny regions (quick runs)
    p = subprocess.run(args, capture_output=True, text=True)
    return _figures(p, job, dev, "write" if "write" in job else "read")


def _writes_done(dev):
    """Writes completed by block device dev, from its sysfs stat."""
    rdev = os.stat(dev).st_rdev
    with open("/sys/dev/block/%d:%d/stat" % (os.major(rdev),
                                             os.minor(rdev))) as f:
        return int(f.read().split()[4])


class Load:
    """A steady write load in the background: QD1 psync 4 KiB random
    writes over [offset, offset + size_bytes) of dev until stop(), with
    every write's completion time and latency logged."""

    def __init__(self, dev, size_bytes, offset=0):
        self.dev = dev
        self.dir = tempfile.mkdtemp(prefix="bench-load-")
        args = ["fio", "--name=load", "--filename=" + dev,
                "--size=%d" % size_bytes] + COMMON + LOAD + [
                    "--write_lat_log=" + os.path.join(self.dir, "lat"),
                    "--log_unix_epoch=1"]
        if offset:
            args.append("--offset=%d" % offset)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)

    def wait_started(self, timeout=120):
        """Return once the load's writes reach the device (fio's start-up
        takes seconds under TCG)."""
        start = _writes_done(self.dev)
        end = time.time() + timeout
        while _writes_done(self.dev) == start:
            if self.proc.poll() is not None or time.time() > end:
                raise RuntimeError("fio load on %s did not start" % self.dev)
            time.sleep(0.05)

    def stop(self, t0=None, t1=None):
        """Stop the load; return window() of its writes over [t0, t1]
        (seconds since the epoch), read from the log as it streams by: a
        long load logs millions of writes.  Without t0, only stop it."""
        if self.proc.returncode is not None and not os.path.isdir(self.dir):
            return None  # stopped already
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
            try:
                _, err = self.proc.communicate(timeout=600)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                _, err = self.proc.communicate()
            if t0 is None:
                return None
            log = os.path.join(self.dir, "lat_clat.1.log")
            if not os.path.exists(log):
                raise RuntimeError("fio load on %s left no latency log: %s"
                                   % (self.dev, err.strip()))
            with open(log) as f:
                before, during = window(_samples(f), t0, t1)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        if not before and not during:
            raise RuntimeError("fio load on %s made no writes" % self.dev)
        return before, during


def _samples(lines):
    """(completion time in ms since the epoch, latency in us) of each write
    in a latency log of fio (nanoseconds)."""
    for line in lines:
        w = line.split(",")
        if len(w) >= 3 and w[2].strip() == "1":  # writes
            yield int(w[0]), int(w[1]) / 1000.0


def percentile(vals, pct):
    """The nearest-rank percentile of vals (pct 0-100)."""
    v = sorted(vals)
    return v[max(0, math.ceil(pct / 100.0 * len(v)) - 1)]


def window(samples, t0, t1):
    """Split a load's samples (ms since the epoch, us) by the span [t0, t1]
    (seconds since the epoch): the latencies of the writes that completed
    before t0, and of those in flight at some moment of the span (completed
    at t0 or later, started at t1 or earlier; the log's times are whole
    milliseconds, so one is allowed either side).  A span shorter than a
    write still has the write in flight across it: the first to complete
    after t0, if no other."""
    a, b = t0 * 1000.0, t1 * 1000.0
    before, during, first = [], [], None
    for t, lat in samples:
        if t < a - 1:
            before.append(lat)
            continue
        if first is None or t < first[0]:
            first = (t, lat)
        if t - lat / 1000.0 <= b + 1:
            during.append(lat)
    if not during and first:
        during = [first[1]]
    return before, during
