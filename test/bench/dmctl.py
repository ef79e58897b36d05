"""Device-mapper control from the running process: create, load, remove,
suspend, resume, message and status, without spawning dmsetup.

The benchmark times snapshot creation, and under an emulated CPU starting
dmsetup costs more than the ioctls it makes; so every timed step goes
through these calls, for every target alike.  The ioctls are
test/guest/tools/dmioctl.py's.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "guest", "tools"))
import dmioctl  # noqa: E402

Control = dmioctl.Control


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
