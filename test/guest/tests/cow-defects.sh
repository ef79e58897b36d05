#!/bin/bash
# Regression tests for defects found in review of the shadow-origin and
# shadow-snap targets.  Each step asserts the behaviour dm-shadow(7) and the
# review call correct, for one defect; every step runs even when an earlier
# one failed, and the test ends with a PASS/FAIL line per step (exit 1 if
# any failed).  Step 2 runs last: on a module that lets the store device go,
# it may take the kernel down with it.
#
#   1  a second shadow-origin on the same origin device, with another store,
#      is refused; the first origin's snapshot stays exact
#   3  reloading a shadow-origin after its origin device grew is refused;
#      the live table, its store and its snapshot stay fine
#   4  a failed store, its device restored, comes back by reloading the
#      origin's table ("Reload the table to retry")
#   5  seal: no write to the snapshot completes successfully after the seal
#      returned, and the snapshot keeps reading what it held at the seal
#   6  dm events raised between a table load and its resume (or after an
#      inactive table is cleared) are not lost
#   7  the origin passes discards down; a discard never changes what a
#      snapshot reads
#   8  after an overflow that invalidated every snapshot while copies were
#      in flight (a store whose data writes are slowed by dm-delay makes
#      that certain): (a) no store chunk stays in use once the writes
#      finished; (b) none once the invalid snapshots are deleted; (c) none
#      when they were deleted while their copies were still in flight
#   2  a shadow-snap holds the store device open after its origin table is
#      removed; the kernel log stays clean
#
# DEFECT_STEPS="1 3" runs only those steps (for debugging).
# guest-timeout: 900
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

STEPS=${DEFECT_STEPS:-1 3 4 5 6 7 8 2}
d8_sb='' d8_n='' d8_ds=''
# What the harness (run-one) fails a run for, in the kernel log.
KERNEL_BAD='WARNING:|BUG:|Oops|possible recursive locking|possible circular locking|blocked for more than|general protection fault|Kernel panic|KASAN|UBSAN|list_add corruption|list_del corruption|refcount_t'

# Inside a step: a failed check that lets the step go on, so that one run
# shows every way the step fails.  fail() (lib) ends the step at once.
bad() {
	echo "FAIL: $*" >&2
	step_bad=1
}

# events <dm_name>: the device's event counter.
events() {
	dmsetup info "$1" | sed -n 's/^Event number: *//p'
}

# log_since <line count>: the kernel log lines after that many.
log_since() {
	dmesg | tail -n +"$(($1 + 1))"
}

# reload <dm_name> <table>: load a new table and make it live.
reload() {
	dmsetup load "$1" --table "$2"
	dmsetup suspend "$1"
	dmsetup resume "$1"
}

# remove_prefix <prefix>: remove every dm device whose name starts with it,
# users before what they use (best effort: cleanup after a failed step).
remove_prefix() {
	local name
	for _ in 1 2 3 4 5; do
		for name in $(dmsetup ls 2>/dev/null | awk '{ print $1 }' | grep "^$1" || true); do
			dmsetup resume "$name" >/dev/null 2>&1 || true
			dmsetup remove "$name" >/dev/null 2>&1 || true
		done
	done
}

# d<N>: one step per defect; returns nonzero when the defect shows.

d1() {
	local o s1 s2 sum before
	o=$(loop_disk 8)
	s1=$(loop_disk 8)
	s2=$(loop_disk 8)
	dd if=/dev/urandom of="$o" bs=1M count=8 oflag=direct status=none
	origin_load d1-vol "$o" "$s1"
	snap_create d1-vol 1
	sum=$(md5_of /dev/mapper/d1-vol)
	before=$(dmesg | wc -l)
	if origin_load d1-vol2 "$o" "$s2" 2>"$WORK/d1.err"; then
		bad "a second shadow-origin on $o with another store was accepted"
		# What the review saw: its writes bypass the first origin's store.
		dd if=/dev/urandom of=/dev/mapper/d1-vol2 bs=4k count=64 \
			oflag=direct status=none
		dmsetup remove d1-vol2
	else
		cat "$WORK/d1.err"
		log_since "$before" | grep "shadow-origin: " ||
			bad "refused without a shadow-origin error in the kernel log"
	fi
	verify_snap d1-vol 1 "$sum"
	[ "$(status_field d1-vol 6)" = rw ] || bad "first origin's store mode $(status_field d1-vol 6)"
	dmsetup remove d1-vol
	return "$step_bad"
}

