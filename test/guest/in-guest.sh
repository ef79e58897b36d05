#!/bin/bash
# Runs inside the guest, chrooted into the host's userland (see init), as
# root against the guest's kernel.  Loads dm-shadow, runs one test, then
# checks that dm-shadow unloads cleanly and saves the kernel log.  In
# systemd mode (GT_INIT=systemd) it is not chrooted but runs as
# dm-shadow-guest-test.service under systemd as PID 1, with udevd.
#
# Files left in /results (the host's run dir for this boot):
#   output      the test's stdout+stderr (also echoed to the console)
#   rc          the test's exit code
#   unload-rc   exit code of "modprobe -r dm-shadow" ("skipped" if not loaded)
#   setup-error why the test could not even start, if it could not
#   dmesg       the kernel log after unloading
#   dmesg.live  the kernel log as it is written, every level: all there is
#               of a boot the host kills or times out (a hung task's stack
#               is logged below the console's level)
#   kmemleak    kmemleak's report (kernels built with it, see
#               build-debug-kernel), when it found anything
#   journal     systemd mode: the boot's journal (journalctl -b)
# The host decides PASS/FAIL from these and the serial console log.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LANG=C.UTF-8 HOME=/root TERM=dumb

# python3 without its site module (-S): site runs every installed
# package's .pth file at each start, 0.4 s of the 0.6 s a python start
# takes under TCG, and the tests' tools use the standard library only.
# A wrapper that execs, not a shell function: a backgrounded tool's $!
# must be the python process itself.
pybin=/run/dm-shadow-test/bin
mkdir -p "$pybin"
printf '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n' >"$pybin/python3"
chmod 0755 "$pybin/python3"
export PATH=$pybin:$PATH

R=/results
export RESULTS=$R
export SHADOW_TOP=$GT_TOP
export GUEST_KVER=$GT_KVER
export GUEST_BOOT=$GT_BOOT
export GUEST_BOOTS=$GT_BOOTS
export GUEST_TEST=$GT_TEST
export GUEST_INIT=${GT_INIT:-busybox}
# No udevd runs in the chroot: libdevmapper must not wait for it.  Under
# systemd, systemd-udevd runs and libdevmapper waits for it as it should.
[ "$GUEST_INIT" = busybox ] && export DM_DISABLE_UDEV=1
# Disks attached by the host (guest-disks header), in order: /dev/vda ...
export GUEST_DISKS=${GT_DISKS//,/ }
# This kernel's share i/N of a sampled check (run-all: kernel i of N).
export GUEST_SHARE=${GT_SHARE:-1/1}
# How many times slower than a stock kernel this one runs (GUEST_TIMEOUT_SCALE
# on the host): a test whose check needs work still in progress sizes that
# work by it.
export GUEST_SCALE=${GT_SCALE:-1}
want_dms=$GT_DMS # 0 for tests with "guest-dm-shadow: no"
unset GT_TEST GT_BOOT GT_BOOTS GT_KVER GT_TOP GT_DISKS GT_DMS GT_INIT GT_SHARE GT_SCALE

setup_error() {
	echo "$*" >"$R/setup-error"
	echo "in-guest: setup error: $*"
	dmesg >"$R/dmesg"
	exit 1
}

echo "in-guest: test $GUEST_TEST, boot $GUEST_BOOT/$GUEST_BOOTS, kernel $(uname -r)"
[ "$GUEST_INIT" = busybox ] || echo "in-guest: init $GUEST_INIT, PID 1 is $(cat /proc/1/comm)"
[ "$(uname -r)" = "$GUEST_KVER" ] || setup_error "booted $(uname -r), expected $GUEST_KVER"

# No udev means no module autoloading: load the disk driver by hand (it is
# built into some kernels; then modprobe succeeds without doing anything).
if [ -n "$GUEST_DISKS" ]; then
	modprobe virtio_blk || setup_error "modprobe virtio_blk failed"
	for d in $GUEST_DISKS; do
		[ -b "$d" ] || setup_error "disk $d did not appear"
	done
fi

# kmemleak (debugging kernels only): forget what boot left behind, so that
# the scan after the test reports only what the test leaked.  Its own
# scans (a minute after boot, then every ten) stop: the two after the test
# find every leak of it all the same, and under TCG a scan costs the test
# about 20 s (cow-overflow and cow-refused: 50 s from their end to
# power-off, two scans and the module's unload).
kmemleak=/sys/kernel/debug/kmemleak
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
if [ -w "$kmemleak" ]; then
	echo scan=off >"$kmemleak"
	echo clear >"$kmemleak"
fi

loaded=0
if [ "$want_dms" = 0 ]; then
	echo "in-guest: test asks not to load dm-shadow"
elif modinfo dm-shadow >/dev/null 2>&1; then
	modprobe dm-shadow || setup_error "modprobe dm-shadow failed"
	loaded=1
else
	echo "in-guest: note: dm-shadow.ko is not built; not loaded"
fi

script="$SHADOW_TOP/test/guest/tests/$GUEST_TEST.sh"
[ -f "$script" ] || setup_error "no test script $script"
cd "$SHADOW_TOP" || setup_error "cannot cd to $SHADOW_TOP"

# The test's output goes to the results share and is echoed to the console:
# the host watches the console for guest-kill-on markers, and a killed boot
# leaves only its console log behind.  Not through a pipe to tee: a daemon
# the test starts would inherit the pipe and keep tee (and us) waiting.
dmesg --follow >"$R/dmesg.live" 2>/dev/null &
dmesgpid=$!
echo "in-guest: ---- test output begins ----"
: >"$R/output"
tail -s 0.1 -n +1 -f "$R/output" >/dev/console 2>&1 &
tailpid=$!
if [ -x "$script" ]; then
	"$script" </dev/null >>"$R/output" 2>&1 &
else
	bash "$script" </dev/null >>"$R/output" 2>&1 &
fi
wait $!
rc=$?
sleep 0.3 # let tail show the last lines
kill "$tailpid" 2>/dev/null
wait "$tailpid" 2>/dev/null
echo "in-guest: ---- test output ends, rc=$rc ----"
echo "$rc" >"$R/rc"

# A module that cannot be unloaded after the test has leaked a reference
# (a table, a device, a bio still held): that fails the run on the host.
if [ "$loaded" = 1 ]; then
	modprobe -r dm-shadow
	urc=$?
	[ "$urc" = 0 ] || echo "in-guest: modprobe -r dm-shadow failed (rc $urc)"
	echo "$urc" >"$R/unload-rc"
else
	echo skipped >"$R/unload-rc"
fi

# kmemleak reports an object once it has been unreferenced through two
# scans and is older than its minimum age (5 s); it logs "suspected memory
# leaks" to the kernel log, which the host's scan fails the run on.
if [ -w "$kmemleak" ]; then
	sleep 5
	echo scan >"$kmemleak"
	echo scan >"$kmemleak"
	if [ -s "$kmemleak" ]; then
		cp "$kmemleak" "$R/kmemleak"
		echo "in-guest: kmemleak: suspected memory leaks (see kmemleak in the run dir)"
	fi
fi

kill "$dmesgpid" 2>/dev/null
wait "$dmesgpid" 2>/dev/null
dmesg >"$R/dmesg"
# Under systemd the journal tells what the units did (it is volatile: each
# boot's own, until a power cut).
[ "$GUEST_INIT" = systemd ] && journalctl -b --no-pager -o short-monotonic >"$R/journal" 2>&1
sync
