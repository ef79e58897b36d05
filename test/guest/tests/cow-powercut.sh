#!/bin/bash
# Power cut: the guest is killed (not shut down) during heavy writes to an
# origin with snapshots.  After the reboot the store loads, every snapshot
# reads exactly its point in time, every origin write that had completed
# before the kill is there, and writes in flight hold old or new data.
# Writes are O_DIRECT|O_DSYNC and journalled (O_DSYNC) on a third disk.
# guest-disks: 16M,48M,64M
# guest-boots: 2
# guest-kill-on: POWERCUT-NOW
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

set -- $GUEST_DISKS
origin=$1 store=$2 keep=$3
mkdir -p /mnt/keep
seed=4242

if [ "$GUEST_BOOT" = 1 ]; then
	# 4 KiB blocks: every write to the keep disk is page aligned for
	# qemu's O_DIRECT (cache=none) on the host.
	mkfs.ext4 -q -b 4096 "$keep"
	mount "$keep" /mnt/keep
	origin_load vol "$origin" "$store"
	$STOMPER init /dev/mapper/vol /mnt/keep/model
	$STOMPER series /dev/mapper/vol /mnt/keep/model 3 4 dm:vol \
		/mnt/keep/sums --threads 4 --ops 15
	sync
	step "heavy journalled writes; the host kills the guest during them"
	# The stomper prints the marker once writes are under way.
	$STOMPER burst /dev/mapper/vol /mnt/keep/model "$seed" --threads 4 \
		--ops 100000 --journal /mnt/keep/journal --marker POWERCUT-NOW
	fail "the burst ended before the power cut"
fi

step "after the power cut"
mount "$keep" /mnt/keep
[ -s /mnt/keep/journal ] || fail "no journal: the kill came before any write"
# The store's exception journal as the kill left it: its entries (none if
# a commit had just emptied it) are replayed by the load, which says so.
pending=$(dump_json "$store" 'd["journal"]["pending_count"]')
echo "exception journal: $pending pending exceptions"
store_check "$store" leaks-ok
before=$(dmesg | wc -l)
origin_load vol "$origin" "$store"
if [ "$pending" -gt 0 ]; then
	dmesg | tail -n +"$((before + 1))" |
		matches "replayed $pending exceptions from" ||
		fail "the load did not replay the journal's $pending exceptions"
fi
dmsetup status vol
$STOMPER replay /mnt/keep/model /mnt/keep/journal "$seed" >"$WORK/inflight"
echo "completed writes replayed; $(wc -l <"$WORK/inflight") were in flight"
$STOMPER check /dev/mapper/vol /mnt/keep/model "$WORK/inflight" "$seed" ||
	fail "origin lost a completed write"
verify_sums vol /mnt/keep/sums
[ "$(status_field vol 5)" = 0 ] || fail "snapshots were invalidated"
dmsetup remove vol
store_check "$store" leaks-ok
umount /mnt/keep
echo "cow-powercut: all snapshots exact, all completed writes present"
