#!/bin/bash
# The store's data limit (the "limit" message) with dmsetup alone: usage
# thresholds raise dm events; reaching the limit invalidates the oldest
# snapshot exactly as a full store does, and no more chunks than the limit
# are ever in use; shrinking below what is in use is refused and changes
# nothing; shrinking a store whose chunks are free works; the limit persists
# over table reloads and is what shadow-dump shows; a store device grown since formatting still loads,
# and raising the limit takes effect at once.
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

DUMP=$SHADOW_TOP/cmd/shadow-dump/shadow-dump
origin=$(loop_disk 16)
# The store is a linear device over the first 1.25 MiB of a 4 MiB disk, so
# that it can grow later: 186 data chunks of 4 KiB (134 metadata blocks,
# the last 64 the exception journal's ring).
store_disk=$(loop_disk 4)
dmsetup create store --table "0 2560 linear $store_disk 0"
store=/dev/mapper/store
dd if=/dev/urandom of="$origin" bs=1M count=16 oflag=direct status=none
cp "$origin" "$WORK/ref"

# write_chunks <first> <count>: the same new data to the origin and ref.
write_chunks() {
	dd if=/dev/urandom of="$WORK/data" bs=4k count="$2" status=none
	dd if="$WORK/data" of=/dev/mapper/vol bs=4k seek="$1" count="$2" \
		oflag=direct status=none || fail "origin write failed"
	dd if="$WORK/data" of="$WORK/ref" bs=4k seek="$1" count="$2" \
		conv=notrunc status=none
}

events() {
	dmsetup info vol | sed -n 's/^Event number: *//p'
}

limit_of() {
	status_field vol 3 | cut -d/ -f2
}

origin_load vol "$origin" "$store"
total=$(status_field vol 7)
echo "status: $(dmsetup status vol)"
[ "$total" = 186 ] || fail "store has $total data chunks, expected 186"
[ "$(limit_of)" = 186 ] || fail "a new store is limited to $(limit_of) chunks"
[ "$(dmsetup message vol 0 thresholds)" = "80 90" ] || fail "default thresholds"

step "bad limits and thresholds are refused and change nothing"
expect_refused "the store has only 186 data chunks" dmsetup message vol 0 limit 187
expect_refused "expected 'create <id>'" dmsetup message vol 0 limit 1x
expect_refused "expected 'create <id>'" dmsetup message vol 0 limit 99999999999999999999
expect_refused "percentages from 1 to 100, ascending" dmsetup message vol 0 thresholds 90 80
expect_refused "percentages from 1 to 100, ascending" dmsetup message vol 0 thresholds 0
expect_refused "percentages from 1 to 100, ascending" dmsetup message vol 0 thresholds 101
expect_refused "percentages from 1 to 100, ascending" dmsetup message vol 0 thresholds 1 2 3 4 5 6 7 8 9
[ "$(limit_of)" = 186 ] || fail "a refused limit changed it to $(limit_of)"
[ "$(dmsetup message vol 0 thresholds)" = "80 90" ] || fail "refused thresholds changed them"

step "limit 100: thresholds at 80 and 90 chunks raise one event each"
dmsetup message vol 0 limit 100
[ "$(limit_of)" = 100 ] || fail "limit is $(limit_of), expected 100"
[ "$(status_field vol 7)" = 186 ] || fail "data chunks changed with the limit"
snap_create vol 1
sum1=$(md5_of /dev/mapper/vol)
ev=$(events)
write_chunks 0 79
[ "$(events)" = "$ev" ] || fail "event raised below 80% ($(used_chunks vol) of 100)"
write_chunks 79 1
[ "$(events)" = $((ev + 1)) ] || fail "no single event at 80% (events $ev -> $(events))"
write_chunks 80 9
[ "$(events)" = $((ev + 1)) ] || fail "event raised between 80% and 90%"
write_chunks 89 1
[ "$(events)" = $((ev + 2)) ] || fail "no single event at 90% (events $ev -> $(events))"
[ "$(used_chunks vol)" = 90 ] || fail "expected 90 chunks in use"
verify_snap vol 1 "$sum1"

step "reaching the limit drops the oldest snapshot, as a full store does"
snap_create vol 2
sum2=$(md5_of /dev/mapper/vol)
ev=$(events)
before=$(dmesg | wc -l)
write_chunks 200 20
dmesg | tail -n +"$((before + 1))" | matches "store full: invalidating snapshot 1 " ||
	fail "no kernel log line about invalidating snapshot 1"
