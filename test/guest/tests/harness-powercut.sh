#!/bin/sh
# Harness self-test of guest-boots and guest-kill-on: boot 1 writes a
# numbered record to the raw disk in a loop and is killed by the host (a
# power cut) soon after the marker; boot 2 sees the same disk and checks
# that what boot 1 wrote before the marker survived (O_DIRECT writes on a
# cache=none drive are on the host file once acknowledged).
# guest-disks: 1x16M
# guest-boots: 2
# guest-kill-on: POWERCUT-NOW
# guest-timeout: 120
# guest-dm-shadow: no
set -eu
d=/dev/vda
case "$GUEST_BOOT" in
1)
	printf 'boot1-before-marker\n' | dd of=$d bs=4096 conv=sync oflag=direct status=none
	echo "POWERCUT-NOW"
	i=1
	while :; do # keep writing until the power goes
		printf 'record %d\n' "$i" | dd of=$d bs=4096 seek="$i" conv=sync oflag=direct status=none
		i=$((i + 1))
	done
	;;
2)
	head -n 1 $d | grep -qx boot1-before-marker
	echo "harness-powercut: boot 2 found boot 1's data: $(head -c 4096 $d | head -n 1)"
	echo "records written before the cut: $(strings -n 6 $d | grep -c '^record ')"
	;;
esac
