#!/bin/bash
# Power cut during hydration: a clone hydrates slowly (hydrate_rate 1 in
# the table) while flushed writes land on the origin, and the guest is
# killed.  After the reboot the same table is loaded: the clone goes on
# from the progress its store recorded (at load, at least what the status
# showed before the cut, less the one chunk a batch may have had in
# flight, and not all), completes once the rate is lifted, and reads
# exactly the origin as it was at its point in time, through its device
# and on its target alone; every flushed origin write is there.
# guest-disks: 64M,8M,64M,16M
# guest-boots: 2
# guest-kill-on: CLONEKILL-NOW
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

set -- $GUEST_DISKS
origin=$1 store=$2 target=$3 keep=$4
mkdir -p /mnt/keep
# 1 MiB/s: a minute for the 64 MiB, however late the host's kill comes.
table="0 $(sectors "$origin") shadow-origin $origin $store clone 128 5 clone_target 1 $target hydrate_rate 1"

# clone_progress: "<state> <copied>/<total>" of the only clone.
clone_progress() {
	dmsetup status vol | awk '{ print $22, $23 }'
}

if [ "$GUEST_BOOT" = 1 ]; then
	mkfs.ext4 -q -b 4096 "$keep"
	mount "$keep" /mnt/keep
	dd if=/dev/urandom of="$origin" bs=1M count=64 oflag=direct status=none
	dmsetup create vol --table "$table"
	dmsetup table vol | matches "hydrate_rate 1\$" ||
		fail "the table line lost hydrate_rate: $(dmsetup table vol)"
	snap_create vol 1
	md5_direct /dev/mapper/vol >/mnt/keep/at1
	step "flushed writes to the origin while clone 1 hydrates"
	dd if=/dev/urandom of=/dev/mapper/vol bs=64k seek=100 count=50 \
		oflag=direct conv=fsync status=none
	dd if=/dev/urandom of=/dev/mapper/vol bs=4k seek=6000 count=30 \
		oflag=direct conv=fsync status=none
	md5_direct /dev/mapper/vol >/mnt/keep/live
	sync
	before=$(clone_progress)
	echo "before the cut: $before"
	[ "$(echo "$before" | cut -d' ' -f1)" = hydrating ] ||
		fail "clone 1 is $before before the power cut"
	echo "$before" | cut -d' ' -f2 | cut -d/ -f1 >/mnt/keep/before
	sync
	step "the host kills the guest while clone 1 hydrates"
	echo CLONEKILL-NOW
	sleep 60
	fail "still running a minute after the power cut was due: $(clone_progress)"
fi

step "after the power cut"
mount "$keep" /mnt/keep
store_check "$store"
dmsetup create vol --table "$table"
at_load=$(clone_progress)
echo "at load: $at_load"
copied=$(echo "$at_load" | cut -d' ' -f2 | cut -d/ -f1)
[ "$(echo "$at_load" | cut -d' ' -f1)" = hydrating ] ||
	fail "clone 1 is $at_load after the power cut, expected hydrating"
[ "$copied" -ge $(($(cat /mnt/keep/before) - 1)) ] && [ "$copied" -lt 1024 ] ||
	fail "expected at least $(cat /mnt/keep/before) - 1 chunks, not all, recorded as copied: $at_load"
dmsetup message vol 0 hydrate_rate 0
[ "$(md5_direct /dev/mapper/vol)" = "$(cat /mnt/keep/live)" ] ||
	fail "the origin lost flushed writes across the power cut"
step "hydration goes on and completes"
for _ in $(seq 600); do
	[ "$(clone_progress)" = "complete 1024/1024" ] && break
	sleep 0.2
done
[ "$(clone_progress)" = "complete 1024/1024" ] ||
	fail "clone 1 did not complete: $(clone_progress)"
snap_open vol 1 c1
[ "$(md5_direct /dev/mapper/c1)" = "$(cat /mnt/keep/at1)" ] ||
	fail "clone 1 does not read its point in time after the power cut"
dmsetup remove c1
dmsetup remove vol
store_check "$store"
[ "$(dd if="$target" bs=1M count=64 iflag=direct status=none | md5sum | cut -d' ' -f1)" = \
	"$(cat /mnt/keep/at1)" ] || fail "the target alone does not hold clone 1"
[ "$(md5_direct "$origin")" = "$(cat /mnt/keep/live)" ] ||
	fail "the origin device does not hold the flushed writes"
umount /mnt/keep
echo "clone-kill: hydration survived the power cut and completed exactly"