[ "$(events)" -gt "$ev" ] || fail "no dm event raised on overflow"
[ "$(status_field vol 5)" = 1 ] || fail "status shows $(status_field vol 5) invalid, expected 1"
expect_refused "snapshot is invalid" snap_open vol 1 s1
verify_snap vol 2 "$sum2"
cmp /dev/mapper/vol "$WORK/ref" || fail "origin lost writes"
[ "$(used_chunks vol)" = 20 ] || fail "$(used_chunks vol) chunks in use, expected 20"
[ "$(dump_json "$store" 'd["superblock"]["data_limit"]')" = 100 ] || fail "shadow-dump: data_limit"

step "shrinks that would drop chunks in use are refused, nothing changes"
status=$(dmsetup status vol)
expect_refused "limit 10: 20 chunks are in use" dmsetup message vol 0 limit 10
expect_refused "limit 19: 20 chunks are in use" dmsetup message vol 0 limit 19
[ "$(dmsetup status vol)" = "$status" ] || fail "a refused shrink changed the status"
verify_snap vol 2 "$sum2"
store_check "$store"

step "once the chunks are free, a shrink works"
dmsetup message vol 0 delete 1
dmsetup message vol 0 delete 2
[ "$(used_chunks vol)" = 0 ] || fail "$(used_chunks vol) chunks still in use"
dmsetup message vol 0 limit 50
[ "$(limit_of)" = 50 ] || fail "limit is $(limit_of), expected 50"
[ "$(dump_json "$store" 'd["usage"]["limit"]')" = 50 ] || fail "shadow-dump usage.limit"
"$DUMP" "$store" | matches "^  data limit *50 chunks$" || fail "shadow-dump text lacks the limit"
store_check "$store"

step "the smaller store overflows at its new limit"
snap_create vol 3
write_chunks 300 40
snap_create vol 4
sum4=$(md5_of /dev/mapper/vol)
write_chunks 400 20
[ "$(status_field vol 5)" = 1 ] || fail "snapshot 3 not dropped at the limit of 50"
[ "$(used_chunks vol)" -le 50 ] || fail "$(used_chunks vol) chunks in use above the limit of 50"
verify_snap vol 4 "$sum4"

step "the limit persists over a live reload and a new table"
status=$(dmsetup status vol)
contents=$(status_contents vol)
dmsetup reload vol --table "$(dmsetup table vol)"
dmsetup resume vol
[ "$(dmsetup status vol)" = "$status" ] || fail "status changed over the live reload"
dmsetup remove vol
origin_load vol "$origin" "$store"
[ "$(status_contents vol)" = "$contents" ] || fail "status changed over a new table: $(dmsetup status vol)"
verify_snap vol 4 "$sum4"

step "a grown store device loads as it was; raising the limit works at once"
dmsetup remove vol
dmsetup suspend store
dmsetup reload store --table "0 8192 linear $store_disk 0"
dmsetup resume store
origin_load vol "$origin" "$store"
[ "$(status_field vol 7)" = 186 ] || fail "a grown device changed the data chunks"
[ "$(limit_of)" = 50 ] || fail "limit lost over the grown device"
dmsetup message vol 0 limit 0
[ "$(limit_of)" = 186 ] || fail "limit 0 gave $(limit_of), expected the whole store"
snap_create vol 5
sum5=$(md5_of /dev/mapper/vol)
write_chunks 1000 120
[ "$(status_field vol 5)" = 1 ] || fail "a snapshot was dropped below the raised limit"
verify_snap vol 4 "$sum4"
verify_snap vol 5 "$sum5"
cmp /dev/mapper/vol "$WORK/ref" || fail "origin lost writes"
dmsetup message vol 0 limit 186
dmsetup message vol 0 thresholds none
[ "$(dmsetup message vol 0 thresholds)" = none ] || fail "thresholds none"
dmsetup message vol 0 thresholds 50 95
[ "$(dmsetup message vol 0 thresholds)" = "50 95" ] || fail "thresholds 50 95"

step "after reload, every store check still passes"
dmsetup remove vol
origin_load vol "$origin" "$store"
verify_snap vol 5 "$sum5"
dmsetup remove vol
store_check "$store"
[ "$(dump_json "$store" 'd["superblock"]["store_sectors"]')" = 2560 ] || fail "store_sectors follows the device"
dmsetup remove store
echo "cow-limit: limit enforced, refused shrinks harmless, persistent, events at thresholds"