d3() {
	local base s old new sum before table
	base=$(loop_disk 16)
	s=$(loop_disk 16)
	old=16384	# 8 MiB now, 16 MiB once grown
	new=32768
	dmsetup create d3-lin --table "0 $old linear $base 0"
	dd if=/dev/urandom of=/dev/mapper/d3-lin bs=1M count=8 oflag=direct status=none
	origin_load d3-vol /dev/mapper/d3-lin "$s"
	snap_create d3-vol 1
	sum=$(md5_of /dev/mapper/d3-vol)
	dd if=/dev/urandom of=/dev/mapper/d3-vol bs=4k count=16 oflag=direct status=none
	table="0 $old shadow-snap $(origin_of d3-vol) 1"

	# The origin device grows; the shadow-origin is reloaded to match.
	reload d3-lin "0 $new linear $base 0"
	[ "$(sectors /dev/mapper/d3-lin)" = "$new" ] || fail "the origin did not grow"
	before=$(dmesg | wc -l)
	if dmsetup load d3-vol --table "0 $new shadow-origin $(origin_of d3-vol) $(dmsetup table d3-vol | awk '{ print $5 }') cow 8" 2>"$WORK/d3.err"; then
		bad "a reload for the grown origin was accepted"
		# What the review saw: made live, writes past the old end fail
		# the store.
		dmsetup suspend d3-vol
		dmsetup resume d3-vol
		dd if=/dev/urandom of=/dev/mapper/d3-vol bs=4k seek=3000 count=16 \
			oflag=direct status=none || bad "origin write past the old end failed"
	else
		cat "$WORK/d3.err"
		log_since "$before" | grep "shadow-origin: " ||
			bad "refused without a shadow-origin error in the kernel log"
	fi
	# The table that stayed (or the one that replaced it) and its store.
	dd if=/dev/urandom of=/dev/mapper/d3-vol bs=4k seek=100 count=16 \
		oflag=direct status=none || bad "origin write failed"
	[ "$(status_field d3-vol 6)" = rw ] || bad "store mode $(status_field d3-vol 6) after the reload attempt, expected rw"
	if dmsetup create d3-s1 --readonly --table "$table"; then
		[ "$(md5_of /dev/mapper/d3-s1)" = "$sum" ] ||
			bad "snapshot 1 no longer reads its point in time"
		dmsetup remove d3-s1
	else
		bad "snapshot 1 ($old sectors) cannot be opened any more"
	fi
	dmsetup remove d3-vol
	dmsetup remove d3-lin
	return "$step_bad"
}

d4() {
	local o sb n sum2 rc
	o=$(loop_disk 8)
	sb=$(loop_disk 8)
	n=$(sectors "$sb")
	dmsetup create d4-st --table "0 $n linear $sb 0"
	dd if=/dev/urandom of="$o" bs=1M count=8 oflag=direct status=none
	origin_load d4-vol "$o" /dev/mapper/d4-st
	snap_create d4-vol 1

	# The store's device goes bad while a copy is needed: the store fails.
	reload d4-st "0 $n error"
	dd if=/dev/urandom of=/dev/mapper/d4-vol bs=4k count=16 oflag=direct status=none ||
		bad "an origin write failed with the store failing"
	[ "$(status_field d4-vol 6)" = fail ] ||
		fail "setup: the store did not fail (mode $(status_field d4-vol 6))"

	# The device is back; reloading the table retries the store.
	reload d4-st "0 $n linear $sb 0"
	reload d4-vol "$(dmsetup table d4-vol)"
	dmsetup status d4-vol
	[ "$(status_field d4-vol 6)" = rw ] ||
		bad "store mode $(status_field d4-vol 6) after restoring the device and reloading, expected rw"
	dmsetup message d4-vol 0 list | matches '^1 .* valid ' &&
		bad "snapshot 1, whose data the failed store lost, is listed valid"
	# New snapshots work again.
	dmsetup suspend d4-vol
	rc=0
	dmsetup message d4-vol 0 create 2 || rc=$?
	dmsetup resume d4-vol
	if [ "$rc" = 0 ]; then
		sum2=$(md5_of /dev/mapper/d4-vol)
		dd if=/dev/urandom of=/dev/mapper/d4-vol bs=4k seek=64 count=16 \
			oflag=direct status=none
		verify_snap d4-vol 2 "$sum2"
	else
		bad "a new snapshot cannot be created after the reload"
	fi
	dmsetup remove d4-vol
	dmsetup remove d4-st
	return "$step_bad"
}

