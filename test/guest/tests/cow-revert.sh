#!/bin/bash
# Revert: the origin rolls back to snapshot 2 in the background while a
# write load runs on it.  During and after the merge the volume reads
# snapshot 2's data, except the chunks written after the revert began,
# which read what was written; snapshot 1 (older) and 3 (newer) read
# exactly their point in time throughout, and so does 2, which is kept.
# Bad revert messages are refused with a log line and change nothing.
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"
. "$SHADOW_TOP/test/guest/lib/revert.sh"

origin=$(loop_disk 32)
store=$(loop_disk 64)
cs=128				# 64 KiB chunks: 512 of them
cb=$((cs * 512))
# Chunks the load writes during the revert: some the merge reaches
# early, some late, some it never copies (unchanged since snapshot 2).
written=(3 50 120 121 260 333 400 470 505 511)
(yes "dm-shadow revert: written while the merge runs" || :) | head -c "$cb" >"$WORK/pat"
pat=$(md5_of "$WORK/pat")

step "origin with snapshots 1, 2 and 3 between random writes"
origin_load vol "$origin" "$store" "$cs"
dd if=/dev/urandom of=/dev/mapper/vol bs=1M count=32 oflag=direct status=none
snap_create vol 1
sum1=$(vol_md5 /dev/mapper/vol)
scribble /dev/mapper/vol "$cb" 0 200
snap_create vol 2
sum2=$(vol_md5 /dev/mapper/vol)
chunk_sums /dev/mapper/vol "$cs" >"$WORK/sums2"
scribble /dev/mapper/vol "$cb" 100 300
snap_create vol 3
sum3=$(vol_md5 /dev/mapper/vol)

step "refused: a snapshot written through a writable device"
snap_create vol 4
snap_open vol 4 w4 writable
dd if=/dev/urandom of=/dev/mapper/w4 bs=4k count=1 oflag=direct status=none
dmsetup remove w4
dmsetup suspend vol
expect_refused "revert 4: the snapshot is open writable or was written to" \
	dmsetup message vol 0 revert 4
dmsetup resume vol
dmsetup message vol 0 delete 4
scribble /dev/mapper/vol "$cb" 300 212
live=$(vol_md5 /dev/mapper/vol)

step "refused: not suspended, unknown id, not a number"
expect_refused "revert 2: the origin must be suspended" dmsetup message vol 0 revert 2
dmsetup suspend vol
expect_refused "revert 99: no such snapshot" dmsetup message vol 0 revert 99
expect_refused "message: expected" dmsetup message vol 0 revert two
dmsetup resume vol
[ "$(revert_id vol)" = - ] || fail "a refused revert started one"
[ "$(vol_md5 /dev/mapper/vol)" = "$live" ] || fail "a refused revert changed the volume"

step "refused: an invalid snapshot (dropped when its store filled)"
small=$(loop_disk 4)
smallstore=$(loop_disk 4)
origin_load small "$small" "$smallstore"
snap_create small 1
dmsetup message small 0 limit 1
dd if=/dev/urandom of=/dev/mapper/small bs=4k count=2 oflag=direct status=none
[ "$(status_field small 5)" = 1 ] || fail "snapshot 1 of small was not invalidated"
dmsetup suspend small
expect_refused "revert 1: the snapshot is invalid" dmsetup message small 0 revert 1
dmsetup resume small
dmsetup remove small

step "revert to snapshot 2, the write load queued behind the suspend"
dmsetup suspend vol
dmsetup message vol 0 revert 2
[ "$(revert_id vol)" = 2 ] || fail "status does not show the revert: $(dmsetup status vol)"
expect_refused "revert 2: a revert to snapshot 2 is running already" \
	dmsetup message vol 0 revert 2
expect_refused "revert 3: a revert to snapshot 2 is running already" \
	dmsetup message vol 0 revert 3
expect_refused "create 9: a revert to snapshot 2 is running" \
	dmsetup message vol 0 create 9
expect_refused "delete 2: the origin is being reverted to it" \
	dmsetup message vol 0 delete 2
(
	for pass in 1 2 3; do
		put_pattern /dev/mapper/vol "$WORK/pat" "${written[@]}"
	done
	touch "$WORK/load-done"
) &
load=$!
start=$SECONDS
dmsetup resume vol

step "during the merge: the volume reads snapshot 2 (or the load's writes)"
during=0
while [ "$(revert_id vol)" != - ]; do
	progress=$(revert_progress vol)
	chunk_sums /dev/mapper/vol "$cs" >"$WORK/got"
	check_reverted "$WORK/got" "$WORK/sums2" "$pat" 1 "${written[@]}"
	during=$((during + 1))
	echo "read at merge position $progress: as expected"
done
echo "merge finished after $((SECONDS - start)) s; $during whole reads during it"
wait "$load"
[ -e "$WORK/load-done" ] || fail "the write load failed"
dmsetup status vol

step "after: snapshot 2's data plus the load's writes; every snapshot exact"
chunk_sums /dev/mapper/vol "$cs" >"$WORK/got"
check_reverted "$WORK/got" "$WORK/sums2" "$pat" 0 "${written[@]}"
verify_snap vol 1 "$sum1"
verify_snap vol 2 "$sum2"
verify_snap vol 3 "$sum3"
[ "$(status_field vol 5)" = 0 ] || fail "a snapshot was invalidated"
[ "$(status_field vol 4)" = 3/8190 ] || fail "snapshots: $(status_field vol 4), expected 3"

step "after the revert: create and delete work again"
snap_create vol 5
dmsetup message vol 0 delete 2
verify_snap vol 1 "$sum1"
verify_snap vol 3 "$sum3"
dmsetup remove vol
store_check "$store"
echo "cow-revert: volume reverted under load, all snapshots exact"
