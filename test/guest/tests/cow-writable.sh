#!/bin/bash
# A snapshot opened writable (auto-recovery) keeps its writes in chunks of
# its own: the origin and the other snapshots do not change; the writes
# persist across reloads; sealing makes it read-only for good; deleting it
# frees its private chunks.  A snapshot loaded without 'writable' refuses
# writes.
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

origin=$(loop_disk 8)
store=$(loop_disk 16)
dd if=/dev/urandom of="$origin" bs=1M count=8 oflag=direct status=none
origin_load vol "$origin" "$store"
snap_create vol 1
dd if=/dev/urandom of=/dev/mapper/vol bs=4k seek=0 count=16 oflag=direct status=none
snap_create vol 2
sum2=$(md5_of /dev/mapper/vol)

step "writes to a snapshot loaded without 'writable' fail"
dmsetup create plain --table "0 $(sectors /dev/mapper/vol) shadow-snap $(origin_of vol) 1"
if dd if=/dev/zero of=/dev/mapper/plain bs=4k count=1 oflag=direct status=none 2>/dev/null; then
	fail "a read-only snapshot accepted a write"
fi
dmsetup remove plain

step "private writes"
snap_open vol 1 w1 writable
dd if=/dev/mapper/w1 of="$WORK/expect" bs=1M status=none
# Whole chunks, a partial chunk, and a write straddling two chunks.
dd if=/dev/urandom of="$WORK/data" bs=1k count=64 status=none
for spec in "0 16" "100 1" "205 3"; do
	set -- $spec
	dd if="$WORK/data" of=/dev/mapper/w1 bs=1k seek=$(($1 * 2)) count=$(($2 * 2)) oflag=direct status=none
	dd if="$WORK/data" of="$WORK/expect" bs=1k seek=$(($1 * 2)) count=$(($2 * 2)) conv=notrunc status=none
done
origin_sum=$(md5_of /dev/mapper/vol)
cmp /dev/mapper/w1 "$WORK/expect" || fail "writable snapshot does not read its own writes"
[ "$(md5_of /dev/mapper/vol)" = "$origin_sum" ] || fail "origin changed"
verify_snap vol 2 "$sum2"
dmsetup status w1 | matches ' 1 valid rw$' || fail "status: $(dmsetup status w1)"

step "origin writes after private writes leave the private view alone"
dd if=/dev/urandom of=/dev/mapper/vol bs=4k seek=0 count=64 oflag=direct status=none
cmp /dev/mapper/w1 "$WORK/expect" || fail "origin writes leaked into the writable snapshot"
verify_snap vol 2 "$sum2"
dmsetup remove w1

step "private writes persist across a reload"
origin_sum=$(md5_of /dev/mapper/vol)
dmsetup remove vol
origin_load vol "$origin" "$store"
[ "$(md5_of /dev/mapper/vol)" = "$origin_sum" ] || fail "origin changed over the reload"
verify_snap vol 1 "$(md5_of "$WORK/expect")"

step "seal"
snap_open vol 1 w1 writable
dmsetup message w1 0 seal
dmsetup status w1 | matches ' 1 valid sealed$' || fail "status after seal: $(dmsetup status w1)"
if dd if=/dev/zero of=/dev/mapper/w1 bs=4k count=1 oflag=direct status=none 2>/dev/null; then
	fail "a sealed snapshot accepted a write"
fi
dmsetup remove w1
dmsetup remove vol
origin_load vol "$origin" "$store"
expect_refused "sealed" snap_open vol 1 w1 writable
dmsetup message vol 0 list | matches '^1 .* valid sealed$' || fail "seal was not persisted"
verify_snap vol 1 "$(md5_of "$WORK/expect")"

step "deleting both snapshots frees every chunk"
dmsetup message vol 0 delete 1
dmsetup message vol 0 delete 2
[ "$(used_chunks vol)" = 0 ] || fail "$(used_chunks vol) chunks still in use"
dmsetup remove vol
echo "cow-writable: private writes isolated, persistent and sealable"