d5() {
	local o sb n pid rc running at_seal_ok
	o=$(loop_disk 8)
	sb=$(loop_disk 16)
	n=$(sectors "$sb")
	modprobe dm-delay
	# The store behind dm-delay: no delay while setting up.
	dmsetup create d5-st --table "0 $n delay $sb 0 0"
	dd if=/dev/urandom of="$o" bs=1M count=8 oflag=direct status=none
	origin_load d5-vol "$o" /dev/mapper/d5-st
	snap_create d5-vol 1
	snap_open d5-vol 1 d5-w writable
	# Chunks 64..79 of the snapshot: what they hold, and new data.
	dd if=/dev/mapper/d5-w of="$WORK/d5.old" bs=4k skip=64 count=16 iflag=direct status=none
	dd if=/dev/urandom of="$WORK/d5.new" bs=4k count=16 status=none

	# Writes to the store now take 3 s, so the snapshot write below is
	# still in flight (its chunks being copied, the write queued behind
	# the copies) when the seal is sent 1 s later.
	reload d5-st "0 $n delay $sb 0 0 $sb 0 3000"
	rm -f "$WORK/d5.rc"
	(
		r=0
		# One 64 KiB write at 256 KiB: chunks 64..79, as read above.
		dd if="$WORK/d5.new" of=/dev/mapper/d5-w bs=64k seek=4 count=1 \
			oflag=direct status=none 2>/dev/null || r=$?
		echo "$r" >"$WORK/d5.rc"
	) &
	pid=$!
	sleep 1
	[ ! -e "$WORK/d5.rc" ] ||
		fail "setup: the write completed before the seal was sent (rc $(cat "$WORK/d5.rc"))"
	dmsetup message d5-w 0 seal
	# What the snapshot holds the moment the seal returned.
	dd if=/dev/mapper/d5-w of="$WORK/d5.atseal" bs=4k skip=64 count=16 iflag=direct status=none
	running=no
	[ -e "$WORK/d5.rc" ] || running=yes
	wait "$pid"
	rc=$(cat "$WORK/d5.rc")
	echo "write still in flight when the seal returned: $running; its exit status: $rc"
	reload d5-st "0 $n delay $sb 0 0"
	dd if=/dev/mapper/d5-w of="$WORK/d5.after" bs=4k skip=64 count=16 iflag=direct status=none

	if cmp -s "$WORK/d5.atseal" "$WORK/d5.old"; then
		at_seal_ok=old
	elif cmp -s "$WORK/d5.atseal" "$WORK/d5.new"; then
		at_seal_ok=new
	else
		at_seal_ok=mixed
	fi
	echo "at the seal the snapshot read the $at_seal_ok data"
	cmp -s "$WORK/d5.after" "$WORK/d5.atseal" ||
		bad "the sealed snapshot changed after the seal returned (a queued write went through)"
	if [ "$rc" = 0 ]; then
		[ "$at_seal_ok" = new ] ||
			bad "a write completed successfully after the seal returned"
		cmp -s "$WORK/d5.after" "$WORK/d5.new" ||
			bad "a write that succeeded is not what the snapshot reads"
	else
		cmp -s "$WORK/d5.after" "$WORK/d5.old" ||
			bad "a write that failed changed the snapshot"
	fi
	dmsetup status d5-w | matches ' 1 valid sealed$' || bad "status after seal: $(dmsetup status d5-w)"
	dmsetup message d5-vol 0 list | matches '^1 .* sealed' || bad "snapshot 1 not listed sealed"
	dmsetup remove d5-w
	dmsetup remove d5-vol
	dmsetup remove d5-st
	return "$step_bad"
}

