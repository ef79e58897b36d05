#!/bin/bash
# Snapshots survive a live table reload, their tables being removed and
# reloaded, and a reboot of the guest: each still reads exactly its point
# in time, and the origin exactly what was written.  Origin and store are
# virtio disks; the expectations are kept on a third disk across the
# reboot.
# guest-disks: 16M,32M,64M
# guest-boots: 2
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

set -- $GUEST_DISKS
origin=$1 store=$2 keep=$3
mkdir -p /mnt/keep

if [ "$GUEST_BOOT" = 1 ]; then
	# 4 KiB blocks: every write to the keep disk is page aligned for
	# qemu's O_DIRECT (cache=none) on the host.
	mkfs.ext4 -q -b 4096 "$keep"
	mount "$keep" /mnt/keep
	origin_load vol "$origin" "$store"
	$STOMPER init /dev/mapper/vol /mnt/keep/model
	step "8 snapshots between bursts"
	$STOMPER series /dev/mapper/vol /mnt/keep/model 5 8 dm:vol \
		/mnt/keep/sums --threads 4 --ops 20
	$STOMPER burst /dev/mapper/vol /mnt/keep/model 77 --ops 20
	dmsetup status vol | tee /mnt/keep/status
	status_contents vol >/mnt/keep/contents
	trans=$(status_field vol 9)

	step "the live table reloaded in place (the running pool is kept)"
	dmsetup reload vol --table "$(dmsetup table vol)"
	dmsetup resume vol
	dmsetup status vol | cmp - /mnt/keep/status || fail "status changed over the live reload"
	verify_sums vol /mnt/keep/sums

	step "tables removed and reloaded"
	dmsetup remove vol
	origin_load vol "$origin" "$store"
	status_contents vol | cmp - /mnt/keep/contents || fail "status changed over the reload"
	[ "$(status_field vol 9)" -ge "$trans" ] ||
		fail "transaction id went back over the reload"
	# Nothing written since: the reboot must find exactly this.
	dmsetup status vol >/mnt/keep/status
	$STOMPER check /dev/mapper/vol /mnt/keep/model || fail "origin changed over the reload"
	verify_sums vol /mnt/keep/sums
	dmsetup remove vol
	umount /mnt/keep
	echo "boot 1 done; rebooting"
	exit 0
fi

step "after the reboot"
mount "$keep" /mnt/keep
origin_load vol "$origin" "$store"
dmsetup status vol | cmp - /mnt/keep/status || fail "status changed over the reboot"
$STOMPER check /dev/mapper/vol /mnt/keep/model || fail "origin changed over the reboot"
verify_sums vol /mnt/keep/sums
dmsetup remove vol
store_check "$store"
umount /mnt/keep
echo "cow-persist: every snapshot exact after reload and reboot"
