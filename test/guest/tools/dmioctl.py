"""Minimal device-mapper ioctls for the test tools: suspend, resume, message.

A test that takes hundreds of snapshots spends most of its time starting
dmsetup three times per snapshot under an emulated CPU; these calls do the
same ioctls from the running process.  Layout from <linux/dm-ioctl.h>.

  dmioctl.py messages <name>
      Sends each line of standard input to device <name> as a target
      message, in order, from one process (a shell loop of dmsetup
      message starts one per line); stops at the first refused, with
      exit status 1 and the line and errno on standard error.
"""
import errno
import fcntl
import os
import struct
import sys

DM_NAME_LEN = 128
DM_UUID_LEN = 129
# version[3] data_size data_start target_count open_count flags event_nr
# padding dev name uuid data[7]
HDR = struct.Struct("<3IIIIiIIIQ%ds%ds7s" % (DM_NAME_LEN, DM_UUID_LEN))
DM_DEV_SUSPEND_CMD = 6
DM_TARGET_MSG_CMD = 14
DM_SUSPEND_FLAG = 1 << 1
BUF_SIZE = 16384


def _req(cmd):
    # _IOWR(0xfd, cmd, struct dm_ioctl)
    return (3 << 30) | (HDR.size << 16) | (0xfd << 8) | cmd


class Control:
    def __init__(self):
        self.fd = os.open("/dev/mapper/control", os.O_RDWR)

    def close(self):
        os.close(self.fd)

    def _call(self, cmd, name, flags=0, payload=b""):
        start = (HDR.size + 7) & ~7
        buf = bytearray(BUF_SIZE)
        HDR.pack_into(buf, 0, 4, 0, 0, BUF_SIZE, start, 0, 0, flags, 0, 0,
                      0, name.encode(), b"", b"")
        buf[start:start + len(payload)] = payload
        fcntl.ioctl(self.fd, _req(cmd), buf, True)

    def suspend(self, name):
        self._call(DM_DEV_SUSPEND_CMD, name, DM_SUSPEND_FLAG)

    def resume(self, name):
        self._call(DM_DEV_SUSPEND_CMD, name)

    def message(self, name, text, sector=0):
        self._call(DM_TARGET_MSG_CMD, name,
                   payload=struct.pack("<Q", sector) + text.encode() + b"\0")

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
