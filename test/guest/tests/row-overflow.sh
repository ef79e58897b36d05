#!/bin/bash
# A deliberately tiny row store overflows: the oldest snapshot is
# invalidated and the chunks it alone kept apart are folded back into the
# origin device at once, a dm event is raised, the status and kernel log
# say so, newer snapshots stay exact, and no write to the live volume
# fails or is lost, down to no snapshot left (then every write has a place
# of its own); under concurrent writes too, where a newer snapshot stays
# exact.  A discard that would need new chunks of a full store is dropped
# without invalidating a snapshot.  Deleting the invalid snapshots folds
# the rest back: the origin device holds the live volume.
# guest-timeout: 900
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

origin=$(loop_disk 16)
# 1.25 MiB: 134 metadata blocks (the last 64 the exception journal's ring),
# room for 186 4-KiB chunks.
store=$(loop_disk 1280K)
dd if=/dev/urandom of="$origin" bs=1M count=16 oflag=direct status=none
cp "$origin" "$WORK/ref"	# what the volume must hold, kept in step below

# write_chunks <first> <count>: the same new data to the volume and ref.
write_chunks() {
	dd if=/dev/urandom of="$WORK/data.$1" bs=4k count="$2" status=none
	dd if="$WORK/data.$1" of=/dev/mapper/vol bs=4k seek="$1" count="$2" \
		oflag=direct status=none || fail "a write to the volume failed"
	dd if="$WORK/data.$1" of="$WORK/ref" bs=4k seek="$1" count="$2" \
		conv=notrunc status=none
}

# write_streams <first> <count>: write_chunks of 4 writers at once, each
# <count> chunks of its own from <first> on, 1000 chunks apart.
write_streams() {
	local i pids=()
	for i in 0 1 2 3; do
		write_chunks $(($1 + i * 1000)) "$2" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || fail "a writer failed"
	done
}

events() {
	dmsetup info vol | sed -n 's/^Event number: *//p'
}

origin_load vol "$origin" "$store" 8 row
total=$(status_field vol 3 | cut -d/ -f2)
echo "store holds $total chunks"
[ "$total" -ge 150 ] && [ "$total" -lt 200 ] || fail "unexpected store size $total"

step "snapshot 1, 100 chunks written after it"
snap_create vol 1
write_chunks 0 100
[ "$(used_chunks vol)" = 100 ] || fail "expected 100 chunks in use, $(used_chunks vol)"

step "snapshot 2, 100 more chunks: the store overflows, 1 is dropped"
snap_create vol 2
sum2=$(md5_of /dev/mapper/vol)
ev=$(events)
before=$(dmesg | wc -l)
write_chunks 200 100
dmesg | tail -n +"$((before + 1))" | matches "store full: invalidating snapshot 1 " ||
	fail "no kernel log line about invalidating snapshot 1"
[ "$(events)" -gt "$ev" ] || fail "no dm event raised on overflow"
[ "$(status_field vol 5)" = 1 ] || fail "status shows $(status_field vol 5) invalid snapshots, expected 1"
dmsetup message vol 0 list | matches '^1 .* invalid ' || fail "snapshot 1 not listed invalid"
expect_refused "snapshot is invalid" snap_open vol 1 s1
verify_snap vol 2 "$sum2"
cmp /dev/mapper/vol "$WORK/ref" || fail "the volume lost writes"
# Chunks 0-99 went back to the origin device: only the new ones are left.
[ "$(used_chunks vol)" = 100 ] || fail "expected 100 chunks in use after the fold, $(used_chunks vol)"

step "a full store: a discard that would need new chunks drops no snapshot"
write_chunks 400 $((total - 100))
[ "$(used_chunks vol)" = "$total" ] || fail "the store is not full: $(used_chunks vol)/$total"
before=$(dmesg | wc -l)
blkdiscard -o $((600 * 4096)) -l $((16 * 4096)) /dev/mapper/vol ||
	fail "the discard failed"
dmesg | tail -n +"$((before + 1))" | matches "store full" &&
	fail "a discard invalidated a snapshot: $(dmesg | tail -n +"$((before + 1))")"
[ "$(status_field vol 5)" = 1 ] || fail "status shows $(status_field vol 5) invalid snapshots after the discard, expected 1"
verify_snap vol 2 "$sum2"
cmp /dev/mapper/vol "$WORK/ref" || fail "the discard changed what the volume reads"

step "snapshot 3, 250 chunks: every snapshot dropped, writes go on"
snap_create vol 3
write_chunks 1000 250
[ "$(status_field vol 5)" = 3 ] || fail "expected all 3 snapshots invalid"
cmp /dev/mapper/vol "$WORK/ref" || fail "the volume lost writes"
[ "$(status_field vol 6)" = rw ] || fail "store mode $(status_field vol 6)"

step "snapshot 4 and concurrent writes over the whole volume: overflow under load"
snap_create vol 4
$STOMPER init /dev/mapper/vol "$WORK/model"
$STOMPER burst /dev/mapper/vol "$WORK/model" 77 --threads 4 --ops 150
$STOMPER check /dev/mapper/vol "$WORK/model" || fail "the volume lost writes under load"
dmsetup message vol 0 list | matches '^4 .* invalid ' || fail "snapshot 4 not invalidated"
[ "$(status_field vol 6)" = rw ] || fail "store mode $(status_field vol 6)"

step "invalid snapshots can be deleted; fold-back empties the store"
for id in 1 2 3 4; do
	dmsetup message vol 0 delete $id
done
wait_folded vol
[ "$(used_chunks vol)" = 0 ] || fail "$(used_chunks vol) chunks still in use"
[ "$(status_field vol 4)" = "0/8190" ] || fail "snapshots left: $(status_field vol 4)"
$STOMPER check /dev/mapper/vol "$WORK/model" || fail "fold-back changed the volume"
cp "$WORK/model" "$WORK/ref"

step "overflow under concurrent writes with a newer snapshot: the newer one stays exact"
snap_create vol 5
write_streams 100 30
snap_create vol 6
sum6=$(md5_of /dev/mapper/vol)
before=$(dmesg | wc -l)
# 120 more versions beside snapshot 6's 120, in a store of $total: full
# half way, snapshot 5 goes and the chunks 6 needs fold back.
write_streams 500 30
dmesg | tail -n +"$((before + 1))" | matches "store full: invalidating snapshot 5 " ||
	fail "no kernel log line about invalidating snapshot 5"
dmsetup message vol 0 list | matches '^6 .* valid ' || fail "snapshot 6 was invalidated too"
verify_snap vol 6 "$sum6"
cmp /dev/mapper/vol "$WORK/ref" || fail "the volume lost writes under load"
[ "$(status_field vol 6)" = rw ] || fail "store mode $(status_field vol 6)"
for id in 5 6; do
	dmsetup message vol 0 delete $id
done
wait_folded vol
check_folded_back vol "$origin" "$(md5_of "$WORK/ref")"
echo "row-overflow: oldest dropped, newer exact, no write lost"
