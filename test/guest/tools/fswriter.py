#!/usr/bin/env python3
"""A busy file system user: writes, fsyncs and holds files open, and
records every error it meets.

  fswriter.py run DIR PROGRESS STOP
      until file STOP exists: step i = 1, 2 ...
      appends line i to DIR/held.log (opened once, held open for the whole
      run) and writes file DIR/f<i> (content(i)), fsyncs both, then
      appends "i" to PROGRESS and flushes it.  So once PROGRESS says i,
      steps 1..i are on stable storage.  Any error is printed as
      "fswriter: ERROR ..." and exits 1: a caller that waits for it and
      sees exit 0 knows the writer never saw an error.
  fswriter.py verify DIR N
      steps 1..N are all there, exactly: f1..fN hold their content and
      held.log begins with lines 1..N.
"""
import hashlib
import os
import sys
import time

# Between steps: busy, yet leaving the (emulated) CPU to the rest of the test.
PAUSE = 0.05


def content(i):
    """Deterministic, different per step, 1-20 KiB."""
    seed = hashlib.sha256(b"fswriter %d" % i).digest()
    size = 1024 + (i * 7919) % 19456
    return (seed * (size // len(seed) + 1))[:size]


def line(i):
    return b"held %08d %s\n" % (i, hashlib.md5(b"%d" % i).hexdigest().encode())


def run(directory, progress, stop):
    os.makedirs(directory, exist_ok=True)
    held = os.open(os.path.join(directory, "held.log"),
                   os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    prog = open(progress, "a")
    i = 0
    try:
        while not os.path.exists(stop):
            i += 1
            os.write(held, line(i))
            os.fsync(held)
            path = os.path.join(directory, "f%d" % i)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, content(i))
                os.fsync(fd)
            finally:
                os.close(fd)
            prog.write("%d\n" % i)
            prog.flush()
            time.sleep(PAUSE)
    except OSError as e:
        print("fswriter: ERROR at step %d: %s" % (i, e), file=sys.stderr)
        return 1
    os.close(held)
    prog.close()
    return 0


def verify(directory, n):
    with open(os.path.join(directory, "held.log"), "rb") as f:
        lines = f.read().splitlines(keepends=True)
    if len(lines) < n:
        print("fswriter: held.log has %d lines, expected at least %d" % (len(lines), n))
        return 1
    for i in range(1, n + 1):
        if lines[i - 1] != line(i):
            print("fswriter: held.log line %d differs" % i)
            return 1
        try:
            with open(os.path.join(directory, "f%d" % i), "rb") as f:
                data = f.read()
        except OSError as e:
            print("fswriter: f%d: %s" % (i, e))
            return 1
        if data != content(i):
            print("fswriter: f%d differs" % i)
            return 1
    print("fswriter: steps 1..%d exact in %s" % (n, directory))
    return 0


def main(argv):
    if len(argv) == 4 and argv[0] == "run":
        return run(argv[1], argv[2], argv[3])
    if len(argv) == 3 and argv[0] == "verify":
        return verify(argv[1], int(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
