"""One fio job, run the same way for every device: its parameters and the
figures read back from fio's JSON output.

Every job is direct I/O through libaio.  The parameter sets are named here
once, so the report can print exactly what was run.
"""
import json
import subprocess

COMMON = ["--ioengine=libaio", "--direct=1", "--randrepeat=1",
          "--group_reporting", "--output-format=json"]

# name: (fio arguments, figure); region and I/O count are added per job.
JOBS = {
    "seqwrite": ["--rw=write", "--bs=1M", "--iodepth=4"],
    "randwrite": ["--rw=randwrite", "--bs=4k", "--iodepth=16"],
    "seqread": ["--rw=read", "--bs=1M", "--iodepth=4"],
    "randread": ["--rw=randread", "--bs=4k", "--iodepth=16"],
}


def describe():
    """The fio parameters, for the report."""
    lines = ["common: " + " ".join(COMMON[:-2])]
    for name, args in JOBS.items():
        lines.append("%s: %s" % (name, " ".join(args)))
    lines.append("randwrite also: --blockalign=<chunk> --io_size=<ios x 4k> "
                 "(random map on: each chunk of the region written once)")
    lines.append("randread also: --time_based --runtime=<s>")
    return lines


def version():
    return subprocess.run(["fio", "--version"], capture_output=True,
                          text=True).stdout.strip()


def run(job, dev, size_bytes, extra=()):
    """Run one job on dev over [0, size_bytes); return its figures:
    MiB/s, IOPS and p99 completion latency (us) of the job's direction."""
    args = ["fio", "--name=" + job, "--filename=" + dev,
            "--size=%d" % size_bytes] + COMMON + JOBS[job] + list(extra)
    if "--bs=1M" in JOBS[job] and size_bytes < (1 << 20):
        args.append("--bs=%d" % size_bytes)  # tiny regions (quick runs)
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("fio %s on %s failed: %s" % (job, dev,
                                                        p.stderr.strip()))
    out = json.loads(p.stdout[p.stdout.index("{"):])
    j = out["jobs"][0]
    d = j["write"] if "write" in job else j["read"]
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
