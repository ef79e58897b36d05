"""One fio job, run the same way for every device: its parameters and the
figures read back from fio's JSON output.

Every job is direct I/O through libaio.  The parameter sets are named here
once, so the report can print exactly what was run.
"""
import json
import os
import random
import subprocess
import tempfile

COMMON = ["--ioengine=libaio", "--direct=1", "--randrepeat=1",
          "--group_reporting", "--output-format=json"]

# name: (fio arguments, figure); region and I/O count are added per job.
JOBS = {
    "seqwrite": ["--rw=write", "--bs=1M", "--iodepth=4"],
    "seqread": ["--rw=read", "--bs=1M", "--iodepth=4"],
    "randread": ["--rw=randread", "--bs=4k", "--iodepth=16"],
}


def describe():
    """The fio parameters, for the report."""
    lines = ["common: " + " ".join(COMMON[:-2])]
    for name, args in JOBS.items():
        lines.append("%s: %s" % (name, " ".join(args)))
    lines.append("chunk writes (first-writes, re-writes, memory measure): "
                 "4 KiB writes at the start of every chunk of a region, in "
                 "a random order (seed 1), replayed from an iolog: "
                 "--read_iolog=<log> --replay_redirect=<dev> "
                 "--replay_no_stall=1 --iodepth=16 plus common; "
                 "so every chunk is written exactly once per pass")
    lines.append("randread also: --time_based --runtime=<s>")
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


def chunk_writes(dev, chunk_bytes, nchunks):
    """One 4 KiB write at the start of each of nchunks chunks, in a random
    order that is the same on every call, QD16.  fio's own random map
    cannot do this: any use of blockalign= turns it off, and then about a
    third of the writes land on chunks already written."""
    order = list(range(nchunks))
    random.Random(1).shuffle(order)
    fd, log = tempfile.mkstemp(prefix="bench-", suffix=".iolog")
    try:
        with os.fdopen(fd, "w") as f:
            f.write("fio version 2 iolog\n%s add\n%s open\n" % (dev, dev))
            f.writelines("%s write %d 4096\n" % (dev, c * chunk_bytes)
                         for c in order)
            f.write("%s close\n" % dev)
        args = ["fio", "--name=chunkwrite", "--read_iolog=" + log,
                "--replay_redirect=" + dev, "--replay_no_stall=1",
                "--iodepth=16"] + COMMON
        p = subprocess.run(args, capture_output=True, text=True)
    finally:
        os.unlink(log)
    r = _figures(p, "chunkwrite", dev)
    if r["ios"] != nchunks:
        raise RuntimeError("fio chunk writes on %s: %d I/Os, expected %d"
                           % (dev, r["ios"], nchunks))
    return r


def run(job, dev, size_bytes, extra=()):
    """Run one job on dev over [0, size_bytes); return its figures:
    MiB/s, IOPS and p99 completion latency (us) of the job's direction."""
    args = ["fio", "--name=" + job, "--filename=" + dev,
            "--size=%d" % size_bytes] + COMMON + JOBS[job] + list(extra)
    if "--bs=1M" in JOBS[job] and size_bytes < (1 << 20):
        args.append("--bs=%d" % size_bytes)  # tiny regions (quick runs)
    p = subprocess.run(args, capture_output=True, text=True)
    return _figures(p, job, dev, "write" if "write" in job else "read")
