#!/bin/bash
# Revert of a row store.  The live volume rolls back to its newest
# snapshot with one metadata commit, however many chunks were redirected
# since (whole-chunk and partial writes); it reads that snapshot's data at
# once, writes queued behind the suspend land after it, and the dead
# versions are freed in the background until the store holds only what
# the snapshots need.  Older snapshots stay exact; a snapshot taken after
# the revert and the live volume read exactly their data, also after the
# table is reloaded, including a reload while dead versions still wait to
# be freed.  Refused: an older snapshot, one written to, a second revert
# while the first one's versions are not freed yet to another snapshot,
# an unsuspended origin; each changes nothing.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"
. "$SHADOW_TOP/test/guest/lib/revert.sh"

origin=$(loop_disk 32)
store=$(loop_disk 96)
cs=128				# 64 KiB chunks: 512 of them
cb=$((cs * 512))

# partial_writes <dev> <first chunk> <count>: one 4 KiB write inside each
# chunk, so that its new version is built from the chunk's old data.
partial_writes() {
	local c
	for ((c = $2; c < $2 + $3; c++)); do
		dd if=/dev/urandom of="$1" bs=4k seek=$((c * cs / 8 + 5)) count=1 \
			oflag=direct conv=notrunc status=none
	done
}

# sb_field <field>: a superblock field as shadow-dump reads it.
sb_field() {
	dump_json "$store" "d['superblock']['$1']"
}

step "snapshots 1 and 2 between writes, then 300 chunks redirected"
dd if=/dev/urandom of="$origin" bs=1M count=32 oflag=direct status=none
origin_load vol "$origin" "$store" "$cs" row
snap_create vol 1
sum1=$(vol_md5 /dev/mapper/vol)
scribble /dev/mapper/vol "$cb" 0 100
partial_writes /dev/mapper/vol 250 50
snap_create vol 2
sum2=$(vol_md5 /dev/mapper/vol)
kept=$(used_chunks vol)
[ "$kept" = 150 ] || fail "snapshot 1 keeps $kept chunks, expected 150"
scribble /dev/mapper/vol "$cb" 50 200
partial_writes /dev/mapper/vol 300 100
live=$(vol_md5 /dev/mapper/vol)
echo "store: $(used_chunks vol) chunks in use"

step "refused, nothing changed: not suspended, an older snapshot, a written one"
expect_refused "revert 2: the origin must be suspended" dmsetup message vol 0 revert 2
snap_create vol 3
snap_open vol 3 w3 writable
dd if=/dev/urandom of=/dev/mapper/w3 bs=4k count=1 oflag=direct status=none
dmsetup remove w3
dmsetup suspend vol
expect_refused "revert 3: the snapshot is open writable or was written to" \
	dmsetup message vol 0 revert 3
dmsetup message vol 0 delete 3
expect_refused "revert 1: a row store reverts to its newest snapshot only (2)" \
	dmsetup message vol 0 revert 1
expect_refused "revert 99: no such snapshot" dmsetup message vol 0 revert 99
dmsetup resume vol
[ "$(vol_md5 /dev/mapper/vol)" = "$live" ] || fail "a refused revert changed the volume"

step "revert to 2: one commit; a revert to a newer snapshot waits for the freeing"
dmsetup suspend vol
before=$(sb_field trans_id)
dmsetup message vol 0 revert 2
after=$(sb_field trans_id)
[ "$after" = $((before + 1)) ] ||
	fail "the revert took $((after - before)) commits (transaction $before to $after), expected 1"
[ "$(sb_field dropped_from)" = 2 ] || fail "dropped_from is $(sb_field dropped_from), expected 2"
dmsetup message vol 0 create 4
expect_refused "revert 4: the versions that the last revert dropped are still being freed" \
	dmsetup message vol 0 revert 4
dmsetup message vol 0 delete 4
# The same snapshot again: the dead range widens.
dmsetup message vol 0 revert 2
head -c $((cb * 20)) /dev/urandom >"$WORK/w"
(
	dd if="$WORK/w" of=/dev/mapper/vol bs="$cb" seek=400 oflag=direct \
		conv=notrunc status=none
	touch "$WORK/load-done"
) &
load=$!
dmsetup resume vol
wait "$load"
[ -e "$WORK/load-done" ] || fail "the writes queued behind the suspend failed"
# Expected: snapshot 2's data with the queued writes over it.
snap_open vol 2 s2
dd if=/dev/mapper/s2 of="$WORK/img" bs=1M iflag=direct status=none
dmsetup remove s2
dd if="$WORK/w" of="$WORK/img" bs="$cb" seek=400 conv=notrunc status=none
[ "$(md5_direct /dev/mapper/vol)" = "$(md5_of "$WORK/img")" ] ||
	fail "after the revert the volume does not read snapshot 2 and the writes queued behind it"
rm "$WORK/img"
dmsetup suspend vol
dmsetup message vol 0 revert 2
dmsetup resume vol
[ "$(vol_md5 /dev/mapper/vol)" = "$sum2" ] || fail "after the revert the volume does not read snapshot 2"
verify_snap vol 1 "$sum1"
verify_snap vol 2 "$sum2"

step "the dead versions are freed in the background"
for ((i = 0; i < 300; i++)); do
	[ "$(used_chunks vol)" = "$kept" ] && [ "$(sb_field dropped_from)" = 0 ] && break
	sleep 0.1
done
[ "$(used_chunks vol)" = "$kept" ] ||
	fail "the store holds $(used_chunks vol) chunks after the revert, expected snapshot 1's $kept"
[ "$(sb_field dropped_from)" = 0 ] || fail "the dead range was not cleared: $(sb_field dropped_from)"
store_check "$store"

step "writes after the revert, snapshot 5, more writes; all exact after a reload"
scribble /dev/mapper/vol "$cb" 20 60
partial_writes /dev/mapper/vol 260 30
snap_create vol 5
sum5=$(vol_md5 /dev/mapper/vol)
scribble /dev/mapper/vol "$cb" 70 40
partial_writes /dev/mapper/vol 200 80
live=$(vol_md5 /dev/mapper/vol)
dmsetup remove vol
store_check "$store"
origin_load vol "$origin" "$store" "$cs" row
[ "$(vol_md5 /dev/mapper/vol)" = "$live" ] || fail "the live volume changed across the reload"
verify_snap vol 1 "$sum1"
verify_snap vol 2 "$sum2"
verify_snap vol 5 "$sum5"

step "revert to 5, the table removed before its dead versions can be freed"
dmsetup suspend vol
dmsetup message vol 0 revert 5
dmsetup remove vol
echo "on disk: versions tagged $(sb_field dropped_from) to $(sb_field dropped_below) dead"
store_check "$store"
origin_load vol "$origin" "$store" "$cs" row
[ "$(vol_md5 /dev/mapper/vol)" = "$sum5" ] || fail "after the reload the volume does not read snapshot 5"
verify_snap vol 1 "$sum1"
verify_snap vol 2 "$sum2"
verify_snap vol 5 "$sum5"
[ "$(status_field vol 5)" = 0 ] || fail "a snapshot was invalidated"
dmsetup remove vol
store_check "$store"
echo "row-revert: reverts in one commit, every snapshot and the live volume exact"
