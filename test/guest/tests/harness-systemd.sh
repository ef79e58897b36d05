#!/bin/bash
# Harness self-test of guest-init: systemd.  Both boots run under systemd
# as PID 1 with systemd-udevd; boot 1 writes to /etc, /var/lib and the raw
# disk, syncs and is killed by the host (a power cut); boot 2 finds all
# three (the overlay's upper layer is on a disk kept across boots), and
# the boot reached multi-user.target with no unit failed.
# guest-init: systemd
# guest-disks: 1x16M
# guest-boots: 2
# guest-kill-on: POWERCUT-NOW
# guest-timeout: 180
# guest-dm-shadow: no
set -eu
fail() {
	echo "FAIL: $*"
	exit 1
}
[ "$(cat /proc/1/comm)" = systemd ] || fail "PID 1 is $(cat /proc/1/comm)"
systemctl is-active -q systemd-udevd.service || fail "systemd-udevd is not active"
systemctl is-active -q multi-user.target || fail "multi-user.target is not active"
udevadm settle
udevadm info -q property /dev/vda | grep -qx 'DEVTYPE=disk' || fail "udev does not know /dev/vda"
failed=$(systemctl list-units --failed --plain --no-legend)
[ -z "$failed" ] || fail "failed units: $failed"
case "$GUEST_BOOT" in
1)
	token=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
	echo "$token" >/etc/harness-systemd
	mkdir -p /var/lib/harness-systemd
	echo "$token" >/var/lib/harness-systemd/token
	printf '%s\n' "$token" | dd of=/dev/vda bs=4096 conv=sync oflag=direct status=none
	sync
	echo "boot 1 wrote $token; POWERCUT-NOW"
	sleep 600
	;;
2)
	token=$(head -n 1 /dev/vda)
	echo "boot 2: the disk holds $token"
	[ "$(cat /etc/harness-systemd)" = "$token" ] || fail "/etc lost boot 1's write"
	[ "$(cat /var/lib/harness-systemd/token)" = "$token" ] || fail "/var/lib lost boot 1's write"
	echo "harness-systemd: boot 2 found boot 1's /etc, /var/lib and disk"
	;;
esac
