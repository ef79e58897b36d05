"""Device-mapper control from the running process: create, load, remove,
suspend, resume, message and status, without spawning dmsetup.

The benchmark times snapshot creation, and under an emulated CPU starting
dmsetup costs more than the ioctls it makes; so every timed step goes
through these calls, for every target alike.  Builds on the header layout
of test/guest/tools/dmioctl.py (<linux/dm-ioctl.h>).
"""
import fcntl
import os
import stat
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "guest", "tools"))
import dmioctl  # noqa: E402

HDR = dmioctl.HDR
SPEC = struct.Struct("<QQiI16s")  # sector_start length status next target_type
DM_DEV_CREATE_CMD = 3
DM_DEV_REMOVE_CMD = 4
DM_TABLE_LOAD_CMD = 9
DM_TABLE_STATUS_CMD = 12
DM_READONLY_FLAG = 1 << 0
BUF_SIZE = 65536


class Control(dmioctl.Control):
    def _ioctl(self, cmd, name, flags=0, payload=b"", count=0):
        start = (HDR.size + 7) & ~7
        size = max(BUF_SIZE, start + len(payload) + 8)
        buf = bytearray(size)
        HDR.pack_into(buf, 0, 4, 0, 0, size, start, count, 0, flags, 0, 0,
                      0, name.encode(), b"", b"")
        buf[start:start + len(payload)] = payload
        fcntl.ioctl(self.fd, dmioctl._req(cmd), buf, True)
        return buf

    def create(self, name, table, readonly=False):
        """dmsetup create: table is a list of (start, length, type, params).
        No udev runs in the guest: the /dev/mapper node is made here, as
        libdevmapper does without udev."""
        dev = HDR.unpack_from(self._ioctl(DM_DEV_CREATE_CMD, name))[10]
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
        payload = b""
        for start, length, ttype, params in table:
            p = params.encode() + b"\0"
            spec_len = (SPEC.size + len(p) + 7) & ~7
            spec = SPEC.pack(start, length, 0, spec_len, ttype.encode())
            payload += (spec + p).ljust(spec_len, b"\0")
        self._ioctl(DM_TABLE_LOAD_CMD, name,
                    DM_READONLY_FLAG if readonly else 0, payload, len(table))

    def remove(self, name):
        self._ioctl(DM_DEV_REMOVE_CMD, name)
        try:
            os.unlink("/dev/mapper/" + name)
        except FileNotFoundError:
            pass

    def status(self, name):
        """status() by ioctl, cheap enough to poll: the first target's
        status line, split into words."""
        buf = self._ioctl(DM_TABLE_STATUS_CMD, name)
        h = HDR.unpack_from(buf)
        start, count = h[4], h[5]
        if count < 1:
            raise RuntimeError("%s has no table" % name)
        text = bytes(buf[start + SPEC.size:]).split(b"\0", 1)[0]
        return text.decode().split()


def status(name):
    """The status line's words after '<start> <len> <target>'."""
    out = subprocess.run(["dmsetup", "status", name], check=True,
                         capture_output=True, text=True).stdout
    return out.split()[3:]


def remove_all(ctl, prefix="", suffix=""):
    """Remove every dm device named prefix*suffix, snapshots and thin
    devices before what they sit on: whatever is still in use is retried
    after the rest has gone."""
    for _ in range(10):
        out = subprocess.run(["dmsetup", "ls"], capture_output=True,
                             text=True).stdout
        names = [l.split()[0] for l in out.splitlines()
                 if l.strip() and not l.startswith("No devices")]
        names = [n for n in names if n.startswith(prefix) and
                 n.endswith(suffix)]
        if not names:
            return
        for n in sorted(names, reverse=True):
            try:
                ctl.remove(n)
            except OSError:
                pass
    raise RuntimeError("cannot remove dm devices: %s" % names)
