#!/usr/bin/env python3
"""Pattern stomper: seeded random writes to a block device, with a model.

The model is a file holding what the device must contain.  Every write is
made with O_DIRECT and, once it has returned, applied to the model, so after
a burst the device must equal the model byte for byte.  Threads own
disjoint regions of the device, so "the last write" to each byte is well
defined even though writes run concurrently.

  stomper.py init   DEV MODEL            model := current device content
  stomper.py burst  DEV MODEL SEED [--threads N] [--ops N] [--max-len B]
                                         [--journal FILE] [--marker TEXT]
  stomper.py check  DEV MODEL [INFLIGHT SEED]
                                         exit 1 and report the first
                                         differing sectors if DEV != MODEL;
                                         sectors of writes listed in
                                         INFLIGHT may hold old or new data
  stomper.py series DEV MODEL SEED COUNT HOOK SUMS [burst options]
                                         COUNT times: a burst, then run
                                         "HOOK <i>" (which takes snapshot i)
                                         and append "<i> <md5 of model>"
                                         to SUMS; HOOK "dm:NAME" takes
                                         snapshot i of origin NAME itself
  stomper.py chunks DEV MODEL SEED BYTES COUNT
                                         COUNT writes of exactly BYTES at
                                         BYTES-aligned random offsets (whole
                                         chunks of that size), one by one
  stomper.py segsums DEV SECTORS          md5 of each SECTORS-long segment,
                                         one "<index> <md5>" line each
  stomper.py replay MODEL JOURNAL SEED   apply a journal's completed writes,
                                         print the in-flight ones

Write lengths are multiples of 512 from 512 bytes to --max-len (default
64 KiB), at 512-byte aligned offsets: smaller than, equal to and straddling
chunks of any size from 4 KiB up.

With --journal, every write is logged before it is issued and again once
it has completed, with O_DSYNC, and the device is opened O_DSYNC too: after
a power cut, 'replay' rebuilds what the device must hold from the writes
that completed, and reports the ones that were in flight.  --marker prints
TEXT once 32 writes have completed: the cue for a test harness to cut the
power while writes are surely under way.
"""
import hashlib
import mmap
import os
import random
import struct
import subprocess
import sys
import threading

import dmioctl

SECTOR = 512
REC = struct.Struct("<4sQQQ")  # tag, seq, offset, length
MARKER_AFTER = 32  # completed writes before --marker is printed


def pattern(seed, seq, length):
    """Deterministic bytes for write number seq of a burst."""
    out = bytearray()
    block = 0
    while len(out) < length:
        out += hashlib.sha256(b"%d:%d:%d" % (seed, seq, block)).digest()
        block += 1
    return bytes(out[:length])


def dev_size(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.lseek(fd, 0, os.SEEK_END)
    finally:
        os.close(fd)


def read_all(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    size = os.lseek(fd, 0, os.SEEK_END)
    buf = mmap.mmap(-1, 1 << 20)
    out = bytearray()
    off = 0
    try:
        while off < size:
            n = os.preadv(fd, [buf], off)
            if n <= 0:
                raise OSError("short read at %d" % off)
            out += buf[:n]
            off += n
    finally:
        os.close(fd)
    return out


class Journal:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT |
                          os.O_DSYNC, 0o644)
        self.lock = threading.Lock()

    def log(self, tag, seq, off, length):
        with self.lock:
            os.write(self.fd, REC.pack(tag, seq, off, length))


def save(model, path):
    """Write the model durably: a failed write-back must fail the test
    here, not show up later as data the device seems to have lost."""
    with open(path + ".tmp", "wb") as f:
        f.write(model)
        f.flush()
        os.fsync(f.fileno())
    os.rename(path + ".tmp", path)
    dirfd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)


def burst(dev, model_path, seed, threads, ops, max_len, journal_path,
          marker=None):
    model = bytearray(open(model_path, "rb").read())
    burst_model(dev, model, seed, threads, ops, max_len, journal_path,
                marker)
    save(model, model_path)


def series(dev, model_path, seed, count, hook, sums, threads, ops, max_len):
    model = bytearray(open(model_path, "rb").read())
    dm = dmioctl.Control() if hook.startswith("dm:") else None
    with open(sums, "a") as out:
        for i in range(1, count + 1):
            burst_model(dev, model, seed * 100000 + i, threads, ops,
                        max_len, None)
            if dm:
                dm.snapshot(hook[3:], i)
            else:
                subprocess.run([hook, str(i)], check=True)
            out.write("%d %s\n" % (i, hashlib.md5(model).hexdigest()))
            out.flush()
    save(model, model_path)