d6() {
	local o s ev0 ev1 ev2 base
	o=$(loop_disk 8)
	s=$(loop_disk 8)
	origin_load d6-vol "$o" "$s"
	# 20 chunks; thresholds at 80 % (16 chunks) and 90 % (18).
	dmsetup message d6-vol 0 limit 20
	snap_create d6-vol 1

	# Control: a load and resume with nothing in between raise no event.
	ev0=$(events d6-vol)
	reload d6-vol "$(dmsetup table d6-vol)"
	base=$(($(events d6-vol) - ev0))
	echo "events from a load and resume alone: $base"

	echo "-- 6a: a threshold crossed between a table load and its resume"
	ev0=$(events d6-vol)
	dmsetup load d6-vol --table "$(dmsetup table d6-vol)"
	dd if=/dev/urandom of=/dev/mapper/d6-vol bs=4k count=17 oflag=direct status=none
	[ "$(used_chunks d6-vol)" -ge 16 ] || fail "setup: only $(used_chunks d6-vol) chunks in use"
	ev1=$(events d6-vol)
	dmsetup suspend d6-vol
	dmsetup resume d6-vol
	ev2=$(events d6-vol)
	echo "event counter: $ev0 before, $ev1 before the resume, $ev2 after it"
	[ "$((ev2 - ev0))" -gt "$base" ] ||
		bad "the threshold event raised between load and resume was lost"
	# A lost event blocks the wait for ever; 60 s only bounds a slow
	# start of dmsetup (the debugging kernel under load took over 5 s).
	if ! timeout 60 dmsetup wait d6-vol "$ev0" >/dev/null; then
		bad "dmsetup wait d6-vol $ev0 did not return"
	fi

	echo "-- 6b: an overflow after an inactive table was loaded and cleared"
	dmsetup message d6-vol 0 thresholds none
	ev0=$(events d6-vol)
	dmsetup load d6-vol --table "$(dmsetup table d6-vol)"
	dmsetup clear d6-vol
	# 8 more chunks: past the limit of 20, snapshot 1 is dropped.
	dd if=/dev/urandom of=/dev/mapper/d6-vol bs=4k seek=100 count=8 oflag=direct status=none
	[ "$(status_field d6-vol 5)" = 1 ] || fail "setup: snapshot 1 was not dropped"
	ev1=$(events d6-vol)
	echo "event counter: $ev0 before, $ev1 after the overflow"
	[ "$ev1" -gt "$ev0" ] || bad "the overflow event after a cleared inactive table was lost"
	dmsetup message d6-vol 0 delete 1
	dmsetup remove d6-vol
	return "$step_bad"
}

d7() {
	local o s sum1 rc
	o=$(loop_disk 8)
	s=$(loop_disk 8)
	dd if=/dev/urandom of="$o" bs=1M count=8 oflag=direct status=none
	origin_load d7-vol "$o" "$s"

	echo "-- 7a: no snapshot: chunks 0..15 discarded"
	if blkdiscard -o 0 -l 65536 /dev/mapper/d7-vol; then
		blockdev --flushbufs "$o"
		cmp -s -n 65536 "$o" /dev/zero ||
			bad "the discard did not reach the origin device (its range is not zeroes)"
	else
		bad "blkdiscard on the origin with no snapshot failed"
	fi

	echo "-- 7b: chunks 64..79, already copied for snapshot 1, discarded"
	snap_create d7-vol 1
	sum1=$(md5_of /dev/mapper/d7-vol)
	dd if=/dev/urandom of=/dev/mapper/d7-vol bs=4k seek=64 count=16 oflag=direct status=none
	if blkdiscard -o $((64 * 4096)) -l 65536 /dev/mapper/d7-vol; then
		blockdev --flushbufs "$o"
		cmp -s -n 65536 -i $((64 * 4096)):0 "$o" /dev/zero ||
			bad "the discard of chunks no snapshot needs did not reach the origin device"
	else
		bad "blkdiscard of chunks no snapshot needs failed"
	fi
	verify_snap d7-vol 1 "$sum1"

	echo "-- 7c: chunks 256..271, which snapshot 1 needs, discarded"
	rc=0
	blkdiscard -o $((256 * 4096)) -l 65536 /dev/mapper/d7-vol || rc=$?
	echo "blkdiscard exit status $rc (either way is allowed here)"
	verify_snap d7-vol 1 "$sum1"
	[ "$(status_field d7-vol 6)" = rw ] || bad "store mode $(status_field d7-vol 6)"
	dmsetup message d7-vol 0 delete 1
	dmsetup remove d7-vol
	return "$step_bad"
}

