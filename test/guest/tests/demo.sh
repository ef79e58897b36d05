#!/bin/bash
# The README's demonstration (scripts/demo runs it on Debian's 6.1 kernel):
# a real snapshot session with the dm-shadow targets and dmsetup.
#
# An ext4 volume under a steady write load gets a dm-shadow origin and a
# copy-on-write store; three snapshots are taken while the writer runs
# (the writer held for an instant, the suspend freezes ext4, so each is
# clean); one is opened as a
# read-only device, mounted, and its files checked against the checksums
# taken at its point in time; the store's status shows what sharing costs;
# snapshots are deleted and their space comes back.
# guest-timeout: 300
. "$SHADOW_TOP/test/guest/lib/shadow.sh"

step "kernel $(uname -r), dm-shadow targets"
dmsetup targets | grep shadow

origin=$(loop_disk 64)
store=$(loop_disk 64)
step "enable: shadow-origin over $origin with its store on $store (4 KiB chunks)"
mkfs.ext4 -q "$origin"
origin_load vol "$origin" "$store"
dmsetup table vol
mkdir -p /mnt/vol /mnt/snap
mount /dev/mapper/vol /mnt/vol

step "a writer appends to log files and rewrites a database-like file"
(
	i=0
	while :; do
		i=$((i + 1))
		echo "record $i $(date +%s%N)" >>/mnt/vol/log-$((i % 4))
		dd if=/dev/urandom of=/mnt/vol/table bs=4k count=1 seek=$((i % 64)) \
			conv=notrunc status=none
		[ $((i % 16)) = 0 ] && sync
	done
) &
writer=$!
trap 'kill $writer 2>/dev/null || true' EXIT

for id in 1 2 3; do
	sleep 2
	# Hold the writer (what a writer plugin will do for a real
	# application), note what its files hold, then take the snapshot:
	# the suspend freezes ext4, so the copy is clean.
	kill -STOP $writer
	(cd /mnt/vol && md5sum log-* table) >"$WORK/sums-$id"
	dmsetup suspend vol
	dmsetup message vol 0 create "$id"
	dmsetup resume vol
	kill -CONT $writer
	echo "snapshot $id taken; $(dmsetup status vol)"
done
dmsetup message vol 0 list

step "expose snapshot 2 read-only, mount it, check every file"
snap_open vol 2 vol-snap2
mount -o ro,noload /dev/mapper/vol-snap2 /mnt/snap
(cd /mnt/snap && md5sum -c "$WORK/sums-2") || fail "snapshot 2's files differ from its point in time"
ls -l /mnt/snap
umount /mnt/snap
dmsetup remove vol-snap2

kill $writer
wait $writer 2>/dev/null || true
trap - EXIT
umount /mnt/vol

step "delete the snapshots; their space comes back"
for id in 1 2 3; do
	dmsetup message vol 0 delete "$id"
	echo "deleted $id: $(dmsetup status vol)"
done
[ "$(used_chunks vol)" = 0 ] || fail "store still uses $(used_chunks vol) chunks"
dmsetup remove vol
echo "DEMO OK: three snapshots of a busy ext4, one mounted and verified, all deleted"