def burst_model(dev, model, seed, threads, ops, max_len, journal_path,
                marker=None):
    size = dev_size(dev)
    if len(model) != size:
        sys.exit("stomper: model is %d bytes, device %d" % (len(model), size))
    journal = Journal(journal_path) if journal_path else None
    flags = os.O_WRONLY | os.O_DIRECT | (os.O_DSYNC if journal else 0)
    region = (size // threads) // SECTOR * SECTOR
    errors = []
    done = [0]
    done_lock = threading.Lock()

    def completed():
        """Print the marker once enough writes have completed."""
        with done_lock:
            done[0] += 1
            if marker and done[0] == MARKER_AFTER:
                print(marker, flush=True)

    def worker(t):
        rng = random.Random(seed * 1000 + t)
        fd = os.open(dev, flags)
        buf = mmap.mmap(-1, max_len)
        base = t * region
        try:
            for i in range(ops):
                seq = t * ops + i
                length = rng.randint(1, max_len // SECTOR) * SECTOR
                length = min(length, region)
                off = base + rng.randrange(0, (region - length) // SECTOR + 1) * SECTOR
                data = pattern(seed, seq, length)
                buf[:length] = data
                if journal:
                    journal.log(b"BEGN", seq, off, length)
                n = os.pwritev(fd, [memoryview(buf)[:length]], off)
                if n != length:
                    raise OSError("short write at %d" % off)
                if journal:
                    journal.log(b"DONE", seq, off, length)
                model[off:off + length] = data
                completed()
        except Exception as e:  # reported once all threads are done
            errors.append("thread %d: %s" % (t, e))
        finally:
            os.close(fd)

    ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit("stomper: " + "; ".join(errors))


def chunks(dev, model_path, seed, chunk_bytes, count):
    """Whole-chunk writes: a store may map such a write without copying."""
    model = bytearray(open(model_path, "rb").read())
    n = dev_size(dev) // chunk_bytes
    rng = random.Random(seed)
    fd = os.open(dev, os.O_WRONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, chunk_bytes)
    try:
        for seq in range(count):
            off = rng.randrange(n) * chunk_bytes
            data = pattern(seed, seq, chunk_bytes)
            buf[:] = data
            if os.pwritev(fd, [buf], off) != chunk_bytes:
                raise OSError("short write at %d" % off)
            model[off:off + chunk_bytes] = data
    finally:
        os.close(fd)
    save(model, model_path)


def inflight_sectors(path, seed):
    """Sector -> the new content an in-flight write may have left there."""
    allowed = {}
    for line in open(path):
        seq, off, length = (int(x) for x in line.split())
        data = pattern(seed, seq, length)
        for i in range(length // SECTOR):
            allowed.setdefault((off // SECTOR) + i, []).append(
                data[i * SECTOR:(i + 1) * SECTOR])
    return allowed


def check(dev, model_path, inflight=None, seed=0):
    model = open(model_path, "rb").read()
    data = read_all(dev)
    allowed = inflight_sectors(inflight, seed) if inflight else {}
    if data == model:
        print("stomper: %s matches %s (%d bytes, md5 %s)" %
              (dev, model_path, len(data), hashlib.md5(data).hexdigest()))
        return 0
    if len(data) != len(model):
        print("stomper: %s is %d bytes, model %d" % (dev, len(data), len(model)))
        return 1
    bad = [s for s in range(len(data) // SECTOR)
           if data[s * SECTOR:(s + 1) * SECTOR] != model[s * SECTOR:(s + 1) * SECTOR]
           and data[s * SECTOR:(s + 1) * SECTOR] not in allowed.get(s, [])]
    if not bad:
        print("stomper: %s matches %s, %d in-flight sectors old or new" %
              (dev, model_path, len(allowed)))
        return 0
    print("stomper: %s differs from %s in %d sectors, first %s" %
          (dev, model_path, len(bad), bad[:16]))
    return 1


def replay(model_path, journal_path, seed):
    """Apply completed writes; print the in-flight ones as 'offset length'."""
    model = bytearray(open(model_path, "rb").read())
    raw = open(journal_path, "rb").read()
    begun = {}
    for i in range(len(raw) // REC.size):
        tag, seq, off, length = REC.unpack_from(raw, i * REC.size)
        if tag == b"BEGN":
            begun[seq] = (off, length)
        elif tag == b"DONE":
            model[off:off + length] = pattern(seed, seq, length)
            begun.pop(seq, None)
    save(model, model_path)
    for seq, (off, length) in sorted(begun.items()):
        print("%d %d %d" % (seq, off, length))


def burst_options(rest):
    opts = {"--threads": 4, "--ops": 200, "--max-len": 65536,
            "--journal": None, "--marker": None}
    while rest:
        if rest[0] not in opts or len(rest) < 2:
            sys.exit("stomper: bad option %s" % rest[0])
        text = rest[0] in ("--journal", "--marker")
        opts[rest[0]] = rest[1] if text else int(rest[1])
        rest = rest[2:]
    return opts


def segsums(dev, sectors):
    seg = sectors * SECTOR
    fd = os.open(dev, os.O_RDONLY | os.O_DIRECT)
    buf = mmap.mmap(-1, 1 << 20)
    try:
        size = os.lseek(fd, 0, os.SEEK_END)
        for i in range(size // seg):
            h = hashlib.md5()
            off = i * seg
            while off < (i + 1) * seg:
                n = os.preadv(fd, [memoryview(buf)[:min(len(buf), (i + 1) * seg - off)]], off)
                if n <= 0:
                    raise OSError("short read at %d" % off)
                h.update(buf[:n])
                off += n
            print("%d %s" % (i, h.hexdigest()))
    finally:
        os.close(fd)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "init" and len(argv) == 4:
        save(read_all(argv[2]), argv[3])
    elif cmd == "series" and len(argv) >= 8:
        opts = burst_options(argv[8:])
        series(argv[2], argv[3], int(argv[4]), int(argv[5]), argv[6],
               argv[7], opts["--threads"], opts["--ops"], opts["--max-len"])
    elif cmd == "burst" and len(argv) >= 5:
        opts = burst_options(argv[5:])
        burst(argv[2], argv[3], int(argv[4]), opts["--threads"],
              opts["--ops"], opts["--max-len"], opts["--journal"],
              opts["--marker"])
    elif cmd == "check" and len(argv) == 4:
        return check(argv[2], argv[3])
    elif cmd == "check" and len(argv) == 6:
        return check(argv[2], argv[3], argv[4], int(argv[5]))
    elif cmd == "chunks" and len(argv) == 7:
        chunks(argv[2], argv[3], int(argv[4]), int(argv[5]), int(argv[6]))
    elif cmd == "segsums" and len(argv) == 4:
        segsums(argv[2], int(argv[3]))
    elif cmd == "replay" and len(argv) == 5:
        replay(argv[2], argv[3], int(argv[4]))
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