# d8_store <delay_ms>: the store device's table on stdin for dmsetup: its
# metadata blocks straight on the disk, its data chunks behind dm-delay
# with that delay for writes (reads and flushes undelayed), so that chunk
# copies stay in flight while the metadata commits of an overflow go
# through at once.
d8_store() {
	printf '0 %s linear %s 0\n%s %s delay %s %s 0 %s %s %s %s %s 0\n' \
		"$d8_ds" "$d8_sb" "$d8_ds" "$((d8_n - d8_ds))" "$d8_sb" "$d8_ds" \
		"$d8_sb" "$d8_ds" "$1" "$d8_sb" "$d8_ds"
}

d8_delay() {
	d8_store "$1" | dmsetup load d8-st
	dmsetup suspend d8-st
	dmsetup resume d8-st
}

# d8_fio: 4 jobs of random 4 KiB writes over the whole origin.
d8_fio() {
	fio --name=d8 --filename=/dev/mapper/d8-vol --rw=randwrite --bs=4k \
		--direct=1 --ioengine=libaio --iodepth=8 --numjobs=4 \
		--io_size=512k --size=16M --randrepeat=0 --group_reporting \
		--output="$WORK/d8.fio"
}

d8_no_chunk_in_use() {
	local used
	used=$(used_chunks d8-vol)
	[ "$used" = 0 ] || bad "$used chunks in use $1"
	# STORE SIZE: a store whose snapshots have been deleted can be shrunk.
	if [ "$(status_field d8-vol 4)" = 0/8190 ]; then
		dmsetup message d8-vol 0 limit 1 || bad "limit 1 refused on a store with no snapshot"
		dmsetup message d8-vol 0 limit 16
	fi
}

d8() {
	local o pid i
	o=$(loop_disk 16)
	d8_sb=$(loop_disk 16)
	d8_n=$(sectors "$d8_sb")
	modprobe dm-delay
	# Format the store, and learn where its data chunks start.
	origin_load d8-vol "$o" "$d8_sb"
	dmsetup remove d8-vol
	d8_ds=$(dump_json "$d8_sb" 'd["superblock"]["data_start"]')
	echo "data chunks start at sector $d8_ds of $d8_n"
	d8_store 0 | dmsetup create d8-st
	origin_load d8-vol "$o" /dev/mapper/d8-st
	dmsetup message d8-vol 0 limit 16
	snap_create d8-vol 1
	snap_create d8-vol 2
	# Copies take 3 s: the 16 started before the limit is reached are
	# still in flight when the overflow invalidates both snapshots.
	d8_delay 3000
	d8_fio || fail "fio failed (origin writes must not fail)"
	dmsetup status d8-vol
	[ "$(status_field d8-vol 5)" = 2 ] ||
		fail "setup: $(status_field d8-vol 5) of 2 snapshots invalid, expected both"
	[ "$(status_field d8-vol 6)" = rw ] || bad "store mode $(status_field d8-vol 6)"

	echo "-- 8a: every snapshot invalid, writes finished: no chunk in use"
	d8_no_chunk_in_use "with every snapshot invalid (OVERFLOW: the chunks only they needed are freed)"

	echo "-- 8b: the invalid snapshots deleted after the writes finished"
	dmsetup message d8-vol 0 delete 1
	dmsetup message d8-vol 0 delete 2
	d8_no_chunk_in_use "with no snapshot left"

	echo "-- 8c: the invalid snapshots deleted while their copies are in flight"
	# What a monitor does on the overflow event.
	snap_create d8-vol 3
	snap_create d8-vol 4
	d8_fio &
	pid=$!
	for i in $(seq 100); do
		[ "$(status_field d8-vol 5)" = 2 ] && break
		sleep 0.1
	done
	[ "$(status_field d8-vol 5)" = 2 ] || fail "setup: snapshots 3 and 4 were not invalidated"
	dmsetup message d8-vol 0 delete 3
	dmsetup message d8-vol 0 delete 4
	echo "deleted after $i polls ($(dmsetup status d8-vol))"
	wait "$pid" || fail "fio failed (origin writes must not fail)"
	dmsetup status d8-vol
	d8_no_chunk_in_use "with no snapshot left, once the writes finished"

	d8_delay 0
	dmsetup message d8-vol 0 limit 0
	dmsetup remove d8-vol
	dmsetup remove d8-st
	store_check "$d8_sb" || bad "shadow-dump --check found problems in the store"
	return "$step_bad"
}

