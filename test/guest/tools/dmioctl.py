"""Device-mapper ioctls for the test tools and the benchmark: create, load,
remove, suspend, resume, message (with its output), status and waiting for
a device's event.

Under an emulated CPU starting dmsetup costs about a tenth of a second,
more than the ioctls it makes: a test that takes hundreds of snapshots, or
checks a hundred replay points, spent most of its time there.  These calls
make the same ioctls from the running process.  Layout from
<linux/dm-ioctl.h>.

  dmioctl.py messages <name>
      Sends each line of standard input to device <name> as a target
      message, in order, from one process (a shell loop of dmsetup
      message starts one per line); stops at the first refused, with
      exit status 1 and the line and errno on standard error.
"""
import errno
import fcntl
import os
import stat
import struct
import sys

DM_NAME_LEN = 128
DM_UUID_LEN = 129
# version[3] data_size data_start target_count open_count flags event_nr
# padding dev name uuid data[7]
HDR = struct.Struct("<3IIIIiIIIQ%ds%ds7s" % (DM_NAME_LEN, DM_UUID_LEN))
# struct dm_target_spec: sector_start length status next target_type
SPEC = struct.Struct("<QQiI16s")
DM_DEV_CREATE_CMD = 3
DM_DEV_REMOVE_CMD = 4
DM_DEV_SUSPEND_CMD = 6
DM_DEV_WAIT_CMD = 8
DM_TABLE_LOAD_CMD = 9
DM_TABLE_STATUS_CMD = 12
DM_TARGET_MSG_CMD = 14
DM_READONLY_FLAG = 1 << 0
DM_SUSPEND_FLAG = 1 << 1
DM_BUFFER_FULL_FLAG = 1 << 8
DM_DATA_OUT_FLAG = 1 << 16
BUF_SIZE = 16384


def _req(cmd):
    # _IOWR(0xfd, cmd, struct dm_ioctl)
    return (3 << 30) | (HDR.size << 16) | (0xfd << 8) | cmd


def parse_table(text):
    """A table as dmsetup takes it ("<start> <length> <type> <params>" per
    line) as load()'s list of (start, length, type, params)."""
    table = []
    for line in text.splitlines():
        w = line.split(None, 3)
        if w:
            table.append((int(w[0]), int(w[1]), w[2],
                          w[3] if len(w) > 3 else ""))
    return table


class Control:
    def __init__(self):
        self.fd = os.open("/dev/mapper/control", os.O_RDWR)

    def close(self):
        os.close(self.fd)

    def _call(self, cmd, name, flags=0, payload=b"", count=0, event_nr=0):
        """One ioctl; returns the buffer, made larger and the call made
        again while the kernel says its output did not fit."""
        start = (HDR.size + 7) & ~7
        size = max(BUF_SIZE, start + len(payload) + 8)
        while True:
            buf = bytearray(size)
            HDR.pack_into(buf, 0, 4, 0, 0, size, start, count, 0, flags,
                          event_nr, 0, 0, name.encode(), b"", b"")
            buf[start:start + len(payload)] = payload
            fcntl.ioctl(self.fd, _req(cmd), buf, True)
            if not HDR.unpack_from(buf)[7] & DM_BUFFER_FULL_FLAG:
                return buf
            size *= 4

    def create(self, name, table, readonly=False):
        """dmsetup create: table is a list of (start, length, type, params)
        or dmsetup's text.  No udev runs in the guest: the /dev/mapper
        node is made here, as libdevmapper does without udev."""
        dev = HDR.unpack_from(self._call(DM_DEV_CREATE_CMD, name))[10]
        node = "/dev/mapper/" + name
        if os.path.exists(node):
            os.unlink(node)
        # The kernel's huge_encode_dev(); equal to glibc's makedev() for
        # majors below 4096, which device-mapper's always are.
        os.mknod(node, stat.S_IFBLK | 0o600, dev)
        try:
            self.load(name, table, readonly)
            self.resume(name)
        except OSError:
            self.remove(name)
            raise

    def load(self, name, table, readonly=False):
        if isinstance(table, str):
            table = parse_table(table)
        payload = b""
        for start, length, ttype, params in table:
            p = params.encode() + b"\0"
            spec_len = (SPEC.size + len(p) + 7) & ~7
            spec = SPEC.pack(start, length, 0, spec_len, ttype.encode())
            payload += (spec + p).ljust(spec_len, b"\0")
        self._call(DM_TABLE_LOAD_CMD, name,
                   DM_READONLY_FLAG if readonly else 0, payload, len(table))

    def remove(self, name):
        self._call(DM_DEV_REMOVE_CMD, name)
        try:
            os.unlink("/dev/mapper/" + name)
        except FileNotFoundError:
            pass

    def suspend(self, name):
        self._call(DM_DEV_SUSPEND_CMD, name, DM_SUSPEND_FLAG)

    def resume(self, name):
        self._call(DM_DEV_SUSPEND_CMD, name)

    def message(self, name, text, sector=0):
        """The target's answer ("" if it gave none), as dmsetup message
        prints it."""
        buf = self._call(DM_TARGET_MSG_CMD, name, payload=struct.pack(
            "<Q", sector) + text.encode() + b"\0")
        h = HDR.unpack_from(buf)
        if not h[7] & DM_DATA_OUT_FLAG:
            return ""
        return bytes(buf[h[4]:]).split(b"\0", 1)[0].decode()

    def status_event(self, name):
        """The first target's status as dmsetup status prints it
        ("<start> <length> <type> <status>"), and the device's event
        counter as it was read with it (for wait_event)."""
        buf = self._call(DM_TABLE_STATUS_CMD, name)
        h = HDR.unpack_from(buf)
        if h[5] < 1:
            raise RuntimeError("%s has no table" % name)
        start, length, _, _, ttype = SPEC.unpack_from(buf, h[4])
        text = bytes(buf[h[4] + SPEC.size:]).split(b"\0", 1)[0].decode()
        return "%d %d %s %s" % (start, length,
                                ttype.split(b"\0", 1)[0].decode(),
                                text), h[8]

    def status_line(self, name):
        return self.status_event(name)[0]

    def status(self, name):
        """The first target's status, split into words, without the
        start, length and type: cheap enough to poll."""
        return self.status_line(name).split()[3:]

    def wait_event(self, name, event_nr):
        """Sleep until the device's event counter is past event_nr (at
        once if it is already): dmsetup wait.  A signal whose handler
        raises ends the wait."""
        self._call(DM_DEV_WAIT_CMD, name, event_nr=event_nr)

    def snapshot(self, name, snap_id):
        """Take snapshot snap_id of origin name: suspend, create, resume."""
        self.suspend(name)
        try:
            self.message(name, "create %d" % snap_id)
        finally:
            self.resume(name)


def send_messages(name, lines):
    ctl = Control()
    try:
        for line in lines:
            text = line.strip()
            if not text:
                continue
            try:
                ctl.message(name, text)
            except OSError as e:
                sys.stderr.write("dmioctl: %s: message '%s': %s\n"
                                 % (name, text, os.strerror(e.errno)))
                return 1
    finally:
        ctl.close()
    return 0


__all__ = ["Control", "errno"]

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "messages":
        sys.exit("usage: dmioctl.py messages <name>  (messages on stdin)")
    sys.exit(send_messages(sys.argv[2], sys.stdin))
