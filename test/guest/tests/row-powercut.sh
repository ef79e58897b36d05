#!/bin/bash
# Power cut, row store: the guest is killed (not shut down) during heavy
# writes to a volume whose live data is in the store, with snapshots, just
# after a revert to the newest snapshot dropped a whole volume's worth of
# versions, which reclaim frees meanwhile.
# After the reboot the store loads (replaying its exception journal), every
# snapshot reads exactly its point in time, every write that had completed
# before the kill is there, writes in flight hold old or new data, and the
# origin device still holds what it held when the first snapshot was
# taken.  Writes are O_DIRECT|O_DSYNC (FUA: each is made durable with its
# version) and journalled (O_DSYNC) on a third disk.
# guest-disks: 16M,48M,64M
# guest-boots: 2
# guest-kill-on: POWERCUT-NOW
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

set -- $GUEST_DISKS
origin=$1 store=$2 keep=$3
mkdir -p /mnt/keep
seed=4343

if [ "$GUEST_BOOT" = 1 ]; then
	# 4 KiB blocks: every write to the keep disk is page aligned for
	# qemu's O_DIRECT (cache=none) on the host.
	mkfs.ext4 -q -b 4096 "$keep"
	mount "$keep" /mnt/keep
	dd if=/dev/urandom of="$origin" bs=1M count=16 oflag=direct status=none
	origin_load vol "$origin" "$store" 8 row
	$STOMPER init /dev/mapper/vol /mnt/keep/model
	snap_create vol 100
	echo "100 $(md5_of /mnt/keep/model)" >/mnt/keep/sums
	$STOMPER series /dev/mapper/vol /mnt/keep/model 3 4 dm:vol \
		/mnt/keep/sums --threads 4 --ops 15
	sync
	step "the whole volume rewritten, then reverted to snapshot 4"
	dd if=/dev/urandom of=/dev/mapper/vol bs=1M count=16 oflag=direct status=none
	dmsetup suspend vol
	dmsetup message vol 0 revert 4
	dmsetup resume vol
	# The series left the model at snapshot 4's data.
	[ "$(md5_direct /dev/mapper/vol)" = "$(md5_of /mnt/keep/model)" ] ||
		fail "after the revert the volume does not read snapshot 4"
	step "heavy journalled writes; the host kills the guest during them"
	# The stomper prints the marker once writes are under way.
	$STOMPER burst /dev/mapper/vol /mnt/keep/model "$seed" --threads 4 \
		--ops 100000 --journal /mnt/keep/journal --marker POWERCUT-NOW
	fail "the burst ended before the power cut"
fi

step "after the power cut"
mount "$keep" /mnt/keep
[ -s /mnt/keep/journal ] || fail "no journal: the kill came before any write"
pending=$(dump_json "$store" 'd["journal"]["pending_count"]')
echo "exception journal: $pending pending versions"
json "$WORK/dump.json" '("dead versions at the cut: tagged %s to %s" %
	(d["superblock"]["dropped_from"], d["superblock"]["dropped_below"])
	if d["superblock"]["dropped_from"] else "dead versions at the cut: all freed")'
store_check "$store" leaks-ok
before=$(dmesg | wc -l)
origin_load vol "$origin" "$store" 8 row
if [ "$pending" -gt 0 ]; then
	dmesg | tail -n +"$((before + 1))" |
		matches "replayed $pending exceptions from" ||
		fail "the load did not replay the journal's $pending versions"
fi
dmsetup status vol
$STOMPER replay /mnt/keep/model /mnt/keep/journal "$seed" >"$WORK/inflight"
echo "completed writes replayed; $(wc -l <"$WORK/inflight") were in flight"
$STOMPER check /dev/mapper/vol /mnt/keep/model "$WORK/inflight" "$seed" ||
	fail "the live volume lost a completed write"
verify_sums vol /mnt/keep/sums
[ "$(status_field vol 5)" = 0 ] || fail "snapshots were invalidated"
snap_open vol 100 first
cmp /dev/mapper/first "$origin" ||
	fail "the origin device no longer holds snapshot 100's data"
dmsetup remove first
dmsetup remove vol
store_check "$store" leaks-ok
umount /mnt/keep
echo "row-powercut: all snapshots exact, all completed writes present"
