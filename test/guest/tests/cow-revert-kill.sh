#!/bin/bash
# Power cut mid-revert: the guest is killed while the origin merges back
# to snapshot 2, after writes (O_DSYNC, done) to chunks the merge had not
# reached.  After the reboot the table loads, the merge resumes from the
# progress the store recorded and finishes: the volume reads snapshot 2's
# data except the written chunks, which keep what was written (a chunk
# merged again must not lose them), and snapshots 1, 2, 3 are exact.
# guest-disks: 16M,48M,16M
# guest-boots: 2
# guest-kill-on: REVERT-KILL-NOW
# guest-timeout: 600
. "$SHADOW_TOP/test/guest/lib/shadow.sh"
. "$SHADOW_TOP/test/guest/lib/revert.sh"

set -- $GUEST_DISKS
origin=$1 store=$2 keep=$3
mkdir -p /mnt/keep
cs=8				# 4 KiB chunks: 4096, so the merge takes a while
# Written after the revert began: late chunks the merge reaches last,
# and one it never copies (unchanged since snapshot 2).
written=(4000 4001 4050 4095 3000 20)

if [ "$GUEST_BOOT" = 1 ]; then
	mkfs.ext4 -q -b 4096 "$keep"
	mount "$keep" /mnt/keep
	(yes "dm-shadow revert: written before the power cut" || :) |
		head -c 4096 >/mnt/keep/pat
	step "origin with snapshots 1, 2 and 3 between random writes"
	origin_load vol "$origin" "$store" "$cs"
	dd if=/dev/urandom of=/dev/mapper/vol bs=1M count=16 oflag=direct status=none
	snap_create vol 1
	vol_md5 /dev/mapper/vol >/mnt/keep/sum1
	# Sized so that every copy fits the store: no snapshot is dropped.
	scribble /dev/mapper/vol 1M 2 4
	snap_create vol 2
	vol_md5 /dev/mapper/vol >/mnt/keep/sum2
	chunk_sums /dev/mapper/vol "$cs" >/mnt/keep/sums2
	scribble /dev/mapper/vol 1M 0 6
	snap_create vol 3
	vol_md5 /dev/mapper/vol >/mnt/keep/sum3
	scribble /dev/mapper/vol 1M 4 12
	[ "$(status_field vol 5)" = 0 ] || fail "the store overflowed before the revert"
	sync

	step "revert to snapshot 2; writes to chunks it has not merged"
	dmsetup suspend vol
	dmsetup message vol 0 revert 2
	dmsetup resume vol
	put_pattern /dev/mapper/vol /mnt/keep/pat "${written[@]}"
	progress=$(revert_progress vol)
	echo "writes done at merge position $progress"
	[ "$(revert_id vol)" = 2 ] || fail "the merge ended before the power cut"
	[ "${progress%/*}" -lt 3000 ] ||
		fail "the merge is too far on ($progress) for the power cut to meet it"
	sync
	echo REVERT-KILL-NOW
	while :; do
		echo "merge position $(revert_progress vol)"
		sleep 0.3
	done
fi

step "after the power cut: the merge resumes"
mount "$keep" /mnt/keep
pat=$(md5_of /mnt/keep/pat)
# At rest in the middle of the revert: the checker counts the revert's
# tree with the others, and finds its state recorded.
store_check "$store"
python3 - "$WORK/check.json" <<-'PY' || fail "the store does not record the revert"
	import json, sys
	sb = json.load(open(sys.argv[1]))["superblock"]
	print("store at rest: revert_seq %d, cursor %d, tree %d"
	      % (sb["revert_seq"], sb["revert_cursor"], sb["revert_root"]))
	sys.exit(0 if sb["revert_seq"] and sb["revert_root"] and sb["incompat_flags"] & 1 else 1)
	PY
origin_load vol "$origin" "$store" "$cs"
dmsetup status vol
[ "$(revert_id vol)" = 2 ] ||
	fail "the store forgot the revert: $(dmsetup status vol)"
echo "resuming at merge position $(revert_progress vol)"
chunk_sums /dev/mapper/vol "$cs" >"$WORK/got"
check_reverted "$WORK/got" /mnt/keep/sums2 "$pat" 0 "${written[@]}"
start=$SECONDS
wait_reverted vol 300
echo "merge finished $((SECONDS - start)) s after the reload"

step "after: snapshot 2's data plus the writes; every snapshot exact"
chunk_sums /dev/mapper/vol "$cs" >"$WORK/got"
check_reverted "$WORK/got" /mnt/keep/sums2 "$pat" 0 "${written[@]}"
verify_snap vol 1 "$(cat /mnt/keep/sum1)"
verify_snap vol 2 "$(cat /mnt/keep/sum2)"
verify_snap vol 3 "$(cat /mnt/keep/sum3)"
[ "$(status_field vol 5)" = 0 ] || fail "a snapshot was invalidated"
dmsetup remove vol
store_check "$store"
umount /mnt/keep
echo "cow-revert-kill: the merge resumed after the power cut, nothing lost"
