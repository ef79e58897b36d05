"""Read and replay a dm-log-writes log.

The log format (drivers/md/dm-log-writes.c, Documentation/admin-guide/
device-mapper/log-writes.rst), all little-endian:

  sector 0          struct log_write_super { u64 magic, version,
                    nr_entries; u32 sectorsize; }
  then per entry    one sector: struct log_write_entry { u64 sector,
                    nr_sectors, flags, data_len; } (a MARK's name follows
                    it in the same sector), then nr_sectors sectors of the
                    data written (none for a DISCARD or a MARK)

Sectors and nr_sectors count the logged device's logical blocks
(sectorsize bytes).  Writes are logged in the order they reached stable
storage: a plain write is logged only when a later FLUSH completes, so any
prefix of the log is a state the device could hold after a power cut, and
a prefix ending on a FLUSH or FUA entry is one that a flush completed.

Usage:
  logreplay.py list <log> [--marks]          index, flags, sector, count,
                                             mark name (only marks with
                                             --marks)
  logreplay.py summary <log>                 entry, flush, FUA, mark counts
  logreplay.py find-mark <log> <name>        the index of that mark entry
  logreplay.py replay <log> <dev> [--from A] [--to B] [--end-mark NAME]
                                             apply entries [A, B) (default
                                             all; --end-mark: up to and
                                             including that mark) to a device
                                             or file, then fsync it

As a module: Log(path) gives .entries (Entry tuples) and .replay(fd, a, b).
"""
import collections
import mmap
import os
import struct
import sys

MAGIC = 0x6a736677736872
FLUSH, FUA, DISCARD, MARK, METADATA = 1, 2, 4, 8, 16
FLAG_NAMES = ((FLUSH, "FLUSH"), (FUA, "FUA"), (DISCARD, "DISCARD"),
              (MARK, "MARK"), (METADATA, "META"))
SUPER = struct.Struct("<QQQI")
ENTRY = struct.Struct("<QQQQ")

# index: position in the log; sector, nr_sectors: the write (logical
# blocks); flags; data: byte offset of its data in the log; mark: the
# mark's name or None.
Entry = collections.namedtuple(
    "Entry", "index sector nr_sectors flags data mark")


class LogError(Exception):
    pass


def flag_text(flags):
    names = [n for bit, n in FLAG_NAMES if flags & bit]
    return "|".join(names) if names else "WRITE"


class Log:
    """A parsed log; the file stays mapped for replay."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDONLY)
        size = os.lseek(self.fd, 0, os.SEEK_END)
        if size < 512:
            raise LogError("%s: too small for a log" % path)
        self.map = mmap.mmap(self.fd, size, prot=mmap.PROT_READ)
        magic, version, nr, ss = SUPER.unpack_from(self.map, 0)
        if magic != MAGIC:
            raise LogError("%s: bad magic %#x, not a dm-log-writes log"
                           % (path, magic))
        if ss < 512 or ss & (ss - 1) or ss > 65536:
            raise LogError("%s: bad sectorsize %d" % (path, ss))
        self.version, self.sectorsize = version, ss
        entries = []
        off = ss  # the first entry follows the super, one sector in
        unpack = ENTRY.unpack_from
        for i in range(nr):
            if off + ss > size:
                raise LogError("%s: entry %d at byte %d is past the end (%d)"
                               % (path, i, off, size))
            sector, count, flags, dlen = unpack(self.map, off)
            mark = None
            if flags & MARK:
                if dlen > ss - ENTRY.size:
                    raise LogError("%s: mark %d is %d bytes long"
                                   % (path, i, dlen))
                raw = self.map[off + ENTRY.size:off + ENTRY.size + dlen]
                mark = raw.rstrip(b"\0").decode("utf-8", "replace")
                count = 0
            data = off + ss
            if not flags & DISCARD:
                off = data + count * ss
            else:
                off = data
            if off > size:
                raise LogError("%s: entry %d's data runs past the end"
                               % (path, i))
            entries.append(Entry(i, sector, count, flags, data, mark))
        self.entries = entries

    def close(self):
        self.map.close()
        os.close(self.fd)

    def find_mark(self, name):
        for e in self.entries:
            if e.mark == name:
                return e.index
        raise LogError("no mark %r in the log" % name)

    def replay(self, fd, start=0, stop=None):
        """Apply entries [start, stop) to fd (a device or file opened for
        writing); a DISCARD writes zeroes.  Returns the bytes written."""
        ss, mp = self.sectorsize, self.map
        stop = len(self.entries) if stop is None else stop
        written = 0
        zero = None
        for e in self.entries[start:stop]:
            if e.flags & MARK or not e.nr_sectors:
                continue
            length = e.nr_sectors * ss
            if e.flags & DISCARD:
                if zero is None or len(zero) < length:
                    zero = bytes(length)
                os.pwrite(fd, memoryview(zero)[:length], e.sector * ss)
            else:
                os.pwrite(fd, mp[e.data:e.data + length], e.sector * ss)
            written += length
        return written


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 1
    verb, path, rest = argv[1], argv[2], argv[3:]
    try:
        log = Log(path)
    except (OSError, LogError) as exc:
        sys.stderr.write("logreplay: %s\n" % exc)
        return 2
    out = sys.stdout
    if verb == "list":
        marks_only = "--marks" in rest
        for e in log.entries:
            if marks_only and e.mark is None:
                continue
            out.write("%d %s %d %d%s\n" % (
                e.index, flag_text(e.flags), e.sector, e.nr_sectors,
                "" if e.mark is None else " " + e.mark))
    elif verb == "summary":
        n = collections.Counter()
        for e in log.entries:
            for bit, name in FLAG_NAMES:
                if e.flags & bit:
                    n[name] += 1
        out.write("%d entries (sectorsize %d): %d FLUSH, %d FUA, %d MARK, "
                  "%d DISCARD\n" % (len(log.entries), log.sectorsize,
                                    n["FLUSH"], n["FUA"], n["MARK"],
                                    n["DISCARD"]))
    elif verb == "find-mark" and len(rest) == 1:
        try:
            out.write("%d\n" % log.find_mark(rest[0]))
        except LogError as exc:
            sys.stderr.write("logreplay: %s\n" % exc)
            return 1
    elif verb == "replay" and rest:
        dev, opts = rest[0], rest[1:]
        start, stop = 0, len(log.entries)
        while opts:
            if len(opts) < 2:
                sys.stderr.write("logreplay: %s needs a value\n" % opts[0])
                return 1
            key, val = opts[0], opts[1]
            opts = opts[2:]
            try:
                if key == "--from":
                    start = int(val)
                elif key == "--to":
                    stop = int(val)
                elif key == "--end-mark":
                    stop = log.find_mark(val) + 1
                else:
                    sys.stderr.write("logreplay: unknown option %s\n" % key)
                    return 1
            except (ValueError, LogError) as exc:
                sys.stderr.write("logreplay: %s\n" % exc)
                return 1
        if not 0 <= start <= stop <= len(log.entries):
            sys.stderr.write("logreplay: bad range [%d, %d) of %d entries\n"
                             % (start, stop, len(log.entries)))
            return 1
        fd = os.open(dev, os.O_WRONLY)
        try:
            n = log.replay(fd, start, stop)
            os.fsync(fd)
        finally:
            os.close(fd)
        out.write("replayed entries [%d, %d): %d bytes\n" % (start, stop, n))
    else:
        sys.stderr.write(__doc__)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