d2() {
	local o sb n before
	o=$(loop_disk 8)
	sb=$(loop_disk 8)
	n=$(sectors "$sb")
	dmsetup create d2-st --table "0 $n linear $sb 0"
	dd if=/dev/urandom of="$o" bs=1M count=8 oflag=direct status=none
	origin_load d2-vol "$o" /dev/mapper/d2-st
	snap_create d2-vol 1
	dd if=/dev/urandom of=/dev/mapper/d2-vol bs=4k count=16 oflag=direct status=none
	snap_open d2-vol 1 d2-s1
	before=$(dmesg | wc -l)
	dmsetup remove d2-vol
	dmsetup info -c -o name,open d2-st
	if dmsetup remove d2-st 2>"$WORK/d2.err"; then
		bad "the store device was removed while shadow-snap d2-s1 exists"
	else
		cat "$WORK/d2.err"
		grep -qi "busy\|in use" "$WORK/d2.err" ||
			bad "the store device's removal failed, but not because it is in use"
	fi
	# Reads may fail (the origin table is gone) but must not crash.
	dd if=/dev/mapper/d2-s1 of=/dev/null bs=4k count=16 iflag=direct status=none 2>/dev/null || true
	dmsetup remove d2-s1
	dmsetup remove d2-st 2>/dev/null || true
	if log_since "$before" | grep -E "$KERNEL_BAD"; then
		bad "the kernel log shows a problem"
	fi
	return "$step_bad"
}

declare -A title=(
	[1]="1: second origin table on the same origin device is refused"
	[2]="2: shadow-snap holds the store device after its origin is removed"
	[3]="3: reload after the origin device grew is refused, store stays rw"
	[4]="4: failed store comes back after the device is restored and the table reloaded"
	[5]="5: seal lets no queued write through"
	[6]="6: events between table load and resume (or after clear) are not lost"
	[7]="7: origin passes discards down, snapshots unchanged"
	[8]="8: overflow with copies in flight leaves no chunk in use or leaked"
)
declare -A result
failed=0
for n in $STEPS; do
	step "defect ${title[$n]}"
	before=$(dmesg | wc -l)
	set +e
	(
		set -e
		step_bad=0
		"d$n"
	)
	rc=$?
	set -e
	if log_since "$before" | grep -E "$KERNEL_BAD" >&2; then
		echo "FAIL: kernel log problem during step $n" >&2
		rc=1
	fi
	remove_prefix "d$n-"
	if [ "$rc" = 0 ]; then
		result[$n]=PASS
	else
		result[$n]=FAIL
		failed=$((failed + 1))
	fi
	echo "-- step $n: ${result[$n]}"
done

echo "== summary"
for n in $STEPS; do
	echo "${result[$n]} defect ${title[$n]}"
done
if [ "$failed" -gt 0 ]; then
	echo "cow-defects: $failed step(s) failed"
	exit 1
fi
echo "cow-defects: every step passed"
