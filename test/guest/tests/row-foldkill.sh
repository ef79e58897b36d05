#!/bin/bash
# Power cut during fold-back: a row volume whose every chunk was rewritten
# after a snapshot (whole-chunk writes: all its live data in the store)
# has the snapshot deleted, and the guest is killed while fold-back copies
# the chunks back into the origin device (slowed by fold_rate so that the
# kill meets it).  After the reboot the store checks clean, the live
# volume reads exactly what was written, fold-back resumes on its own and
# empties the store, and the origin device then holds the live volume.
# Then the removal of the table during a throttled fold-back: it returns
# at once, leaving what is not folded yet in the store, and the next load
# folds it.
# guest-disks: 32M,64M,16M
# guest-boots: 2
# guest-kill-on: FOLDKILL-NOW
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

set -- $GUEST_DISKS
origin=$1 store=$2 keep=$3
mkdir -p /mnt/keep

if [ "$GUEST_BOOT" = 1 ]; then
	mkfs.ext4 -q -b 4096 "$keep"
	mount "$keep" /mnt/keep
	dd if=/dev/urandom of="$origin" bs=1M count=32 oflag=direct status=none
	origin_load vol "$origin" "$store" 8 row
	snap_create vol 1
	step "rewrite the whole volume: 8192 versions, no copies"
	dd if=/dev/urandom of=/dev/mapper/vol bs=1M count=32 oflag=direct \
		conv=fsync status=none
	md5_direct /dev/mapper/vol >/mnt/keep/live
	used=$(used_chunks vol)
	[ "$used" -ge 8192 ] || fail "only $used chunks in use after 8192 whole-chunk writes"
	sync
	step "delete the snapshot; the host kills the guest during fold-back"
	dmsetup message vol 0 fold_rate 4
	# The delete returns once it is committed, before fold-back (8 s at
	# 4 MiB/s), which the status shows running.
	dmsetup message vol 0 delete 1
	[ "$(status_field vol 4 | cut -d/ -f1)" = 0 ] ||
		fail "the snapshot is still there after its delete: $(dmsetup status vol)"
	[ "$(status_field vol 14)" != - ] ||
		fail "the delete returned after fold-back: $(dmsetup status vol)"
	echo FOLDKILL-NOW
	wait_folded vol
	fail "fold-back ended before the power cut: $(dmsetup status vol)"
fi

step "after the power cut"
mount "$keep" /mnt/keep
store_check "$store"
origin_load vol "$origin" "$store" 8 row
used=$(used_chunks vol)
echo "at load: $used chunks not folded yet; $(dmsetup status vol)"
[ "$used" -gt 0 ] || fail "fold-back had finished before the power cut"
[ "$(status_field vol 4 | cut -d/ -f1)" = 0 ] ||
	fail "the snapshot's delete did not survive the power cut: $(dmsetup status vol)"
[ "$(md5_direct /dev/mapper/vol)" = "$(cat /mnt/keep/live)" ] ||
	fail "the live volume changed across the power cut"
step "fold-back resumes and empties the store"
wait_folded vol
check_folded_back vol "$origin" "$(cat /mnt/keep/live)"
store_check "$store"

step "removing the table stops a throttled fold-back; the next load goes on"
origin_load vol "$origin" "$store" 8 row
snap_create vol 2
dd if=/dev/urandom of=/dev/mapper/vol bs=1M count=8 oflag=direct \
	conv=fsync status=none
live=$(md5_direct /dev/mapper/vol)
# 8 MiB at 1 MiB/s: a removal that waited for the walk would take 8 s,
# and leave nothing in the store.
dmsetup message vol 0 fold_rate 1
dmsetup message vol 0 delete 2
[ "$(status_field vol 14)" != - ] ||
	fail "the delete returned after fold-back: $(dmsetup status vol)"
timeout 120 dmsetup remove vol || fail "dmsetup remove vol failed, or hung"
left=$(dump_json "$store" 'd["superblock"]["data_space_map"]["nr_allocated"]')
echo "after the removal: $left chunks not folded"
[ "$left" -gt 0 ] || fail "the store is empty after the removal: it waited for fold-back to end"
store_check "$store"
origin_load vol "$origin" "$store" 8 row
[ "$(md5_direct /dev/mapper/vol)" = "$live" ] ||
	fail "the live volume changed across the removal"
wait_folded vol
check_folded_back vol "$origin" "$live"
store_check "$store"
umount /mnt/keep
echo "row-foldkill: fold-back survived the power cut and a removal, and finished"
