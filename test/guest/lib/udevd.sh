# shellcheck shell=bash
# systemd-udevd in the guest (which runs none by default), for the tests
# that need udev's rules: device-mapper's, LVM's, ours.  Source it after
# ctl.sh or shadow.sh.  libdevmapper and LVM then wait for udev on
# cookies instead of making device nodes themselves.
unset DM_DISABLE_UDEV
# The tests run chrooted into the host's userland (test/guest/init), and
# udevadm trigger, settle and control take a chroot for an offline system
# and do nothing ("Running in chroot, ignoring request.").  udevd runs in
# that same root, so the requests are meant: systemd's own switch lets
# them through.
export SYSTEMD_IGNORE_CHROOT=1

udevd_stop() {
	udevadm control --exit 2>/dev/null || true
}

# udevd_start: our rules from the source tree, then coldplug.  The caller
# stops it (udevd_stop) before the end: a daemon left running keeps the
# guest's results share busy.
udevd_start() {
	mkdir -p /etc/udev/rules.d
	cp "$SHADOW_TOP/udev/60-dm-shadow.rules" /etc/udev/rules.d/60-dm-shadow.rules
	/lib/systemd/systemd-udevd --daemon
	udevadm control --ping || fail "systemd-udevd does not answer"
	udevadm trigger --action=add
	udevadm settle --timeout=120 || fail "udevadm settle timed out after coldplug"
}
