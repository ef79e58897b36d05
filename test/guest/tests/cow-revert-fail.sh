#!/bin/bash
# The store fails mid-revert (its dm-linear reloaded to dm-error while
# the merge is half done).  What dm-shadow(7) promises: the revert is
# abandoned, the kernel log names the chunk from which the origin is only
# partly reverted, the status shows no revert running and the store
# failed, every snapshot is invalid, origin I/O goes on, and a create is
# refused because the store failed, not because of a revert "still
# running".  Once the store is back and the origin reloaded, the revert
# the store recorded is ended (its snapshot is invalid), the snapshots
# stay invalid, and a create succeeds.
# guest-timeout: 300
. "$SHADOW_TOP/test/guest/lib/shadow.sh"
. "$SHADOW_TOP/test/guest/lib/revert.sh"

origin=$(loop_disk 16)
store=$(loop_disk 48)
cs=8				# 4 KiB chunks: 4096, so the merge takes a while
ssz=$(sectors "$store")

step "origin with snapshots 1, 2 and 3, the store on a dm-linear"
dmsetup create fstore --table "0 $ssz linear $store 0"
origin_load vol "$origin" /dev/mapper/fstore "$cs"
dd if=/dev/urandom of=/dev/mapper/vol bs=1M count=16 oflag=direct status=none
snap_create vol 1
scribble /dev/mapper/vol 1M 2 4
snap_create vol 2
scribble /dev/mapper/vol 1M 0 8
snap_create vol 3
scribble /dev/mapper/vol 1M 8 4

step "revert to 2; the store fails when the merge is part way"
dmsetup suspend vol
dmsetup message vol 0 revert 2
dmsetup resume vol
for _ in $(seq 600); do
	progress=$(revert_progress vol)
	[ "${progress%/*}" != 0 ] && break
	sleep 0.05
done
dmsetup suspend vol
[ "$(revert_id vol)" = 2 ] || fail "the revert finished before the store could fail (status: $(dmsetup status vol))"
cursor=$(revert_progress vol)
cursor=${cursor%/*}
echo "merge paused at chunk $cursor of $(revert_progress vol | cut -d/ -f2)"
[ "$cursor" -gt 0 ] || fail "the merge made no progress"
dmsetup load fstore --table "0 $ssz error"
dmsetup suspend fstore
dmsetup resume fstore
before=$(dmesg | wc -l)
dmsetup resume vol

step "the revert is abandoned, the store failed"
for _ in $(seq 200); do
	[ "$(revert_id vol)" = - ] && break
	sleep 0.05
done
dmesg | tail -n +"$((before + 1))"
[ "$(revert_id vol)" = - ] || fail "the status still shows a revert running: $(dmsetup status vol)"
[ "$(revert_progress vol)" = - ] || fail "the status still shows revert progress: $(dmsetup status vol)"
[ "$(status_field vol 6)" = fail ] || fail "the store is not failed: $(dmsetup status vol)"
want="revert to snapshot 2 abandoned: the store failed; origin chunks from $cursor on are partly not reverted"
dmesg | tail -n +"$((before + 1))" | matches -F -- "$want" ||
	fail "the kernel log lacks: $want"
dmsetup message vol 0 list >"$WORK/list"
cat "$WORK/list"
[ "$(awk '$4 != "invalid"' "$WORK/list" | wc -l)" = 0 ] || fail "a snapshot is still valid"
[ "$(wc -l <"$WORK/list")" = 3 ] || fail "expected snapshots 1, 2, 3 in the list"

step "origin I/O goes on"
(yes "dm-shadow revert-fail: written after the store failed" || :) | head -c 1M >"$WORK/pat"
dd if="$WORK/pat" of=/dev/mapper/vol bs=1M seek=3 oflag=direct,dsync conv=notrunc status=none ||
	fail "an origin write failed after the store failed"
dd if=/dev/mapper/vol of="$WORK/back" bs=1M skip=3 count=1 iflag=direct status=none ||
	fail "an origin read failed after the store failed"
cmp "$WORK/pat" "$WORK/back" || fail "the origin does not read back its write"
dd if=/dev/mapper/vol of=/dev/null bs=1M iflag=direct status=none ||
	fail "reading the whole origin failed"

step "create: refused because the store failed, not because of a revert"
dmsetup suspend vol
before=$(dmesg | wc -l)
expect_refused "create 9: failed (error -5)" dmsetup message vol 0 create 9
if dmesg | tail -n +"$((before + 1))" | matches "revert to snapshot .* is running"; then
	fail "create refused because of a revert still running"
fi
dmsetup resume vol

step "the store back, the origin reloaded: the recorded revert ends"
dmsetup load fstore --table "0 $ssz linear $store 0"
dmsetup suspend fstore
dmsetup resume fstore
before=$(dmesg | wc -l)
dmsetup suspend vol
dmsetup resume vol
for _ in $(seq 200); do
	[ "$(revert_id vol)" = - ] && break
	sleep 0.05
done
dmesg | tail -n +"$((before + 1))"
[ "$(status_field vol 6)" = rw ] || fail "the store did not open again: $(dmsetup status vol)"
[ "$(revert_id vol)" = - ] || fail "a revert runs after the reload: $(dmsetup status vol)"
dmsetup message vol 0 list >"$WORK/list"
[ "$(awk '$4 != "invalid"' "$WORK/list" | wc -l)" = 0 ] || fail "a snapshot is valid again after the reload"
snap_create vol 9
dmsetup message vol 0 list | matches "^9 .* valid " || fail "snapshot 9 is not valid"
dmsetup remove vol
dmsetup remove fstore
store_check "$store"
echo "cow-revert-fail: the failed store ended the revert as documented"
